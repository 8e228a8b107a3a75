"""A duel: two networks fit the same file side by side, step for step, with the same data and seed.

Each side is a plain fit (`FitTask`) built from the duel's shared settings with its own network, so that it is
exactly the run `deq-studio fit` would make; the duel steps one, then the other. A row carries both sides' metrics
under `<network>/` prefixes (`gabor-imfn/loss`, `gabor-mfn/psnr_test`, ...) plus each side's step time and step
memory (`memory_mb`: on CUDA the step's peak allocation, on a CPU what autograd saves for the backward);
`split_row` takes a row apart again. Snapshots preview both reconstructions beside the target, and a finished run
folder holds one ordinary fit run folder per network (`engine.runs`).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.atomic_files import atomic_write_text
from engine.config import DuelConfig
from engine.media import Signal, write_image
from engine.memory import step_memory
from engine.tasks.base import Schedule, Snapshot, Targets, TrainingTask, quality_sentence
from engine.tasks.fit import FitTask

SHARED_KEYS = ("step",)
"""Row keys both sides share (every other key belongs to one side)."""
SCORES = (("psnr_test", "held-out PSNR", " dB", 0.01), ("eval_psnr_train", "PSNR", " dB", 0.01),
          ("iou_uniform", "IoU", "", 0.001))
"""What decides a duel, the first both sides have: (key, name, unit, the difference below which it is a tie). Held-out
PSNR under the generalize protocol (how well each network predicts what it never saw), else PSNR on the file, IoU for
a shape."""


def standing(scores: dict[str, dict[str, float]]) -> dict[str, Any] | None:
    """Who leads on the duel's score, from each side's latest evaluation: {"metric", "name", "unit", "scores",
    "leader" (None for a tie), "margin"}; None before both sides have one."""
    for key, name, unit, tie in SCORES:
        values = {side: float(row[key]) for side, row in scores.items()
                  if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])}
        if len(values) == 2 and len(scores) == 2:
            (first, best), (_, other) = sorted(values.items(), key=lambda item: -item[1])
            margin = best - other
            return {"metric": key, "name": name, "unit": unit, "scores": values, "margin": margin,
                    "leader": first if margin >= tie else None}
    return None


def standing_text(result: dict[str, Any] | None, finished: bool, named: Callable[[str], str] = str) -> str:
    """One sentence: "fourier-imfn wins by 1.38 dB of held-out PSNR (28.52 against 27.14 dB)." ("leads" while
    training goes on; a tie when closer than the score's resolution); each network called `named(name)`."""
    if result is None:
        return ""
    (a, score_a), (b, score_b) = sorted(result["scores"].items(), key=lambda item: -item[1])
    a, b = named(a), named(b)
    digits, unit = (2, result["unit"]) if result["unit"] else (3, "")
    if result["leader"] is None:
        return f"A tie on {result['name']}: {a} {score_a:.{digits}f}, {b} {score_b:.{digits}f}{unit}."
    verb = "wins" if finished else "leads"
    return (f"{a} {verb} by {result['margin']:.{digits}f}{unit} of {result['name']} "
            f"({score_a:.{digits}f} against {score_b:.{digits}f}{unit} for {b}).")


def split_row(row: dict[str, float]) -> dict[str, dict[str, float]]:
    """A duel's row as one plain fit row per network, in the duel's order; an ordinary row gives {}."""
    sides: dict[str, dict[str, float]] = {}
    for key, value in row.items():
        if "/" in key:
            side, metric = key.split("/", 1)
            sides.setdefault(side, {})[metric] = value
    for side in sides.values():
        side.update({key: row[key] for key in SHARED_KEYS if key in row})
    return sides


class DuelTask(TrainingTask):
    """Two fits of one signal, trained in turn; the task protocol over both."""

    def __init__(self, config: DuelConfig, signal: Signal, device: torch.device) -> None:
        self.signal, self.device = signal, device
        self.sides = {name: FitTask(config.fit_of(name), signal, device) for name in (config.model.model, config.rival)}
        self._config = config
        self.last_scores: dict[str, dict[str, float]] = {name: {} for name in self.sides}

    @property
    def config(self) -> DuelConfig:
        return self._config

    @config.setter
    def config(self, config: DuelConfig) -> None:  # reschedule and set_lr pass the schedule and lr on to both sides
        self._config = config
        for side in self.sides.values():
            side.reschedule(config.steps, config.log_every, config.eval_every)
            side.set_lr(config.lr)

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.first.optimizer

    @property
    def first(self) -> FitTask:
        return next(iter(self.sides.values()))

    @property
    def step_count(self) -> int:
        return self.first.step_count

    @property
    def train_time(self) -> float:
        return sum(side.train_time for side in self.sides.values())

    def schedule(self) -> Schedule:
        schedule = self.first.schedule()  # the sides' medium defaults (video and shapes evaluate less often)
        return Schedule(self.config.steps, schedule.log_every, schedule.eval_every)

    def describe(self) -> str:
        names = " against ".join(self.sides)
        return f"Duel on {self.signal.source} ({self.signal.describe()}): {names}"

    def report(self, scalars: dict[str, float]) -> str:
        lines = [f"Done: {self.step_count} steps of each network."]
        for name, row in split_row(scalars).items():
            lines.append(f"  {name}: {quality_sentence(row)}")
        verdict = standing_text(standing(self.last_scores), finished=self.step_count >= self.config.steps)
        if verdict:
            lines.append(verdict)
        return "\n".join(lines)

    def targets(self) -> Targets:
        return self.first.targets()

    def step(self) -> dict[str, float]:
        row: dict[str, float] = {}
        for name, side in self.sides.items():
            scalars, memory = step_memory(self.device, side.step)
            row.update({f"{name}/{key}": value for key, value in scalars.items() if key != "step"})
            row[f"{name}/memory_mb"] = memory / 2 ** 20
        row["step"] = float(self.step_count)
        return row

    def evaluate(self, final: bool = False) -> dict[str, float]:
        row: dict[str, float] = {}
        for name, side in self.sides.items():
            scores = side.evaluate(final)
            self.last_scores[name] = scores
            row.update({f"{name}/{key}": value for key, value in scores.items()})
        return row

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        """Both reconstructions beside the target; the scalars are `scalars` over each side's latest evaluation (so
        a reopened duel shows who won)."""
        latest = {f"{name}/{key}": value for name, scores in self.last_scores.items() for key, value in scores.items()}
        previews: dict[str, np.ndarray] = {}
        for name, side in self.sides.items():
            if side.reconstruction is not None:
                previews[name] = side.reconstruction
        if previews:
            previews["target"] = self.targets().arrays["signal"]
        return Snapshot(self.step_count, self.config.steps, self.train_time, {**latest, **scalars}, previews, final)

    def state_dict(self) -> dict[str, Any]:
        return {name: side.state_dict() for name, side in self.sides.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, side in self.sides.items():
            side.load_state_dict(state[name])

    def export(self, out_dir: Path) -> Path:
        """`duel.json` (each side's latest scores) and, for an image, `duel.png`: target | first | second."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if any(side.reconstruction is None for side in self.sides.values()) or not all(self.last_scores.values()):
            self.evaluate(final=True)  # once, for both sides (it keeps their scores)
        summary = out_dir / "duel.json"
        result, finished = standing(self.last_scores), self.step_count >= self.config.steps
        atomic_write_text(summary, json.dumps({"file": self.signal.source, "step": self.step_count,
                                               "scores": self.last_scores,
                                               "leader": result and result["leader"], "finished": finished,
                                               "decided_by": result and result["metric"],
                                               "verdict": standing_text(result, finished)}, indent=1))
        if self.signal.medium != "image":
            return summary
        target = self.targets().arrays["signal"]
        panels = [target, *(side.reconstruction for side in self.sides.values())]
        picture = out_dir / "duel.png"
        write_image(picture, np.concatenate([np.atleast_3d(p) for p in panels], axis=1).squeeze())
        return picture

    def parts(self) -> dict[str, FitTask]:
        """Each side as the fit it is (a finished duel saves one fit run folder per network)."""
        return dict(self.sides)
