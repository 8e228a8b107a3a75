"""A labelled slider over a float range: the JIIO views' noise σ and attack ε.

The slider holds integers (value / step); `value_changed` carries the float when the user moves it, and
`show_value` moves it to a value from the settings without emitting.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSlider, QVBoxLayout, QWidget


class ValueSlider(QWidget):
    """'<label> = value' above a horizontal slider from `low` to `high` in steps of `step`."""

    value_changed = Signal(float)

    def __init__(self, text: str, low: float, high: float, step: float, value: float, tooltip: str = "",
                 digits: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text, self.step, self.digits = text, step, digits
        self.label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(low / step), round(high / step))
        self.slider.setToolTip(tooltip)
        self.slider.valueChanged.connect(self._moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.slider)
        self.show_value(value)

    @property
    def value(self) -> float:
        return round(self.slider.value() * self.step, 10)

    def set_value(self, value: float) -> None:
        """Move the slider as a user would (emits when the value changes)."""
        self.slider.setValue(round(value / self.step))

    def show_value(self, value: float) -> None:
        """Move the slider to `value` without emitting."""
        self.slider.blockSignals(True)
        self.slider.setValue(round(value / self.step))
        self.slider.blockSignals(False)
        self._label()

    def _label(self) -> None:
        self.label.setText(self.text.format(self.value, digits=self.digits))

    def _moved(self, _: int) -> None:
        self._label()
        self.value_changed.emit(self.value)
