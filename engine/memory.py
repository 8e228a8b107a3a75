"""How much memory a fit will take, estimated from its settings before it starts, and the guard that refuses a fit
that will not fit into the memory that is free.

The estimate is a measured model, not a guess. A fit's memory grows with four products of the hidden width D:
- the coordinates of one training step (B), whose activations autograd keeps, more with each layer;
- the warm-start buffer, when there is one (one D-vector per training coordinate);
- one evaluation chunk: the solver's iterates and history, and the L + 1 injections it reuses;
- the data itself.
An evaluation runs after the step's graph is freed and reuses that memory as far as its blocks fit into the freed
ones (glibc serves a request from a freed block only when it fits): fully when a training batch is at least one
evaluation chunk, in proportion below that. `bench/memory_model.py` measures the peak resident memory of real fits
(image, audio, video, mesh at several sizes, widths and depths). Their fit gives the coefficients below, and the
bench checks them against measurements it did not fit.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from engine.config import FitConfig
from engine.media.base import TooLarge

EVAL_CHUNK = 32768
"""Coordinates solved at once in an evaluation (`INR.predict`)."""
TRAIN_BYTES_PER_UNIT = 98.0
"""Bytes per (training coordinate × hidden unit) of one step: the solver's iterates, activations, gradients."""
LAYER_BYTES_PER_UNIT = 17.0
"""Bytes per (training coordinate × hidden unit) of each layer past the first inside the equilibrium."""
EVAL_BYTES_PER_UNIT = 57.0
"""Bytes per (evaluation coordinate × hidden unit): the solver's iterates and Anderson's history."""
FILTER_BYTES_PER_UNIT = 16.0
"""Bytes per (evaluation coordinate × hidden unit) of each of the L + 1 injections a solve reuses."""
BUFFER_BYTES_PER_UNIT = 4.0
"""Bytes per (training coordinate × hidden unit) of the warm-start buffer: one float32."""
FIXED_BYTES = 60e6
"""What a fit adds regardless of its size: the model, the optimizer, allocator slack."""
HEADROOM = 0.9
"""A fit is refused when its estimate exceeds this share of the free memory."""
DEMO_BYTES_PER_UNIT = 185.0
"""Bytes per (coordinate × hidden unit) of the solver comparison (`deq-studio demo`): measured 180 at 65,536 and
262,144 coordinates × 256 (peak resident memory; Broyden's 2 × 30 stored vectors dominate)."""


T = TypeVar("T")
SMALLEST_BATCH = 4096
"""The smallest batch of coordinates offered when a full-batch fit does not fit into memory."""


class MemoryGuardError(TooLarge):
    """A run would need more memory than is free; the message says how much, and what to change (`smaller`: a
    batch size that fits, when one does)."""


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    """The parts of a fit's peak memory beyond what the process already holds, in bytes."""

    training: float
    buffer: float
    evaluation: float
    data: float
    fixed: float = FIXED_BYTES
    reused: float = 0.0
    """What the evaluation takes from the memory training freed (counted once, not twice)."""

    @property
    def total(self) -> float:
        return self.training + self.buffer + self.evaluation + self.data + self.fixed - self.reused


def estimate_fit_memory(config: FitConfig, n_train: int, n_eval: int, d_in: int, d_out: int,
                        buffered: bool) -> MemoryEstimate:
    """The peak memory of a fit with `config` (medium defaults resolved) on `n_train` training coordinates, scored on
    `n_eval` coordinates (grid or points), with a warm-start buffer when `buffered`."""
    width, layers = config.model.width, config.model.layers
    batch, chunk = min(n_train, config.batch_size or n_train), min(n_eval, EVAL_CHUNK)
    training = (TRAIN_BYTES_PER_UNIT + LAYER_BYTES_PER_UNIT * (layers - 1)) * batch * width
    evaluation = (EVAL_BYTES_PER_UNIT + FILTER_BYTES_PER_UNIT * (layers + 1)) * chunk * width
    return MemoryEstimate(
        training=training,
        buffer=BUFFER_BYTES_PER_UNIT * n_train * width if buffered else 0.0,
        evaluation=evaluation,
        data=4.0 * (n_eval + n_train) * (d_in + 2 * d_out),
        reused=min(training, evaluation) * min(1.0, batch / chunk),
    )


def free_memory(device: torch.device) -> float:
    """Bytes free for this process on `device`: the GPU's free memory, or the RAM the system can still give."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return float(free)
    import psutil

    return float(psutil.virtual_memory().available)


FIT_ADVICE = ("the Quick preview settings (--preset preview), or a smaller Max size, Width or Batch size (or a "
              "shorter clip, fewer frames).")


def check_memory(estimate: MemoryEstimate, device: torch.device, what: str,
                 smaller: dict[str, int] | None = None, advice: str = FIT_ADVICE) -> None:
    """MemoryGuardError when `estimate` does not fit into the free memory of `device`; `smaller` is what it
    offers (the batch size of `fitting_batch`), `advice` what else to choose."""
    free = free_memory(device)
    if estimate.total <= HEADROOM * free:
        return
    where = "the graphics card" if device.type == "cuda" else "this computer"
    batch = (smaller or {}).get("batch_size")
    offer = (f"Train on batches of {batch:,} coordinates instead (Batch size {batch}, --batch-size {batch}), or choose"
             if batch else "Choose")
    raise MemoryGuardError(f"{what} would need about {estimate.total / 1e9:.1f} GB of memory and {where} has "
                           f"{free / 1e9:.1f} GB free. {offer} {advice}", smaller)




@dataclasses.dataclass(frozen=True)
class DatasetEstimate:
    """The peak memory of a dataset task above what the built task holds: `examples` solved at once, `state` numbers
    in each one's equilibrium state."""

    examples: int
    state: int
    bytes_per_state: float

    @property
    def total(self) -> float:
        return FIXED_BYTES + self.examples * self.state * self.bytes_per_state


@dataclasses.dataclass(frozen=True)
class DatasetMemory:
    """A dataset task kind's memory model (its registration's `memory`): what it solves at once, and the bytes per
    (example solved at once × number of one example's equilibrium state) — its solver's iterates and history,
    autograd's saved tensors, the attack's or JIIO's augmented state — measured by `bench/dataset_memory.py` as the
    slope between two sizes of the kind, rounded up so that every case measured there, wider networks included, is
    estimated at or above its peak."""

    examples: Callable[[Any, Any], tuple[int, int]]
    """(config, built task) → (examples one step or evaluation solves at once, numbers in one example's state)."""
    bytes_per_state: float

    def estimate(self, examples: int, state: int) -> DatasetEstimate:
        """The estimate of solving `examples` examples of `state` numbers at once."""
        return DatasetEstimate(examples, state, self.bytes_per_state)

    def of(self, config: Any, task: Any) -> DatasetEstimate:
        """The estimate of a built task with `config`."""
        return self.estimate(*self.examples(config, task))


def check_dataset_memory(kind: str, estimate: DatasetEstimate, device: torch.device) -> None:
    """MemoryGuardError when a dataset task of `kind` (its name) would not fit (`estimate`)."""
    examples = estimate.examples
    as_fit = MemoryEstimate(training=estimate.total - FIXED_BYTES, buffer=0.0, evaluation=0.0, data=0.0)
    check_memory(as_fit, device, f"This {kind} run ({examples:,} examples solved at once)",
                 advice="fewer examples at once (Count, Batch size, Eval images or Tasks per step), fewer or "
                        "narrower Channels, or the Quick preview settings (--preset preview).")


def check_demo_memory(coords: int, width: int, device: torch.device) -> None:
    """MemoryGuardError when the solver comparison of `coords` coordinates × `width` would not fit."""
    estimate = MemoryEstimate(training=0.0, buffer=0.0, evaluation=DEMO_BYTES_PER_UNIT * coords * width, data=0.0)
    check_memory(estimate, device, f"Comparing the solvers on {coords:,} coordinates × {width}",
                 advice="fewer coordinates (--coords) or a smaller width (--width).")


def check_fit_memory(config: FitConfig, signal, device: torch.device, what: str) -> None:
    """MemoryGuardError when fitting `signal` with `config` would not fit into the free memory of `device`; it
    offers the largest batch size that fits, when there is one."""
    estimate = fit_memory(config, signal)
    if estimate.total <= HEADROOM * free_memory(device):
        return
    batch = fitting_batch(config, signal, device)
    check_memory(estimate, device, what, None if batch is None else {"batch_size": batch})


def fitting_batch(config: FitConfig, signal, device: torch.device) -> int | None:
    """The largest batch size (a power of two, at least SMALLEST_BATCH, below the full batch) with which fitting
    `signal` fits into the free memory of `device`; None when none does (the data itself is too large)."""
    free, batch, n_train = HEADROOM * free_memory(device), 1 << 20, training_coordinates(config, signal)
    while batch >= SMALLEST_BATCH:
        if batch < n_train and fit_memory(dataclasses.replace(config, batch_size=batch), signal).total <= free:
            return batch
        batch //= 2
    return None


def fit_memory(config: FitConfig, signal) -> MemoryEstimate:
    """The estimate of fitting `signal` (a loaded Signal or MeshSignal) with `config` (empty fields take the
    medium's defaults, as the task will)."""
    from engine.models.inr import IMPLICIT

    resolved, n_train, n_eval, d_in, d_out = _fit_counts(config, signal)
    full_batch = resolved.batch_size is None or resolved.batch_size >= n_train
    buffered = IMPLICIT.get(resolved.model.model, False) and (full_batch and resolved.amortize
                                                               or resolved.minibatch_warm_start)
    return estimate_fit_memory(resolved, n_train, n_eval, d_in, d_out, buffered)


def training_coordinates(config: FitConfig, signal) -> int:
    """How many coordinates fitting `signal` with `config` trains on (all of them in a full batch)."""
    return _fit_counts(config, signal)[1]


def _fit_counts(config: FitConfig, signal) -> tuple[FitConfig, int, int, int, int]:
    """The resolved config; training and evaluation coordinates; input and output dimensions."""
    from engine.media import MeshSignal, generalization_split
    from engine.presets import resolve_fit_config

    if isinstance(signal, MeshSignal):
        resolved = resolve_fit_config(config, signal.medium)
        return resolved, resolved.signal.mesh_points, 2 * resolved.eval_points + resolved.mc_resolution ** 3, 3, 1
    resolved = resolve_fit_config(config, signal.medium)
    n_eval = len(signal.coords)
    n_train = n_eval if resolved.protocol == "represent" else len(generalization_split(signal)[0])
    return resolved, n_train, n_eval, signal.coords.shape[1], signal.channels


def step_memory(device: torch.device, step: Callable[[], T]) -> tuple[T, int]:
    """(`step()`, the bytes it took): on CUDA the peak allocated above what was held before it; on a CPU, which keeps
    no allocator statistics, the bytes autograd saved for the backward (each storage counted once) — the part of a
    step's memory that grows with the coordinates and with depth."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        held = torch.cuda.memory_allocated(device)
        result = step()
        return result, torch.cuda.max_memory_allocated(device) - held
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = step()
    return result, sum(storages.values())
