"""A plot axis whose log-scale tick labels stay readable, for every plot of the window."""
from __future__ import annotations

import math

import pyqtgraph as pg


class ReadableAxis(pg.AxisItem):
    """An axis whose log-scale labels never overprint: decades only, plus 2 and 5 when fewer than two decades show
    (the minor ticks stay, unlabelled)."""

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
