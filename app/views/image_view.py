"""The image view: target | reconstruction | |error| side by side, zoom (wheel) and pan (drag) linked across the
three panels, and a split slider that shows the target left of a line inside the reconstruction panel.

Images arrive as uint8 arrays (H, W) or (H, W, C) and are shown with fixed levels (no per-frame autoscaling); the
error panel is the per-pixel absolute difference averaged over channels, as a heat map scaled to 0–25% of the range.

For a restore the view offers "Paint damage" (`set_damage_painting`): what is painted over the target panel
(app/views/damage_painter.py) is the damage, `damage_painted` after every stroke.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget

from app.views.damage_painter import DamageLayer
from app.views.registry import ReconstructionPreviews, register_view
from engine.tasks.base import Targets

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

ERROR_RANGE = 64.0
"""|error| shown from 0 (black) to this many uint8 levels (bright)."""


def absolute_error(target: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-pixel |target − reconstruction| (mean over channels), float32, same height and width."""
    diff = np.abs(target.astype(np.float32) - reconstruction.astype(np.float32))
    return diff.mean(axis=2) if diff.ndim == 3 else diff


def split_composite(target: np.ndarray, reconstruction: np.ndarray, fraction: float) -> np.ndarray:
    """The reconstruction with its left `fraction` of columns replaced by the target's."""
    column = int(round(fraction * target.shape[1]))
    out = reconstruction.copy()
    out[:, :column] = target[:, :column]
    return out


@register_view("image")
class ImageView(ReconstructionPreviews, QWidget):
    """Three linked panels; `set_target` once per signal, `set_reconstruction` on every snapshot."""

    TITLES = ("Target", "Reconstruction", "|Error|")
    damage_painted = Signal(object)
    """bool (H, W), True where the picture is damaged: after every stroke painted on the target."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.split = QSlider(Qt.Orientation.Horizontal)
        self.split.setRange(0, 100)
        self.split.setToolTip("Compare: the reconstruction panel shows the target left of the line")
        self.split.valueChanged.connect(lambda _: self._draw_reconstruction())
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Split"))
        controls.addWidget(self.split, 1)
        controls.addWidget(QLabel("wheel: zoom · drag: pan · double-click: fit"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(self._damage_controls())
        layout.addLayout(controls)
        self.hint_anchor = self.canvas
        """Where the window's start hint goes: over the pictures, clear of the split slider."""
        self.boxes, self.items = [], []
        for i, title in enumerate(self.TITLES):
            box = self.canvas.addViewBox(row=1, col=i, lockAspect=True, invertY=True, enableMenu=False)
            self.canvas.addLabel(title, row=0, col=i)
            item = pg.ImageItem()
            box.addItem(item)
            if self.boxes:
                box.setXLink(self.boxes[0])
                box.setYLink(self.boxes[0])
            self.boxes.append(box)
            self.items.append(item)
        errors = pg.colormap.get("inferno")
        self.items[2].setColorMap(errors)
        self.error_bar = pg.ColorBarItem(values=(0.0, ERROR_RANGE / 255), colorMap=errors, width=12,
                                         label="|error| (0–1 scale)", interactive=False, colorMapMenu=False)
        self.canvas.addItem(self.error_bar, row=1, col=3)
        self.split_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ffffff", width=1))
        self.split_line.hide()
        self.boxes[1].addItem(self.split_line)
        self.canvas.scene().sigMouseClicked.connect(self._fit_on_double_click)
        self.boxes[0].addItem(self.damage)
        self.target: np.ndarray | None = None
        self.reconstruction: np.ndarray | None = None

    def _damage_controls(self) -> QHBoxLayout:
        """Paint damage (a toggle), the brush's size, Clear: hidden until a restore asks for them."""
        self.damage = DamageLayer()
        self.damage.hide()
        self.damage.painted.connect(self.damage_painted)
        self.paint_damage = QPushButton("Paint damage")
        self.paint_damage.setCheckable(True)
        self.paint_damage.setToolTip("Paint over what is damaged on the target with the left button (the right "
                                     "button wipes); Start fills it in. Off: dragging pans the pictures again.")
        self.paint_damage.toggled.connect(self._paint_toggled)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(6)
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("The brush's radius, in the picture's pixels")
        self.brush_size.valueChanged.connect(lambda radius: setattr(self.damage, "radius", float(radius)))
        self.clear_damage = QPushButton("Clear damage")
        self.clear_damage.clicked.connect(self._clear_damage)
        row = QHBoxLayout()
        self.damage_widgets = (self.paint_damage, QLabel("Brush"), self.brush_size, self.clear_damage)
        for widget in self.damage_widgets:
            row.addWidget(widget)
            widget.hide()
        row.addStretch(1)
        return row

    def set_damage_painting(self, available: bool, damage: np.ndarray | None = None) -> None:
        """Offer painting the damage (a restore of a picture) with `damage` shown (None: none), or take the offer
        away (and the layer off the target)."""
        for widget in self.damage_widgets:
            widget.setVisible(available)
        if not available:
            self.paint_damage.setChecked(False)
        if damage is not None:
            self.damage.set_damage(damage)
        elif self.target is not None:  # nothing marked in the settings: nothing shown
            self.damage.reset(*self.target.shape[:2])
        self.damage.setVisible(available)

    def _paint_toggled(self, on: bool) -> None:
        self.damage.painting = on
        self.canvas.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def _clear_damage(self) -> None:
        self.damage.damage[:] = False
        self.damage.set_damage(self.damage.damage)
        self.damage_painted.emit(self.damage.damage.copy())

    def show_target(self, targets: Targets) -> None:
        self.set_target(targets.arrays["signal"], targets.arrays.get("damaged"))

    def set_target(self, image: np.ndarray, shown: np.ndarray | None = None) -> None:
        """The target the error is measured against; `shown` in its place when given (a restore's damaged file)."""
        self.target = image
        self.reconstruction = None
        self.items[0].setImage(image if shown is None else shown, levels=(0, 255))
        if self.damage.damage.shape != image.shape[:2]:
            self.damage.reset(*image.shape[:2])
        self.items[1].clear()
        self.items[2].clear()
        self.boxes[0].autoRange(padding=0.02)

    def set_reconstruction(self, image: np.ndarray) -> None:
        self.reconstruction = image
        self._draw_reconstruction()
        if self.target is not None and self.target.shape[:2] == image.shape[:2]:
            self.items[2].setImage(absolute_error(self.target, image), levels=(0, ERROR_RANGE))

    def _draw_reconstruction(self) -> None:
        image, fraction = self.reconstruction, self.split.value() / 100
        if image is None:
            return
        if fraction > 0 and self.target is not None and self.target.shape == image.shape:
            image = split_composite(self.target, image, fraction)
            self.split_line.setPos(fraction * image.shape[1])
            self.split_line.show()
        else:
            self.split_line.hide()
        self.items[1].setImage(image, levels=(0, 255))

    def _fit_on_double_click(self, event) -> None:
        if event.double():
            self.boxes[0].autoRange(padding=0.02)
