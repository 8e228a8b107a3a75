"""The JIIO race: the corrupted digits, each method's restorations, and both loss curves against wall-clock time.

Fed by the inverse task's snapshots: uint8 grids `clean`, `corrupted`, `jiio`, `adam` and float32 (n, 2) traces
`race_jiio`, `race_adam` of (seconds, loss) per iteration; PSNRs come from the scalars.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.views.image_view import pg  # noqa: F401  (shared pyqtgraph configuration)

METHOD_COLORS = {"jiio": "#d62728", "adam": "#1f77b4", "jio": "#d62728", "pgd": "#1f77b4"}
METHOD_NAMES = {"jiio": "JIIO", "adam": "Adam", "jio": "JIO", "pgd": "PGD"}


class ImagePanel(QWidget):
    """A titled uint8 image (grid of digits) with fixed levels."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(title)
        self.canvas = pg.GraphicsLayoutWidget()
        self.box = self.canvas.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.item = pg.ImageItem()
        self.box.addItem(self.item)
        layout.addWidget(self.title, 0, 0)
        layout.addWidget(self.canvas, 1, 0)
        self.image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self.image = image
        self.item.setImage(image, levels=(0, 255))
        self.box.autoRange(padding=0.01)


class RaceView(QWidget):
    """Clean | corrupted | JIIO | Adam grids above the loss-against-time race."""

    PANELS = ("clean", "corrupted", "jiio", "adam")
    TITLES = {"clean": "Clean", "corrupted": "Corrupted", "jiio": "JIIO", "adam": "Adam over the latent"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.panels = {key: ImagePanel(self.TITLES[key]) for key in self.PANELS}
        for i, key in enumerate(self.PANELS):
            layout.addWidget(self.panels[key], 0, i)
        self.plot = pg.PlotWidget(title="Loss against wall-clock time (s)")
        self.plot.setLogMode(y=True)
        self.plot.addLegend()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        layout.addWidget(self.plot, 1, 0, 1, len(self.PANELS))
        layout.setRowStretch(0, 2)
        layout.setRowStretch(1, 2)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def clear(self) -> None:
        self.plot.clear()
        self.curves.clear()
        for key in ("jiio", "adam"):
            self.panels[key].item.clear()
            self.panels[key].title.setText(self.TITLES[key])

    def show_snapshot(self, previews: dict, scalars: dict) -> None:
        for key, panel in self.panels.items():
            if key in previews:
                panel.set_image(previews[key])
        if "psnr_corrupted" in scalars:
            self.panels["corrupted"].title.setText(f"Corrupted — {scalars['psnr_corrupted']:.2f} dB")
        for method in ("jiio", "adam"):
            trace = previews.get(f"race_{method}")
            if trace is None:
                continue
            if f"psnr_{method}" in scalars:
                self.panels[method].title.setText(f"{self.TITLES[method]} — {scalars[f'psnr_{method}']:.2f} dB, "
                                                  f"{scalars[f'{method}_ms'] / 1000:.1f} s")
            if method not in self.curves:
                self.curves[method] = self.plot.plot(name=METHOD_NAMES[method],
                                                     pen=pg.mkPen(METHOD_COLORS[method], width=2))
            self.curves[method].setData(trace[:, 0], np.maximum(trace[:, 1], 1e-6))
