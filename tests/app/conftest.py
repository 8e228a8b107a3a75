"""Qt tests run on the offscreen platform unless told otherwise; a window keeps the GUI thread on one torch thread
(`reserve_gui_thread`), so each test gives the main thread its threads back for the tests that follow."""
from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def restore_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def window(qtbot, tmp_path):
    """A main window with its own settings file (in the test's folder); any run is stopped afterwards."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.jiio_controls.drawings_dir = tmp_path / "drawings"
    qtbot.addWidget(win)
    yield win
    win.controller.stop()
    win.controller.wait()
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=10_000)  # its end handled: closing asks nothing
