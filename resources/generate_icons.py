"""Generate DEQ Studio's application icon: the SVG source and every raster size the platforms ask for.

    python resources/generate_icons.py     # writes resources/icons/deq-studio.svg, deq-studio-<N>.png,
                                           # deq-studio.ico (Windows) and deq-studio.icns (macOS)

The picture is the product's idea: iterates z₀, z₁, … of a contraction spiralling into its fixed point z* = f(z*),
which glows at the centre. It is drawn from formulas (a logarithmic spiral), written as SVG, and rasterized by Qt's
SVG renderer, so the scalable icon and the PNGs are the same drawing. Small sizes get a simpler drawing (fewer
iterates, thicker strokes) so that they stay legible at 16 pixels.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"
NAME = "deq-studio"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
"""The freedesktop hicolor sizes; Windows' .ico takes 16–256, macOS' .icns 16–512."""
SMALL = 32
"""At this size and below the simpler drawing is used."""


def spiral_point(k: float, turns: float, count: int, radius: float) -> tuple[float, float]:
    """The k-th of `count` iterates on a logarithmic spiral of `turns` turns shrinking from `radius` to ~0,
    in a 256-unit square centred at (128, 128)."""
    rho = 0.22 ** (1 / count)  # the contraction factor: the last iterate is 22% of the first radius away
    theta = -math.pi * 0.75 + 2 * math.pi * turns * k / count
    r = radius * rho ** k
    return 128 + r * math.cos(theta), 128 + r * math.sin(theta)


def icon_svg(small: bool = False) -> str:
    """The icon as an SVG document (256×256 view box)."""
    count, turns, stroke, dot = (4, 0.9, 15.0, 15.0) if small else (7, 1.35, 8.0, 11.0)
    radius = 96.0
    steps = 240
    end = count + 3  # the line runs on into the fixed point
    path = " ".join(("M" if i == 0 else "L") + "{:.2f},{:.2f}".format(*spiral_point(end * i / steps, turns, count,
                                                                                     radius))
                    for i in range(steps + 1))
    dots = []
    for k in range(count):
        x, y = spiral_point(k, turns, count, radius)
        size = dot * (0.55 + 0.45 * (1 - k / count))
        opacity = 0.55 + 0.45 * (1 - k / count)
        dots.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{size:.2f}" fill="#e8f1ff" '
                    f'fill-opacity="{opacity:.2f}"/>')
    glow = 34 if small else 30
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>DEQ Studio</title>
  <defs>
    <linearGradient id="background" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#26338f"/>
      <stop offset="1" stop-color="#0e6d78"/>
    </linearGradient>
    <radialGradient id="glow" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#ffd166" stop-opacity="1"/>
      <stop offset="0.45" stop-color="#ff9f1c" stop-opacity="0.55"/>
      <stop offset="1" stop-color="#ff9f1c" stop-opacity="0"/>
    </radialGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="52" ry="52" fill="url(#background)"/>
  <path d="{path}" fill="none" stroke="#9cc8ff" stroke-opacity="0.8" stroke-width="{stroke}"
        stroke-linecap="round" stroke-linejoin="round"/>
  {chr(10).join('  ' + d for d in dots).strip()}
  <circle cx="128" cy="128" r="{glow}" fill="url(#glow)"/>
  <circle cx="128" cy="128" r="{11 if small else 9}" fill="#fff4d6"/>
</svg>
"""


def rasterize(svg: str, size: int):
    """The SVG drawn into a size×size transparent QImage."""
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode()))
    if not renderer.isValid():
        raise ValueError("the generated SVG does not parse")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (Qt needs it for fonts/images)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{NAME}.svg").write_text(icon_svg(), encoding="utf-8")
    pngs = {}
    for size in PNG_SIZES:
        path = OUT / f"{NAME}-{size}.png"
        if not rasterize(icon_svg(small=size <= SMALL), size).save(str(path)):
            raise OSError(f"could not write {path}")
        pngs[size] = path
    images = {size: Image.open(path).convert("RGBA") for size, path in pngs.items()}
    largest = images[max(images)]
    largest.save(OUT / f"{NAME}.ico", sizes=[(s, s) for s in PNG_SIZES if s <= 256],
                 append_images=[images[s] for s in PNG_SIZES if s <= 256])
    largest.save(OUT / f"{NAME}.icns", append_images=list(images.values()))
    print(f"wrote {NAME}.svg, {len(pngs)} PNGs, .ico and .icns into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
