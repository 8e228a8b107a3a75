"""Catching a run that diverges or a solver that does not converge, and going back to the last good state.

`DivergenceGuard` watches the rows a training loop logs. The loss growing to `GROWTH`× its best (at least a
`FLOOR` of its first) after the first `WARMUP_ROWS` rows, or becoming non-finite (`gradient_step` raises before it
updates anything), is divergence: the task goes back to its best logged state and a `DivergenceError` says what
happened and what to try. A row's loss is measured on the weights the step starts from, so the state kept for a row
is the one from before its step (`before_step`): the weights whose loss was good, not the update that followed them
(with a huge learning rate the first update alone can wreck a network). A resumed run's guard knows the rows the run
logged before (`history`), so a run that is still diverging when it continues says so. The kept state leaves out the
task's caches (`cache_keys`: the warm-start buffer, as large as the data), so the guard costs the model and optimizer
twice more (the best state and the one before the next logged step), not the memory of a second buffer. An
evaluation whose solver used every iteration and still missed its tolerance, `STUCK_ROWS` times in a row, is reported
once as a warning (the run goes on: its results may be poor).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import torch

from engine.tasks.base import DivergenceError

GROWTH = 10.0
"""How many times its best the loss may grow before the run counts as diverged."""
WARMUP_ROWS = 3
"""Logged rows before the growth check starts (the first steps of a fit can rise before they fall)."""
FLOOR = 0.01
"""Growth is measured from the best loss, or from this fraction of the first logged loss when the best is smaller:
a fit that is nearly exact (loss 1e-12) may wobble many times over without going anywhere."""
STUCK_ROWS = 5
"""Evaluations in a row that miss the solver's tolerance before it is reported."""


class DivergenceGuard:
    """Watches one task's logged rows; keeps a copy of its state at its best loss to go back to. `history`: the rows
    the run logged before (a resumed run), whose best loss the new rows are held against."""

    def __init__(self, task: Any, history: Iterable[dict[str, Any]] = ()) -> None:
        self.task = task
        config = getattr(task, "config", None)
        solver = getattr(config, "solver", None)
        self.tolerance = getattr(solver, "tol", None)
        self.max_iter = getattr(solver, "max_iter", None)
        self.best_loss, self.best_step = math.inf, 0
        self.first_loss: float | None = None
        self.best_state: dict[str, Any] | None = None
        self.before: tuple[int, dict[str, Any]] | None = None
        """The step count and state the next logged step starts from (`before_step`)."""
        self._spare: dict[str, Any] | None = None
        self.cache_keys: tuple[str, ...] = task.cache_keys
        """State the task can rebuild (a warm-start buffer, as large as the data): not kept, restored empty."""
        self.rows = 0
        self.earlier: tuple[float, int] | None = None
        """The best loss the run logged before it was resumed, and its row's step."""
        losses = [(row["loss"], int(row.get("step") or 0)) for row in history
                  if isinstance(row.get("loss"), (int, float)) and math.isfinite(row["loss"])]
        if losses:
            self.first_loss, self.rows = abs(losses[0][0]), len(losses)
            self.earlier = min(losses)
        self.stuck = 0
        self.warning: str | None = None
        """Set once when the solver keeps missing its tolerance; the front end shows it."""
        norm = hasattr(getattr(config, "model", None), "spectral_norm")
        self.hint = "Lower the learning rate (lr)" + (", or turn spectral normalization on." if norm else ".")

    def before_step(self) -> None:
        """Keep the state the next step starts from: the next logged row's loss is measured on it."""
        state = {key: value for key, value in self.task.state_dict().items() if key not in self.cache_keys}
        self.before = (self.task.step_count, _kept(state, self._spare))
        self._spare = None

    def observe(self, row: dict[str, float]) -> None:
        """Take one logged row: remember a new best state, or go back to the best one and raise on divergence."""
        self.rows += 1
        self._watch_solver(row)
        loss = row.get("loss")
        if loss is None:
            return
        if self.first_loss is None:
            self.first_loss = abs(loss) if math.isfinite(loss) else None
        best = min(self.best_loss, self.earlier[0] if self.earlier else math.inf)
        reference = max(best, FLOOR * (self.first_loss or 0.0), 1e-30)
        kept = self.best_state is not None or self.earlier is not None
        if not math.isfinite(loss) or (self.rows > WARMUP_ROWS and kept and loss > GROWTH * reference):
            raise DivergenceError(self._diverged(loss, best))
        if loss < self.best_loss:
            self.best_loss, self.best_step = loss, int(row.get("step", 0))
            if self.before is not None:  # the weights this loss was measured on
                self.best_step, state = self.before
                self._spare, self.best_state = self.best_state, state
            else:  # a caller that does not say when a step starts: the state after it
                state = {key: value for key, value in self.task.state_dict().items() if key not in self.cache_keys}
                self.best_state = _kept(state, self.best_state)
        elif self.before is not None:
            self._spare = self.before[1]
        self.before = None

    def _diverged(self, loss: float, best: float) -> str:
        """The sentence of a divergence at `loss` (the best so far `best`), after restoring the best state."""
        step = self.task.step_count
        ratio = loss / max(best, 1e-30) if math.isfinite(loss) else math.inf
        what = (f"the loss became {loss}" if not math.isfinite(loss) else
                f"the loss grew to {loss:.3g}, {f'{ratio:.0f}×' if ratio < 1000 else 'over 1000×'} its best "
                f"({best:.3g})")
        if self.best_state is None and self.earlier is not None:  # nothing better since the run was resumed
            if self.before is not None:
                self.best_step, self.best_state = self.before
                self.best_loss = loss
            return (f"The resumed run is still diverging at step {step}: {what}; that best was logged at step "
                    f"{self.earlier[1]}, before it was resumed.{self.restore()} {self.hint} If it keeps diverging, "
                    f"start a new run.")
        return f"Training diverged at step {step}: {what}.{self.restore()} {self.hint}"

    def restore(self) -> str:
        """Put the task back to its best logged state (its caches empty); what was done, as a sentence (empty when
        there is none)."""
        if self.best_state is None:
            return ""
        kept = _kept(self.best_state)  # a fresh copy: an optimizer may keep the tensors it loads and update them
        self.task.load_state_dict({**kept, **{key: {} for key in self.cache_keys}})
        weights = f"weights of step {self.best_step}" if self.best_step else "starting weights"
        return f" The {weights} (loss {self.best_loss:.3g}) are restored."

    def _watch_solver(self, row: dict[str, float]) -> None:
        residual, iterations = row.get("eval_residual"), row.get("eval_iters")
        if residual is None or iterations is None or self.tolerance is None or self.max_iter is None:
            return
        missed = residual > self.tolerance and iterations >= self.max_iter
        self.stuck = self.stuck + 1 if missed else 0
        if self.stuck == STUCK_ROWS and self.warning is None:
            self.warning = (f"The solver misses its tolerance: residual {residual:.2g} > {self.tolerance:g} after "
                            f"{int(iterations)} iterations, {STUCK_ROWS} checks in a row. Results may be poor: raise "
                            f"the solver's Max iter" + (", or turn spectral normalization on." if "spectral" in
                                                        self.hint else "."))


def _kept(state: Any, previous: Any = None) -> Any:
    """A deep copy of a state dict with its tensors on the CPU (the device's memory stays free), written into the
    tensors of the `previous` copy where their layouts match (a new best every few rows allocates nothing)."""
    if isinstance(state, torch.Tensor):
        state = state.detach()
        if (isinstance(previous, torch.Tensor) and previous.shape == state.shape
                and previous.dtype == state.dtype):
            return previous.copy_(state)
        return state.to("cpu", copy=True)
    if isinstance(state, dict):
        previous = previous if isinstance(previous, dict) else {}
        return {key: _kept(value, previous.get(key)) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        previous = previous if isinstance(previous, (list, tuple)) and len(previous) == len(state) else [None] * len(
            state)
        return type(state)(_kept(value, old) for value, old in zip(state, previous))
    return copy.deepcopy(state)
