"""Painting what is damaged on a picture, for a restore: a translucent red layer over the image view's target panel.

While painting is on, the left button paints damage and the right button wipes it, with a round brush drawn along
the path between mouse events (`brush`); dragging beside the picture still pans, and the wheel still zooms. The
damage is a bool (H, W) array, True where missing; `painted` carries a copy after every stroke.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from app.views.paint_canvas import brush

DAMAGE_RGBA = (255, 48, 48, 170)
"""How damage is shown over the picture."""


class DamageLayer(pg.ImageItem):
    """The damage over a picture of (H, W) pixels (`reset`), painted with the mouse while `painting`."""

    painted = Signal(object)

    def __init__(self, radius: float = 6.0) -> None:
        super().__init__()
        self.radius = radius
        """The brush's radius in the picture's pixels."""
        self.painting = False
        self.damage = np.zeros((0, 0), dtype=bool)
        self._erase = False
        self.setZValue(10)

    def reset(self, height: int, width: int) -> None:
        """No damage on a picture of `height` × `width`."""
        self.set_damage(np.zeros((height, width), dtype=bool))

    def set_damage(self, damage: np.ndarray) -> None:
        self.damage = np.array(damage, dtype=bool)
        self._draw()

    def mark(self, x: float, y: float, start: tuple[float, float] | None = None, erase: bool = False) -> None:
        """Mark (or wipe, `erase`) the damage under the brush at pixel coordinates (x, y), along the path from
        `start` when given."""
        if not self.damage.size:
            return
        reached, weight = brush(self.damage.shape, x, y, self.radius, start)
        self.damage[reached] = self.damage[reached] & (weight < 0.5) if erase else self.damage[reached] | (weight >= 0.5)
        self._draw()

    def _draw(self) -> None:
        layer = np.zeros(self.damage.shape + (4,), dtype=np.uint8)
        layer[self.damage] = DAMAGE_RGBA
        self.setImage(layer, levels=(0, 255), autoLevels=False)

    def _button(self, event) -> bool | None:
        """Whether `event` erases (right button), paints (left), or None: not a stroke here."""
        if not self.painting or not self.damage.size:
            return None
        if event.button() == Qt.MouseButton.LeftButton:
            return False
        return True if event.button() == Qt.MouseButton.RightButton else None

    def mouseDragEvent(self, event) -> None:  # noqa: N802 (pyqtgraph API)
        erase = self._button(event)
        if erase is None:
            event.ignore()  # the view pans
            return
        event.accept()
        point, last = event.pos(), event.lastPos()
        self.mark(point.x(), point.y(), None if event.isStart() else (last.x(), last.y()), erase)
        if event.isFinish():
            self.painted.emit(self.damage.copy())

    def mouseClickEvent(self, event) -> None:  # noqa: N802 (pyqtgraph API)
        erase = self._button(event)
        if erase is None:
            event.ignore()
            return
        event.accept()
        self.mark(event.pos().x(), event.pos().y(), erase=erase)
        self.painted.emit(self.damage.copy())
