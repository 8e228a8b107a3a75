"""Curves: one line per run and metric, overlays kept, x axis and smoothing switchable, PNG export."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.views.curves_view import CurvesView, ema  # noqa: E402


def test_runs_overlay_and_export(qtbot, tmp_path) -> None:
    view = CurvesView()
    qtbot.addWidget(view)
    view.add_run("a")
    for step in range(1, 6):
        view.add_row({"step": step, "time_s": step * 0.5, "loss": 1.0 / step, "psnr_train": 10.0 + step})
    view.add_run("b")
    view.add_row({"step": 1, "time_s": 0.1, "loss": 0.5})
    view.flush()
    assert len(view.runs) == 2 and set(view.runs[0]["lines"]) == {"loss", "psnr_train"}
    view.set_x("time_s")
    x, _ = view.runs[0]["lines"]["loss"].getData()
    assert list(x) == [0.5, 1.0, 1.5, 2.0, 2.5]
    view.set_smoothing(0.5)
    _, y = view.runs[0]["lines"]["psnr_train"].getData()
    assert y[1] == pytest.approx(11.5)
    assert view.export_png(tmp_path / "curves.png").stat().st_size > 1000


def test_ema_is_the_identity_without_smoothing() -> None:
    assert ema([1.0, 3.0], 0.0) == [1.0, 3.0] and ema([1.0, 3.0], 0.5) == [1.0, 2.0]


def test_timer_redraws_one_plot_per_tick_and_keeps_the_data_in_view(qtbot, tmp_path) -> None:
    import math

    view = CurvesView()
    qtbot.addWidget(view)
    view._redraw.stop()  # driven by hand below
    view.add_run("a")
    for step in range(1, 41):
        view.add_row({"step": step, "time_s": step * 0.1, "loss": 10.0 ** (-step / 10), "psnr_train": 10.0 + step,
                      "solver_residual": 1e-3, "solver_iters": 5.0, "ms_per_step": 30.0})
    view.flush_next()
    assert len(view._dirty) == 2  # one plot redrawn per tick
    view.flush_next()
    view.flush_next()
    assert not view._dirty
    (x0, x1), (y0, y1) = view.plots["loss"].getViewBox().viewRange()
    assert x0 <= 1 and x1 >= 40 and y0 <= math.log10(1e-4) and y1 >= math.log10(0.8)  # log axis
    (_, _), (q0, q1) = view.plots["quality"].getViewBox().viewRange()
    assert q0 <= 11 and q1 >= 50
    view.add_row({"step": 80, "time_s": 8.0, "loss": 1e-6, "psnr_train": 90.0})
    view.flush()
    (x0, x1), (y0, _) = view.plots["loss"].getViewBox().viewRange()
    assert x1 >= 80 and y0 <= -6  # grown to show the new point
    view.solver_box.setCurrentIndex(view.solver_box.findData("iterations"))
    assert "solver_iters" in view.runs[0]["lines"] and "solver_residual" not in view.runs[0]["lines"]
    assert len(view.runs[0]["rows"]) == 41
