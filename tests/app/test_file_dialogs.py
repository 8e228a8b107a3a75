"""The file dialogs as a newcomer meets them: they open in the folder last used (else the home folder, never the
program's own), a snapshot or an export goes into a folder typed as a new name, and a snapshot holds the result."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QFileDialog  # noqa: E402

from engine.resources import sample_path  # noqa: E402


def test_dialogs_start_at_home_then_where_the_user_was(window, monkeypatch, tmp_path) -> None:
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (asked.append(args[2]), ("", ""))[1])
    window.settings.remove("last_dir")
    window.choose_file()
    assert asked[-1] == str(Path.home())
    assert window.open_file(sample_path("image.png"))  # remembers the sample's folder
    window.choose_file()
    assert asked[-1] == str(sample_path("image.png").parent)


def test_a_snapshot_goes_into_a_new_folder_typed_by_name_with_its_result(window, qtbot, monkeypatch,
                                                                           tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    window.form.set_config(dataclasses.replace(window.form.config(), steps=4, log_every=2, eval_every=2))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    chosen = tmp_path / "a new name"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(chosen), ""))
    window.choose_snapshot_folder()
    assert (chosen / "checkpoint.pt").is_file() and (chosen / "reconstruction.png").is_file()
    exported = tmp_path / "another new name"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(exported), ""))
    window.choose_export_folder()
    assert (exported / "reconstruction.png").is_file() and not window.errors
