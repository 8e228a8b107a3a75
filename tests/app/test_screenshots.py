"""Screenshots of the main window with an image, an audio clip, a mesh and the JIIO race, saved (not committed)
into `screenshots/` at the project root for the README and for review."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from engine.resources import sample_path  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "screenshots"


def train(window, qtbot, **changes) -> None:
    form = window.forms[window.kind]
    form.set_config(dataclasses.replace(form.config(), **changes))
    with qtbot.waitSignal(window.controller.finished, timeout=180_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.wait(300)  # the last throttled preview


def test_screenshots_of_every_view(qtbot, tmp_path, data_dir) -> None:
    os.environ.setdefault("DEQ_STUDIO_DATA", str(data_dir))
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    OUT.mkdir(exist_ok=True)
    shots = {}
    assert window.open_file(sample_path("image.png"))
    train(window, qtbot, steps=60, log_every=5, eval_every=20)
    shots["image"] = window.grab()
    assert window.open_file(sample_path("audio.wav"))
    train(window, qtbot, steps=6, log_every=2, eval_every=6, batch_size=8192)
    shots["audio"] = window.grab()
    assert window.open_file(sample_path("mesh.ply"))
    train(window, qtbot, steps=4, log_every=2, eval_every=4, batch_size=8192, mc_resolution=48, eval_points=8192)
    shots["mesh"] = window.grab()
    window.set_kind("inverse")
    jiio = dataclasses.replace(window.forms["inverse"].config().jiio, iterations=30)
    train(window, qtbot, count=16, sigma=0.4, adam_steps=10, jiio=jiio)
    shots["jiio-race"] = window.grab()
    for name, picture in shots.items():
        path = OUT / f"{name}.png"
        assert picture.save(str(path)) and path.stat().st_size > 20_000, name
