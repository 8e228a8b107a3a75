"""The one training loop the CLI and the GUI share: step, log, evaluate, snapshot.

`run` is a generator: it yields a `Snapshot` at every logged step (and every `snapshot_every` steps), so the
caller decides how to display it and when to stop (simply stop iterating; the task stays consistent between
steps). Metrics rows go to `logger`, which is passed in so that a rank-0 logger or a GUI bridge can be plugged in.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from engine.allocator import release_when_grown
from engine.divergence import DivergenceGuard
from engine.interrupt import Interrupted, interruptible
from engine.tasks.base import DivergenceError, Snapshot, Task

Logger = Callable[[dict[str, float]], None]
PhaseListener = Callable[[str], None]
"""Told "Evaluating" before each re-solved evaluation and "Training" after it (front ends show the phase)."""


def run(
    task: Task,
    steps: int,
    *,
    log_every: int,
    eval_every: int,
    logger: Logger | None = None,
    snapshot_every: int | None = None,
    on_phase: PhaseListener | None = None,
    stop_requested: Callable[[], bool] | None = None,
    guard: DivergenceGuard | None = None,
    evaluate: bool = True,
    interrupt_steps: bool = True,
) -> Iterator[Snapshot]:
    """Train `task` until it has done `steps` steps (or `stop_requested()` says so, asked between steps), yielding
    snapshots.

    A metrics row is logged at step 1, every `log_every` steps and at the last step; the first row, rows at
    multiples of `eval_every` and the last one add a re-solved evaluation (the last one `final`). With a `guard`,
    a diverging run goes back to its best logged state (the weights a logged loss was measured on, kept before that
    step) and raises DivergenceError. `evaluate` False skips the
    evaluations (the ranks other than 0 of a job of several processes: rank 0 alone evaluates). With
    `interrupt_steps`, a long step or evaluation asks `stop_requested` inside too (`engine.interrupt`) and, when told
    to stop, is abandoned and the run ends as stopped (a job of several processes asks only between steps: its
    question is collective).
    """
    with interruptible(stop_requested if interrupt_steps else None):
        try:
            yield from _run(task, steps, log_every, eval_every, logger, snapshot_every, on_phase, stop_requested,
                            guard, evaluate)
        except Interrupted:
            return


def _run(task: Task, steps: int, log_every: int, eval_every: int, logger: Logger | None, snapshot_every: int | None,
         on_phase: PhaseListener | None, stop_requested: Callable[[], bool] | None, guard: DivergenceGuard | None,
         evaluate: bool) -> Iterator[Snapshot]:
    while task.step_count < steps and not (stop_requested is not None and stop_requested()):
        if guard is not None and _logged(task.step_count + 1, steps, log_every):
            guard.before_step()  # the weights the row's loss will be measured on
        try:
            row = task.step()
        except DivergenceError as exc:  # a non-finite loss: nothing was updated; go back to the best state too
            if guard is None:
                raise
            raise DivergenceError(f"Training diverged: {exc}.{guard.restore()}") from None
        k = task.step_count
        final = k == steps
        logged = _logged(k, steps, log_every)
        if logged:
            if evaluate and (final or k == 1 or k % eval_every == 0):
                if on_phase is not None:
                    on_phase("Evaluating")
                row.update(task.evaluate(final=final))
                release_when_grown()  # after the largest temporaries: a fragmenting heap is handed back
                if on_phase is not None and not final:
                    on_phase("Training")
            if logger is not None:
                logger(row)
            if guard is not None:
                guard.observe(row)
        if logged or (snapshot_every and k % snapshot_every == 0):
            yield task.snapshot(row, final=final)


def _logged(step: int, steps: int, log_every: int) -> bool:
    """Whether the row of `step` is logged: the first, every `log_every`-th and the last."""
    return step == 1 or step % log_every == 0 or step == steps
