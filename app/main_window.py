"""The main window: menus, toolbar, the settings panel, the live view, the curves and the status bar.

It is wiring: the session (app/session.py, no Qt) holds the task kind, the file, the task, its rows and the run
history and does every action; the controller runs the task in its thread; the panels produce config dataclasses;
the views draw the task's targets and snapshots. Opening a file builds the fit task at once (so a bad file is
reported before anything runs), with the preview settings of the file's medium, and shows its target; Start trains
it, Reset discards the trained state and rebuilds from the panel's settings. The other task kinds need no file:
Start builds them from their panel. Every kind, its panel and its view come from the engine's task registry.
File dialogs and writes live in file_actions.py, the start hint, Quickstart and About in guidance.py, closing and
the kept settings in window_state.py (mixins of this class).
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QScrollArea, QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from app.controller import RunController
from app.file_actions import FileActions
from app.guidance import Guidance, start_hint_label
from app.few_shot_controls import FewShotWiring
from app.jiio_controls import JIIOControls
from app.kept_settings import open_kept
from app.menus import build_menus
from app.panels.config_form import ConfigForm
from app.scale_out import ScaleOut
from app.session import Session
from app.status import device_label, memory_text, progress_text
from app.views.curves_view import CurvesView
from app.views.registry import Views
from app.window_state import WindowState
from app.worker import collect_garbage_in_gui_thread, reserve_gui_thread
from engine.config import ConfigError
from engine.device import resolve_device
from engine.errors import failure_sentence
from engine.tasks.kinds import TASKS

SETTINGS_MIN_WIDTH = 280
"""The settings panel keeps its labels and editors readable at 1024×700."""
STATUS_INTERVAL_S = 0.5
"""The status bar and progress bar are refreshed at most this often during a run."""
NOTICE_MS = 60_000
"""How long the status bar says that an unreadable settings file was set aside."""


class MainWindow(FileActions, Guidance, WindowState, QMainWindow):
    """DEQ Studio's main window."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        reserve_gui_thread()
        collect_garbage_in_gui_thread()
        self.setWindowTitle("DEQ Studio")
        # a kept file that cannot be read is set aside: these settings are then fresh, and `notice` says so
        self.settings, kept, notice = open_kept(settings or QSettings("DEQ Studio", "DEQ Studio"))
        self.controller = RunController(self)
        self.device = resolve_device("auto")
        self.session = Session(self.controller, self.device)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._rate = (0.0, 0)
        """(training seconds, step) when the run started: speed and ETA come from measured step times."""
        self._status_time = 0.0
        self._last_snapshot = None
        self._outcome: str | None = None
        """How the last run ended when not by itself: Failed, or Paused after divergence (at its best state)."""
        self._quitting = False
        self.phase = "Ready"
        """What the window is doing: Ready, Loading, Training, Paused, Stopping, Stopped, Finished, Failed or Paused
        after divergence."""
        self.device_label = device_label(self.device)

        self.forms = {kind.name: ConfigForm(kind.title, self.session.starting_settings(kind),
                                            hidden=kind.fixed | {"device"}, advanced=kind.advanced)
                      for kind in TASKS}
        for form in self.forms.values():
            form.edited.connect(lambda form=form: form is self.form and self.show_applicable_fields())
        self.form = self.forms["fit"]
        self.form_stack = QStackedWidget()
        for form in self.forms.values():
            self.form_stack.addWidget(form)
        self.settings_scroll = QScrollArea()
        self.settings_scroll.setWidgetResizable(True)
        self.settings_scroll.setWidget(self.form_stack)
        self.preset_box = QComboBox()
        self.preset_box.addItem("Quick preview", "preview")
        self.preset_box.addItem("Full quality (the papers' settings)", "full")
        self.preset_box.setToolTip("Quick preview: small settings that show progress within seconds on this "
                                   "computer. Full quality: the settings of the papers (slow without a GPU). "
                                   "Choosing one replaces the task's settings below.")
        self.preset_box.activated.connect(lambda _: self.apply_preset(self.preset_box.currentData()))
        dock_body = QWidget()
        dock_layout = QVBoxLayout(dock_body)
        dock_layout.setContentsMargins(4, 4, 4, 0)
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Settings:"))
        preset_row.addWidget(self.preset_box, 1)
        dock_layout.addLayout(preset_row)
        dock_layout.addWidget(self.settings_scroll, 1)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settings-dock")
        self.settings_dock.setWidget(dock_body)
        dock_body.setMinimumWidth(SETTINGS_MIN_WIDTH)  # never squeezed to a sliver on a small screen
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)

        self.placeholder = QLabel("Open a file (File ▸ Open, drag and drop, or File ▸ Samples), or pick a task "
                                  "in the toolbar, to start.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.views = Views()  # each made on first use, by its registered name (app/views/registry.py)
        self.views.addWidget(self.placeholder)
        self.hint = start_hint_label(self.views)
        self.quickstart = None
        self.curves = CurvesView()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.curves)
        self.splitter.setSizes([500, 250])
        self.setCentralWidget(self.splitter)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.status = QLabel(f"{self.device_label} · Ready")
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        build_menus(self)
        self.setAcceptDrops(True)

        self.jiio_controls = JIIOControls(self)
        self.few_shot_wiring = FewShotWiring(self)
        self.scale_out = ScaleOut(self)

        self.controller.snapshot.connect(self.show_snapshot)
        self.controller.row.connect(self.session.record)
        self.controller.row.connect(self.curves.add_row)
        self.curves.old_runs_cleared.connect(self.session.history.keep_last)
        self.controller.failed.connect(self._run_failed)
        self.controller.diverged.connect(self._run_diverged)
        self.controller.warned.connect(self.report_warning)
        self.controller.finished.connect(self._run_ended)
        self.controller.state_changed.connect(self._update_actions)
        self.controller.phase.connect(self._worker_phase)
        self._update_actions("idle")
        self.resize(1200, 800)
        self.restore_settings(kept)
        self._show_kind(self.kind)
        self._notice = notice
        """The set-aside notice, shown again when the window first shows (before that the status bar cannot hide its
        own text under it: both would be drawn over each other)."""
        if notice:
            self.warnings.append(notice)
            self.statusBar().showMessage(notice, NOTICE_MS)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._notice:  # once the status bar's own text is shown too, so that the notice hides it
            QTimer.singleShot(0, lambda notice=self._notice: self._show_notice(notice))
            self._notice = None

    def _show_notice(self, notice: str) -> None:
        bar = self.statusBar()
        bar.clearMessage()  # the same message again would change nothing: Qt keeps it as it is
        bar.showMessage(notice, NOTICE_MS)

    # ---- the session's state, for menus and tests ----------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.session.kind.name

    @property
    def task(self):
        return self.session.task

    @property
    def path(self) -> Path | None:
        return self.session.path

    @property
    def task_rows(self) -> list[dict]:
        return self.session.rows

    def kind_view(self, name: str | None = None):
        """The view of a task kind that is not a fit (None for fits: their view follows the file's medium)."""
        view = TASKS.get(name or self.kind).view
        return None if view == "medium" else self.views.view(view)

    # ---- actions -------------------------------------------------------------------------------------------------
    def set_kind(self, kind: str, reopen: bool = True) -> None:
        """Switch the task kind (between runs): its panel and its view."""
        refusal = self.path and TASKS.get(kind).refusal(self.session.fit_medium, self.path.name)
        if self.controller.busy or kind == self.kind or refusal:
            self.task_box.setCurrentIndex(self.task_box.findData(self.kind))
            if refusal and not self.controller.busy:
                self.statusBar().showMessage(refusal, 12000)
            return
        self.session.set_kind(kind)
        self._show_kind(kind)
        view = self.kind_view()
        if view is None:
            if self.path is not None and reopen:
                self.open_file(self.path)
                return
            self.views.setCurrentWidget(self.placeholder)
        else:
            view.clear()
            self.views.setCurrentWidget(view)
            self.jiio_controls.sync()
        self._show_ready()
        self._update_actions(self.controller.state)

    def _show_kind(self, kind: str) -> None:
        """The selector, panel and title of task kind `kind` (the panel scrolled to its top, showing only the fields
        that apply to the opened file)."""
        self.task_box.setCurrentIndex(self.task_box.findData(kind))
        self.form = self.forms[kind]
        self.form_stack.setCurrentWidget(self.form)
        self.curves.expect(TASKS.get(kind).scored_in)
        self.show_applicable_fields()
        self.settings_scroll.verticalScrollBar().setValue(0)

    def show_applicable_fields(self) -> None:
        """Only the settings that do something as the panel stands (for the file's medium, the chosen corruption,
        attack method, ...)."""
        try:
            config = self.form.config()
        except ConfigError:
            return  # an entry being typed; the panel marks it
        self.form.set_inapplicable(self.session.kind.inapplicable_fields(config, self.session.fit_medium))

    def apply_preset(self, name: str) -> None:
        """Replace the current task's settings by preset `name` (preview or full) for this device and file."""
        kind = self.session.kind
        self.form.set_config(kind.preset(name, self.device, self.session.fit_medium))
        self.show_applicable_fields()
        self.preset_box.setCurrentIndex(self.preset_box.findData(name))
        self.statusBar().showMessage(f"{self.preset_box.currentText()} settings: press Start to use them", 8000)

    def _show_ready(self) -> None:
        """Title, status and progress of what the window now shows, between runs."""
        task = self.task
        self.phase = "Ready"
        if self.session.kind.needs_file:
            shown = self.path.name if self.path is not None else None
        else:
            shown = self.session.kind.title
        self.setWindowTitle(f"DEQ Studio — {shown}" if shown else "DEQ Studio")
        done = task.step_count if task is not None else 0
        total = task.schedule().steps if task is not None else 1
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, total))
        what = task.describe() if task is not None else self.session.kind.title
        where = f" · step {done}/{total}" if done else ""
        self.status.setText(f"{self.device_label} · Ready · {what}{where}")
        self._show_hint()

    def _update_actions(self, state: str) -> None:
        kind = self.session.kind
        idle = state == "idle"
        task = self.task
        self.start_action.setEnabled(idle and (self.path is not None or not kind.needs_file))
        self.task_box.setEnabled(idle)
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.setText("&Resume" if state == "paused" else "&Pause")
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(idle and task is not None)
        self.save_action.setEnabled(idle and kind.resumable and task is not None)
        self.export_action.setEnabled(idle and task is not None and task.step_count > 0)
        self.load_action.setEnabled(idle)
        self.open_action.setEnabled(idle)

    # ---- files ---------------------------------------------------------------------------------------------------
    # ---- run control ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the current kind: a training run (continuing a trained task) or a race of methods."""
        if self.controller.busy:
            return
        self.scale_out.detach()  # the views show this run now
        try:
            settings = self.form.config()
        except ConfigError as exc:
            self.report_error(f"Settings: {exc}")
            return
        restart = False
        if self.session.needs_rebuild(settings):
            choice = self.ask_restart()
            if choice == "cancel":
                return
            restart = choice == "restart"
            if not restart:  # continue the trained model: the panel shows what runs
                settings = self.session.continued_settings(settings)
                self.form.set_config(settings)
        self._outcome = None
        try:
            started = self.session.start(settings, restart=restart)
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            smaller = self.smaller_settings(exc, settings)
            if smaller is not None:
                self.form.set_config(smaller)
                return self.start()
            self.report_error(f"Could not start: {failure_sentence(exc, 'starting a run')}")
            return
        view = self.kind_view()  # its first snapshot arrives through the event loop, after this
        if view is not None and (started.fresh or started.from_step == 0):
            view.clear()
        if self.session.kind.race:
            self.jiio_controls.sync()
        self.curves.add_run(started.name)
        self._rate = (started.from_seconds, started.from_step)
        self._last_snapshot = None
        self.progress.setRange(0, started.steps)
        self.progress.setValue(started.from_step)
        self.phase = "Training"
        self.hint.hide()
        self.status.setText(f"{self.device_label} · Training · {self.task.describe()} · step {started.from_step}/"
                            f"{started.steps}")

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

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.session.resume()
            self.phase = "Training"
        else:
            self.session.pause()
            self.phase = "Paused"
        self._show_progress(self._last_snapshot)

    def stop(self) -> None:
        """Stop after the current step."""
        if self.controller.state in ("running", "paused"):
            self.session.stop()
            self.phase = "Stopping"
            self._show_progress(self._last_snapshot)

    def reset(self) -> None:
        """Discard the trained state: a fresh task from the panel's settings."""
        if self.controller.busy:
            return
        view = self.kind_view()
        if view is None:
            if self.path is not None:
                self.open_file(self.path)
            return
        self.session.reset()
        view.clear()
        self._show_ready()
        self._update_actions("idle")

    def show_snapshot(self, snap) -> None:
        view = self.kind_view()
        if view is not None:
            view.show_snapshot(snap.previews, snap.scalars, final=snap.final)
        else:
            self.views.show_previews(snap.previews)
        self._last_snapshot = snap
        now = time.perf_counter()
        if now - self._status_time < STATUS_INTERVAL_S and not snap.final:
            return
        self._status_time = now
        self._show_progress(snap)

    def _show_progress(self, snap) -> None:
        """Status bar and progress bar: the phase, the step, speed and ETA while training, memory and quality."""
        first_seconds, first_step = self._rate
        if snap is None:
            step, total, scalars, seconds = self.progress.value(), self.progress.maximum(), {}, first_seconds
        else:
            step, total, scalars, seconds = snap.step, snap.total_steps, snap.scalars, snap.elapsed_s
            self.progress.setValue(step)
        # steps per second of training (evaluations excluded, as the ETA counts training steps)
        rate = (step - first_step) / (seconds - first_seconds) if seconds > first_seconds else 0.0
        self.status.setText(progress_text(self.device_label, self.phase, step, total, rate,
                                          memory_text(self.device), scalars))

    def _worker_phase(self, phase: str) -> None:
        """Evaluating or Training, while the run is neither paused nor stopping."""
        if self.controller.state == "running":
            self.phase = phase
            self._show_progress(self._last_snapshot)

    def _run_failed(self, message: str) -> None:
        self._outcome = "Failed"
        self.report_error(message)

    def _run_diverged(self, message: str) -> None:
        """Training is paused at its best state: lower the lr and Start continues from there."""
        self._outcome = "Paused after divergence"
        self.report_error(f"{message} Training is paused there: set a lower learning rate (lr) in the settings and "
                          f"press Start to continue from that step, or Reset to begin again.")

    def _run_ended(self, completed: bool) -> None:
        self.phase = self._outcome or ("Finished" if completed else "Stopped")
        self._show_progress(self._last_snapshot)
        if self._last_snapshot is None and self.task is not None:
            self.progress.setValue(self.task.step_count)
        self._update_actions("idle")

    def report_error(self, message: str) -> None:
        """Show `message` in a dialog that does not block the engine; the app stays usable."""
        self.errors.append(message)
        sentence, _, details = message.partition(" (Details: ")
        box = QMessageBox(QMessageBox.Icon.Warning, "DEQ Studio", sentence, parent=self)
        if details:  # a library's own words, behind "Show Details…"
            box.setDetailedText(details.removesuffix(")"))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ---- snapshots ------------------------------------------------------------------------------------------------
    def load_snapshot(self, folder: str | Path) -> bool:
        """Reopen a run folder (from this window or the CLI) where it stopped; its curves join the overlay (a race's
        or an attack's curves alone)."""
        if self.controller.busy:
            return False
        name = Path(folder).name
        try:
            opened = self.session.load(folder)
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            self.report_error(f"Could not load the snapshot {name}: {failure_sentence(exc, 'loading a snapshot')}")
            return False
        self._overlay(self.session.history.runs[-1].name, opened.rows)
        if opened.task is None:
            self.statusBar().showMessage(f"{name}: the curves of this {opened.kind.name} run were added", 8000)
            return True
        self._show_kind(opened.kind.name)
        self.form.set_config(opened.settings)
        self.show_applicable_fields()
        snap = opened.snapshot
        previews, scalars, final = (snap.previews, snap.scalars, snap.final) if snap is not None else ({}, {}, False)
        view = self.kind_view()
        if view is None:
            self.views.show_targets(opened.task.targets())
            self.views.show_previews(previews)
        else:
            view.clear()
            view.show_snapshot(previews, scalars, final=final)
            self.views.setCurrentWidget(view)
        self._show_ready()
        self._update_actions("idle")
        return True

    def _overlay(self, name: str, rows: list[dict]) -> None:
        """A finished run's rows as a new overlaid run in the curves."""
        self.curves.add_run(name)
        for row in rows:
            self.curves.add_row(row)

    # ---- drag and drop (closing and the kept settings: window_state.py) --------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        urls = event.mimeData().urls()
        if urls:
            self.open_file(Path(urls[0].toLocalFile()))


