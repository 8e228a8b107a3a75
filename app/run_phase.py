"""What the window says a run is doing, without Qt: its phase and the speed measured since it started.

Phases: Ready → Training ⇄ Evaluating (the worker says which), Paused (⇄ Training), Stopping; at the end Finished,
Stopped, Failed or "Paused after divergence" (the outcome a failure or a divergence set before the run ended).
Watching is a run another process writes (app/scale_out.py).
"""
from __future__ import annotations

import time
from typing import Any

from app.status import progress_text


def evaluations_between(after: int, upto: int, every: int, total: int) -> int:
    """How many evaluations the loop runs at steps in (after, upto]: the first step, every `every`-th, the last."""
    if upto <= after:
        return 0
    count = upto // every - after // every
    count += after < 1 <= upto and 1 % every != 0
    count += after < total <= upto and total % every != 0
    return int(count)


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
        self.wall = time.perf_counter()
        """When the run started (the clock that also counts its evaluations)."""
        self.eval_every: int | None = None
        self.final_weight = 1.0
        """How many ordinary evaluations the final one costs (`Task.final_evaluation_weight`)."""
        self.evaluating_since: float | None = None
        self.last_evaluation_s: float | None = None
        """How long the latest evaluation took (the worker says when each begins and ends): an evaluation of a
        model that has trained a while is what the ones left will cost, not the average of the first ones (the
        classifier's first evaluations took 3.8 s each, a trained one's 0.15 s)."""

    def started(self, seconds: float, step: int, eval_every: int | None = None, final_weight: float = 1.0) -> None:
        self.phase, self.outcome, self.origin, self.last = "Training", None, (seconds, step), None
        self.wall, self.eval_every, self.final_weight = time.perf_counter(), eval_every, final_weight
        self.evaluating_since = self.last_evaluation_s = None

    def eta(self, step: int, total: int, seconds: float, now: float | None = None) -> float | None:
        """Seconds to the end: the steps left at the training speed so far, and the evaluations left at the time one
        took (the latest one, else the wall clock's time beyond training over the evaluations done), the final one
        at `final_weight` times that; None before a speed."""
        first_seconds, first_step = self.origin
        if seconds <= first_seconds or step <= first_step:
            return None
        left = (total - step) * (seconds - first_seconds) / (step - first_step)
        if self.eval_every:
            done = evaluations_between(first_step, step, self.eval_every, total)
            beyond = max(0.0, ((now if now is not None else time.perf_counter()) - self.wall)
                         - (seconds - first_seconds))
            evaluations = evaluations_between(step, total, self.eval_every, total)
            evaluations += (self.final_weight - 1.0) if evaluations else 0.0  # the last one left is the final one
            each = self.last_evaluation_s if self.last_evaluation_s is not None else beyond / done if done else 0.0
            left += evaluations * each
        return left

    def paused(self, paused: bool) -> None:
        self.phase = "Paused" if paused else "Training"

    def worker(self, phase: str, running: bool, now: float | None = None) -> None:
        """Evaluating or Training, as the worker says, while the run is neither paused nor stopping (each
        evaluation timed from the one to the other)."""
        now = time.perf_counter() if now is None else now
        if phase == "Evaluating":
            self.evaluating_since = now
        elif self.evaluating_since is not None:
            self.last_evaluation_s, self.evaluating_since = now - self.evaluating_since, None
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
        return progress_text(device, self.phase, step, total, rate, memory, scalars, self.eta(step, total, seconds))
