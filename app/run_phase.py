"""What the window says a run is doing, without Qt: its phase and the speed measured since it started.

Phases: Ready → Training ⇄ Evaluating (the worker says which), Paused (⇄ Training), Stopping; at the end Finished,
Stopped, Failed or "Paused after divergence" (the outcome a failure or a divergence set before the run ended).
Watching is a run another process writes (app/scale_out.py).
"""
from __future__ import annotations

from typing import Any

from app.status import progress_text


class RunPhase:
    """The phase of the window's run and its training speed (steps per second of training, evaluations
    excluded, from the step and training seconds at its start)."""

    def __init__(self) -> None:
        self.phase = "Ready"
        self.outcome: str | None = None
        """How the last run ended when not by itself: Failed, or Paused after divergence (at its best state)."""
        self.origin = (0.0, 0)
        """(training seconds, step) when the run started."""
        self.last: Any = None
        """The latest snapshot of the run."""

    def started(self, seconds: float, step: int) -> None:
        self.phase, self.outcome, self.origin, self.last = "Training", None, (seconds, step), None

    def paused(self, paused: bool) -> None:
        self.phase = "Paused" if paused else "Training"

    def worker(self, phase: str, running: bool) -> None:
        """Evaluating or Training, as the worker says, while the run is neither paused nor stopping."""
        if running:
            self.phase = phase

    def failed(self) -> None:
        self.outcome = "Failed"

    def diverged(self) -> None:
        self.outcome = "Paused after divergence"

    def ended(self, completed: bool) -> None:
        self.phase = self.outcome or ("Finished" if completed else "Stopped")

    def text(self, device: str, memory: str, step: int, total: int) -> str:
        """The status line: the phase, the step (the latest snapshot's, else `step` of `total`), speed and ETA
        while training, memory and quality."""
        first_seconds, first_step = self.origin
        if self.last is None:
            seconds, scalars = first_seconds, {}
        else:
            last = self.last
            step, total, scalars, seconds = last.step, last.total_steps, last.scalars, last.elapsed_s
        rate = (step - first_step) / (seconds - first_seconds) if seconds > first_seconds else 0.0
        return progress_text(device, self.phase, step, total, rate, memory, scalars)
