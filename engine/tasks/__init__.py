"""Tasks: what the loop drives. `build_fit_task` turns a file and a FitConfig into the right task."""
from __future__ import annotations

from pathlib import Path

import torch

from engine.config import FitConfig
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


__all__ = ["DivergenceError", "FitTask", "MeshFitTask", "Snapshot", "Task", "build_fit_task"]
