"""Drawings made in the JIIO views (painted masks and digits), saved as gray PNGs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic_files import atomic_path


def save_gray_png(pixels: np.ndarray, path: Path) -> Path:
    """Write uint8 (H, W) pixels as an 8-bit gray PNG (creating the folder); OSError on failure."""
    picture = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), mode="L")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        picture.save(temporary, format="PNG")
    return path
