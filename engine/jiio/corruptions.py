"""The corruptions an inverse problem undoes: Gaussian noise, a missing box, missing random pixels, a painted mask.

Images are (B, C, H, W) in [−1, 1]. A corruption gives the observation and the mask of observed pixels (1 = seen);
the inner loss of the inverse problem is the masked squared error to the observation (SPEC 2.5).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from engine.media.image import read_gray_image


@dataclasses.dataclass
class Corrupted:
    """What the solver sees: the observation and which of its pixels are observed."""

    observation: Tensor
    mask: Tensor


def add_noise(images: Tensor, sigma: float, generator: torch.Generator) -> Corrupted:
    """Every pixel observed, with additive Gaussian noise of standard deviation sigma (on the [−1, 1] scale)."""
    noise = torch.randn(images.shape, generator=generator).to(images.device)
    return Corrupted(images + sigma * noise, torch.ones_like(images))


def remove_box(images: Tensor, size: int, generator: torch.Generator) -> Corrupted:
    """A size × size box at a random position per image is missing (shown as 0, mid-gray)."""
    b, _, h, w = images.shape
    size = min(size, h, w)
    mask = torch.ones_like(images)
    tops = torch.randint(0, h - size + 1, (b,), generator=generator).tolist()
    lefts = torch.randint(0, w - size + 1, (b,), generator=generator).tolist()
    for i, (top, left) in enumerate(zip(tops, lefts)):
        mask[i, :, top : top + size, left : left + size] = 0
    return Corrupted(images * mask, mask)


def remove_pixels(images: Tensor, fraction: float, generator: torch.Generator) -> Corrupted:
    """Each pixel is missing with probability `fraction`, independently."""
    b, _, h, w = images.shape
    seen = (torch.rand((b, 1, h, w), generator=generator) >= fraction).to(images.device, images.dtype)
    mask = seen.expand_as(images).contiguous()
    return Corrupted(images * mask, mask)


def read_mask(path: str | Path, size: tuple[int, int]) -> Tensor:
    """A painted mask image → (1, 1, H, W) of observed pixels: dark (< 50% gray) pixels are the missing ones.
    Resized to `size` (nearest neighbour)."""
    from PIL import Image

    gray = read_gray_image(path, size, Image.NEAREST)
    seen = torch.from_numpy((gray >= 128).astype(np.float32))
    return seen[None, None]


def apply_mask(images: Tensor, seen: Tensor) -> Corrupted:
    """The pixels where `seen` (1, 1, H, W) is 0 are missing in every image."""
    mask = seen.to(images.device, images.dtype).expand_as(images).contiguous()
    return Corrupted(images * mask, mask)
