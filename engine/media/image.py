"""Images with Pillow: png, jpg, bmp, tiff, webp; gray or RGB; optional downscale; PNG writer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from engine.config import SignalConfig
from engine.media.base import Signal, SignalError, grid_coords, missing_file, unreadable

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
IMAGE_FORMATS = "PNG or JPEG"
"""What an unreadable image is best saved again as."""


def load_image(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal:
    """Read an image; gray stays one channel, anything else becomes RGB; targets scaled to [−1, 1]."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            gray = img.mode in ("1", "L", "I", "I;16", "F") or (img.mode == "P" and _palette_is_gray(img))
            img = img.convert("L" if gray else "RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise unreadable(path, "an image", IMAGE_FORMATS, exc) from exc
    if config.max_size and max(img.size) > config.max_size:
        scale = config.max_size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    if min(img.size) < 2:
        raise SignalError(f"{path.name} is only {img.width}×{img.height} pixels: an image needs at least 2×2. Open "
                          f"a larger image (or raise Max size).")
    arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    arr = arr.reshape(img.height, img.width, -1)
    values = torch.from_numpy(arr.reshape(-1, arr.shape[2]).copy())
    return Signal("image", grid_coords((img.height, img.width)), values, (img.height, img.width), None, path.name)


def _palette_is_gray(img: Image.Image) -> bool:
    rgb = np.asarray(img.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def write_image(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 (H, W, C) array, C = 1 or 3, as an image (format from the suffix, PNG by default)."""
    arr = array[..., 0] if array.shape[-1] == 1 else array
    Image.fromarray(arr).save(Path(path))


def read_gray_image(path: str | Path, size: int) -> np.ndarray:
    """An image file as uint8 (size, size) gray, resized; SignalError when unreadable."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L").resize((size, size), Image.BILINEAR))
    except FileNotFoundError:
        raise missing_file(path) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise unreadable(path, "an image", IMAGE_FORMATS, exc) from None
