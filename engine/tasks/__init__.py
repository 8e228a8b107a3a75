"""Tasks: what the loop drives. `build_fit_task` turns a file and a FitConfig into the right task."""
from __future__ import annotations

from pathlib import Path

import torch

from engine.config import FitConfig, PriorConfig
from engine.signals import MeshSignal, load_signal
from engine.tasks.base import DivergenceError, Snapshot, Task
from engine.tasks.fit import FitTask
from engine.tasks.mesh_fit import MeshFitTask


def build_fit_task(path: str | Path, config: FitConfig, device: torch.device) -> FitTask | MeshFitTask:
    """Load the file (SignalError on bad input) and build the fit task for its medium."""
    signal = load_signal(path, config.signal)
    if isinstance(signal, MeshSignal):
        return MeshFitTask(config, signal, device)
    return FitTask(config, signal, device)


def build_prior_task(config: PriorConfig, device: torch.device):
    """Read the training images (MNIST IDX folder or image folder) and build generative training."""
    from engine.signals.mnist import image_dataset
    from engine.tasks.generative import GenerativeTrainTask

    if not config.data:
        raise ValueError("train-prior needs --data: a folder with the MNIST IDX files or with images")
    data = image_dataset(config.data, seed=config.seed)
    return GenerativeTrainTask(config, data["train"][0], data["held_out"][0], device)


__all__ = ["DivergenceError", "FitTask", "MeshFitTask", "Snapshot", "Task", "build_fit_task", "build_prior_task"]
