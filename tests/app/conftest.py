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


BLOCKING_DIALOGS = {
    "QDialog": ["exec"],
    "QMessageBox": ["exec", "question", "information", "warning", "critical", "about"],
    "QFileDialog": ["exec", "getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"],
    "QInputDialog": ["exec", "getText", "getInt", "getDouble", "getItem"],
}
"""The calls that wait for a person: a test that reaches one without answering it would hang until its timeout."""


class UnexpectedDialog(AssertionError):
    """A modal dialog that the test did not answer."""


@pytest.fixture(autouse=True)
def fail_on_unanswered_dialogs(monkeypatch):
    """Every blocking dialog fails the test at once, naming itself, unless the test replaced it with its answer
    (`monkeypatch.setattr(window, "ask_restart", ...)`, `monkeypatch.setattr(QFileDialog, "getSaveFileName", ...)`)."""
    from PySide6 import QtWidgets

    for class_name, methods in BLOCKING_DIALOGS.items():
        cls = getattr(QtWidgets, class_name)
        for method in methods:
            def refuse(*args, _where=f"{class_name}.{method}", **kwargs):
                texts = [arg.text() for arg in args if isinstance(arg, QtWidgets.QMessageBox)]
                texts += [arg for arg in args if isinstance(arg, str)]
                raise UnexpectedDialog(f"a modal dialog the test did not answer: {_where} {texts}")

            monkeypatch.setattr(cls, method, refuse)
