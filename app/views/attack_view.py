"""The attack view: clean digits, each attack's adversarial digits and perturbations, predictions and success;
beside them an ε slider and a canvas to draw a digit, classified as it is drawn and attackable on its own.

Fed by the attack task's snapshots: uint8 grids `clean`, `jio`, `pgd`, `perturbation_jio`, `perturbation_pgd`,
class probabilities `probabilities_*` (n, classes) and `labels`; success rates and times come from the scalars.
The controls only emit what the user chose (`epsilon_changed`, `digit_drawn`, `attack_digit`); the window
classifies and runs.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.views.paint_canvas import PaintCanvas, canvas_buttons
from app.views.race_view import METHOD_NAMES, ImagePanel
from app.views.registry import register_view
from app.views.value_slider import ValueSlider

PERTURBATION_COLOURS = {"colour_map": "CET-D1", "colour_bar": (-1.0, 1.0, "δ / ε")}
"""Signed perturbations on a diverging map: blue darkens a pixel, red brightens it, white leaves it. The bar spans
the largest change shown (a snapshot's `perturbation_range`, as a fraction of ε)."""


def prediction_text(probabilities: np.ndarray, labels: np.ndarray, count: int = 8) -> str:
    """'label→prediction (confidence)' for the first `count` digits, wrong predictions marked."""
    parts = []
    for p, label in zip(probabilities[:count], labels[:count]):
        guess = int(p.argmax())
        mark = "" if guess == int(label) else " ✗"
        parts.append(f"{int(label)}→{guess} ({p[guess]:.0%}){mark}")
    return "  ".join(parts)


def confidence_text(probabilities: np.ndarray, top: int = 3) -> str:
    """'7 (93%) · 1 (4%) · 9 (1%)': the most probable classes."""
    order = np.argsort(probabilities)[::-1][:top]
    return " · ".join(f"{int(k)} ({probabilities[k]:.0%})" for k in order)


class AttackControls(QGroupBox):
    """ε slider (L2 radius 0.1–3) and a digit canvas (draw white on black, as MNIST)."""

    epsilon_changed = Signal(float)
    digit_drawn = Signal(object)
    """uint8 (28, 28) after every stroke."""
    attack_digit = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Attack settings", parent)
        layout = QVBoxLayout(self)
        self.epsilon = ValueSlider("ε = {:.{digits}f} (L2)", 0.1, 3.0, 0.1, 1.0,
                                   "L2 radius of the perturbation, for both attacks", digits=1)
        self.epsilon.value_changed.connect(self.epsilon_changed)
        layout.addWidget(self.epsilon)
        layout.addWidget(QLabel("Draw a digit (left: draw, right: erase)"))
        self.canvas = PaintCanvas(28, ink=255, paper=0, radius=1.3)
        self.canvas.changed.connect(lambda: self.digit_drawn.emit(self.canvas.pixels.copy()))
        layout.addWidget(self.canvas, 1)
        self.prediction = QLabel("The classifier's guess appears here.")
        self.prediction.setWordWrap(True)
        layout.addWidget(self.prediction)
        buttons, self.attack_button = canvas_buttons(
            self.canvas, "Attack this digit", "Run JIO and PGD on the drawn digit, labelled with the classifier's "
            "guess", self.attack_digit.emit)
        layout.addLayout(buttons)


@register_view("attack")
class AttackView(QWidget):
    """Clean | JIO | PGD digits, perturbations below, predictions under each; the attack controls beside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.controls = AttackControls()
        layout.addWidget(self.controls, 0, 3, 3, 1)
        self.panels = {"clean": ImagePanel("Clean"), "jio": ImagePanel("JIO"), "pgd": ImagePanel("PGD"),
                       "perturbation_jio": ImagePanel("JIO perturbation", **PERTURBATION_COLOURS),
                       "perturbation_pgd": ImagePanel("PGD perturbation", **PERTURBATION_COLOURS)}
        layout.addWidget(self.panels["clean"], 0, 0)
        layout.addWidget(self.panels["jio"], 0, 1)
        layout.addWidget(self.panels["pgd"], 0, 2)
        layout.addWidget(self.panels["perturbation_jio"], 1, 1)
        layout.addWidget(self.panels["perturbation_pgd"], 1, 2)
        for column in range(3):
            layout.setColumnStretch(column, 2)
        layout.setColumnStretch(3, 1)
        layout.setRowStretch(0, 1)  # digits and perturbations share the height; the predictions take what they need
        layout.setRowStretch(1, 1)
        self.predictions = QLabel()
        self.predictions.setWordWrap(True)
        layout.addWidget(self.predictions, 2, 0, 1, 3)
        self.hint_anchor = self.predictions
        """Where the window's start hint goes: at the foot of the pictures, clear of the controls."""

    def clear(self) -> None:
        for panel in self.panels.values():
            panel.reset()
        self.predictions.clear()

    def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
        for key, panel in self.panels.items():
            if key in previews:
                panel.set_image(previews[key])
            if key.startswith("perturbation_") and "perturbation_range" in previews:
                panel.set_bar_range(-float(previews["perturbation_range"]), float(previews["perturbation_range"]))
        labels = previews.get("labels")
        lines = []
        for key in ("clean", "jio", "pgd"):
            probabilities = previews.get(f"probabilities_{key}")
            if probabilities is None or labels is None:
                continue
            name = METHOD_NAMES.get(key, "Clean")
            if f"success_{key}" in scalars:
                self.panels[key].title.setText(f"{name} — success {scalars[f'success_{key}']:.0%}, "
                                               f"{scalars[f'{key}_ms'] / 1000:.1f} s")
            lines.append(f"<b>{name}</b>: {prediction_text(probabilities, labels)}")
        self.predictions.setText("<br>".join(lines))
