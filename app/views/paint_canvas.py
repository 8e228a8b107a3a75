"""A small grayscale canvas painted with the mouse: the JIIO inpainting mask and the digit drawn for the classifier.

The picture is a uint8 (size, size) array shown magnified; the left button paints `ink`, the right button paints
`paper`, with a soft round brush (radius in canvas pixels) drawn along the path between mouse events, so that a fast
stroke is a line, not dots. `changed` fires after every stroke.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget


def brush(shape: tuple[int, int], x: float, y: float, radius: float,
          start: tuple[float, float] | None = None) -> tuple[tuple[slice, slice], np.ndarray]:
    """A soft round brush of `radius` pixels along the straight path from `start` (else a dab) to (x, y), in pixel
    coordinates (pixel centres at k + 0.5) of a picture of `shape`: the slices of the pixels it reaches and their
    weights there (1 inside the radius, a soft edge of one pixel)."""
    x0, y0 = start if start is not None else (x, y)
    reach = radius + 1.5
    rows = slice(max(0, int(min(y, y0) - reach)), max(0, min(shape[0], int(max(y, y0) + reach) + 1)))
    cols = slice(max(0, int(min(x, x0) - reach)), max(0, min(shape[1], int(max(x, x0) + reach) + 1)))
    ys, xs = np.mgrid[rows, cols]
    dx, dy = x - x0, y - y0
    length2 = dx * dx + dy * dy
    t = np.clip(((xs + 0.5 - x0) * dx + (ys + 0.5 - y0) * dy) / length2, 0.0, 1.0) if length2 else 0.0
    distance = np.hypot(xs + 0.5 - (x0 + t * dx), ys + 0.5 - (y0 + t * dy))  # to the nearest point of the path
    return (rows, cols), np.clip(radius + 0.5 - distance, 0.0, 1.0)


class PaintCanvas(QWidget):
    """Paint on a (size, size) uint8 picture; `pixels` is the picture, `clear()` fills it with paper."""

    changed = Signal()

    def __init__(self, size: int = 28, ink: int = 255, paper: int = 0, radius: float = 1.2,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_px, self.ink, self.paper, self.radius = size, ink, paper, radius
        self.pixels = np.full((size, size), paper, dtype=np.uint8)
        self._value: int | None = None
        self._last: QPointF | None = None
        self.setMinimumSize(QSize(4 * size, 4 * size))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def clear(self) -> None:
        self.pixels[:] = self.paper
        self.update()
        self.changed.emit()

    def set_pixels(self, pixels: np.ndarray) -> None:
        self.pixels = np.ascontiguousarray(pixels, dtype=np.uint8).copy()
        self.update()
        self.changed.emit()

    def paint_at(self, x: float, y: float, value: int, start: tuple[float, float] | None = None) -> None:
        """Brush `value` around canvas coordinates (x, y) (pixel centres at k + 0.5), along the straight path from
        `start` when given."""
        reached, weight = brush(self.pixels.shape, x, y, self.radius, start)
        blended = self.pixels[reached] * (1 - weight) + value * weight
        self.pixels[reached] = np.round(blended).astype(np.uint8)
        self.update()

    def _canvas_point(self, event: QMouseEvent) -> QPointF:
        side = min(self.width(), self.height())
        position = event.position()
        return QPointF(position.x() * self.size_px / side, position.y() * self.size_px / side)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._value = self.ink if event.button() == Qt.MouseButton.LeftButton else self.paper
        point = self._last = self._canvas_point(event)
        self.paint_at(point.x(), point.y(), self._value)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._value is not None:
            point, last = self._canvas_point(event), self._last
            self.paint_at(point.x(), point.y(), self._value, (last.x(), last.y()) if last is not None else None)
            self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._value is not None:
            self._value, self._last = None, None
            self.changed.emit()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        side = min(self.width(), self.height())
        image = QImage(self.pixels.data, self.size_px, self.size_px, self.size_px, QImage.Format.Format_Grayscale8)
        painter = QPainter(self)
        painter.drawImage(self.rect().adjusted(0, 0, side - self.width(), side - self.height()), image)
        painter.setPen(Qt.GlobalColor.darkGray)
        painter.drawRect(0, 0, side - 1, side - 1)
        painter.end()


def canvas_buttons(canvas: PaintCanvas, action: str, tooltip: str, emit) -> tuple[QHBoxLayout, QPushButton]:
    """'Clear' and an action button under a canvas; the action calls `emit(pixels)` with a copy of the picture."""
    row = QHBoxLayout()
    clear = QPushButton("Clear")
    clear.clicked.connect(canvas.clear)
    button = QPushButton(action)
    button.setToolTip(tooltip)
    button.clicked.connect(lambda: emit(canvas.pixels.copy()))
    row.addWidget(clear)
    row.addWidget(button)
    return row, button
