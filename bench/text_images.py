"""A "text" image set like the (Implicit)² paper's: random words in random fonts, sizes and colours on plain
backgrounds — sharp edges on flat areas, the opposite of a photograph.

    python bench/text_images.py OUT_DIR [--count 4] [--size 512] [--seed 0]

Writes OUT_DIR/text00.png ... as 8-bit RGB PNGs and prints their paths. The same seed gives the same images on a
machine with the same fonts: Pillow's built-in font always, the DejaVu fonts where the system has them.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WORDS = ("implicit layer equilibrium fixed point solver anderson broyden picard neumann gradient image audio video "
         "mesh signal fourier gabor siren filter network depth width memory speed kodak pixel sample train test "
         "photo music river mountain garden window paper table chair orange purple yellow silver winter summer "
         "morning evening quiet bright simple elegant studio deep model").split()
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf")


def font(choice: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if choice is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(choice, size)


def available_fonts() -> list[str | None]:
    """Pillow's built-in font (None) and the system fonts of FONT_FILES that load."""
    fonts: list[str | None] = [None]
    for name in FONT_FILES:
        try:
            ImageFont.truetype(name, 12)
        except OSError:
            continue
        fonts.append(name)
    return fonts


def text_image(rng: random.Random, size: int, fonts: list[str | None]) -> Image.Image:
    """One image: a plain background colour and 8–16 words placed at random, each its own font, size and colour."""
    background = tuple(rng.randrange(256) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(8, 16)):
        colour = tuple(rng.randrange(256) for _ in range(3))
        if sum(abs(a - b) for a, b in zip(colour, background)) < 120:  # keep every word readable
            colour = tuple(255 - c for c in background)
        face = font(rng.choice(fonts), rng.randint(size // 32, size // 8))
        draw.text((rng.randrange(-size // 8, size), rng.randrange(-size // 16, size)), rng.choice(WORDS),
                  fill=colour, font=face)
    return image


def write_text_images(folder: Path, count: int = 4, size: int = 512, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng, fonts = random.Random(seed), available_fonts()
    paths = []
    for index in range(count):
        path = folder / f"text{index:02d}.png"
        text_image(rng, size, fonts).save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = write_text_images(args.out, args.count, args.size, args.seed)
    print("\n".join(str(p) for p in paths))
    return paths


if __name__ == "__main__":
    main()
