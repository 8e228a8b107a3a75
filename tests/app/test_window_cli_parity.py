"""The window and `deq-studio fit FILE --preset preview` run the same job: the same first 20 losses on the built-in
image (the window trains in its worker thread from its panel's starting settings)."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from engine import cli  # noqa: E402
from engine.resources import sample_path  # noqa: E402
from engine.run_directory import RunDirectory  # noqa: E402


def test_window_and_preview_preset_give_the_same_first_20_losses(qtbot, tmp_path) -> None:
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert window.open_file(sample_path("image.png")), window.errors
    window.form.set_config(dataclasses.replace(window.form.config(), steps=20, log_every=1))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.start()
    from_window = [row["loss"] for row in window.task_rows]

    out = tmp_path / "cli"
    assert cli.main(["fit", str(sample_path("image.png")), "--preset", "preview", "--steps", "20", "--log-every", "1",
                     "--device", window.device.type, "--out", str(out)]) == 0
    from_cli = [row["loss"] for row in RunDirectory(out).read_metrics()]
    assert len(from_window) == len(from_cli) == 20
    assert from_window == pytest.approx(from_cli, rel=1e-5)
    assert from_cli[-1] < 0.9 * from_cli[0]  # and it trains
