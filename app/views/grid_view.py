"""The training-grid view: every image grid a training task previews (generative prior, classifier training).

Each uint8 picture in a snapshot ((H, W), (H, W, 1) or (H, W, 3)) gets its own titled panel, made the first time it
arrives: the prior shows its latest batch's reconstructions, held-out reconstructions and samples; the classifier
its latest (possibly adversarial) batch.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QWidget

from app.views.race_view import ImagePanel
from app.views.registry import register_view

TITLES = {"reconstructions": "Training batch (decoded below)", "held_out": "Held out (decoded below)",
          "samples": "Samples of the prior", "batch": "Training batch", "support": "A task's examples, one per class",
          "query": "Its queries by class: green right, red wrong"}
"""Short enough for one line in a third of a 1024-pixel window."""
COLUMNS = 3


@register_view("grid")
class GridView(QWidget):
    """Panels of image grids, one per preview key."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.panels: dict[str, ImagePanel] = {}

    def clear(self) -> None:
        for panel in self.panels.values():
            self.grid.removeWidget(panel)
            panel.hide()  # gone at once, not when the event loop next deletes it
            panel.deleteLater()
        self.panels.clear()

    def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
        for key, value in previews.items():
            if not (isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim in (2, 3)):
                continue
            if value.ndim == 3:
                if value.shape[2] not in (1, 3):
                    continue
                value = value[:, :, 0] if value.shape[2] == 1 else value
            if key not in self.panels:
                panel = ImagePanel(TITLES.get(key, key.replace("_", " ").capitalize()))
                n = len(self.panels)
                self.grid.addWidget(panel, n // COLUMNS, n % COLUMNS)
                self.panels[key] = panel
            self.panels[key].set_image(value)
