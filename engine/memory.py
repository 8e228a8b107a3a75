"""How much memory a fit will take, estimated from its settings before it starts, and the guard that refuses a fit
that will not fit into the memory that is free.

The estimate is a measured model, not a guess. A fit's memory grows with four products of the hidden width D:
- the coordinates of one training step (B), whose activations autograd keeps;
- the warm-start buffer, when there is one (one D-vector per training coordinate);
- one evaluation chunk (the solver's iterates);
- the data itself.
`bench/memory_model.py` measures the peak resident memory of real fits (image, audio, video, mesh at several sizes
and widths). Their least-squares fit gives the coefficients below, and the bench checks them against measurements
it did not fit.
"""
from __future__ import annotations

import dataclasses

import torch

from engine.config import FitConfig

EVAL_CHUNK = 32768
"""Coordinates solved at once in an evaluation (`INR.predict`)."""
TRAIN_BYTES_PER_UNIT = 110.0
"""Bytes per (training coordinate × hidden unit) of one step: the solver's iterates, activations, gradients."""
LAYER_BYTES_PER_UNIT = 4.0
"""Bytes per (training coordinate × hidden unit) of each layer past the first inside the equilibrium."""
EVAL_BYTES_PER_UNIT = 69.0
"""Bytes per (evaluation coordinate × hidden unit × layer): the solver's iterates and Anderson's history."""
BUFFER_BYTES_PER_UNIT = 4.0
"""Bytes per (training coordinate × hidden unit) of the warm-start buffer: one float32."""
FIXED_BYTES = 60e6
"""What a fit adds regardless of its size: the model, the optimizer, allocator slack."""
HEADROOM = 0.9
"""A fit is refused when its estimate exceeds this share of the free memory."""


class MemoryGuardError(ValueError):
    """A run would need more memory than is free; the message says how much, and what to change."""


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    """The parts of a fit's peak memory beyond what the process already holds, in bytes."""

    training: float
    buffer: float
    evaluation: float
    data: float
    fixed: float = FIXED_BYTES

    @property
    def total(self) -> float:
        return self.training + self.buffer + self.evaluation + self.data + self.fixed


def estimate_fit_memory(config: FitConfig, n_train: int, n_eval: int, d_in: int, d_out: int,
                        buffered: bool) -> MemoryEstimate:
    """The peak memory of a fit with `config` (medium defaults resolved) on `n_train` training coordinates, scored on
    `n_eval` coordinates (grid or points), with a warm-start buffer when `buffered`."""
    width, layers = config.model.width, config.model.layers
    batch = min(n_train, config.batch_size or n_train)
    return MemoryEstimate(
        training=(TRAIN_BYTES_PER_UNIT + LAYER_BYTES_PER_UNIT * (layers - 1)) * batch * width,
        buffer=BUFFER_BYTES_PER_UNIT * n_train * width if buffered else 0.0,
        evaluation=EVAL_BYTES_PER_UNIT * min(n_eval, EVAL_CHUNK) * width * layers,
        data=4.0 * (n_eval + n_train) * (d_in + 2 * d_out),
    )


def free_memory(device: torch.device) -> float:
    """Bytes free for this process on `device`: the GPU's free memory, or the RAM the system can still give."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return float(free)
    import psutil

    return float(psutil.virtual_memory().available)


def check_memory(estimate: MemoryEstimate, device: torch.device, what: str) -> None:
    """MemoryGuardError when `estimate` does not fit into the free memory of `device`."""
    free = free_memory(device)
    if estimate.total <= HEADROOM * free:
        return
    where = "the graphics card" if device.type == "cuda" else "this computer"
    raise MemoryGuardError(
        f"{what} would need about {estimate.total / 1e9:.1f} GB of memory and {where} has {free / 1e9:.1f} GB free. "
        f"Choose the Quick preview settings (--preset preview), or a smaller Max size, Width or Batch size (or a "
        f"shorter clip, fewer frames).")


def fit_memory(config: FitConfig, signal) -> MemoryEstimate:
    """The estimate of fitting `signal` (a loaded Signal or MeshSignal) with `config` (empty fields take the
    medium's defaults, as the task will)."""
    from engine.media import MeshSignal, generalization_split
    from engine.models.inr import IMPLICIT
    from engine.presets import resolve_fit_config

    if isinstance(signal, MeshSignal):
        resolved = resolve_fit_config(config, "mesh")
        n_train, d_in, d_out = resolved.signal.mesh_points, 3, 1
        n_eval = 2 * resolved.eval_points + resolved.mc_resolution ** 3
    else:
        resolved = resolve_fit_config(config, signal.medium)
        n_eval, d_in, d_out = len(signal.coords), signal.coords.shape[1], signal.channels
        n_train = n_eval if resolved.protocol == "represent" else len(generalization_split(signal)[0])
    full_batch = resolved.batch_size is None or resolved.batch_size >= n_train
    buffered = IMPLICIT.get(resolved.model.model, False) and (full_batch and resolved.amortize
                                                               or resolved.minibatch_warm_start)
    return estimate_fit_memory(resolved, n_train, n_eval, d_in, d_out, buffered)
