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


def test_a_fitted_picture_renders_at_another_size_from_the_file_menu(window, qtbot, monkeypatch, tmp_path) -> None:
    """File ▸ Render at another size… is offered once a fit has trained: a scale, then where to save (suggested
    from the grid, in the folder last used); the picture is written at that size."""
    from PIL import Image
    from PySide6.QtWidgets import QInputDialog

    assert window.open_file(sample_path("image.png"))
    assert not window.render_action.isEnabled()  # nothing fitted yet
    window.form.set_config(dataclasses.replace(window.form.config(), steps=3, log_every=1, eval_every=3,
                                               protocol="represent"))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert window.render_action.isEnabled()
    # the status bar says what the network weighs, beside JPEG at that size (every pixel fitted)
    kept = window.kept.text()
    assert kept.startswith("This network: ") and " KB, " in kept and " dB — " in kept and kept.endswith(" dB"), kept
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args: (2.5, True))
    suggested = []
    target = tmp_path / "twice.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (suggested.append(args[2]), (str(target), ""))[1])
    window.choose_render()
    assert Path(suggested[-1]).name == "image-320x320.png" and Image.open(target).size == (320, 320)
    assert not window.errors and "Saved to" in window.statusBar().currentMessage()
    assert window.render_to(tmp_path / "huge.png", scale=60.0) is None  # 7680² is over the limit: one sentence
    assert "smaller size" in window.errors[-1] and not (tmp_path / "huge.png").exists()


def test_a_network_file_reopens_in_the_window_and_renders_at_any_size(window, qtbot, tmp_path) -> None:
    """File ▸ Open… takes the network.safetensors a fit wrote: its picture is shown as fitted and File ▸ Render at
    another size… renders it; a file that is not a network is one sentence and changes nothing; opening a signal
    again renders that fit, not the network."""
    from PIL import Image

    assert window.open_file(sample_path("image.png"))
    window.form.set_config(dataclasses.replace(window.form.config(), steps=3, log_every=1, eval_every=3))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    network = window.session.export(tmp_path / "run").parent / "network.safetensors"
    assert window.open_file(network) and not window.errors
    assert "image.png" in window.statusBar().currentMessage() and "Render at another size" in \
        window.statusBar().currentMessage()
    assert window.render_action.isEnabled() and window.session.opened_network is not None
    assert window.render_to(tmp_path / "twice.png", scale=2.0) is not None
    assert Image.open(tmp_path / "twice.png").size == (256, 256)
    bogus = tmp_path / "not-a-network.safetensors"
    bogus.write_bytes(b"not a network")
    assert not window.open_file(bogus)
    assert "Could not open not-a-network.safetensors" in window.errors[-1] and "\n" not in window.errors[-1]
    assert window.session.opened_network is not None  # the network opened before stays
    assert window.open_file(sample_path("image.png")) and window.session.opened_network is None
    assert not window.render_action.isEnabled()  # the file opened anew: nothing fitted to render yet


def test_the_render_question_starts_at_twice_the_fitted_grid_for_every_medium(window, monkeypatch) -> None:
    """A scale of 2 for a picture, twice the rate for a sound or a video, twice the points per side for a shape's
    surface (given back as a whole number)."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QInputDialog

    from app.render_dialog import ask_grid

    asked = []
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args: (asked.append(args[3]), (args[3], True))[1])
    grids = [ask_grid(window, SimpleNamespace(medium=medium, rate=rate, shape=shape)) for medium, rate, shape in
             (("image", None, (64, 64)), ("audio", 16000.0, (32000,)), ("video", 12.5, (8, 32, 32)),
              ("mesh", None, (64, 64, 64)))]
    assert grids == [{"scale": 2.0}, {"rate": 32000.0}, {"rate": 25.0}, {"size": 128}]
    assert isinstance(grids[-1]["size"], int)
