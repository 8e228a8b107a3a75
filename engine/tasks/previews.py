"""Preview arrays for snapshots: batches of images tiled into one uint8 picture."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

PREVIEW_COUNT = 16
"""Digits a race or an attack shows of its batch."""
PREVIEW_COLUMNS = 4
"""Digit previews are tiled 4 wide: 16 make a square, which fills the narrow, tall panels of the race, attack and
prior views (8 × 2 was a strip)."""


def image_grid(images: Tensor, columns: int = 8, low: float = -1.0, high: float = 1.0,
               gap: float | None = None) -> np.ndarray:
    """(N, C, H, W) images with values in [low, high] → one uint8 (rows·H, columns·W, C) picture, 1-pixel gaps of
    value `gap` (default `low`: black; the middle for signed pictures, white on a diverging map)."""
    images = images.detach().float().clamp(low, high).cpu()
    n, c, h, w = images.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = torch.full((c, rows * (h + 1) - 1, columns * (w + 1) - 1), low if gap is None else gap)
    for i in range(n):
        r, col = divmod(i, columns)
        grid[:, r * (h + 1) : r * (h + 1) + h, col * (w + 1) : col * (w + 1) + w] = images[i]
    scaled = (grid - low) / (high - low) * 255.0
    return scaled.round().to(torch.uint8).permute(1, 2, 0).numpy()
