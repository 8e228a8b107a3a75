"""The test suite's guard against modal dialogs: one the test did not answer fails it at once instead of hanging."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from tests.app.conftest import UnexpectedDialog  # noqa: E402


def test_an_unanswered_question_fails_at_once_naming_the_dialog(window) -> None:
    with pytest.raises(UnexpectedDialog, match="QMessageBox.exec"):
        window.ask_restart()


def test_an_unanswered_file_dialog_fails_at_once(window) -> None:
    from PySide6.QtWidgets import QFileDialog

    with pytest.raises(UnexpectedDialog, match="getSaveFileName"):
        QFileDialog.getSaveFileName(window, "Save", "", "")


def test_a_non_blocking_message_is_allowed(window) -> None:
    window.report_warning("a warning that blocks nothing")
    assert window.warnings == ["a warning that blocks nothing"]
