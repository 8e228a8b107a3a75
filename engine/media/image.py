"""Images with Pillow: png, jpg, bmp, tiff, webp; gray or RGB; optional downscale; PNG writer."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from engine.atomic_files import atomic_path
from engine.config import FitConfig, SignalConfig
from engine.media.base import (Signal, SignalError, TooLarge, grid_coords, missing_file, regular_file,
                               unreadable)
from engine.media.spec import PREVIEW_MODEL, FitDefaults, MediumSpec, register_medium

NOUN = "an image"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
IMAGE_FORMATS = "PNG or JPEG"
"""What an unreadable image is best saved again as."""


MAX_PIXELS = 50_000_000
"""The largest image decoded (50 megapixels): decoding more takes gigabytes before it could be shrunk. A larger JPEG
is read shrunk when a Max size is set: its decoder itself skips to 1/2, 1/4 or 1/8 of the size."""
SHRUNK_SIZE = 4000
"""The Max size offered for a JPEG larger than MAX_PIXELS."""
WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
"""Pillow's 16-bit, 32-bit and float gray modes: scaled to the picture's range, never clipped at 255."""


def decoded(path: Path, max_size: int | None = None) -> Image.Image:
    """An image file decoded as "F" (16-bit, 32-bit and float gray, scaled onto 0–255, not clipped), "L" (gray) or
    "RGB", turned upright as its EXIF orientation says (as viewers show it); SignalError naming the file when it is
    missing or no regular file, unreadable, holds float pixels that are not numbers, or is larger than MAX_PIXELS
    (checked from the header, before anything is decoded), unless it is a JPEG that its decoder can shrink to fit
    near `max_size`."""
    regular_file(path)
    try:
        with _opened(path, max_size) as img:
            if img.width * img.height > MAX_PIXELS and max_size and img.format == "JPEG":
                img.draft("L" if img.mode == "L" else "RGB", (max_size, max_size))
            if img.width * img.height > MAX_PIXELS:
                raise too_large(path, img.width, img.height, img.format == "JPEG")
            img.load()
            _upright(img)
            if img.mode == "F" and not np.isfinite(np.asarray(img)).all():
                raise SignalError(f"{path.name} has pixels that are not numbers (NaN or infinite, often marking "
                                  f"missing data): there is no value to learn there. Fill them in an image editor, "
                                  f"or open another file.")
            if img.mode in WIDE_GRAY_MODES:
                return Image.fromarray(unit_gray(np.asarray(img), img.mode) * 255.0, mode="F")
            gray = img.mode in ("1", "L", "LA") or (img.mode == "P" and _palette_is_gray(img))
            return img.convert("L" if gray else "RGB")
    except FileNotFoundError:
        raise missing_file(path) from None
    except Image.DecompressionBombError:
        raise too_large(path, *_declared_size(path), _is_jpeg(path)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise unreadable(path, NOUN, IMAGE_FORMATS, exc) from exc


def load_image(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal:
    """Read an image (`decoded`: gray stays one channel, anything else becomes RGB), shrunk to `max_size`; targets
    scaled to [−1, 1]."""
    path = Path(path)
    img = decoded(path, config.max_size)
    if config.max_size and max(img.size) > config.max_size:
        scale = config.max_size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    if min(img.size) < 2:
        raise SignalError(f"{path.name} is only {img.width}×{img.height} pixels: an image needs at least 2×2. Open "
                          f"a larger image (or raise Max size).")
    arr = np.clip(np.asarray(img, dtype=np.float32), 0.0, 255.0) / 127.5 - 1.0
    arr = arr.reshape(img.height, img.width, -1)
    values = torch.from_numpy(arr.reshape(-1, arr.shape[2]).copy())
    return Signal("image", grid_coords((img.height, img.width)), values, (img.height, img.width), None, path.name)


def unit_gray(pixels: np.ndarray, mode: str) -> np.ndarray:
    """Wide gray pixels (Pillow `mode`) as float32 in [0, 1]: 16-bit modes by 65535; 32-bit integers by 255 when
    they hold 8-bit values, else by 65535 when they fit 16 bits; floats in [0, 1] as they are; anything else
    stretched from its minimum to its maximum."""
    pixels = pixels.astype(np.float64)
    finite = pixels[np.isfinite(pixels)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if mode.startswith("I;16"):
        scaled = pixels / 65535.0
    elif mode == "I" and low >= 0 and high <= 255:
        scaled = pixels / 255.0
    elif mode == "I" and low >= 0 and high <= 65535:
        scaled = pixels / 65535.0
    elif mode == "F" and low >= 0 and high <= 1:
        scaled = pixels
    else:
        scaled = (pixels - low) / max(high - low, 1e-12)
    return np.nan_to_num(scaled, nan=0.0, posinf=1.0, neginf=0.0).clip(0.0, 1.0).astype(np.float32)


def too_large(path: Path, width: int, height: int, jpeg: bool = False) -> TooLarge:
    """The error for an image over MAX_PIXELS: a JPEG is offered shrunk (Max size), anything else goes to an editor
    (its decoder cannot skip pixels)."""
    size = f"{path.name} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels), more than DEQ Studio " \
           f"decodes at full size ({MAX_PIXELS // 1_000_000} megapixels)."
    if jpeg and _jpeg_draft_pixels(width, height, SHRUNK_SIZE) <= MAX_PIXELS:
        return TooLarge(f"{size} Open it shrunk: set Max size to {SHRUNK_SIZE} (--max-size {SHRUNK_SIZE}).",
                        {"signal.max_size": SHRUNK_SIZE})
    return TooLarge(f"{size} Shrink it in an image editor first, for example to {SHRUNK_SIZE} pixels on its longer "
                    f"side.")


def _jpeg_draft_pixels(width: int, height: int, max_size: int) -> int:
    """The pixels a JPEG decoder drafting towards `max_size` gives: the largest of 1/8, 1/4, 1/2 or 1 that keeps
    both sides at least `max_size` (Pillow's `JpegImageFile.draft`)."""
    fits = min(width // max_size, height // max_size)
    scale = next(s for s in (8, 4, 2, 1) if fits >= s or s == 1)
    return -(-width // scale) * -(-height // scale)


def _opened(path: Path, max_size: int | None) -> Image.Image:
    """The image, opened lazily. Pillow refuses to open what declares over twice its pixel limit (a decompression
    bomb); a JPEG that will be decoded shrunk is opened anyway, by its own plugin (the limit is Pillow's global)."""
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        if not (max_size and _is_jpeg(path)):
            raise
        return JpegImagePlugin.JpegImageFile(str(path))


def _is_jpeg(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(3) == b"\xff\xd8\xff"


def _declared_size(path: Path) -> tuple[int, int]:
    """The size an image's header declares, read with Pillow's size check off (nothing is decoded)."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as img:
            return img.width, img.height
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _upright(img: Image.Image) -> None:
    """Turn a loaded image upright in place, as its EXIF Orientation tag says (a camera held sideways stores its
    pixels unrotated and the tag); an EXIF block too damaged to read leaves it as stored."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except (SyntaxError, ValueError, struct.error):
        pass


def _palette_is_gray(img: Image.Image) -> bool:
    rgb = np.asarray(img.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def write_image(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 (H, W, C) array, C = 1 or 3, as an image (format from the suffix, PNG by default), atomically."""
    arr = array[..., 0] if array.shape[-1] == 1 else array
    picture = Image.fromarray(arr)
    with atomic_path(path) as temporary:
        picture.save(temporary)  # its name ends as the target's: the format follows the suffix


def read_gray_image(path: str | Path, size: int | tuple[int, int], resample: int = Image.BILINEAR) -> np.ndarray:
    """An image file as uint8 gray of `size` (a side, or (height, width)), resized; SignalError when unreadable or
    larger than MAX_PIXELS."""
    height, width = (size, size) if isinstance(size, int) else size
    return np.asarray(decoded(Path(path), max(height, width)).convert("L").resize((width, height), resample))


IMAGE_SIDE = 512
"""The image side the (Implicit)² input scales (256 to represent, 128 to generalize) were set for: an image's default
scale follows its longer side in proportion, so that the filters start at the same frequencies per pixel. Measured
(bench/gain_ablations.py, 256² images, 1000 steps, width 256): at 128, twice the paper's frequency per pixel, the
implicit models memorize the training pixels (47 dB) and trail their explicit counterparts on the held-out ones by
0.25–0.51 dB; at 64 they lead by +0.13 to +0.32 dB (iSIREN) and +0.54 dB (Fourier-iMFN) on Kodak, +1.25 and
+2.23 dB on a downsampled colour photograph, as in the paper."""


def damaged_pixels(path: Path, signal: Signal, config: Any) -> torch.Tensor:
    """The pixels `config.mask` marks black (below half grey), as bool (H·W,): the mask must have the size of the
    picture file; it is shrunk with the picture when the picture is read smaller (nearest neighbour)."""
    if not config.mask:
        raise SignalError("Paint or choose a mask first: a black-and-white picture of the damage, black where "
                          "the picture is damaged (Mask in the settings, --mask on the command line).")
    mask_path = Path(config.mask)
    size, mask_size = decoded(Path(path)).size, decoded(mask_path).size  # upright, as viewers (and painters) show them
    if mask_size != size:
        raise SignalError(f"The mask {mask_path.name} is {mask_size[0]}×{mask_size[1]} pixels and {Path(path).name} "
                          f"{size[0]}×{size[1]}: a mask must have the picture's size.")
    pixels = read_gray_image(mask_path, signal.shape[:2], Image.NEAREST)
    return torch.from_numpy(pixels.reshape(-1) < 128)


def describe_image(signal: Signal) -> str:
    return f"{signal.shape[0]}×{signal.shape[1]} {'gray' if signal.channels == 1 else 'RGB'} image"


IMAGE = register_medium(MediumSpec(
    "image", NOUN, IMAGE_EXTENSIONS, load_image,
    FitDefaults(input_scale=256.0, generalize_input_scale=128.0, scale_side=IMAGE_SIDE, scale_axes=(0, 1),
                halve_siren_scale=False),
    # a 256-pixel preview: the filters' scale follows its resolution (IMAGE_SIDE)
    FitConfig(model=PREVIEW_MODEL, signal=SignalConfig(max_size=256), lr=3e-3, steps=500, log_every=5, eval_every=25),
    signal_fields=frozenset({"max_size"}), write=lambda path, array, rate: write_image(path, array),
    export_name="reconstruction.png", split_axes=(0, 1), describe=describe_image, damage=damaged_pixels,
    damage_field="mask"))
