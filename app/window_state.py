"""What the window keeps between sessions (geometry, dock layout, every panel's settings, the file's medium, the
task kind) and how it closes: during a run it asks first, then goes at once while the run ends its step. The kept
file is read (and set aside when it cannot be) by app/kept_settings.py.

A mixin of `MainWindow`: it uses the window's settings, forms, session and controller.
"""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app.kept_settings import Kept
from app.panels.persistence import save_kind_settings, stored_kind_settings
from engine.media import MEDIA
from engine.tasks.kinds import TASKS


class WindowState:
    """Closing, and the settings kept for the next start."""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Quit: during a run, after a confirmation, the window goes at once and the process follows when the
        current step ends (the engine is never cut mid-step), once a task saved into a run folder before is saved
        there again (`gone` then tells the application to end: a hidden window's close does not)."""
        if self.controller.busy:
            if not self._quitting:
                if not self.confirm_quit():
                    event.ignore()
                    return
                self._quitting = True
                self._keep_window_state()
                self.controller.finished.connect(self._checkpoint_and_close)
                self.stop()
                self.hide()
            event.ignore()
            return
        self.scale_out.shutdown()  # a job started here stops and checkpoints rather than run on without the window
        if not self._quitting:
            self._keep_window_state()
        super().closeEvent(event)
        if self._quitting:
            self.gone.emit()

    def _checkpoint_and_close(self) -> None:
        folder = self.session.saved_folder()
        if folder is not None:
            try:
                self.session.save(folder)
            except Exception as exc:  # noqa: BLE001 — the window is gone: the log keeps why
                from engine.errors import log_failure

                log_failure(exc, "saving the run on quitting")
        self.close()

    def confirm_quit(self) -> bool:
        """Whether to stop the run in progress and quit (saying what becomes of the run)."""
        folder = self.session.saved_folder()
        fate = (f"Its progress is saved into {folder.name} first, so that File ▸ Load Snapshot continues it."
                if folder is not None else
                "Its progress is lost: to keep it, press No, then Stop and File ▸ Save Snapshot.")
        answer = QMessageBox.question(self, "DEQ Studio", f"A run is in progress. Stop it and quit? {fate}",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _keep_window_state(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.save_settings()

    def save_settings(self) -> None:
        """Every panel's settings, the fit panel's medium and the task kind, for the next start."""
        self.panel.take_all()
        save_kind_settings(self.settings, self.session.settings)
        self.settings.setValue("fit_medium", self.session.fit_medium)
        self.settings.setValue("kind", self.kind)

    def restore_settings(self, kept: Kept) -> None:
        """The geometry, the dock layout, the panels, the fit medium and the task kind as they were when the window
        last closed (`kept`: read and checked by app/kept_settings.py)."""
        if kept.geometry is not None:
            self.restoreGeometry(kept.geometry)
        if kept.window_state is not None:
            self.restoreState(kept.window_state)
        classes = {name: form.cls for name, form in self.forms.items()}
        for name, settings in stored_kind_settings(kept.forms, classes).items():
            self.panel.put_settings(name, settings)
        if kept.fit_medium in MEDIA:
            self.session.fit_medium = kept.fit_medium
        if kept.kind in TASKS and kept.kind != "fit":
            self.set_kind(kept.kind)
