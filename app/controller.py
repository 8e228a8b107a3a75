"""The run controller: owns one task's worker thread, and throttles what reaches the views.

The worker may produce snapshots far faster than a screen needs; the controller keeps only the latest one and hands
it to the views on a timer (latest wins, `PREVIEW_HZ`). Metrics rows are forwarded as they come (they are small and
every one matters to the curves). Start, pause, resume and stop act between engine steps.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from app.worker import PASSED_ON, EngineWorker, RunSignals

PREVIEW_HZ = 10


class RunController(RunSignals):
    """Start / pause / resume / stop of one task at a time, with throttled snapshots: the latest `snapshot` at most
    PREVIEW_HZ times a second; the worker's other signals as they come."""

    state_changed = Signal(str)
    """idle, running, paused or stopping."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: QThread | None = None
        self.worker: EngineWorker | None = None
        self.task = None
        self._latest = None
        self.snapshots_received = 0
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / PREVIEW_HZ))
        self._timer.timeout.connect(self._flush)
        self.state = "idle"

    def start(self, task, steps: int, *, log_every: int = 1, eval_every: int = 25, snapshot_every: int = 1,
              history: list[dict] = ()) -> None:
        """Run `task` in a new thread until `steps` steps are done (it may already have done some); `history` holds
        the rows it logged before, which its divergence guard holds new rows against."""
        if self.thread is not None:
            raise RuntimeError("a run is already in progress")
        self.task = task
        self.thread = QThread()
        self.worker = EngineWorker(task, steps, log_every=log_every, eval_every=eval_every,
                                   snapshot_every=snapshot_every, min_interval=1.0 / PREVIEW_HZ, history=history)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.work)
        self.worker.snapshot.connect(self._keep)
        for name in PASSED_ON:
            getattr(self.worker, name).connect(getattr(self, name))
        self.worker.finished.connect(self._done)
        self._timer.start()
        self._set_state("running")
        self.thread.start()

    def pause(self) -> None:
        if self.worker is not None and self.state == "running":
            self.worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self.worker is not None and self.state == "paused":
            self.worker.resume()
            self._set_state("running")

    def stop(self) -> None:
        if self.worker is not None and self.state in ("running", "paused"):
            self.worker.stop()
            self._set_state("stopping")

    def wait(self, ms: int = 30_000) -> bool:
        """Block until the worker thread has ended (for shutdown and tests)."""
        return self.thread.wait(ms) if self.thread is not None else True

    @property
    def busy(self) -> bool:
        return self.thread is not None

    def _keep(self, snap) -> None:
        self._latest = snap
        self.snapshots_received += 1

    def _flush(self) -> None:
        if self._latest is not None:
            snap, self._latest = self._latest, None
            self.snapshot.emit(snap)

    def _done(self, completed: bool) -> None:
        self._flush()
        self._timer.stop()
        thread = self.thread
        if thread is not None:
            thread.quit()
            thread.wait()
        self.thread, self.worker = None, None
        self._set_state("idle")
        self.finished.emit(completed)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)
