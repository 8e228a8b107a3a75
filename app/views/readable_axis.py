"""A plot axis whose tick labels stay readable, for every plot of the window: log labels on decades, and linear
labels spaced so that they never run into each other on a narrow plot."""
from __future__ import annotations

import math

import pyqtgraph as pg

CHAR_PX = 8.0
"""Width of one digit of tick text, in pixels (the default 9-point font, with some room)."""
LABEL_GAP_PX = 14.0
"""Free space kept between two neighbouring labels of a horizontal axis."""
NICE = (1.0, 2.0, 5.0)


class ReadableAxis(pg.AxisItem):
    """An axis whose labels never overprint. Log scale: decades only, plus 2 and 5 when fewer than two decades
    show (the minor ticks stay, unlabelled). Horizontal linear scale: the labelled ticks are spaced (1-2-5) so that
    their text fits side by side, however narrow the plot."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        if orientation in ("bottom", "top"):
            self.setStyle(maxTextLevel=0)  # only the spaced level is labelled; finer ticks stay unlabelled

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        strings = super().logTickStrings(values, scale, spacing)
        low, high = sorted(self.range)
        keep = (1.0,) if high - low > 2 else (1.0, 2.0, 5.0)
        shown = []
        for value, text in zip(values, strings):
            x = 10.0 ** value * scale
            mantissa = x / 10.0 ** math.floor(math.log10(x) + 1e-9) if x > 0 else 0.0
            shown.append(text if any(abs(mantissa - k) < 1e-6 * k for k in keep) else "")
        return shown

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        levels = super().tickSpacing(minVal, maxVal, size)
        if self.orientation not in ("bottom", "top") or self.logMode or not levels or size <= 0 or maxVal <= minVal:
            return levels
        return readable_levels(levels, minVal, maxVal, size)


def readable_axes() -> dict[str, ReadableAxis]:
    """A plot's left and bottom axes, readable (`pg.PlotWidget(axisItems=readable_axes())`)."""
    return {"left": ReadableAxis("left"), "bottom": ReadableAxis("bottom")}


def readable_levels(levels: list, low: float, high: float, size: float) -> list:
    """pyqtgraph's tick levels [(spacing, offset), …] with the labelled (first) level widened to the next 1-2-5
    spacing at which every label fits beside its neighbours; finer levels stay as unlabelled ticks."""
    spacing = levels[0][0]
    while (high - low) / spacing * label_width(low, high, spacing) > size:
        exponent = math.floor(math.log10(spacing) + 1e-9)
        mantissa = spacing / 10.0 ** exponent
        bigger = [n for n in NICE if n > mantissa + 1e-9]
        spacing = (bigger[0] if bigger else 10.0) * 10.0 ** exponent
    return [(spacing, 0)] + [(s, o) for s, o in levels if s < spacing]


def label_width(low: float, high: float, spacing: float) -> float:
    """The pixels one label of ticks every `spacing` in [low, high] takes, with its gap (its longest text)."""
    first = math.ceil(low / spacing)
    ticks = [round(k * spacing, 9) for k in range(first, min(first + 50, math.floor(high / spacing) + 1))]
    digits = max((len(f"{tick:g}") for tick in ticks), default=1)
    return CHAR_PX * digits + LABEL_GAP_PX
