"""Following a run folder that another process writes (a torchrun job started here, a run synced from a cluster):
its new metrics rows and its latest previews, read every POLL_MS without blocking the window."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.run_history import drawable_row
from engine.run_directory import CONFIG, METRICS, PREVIEWS, RunDirectory

POLL_MS = 500


class RunWatcher(QObject):
    """Emits `started(record)` once config.json can be read, `row(dict)` for every complete new line of
    metrics.jsonl (its numbers; a line without a usable step is skipped), and `snapshot(Snapshot)` when
    previews.npz changes (its scalars: the latest row)."""

    started = Signal(dict)
    row = Signal(dict)
    snapshot = Signal(object)

    def __init__(self, folder: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.run = RunDirectory(self.folder)
        self.record: dict | None = None
        self.rows = 0
        self._offset = 0
        self._previews_stamp: tuple[int, int] | None = None
        self._latest: dict = {}
        self._last_step = float("-inf")
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        self.poll()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> None:
        """Read what arrived since the last poll (a missing or half-written file is simply tried again)."""
        if self.record is None and (self.folder / CONFIG).is_file():
            try:
                self.record = self.run.read_config()
            except (OSError, ValueError):
                self.record = None
            if self.record is not None:
                self.started.emit(self.record)
        self._read_rows()
        self._read_previews()

    def _read_rows(self) -> None:
        file = self.folder / METRICS
        try:
            size = file.stat().st_size
        except OSError:
            return
        if size < self._offset:  # rewritten (a resumed run drops the rows after its checkpoint): read it again,
            self._offset = 0   # past the rows already shown
        if size == self._offset:
            return
        with open(file, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read(size - self._offset)
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits for the next poll
        self._offset += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            try:
                row = drawable_row(json.loads(line))
            except (ValueError, RecursionError):
                continue
            if row is not None and row["step"] > self._last_step:  # a row without a usable step is skipped
                self._last_step = row["step"]
                self.rows += 1
                self._latest = row
                self.row.emit(row)

    def _read_previews(self) -> None:
        try:
            stat = (self.folder / PREVIEWS).stat()
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._previews_stamp:
            return
        snap = self.run.read_previews()
        if snap is None:
            return
        self._previews_stamp = stamp
        self.snapshot.emit(type(snap)(snap.step, snap.total_steps, snap.elapsed_s, dict(self._latest), snap.previews,
                                      snap.final))
