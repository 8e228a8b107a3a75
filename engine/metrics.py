"""Quality measures, pure functions: PSNR, per-frame PSNR, IoU, Chamfer distance."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def psnr(pred: Tensor, target: Tensor) -> float:
    """PSNR in dB of signals in [−1, 1], measured on [0, 1] after clamping the prediction."""
    mse = torch.mean(((pred.clamp(-1, 1) - target) / 2.0) ** 2).item()
    return 10.0 * math.log10(1.0 / max(mse, 1e-20))


def picture_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 pictures (or videos) of one shape, every pixel and channel, peak 255."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


def snr(pred: Tensor, target: Tensor) -> float:
    """Signal-to-noise ratio in dB: the target's own power over the error's, 10 log10(Σ y² / Σ (ŷ − y)²). Unlike PSNR
    (against the full range) it follows what a listener hears: a quiet recording rendered as hiss scores low."""
    error = torch.sum((pred.clamp(-1, 1) - target) ** 2).item()
    power = torch.sum(target ** 2).item()
    return 10.0 * math.log10(max(power, 1e-20) / max(error, 1e-20))


def psnr_per_frame(pred: Tensor, target: Tensor, frames: int) -> np.ndarray:
    """PSNR of each of `frames` equal, consecutive blocks of rows (video frames), as an array."""
    diff = ((pred.clamp(-1, 1) - target) / 2.0) ** 2
    mse = diff.reshape(frames, -1).mean(dim=1).clamp_min(1e-20)
    return (10.0 * torch.log10(1.0 / mse)).cpu().numpy()


def iou(pred_inside: Tensor, true_inside: Tensor) -> float:
    """Intersection over union of two boolean occupancy labelings of the same points."""
    inter = (pred_inside & true_inside).sum().item()
    union = (pred_inside | true_inside).sum().item()
    return 1.0 if union == 0 else inter / union


def chamfer_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Chamfer distance: mean nearest-neighbour distance a→b plus b→a (points (n, 3), (m, 3))."""
    from scipy.spatial import cKDTree

    d_ab, _ = cKDTree(b).query(a, workers=-1)
    d_ba, _ = cKDTree(a).query(b, workers=-1)
    return float(d_ab.mean() + d_ba.mean())
