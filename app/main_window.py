"""The main window: menus, toolbar, the settings panel, the live view, the curves and the status bar.

It holds no training logic: the controller runs the task in its thread, the panels produce config dataclasses, the
views draw snapshots. Opening a file builds the fit task at once (so a bad file is reported before anything runs),
with settings chosen for the file's medium, and shows its target; Start trains it, Reset discards the trained state
and rebuilds from the panel's settings. The other task kinds (generative prior, JIIO race, attack, classifier
training) need no file: Start builds them from their panel.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path


from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QScrollArea, QSplitter, QStackedWidget)

from app.controller import RunController
from app.jiio_controls import JIIOControls
from app.menus import about_text, build_menus
from app.worker import collect_garbage_in_gui_thread, reserve_gui_thread
from app.panels.config_form import ConfigForm
from app.panels.persistence import restore_forms, save_forms
from app.run_folders import reopen_run, save_run
from app.status import memory_text
from app.task_kinds import TASK_KINDS, fit_defaults
from app.views.attack_view import AttackView
from app.views.audio_view import AudioView
from app.views.curves_view import CurvesView
from app.views.grid_view import GridView
from app.views.image_view import ImageView
from app.views.mesh_view import MeshView
from app.views.race_view import RaceView
from app.views.video_view import VideoView
from engine.config import ConfigError
from engine.device import device_name, resolve_device
from engine.media import SignalError, medium_of

FILE_FILTER = "Signals (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.wav *.flac *.ogg *.mp4 *.mov *.avi *.mkv *.ply *.obj " \
              "*.off *.stl);;All files (*)"
STATUS_INTERVAL_S = 0.5
"""The status bar and progress bar are refreshed at most this often during a run."""


class MainWindow(QMainWindow):
    """DEQ Studio's main window."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        reserve_gui_thread()
        collect_garbage_in_gui_thread()
        self.setWindowTitle("DEQ Studio")
        self.settings = settings or QSettings("DEQ Studio", "DEQ Studio")
        self.controller = RunController(self)
        self.path: Path | None = None
        self.task = None
        self.built_from = None
        """The settings the current task was built from (a changed panel rebuilds an untrained task)."""
        self.errors: list[str] = []
        self.run_count = 0
        self._rate = (time.perf_counter(), 0)
        self.device = resolve_device("auto")
        self.fit_medium = "image"
        self._shown_reconstruction = None
        self._status_time = 0.0
        self.task_rows: list[dict] = []
        """Every metrics row of the current task since it was built (what a saved snapshot holds)."""

        self.kind = "fit"
        self.forms = {key: ConfigForm(kind.title, kind.config, hidden=kind.hidden) for key, kind in TASK_KINDS.items()}
        self.forms["fit"].set_config(fit_defaults("image", self.device))
        self.form = self.forms["fit"]
        self.form_stack = QStackedWidget()
        for form in self.forms.values():
            self.form_stack.addWidget(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_stack)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settings-dock")
        self.settings_dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)

        self.placeholder = QLabel("Open a file (File ▸ Open, drag and drop, or File ▸ Samples), or pick a task "
                                  "in the toolbar, to start.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_view, self.audio_view, self.video_view = ImageView(), AudioView(), VideoView()
        self.race_view, self.attack_view, self.grid_view = RaceView(), AttackView(), GridView()
        self.mesh_view: MeshView | None = None  # made on first use: it may create an OpenGL context
        self.views = QStackedWidget()
        for view in (self.placeholder, self.image_view, self.audio_view, self.video_view, self.race_view,
                     self.attack_view, self.grid_view):
            self.views.addWidget(view)
        self.kind_views = {"inverse": self.race_view, "attack": self.attack_view, "prior": self.grid_view,
                           "adv-train": self.grid_view}
        self.curves = CurvesView()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.curves)
        self.splitter.setSizes([500, 250])
        self.setCentralWidget(self.splitter)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.status = QLabel(device_name(self.device))
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        build_menus(self)
        self.setAcceptDrops(True)

        self.jiio_controls = JIIOControls(self)

        self.controller.snapshot.connect(self.show_snapshot)
        self.controller.row.connect(self.curves.add_row)
        self.controller.row.connect(self.task_rows_append)
        self.controller.failed.connect(self.report_error)
        self.controller.finished.connect(self._run_ended)
        self.controller.state_changed.connect(self._update_actions)
        self._update_actions("idle")
        self.resize(1200, 800)
        geometry, state = self.settings.value("geometry"), self.settings.value("window_state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.restore_settings()

    # ---- actions -------------------------------------------------------------------------------------------------
    def set_kind(self, kind: str, reopen: bool = True) -> None:
        """Switch the task kind (between runs): its panel and its view."""
        if self.controller.busy or kind == self.kind:
            self.task_box.setCurrentIndex(self.task_box.findData(self.kind))
            return
        self.kind = kind
        self.task_box.setCurrentIndex(self.task_box.findData(kind))
        self.form = self.forms[kind]
        self.form_stack.setCurrentWidget(self.form)
        self.task, self.built_from, self.task_rows = None, None, []
        if kind == "fit":
            if self.path is not None and reopen:
                self.open_file(self.path)
            else:
                self.views.setCurrentWidget(self.placeholder)
        else:
            view = self.kind_views[kind]
            view.clear()
            self.views.setCurrentWidget(view)
            self.jiio_controls.sync()
        self._update_actions(self.controller.state)

    def _update_actions(self, state: str) -> None:
        kind = TASK_KINDS[self.kind]
        idle = state == "idle"
        self.start_action.setEnabled(idle and (self.path is not None or not kind.needs_file))
        self.task_box.setEnabled(idle)
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.setText("&Resume" if state == "paused" else "&Pause")
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(idle and self.task is not None)
        self.save_action.setEnabled(idle and kind.run_kind is not None and self.task is not None)
        self.export_action.setEnabled(idle and self.task is not None and self.task.step_count > 0)
        self.load_action.setEnabled(idle)
        self.open_action.setEnabled(idle)

    # ---- files ---------------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a signal", str(self.settings.value("last_dir", "")),
                                              FILE_FILTER)
        if path:
            self.open_file(Path(path))

    def open_file(self, path: str | Path) -> bool:
        """Load `path` and build its fit task; a bad file is reported and nothing else changes.

        A file of another medium than the last one resets the fit panel to that medium's starting settings."""
        if self.controller.busy:
            self.report_error("Stop the current run before opening another file.")
            return False
        path = Path(path)
        try:
            medium = medium_of(path)
        except SignalError as exc:
            self.report_error(f"Could not open {path.name}: {exc}")
            return False
        if self.kind != "fit":
            self.set_kind("fit", reopen=False)
        if medium != self.fit_medium:
            self.forms["fit"].set_config(fit_defaults(medium, self.device))
        try:
            task, settings = self._build_task(path)
        except (SignalError, ConfigError, ValueError, OSError) as exc:
            self.report_error(f"Could not open {path.name}: {exc}")
            return False
        self.fit_medium = medium
        self.path, self.task, self.built_from, self.task_rows = path, task, settings, []
        self.settings.setValue("last_dir", str(path.parent))
        self.recent.remember(path)
        self.setWindowTitle(f"DEQ Studio — {path.name}")
        self._show_target()
        described = (getattr(task, "signal", None) or task.mesh).describe()
        self.status.setText(f"{device_name(self.device)} · {described}")
        self._update_actions(self.controller.state)
        return True

    def _build_task(self, path: Path | None):
        """(task, the panel settings it was built from) for the current kind; ConfigError etc. on bad input."""
        settings = self.form.config()
        config = dataclasses.replace(settings, device=self.device.type)
        return TASK_KINDS[self.kind].build(config, path, self.device), settings

    def _show_target(self) -> None:
        signal = getattr(self.task, "signal", None)
        if signal is not None and signal.medium == "image":
            self.image_view.set_target(signal.to_array(signal.values))
            self.views.setCurrentWidget(self.image_view)
        elif signal is not None and signal.medium == "audio":
            self.audio_view.set_target(signal.to_array(signal.values), signal.rate or 1.0)
            self.views.setCurrentWidget(self.audio_view)
        elif signal is not None and signal.medium == "video":
            self.video_view.set_target(signal.to_array(signal.values), signal.rate)
            self.views.setCurrentWidget(self.video_view)
        elif getattr(self.task, "mesh", None) is not None:
            if self.mesh_view is None:
                self.mesh_view = MeshView()
                self.views.addWidget(self.mesh_view)
            self.mesh_view.set_target(self.task.mesh.vertices, self.task.mesh.faces)
            self.views.setCurrentWidget(self.mesh_view)

    # ---- run control ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the current kind: a training run (continuing a trained task) or a race of methods."""
        if self.controller.busy:
            return
        kind = TASK_KINDS[self.kind]
        try:
            settings = self.form.config()
        except ConfigError as exc:
            self.report_error(f"Settings: {exc}")
            return
        if kind.comparison or self.task is None or (settings != self.built_from and self.task.step_count == 0):
            from engine.model_store import ModelFileError

            try:
                self.task, self.built_from = self._build_task(self.path)
                self.task_rows = []
            except (SignalError, ConfigError, ModelFileError, ValueError, OSError) as exc:
                self.report_error(f"Could not start: {exc}")
                return
        elif self.task.step_count > 0:  # a trained task keeps its model; only the schedule can change
            self.task.config = dataclasses.replace(self.task.config, steps=settings.steps,
                                                   log_every=settings.log_every, eval_every=settings.eval_every)
        self.run_count += 1
        name = self.path.stem if self.kind == "fit" else self.kind
        self.curves.add_run(f"{name} #{self.run_count}")
        self._rate = (time.perf_counter(), self.task.step_count)
        if kind.comparison:
            self.kind_views[self.kind].clear()
            self.jiio_controls.sync()
            steps, log_every, eval_every = self.task.total_steps, 1, 1
        else:
            config = self.task.config
            steps, log_every = config.steps, config.log_every
            eval_every = config.eval_every or log_every
        if self.kind in ("prior", "adv-train") and self.task.step_count == 0:
            self.grid_view.clear()
        self.progress.setRange(0, steps)
        self.controller.start(self.task, steps, log_every=log_every, eval_every=eval_every)

    def toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def reset(self) -> None:
        """Discard the trained state: a fresh task from the panel's settings."""
        if self.controller.busy:
            return
        if self.kind != "fit":
            self.task, self.built_from, self.task_rows = None, None, []
            self.kind_views[self.kind].clear()
            self._update_actions("idle")
        elif self.path is not None:
            self.open_file(self.path)

    def show_snapshot(self, snap) -> None:
        view = self.kind_views.get(self.kind)
        if view is not None:
            view.show_snapshot(snap.previews, snap.scalars)
        reconstruction = snap.previews.get("reconstruction")
        current = self.views.currentWidget()
        fresh = reconstruction is not None and reconstruction is not self._shown_reconstruction
        if fresh and current in (self.image_view, self.audio_view, self.video_view):
            current.set_reconstruction(reconstruction)  # redrawn only when an evaluation made a new one
            self._shown_reconstruction = reconstruction
        if self.mesh_view is not None and current is self.mesh_view:
            self.mesh_view.show_previews(snap.previews)
        now = time.perf_counter()
        if now - self._status_time < STATUS_INTERVAL_S and not snap.final:
            return
        self._status_time = now
        self.progress.setValue(snap.step)
        start, first_step = self._rate
        rate = (snap.step - first_step) / max(time.perf_counter() - start, 1e-9)
        eta = (snap.total_steps - snap.step) / rate if rate > 0 else float("nan")
        quality = ""
        for key, text in (("psnr_train", "PSNR {:.2f} dB"), ("accuracy_clean", "accuracy {:.1%}"),
                          ("iou_uniform", "IoU {:.3f}")):
            if key in snap.scalars:
                quality = " · " + text.format(snap.scalars[key])
                break
        self.status.setText(f"{device_name(self.device)} · step {snap.step}/{snap.total_steps} · "
                            f"{rate:.1f} steps/s · ETA {eta:.0f} s · {memory_text(self.device)}{quality}")

    def task_rows_append(self, row: dict) -> None:
        self.task_rows.append(row)

    def _run_ended(self, completed: bool) -> None:
        self._update_actions("idle")
        if completed:
            self.statusBar().showMessage("Run finished", 5000)

    def report_error(self, message: str) -> None:
        """Show `message` in a dialog that does not block the engine; the app stays usable."""
        self.errors.append(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "DEQ Studio", message, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ---- snapshots and exports ----------------------------------------------------------------------------------
    def choose_snapshot_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the snapshot into a folder")
        if folder:
            self.save_snapshot(folder)

    def save_snapshot(self, folder: str | Path) -> Path | None:
        """A resumable run folder of the current task (fits, generative priors, classifier training)."""
        if self.task is None or TASK_KINDS[self.kind].run_kind is None or self.controller.busy:
            return None
        try:
            return save_run(folder, self.kind, self.task, self.task_rows, self.path if self.kind == "fit" else None)
        except OSError as exc:
            self.report_error(f"Could not save the snapshot: {exc}")
            return None

    def choose_snapshot_to_load(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Load a snapshot (a run folder)")
        if folder:
            self.load_snapshot(folder)

    def load_snapshot(self, folder: str | Path) -> bool:
        """Reopen a run folder (from this window or the CLI) where it stopped; its curves join the overlay (a race's
        or an attack's curves alone)."""
        from engine.checkpoint import CheckpointError
        from engine.model_store import ModelFileError

        if self.controller.busy:
            return False
        name = Path(folder).name
        try:
            opened = reopen_run(folder, self.device)
        except (CheckpointError, ConfigError, SignalError, ModelFileError, ValueError, KeyError, OSError) as exc:
            self.report_error(f"Could not load the snapshot {name}: {exc}")
            return False
        if opened.task is None:
            self._overlay(name, opened.rows)
            self.statusBar().showMessage(f"{name}: the curves of this {opened.key} run were added", 8000)
            return True
        task = opened.task
        if self.kind != opened.key:
            self.set_kind(opened.key, reopen=False)
        self.task, self.built_from, self.task_rows = task, opened.settings, list(opened.rows)
        self.form.set_config(opened.settings)
        self._overlay(f"{name} (reopened)", opened.rows)
        if task.step_count:
            task.evaluate()  # the reconstruction, or the prior's held-out previews and samples
        if opened.key == "fit":
            self.path, self.fit_medium = opened.path, medium_of(opened.path)
            self._show_target()
            preview = task.snapshot({}).previews.get("reconstruction")
            current = self.views.currentWidget()
            if preview is not None and current in (self.image_view, self.audio_view, self.video_view):
                current.set_reconstruction(preview)
        else:
            self.grid_view.clear()
            self.grid_view.show_snapshot(task.snapshot({}).previews, {})
        self._update_actions("idle")
        return True

    def _overlay(self, name: str, rows: list[dict]) -> None:
        """A finished run's rows as a new overlaid run in the curves."""
        self.curves.add_run(name)
        for row in rows:
            self.curves.add_row(row)

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the reconstruction into a folder")
        if folder:
            self.export_reconstruction(folder)

    def export_reconstruction(self, folder: str | Path) -> Path | None:
        """The reconstruction in its medium (PNG, WAV, MP4 or PLY), or another task's result, as the CLI writes
        it."""
        if self.task is None or self.controller.busy:
            return None
        try:
            return self.task.export(Path(folder))
        except (OSError, ValueError) as exc:
            self.report_error(f"Could not export: {exc}")
            return None

    def choose_metrics_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv",
                                              "CSV, every run (*.csv);;JSON lines, every run (*.jsonl)")
        if path:
            self.export_metrics(path)

    def export_metrics(self, path: str | Path) -> Path | None:
        """Every run's metrics rows: CSV with a run column, or JSON lines with a "run" key (by the suffix)."""
        try:
            if Path(path).suffix.lower() == ".jsonl":
                return self.curves.export_jsonl(path)
            return self.curves.export_csv(path)
        except OSError as exc:
            self.report_error(f"Could not export the metrics: {exc}")
            return None

    def export_curves_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "curves.png", "PNG (*.png)")
        if path:
            try:
                self.curves.export_png(path)
            except OSError as exc:
                self.report_error(str(exc))

    def choose_screenshot_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export a screenshot of the window", "deq-studio.png",
                                              "PNG (*.png);;JPEG (*.jpg)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> Path | None:
        """The whole window as a picture."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(path)):
            self.report_error(f"Could not write the screenshot {path}")
            return None
        return Path(path)

    def about(self) -> None:
        QMessageBox.about(self, "About DEQ Studio", about_text(device_name(self.device), self.settings.fileName()))

    # ---- drag and drop, closing ----------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt API)
        urls = event.mimeData().urls()
        if urls:
            self.open_file(Path(urls[0].toLocalFile()))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.controller.stop()
        self.controller.wait()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.save_settings()
        super().closeEvent(event)

    def save_settings(self) -> None:
        """Every panel's settings, the fit panel's medium and the task kind, for the next start."""
        save_forms(self.settings, self.forms)
        self.settings.setValue("fit_medium", self.fit_medium)
        self.settings.setValue("kind", self.kind)

    def restore_settings(self) -> None:
        """The panels, the fit medium and the task kind as they were when the window last closed."""
        restore_forms(self.settings, self.forms)
        medium = self.settings.value("fit_medium")
        if medium in ("image", "audio", "video", "mesh"):
            self.fit_medium = medium
        kind = self.settings.value("kind")
        if kind in TASK_KINDS and kind != "fit":
            self.set_kind(kind)
