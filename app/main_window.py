"""The main window: menus, toolbar, the config panel, the live view, the curves and the status bar.

It holds no training logic: the controller runs the task in its thread, the panels produce config dataclasses, the
views draw snapshots. Opening a file builds the fit task at once (so a bad file is reported before anything runs)
and shows its target; Start trains it, Reset discards the trained state and rebuilds from the panel's settings.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QScrollArea, QSplitter, QStackedWidget)

from app.controller import RunController
from app.panels.config_form import ConfigForm
from app.views.attack_view import AttackView
from app.views.audio_view import AudioView
from app.views.curves_view import CurvesView
from app.views.image_view import ImageView
from app.views.mesh_view import MeshView
from app.views.race_view import RaceView
from app.views.video_view import VideoView
from engine.config import AttackTaskConfig, ConfigError, FitConfig, InverseConfig, ModelConfig
from engine.device import device_name, resolve_device
from engine.resources import sample_names, sample_path
from engine.signals import SignalError

FILE_FILTER = "Signals (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.wav *.flac *.ogg *.mp4 *.mov *.avi *.mkv *.ply *.obj " \
              "*.off *.stl);;All files (*)"
GUI_DEFAULTS = FitConfig(model=ModelConfig(model="gabor-imfn", width=64, input_scale=64.0), lr=3e-3, steps=300,
                         log_every=5, eval_every=25)
"""Starting settings: small enough to show progress within seconds on two CPU cores."""
TASK_KINDS = {
    "fit": ("Fit a signal", GUI_DEFAULTS, frozenset({"device"})),
    "inverse": ("Inverse problem: JIIO vs Adam", InverseConfig(count=16), frozenset({"device"})),
    "attack": ("Attack: JIO vs PGD", AttackTaskConfig(count=64),
               frozenset({"device", "attack.method", "attack.jio.epsilon", "attack.jio.projection"})),
}
"""Task kinds the window can run: title, starting settings, fields not shown."""
RECENT_COUNT = 8


class MainWindow(QMainWindow):
    """DEQ Studio's main window."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("DEQ Studio")
        self.settings = settings or QSettings("DEQ Studio", "DEQ Studio")
        self.controller = RunController(self)
        self.path: Path | None = None
        self.task = None
        self.errors: list[str] = []
        self.run_count = 0
        self._rate = (time.perf_counter(), 0)
        self.device = resolve_device("auto")

        self.kind = "fit"
        self.forms = {kind: ConfigForm(title, config, hidden=hidden) for kind, (title, config, hidden)
                      in TASK_KINDS.items()}
        self.form = self.forms["fit"]
        self.form_stack = QStackedWidget()
        for form in self.forms.values():
            self.form_stack.addWidget(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_stack)
        dock = QDockWidget("Settings", self)
        dock.setObjectName("settings-dock")
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self.image_view = ImageView()
        self.placeholder = QLabel("Open a file (File ▸ Open, drag and drop, or File ▸ Samples) to start.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.views = QStackedWidget()
        self.views.addWidget(self.placeholder)
        self.views.addWidget(self.image_view)
        self.mesh_view: MeshView | None = None  # made on first use: it may create an OpenGL context
        self.audio_view = AudioView()
        self.video_view = VideoView()
        self.views.addWidget(self.audio_view)
        self.views.addWidget(self.video_view)
        self.race_view = RaceView()
        self.attack_view = AttackView()
        self.views.addWidget(self.race_view)
        self.views.addWidget(self.attack_view)
        self.curves = CurvesView()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.views)
        splitter.addWidget(self.curves)
        splitter.setSizes([500, 250])
        self.setCentralWidget(splitter)

        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.status = QLabel(device_name(self.device))
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._build_actions()
        self.setAcceptDrops(True)

        self.controller.snapshot.connect(self.show_snapshot)
        self.controller.row.connect(self.curves.add_row)
        self.controller.failed.connect(self.report_error)
        self.controller.finished.connect(self._run_ended)
        self.controller.state_changed.connect(self._update_actions)
        self._update_actions("idle")
        self.resize(1200, 800)
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    # ---- actions -------------------------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut: str | None = None) -> QAction:
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            return act

        self.open_action = action("&Open…", self.choose_file, "Ctrl+O")
        self.start_action = action("&Start", self.start, "F5")
        self.pause_action = action("&Pause", self.toggle_pause, "F6")
        self.stop_action = action("S&top", self.controller.stop, "Shift+F5")
        self.reset_action = action("&Reset", self.reset, "Ctrl+R")
        self.export_curves_action = action("Export curves (CSV)…", self.export_curves)
        self.save_action = action("&Save snapshot…", self.choose_snapshot_folder, "Ctrl+S")
        self.load_action = action("&Load snapshot…", self.choose_snapshot_to_load, "Ctrl+L")
        self.export_action = action("&Export reconstruction…", self.choose_export_folder, "Ctrl+E")
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent()
        samples = file_menu.addMenu("Samples")
        for name in sample_names():
            samples.addAction(action(name, lambda _=False, n=name: self.open_file(sample_path(n))))
        self.export_plot_action = action("Export curves (PNG)…", self.export_curves_png)
        for act in (self.save_action, self.load_action, self.export_action, self.export_curves_action,
                    self.export_plot_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", self.close, "Ctrl+Q"))
        run_menu = self.menuBar().addMenu("&Run")
        for act in (self.start_action, self.pause_action, self.stop_action, self.reset_action):
            run_menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(action("About DEQ Studio", self.about))
        toolbar = self.addToolBar("Run")
        toolbar.setObjectName("run-toolbar")
        self.task_box = QComboBox()
        for kind, (title, _, _) in TASK_KINDS.items():
            self.task_box.addItem(title, kind)
        self.task_box.currentIndexChanged.connect(lambda _: self.set_kind(self.task_box.currentData()))
        self.task_box.setToolTip("What to run: fit a file, restore digits with a prior, or attack a classifier")
        toolbar.addWidget(self.task_box)
        for act in (self.open_action, self.start_action, self.pause_action, self.stop_action, self.reset_action):
            toolbar.addAction(act)

    def set_kind(self, kind: str, reopen: bool = True) -> None:
        """Switch between fitting a file, the JIIO race and the attack (between runs)."""
        if self.controller.busy or kind == self.kind:
            self.task_box.setCurrentIndex(self.task_box.findData(self.kind))
            return
        self.kind = kind
        self.task_box.setCurrentIndex(self.task_box.findData(kind))
        self.form_stack.setCurrentWidget(self.forms[kind])
        if kind == "fit":
            self.task = None
            if self.path is not None and reopen:
                self.open_file(self.path)
            else:
                self.views.setCurrentWidget(self.placeholder)
        else:
            self.task = None
            view = self.race_view if kind == "inverse" else self.attack_view
            view.clear()
            self.views.setCurrentWidget(view)
        self._update_actions(self.controller.state)

    def _update_actions(self, state: str) -> None:
        self.start_action.setEnabled(state == "idle" and (self.path is not None or self.kind != "fit"))
        self.task_box.setEnabled(state == "idle")
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.setText("&Resume" if state == "paused" else "&Pause")
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(state == "idle" and self.task is not None)
        fitted = state == "idle" and self.kind == "fit" and self.task is not None
        self.save_action.setEnabled(fitted)
        self.export_action.setEnabled(fitted and self.task.step_count > 0)
        self.load_action.setEnabled(state == "idle")
        self.open_action.setEnabled(state == "idle")

    # ---- files ---------------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a signal", str(self.settings.value("last_dir", "")),
                                              FILE_FILTER)
        if path:
            self.open_file(Path(path))

    def open_file(self, path: str | Path) -> bool:
        """Load `path` and build its fit task; a bad file is reported and nothing else changes."""
        if self.controller.busy:
            self.report_error("Stop the current run before opening another file.")
            return False
        path = Path(path)
        if self.kind != "fit":
            self.set_kind("fit", reopen=False)
        try:
            task = self._build_task(path)
        except (SignalError, ConfigError, ValueError, OSError) as exc:
            self.report_error(f"Could not open {path.name}: {exc}")
            return False
        self.path, self.task = path, task
        self.settings.setValue("last_dir", str(path.parent))
        self._remember(path)
        self.setWindowTitle(f"DEQ Studio — {path.name}")
        self._show_target()
        described = (getattr(task, "signal", None) or task.mesh).describe()
        self.status.setText(f"{device_name(self.device)} · {described}")
        self._update_actions(self.controller.state)
        return True

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: Path) -> None:
        """Put `path` first in Open Recent (at most RECENT_COUNT, no duplicates)."""
        entry = str(path.resolve())
        recent = [entry] + [p for p in self.recent_files() if p != entry]
        self.settings.setValue("recent", recent[:RECENT_COUNT])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for entry in self.recent_files():
            act = QAction(Path(entry).name, self)
            act.setToolTip(entry)
            act.triggered.connect(lambda _=False, p=entry: self.open_file(Path(p)))
            self.recent_menu.addAction(act)
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _build_task(self, path: Path | None):
        from engine.tasks import build_attack_task, build_fit_task, build_inverse_task

        config = dataclasses.replace(self.forms[self.kind].config(), device=self.device.type)
        if self.kind == "inverse":
            return build_inverse_task(config, self.device)
        if self.kind == "attack":
            return build_attack_task(config, self.device)
        return build_fit_task(path, config, self.device)

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
        else:
            self.placeholder.setText(f"{self.path.name}: training runs and its curves are shown below; the live view "
                                     "for this medium is not in this build yet.")
            self.views.setCurrentWidget(self.placeholder)

    # ---- run control ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.controller.busy:
            return
        if self.kind != "fit":
            self.start_comparison()
            return
        if self.task is None:
            return
        try:
            config = dataclasses.replace(self.form.config(), device=self.device.type)
        except ConfigError as exc:
            self.report_error(f"Settings: {exc}")
            return
        if config != self.task.config and self.task.step_count == 0:
            self.task = self._build_task(self.path)
        elif self.task.step_count > 0:  # a trained task keeps its model; only the schedule can change
            self.task.config = dataclasses.replace(self.task.config, steps=config.steps, log_every=config.log_every,
                                                   eval_every=config.eval_every)
        self.run_count += 1
        self.curves.add_run(f"{self.path.stem} #{self.run_count}")
        self._rate = (time.perf_counter(), self.task.step_count)
        steps = self.task.config.steps
        self.progress.setRange(0, steps)
        self.controller.start(self.task, steps, log_every=self.task.config.log_every,
                              eval_every=self.task.config.eval_every or self.task.config.log_every)

    def start_comparison(self) -> None:
        """The JIIO race or the attack: a fresh task from the settings, one step per method."""
        from engine.model_store import ModelFileError

        try:
            self.task = self._build_task(None)
        except (SignalError, ConfigError, ModelFileError, ValueError, OSError) as exc:
            self.report_error(f"Could not start: {exc}")
            return
        view = self.race_view if self.kind == "inverse" else self.attack_view
        view.clear()
        self.run_count += 1
        self.curves.add_run(f"{self.kind} #{self.run_count}")
        self._rate = (time.perf_counter(), 0)
        self.progress.setRange(0, self.task.total_steps)
        self.controller.start(self.task, self.task.total_steps, log_every=1, eval_every=1)

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
            self.task = None
            (self.race_view if self.kind == "inverse" else self.attack_view).clear()
            self._update_actions("idle")
        elif self.path is not None:
            self.open_file(self.path)

    def show_snapshot(self, snap) -> None:
        if self.kind == "inverse":
            self.race_view.show_snapshot(snap.previews, snap.scalars)
        elif self.kind == "attack":
            self.attack_view.show_snapshot(snap.previews, snap.scalars)
        reconstruction = snap.previews.get("reconstruction")
        current = self.views.currentWidget()
        if reconstruction is not None and current in (self.image_view, self.audio_view, self.video_view):
            current.set_reconstruction(reconstruction)
        if self.mesh_view is not None and current is self.mesh_view:
            self.mesh_view.show_previews(snap.previews)
        self.progress.setValue(snap.step)
        start, first_step = self._rate
        rate = (snap.step - first_step) / max(time.perf_counter() - start, 1e-9)
        eta = (snap.total_steps - snap.step) / rate if rate > 0 else float("nan")
        memory = ""
        if self.device.type == "cuda":
            memory = f" · {torch.cuda.memory_allocated(self.device) / 2**30:.1f} GB"
        psnr = snap.scalars.get("psnr_train")
        self.status.setText(f"{device_name(self.device)} · step {snap.step}/{snap.total_steps} · {rate:.1f} steps/s · "
                            f"ETA {eta:.0f} s{memory}" + (f" · PSNR {psnr:.2f} dB" if psnr is not None else ""))

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
        """A resumable run folder (config.json, metrics.jsonl, checkpoint.pt), the same as the CLI writes, so
        `deq-studio resume FOLDER` continues it too."""
        from engine.config import to_dict
        from engine.run_directory import RunDirectory

        if self.task is None or self.kind != "fit" or self.controller.busy:
            return None
        out = RunDirectory(folder)
        try:
            out.write_config({"task": "fit", "input": str(self.path.resolve()), "config": to_dict(self.task.config)})
            (out.path / "metrics.jsonl").unlink(missing_ok=True)
            for row in self.curves.runs[-1]["rows"] if self.curves.runs else []:
                out.append_metrics(row)
            return out.save_checkpoint("fit", to_dict(self.task.config), self.task.state_dict())
        except OSError as exc:
            self.report_error(f"Could not save the snapshot: {exc}")
            return None

    def choose_snapshot_to_load(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Load a snapshot (a run folder)")
        if folder:
            self.load_snapshot(folder)

    def load_snapshot(self, folder: str | Path) -> bool:
        """Reopen a run folder (from this window or the CLI) where it stopped; its curves join the overlay."""
        from engine.checkpoint import CheckpointError
        from engine.config import from_dict
        from engine.run_directory import RunDirectory
        from engine.tasks import build_fit_task

        if self.controller.busy:
            return False
        run = RunDirectory(folder)
        try:
            record = run.read_config()
            if record.get("task") != "fit":
                raise ValueError(f"a {record.get('task')!r} run; the window reopens fit runs")
            config = dataclasses.replace(from_dict(FitConfig, record["config"]), device=self.device.type)
            _, _, state = run.load_checkpoint()
            task = build_fit_task(record["input"], config, self.device)
            task.load_state_dict(state)
        except (CheckpointError, ConfigError, SignalError, ValueError, KeyError, OSError) as exc:
            self.report_error(f"Could not load the snapshot {Path(folder).name}: {exc}")
            return False
        if self.kind != "fit":
            self.set_kind("fit", reopen=False)
        self.path, self.task = Path(record["input"]), task
        self.forms["fit"].set_config(dataclasses.replace(config, device=GUI_DEFAULTS.device))
        self._show_target()
        self.curves.add_run(f"{Path(folder).name} (reopened)")
        for row in run.read_metrics():
            self.curves.add_row(row)
        if task.step_count and hasattr(task, "evaluate"):
            task.evaluate()
            preview = task.snapshot({}).previews.get("reconstruction")
            current = self.views.currentWidget()
            if preview is not None and current in (self.image_view, self.audio_view, self.video_view):
                current.set_reconstruction(preview)
        self._update_actions("idle")
        return True

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the reconstruction into a folder")
        if folder:
            self.export_reconstruction(folder)

    def export_reconstruction(self, folder: str | Path) -> Path | None:
        """The reconstruction in its medium (PNG, WAV, MP4 or PLY), as the CLI writes it."""
        if self.task is None or self.controller.busy:
            return None
        try:
            return self.task.export(Path(folder))
        except (OSError, ValueError) as exc:
            self.report_error(f"Could not export: {exc}")
            return None

    def export_curves(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "curves.csv", "CSV (*.csv)")
        if path:
            self.curves.export_csv(path)

    def export_curves_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "curves.png", "PNG (*.png)")
        if path:
            try:
                self.curves.export_png(path)
            except OSError as exc:
                self.report_error(str(exc))

    def about(self) -> None:
        QMessageBox.about(self, "About DEQ Studio", "DEQ Studio: implicit neural representations and JIIO, "
                                                    f"running on {device_name(self.device)}.")

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
        super().closeEvent(event)
