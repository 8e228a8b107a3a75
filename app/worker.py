"""The engine worker: a QObject living in a QThread that iterates `engine.loop.run` for one task.

Only plain data crosses the thread boundary: the worker emits the engine's `Snapshot`s (numpy arrays and floats)
and one-line error messages. Pause, resume and stop are flags checked between steps, so the task is always left
consistent (a stopped run can be saved, resumed or reset). Previews are not throttled here: the controller keeps the
latest snapshot and repaints on its own timer, so a fast engine never floods the event loop.
"""
from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, Signal, Slot

from engine.loop import run


def describe_failure(exc: BaseException) -> str:
    """A one-line message a user can act on (CUDA out of memory, divergence, bad input, anything else)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "out of memory" in text.lower():
        return f"The device ran out of memory ({text}). Lower the width, the batch size or use the CPU."
    return f"{type(exc).__name__}: {text}"


class EngineWorker(QObject):
    """Runs `task` until `steps` (or a stop), emitting a snapshot every `snapshot_every` steps and at logged ones."""

    snapshot = Signal(object)
    """An engine Snapshot (plain data)."""
    row = Signal(dict)
    """A logged metrics row (what the CLI writes to metrics.jsonl)."""
    failed = Signal(str)
    """The run stopped on an error; the message is one line."""
    finished = Signal(bool)
    """The run ended: True when every planned step was done, False after a stop or an error."""

    def __init__(self, task, steps: int, *, log_every: int, eval_every: int, snapshot_every: int = 1) -> None:
        super().__init__()
        self.task, self.steps = task, steps
        self.log_every, self.eval_every, self.snapshot_every = log_every, eval_every, snapshot_every
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self.traceback = ""

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @Slot()
    def work(self) -> None:
        completed = False
        try:
            for snap in run(self.task, self.steps, log_every=self.log_every, eval_every=self.eval_every,
                            logger=self.row.emit, snapshot_every=self.snapshot_every):
                self.snapshot.emit(snap)
                self._running.wait()
                if self._stop.is_set():
                    break
            completed = self.task.step_count >= self.steps and not self._stop.is_set()
        except Exception as exc:  # noqa: BLE001 — every failure becomes a message; the app keeps running
            self.traceback = traceback.format_exc()
            self.failed.emit(describe_failure(exc))
        self.finished.emit(completed)
