"""What guides a new user: the hint over the view while a task waits for its first run, Help ▸ Quickstart, errors
and warnings (a dialog that blocks nothing), the question before a restart, and the About box.

A mixin of `MainWindow`: it uses the window's session, views, hint label and settings.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from app.menus import about_text

NOTICE_MS = 60_000
"""How long the status bar says that an unreadable settings file was set aside."""


def start_hint_label(parent: QWidget) -> QLabel:
    """The label of the start hint, floating over `parent` (hidden until a task waits for its first run)."""
    hint = QLabel(parent)
    hint.setObjectName("start-hint")
    hint.setWordWrap(True)
    hint.setStyleSheet("QLabel#start-hint { background: rgba(20, 20, 20, 200); color: white; "
                       "border: 1px solid #3a8ee6; border-radius: 6px; padding: 8px 14px; }")
    hint.hide()
    return hint


class Guidance:
    """The start hint, the Quickstart and About."""

    def show_quickstart(self) -> None:
        """Help ▸ Quickstart, beside the window (it does not block it)."""
        from app.quickstart import Quickstart

        if self.quickstart is None:
            self.quickstart = Quickstart(self)
        self.quickstart.show()
        self.quickstart.raise_()
        self.settings.setValue("quickstart_shown", True)

    def show_hint(self) -> None:
        """Over the view, while a task waits for its first run: what Start will do and where results appear."""
        task, kind = self.task, self.session.kind
        waiting = not self.controller.busy and (task is None or task.step_count == 0)
        shown = getattr(self.views.currentWidget(), "results_shown", False)  # results made without a run
        if not waiting or shown or (kind.needs_file and self.path is None):
            self.hint.hide()
            return
        where = "the reconstruction appears beside the original" if kind.needs_file else "results appear here"
        self.hint.setText(f"Press Start ▶ (F5): {kind.summary}; {where} as it runs.")
        # at the foot of where results appear (a view's `hint_anchor`, else the whole view): never over a control
        anchor = getattr(self.views.currentWidget(), "hint_anchor", None) or self.views
        corner = anchor.mapTo(self.views, QPoint(0, 0)) if anchor is not self.views else QPoint(0, 0)
        self.hint.setFixedWidth(max(200, min(560, anchor.width() - 40)))
        self.hint.setFixedHeight(self.hint.heightForWidth(self.hint.width()))
        self.hint.move(corner.x() + (anchor.width() - self.hint.width()) // 2,
                       corner.y() + anchor.height() - self.hint.height() - 16)
        self.hint.show()
        self.hint.raise_()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        QMainWindow.resizeEvent(self, event)
        if self.hint.isVisible():
            self.show_hint()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        QMainWindow.showEvent(self, event)
        if self._notice:  # once the status bar's own text is shown too, so that the notice hides it
            QTimer.singleShot(0, lambda notice=self._notice: self._show_notice(notice))
            self._notice = None

    def _show_notice(self, notice: str) -> None:
        bar = self.statusBar()
        bar.clearMessage()  # the same message again would change nothing: Qt keeps it as it is
        bar.showMessage(notice, NOTICE_MS)

    def report_warning(self, message: str) -> None:
        """A problem that does not stop the run, in the status bar and a dialog that blocks nothing."""
        self.warnings.append(message)
        self.statusBar().showMessage(message, 15000)
        box = QMessageBox(QMessageBox.Icon.Information, "DEQ Studio", message, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def report_error(self, message: str) -> None:
        """Show `message` in a dialog that does not block the engine; the app stays usable."""
        self.errors.append(message)
        sentence, _, details = message.partition(" (Details: ")
        box = QMessageBox(QMessageBox.Icon.Warning, "DEQ Studio", sentence, parent=self)
        if details:  # a library's own words, behind "Show Details…"
            box.setDetailedText(details.removesuffix(")"))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def ask_restart(self) -> str:
        """restart, continue or cancel: what to do with settings a trained model cannot take."""
        box = QMessageBox(QMessageBox.Icon.Question, "DEQ Studio",
                          "These settings need a new model. Restart from step 0 with them, or continue training the "
                          "current model with its old settings (only the number of steps and the logging change)?",
                          parent=self)
        restart = box.addButton("Restart with the new settings", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Continue with the old settings", QMessageBox.ButtonRole.RejectRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return "restart" if box.clickedButton() is restart else "continue" if box.clickedButton() is keep else "cancel"

    def about(self) -> None:
        QMessageBox.about(self, "About DEQ Studio", about_text(self.device_label, self.settings.fileName()))

