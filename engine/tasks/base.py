"""The Task protocol every job implements, and the Snapshot it hands to the CLI and the GUI."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch


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


class Task(Protocol):
    """What the loop drives: one optimization step at a time."""

    step_count: int
    train_time: float

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


def gradient_step(loss, optimizer, step: int, clip_value: float | None = None, hint: str = "lower the lr") -> None:
    """One optimizer step on `loss`; a non-finite loss raises DivergenceError (nothing is updated)."""
    if not torch.isfinite(loss):
        raise DivergenceError(f"the loss became {loss.item()} at step {step}; {hint}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_value:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_value_(params, clip_value)
    optimizer.step()
