"""The JIIO race: the corrupted digits, each method's restorations, and both loss curves against wall-clock time;
beside them the corruption controls: a noise slider and a mask painter.

Fed by the inverse task's snapshots: uint8 grids `clean`, `corrupted`, `jiio`, `adam` and float32 (n, 2) traces
`race_jiio`, `race_adam` of (seconds, loss) per iteration; PSNRs come from the scalars. The controls only emit
what the user chose (`sigma_changed`, `mask_painted`); the window puts it into the inverse settings.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.views.image_view import pg  # pyqtgraph, with the shared configuration
from app.views.paint_canvas import PaintCanvas, canvas_buttons
from app.views.readable_axis import readable_axes
from app.views.registry import register_view
from app.views.value_slider import ValueSlider

METHOD_COLORS = {"jiio": "#d62728", "adam": "#1f77b4", "jio": "#d62728", "pgd": "#1f77b4"}
METHOD_NAMES = {"jiio": "JIIO", "adam": "Adam", "jio": "JIO", "pgd": "PGD"}


def room_for_two_lines(label: QLabel) -> None:
    """A wrapping title keeps the height of two lines (a result's title in a narrow column is never cut)."""
    label.setMinimumHeight(2 * label.fontMetrics().lineSpacing() + 2)


class ImagePanel(QWidget):
    """A titled uint8 image (grid of digits) with fixed levels; with `colour_bar` (low, high, label) a colour map
    and its bar, the image's 0–255 spanning low–high."""

    def __init__(self, title: str, parent: QWidget | None = None, colour_map: str | None = None,
                 colour_bar: tuple[float, float, str] | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.default_title = title
        self.title = QLabel(title)
        self.title.setWordWrap(True)  # a long title wraps instead of widening its column
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.canvas = pg.GraphicsLayoutWidget()
        self.box = self.canvas.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.item = pg.ImageItem()
        self.box.addItem(self.item)
        self.bar = None
        if colour_map is not None:
            cmap = pg.colormap.get(colour_map)
            self.item.setColorMap(cmap)
            if colour_bar is not None:
                low, high, label = colour_bar
                self.bar_range = (low, high)
                self.bar = pg.ColorBarItem(values=(low, high), colorMap=cmap, width=12, label=label,
                                           interactive=False, colorMapMenu=False)
                self.canvas.addItem(self.bar, row=0, col=1)
        layout.addWidget(self.title, 0, 0)
        layout.addWidget(self.canvas, 1, 0)
        self.image: np.ndarray | None = None

    def reset(self) -> None:
        """Empty, with its first title (no result of an earlier run left)."""
        self.item.clear()
        self.image = None
        self.title.setText(self.default_title)
        if self.bar is not None:
            self.bar.setLevels(self.bar_range)

    def set_bar_range(self, low: float, high: float) -> None:
        """What the image's 0–255 stand for, on the colour bar."""
        if self.bar is not None:
            self.bar.setLevels((low, high))

    def set_image(self, image: np.ndarray) -> None:
        self.image = image
        self.item.setImage(image, levels=(0, 255))
        self.box.autoRange(padding=0.01)


def show_previews(panels: dict[str, ImagePanel], previews: dict) -> None:
    """Each panel its preview of the same name, where the snapshot has one."""
    for key, panel in panels.items():
        if key in previews:
            panel.set_image(previews[key])


class CorruptionControls(QGroupBox):
    """Noise σ slider (0–0.6 on the [−1, 1] scale) and a 28×28 mask painter (paint the missing pixels dark)."""

    sigma_changed = Signal(float)
    mask_painted = Signal(object)
    """uint8 (28, 28): 255 observed, 0 missing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Corruption", parent)
        layout = QVBoxLayout(self)
        self.sigma = ValueSlider("Noise σ = {:.{digits}f}", 0.0, 0.6, 0.01, 0.2, "Gaussian noise σ added to the "
                                 "digits (pixel scale −1…1); moving it picks the noise corruption")
        self.sigma.value_changed.connect(self.sigma_changed)
        layout.addWidget(self.sigma)
        explained = QLabel("Mask: paint the missing pixels (left), erase (right)")
        explained.setWordWrap(True)
        layout.addWidget(explained)
        self.painter = PaintCanvas(28, ink=0, paper=255, radius=1.5)
        self.painter.setToolTip("Dark pixels are hidden from both methods; they must fill them in from the prior")
        layout.addWidget(self.painter, 1)
        buttons, self.use_mask = canvas_buttons(self.painter, "Use this mask", "Restore the digits with this mask "
                                                "(the inpainting corruption)", self.mask_painted.emit)
        layout.addLayout(buttons)


CONTROLS_MAX_WIDTH = 240
"""The corruption controls' widest: the digits get the rest (at 1024×700 each of the four panels stays over 100 px
wide)."""
PLOT_MIN_HEIGHT = 160
"""The loss race's least height, in pixels."""


@register_view("race")
class RaceView(QWidget):
    """Clean | corrupted | JIIO | Adam grids above the loss-against-time race; the corruption controls beside."""

    PANELS = ("clean", "corrupted", "jiio", "adam")
    TITLES = {"clean": "Clean", "corrupted": "Corrupted", "jiio": "JIIO", "adam": "Adam over the latent"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.controls = CorruptionControls()
        self.controls.setMaximumWidth(CONTROLS_MAX_WIDTH)
        layout.addWidget(self.controls, 0, len(self.PANELS), 2, 1)
        self.panels = {key: ImagePanel(self.TITLES[key]) for key in self.PANELS}
        for i, key in enumerate(self.PANELS):
            layout.addWidget(self.panels[key], 0, i)
            room_for_two_lines(self.panels[key].title)
        self.plot = pg.PlotWidget(title="Loss against wall-clock time", axisItems=readable_axes())
        self.plot.setLogMode(y=True)
        self.plot.setLabel("left", "loss")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.addLegend(offset=(-5, 5))  # top right, clear of the curves that start top left
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)  # never squeezed to a strip by the tall digit panels
        layout.addWidget(self.plot, 1, 0, 1, len(self.PANELS))
        self.hint_anchor = self.plot
        """Where the window's start hint goes: over the race's curves, clear of the controls."""
        layout.setRowStretch(0, 2)
        layout.setRowStretch(1, 2)
        for column in range(len(self.PANELS)):
            layout.setColumnStretch(column, 2)
        layout.setColumnStretch(len(self.PANELS), 1)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def clear(self) -> None:
        self.plot.clear()
        self.curves.clear()
        for panel in self.panels.values():
            panel.reset()

    def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
        show_previews(self.panels, previews)
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
