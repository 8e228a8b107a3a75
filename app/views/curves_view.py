"""Training curves: loss (log scale) and PSNR against step or seconds, one line per run, with a legend.

Every run since the app started keeps its curves (overlay); rows arrive one at a time from the controller and the
plots redraw only what changed (one PlotDataItem per run and metric, clipped to the view, peak-downsampled).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
PANELS = {"loss": ("Loss", ["loss"], True), "psnr": ("PSNR (dB)", ["psnr_train", "psnr_test", "eval_psnr_train"],
                                                     False)}


class CurvesView(QWidget):
    """Loss and PSNR plots; `add_run(name)` starts a new overlaid run, `add_row(row)` extends the current one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        self.x_box = QComboBox()
        self.x_box.addItem("x: step", "step")
        self.x_box.addItem("x: seconds", "time_s")
        self.x_box.currentIndexChanged.connect(lambda _: self.set_x(self.x_box.currentData()))
        self.log_box = QCheckBox("log loss")
        self.log_box.setChecked(True)
        self.log_box.toggled.connect(lambda on: self.plots["loss"].setLogMode(y=on))
        self.ema_box = QDoubleSpinBox()
        self.ema_box.setRange(0.0, 0.99)
        self.ema_box.setSingleStep(0.1)
        self.ema_box.setToolTip("Exponential moving average of every curve (0 = raw values)")
        self.ema_box.valueChanged.connect(lambda value: self.set_smoothing(value))
        for widget in (self.x_box, self.log_box, QLabel("smoothing"), self.ema_box):
            controls.addWidget(widget)
        controls.addStretch(1)
        outer.addLayout(controls)
        layout = QHBoxLayout()
        outer.addLayout(layout, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.widgets = []
        for key, (title, _, log_y) in PANELS.items():
            widget = pg.PlotWidget(title=title)
            widget.setLogMode(y=log_y)
            widget.showGrid(x=True, y=True, alpha=0.2)
            widget.addLegend(offset=(-5, 5))
            layout.addWidget(widget)
            self.widgets.append(widget)
            self.plots[key] = widget.getPlotItem()
        self.x_key = "step"
        self.smoothing = 0.0
        self.runs: list[dict] = []
        self._dirty: set[int] = set()
        self._redraw = QTimer(self)  # rows may arrive faster than a plot needs redrawing
        self._redraw.setInterval(150)
        self._redraw.timeout.connect(self.flush)
        self._redraw.start()

    def add_run(self, name: str) -> None:
        """A new run: its rows get their own coloured lines, earlier runs stay as they were."""
        self.runs.append({"name": name, "rows": [], "lines": {}})

    def add_row(self, row: dict) -> None:
        if not self.runs:
            self.add_run("run 1")
        self.runs[-1]["rows"].append(row)
        self._dirty.add(len(self.runs) - 1)

    def flush(self) -> None:
        """Redraw the runs that received rows since the last redraw."""
        for index in sorted(self._dirty):
            self._draw(index)
        self._dirty.clear()

    def set_x(self, key: str) -> None:
        """x axis: 'step' or 'time_s'."""
        self.x_key = key
        for i in range(len(self.runs)):
            self._draw(i)

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 1): y_t = w·y_(t−1) + (1 − w)·value_t."""
        self.smoothing = weight
        for i in range(len(self.runs)):
            self._draw(i)

    def _draw(self, index: int) -> None:
        run = self.runs[index]
        color = PALETTE[index % len(PALETTE)]
        for panel, (_, metrics, _) in PANELS.items():
            for j, metric in enumerate(metrics):
                points = [(r[self.x_key], r[metric]) for r in run["rows"] if metric in r and self.x_key in r]
                if not points:
                    continue
                xs, ys = zip(*points)
                ys = ema(ys, self.smoothing)
                line = run["lines"].get(metric)
                if line is None:
                    style = pg.mkPen(color, width=2, style=[pg.QtCore.Qt.PenStyle.SolidLine,
                                                            pg.QtCore.Qt.PenStyle.DashLine,
                                                            pg.QtCore.Qt.PenStyle.DotLine][j % 3])
                    line = self.plots[panel].plot(name=f"{run['name']} {metric}", pen=style)
                    line.setClipToView(True)
                    line.setDownsampling(auto=True, method="peak")
                    run["lines"][metric] = line
                line.setData(list(xs), list(ys))

    def export_png(self, path: str | Path) -> Path:
        """Both plots as one picture."""
        self.flush()
        if not self.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        return Path(path)

    def export_csv(self, path: str | Path) -> Path:
        """Every run's rows, one line per row, with a run column."""
        keys = sorted({k for run in self.runs for row in run["rows"] for k in row})
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["run", *keys])
            for run in self.runs:
                for row in run["rows"]:
                    writer.writerow([run["name"], *(row.get(k, "") for k in keys)])
        return Path(path)


def ema(values, weight: float) -> list[float]:
    """Exponential moving average (bias-corrected from the first value)."""
    if weight <= 0:
        return list(values)
    out, current = [], None
    for value in values:
        current = value if current is None else weight * current + (1 - weight) * value
        out.append(current)
    return out
