"""Runs beyond the window's own process (SPEC section 6): the current settings run in several processes (a local
torchrun job started through QProcess), any run folder attached and watched as its rows arrive, and the exact
commands for a cluster (multi-node torchrun and Slurm)."""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.run_watch import RunWatcher
from engine.config import ConfigError
from engine.errors import failure_sentence
from engine.launch import cluster_commands, local_command
from engine.run_directory import RunDirectory
from engine.runs import folder_name
from engine.tasks.kinds import task_kind

ERROR_TAIL = 1500
"""How many characters of a failed job's error output its message keeps."""


class ScaleOut(QObject):
    """The window's Run ▸ "Run in several processes…", "Attach to run folder…", "Copy cluster command…" and
    "Stop watching"."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.watcher: RunWatcher | None = None
        self.process: QProcess | None = None
        self._errors = ""
        self._stopping = False
        self.launched: tuple[int, Path, list[str]] | None = None
        """(processes, run folder, command) of the job started last."""

    @property
    def watching(self) -> bool:
        return self.watcher is not None

    # ---- attach ----------------------------------------------------------------------------------------------
    def choose_attach(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Attach to a run folder")
        if folder:
            self.attach(folder)

    def attach(self, folder: str | Path) -> bool:
        """Watch `folder` (a run another process writes, or has written): its curves join the overlay and its
        previews show in its task's view, updated as rows arrive."""
        window = self.window
        if window.controller.busy:
            window.report_error("Stop the run in this window first, then attach to a run folder.")
            return False
        self.detach()
        folder = Path(folder)
        self.watcher = RunWatcher(folder, self)
        self.watcher.started.connect(self._show_run)
        self.watcher.row.connect(window.curves.add_row)
        self.watcher.snapshot.connect(self._show_snapshot)
        window.curves.add_run(f"{folder.name} (watched)")
        window.hint.hide()  # "Press Start": not what the view shows now
        window.phase = "Watching"
        window.status.setText(f"{window.device_label} · Watching {folder}")
        self.watcher.start()
        return True

    def detach(self) -> None:
        """Stop watching (a job started here goes on: "Stop watching" while it runs stops it)."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.deleteLater()
            self.watcher = None

    @property
    def running(self) -> bool:
        """Whether the job started here is still running."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def shutdown(self) -> None:
        """On quitting: the job started here stops after its current step and checkpoints (SIGTERM), waited for up to
        a minute; its processes are never left running without the window."""
        self.detach()
        if self.running:
            self._stopping = True
            self.process.terminate()
            if not self.process.waitForFinished(60_000):
                self.process.kill()
                self.process.waitForFinished(5_000)

    def stop(self) -> None:
        """Stop the job started here (it checkpoints after the same step on every rank), or stop watching."""
        if self.running:
            self._stopping = True
            self.process.terminate()  # SIGTERM: torchrun passes it on to every process
            self.window.status.setText(f"{self.window.device_label} · Stopping the processes…")
        else:
            self.detach()
            self.window.phase = "Ready"
            self.window.status.setText(f"{self.window.device_label} · Ready")

    def _show_run(self, record: dict) -> None:
        """The watched run's task kind: its view and, where they read back, its settings in the panel."""
        window = self.window
        try:
            kind = task_kind(str(record.get("task")))
        except (KeyError, ValueError):
            window.report_error(f"{self.watcher.folder.name} is not a DEQ Studio run folder its curves can show.")
            return
        if kind.name != window.kind:
            window.set_kind(kind.name, reopen=False)
        try:
            window.panel.put_settings(kind.name, kind.stored_settings(record["config"]))
        except (ConfigError, KeyError, TypeError, ValueError):
            pass  # settings from another version: the curves and previews still show
        view = window.kind_view()
        if view is not None:
            window.views.setCurrentWidget(view)
        window.hint.hide()
        window.phase = "Watching"

    def _show_snapshot(self, snap) -> None:
        window = self.window
        window.progress.setRange(0, max(snap.total_steps, 1))
        window.show_snapshot(snap)
        window.status.setText(f"{window.device_label} · Watching {self.watcher.folder.name} · step {snap.step}/"
                              f"{snap.total_steps}" + (" · finished" if snap.final else ""))

    # ---- launch ----------------------------------------------------------------------------------------------
    def choose_launch(self) -> None:
        if not self._distributed_kind():
            return
        most = 64
        if self.window.device.type == "cuda":  # one process per GPU
            import torch

            most = torch.cuda.device_count()
            if most < 2:
                self.window.report_error("This computer has one GPU: several processes need one GPU each. Run it "
                                         "here with Start, or use Run ▸ Copy cluster command… for a GPU node.")
                return
        processes, ok = QInputDialog.getInt(self.window, "Run in several processes",
                                            "Processes (one per GPU, or CPU cores to share):", 2, 2, most)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for the run (a new subfolder is made)")
        if folder:
            self.launch(processes, Path(folder))

    def launch(self, processes: int, parent: Path) -> Path | None:
        """Start the panel's settings as a torchrun job of `processes` processes writing a new run folder under
        `parent`, and watch it. Returns the run folder (None when it could not start)."""
        window = self.window
        kind = window.session.kind
        if window.controller.busy or self.running:
            window.report_error("A run is in progress: stop it first, then start the processes.")
            return None
        if getattr(sys, "frozen", False):
            window.report_error("This installation has no separate Python to start torchrun with: use Run ▸ Copy "
                                "cluster command… and run the command where DEQ Studio is installed from source.")
            return None
        try:
            settings = dataclasses.replace(window.panel.settings_of(), device=window.device.type)
            path = window.path if kind.needs_file else None
            kind.require_processes(processes, settings, path)
            out = RunDirectory.create(parent / folder_name(kind, settings, path), fresh=True).path
        except (ConfigError, ValueError, OSError) as exc:
            window.report_error(f"Could not start the processes: {failure_sentence(exc, 'launching a job')}")
            return None
        command = local_command(kind, settings, out, processes, path)
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        engine_root = str(Path(__file__).resolve().parent.parent)
        existing = environment.value("PYTHONPATH", "")
        environment.insert("PYTHONPATH", engine_root + (os.pathsep + existing if existing else ""))
        process.setProcessEnvironment(environment)
        process.setWorkingDirectory(str(out.parent))
        process.readyReadStandardError.connect(lambda: self._keep_errors(process))
        process.readyReadStandardOutput.connect(lambda: process.readAllStandardOutput())  # never fills a pipe
        process.finished.connect(lambda code, status: self._ended(process, code, status))
        process.errorOccurred.connect(self._failed_to_start)
        self.process, self._errors, self._stopping = process, "", False
        self.launched = (processes, out, command)
        self.attach(out)
        process.start(command[0], command[1:])
        window.status.setText(f"{window.device_label} · Running in {processes} processes → {out}")
        return out

    def _keep_errors(self, process: QProcess) -> None:
        text = bytes(process.readAllStandardError()).decode("utf-8", errors="replace")
        self._errors = (self._errors + text)[-ERROR_TAIL * 4:]

    def _failed_to_start(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.window.report_error("Could not start the processes: this installation has no Python with torchrun "
                                     "(use Run ▸ Copy cluster command… and run it in a terminal).")

    def _ended(self, process: QProcess, code: int, status) -> None:
        window = self.window
        process.deleteLater()
        if self.watcher is not None:
            self.watcher.poll()  # the rows written last
        processes, out, _ = self.launched
        self.process = None
        if status == QProcess.ExitStatus.CrashExit and not self._stopping:
            code = code or 1
        if self._stopping:
            window.status.setText(f"{window.device_label} · Stopped: {out.name} (continue it with deq-studio resume)")
        elif code != 0:
            lines = [line for line in self._errors.splitlines() if line.strip() and "Warning" not in line]
            window.report_error(f"The {processes}-process run in {out.name} stopped with exit code {code}; its last "
                                f"checkpoint is kept. (Details: {chr(10).join(lines)[-ERROR_TAIL:]})")
        else:
            window.status.setText(f"{window.device_label} · Finished: {out.name} ({processes} processes)")
        window.phase = "Finished" if code == 0 and not self._stopping else "Stopped"

    def _distributed_kind(self) -> bool:
        """Whether the panel's kind runs in several processes (else the window says which do)."""
        try:
            self.window.session.kind.require_processes(2)
        except ValueError as exc:
            self.window.report_error(str(exc))
            return False
        return True

    # ---- cluster ---------------------------------------------------------------------------------------------
    def cluster_text(self, nodes: int, per_node: int) -> str:
        """The commands for the panel's settings on `nodes` nodes with `per_node` GPUs each."""
        kind = self.window.session.kind
        settings = self.window.panel.settings_of()
        path = self.window.path if kind.needs_file else None
        lines = cluster_commands(kind, settings, f"runs/{folder_name(kind, settings, path)}", nodes, per_node, path)
        return (f"# On every node (HEAD_NODE: the first node's address):\n{lines['torchrun']}\n\n"
                f"# Or inside a Slurm allocation of {nodes} nodes:\n{lines['slurm']}\n")

    def copy_cluster_command(self) -> None:
        window = self.window
        if not self._distributed_kind():
            return
        nodes, ok = QInputDialog.getInt(window, "Copy cluster command", "Nodes:", 2, 1, 1024)
        if not ok:
            return
        per_node, ok = QInputDialog.getInt(window, "Copy cluster command", "GPUs per node:", 8, 1, 64)
        if not ok:
            return
        try:
            text = self.cluster_text(nodes, per_node)
        except (ConfigError, ValueError) as exc:
            window.report_error(f"Settings: {exc}")
            return
        QGuiApplication.clipboard().setText(text)
        box = QMessageBox(QMessageBox.Icon.Information, "DEQ Studio", "Copied to the clipboard:", parent=window)
        box.setInformativeText(text)
        box.open()
