"""The main window: menus, toolbar, the settings panel, the live view, the curves and the status bar.

It is wiring: the session (app/session.py, no Qt) holds the task kind, the file, the task, its rows and the run
history and does every action; the controller runs the task in its thread; the panels produce config dataclasses;
the views draw the task's targets and snapshots. Opening a file builds the fit task at once (so a bad file is
reported before anything runs), with the preview settings of the file's medium, and shows its target; Start trains
it, Reset discards the trained state and rebuilds from the panel's settings. The other task kinds need no file:
Start builds them from their panel. Every kind, its panel and its view come from the engine's task registry.
File dialogs, writes and reopening run folders live in file_actions.py; the start hint, Quickstart, notices, error
dialogs and About in guidance.py; closing and the kept settings in window_state.py (mixins of this class).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSplitter

from app.controller import RunController
from app.file_actions import FileActions
from app.guidance import NOTICE_MS, Guidance, start_hint_label
from app.few_shot_controls import FewShotWiring
from app.jiio_controls import JIIOControls
from app.restore_controls import RestoreControls
from app.kept_settings import open_kept
from app.menus import build_menus, update_actions
from app.panels.settings_panel import SettingsPanel
from app.scale_out import ScaleOut
from app.session import Session
from app.status import device_label, memory_text, status_bar_parts
from app.views.curves_view import CurvesView
from app.views.registry import Views
from app.window_state import WindowState
from app.worker import collect_garbage_in_gui_thread, reserve_gui_thread
from engine.config import ConfigError
from engine.device import resolve_device
from engine.errors import failure_sentence
from engine.tasks.kinds import TASKS

STATUS_INTERVAL_S = 0.5
"""The status bar and progress bar are refreshed at most this often during a run."""


class MainWindow(FileActions, Guidance, WindowState, QMainWindow):
    """DEQ Studio's main window."""

    gone = Signal()
    """The window closed after quitting during a run (the application ends then: app/main.py)."""

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
        self.errors, self.warnings = [], []
        self._status_time, self._quitting = 0.0, False
        self.device_label = device_label(self.device)
        self._build_panel()
        self._build_views()
        build_menus(self)
        self.setAcceptDrops(True)
        self.jiio_controls, self.few_shot_wiring = JIIOControls(self), FewShotWiring(self)
        self.restore_controls = RestoreControls(self)
        self.panel.edited.connect(self.restore_controls.sync)
        self.scale_out = ScaleOut(self)
        self._connect_controller()
        self.resize(1200, 800)
        self.restore_settings(kept)
        self._show_kind(self.kind)
        self._notice = notice
        """The set-aside notice, shown again when the window first shows (before that the status bar cannot hide its
        own text under it: both would be drawn over each other)."""
        if notice:
            self.warnings.append(notice)
            self.statusBar().showMessage(notice, NOTICE_MS)

    def _build_panel(self) -> None:
        """The Settings dock: every kind's form and the preset choice."""
        self.panel = SettingsPanel(self.session)
        self.panel.edited.connect(self.panel.show_applicable)
        self.panel.preset_chosen.connect(self.apply_preset)
        self.forms, self.preset_box, self.settings_scroll = self.panel.forms, self.panel.preset_box, self.panel.scroll
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settings-dock")
        self.settings_dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)

    def _build_views(self) -> None:
        """The views above the curves, the start hint, and the status bar with its progress bar."""
        self.placeholder = QLabel("Open a file (File ▸ Open, drag and drop, or File ▸ Samples), or pick a task "
                                  "in the toolbar, to start.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.views = Views()  # each made on first use, by its registered name (app/views/registry.py)
        self.views.addWidget(self.placeholder)
        self.hint, self.quickstart, self.curves = start_hint_label(self.views), None, CurvesView()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.curves)
        self.splitter.setSizes([500, 250])
        self.setCentralWidget(self.splitter)
        self.status, self.kept, self.progress = status_bar_parts(self.statusBar(), self.device_label)

    def _connect_controller(self) -> None:
        controller, phase = self.controller, self.session.run_phase
        controller.snapshot.connect(self.show_snapshot)
        controller.row.connect(self.session.record)
        controller.row.connect(self.curves.add_row)
        self.curves.old_runs_cleared.connect(self.session.history.keep_last)
        controller.failed.connect(lambda message: (phase.failed(), self.report_error(message)))
        controller.diverged.connect(self._run_diverged)
        controller.warned.connect(self.report_warning)
        controller.finished.connect(self._run_ended)
        controller.state_changed.connect(self._update_actions)
        controller.phase.connect(lambda name: (phase.worker(name, controller.state == "running"),
                                               self._show_progress()))
        self._update_actions("idle")

    # ---- the session's state, for menus and tests ----------------------------------------------------------------
    kind = property(lambda self: self.session.kind.name)
    task = property(lambda self: self.session.task)
    path = property(lambda self: self.session.path)
    task_rows = property(lambda self: self.session.rows)
    form = property(lambda self: self.panel.form)
    phase = property(lambda self: self.session.run_phase.phase,
                     lambda self, value: setattr(self.session.run_phase, "phase", value))
    """What the window is doing (app/run_phase.py); a job another process runs sets it too (Watching)."""

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
        if view is None:  # the opened file's own view (a fit, a restore)
            if self.path is not None and reopen:
                self.open_file(self.path)
                return
            if self.path is None:
                self.views.setCurrentWidget(self.placeholder)
        else:
            view.clear()
            self.views.setCurrentWidget(view)
            self.jiio_controls.sync()
        self.restore_controls.sync()
        self._show_ready()
        self._update_actions(self.controller.state)

    def _show_kind(self, kind: str) -> None:
        """The selector, panel and curves of task kind `kind` (its panel showing only the fields that apply)."""
        self.task_box.setCurrentIndex(self.task_box.findData(kind))
        self.panel.show_kind(TASKS.get(kind))
        self.curves.expect(TASKS.get(kind).scored_in)
        self.curves.setVisible(self.curves_action.isChecked() and not TASKS.get(kind).race)  # a race draws its own

    def apply_preset(self, name: str) -> None:
        """Replace the current task's settings by preset `name` (preview or full) for this device and file."""
        kind = self.session.kind
        self.panel.put_settings(kind.name, kind.preset(name, self.device, self.session.fit_medium))
        self.statusBar().showMessage(f"{self.panel.show_preset(name)} settings: press Start to use them", 8000)

    def _show_ready(self) -> None:
        """Title, status and progress of what the window now shows, between runs."""
        ready = self.session.ready()
        self.setWindowTitle(f"DEQ Studio — {ready.shown}" if ready.shown else "DEQ Studio")
        self.progress.setRange(0, max(ready.total, 1))
        self.progress.setValue(min(ready.done, ready.total))
        self.status.setText(f"{self.device_label} · {ready.line}")
        self.show_hint()

    def _update_actions(self, state: str) -> None:
        update_actions(self, state)

    # ---- run control ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the current kind: a training run (continuing a trained task) or a race of methods."""
        if self.controller.busy:
            return
        self.scale_out.detach()  # the views show this run now
        try:
            settings = self.panel.settings_of()
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
                self.panel.put_settings(self.kind, settings)
        self.kept.clear()
        try:
            started = self.session.start(settings, restart=restart)
        except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, nothing else changes
            smaller = self.smaller_settings(exc, settings)
            if smaller is not None:
                self.panel.put_settings(self.kind, smaller)
                return self.start()
            self.report_error(f"Could not start: {failure_sentence(exc, 'starting a run')}")
            return
        view = self.kind_view()  # its first snapshot arrives through the event loop, after this
        if view is not None and (started.fresh or started.from_step == 0):
            view.clear()
        elif view is None and started.fresh:
            self.views.show_targets(self.task.targets())  # what this task learns from (a restore: the damaged file)
        if self.session.kind.race:
            self.jiio_controls.sync()
        self.restore_controls.sync()  # the damage the run restores, shown where it is (a mask, a gap, lost frames)
        self.curves.add_run(started.name)
        self.progress.setRange(0, started.steps)
        self.progress.setValue(started.from_step)
        self.hint.hide()
        self.status.setText(f"{self.device_label} · Training · {self.task.describe()} · step {started.from_step}/"
                            f"{started.steps}")

    def toggle_pause(self) -> None:
        self.session.resume() if self.controller.state == "paused" else self.session.pause()
        self._show_progress()
        try:
            steps = getattr(self.panel.settings_of(), "steps", None)
        except ConfigError:
            return  # an entry being typed; the panel marks it
        if self.controller.state == "running" and steps not in (None, self.task.schedule().steps):
            self.statusBar().showMessage(f"The run goes on to step {self.task.schedule().steps}: Steps {steps} "
                                         f"applies from the next Start (Stop, then Start).", 12000)

    def stop(self) -> None:
        """Stop after the current step."""
        if self.controller.state in ("running", "paused"):
            self.session.stop()
            self._show_progress()

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
        self.session.run_phase.last = snap
        now = time.perf_counter()
        if now - self._status_time < STATUS_INTERVAL_S and not snap.final:
            return
        self._status_time = now
        self._show_progress()

    def _show_progress(self) -> None:
        """Status bar and progress bar: the phase, the step, speed and ETA while training, memory and quality."""
        last = self.session.run_phase.last
        if last is not None:
            self.progress.setValue(last.step)
        self.status.setText(self.session.run_phase.text(self.device_label, memory_text(self.device),
                                                        self.progress.value(), self.progress.maximum()))

    def _run_diverged(self, message: str) -> None:
        """Training is paused at its best state: lower the lr and Start continues from there."""
        self.session.run_phase.diverged()
        self.report_error(f"{message} Training is paused there: set a lower learning rate (lr) in the settings and "
                          f"press Start to continue from that step, or Reset to begin again.")

    def _run_ended(self, completed: bool) -> None:
        self.session.run_phase.ended(completed)
        self._show_progress()
        self.kept.setText(self.session.kept_line())
        if self.session.run_phase.last is None and self.task is not None:
            self.progress.setValue(self.task.step_count)
        self._update_actions("idle")
