"""What the window can run: each task kind's title, starting settings, hidden fields and how its task is built.

Fitting a file starts from settings chosen for the file's medium and the device (`fit_defaults`): on a CPU they are
small enough to show progress within seconds (a 256-pixel preview of a photograph, 2 s of audio, 16 small video
frames, 50,000 mesh points per pass); on CUDA the SPEC's full settings. The other kinds need no file: they train
or use the MNIST models and digits.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from engine.config import (AdvTrainConfig, AttackTaskConfig, FitConfig, InverseConfig, ModelConfig, PriorConfig,
                           SignalConfig)
from engine.tasks import build_adv_task, build_attack_task, build_fit_task, build_inverse_task, build_prior_task


def fit_defaults(medium: str, device: torch.device) -> FitConfig:
    """Starting settings of a fit of `medium` on `device`."""
    if device.type == "cuda":
        return FitConfig(steps=2000, log_every=10, eval_every=None)
    small = ModelConfig(model="gabor-imfn", width=64)
    if medium == "image":  # the filters' scale follows the preview's resolution (SPEC: 256 for ~512 pixels)
        return FitConfig(model=dataclasses.replace(small, input_scale=128.0), signal=SignalConfig(max_size=256),
                         lr=3e-3, steps=500, log_every=5, eval_every=25)
    if medium == "audio":
        return FitConfig(model=small, signal=SignalConfig(audio_duration_s=2.0), lr=3e-3, steps=500, log_every=5,
                         eval_every=25)
    if medium == "video":
        return FitConfig(model=small, signal=SignalConfig(max_size=96, video_stride=2, video_max_frames=16),
                         lr=3e-3, batch_size=16_384, steps=500, log_every=5, eval_every=50)
    return FitConfig(model=small, signal=SignalConfig(mesh_points=50_000), batch_size=8192, steps=500, log_every=5,
                     eval_every=100, eval_points=1 << 16, mc_resolution=64)


@dataclasses.dataclass(frozen=True)
class TaskKind:
    """One entry of the window's task selector."""

    key: str
    title: str
    tooltip: str
    config: Any
    """Starting settings (the form shows them)."""
    hidden: frozenset[str]
    """Fields the form leaves out (dotted paths)."""
    build: Callable[[Any, Path | None, torch.device], Any]
    """(settings, opened file or None, device) → task; SignalError / ConfigError / ValueError on bad input."""
    needs_file: bool = False
    comparison: bool = False
    """A race of methods (one step per method) rather than a training run."""
    run_kind: str | None = None
    """The task's name in a run folder's config.json (as `deq-studio resume` knows it); None: not resumable."""


def _fit(config: FitConfig, path: Path | None, device: torch.device):
    if path is None:
        raise ValueError("open a file first")
    return build_fit_task(path, config, device)


def _without_file(build: Callable[[Any, torch.device], Any]) -> Callable[[Any, Path | None, torch.device], Any]:
    """A builder of a task that needs no opened file (MNIST tasks), in TaskKind.build's signature."""
    return lambda config, path, device: build(config, device)


TASK_KINDS: dict[str, TaskKind] = {kind.key: kind for kind in (
    TaskKind("fit", "Fit a file", "Fit the opened image, audio clip, video or mesh with an implicit network",
             fit_defaults("image", torch.device("cpu")), frozenset({"device"}), _fit, needs_file=True, run_kind="fit"),
    TaskKind("prior", "Train a generative prior (MNIST)",
             "Train an MDEQ-lite decoder whose latents are found by JIIO; samples from a Gaussian mixture",
             PriorConfig(steps=200, eval_every=50, log_every=5), frozenset({"device"}), _without_file(build_prior_task),
             run_kind="train-prior"),
    TaskKind("inverse", "Inverse problem: JIIO vs Adam",
             "Denoise or inpaint digits with a prior: JIIO and Adam over the latent race against the clock",
             InverseConfig(count=16), frozenset({"device"}), _without_file(build_inverse_task), comparison=True),
    TaskKind("attack", "Attack: JIO vs PGD", "Attack the MNIST classifier inside an L2 ball with JIO and with PGD",
             AttackTaskConfig(count=64),
             frozenset({"device", "attack.method", "attack.jio.epsilon", "attack.jio.projection"}),
             _without_file(build_attack_task), comparison=True),
    TaskKind("adv-train", "Train a classifier (clean or adversarial)",
             "Train an MDEQ-lite MNIST classifier on clean digits or on PGD / JIO adversarial examples",
             AdvTrainConfig(steps=300, log_every=5, eval_every=100, eval_images=200), frozenset({"device"}),
             _without_file(build_adv_task), run_kind="adv-train"),
)}
"""Every task the engine registers, as the window offers them."""
