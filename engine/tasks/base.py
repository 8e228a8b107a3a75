"""The Task protocol every job implements, and the plain data it hands to the CLI and the GUI: its Schedule, its
Targets (ground truth to show) and a Snapshot per logged step. No front end reads a task's other attributes."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from engine.distributed import Ranks, Replica


class DivergenceError(RuntimeError):
    """Training produced NaN or infinite values; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Plain data about a task at one step: never a tensor, never a module.

    Attributes:
        step: steps done.
        total_steps: steps planned.
        elapsed_s: training seconds so far (evaluation excluded).
        scalars: the latest metrics row (loss, PSNR, solver iterations, ...).
        previews: arrays for display — uint8 images/frames, float32 waveforms, mesh vertices/faces.
        final: True for the snapshot after the last step.
    """

    step: int
    total_steps: int
    elapsed_s: float
    scalars: dict[str, float]
    previews: dict[str, np.ndarray]
    final: bool = False


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How long a task runs and how often the loop logs and evaluates it."""

    steps: int
    """Steps planned in all (a resumed or continued task has already done some)."""
    log_every: int
    """A metrics row every this many steps (and at the first and last)."""
    eval_every: int
    """A re-solved evaluation every this many steps (and at the first and last)."""


@dataclasses.dataclass(frozen=True)
class Targets:
    """The ground truth a view shows beside the task's previews, as plain data.

    Attributes:
        medium: image, audio, video or mesh for a fitted file; "" where the previews say it all (JIIO tasks).
        arrays: image / audio / video: {"signal": uint8 image, float32 waveform or uint8 frames}, and for a
            restore "damaged": the same with the missing samples blanked (what a view shows as the target, the
            error still measured against "signal"); mesh: {"vertices": (V, 3) float32, "faces": (F, 3) int}.
        rate: samples per second (audio) or frames per second (video), else None.
        portion: which part of the file is learnt when not all of it, in words (`Signal.portion`), else "".
    """

    medium: str = ""
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    rate: float | None = None
    portion: str = ""


class Task(Protocol):
    """What the loop drives: one optimization step at a time."""

    config: Any
    """The settings the task runs with (a frozen config dataclass, medium defaults filled in)."""
    step_count: int
    train_time: float

    def schedule(self) -> Schedule:
        """Steps, log and evaluation cadence as the task's settings say."""

    def reschedule(self, steps: int, log_every: int, eval_every: int | None) -> None:
        """Change the schedule between runs (a trained task keeps its model and continues)."""

    def describe(self) -> str:
        """One line for both front ends, e.g. `Fitting kodim01.png (512×768 RGB image) with gabor-imfn`."""

    def report(self, scalars: dict[str, float]) -> str:
        """The result in a few lines, from the scalars of every logged row merged."""

    def targets(self) -> Targets:
        """What the views show as ground truth."""

    def step(self) -> dict[str, float]:
        """One training step; returns the step's scalars."""

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """Re-solve from zero and score; `final` may use larger evaluation sets."""

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        """Plain data for display."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from `state_dict`."""

    def export(self, out_dir: Path) -> Path:
        """Write the reconstruction in its medium; returns the file written."""

    # ---- optional capabilities: `TaskDefaults` gives a task without them the neutral answer --------------------
    cache_keys: tuple[str, ...]
    """Parts of `state_dict()` the task can rebuild (a warm-start buffer as large as the data): a divergence guard
    does not copy them, and restores them empty."""

    def parts(self) -> dict[str, Task]:
        """The tasks it is made of, each also saved as its own run folder (a duel's two fits); empty for most."""

    def set_lr(self, lr: float | None) -> None:
        """Continue with the learning rate `lr` (None: keep it); a task without one ignores it."""

    def distribute(self, ranks: Ranks) -> None:
        """Take part in a job of several processes (asked only of kinds registered `distributed`)."""

    def final_evaluation_weight(self) -> float:
        """How many ordinary evaluations the final one costs (a shape's surface, a classifier's attacks): an ETA
        counts the final evaluation at this many times the time the others took."""


class TaskDefaults:
    """The neutral answers of the optional capabilities (no rebuildable state, no parts, no learning rate, one
    process)."""

    cache_keys: tuple[str, ...] = ()

    def parts(self) -> dict[str, Task]:
        return {}

    def set_lr(self, lr: float | None) -> None:
        """No learning rate to change."""

    def distribute(self, ranks: Ranks) -> None:
        raise NotImplementedError(f"{type(self).__name__} runs in one process")

    def final_evaluation_weight(self) -> float:
        return 1.0


class TrainingTask(TaskDefaults):
    """`schedule`, `reschedule` and `report` of a training task whose config holds steps, log_every and
    eval_every; `distribute` of one that can run in several processes (its steps go through `self.replica`)."""

    config: Any
    step_count: int
    train_time: float
    optimizer: torch.optim.Optimizer
    ranks: Ranks = Ranks()
    replica: Replica

    def distribute(self, ranks: Ranks) -> None:
        """Take part in a job of several processes: this rank's share of every batch, gradients averaged."""
        self.ranks, self.replica = ranks, ranks.replicate(self.replica.model, self.replica.idle_parameters)

    def descend(self, loss: torch.Tensor, hint: str = "lower the lr") -> None:
        """The gradient step on `loss` (`gradient_step`: a non-finite loss raises DivergenceError, saying `hint`)."""
        gradient_step(loss, self.optimizer, self.step_count + 1, hint=hint, ranks=self.ranks)

    def count_step(self, started: float, loss: torch.Tensor) -> dict[str, float]:
        """The end of a step begun at `started` (perf_counter): counted and timed; the row entries every training
        task logs (step, time_s, loss, ms_per_step)."""
        elapsed = time.perf_counter() - started
        self.step_count += 1
        self.train_time += elapsed
        return {"step": float(self.step_count), "time_s": self.train_time, "loss": loss.item(),
                "ms_per_step": elapsed * 1e3}

    def report(self, scalars: dict[str, float]) -> str:
        """'Done: 60 steps in 25.8 s of training (430 ms a step). PSNR 18.06 dB, loss 0.0636.' (every metric of
        every row stays in metrics.jsonl)."""
        return report_line(self.step_count, scalars)

    def schedule(self) -> Schedule:
        config = self.config
        return Schedule(config.steps, config.log_every, config.eval_every or config.log_every)

    def reschedule(self, steps: int, log_every: int, eval_every: int | None) -> None:
        config = dataclasses.replace(self.config, steps=steps, log_every=log_every)
        self.config = dataclasses.replace(config, eval_every=eval_every or config.eval_every)

    def set_lr(self, lr: float | None) -> None:
        """Continue with the learning rate `lr` (None: keep the current one); the optimizer keeps its moments, so a
        run that diverged goes on from its restored state with a smaller step."""
        if lr is None:
            return
        self.config = dataclasses.replace(self.config, lr=lr)  # checked (finite, positive) before it is used
        for group in self.optimizer.param_groups:
            group["lr"] = lr


REPORTED = (("snr_test", "held-out SNR {:.1f} dB"), ("snr_train", "SNR {:.1f} dB"),
            ("psnr_test", "held-out PSNR {:.2f} dB"), ("eval_psnr_train", "PSNR {:.2f} dB"),
            ("psnr_held_out", "held-out PSNR {:.2f} dB"), ("psnr_train", "training PSNR {:.2f} dB"),
            ("iou_uniform", "IoU {:.3f}"), ("iou_near", "IoU near the surface {:.3f}"),
            ("accuracy_test", "held-out accuracy {:.1%}"), ("accuracy_query", "query accuracy {:.1%}"),
            ("accuracy_train", "training accuracy {:.1%}"), ("loss", "loss {:.4g}"))
"""What a finished run's summary says, in this order, of the metrics it has."""


def quality_sentence(scalars: dict[str, float]) -> str:
    """'PSNR 18.06 dB, loss 0.0636.': the REPORTED metrics `scalars` has ("" when none)."""
    said = ", ".join(text.format(scalars[key]) for key, text in REPORTED if key in scalars)
    return f"{said[:1].upper()}{said[1:]}." if said else ""


def report_line(steps: int, scalars: dict[str, float]) -> str:
    """A training run's summary in a sentence or two (`TrainingTask.report`)."""
    seconds = scalars.get("time_s")
    head = f"Done: {steps} steps"
    if seconds:
        head += f" in {seconds:.1f} s of training ({1000 * seconds / max(steps, 1):.0f} ms a step)"
    return f"{head}. {quality_sentence(scalars)}".rstrip()


class MethodRace(TaskDefaults):
    """`schedule` and `reschedule` of a task whose steps are its methods (each solves the whole problem once), and
    no ground truth beyond its previews."""

    methods: list[str]

    def schedule(self) -> Schedule:
        return Schedule(len(self.methods), 1, 1)

    def reschedule(self, steps: int, log_every: int, eval_every: int | None) -> None:
        """A race always runs each of its methods once."""

    def targets(self) -> Targets:
        return Targets()


def gradient_step(loss, optimizer, step: int, clip_value: float | None = None, hint: str = "lower the lr",
                  ranks: Ranks = Ranks()) -> None:
    """One optimizer step on `loss`; a non-finite loss raises DivergenceError (nothing is updated). In a job of
    several processes every rank raises when any rank's loss is not finite (none waits in the gradient reduction)."""
    finite = bool(torch.isfinite(loss))
    if ranks.distributed and ranks.on_any(not finite):
        raise DivergenceError(f"the loss became {loss.item() if not finite else 'not finite on another process'} at "
                              f"step {step}; {hint}")
    if not finite:
        raise DivergenceError(f"the loss became {loss.item()} at step {step}; {hint}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_value:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_value_(params, clip_value)
    optimizer.step()
