"""The duel in the window: both networks train in one worker, their pictures and errors side by side, one curve
per network, and a saved duel holds a fit run folder per network."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("PySide6")

from engine.resources import sample_path  # noqa: E402


def test_duel_trains_both_networks_side_by_side(window, qtbot, tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    window.set_kind("duel")
    assert window.views.currentWidget() is window.duel_view
    config = window.form.config()
    assert (config.model.model, config.rival) == ("gabor-imfn", "gabor-mfn")  # the default duel, one width
    window.form.set_config(dataclasses.replace(config, model=dataclasses.replace(config.model, width=16), steps=12,
                                               log_every=3, eval_every=6))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.start()
    assert not window.errors
    names = [run["name"] for run in window.curves.runs]
    assert len(names) == 2 and names[0].endswith("· gabor-imfn") and names[1].endswith("· gabor-mfn")
    for run in window.curves.runs:
        assert [row["step"] for row in run["rows"]] == [1, 3, 6, 9, 12] and "loss" in run["rows"][-1]
    view = window.duel_view
    assert set(view.sides) == {"gabor-imfn", "gabor-mfn"} and view.target.image is not None
    for side in view.sides.values():
        assert side["picture"].image.shape[:2] == view.target.image.shape[:2]
        assert side["error"].image.dtype == np.uint8
        assert "ms/step" in side["label"].text() and "MB/step" in side["label"].text()
    saved = window.session.save(tmp_path / "saved")
    for name in ("gabor-imfn", "gabor-mfn"):
        record = json.loads((saved / name / "config.json").read_text())
        assert record["task"] == "fit" and record["config"]["model"]["model"] == name
    window.curves.clear_old_runs()  # the two sides are one run: both stay
    assert len(window.curves.runs) == 2
