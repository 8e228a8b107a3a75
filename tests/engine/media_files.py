"""Small media files made on the fly for tests: one per medium, plus malformed ones."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.media import write_audio, write_image, write_mesh, write_video
from resources.generate_samples import make_mesh


def tiny_media(folder: Path) -> dict[str, Path]:
    """A 16×12 RGB image, a 400-sample clip, a 4-frame 12×16 video and a torus mesh."""
    rng = np.random.default_rng(0)
    paths = {"image": folder / "tiny.png", "audio": folder / "tiny.wav", "video": folder / "tiny.mp4",
             "mesh": folder / "tiny.ply"}
    y, x = np.mgrid[0:12, 0:16]
    image = np.stack([x * 15, y * 20, (x + y) * 8], axis=-1).astype(np.uint8)
    write_image(paths["image"], image)
    t = np.arange(400) / 8000
    write_audio(paths["audio"], 0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(400), 8000)
    write_video(paths["video"], np.stack([np.roll(image, k, axis=1) for k in range(4)]), 4)
    write_mesh(paths["mesh"], *make_mesh())
    return paths


def malformed_media(folder: Path) -> dict[str, Path]:
    """Files with a medium's suffix and garbage inside."""
    garbage = b"this is not a media file\x00\x01\x02" * 10
    paths = {m: folder / f"broken.{ext}" for m, ext in
             (("image", "png"), ("audio", "wav"), ("video", "mp4"), ("mesh", "obj"))}
    for path in paths.values():
        path.write_bytes(garbage)
    return paths


PILLOW_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I", "I;16", "F")
"""Every Pillow mode an image file can hold (HSV cannot be saved)."""


def image_of_mode(mode: str, folder: Path) -> Path:
    """A 16×16 random image in Pillow `mode` (PNG where PNG holds the mode, else TIFF)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    if mode == "I;16":
        image = Image.fromarray((rng.random((16, 16)) * 65535).astype(np.uint16))
    elif mode == "F":
        image = Image.fromarray(rng.random((16, 16)).astype(np.float32), mode="F")
    else:
        image = Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).convert(mode)
    path = folder / f"mode.{'png' if mode in ('1', 'L', 'LA', 'P', 'RGB', 'RGBA', 'I;16') else 'tif'}"
    image.save(path)
    return path
