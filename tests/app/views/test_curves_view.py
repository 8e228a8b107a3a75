"""Curves: one line per run and metric, overlays kept, x axis and smoothing switchable, PNG export."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.views.curves_view import CurvesView, ema  # noqa: E402


def test_runs_overlay_and_export(qtbot, tmp_path) -> None:
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
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
    png = view.export_image(tmp_path / "curves.png")
    from PySide6.QtGui import QImage

    picture = QImage(str(png))
    assert picture.width() == 2 * view.plot_area.width() and picture.height() == 2 * view.plot_area.height()
    svg = view.export_image(tmp_path / "curves.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Loss" in svg
    assert "b: loss" in svg and "a: PSNR, trained pixels" in svg  # a picture on its own has its legends
    assert not any(legend.isVisible() for legend in view.legends.values())  # the window's as they were


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
    (_, _), (q0, q1) = view.plots["psnr"].getViewBox().viewRange()
    assert q0 <= 11 and q1 >= 50
    view.add_row({"step": 80, "time_s": 8.0, "loss": 1e-6, "psnr_train": 90.0})
    view.flush()
    (x0, x1), (y0, _) = view.plots["loss"].getViewBox().viewRange()
    assert x1 >= 80 and y0 <= -6  # grown to show the new point
    view.solver_box.setCurrentIndex(view.solver_box.findData("iterations"))
    assert "solver_iters" in view.runs[0]["lines"] and "solver_residual" not in view.runs[0]["lines"]
    assert len(view.runs[0]["rows"]) == 41


def test_log_axes_label_decades_only_and_units_have_their_own_plots(qtbot) -> None:
    view = CurvesView()
    qtbot.addWidget(view)
    axis = view.plots["loss"].getAxis("left")
    axis.setRange(-4.0, 0.0)  # four decades: 1e-4 … 1
    values = [-4.0, -3.69897, -3.30103, -3.0, -1.0, -0.30103, 0.0]  # 1e-4, 2e-4, 5e-4, 1e-3, 0.1, 0.5, 1
    labels = axis.logTickStrings(values, 1.0, 1.0)
    assert [bool(t) for t in labels] == [True, False, False, True, True, False, True]
    axis.setRange(-1.0, 0.0)  # one decade: 1-2-5 labelled as well, 3, 4, 6, ... not
    labels = axis.logTickStrings([-1.0, -0.69897, -0.52288, -0.30103, 0.0], 1.0, 1.0)
    assert [bool(t) for t in labels] == [True, True, False, True, True]
    assert view.plots["psnr"].getAxis("left").labelText == "dB" and view.plots["loss"].getAxis("bottom").labelText
    view.add_run("fit")
    view.add_row({"step": 1, "time_s": 0.1, "loss": 0.5, "psnr_train": 12.0})
    view.flush()
    assert view.widgets["percent"].isHidden() and not view.widgets["psnr"].isHidden()
    view.add_run("mesh")
    view.add_row({"step": 1, "time_s": 0.1, "loss": 0.6, "iou_uniform": 0.5})
    view.flush()
    assert not view.widgets["percent"].isHidden() and "iou_uniform" in view.runs[1]["lines"]
    assert not any(legend.isVisible() for legend in view.legends.values())  # behind the toggle
    view.legend_box.setChecked(True)
    assert all(legend.isVisible() for legend in view.legends.values())


def test_runs_can_be_hidden_and_old_runs_cleared(qtbot) -> None:
    from PySide6.QtCore import Qt

    view = CurvesView()
    qtbot.addWidget(view)
    for name in ("a", "b", "c"):
        view.add_run(name)
        view.add_row({"step": 1, "time_s": 0.1, "loss": 0.5})
        view.add_row({"step": 2, "time_s": 0.2, "loss": 0.4})
    view.flush()
    assert view.run_list.count() == 3
    view.run_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not view.runs[0]["lines"]["loss"].isVisible() and view.runs[1]["lines"]["loss"].isVisible()
    colour = view.runs[2]["color"]
    with qtbot.waitSignal(view.old_runs_cleared):
        view.clear_old_runs()
    assert [run["name"] for run in view.runs] == ["c"] and view.run_list.count() == 1
    assert view.runs[0]["color"] == colour  # the kept run keeps its colour
    items = view.plots["loss"].listDataItems()
    assert len(items) == 1 and items[0] is view.runs[0]["lines"]["loss"]


def test_linear_labels_are_spaced_to_fit_a_narrow_plot() -> None:
    from app.views.readable_axis import CHAR_PX, LABEL_GAP_PX, readable_levels

    levels = readable_levels([(50.0, 0), (10.0, 0)], 0.0, 180.0, 100.0)  # "50100150" on a 100 px axis, before
    spacing = levels[0][0]
    assert spacing in (100.0, 200.0) and 180.0 / spacing * (3 * CHAR_PX + LABEL_GAP_PX) <= 100.0
    assert levels[1:] == [(50.0, 0), (10.0, 0)]  # finer ticks stay, unlabelled by the crowding rule
    assert readable_levels([(50.0, 0), (10.0, 0)], 0.0, 180.0, 800.0)[0][0] == 50.0  # wide: unchanged


def test_before_any_row_the_plot_a_kind_is_scored_in_keeps_its_place(window) -> None:
    window.set_kind("meta-train")
    curves = window.curves
    assert not curves.widgets["percent"].isHidden() and curves.widgets["psnr"].isHidden()
    window.set_kind("train-prior")
    assert curves.widgets["percent"].isHidden() and not curves.widgets["psnr"].isHidden()
    window.set_kind("adv-train")
    curves.add_run("classifier")
    curves.add_row({"step": 1, "time_s": 0.1, "loss": 0.5})  # no quality metric yet
    curves.flush()
    assert not curves.widgets["percent"].isHidden() and curves.widgets["psnr"].isHidden()
    curves.add_row({"step": 2, "time_s": 0.2, "loss": 0.4, "psnr_train": 12.0})  # what a run has is shown
    curves.flush()
    assert curves.widgets["percent"].isHidden() and not curves.widgets["psnr"].isHidden()
