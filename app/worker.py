"""The engine worker: a QObject living in a QThread that iterates `engine.loop.run` for one task.

Torch's CPU threads: the GUI thread keeps one (`reserve_gui_thread`, called before the window is built), and the
worker gives the engine every thread the process started with. Each thread has its own OpenMP team; a GUI thread that
had grown a team of its own would leave the machine oversubscribed and the engine ~15% slower than headless.

Only plain data crosses the thread boundary: the worker emits the engine's `Snapshot`s (numpy arrays and floats)
and one-line error messages. Pause, resume and stop are flags checked between steps, so the task is always left
consistent (a stopped run can be saved, resumed or reset). Snapshots are emitted at most every `min_interval`
seconds (and always the first, the final one and the one a pause stops at): a fast engine neither floods the event
loop nor wakes the GUI thread for frames nobody will see; the controller then keeps the latest and repaints on its
own timer.
"""
from __future__ import annotations

import threading
import time
import traceback

import torch
from PySide6.QtCore import QObject, Signal, Slot

from engine.allocator import release_freed_memory
from engine.divergence import DivergenceGuard
from engine.errors import failure_sentence
from engine.loop import run
from engine.tasks.base import DivergenceError

ENGINE_THREADS = torch.get_num_threads()
"""Intra-op threads the engine gets in the worker (what the process started with, as the CLI uses)."""


def reserve_gui_thread() -> None:
    """Give the calling (GUI) thread a single torch thread, so that it never spins up an OpenMP team beside the
    engine's; call it before the GUI thread runs any torch operation."""
    torch.set_num_threads(1)


def collect_garbage_in_gui_thread() -> None:
    """Switch Python's automatic cyclic garbage collection off and collect on a 1-second timer in the calling (GUI)
    thread instead (pyqtgraph's GarbageCollector); once per process.

    Automatic collection runs in whichever thread happens to allocate. When the worker thread collects a cycle that
    holds Qt widgets (a closed window, a menu), it deletes them off the GUI thread and can deadlock against the GUI
    thread deleting their parents (seen: the worker importing SciPy collected an old window's QMenu)."""
    global _gui_thread_garbage_collector
    if _gui_thread_garbage_collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _gui_thread_garbage_collector = GarbageCollector(interval=1.0)


_gui_thread_garbage_collector = None


class RunSignals(QObject):
    """What a run tells the window: the worker emits these in its thread, the controller passes them on in the GUI
    thread (snapshots throttled)."""

    snapshot = Signal(object)
    """An engine Snapshot (plain data)."""
    row = Signal(dict)
    """A logged metrics row (what the CLI writes to metrics.jsonl)."""
    failed = Signal(str)
    """The run stopped on an error; the message is one line (the task is as it was before the failing step)."""
    diverged = Signal(str)
    """Training diverged; the task is back at its best logged state, to continue (with a lower lr) or reset."""
    warned = Signal(str)
    """Once per run: a problem that does not stop it (the solver keeps missing its tolerance)."""
    finished = Signal(bool)
    """The run ended: True when every planned step was done, False after a stop or an error."""
    phase = Signal(str)
    """Training or Evaluating (a re-solved evaluation is running)."""


PASSED_ON = ("row", "failed", "diverged", "warned", "phase")
"""The signals the controller passes on as they come (snapshots are throttled, the end is its own)."""


class EngineWorker(RunSignals):
    """Runs `task` until `steps` (or a stop), emitting a snapshot every `snapshot_every` steps and at logged ones."""

    def __init__(self, task, steps: int, *, log_every: int, eval_every: int, snapshot_every: int = 1,
                 min_interval: float = 0.0, history: list[dict] = ()) -> None:
        super().__init__()
        self.task, self.steps, self.history = task, steps, list(history)
        self.log_every, self.eval_every, self.snapshot_every = log_every, eval_every, snapshot_every
        self.min_interval = min_interval
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._warned = False
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

    def _phase(self, phase: str) -> None:
        """Tell the window; before an evaluation also show the step just done (its training previews), so a view
        never waits for a long evaluation to show that the run is alive."""
        self.phase.emit(phase)
        if phase == "Evaluating":
            self.snapshot.emit(self.task.snapshot({}))

    @Slot()
    def work(self) -> None:
        torch.set_num_threads(ENGINE_THREADS)
        completed = False
        last_emit = -float("inf")
        try:
            guard = DivergenceGuard(self.task, self.history)
            for snap in run(self.task, self.steps, log_every=self.log_every, eval_every=self.eval_every,
                            logger=self.row.emit, snapshot_every=self.snapshot_every, on_phase=self._phase,
                            guard=guard, stop_requested=self._stop.is_set):
                if guard.warning is not None and not self._warned:
                    self.warned.emit(guard.warning)
                    self._warned = True
                now = time.monotonic()
                if snap.final or now - last_emit >= self.min_interval or self.paused or self._stop.is_set():
                    self.snapshot.emit(snap)
                    last_emit = now
                self._running.wait()
                if self._stop.is_set():
                    break
            completed = self.task.step_count >= self.steps and not self._stop.is_set()
        except DivergenceError as exc:
            self.diverged.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 — every failure becomes a message; the app keeps running
            self.traceback = traceback.format_exc()
            self.failed.emit(failure_sentence(exc, "training in the window"))
        release_freed_memory()  # the engine keeps freed memory for speed while it runs (engine/allocator.py)
        self.finished.emit(completed)
