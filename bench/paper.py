"""The papers' numbers the bench report sets beside ours, as printed in the slides in ../shared/seeds.

(Implicit)²: held-out PSNR of image generalization (natural and text images, mean ± std over images) and per-frame
PSNR of video representation, at 1L-256D (images) and 1L-1024D (video). JIIO: Table 2 (adversarial example of an
MNIST MDEQ, ms), Table 3 (inverse problems, JIIO against Adam, ms) and Table 5 (MNIST accuracy under L2 ε = 1
attacks, %). Image representation, audio and 3D appear in the slides as figures only: no number to compare.
"""
from __future__ import annotations

GENERALIZATION_NATURAL = {"siren-inj": "22.88 ± 3.0", "isiren": "24.28 ± 3.37", "fourier-mfn": "23.27 ± 3.18",
                          "fourier-imfn": "24.88 ± .44", "gabor-mfn": "24.16 ± 3.35", "gabor-imfn": "24.91 ± 3.41"}
"""1L-256D, natural images (Fourier-iMFN's std as printed)."""
GENERALIZATION_TEXT = {"siren-inj": "24.54 ± 2.19", "isiren": "26.06 ± 2.18", "fourier-mfn": "24.64 ± 2.11",
                       "fourier-imfn": "26.90 ± 2.14", "gabor-mfn": "27.19 ± 2.18", "gabor-imfn": "27.53 ± 2.18"}
"""1L-256D, text images."""
VIDEO = {"siren-inj": "25.12 ± 0.96", "isiren": "26.03 ± 0.92", "fourier-mfn": "24.97 ± 1.08",
         "fourier-imfn": "25.85 ± 1.00", "gabor-mfn": "26.15 ± 1.02", "gabor-imfn": "26.45 ± 0.98"}
"""1L-1024D, per-frame PSNR mean ± std over every frame."""
GAIN_NATURAL = {"isiren": 1.40, "fourier-imfn": 1.61, "gabor-imfn": 0.75}
"""Implicit − explicit held-out PSNR per family at 1L-256D, natural images, dB."""

TABLE2_MS = {"PGD-20": 4360, "JIO-80": 1401}
"""Time to compute the adversarial examples of an MNIST MDEQ: JIO/PGD = 0.32 (3.1× faster)."""
TABLE3_MS = {"Adam-40": 7659, "JIIO-40": 862, "JIIO-100": 2156}
"""Inverse problems with a generative MDEQ: JIIO-40 is 8.9× faster than Adam-40."""
TABLE5_MNIST = {"clean": (99.45, 80.1, 65.88), "pgd": (99.18, 96.53, 95.74), "jio": (99.32, 95.74, 96.63)}
"""Accuracy (%) by how the classifier was trained (rows) under no attack, PGD and JIO (columns), ε = 1 (L2)."""
