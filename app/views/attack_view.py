"""The attack view: clean digits, each attack's adversarial digits and perturbations, predictions and success.

Fed by the attack task's snapshots: uint8 grids `clean`, `jio`, `pgd`, `perturbation_jio`, `perturbation_pgd`,
class probabilities `probabilities_*` (n, classes) and `labels`; success rates and times come from the scalars.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.views.race_view import METHOD_NAMES, ImagePanel


def prediction_text(probabilities: np.ndarray, labels: np.ndarray, count: int = 8) -> str:
    """'label→prediction (confidence)' for the first `count` digits, wrong predictions marked."""
    parts = []
    for p, label in zip(probabilities[:count], labels[:count]):
        guess = int(p.argmax())
        mark = "" if guess == int(label) else " ✗"
        parts.append(f"{int(label)}→{guess} ({p[guess]:.0%}){mark}")
    return "  ".join(parts)


class AttackView(QWidget):
    """Clean | JIO | PGD digits, perturbations below, predictions under each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.panels = {"clean": ImagePanel("Clean"), "jio": ImagePanel("JIO"), "pgd": ImagePanel("PGD"),
                       "perturbation_jio": ImagePanel("JIO perturbation"),
                       "perturbation_pgd": ImagePanel("PGD perturbation")}
        layout.addWidget(self.panels["clean"], 0, 0)
        layout.addWidget(self.panels["jio"], 0, 1)
        layout.addWidget(self.panels["pgd"], 0, 2)
        layout.addWidget(self.panels["perturbation_jio"], 1, 1)
        layout.addWidget(self.panels["perturbation_pgd"], 1, 2)
        self.predictions = QLabel()
        self.predictions.setWordWrap(True)
        layout.addWidget(self.predictions, 2, 0, 1, 3)

    def clear(self) -> None:
        for key in ("jio", "pgd", "perturbation_jio", "perturbation_pgd"):
            self.panels[key].item.clear()
        self.predictions.clear()

    def show_snapshot(self, previews: dict, scalars: dict) -> None:
        for key, panel in self.panels.items():
            if key in previews:
                panel.set_image(previews[key])
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
