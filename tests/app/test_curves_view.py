"""Curves: one line per run and metric, overlays kept, x axis and smoothing switchable, CSV and PNG exports."""
from __future__ import annotations

import csv

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
    rows = list(csv.reader(open(view.export_csv(tmp_path / "curves.csv"))))
    assert rows[0][0] == "run" and len(rows) == 1 + 6 and rows[-1][0] == "b"
    assert view.export_png(tmp_path / "curves.png").stat().st_size > 1000


def test_ema_is_the_identity_without_smoothing() -> None:
    assert ema([1.0, 3.0], 0.0) == [1.0, 3.0] and ema([1.0, 3.0], 0.5) == [1.0, 2.0]
