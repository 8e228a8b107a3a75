"""Metrics rows read from run folders: a row whose step the curves cannot place is dropped, a value that is not a
number is left out, and neither breaks the curves of that run or of a later good one (loaded or attached)."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.hostile  # cases an independent hostile probe found

from app.views.curves_view import REDRAW_MS  # noqa: E402

GOOD = [{"step": 1, "time_s": 0.1, "loss": 1.0}, {"step": 2.0, "time_s": 0.2, "loss": 0.5, "psnr_train": 12.0}]
HUGE = "1" + "0" * 400
"""An integer no float can hold."""
ODD_LINES = ['{"loss": 0.5}', '{"step": 5, "loss": null, "psnr_train": null}', '{"step": 6, "time_s": -5}',
             f'{{"step": 7, "loss": {HUGE}}}']
"""Rows of numbers (or null: how metrics.jsonl writes a non-finite one) that the curves cannot draw as they are:
no step, null values, a negative time, an integer too large for a float."""
BAD_STEPS = ['{"step": null, "loss": 0.5}', '{"step": "3", "loss": 0.5}', '{"step": 3.5, "loss": 0.5}',
             '{"step": -1, "loss": 0.5}', '{"step": true, "loss": 0.5}', '{"step": 1e400, "loss": 0.5}',
             '{"step": [4], "loss": 0.5}', f'{{"step": {HUGE}, "loss": 0.5}}']
BAD_VALUES = ['{"step": 4, "loss": "abc", "psnr_train": [1], "time_s": "soon"}', '{"step": 8, "loss": {"a": 1}}']
NOT_OBJECTS = ['[1, 2]', '"text"', 'null']


def run_folder(folder, lines: list[str]):
    """An inverse run folder (a race: its curves alone) whose metrics hold the good rows around `lines`."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"task": "inverse", "config": {}}))
    (folder / "metrics.jsonl").write_text("\n".join([json.dumps(GOOD[0]), *lines, json.dumps(GOOD[1])]) + "\n")
    return folder


def check_curves_draw(window, qtbot, drawn) -> None:
    """A good run added after the bad one draws: by the redraw timer (a slot that raised would fail the test) and by
    every explicit redraw."""
    curves = window.curves
    assert [row["step"] for row in curves.runs[-1]["rows"]] == drawn
    curves.add_run("good")
    for step in range(1, 6):
        curves.add_row({"step": step, "time_s": step * 0.1, "loss": 1.0 / step, "psnr_train": 10.0 + step})
    qtbot.wait(REDRAW_MS * 6)  # the timer's redraws, in the event loop
    curves.flush()
    curves.redraw_all()
    curves.set_x("time_s")
    curves.set_smoothing(0.5)
    x, y = curves.runs[-1]["lines"]["loss"].getData()
    assert list(x) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5]) and len(y) == 5
    assert window.errors == []


def test_a_loaded_run_with_rows_the_curves_cannot_draw_as_they_are_draws_and_later_runs_too(window, qtbot,
                                                                                             tmp_path) -> None:
    assert window.load_snapshot(run_folder(tmp_path / "race", ODD_LINES))
    rows = window.session.history.runs[-1].rows
    assert [row["step"] for row in rows] == [1, 5, 6, 7, 2]  # the row without a step is dropped
    assert rows[1] == {"step": 5} and rows[2] == {"step": 6} and rows[3] == {"step": 7}  # bad values left out
    check_curves_draw(window, qtbot, [1, 5, 6, 7, 2])


def test_a_run_with_bad_steps_or_values_never_reaches_the_curves_and_later_runs_draw(window, qtbot,
                                                                                       tmp_path) -> None:
    folder = run_folder(tmp_path / "race", BAD_STEPS + BAD_VALUES)
    if not window.load_snapshot(folder):  # the engine may refuse the folder: a sentence, its rows kept out
        assert "metrics.jsonl" in window.errors.pop() and window.curves.runs == []
        window.curves.add_run("damaged")  # the same rows reach the curves anyway (as from another source)
        for line in (folder / "metrics.jsonl").read_text().splitlines():
            window.curves.add_row(json.loads(line))
    check_curves_draw(window, qtbot, [1, 4, 8, 2])  # the bad rows dropped, the bad values left out


def test_an_attached_run_with_bad_metrics_rows_shows_its_good_rows_and_later_runs_still_draw(window, qtbot,
                                                                                              tmp_path) -> None:
    folder = run_folder(tmp_path / "watched", ODD_LINES + BAD_STEPS + BAD_VALUES + NOT_OBJECTS)
    assert window.scale_out.attach(folder)  # reads the folder at once
    assert window.scale_out.watcher.rows == 5  # steps only ever grow: the rows of steps 4 and 2 are not news
    window.scale_out.stop()
    check_curves_draw(window, qtbot, [1, 5, 6, 7, 8])


def test_rows_keep_their_numbers_and_need_a_whole_step() -> None:
    from app.run_history import drawable_row

    assert drawable_row({"step": 3.0, "loss": float("nan"), "psnr_train": 12, "note": "x", "time_s": 1.5}) == \
        {"step": 3.0, "loss": pytest.approx(float("nan"), nan_ok=True), "psnr_train": 12.0, "time_s": 1.5}
    assert drawable_row({"step": 0}) == {"step": 0.0}
    for bad in ({"step": None}, {"step": "1"}, {"step": 1.5}, {"step": -2}, {"step": False}, {"step": float("inf")},
                {"step": 10 ** 400}, {}, [], "step", None):
        assert drawable_row(bad) is None
