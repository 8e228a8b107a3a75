"""Training curves: loss (log scale), PSNR in dB, IoU and accuracy in % (each plot shown when a run has its
metrics) and a chosen solver metric (residual, iterations, ms per step) against step or seconds, one colour per run.

Readable: log axes label decades only (and 1-2-5 when fewer than two decades show), so labels never overprint;
every axis is labelled; legends sit behind a toggle and the run list (with a visibility box per run) names the
colours; "Clear old runs" keeps the latest run only; the plots alone export as a 2× PNG or an SVG.

Every run since the app started keeps its curves (overlay), and so do runs reopened from disk (the session's
RunHistory holds the rows and exports them; this view only draws); rows arrive one at a
time from the controller and the plots redraw only what changed (one PlotDataItem per run and metric, clipped to
the view, peak-downsampled). While rows arrive the view ranges grow with headroom (x to 1.5× the data) instead of
auto-ranging on every point: a range change repaints the axes' text, the costly part of a plot's repaint. The
plot's own auto-range button ("A") hands the range back to pyqtgraph.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from app.run_history import drawable_row
from app.views.readable_axis import readable_axes
from engine.atomic_files import atomic_path
from engine.tasks.duel import split_row

REDRAW_MS = 250
"""Every this often one plot with new rows is redrawn (in turn): a plot's repaint costs ~10–20 ms of the GUI
thread (mostly axis text), so redrawing all three at once would stall the event loop for ~50 ms."""
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
PSNR = ["psnr_train", "psnr_test", "psnr_held_out", "snr_train", "snr_test"]
PERCENT_METRICS = ["iou_uniform", "iou_near", "accuracy_clean", "accuracy_test", "accuracy_query"]
SOLVER_CHOICES = {"residual": ("Solver residual", ["solver_residual", "eval_residual"], True),
                  "iterations": ("Solver iterations", ["solver_iters", "eval_iters", "adjoint_iters"], False),
                  "ms": ("ms per step", ["ms_per_step"], False),
                  "memory": ("MB per step", ["memory_mb"], False),
                  "inner": ("Inner solve, ms per task", ["inner_ms_per_task"], False)}
PERCENT = set(PERCENT_METRICS)
"""Quality metrics in [0, 1] drawn as percentages."""
PANELS = {"loss": ("Loss", ["loss", "inner_loss"], True), "psnr": ("PSNR (dB)", PSNR, False),
          "percent": ("IoU · accuracy (%)", PERCENT_METRICS, False), "solver": SOLVER_CHOICES["residual"]}
LINE_NAMES = {"psnr_train": "PSNR, trained pixels", "psnr_test": "PSNR, held-out pixels",
              "psnr_held_out": "PSNR, held-out pixels", "snr_train": "SNR, trained samples",
              "snr_test": "SNR, held-out samples", "inner_loss": "loss of the inner solve",
              "iou_uniform": "IoU, points anywhere", "iou_near": "IoU, points near the surface",
              "accuracy_clean": "accuracy", "accuracy_test": "accuracy, unseen", "accuracy_query": "accuracy, queries",
              "solver_residual": "solver residual", "eval_residual": "residual at evaluation",
              "solver_iters": "solver iterations", "eval_iters": "iterations at evaluation",
              "adjoint_iters": "backward iterations", "ms_per_step": "ms per step", "memory_mb": "MB per step",
              "inner_ms_per_task": "inner solve, ms per task"}
"""What a line is called in a legend (after its run's name)."""
UNITS = {"loss": "loss", "psnr": "dB", "percent": "%"}
"""The left axis label of each plot (the solver plot's is its metric's)."""
OPTIONAL = ("psnr", "percent")
"""Plots shown only when a run has their metrics (before any row: the one the task kind is scored in)."""


@dataclasses.dataclass(frozen=True)
class Extent:
    """A line's x range and finite y range, also in log10 over its positive values (None where there are none),
    computed once when the line is drawn."""

    x: tuple[float, float]
    y: tuple[float | None, float | None]
    log_y: tuple[float | None, float | None]

    @staticmethod
    def of(xs, ys) -> Extent:
        finite = [y for y in ys if math.isfinite(y)]
        positive = [math.log10(y) for y in finite if y > 0]
        return Extent((min(xs), max(xs)), (min(finite, default=None), max(finite, default=None)),
                      (min(positive, default=None), max(positive, default=None)))


class CurvesView(QWidget):
    """Loss, quality and solver plots; `add_run(name)` starts a new overlaid run, `add_row(row)` extends the current
    one."""

    old_runs_cleared = Signal()
    """Every run but the latest was taken out of the plots."""

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
        self.log_box.toggled.connect(self._set_log_loss)
        self.ema_box = QDoubleSpinBox()
        self.ema_box.setRange(0.0, 0.99)
        self.ema_box.setSingleStep(0.1)
        self.ema_box.setToolTip("Exponential moving average of every curve (0 = raw values)")
        self.ema_box.valueChanged.connect(lambda value: self.set_smoothing(value))
        self.solver_box = QComboBox()
        self.solver_box.addItem("Solver chart: off", None)
        for key, (title, _, _) in SOLVER_CHOICES.items():
            self.solver_box.addItem(title, key)
        self.solver_box.setToolTip("A chart of how the solver works (for the curious): its residual, iterations, "
                                   "time or memory per step")
        self.solver_box.currentIndexChanged.connect(lambda _: self.set_solver_metric(self.solver_box.currentData()))
        self.legend_box = QCheckBox("legends")
        self.legend_box.setToolTip("Legends inside the plots (the run list names the colours)")
        self.legend_box.toggled.connect(self.show_legends)
        self.clear_button = QPushButton("Clear old runs")
        self.clear_button.setToolTip("Keep the latest run only (in the plots and in the exported metrics)")
        self.clear_button.clicked.connect(self.clear_old_runs)
        self.dashed = QLabel("Solid: what training sees. Dashed: held-out pixels, points near a shape, an inner "
                             "loss.")
        self.dashed.setWordWrap(True)
        self.dashed.setMaximumWidth(170)
        self.dashed.setToolTip("Solid lines are what training sees; dashed ones the pixels or samples it never "
                               "saw (PSNR), points near a shape's surface (IoU), a few-shot task's inner loss, or "
                               "the solver's residual when an evaluation solves from zero")
        for widget in (self.x_box, self.log_box, QLabel("smoothing"), self.ema_box, self.solver_box,
                       self.legend_box, self.clear_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        outer.addLayout(controls)
        body = QHBoxLayout()
        outer.addLayout(body, 1)
        self.run_list = QListWidget()
        self.run_list.setMaximumWidth(170)
        self.run_list.setToolTip("Runs: untick one to hide its curves")
        self.run_list.itemChanged.connect(self._run_visibility_changed)
        runs = QVBoxLayout()
        runs.addWidget(self.run_list, 1)
        runs.addWidget(self.dashed)
        body.addLayout(runs)
        self.plot_area = QWidget()
        """The plots alone (what the exports draw)."""
        layout = QHBoxLayout(self.plot_area)
        layout.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.plot_area, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.widgets: dict[str, pg.PlotWidget] = {}
        self.legends: dict[str, pg.LegendItem] = {}
        for key, (title, _, log_y) in PANELS.items():
            widget = pg.PlotWidget(title=title, axisItems=readable_axes())
            widget.setLogMode(y=log_y)
            widget.showGrid(x=True, y=True, alpha=0.2)
            self.legends[key] = widget.addLegend(offset=(-5, 5))
            self.legends[key].setVisible(False)
            widget.getPlotItem().getViewBox().disableAutoRange()
            widget.setLabel("left", UNITS.get(key, title))
            widget.setLabel("bottom", "step")
            layout.addWidget(widget)
            self.widgets[key] = widget
            self.plots[key] = widget.getPlotItem()
        self.panels = dict(PANELS)
        self.widgets["solver"].setVisible(False)  # until a solver chart is chosen
        self.expected = "psnr"
        """The optional plot shown while no run has a quality metric (the task kind's `scored_in`)."""
        self._runs_made = self._groups = 0
        self.runs: list[dict] = []
        self._show_optional_plots()
        self.x_key = "step"
        self.smoothing = 0.0
        self._dirty: set[tuple[int, str]] = set()  # (run index, panel) with rows not drawn yet
        self._turn = 0
        self._redraw = QTimer(self)  # rows may arrive faster than a plot needs redrawing
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.flush_next)
        self._redraw.start()

    def add_run(self, name: str, group: int | None = None) -> None:
        """A new run: its rows get their own coloured lines, earlier runs stay as they were. The sides of a duel
        are runs of one `group` (cleared together)."""
        color = PALETTE[self._runs_made % len(PALETTE)]
        self._runs_made += 1
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setForeground(QColor(color))
        self.run_list.addItem(item)
        if group is None:
            group = self._groups = self._groups + 1
        self.runs.append({"name": name, "rows": [], "lines": {}, "color": color, "item": item, "visible": True,
                          "group": group, "side": None, "base": name})
        self._show_optional_plots()

    def _side_run(self, side: str) -> int:
        """The index of the latest run's line of one side of a duel (the run itself becomes its first side)."""
        last = self.runs[-1]
        for index, run in enumerate(self.runs):
            if run["group"] == last["group"] and run["side"] == side:
                return index
        if last["side"] is None and not last["rows"]:
            last["side"], last["name"] = side, f"{last['base']} · {side}"
            last["item"].setText(last["name"])
        else:
            self.add_run(f"{last['base']} · {side}", group=last["group"])
            self.runs[-1]["side"] = side
        return len(self.runs) - 1

    def show_legends(self, on: bool) -> None:
        for legend in self.legends.values():
            legend.setVisible(on)

    def clear_old_runs(self) -> None:
        """Keep the latest run only; `old_runs_cleared` tells the owner of the rows."""
        latest = self.runs[-1]["group"]
        old, self.runs = [r for r in self.runs if r["group"] != latest], [r for r in self.runs if r["group"] == latest]
        for run in old:
            for line in run["lines"].values():
                for plot in self.plots.values():
                    if line.getViewBox() is plot.getViewBox():
                        plot.removeItem(line)
            self.run_list.takeItem(self.run_list.row(run["item"]))
        self._dirty = {(index - len(old), panel) for index, panel in self._dirty if index >= len(old)}
        self._show_optional_plots()
        self.redraw_all()
        self.old_runs_cleared.emit()

    def _run_visibility_changed(self, item: QListWidgetItem) -> None:
        for run in self.runs:
            if run["item"] is item:
                run["visible"] = item.checkState() == Qt.CheckState.Checked
                for line in run["lines"].values():
                    line.setVisible(run["visible"])
        for panel in self.panels:
            self._fit_view(panel, reset=True)

    def expect(self, panel: str) -> None:
        """Keep `panel` ("psnr" or "percent") in view until a run has a quality metric."""
        self.expected = panel if panel in OPTIONAL else "psnr"
        self._show_optional_plots()

    def _show_optional_plots(self) -> None:
        """Each optional plot when a run has its metrics; while none has any, the expected one."""
        has = {panel: any(metric in run["lines"] for run in self.runs for metric in self.panels[panel][1])
               for panel in OPTIONAL}
        for panel in OPTIONAL:
            self.widgets[panel].setVisible(has[panel] or (not any(has.values()) and panel == self.expected))

    def add_row(self, row: dict) -> None:
        """A row of the latest run; a duel's row (`<network>/<metric>` keys) extends each side's own lines. Only its
        numbers are kept, and a row without a step the x axis can place is dropped (app/session.py `drawable_row`)."""
        row = drawable_row(row)
        if row is None:
            return
        if not self.runs:
            self.add_run("run 1")
        sides = split_row(row)
        for index, part in ([(self._side_run(side), part) for side, part in sides.items()] if sides
                            else [(len(self.runs) - 1, row)]):
            self.runs[index]["rows"].append(part)
            self._dirty.update((index, panel) for panel, (_, metrics, _) in self.panels.items()
                               if any(metric in part for metric in metrics))

    def flush(self) -> None:
        """Redraw every plot that received rows since its last redraw."""
        for index, panel in sorted(self._dirty):
            self._draw(index, panel)
        for panel in {panel for _, panel in self._dirty}:
            self._fit_view(panel)
        self._dirty.clear()

    def flush_next(self) -> None:
        """Redraw the next plot (in turn) that received rows since its last redraw."""
        names = list(self.panels)
        for offset in range(len(names)):
            panel = names[(self._turn + offset) % len(names)]
            pending = sorted(key for key in self._dirty if key[1] == panel)
            if pending:
                for index, _ in pending:
                    self._draw(index, panel)
                self._fit_view(panel)
                self._dirty.difference_update(pending)
                self._turn = (self._turn + offset + 1) % len(names)
                return

    def set_x(self, key: str) -> None:
        """x axis: 'step' or 'time_s'."""
        self.x_key = key
        for widget in self.widgets.values():
            widget.setLabel("bottom", "step" if key == "step" else "seconds")
        self.redraw_all()

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 1): y_t = w·y_(t−1) + (1 − w)·value_t."""
        self.smoothing = weight
        self.redraw_all()

    def _set_log_loss(self, on: bool) -> None:
        self.plots["loss"].setLogMode(y=on)
        self._fit_view("loss", reset=True)

    def redraw_all(self) -> None:
        """Every line of every run, and every view range fitted afresh."""
        for i in range(len(self.runs)):
            self._draw(i)
        for panel in self.panels:
            self._fit_view(panel, reset=True)
        self._dirty.clear()

    def _fit_view(self, panel: str, reset: bool = False) -> None:
        """Grow the panel's view range to show all its lines (with headroom), or fit it exactly with `reset`;
        left alone while the user has auto-range on."""
        plot = self.plots[panel]
        box = plot.getViewBox()
        if any(box.autoRangeEnabled()):
            return
        log_y = plot.getAxis("left").logMode
        extents = [run["extents"][metric] for run in self.runs for metric in self.panels[panel][1]
                   if metric in run.get("extents", {}) and run["visible"]]
        ys = [y for extent in extents for y in (extent.log_y if log_y else extent.y) if y is not None]
        if not extents or not ys:
            return
        x0, x1 = min(e.x[0] for e in extents), max(e.x[1] for e in extents)
        y0, y1 = min(ys), max(ys)
        (vx0, vx1), (vy0, vy1) = box.viewRange()
        span = max(y1 - y0, 0.1 if log_y else 1e-9 + 1e-3 * abs(y1))
        if reset or x0 < vx0 or x1 > vx1:
            box.setXRange(x0, x0 + 1.5 * max(x1 - x0, 1e-9), padding=0)
        if reset:
            box.setYRange(y0 - 0.05 * span, y1 + 0.05 * span, padding=0)
        elif y0 < vy0 or y1 > vy1:  # grow by half the span on the side that overflowed
            box.setYRange(min(vy0, y0 - 0.5 * span) if y0 < vy0 else vy0,
                          max(vy1, y1 + 0.5 * span) if y1 > vy1 else vy1, padding=0)

    def set_solver_metric(self, key: str | None) -> None:
        """The right-hand plot: 'residual', 'iterations', 'ms', 'memory' or 'inner'; None hides it."""
        self.widgets["solver"].setVisible(key is not None)
        if key is None:
            return
        title, metrics, log_y = SOLVER_CHOICES[key]
        self.panels["solver"] = (title, metrics, log_y)
        plot = self.plots["solver"]
        for run in self.runs:
            for metric in [m for m in run["lines"] if run["lines"][m].getViewBox() is plot.getViewBox()]:
                plot.removeItem(run["lines"].pop(metric))
        plot.setTitle(title)
        plot.setLabel("left", title)
        plot.setLogMode(y=log_y)
        for i in range(len(self.runs)):
            self._draw(i, "solver")
        self._fit_view("solver", reset=True)

    def _draw(self, index: int, only: str | None = None) -> None:
        run = self.runs[index]
        color = run["color"]
        new_lines = False
        for panel, (_, metrics, _) in self.panels.items():
            if only is not None and panel != only:
                continue
            for j, metric in enumerate(metrics):
                points = [(r[self.x_key], r[metric]) for r in run["rows"] if metric in r and self.x_key in r]
                if not points:
                    continue
                xs, ys = zip(*points)
                ys = ema([100 * y for y in ys] if metric in PERCENT else ys, self.smoothing)
                line = run["lines"].get(metric)
                if line is None:
                    style = pg.mkPen(color, width=2, style=[pg.QtCore.Qt.PenStyle.SolidLine,
                                                            pg.QtCore.Qt.PenStyle.DashLine,
                                                            pg.QtCore.Qt.PenStyle.DotLine][j % 3])
                    unit = " (%)" if metric in PERCENT else ""
                    label = LINE_NAMES.get(metric, metric.replace("_", " "))
                    line = self.plots[panel].plot(name=f"{run['name']}: {label}{unit}", pen=style)
                    line.setClipToView(True)
                    line.setDownsampling(auto=True, method="peak")
                    line.setVisible(run["visible"])
                    run["lines"][metric] = line
                    new_lines = True
                line.setData(list(xs), list(ys))
                run.setdefault("extents", {})[metric] = Extent.of(xs, ys)
        if new_lines:
            self._show_optional_plots()

    def export_image(self, path: str | Path, scale: float = 2.0) -> Path:
        """The plots alone (no controls, no run list): an SVG for an .svg path, else a PNG at `scale`× the screen's
        resolution; OSError saying why when it cannot be written."""
        self.flush()
        path = Path(path)
        if not path.parent.is_dir():
            raise OSError(f"{path.parent} is not a folder")
        shown = self.legend_box.isChecked()
        self.show_legends(True)  # a picture on its own names its lines
        try:
            return self._render_to(path, scale)
        finally:
            self.show_legends(shown)

    def _render_to(self, path: Path, scale: float) -> Path:
        area = self.plot_area
        if path.suffix.lower() == ".svg":
            from PySide6.QtCore import QRect
            from PySide6.QtSvg import QSvgGenerator

            with atomic_path(path) as temporary:
                generator = QSvgGenerator()
                generator.setFileName(str(temporary))
                generator.setSize(area.size())
                generator.setViewBox(QRect(0, 0, area.width(), area.height()))
                generator.setTitle("DEQ Studio curves")
                painter = QPainter(generator)
                area.render(painter, QPoint(0, 0))
                painter.end()
        else:
            image = QImage(int(area.width() * scale), int(area.height() * scale), QImage.Format.Format_RGB32)
            image.fill(QColor("black"))
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.scale(scale, scale)
            area.render(painter, QPoint(0, 0))
            painter.end()
            with atomic_path(path) as temporary:
                if not image.save(str(temporary), "PNG"):
                    raise OSError(f"could not write {path.name} as PNG")
        if not path.is_file() or path.stat().st_size == 0:
            raise OSError(f"could not write {path}")
        return path



def ema(values, weight: float) -> list[float]:
    """Exponential moving average (bias-corrected from the first value)."""
    if weight <= 0:
        return list(values)
    out, current = [], None
    for value in values:
        current = value if current is None else weight * current + (1 - weight) * value
        out.append(current)
    return out
