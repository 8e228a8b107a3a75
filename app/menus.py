"""The main window's actions, menus and toolbar (with the task chooser), and its Open Recent list."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QMenu

from engine.tasks.kinds import TASKS
from engine.resources import sample_names, sample_path
from engine.version import version

RECENT_COUNT = 8


class RecentFiles:
    """The files opened last (at most RECENT_COUNT, newest first), kept in QSettings and shown in a menu."""

    def __init__(self, settings: QSettings, menu: QMenu, open_file: Callable[[Path], object]) -> None:
        self.settings, self.menu, self.open_file = settings, menu, open_file
        self.fill()

    def entries(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, path: Path) -> None:
        """Put `path` first (no duplicates)."""
        entry = str(path.resolve())
        recent = [entry] + [p for p in self.entries() if p != entry]
        self.settings.setValue("recent", recent[:RECENT_COUNT])
        self.fill()

    def fill(self) -> None:
        self.menu.clear()
        for entry in self.entries():
            act = QAction(Path(entry).name, self.menu)
            act.setToolTip(entry)
            act.triggered.connect(lambda _=False, p=entry: self.open_file(Path(p)))
            self.menu.addAction(act)
        self.menu.setEnabled(bool(self.entries()))


def build_menus(window) -> None:
    """The window's actions (window.open_action, window.start_action, ...), its File, Run, View and Help menus and
    the Run toolbar with the task chooser (window.task_box)."""
    def action(text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        act = QAction(text, window)
        act.triggered.connect(slot)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        return act

    window.open_action = action("&Open…", window.choose_file, "Ctrl+O", "Open an image, audio clip, video or mesh")
    window.start_action = action("&Start", window.start, "F5", "Train (or continue) with the panel's settings")
    window.pause_action = action("&Pause", window.toggle_pause, "F6", "Pause or resume between steps")
    window.stop_action = action("S&top", window.stop, "Shift+F5", "Stop after the current step")
    window.reset_action = action("&Reset", window.reset, "Ctrl+R", "Discard the trained state")
    window.save_action = action("&Save snapshot…", window.choose_snapshot_folder, "Ctrl+S",
                              "Save a resumable run folder (also `deq-studio resume FOLDER`)")
    window.load_action = action("&Load snapshot…", window.choose_snapshot_to_load, "Ctrl+L",
                              "Reopen a run folder saved here or by the command line")
    window.export_action = action("&Export result…", window.choose_export_folder, "Ctrl+E",
                                "The reconstruction in its medium (PNG, WAV, MP4, PLY) or the task's result")
    window.render_action = action("Render at another si&ze…", window.choose_render, "Ctrl+Shift+R",
                                "The fitted picture at any size, the sound at any sample rate, the video at any "
                                "frame rate: the network is a continuous function")
    window.export_metrics_action = action("Export &metrics (CSV or JSONL)…", window.choose_metrics_file)
    window.export_plot_action = action("Export curves (PNG or SVG)…", window.choose_curves_file)
    window.screenshot_action = action("Export screens&hot…", window.choose_screenshot_file, "Ctrl+Shift+S")
    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(window.open_action)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent = RecentFiles(window.settings, window.recent_menu, window.open_file)
    samples = file_menu.addMenu("Samples")
    for name in sample_names():
        samples.addAction(action(name, lambda _=False, n=name: window.open_file(sample_path(n))))
    file_menu.addSeparator()
    for act in (window.save_action, window.load_action, window.export_action, window.render_action,
                window.export_metrics_action, window.export_plot_action, window.screenshot_action):
        file_menu.addAction(act)
    file_menu.addSeparator()
    file_menu.addAction(action("&Quit", window.close, "Ctrl+Q"))
    run_menu = window.menuBar().addMenu("&Run")
    for act in (window.start_action, window.pause_action, window.stop_action, window.reset_action):
        run_menu.addAction(act)
    run_menu.addSeparator()
    run_menu.addAction(action("Run in several processes…", lambda: window.scale_out.choose_launch(), tip=(
        "Train the panel's settings in several processes on this computer (torchrun) and watch the run")))
    run_menu.addAction(action("Attach to run folder…", lambda: window.scale_out.choose_attach(), tip=(
        "Watch a run folder another process writes (a command-line run, a run synced from a cluster)")))
    run_menu.addAction(action("Stop watching", lambda: window.scale_out.stop(), tip=(
        "Stop following the watched run folder (a job started here stops after its current step)")))
    run_menu.addAction(action("Copy cluster command…", lambda: window.scale_out.copy_cluster_command(), tip=(
        "The torchrun and Slurm commands that run the panel's settings on several GPU nodes")))
    toolbar = window.addToolBar("Run")
    toolbar.setObjectName("run-toolbar")
    view_menu = window.menuBar().addMenu("&View")
    view_menu.addAction(window.settings_dock.toggleViewAction())
    view_menu.addAction(toolbar.toggleViewAction())
    window.curves_action = QAction("Curves", window, checkable=True, checked=True)
    window.curves_action.toggled.connect(lambda on: window.curves.setVisible(on and not window.session.kind.race))
    view_menu.addAction(window.curves_action)
    view_menu.addAction(action("Full screen", lambda: window.showNormal() if window.isFullScreen()
                               else window.showFullScreen(), "F11"))
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(action("Quickstart", window.show_quickstart, "F1"))
    help_menu.addAction(action("About DEQ Studio", window.about))
    window.task_box = QComboBox()
    for kind in TASKS:
        window.task_box.addItem(kind.title, kind.name)
        window.task_box.setItemData(window.task_box.count() - 1, kind.summary.capitalize(),
                                    Qt.ItemDataRole.ToolTipRole)
    window.task_box.currentIndexChanged.connect(lambda _: window.set_kind(window.task_box.currentData()))
    window.task_box.setToolTip("What to run")
    toolbar.addWidget(window.task_box)
    for act in (window.open_action, window.start_action, window.pause_action, window.stop_action, window.reset_action):
        toolbar.addAction(act)


def about_text(device: str, settings_file: str) -> str:
    """The About box: version, the two papers, what it runs on and where it keeps its settings."""
    import torch
    from PySide6 import __version__ as pyside_version

    return (f"<h3>DEQ Studio {version()}</h3>"
            "<p>Fits images, audio, video and 3D meshes with implicit layers (deep equilibrium models) and solves "
            "inverse problems and adversarial attacks by joint inference and input optimization.</p>"
            "<p>Implements <i>(Implicit)²: Implicit Layers for Implicit Representations</i> (Huang, Bai, Kolter, "
            "NeurIPS 2021) and <i>Joint Inference and Input Optimization in Equilibrium Networks</i> (Gurumurthy, "
            "Bai, Manchester, Kolter, NeurIPS 2021).</p>"
            f"<p>Running on {device} · PyTorch {torch.__version__} · Qt for Python {pyside_version}</p>"
            f"<p>Settings are kept in {settings_file}</p>")


def update_actions(window, state: str) -> None:
    """Enable the actions that make sense in the runner's `state` (idle, running, paused) for the session's kind and
    task."""
    kind, task, idle = window.session.kind, window.session.task, state == "idle"
    window.start_action.setEnabled(idle and (window.session.path is not None or not kind.needs_file))
    window.task_box.setEnabled(idle)
    window.pause_action.setEnabled(state in ("running", "paused"))
    window.pause_action.setText("&Resume" if state == "paused" else "&Pause")
    window.stop_action.setEnabled(state in ("running", "paused"))
    window.reset_action.setEnabled(idle and task is not None)
    window.save_action.setEnabled(idle and kind.resumable and task is not None)
    window.export_action.setEnabled(idle and task is not None and task.step_count > 0)
    window.render_action.setEnabled(idle and window.session.renderable())
    window.load_action.setEnabled(idle)
    window.open_action.setEnabled(idle)
