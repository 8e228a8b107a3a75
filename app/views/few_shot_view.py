"""The few-shot view: a task's examples and its queries (green when classified right, red when wrong), the accuracy
on characters never trained on; beside them, a new unseen task on request and canvases to draw one example of each
class and a query to classify.

Fed by the meta-training task's snapshots (uint8 grids `support` and `query`, the scalars `accuracy_test` and
`accuracy_test_ci95`). The controls only emit what the user asked for (`new_task`, `classify`); the window adapts
the model and shows the result (`show_task`, `show_guess`).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.paint_canvas import PaintCanvas
from app.views.race_view import ImagePanel, show_previews
from app.views.registry import register_view


EXAMPLE_SIDE, QUERY_SIDE = 84, 168
"""The canvases' largest sides, in pixels: 3 and 6 screen pixels per drawing pixel."""


class FewShotControls(QGroupBox):
    """A button for a new unseen task; one canvas per class for an example, one for the query, and Classify."""

    new_task = Signal()
    classify = Signal(object, object)
    """(examples (N, 28, 28) uint8, query (28, 28) uint8)."""

    def __init__(self, ways: int = 5, parent: QWidget | None = None) -> None:
        super().__init__("Try it", parent)
        layout = QVBoxLayout(self)
        self.new_button = QPushButton("New unseen task")
        self.new_button.setToolTip("Draw a task from characters the network never trained on, adapt to its examples "
                                   "with JIIO and classify its queries")
        self.new_button.clicked.connect(self.new_task)
        layout.addWidget(self.new_button)
        layout.addWidget(QLabel("Or draw one example of each class (left: draw, right: erase):"))
        self.examples_row = QHBoxLayout()
        layout.addLayout(self.examples_row)
        self.examples: list[PaintCanvas] = []
        self._cells: list[QWidget] = []
        self.set_ways(ways)
        layout.addWidget(QLabel("…and a drawing to classify:"))
        self.query = PaintCanvas(28, ink=255, paper=0, radius=1.3)
        self.query.setMaximumSize(QUERY_SIDE, QUERY_SIDE)
        layout.addWidget(self.query, 1, Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        self.classify_button = QPushButton("Classify")
        self.classify_button.setToolTip("Adapt the network to your examples with JIIO, then classify your drawing")
        self.classify_button.clicked.connect(self.emit_classify)
        clear = QPushButton("Clear all")
        clear.clicked.connect(self.clear_drawings)
        buttons.addWidget(self.classify_button)
        buttons.addWidget(clear)
        layout.addLayout(buttons)
        self.guess = QLabel("The network's guess appears here.")
        self.guess.setWordWrap(True)
        layout.addWidget(self.guess)

    def set_ways(self, ways: int) -> None:
        """One example canvas per class."""
        if len(self.examples) == ways:
            return
        for cell in self._cells:
            self.examples_row.removeWidget(cell)
            cell.deleteLater()
        self.examples = [PaintCanvas(28, ink=255, paper=0, radius=1.3) for _ in range(ways)]
        self._cells = []
        for number, canvas in enumerate(self.examples, 1):  # numbered as the guess names them
            canvas.setToolTip(f"class {number}")
            canvas.setMaximumSize(EXAMPLE_SIDE, EXAMPLE_SIDE)
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"class {number}"), 0, Qt.AlignmentFlag.AlignHCenter)
            column.addWidget(canvas)
            self._cells.append(cell)
            self.examples_row.addWidget(cell)

    def clear_drawings(self) -> None:
        for canvas in [*self.examples, self.query]:
            canvas.clear()
        self.guess.setText("The network's guess appears here.")

    def emit_classify(self) -> None:
        self.classify.emit(np.stack([canvas.pixels.copy() for canvas in self.examples]), self.query.pixels.copy())


def guess_text(probabilities: np.ndarray) -> str:
    """'class 3 (81 %) · class 1 (12 %)': the two most probable classes, numbered from 1 as the canvases."""
    order = np.argsort(probabilities)[::-1][:2]
    return " · ".join(f"class {int(k) + 1} ({probabilities[k]:.0%})" for k in order)


@register_view("few-shot")
class FewShotView(QWidget):
    """Examples | queries, the held-out accuracy under them; the controls beside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.panels = {"support": ImagePanel("A task's examples, one per class"),
                       "query": ImagePanel("Its queries by class: green right, red wrong")}
        layout.addWidget(self.panels["support"], 0, 0)
        layout.addWidget(self.panels["query"], 1, 0)
        self.accuracy = QLabel("Accuracy on unseen characters appears after the first check.")
        self.accuracy.setWordWrap(True)
        layout.addWidget(self.accuracy, 2, 0)
        self.controls = FewShotControls()
        layout.addWidget(self.controls, 0, 1, 3, 1)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 2)
        layout.setRowStretch(0, 1)  # the examples' row is one drawing high: the queries take the most room
        layout.setRowStretch(1, 3)
        self.hint_anchor = self.panels["query"]
        """Where the window's start hint goes (results appear there; the controls stay free)."""
        self.results_shown = False
        """Whether a task sampled on request is shown (the start hint then stays away from it)."""

    def clear(self) -> None:
        for panel in self.panels.values():
            panel.reset()
        self.results_shown = False

    def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
        show_previews(self.panels, previews)
        if "accuracy_test" in scalars:
            self.accuracy.setText(f"Accuracy on unseen characters: {100 * scalars['accuracy_test']:.1f} % "
                                  f"± {100 * scalars.get('accuracy_test_ci95', 0.0):.1f} % (95 %), "
                                  f"at step {int(scalars.get('step', 0))}; chance is "
                                  f"{100 / max(len(self.controls.examples), 1):.0f} %.")

    def show_task(self, previews: dict, accuracy: float) -> None:
        """A task adapted on request: its examples and queries, and how many queries were right."""
        self.show_snapshot(previews, {})
        self.results_shown = True
        self.panels["query"].title.setText(f"Its queries by class: {accuracy:.0%} right (green), wrong in red")

    def show_guess(self, probabilities: np.ndarray) -> None:
        self.controls.guess.setText(f"The network says: {guess_text(probabilities)}")
