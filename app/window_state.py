"""What the window keeps between sessions (geometry, dock layout, every panel's settings, the file's medium, the
task kind) and how it closes: during a run it asks first, then goes at once while the run ends its step. The kept
file is read (and set aside when it cannot be) by app/kept_settings.py.

A mixin of `MainWindow`: it uses the window's settings, forms, session and controller.
"""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app.kept_settings import Kept
from app.panels.persistence import restore_forms, save_forms
from engine.media import MEDIA
from engine.tasks.kinds import TASKS


class WindowState:
    """Closing, and the settings kept for the next start."""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Quit: during a run, after a confirmation, the window goes at once and the process follows when the
        current step ends (the engine is never cut mid-step)."""
        if self.controller.busy:
            if not self._quitting:
                if not self.confirm_quit():
                    event.ignore()
                    return
                self._quitting = True
                self._keep_window_state()
                self.controller.finished.connect(self.close)
                self.stop()
                self.hide()
            event.ignore()
            return
        self.scale_out.shutdown()  # a job started here stops and checkpoints rather than run on without the window
        if not self._quitting:
            self._keep_window_state()
        super().closeEvent(event)

    def confirm_quit(self) -> bool:
        """Whether to stop the run in progress and quit."""
        answer = QMessageBox.question(self, "DEQ Studio", "A run is in progress. Stop it and quit? (Save a snapshot "
                                      "first to continue it later.)",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _keep_window_state(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.save_settings()

    def save_settings(self) -> None:
        """Every panel's settings, the fit panel's medium and the task kind, for the next start."""
        save_forms(self.settings, self.forms)
        self.settings.setValue("fit_medium", self.session.fit_medium)
        self.settings.setValue("kind", self.kind)

    def restore_settings(self, kept: Kept) -> None:
        """The geometry, the dock layout, the panels, the fit medium and the task kind as they were when the window
        last closed (`kept`: read and checked by app/kept_settings.py)."""
        if kept.geometry is not None:
            self.restoreGeometry(kept.geometry)
        if kept.window_state is not None:
            self.restoreState(kept.window_state)
        restore_forms(kept.forms, self.forms)
        if kept.fit_medium in MEDIA:
            self.session.fit_medium = kept.fit_medium
        if kept.kind in TASKS and kept.kind != "fit":
            self.set_kind(kept.kind)
