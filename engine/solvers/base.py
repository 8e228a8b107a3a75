"""The fixed-point solver contract: signature, per-sample residuals, best-iterate tracking, statistics.

Every solver has the signature

    solve(f, z0, *, max_iter, tol, stop_mode="rel", **options) -> (z_star, SolverStats)

where z has a leading batch dimension and `f` maps a batch to a batch of the same shape. Residuals are tracked per
sample; each sample's lowest-residual iterate is returned; the solve stops when every sample is below `tol` or
after `max_iter` evaluations of f. Solvers run under `torch.no_grad()`.
Reference: Bai, Kolter, Koltun, "Deep Equilibrium Models", NeurIPS 2019 (solver setup of section 3.1.2).
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Literal, Protocol

import numpy as np
import torch
from torch import Tensor

from engine.registry import Registry

StopMode = Literal["rel", "abs"]
EVERY_ITERATION = 0.0
"""A tolerance no residual goes below: the solve runs all its `max_iter` iterations (JIIO runs a set number of
rounds), still keeping each sample's best iterate."""
FixedPointMap = Callable[[Tensor], Tensor]
_EPS = 1e-12


@dataclasses.dataclass
class SolverStats:
    """What a solve did. Per-sample tensors stay on the solve's device; `as_numpy` gives plain data."""

    solver: str
    """Registered name of the solver."""
    nstep: int
    """Evaluations of f performed."""
    residual_max_trace: list[float]
    """Batch-max residual after each evaluation of f."""
    residual_mean_trace: list[float]
    """Batch-mean residual after each evaluation of f."""
    residual: Tensor
    """Final (lowest) residual of each sample, shape (B,)."""
    converged: Tensor
    """Whether each sample reached tol, shape (B,) bool."""
    wall_time_s: float
    """Seconds spent in the solve (device-synchronized)."""
    stop_mode: StopMode = "rel"
    tol: float = 0.0

    @property
    def max_residual(self) -> float:
        """Largest final per-sample residual."""
        return float(self.residual.max()) if self.residual.numel() else 0.0

    def as_numpy(self) -> dict[str, object]:
        """Plain data (numbers, numpy arrays) for snapshots and logs."""
        return {
            "solver": self.solver,
            "nstep": self.nstep,
            "residual_max_trace": np.asarray(self.residual_max_trace, dtype=np.float64),
            "residual_mean_trace": np.asarray(self.residual_mean_trace, dtype=np.float64),
            "residual": self.residual.detach().cpu().numpy(),
            "converged": self.converged.detach().cpu().numpy(),
            "wall_time_s": self.wall_time_s,
        }


class SolverFn(Protocol):
    def __call__(
        self, f: FixedPointMap, z0: Tensor, *, max_iter: int, tol: float, stop_mode: StopMode = "rel", **options: float
    ) -> tuple[Tensor, SolverStats]: ...


SOLVERS: Registry[SolverFn] = Registry("solver")


def residual_norms(g: Tensor, fz: Tensor, stop_mode: StopMode) -> Tensor:
    """Per-sample ‖g‖ for a residual g = f(z) − z, divided by ‖f(z)‖ in rel mode. Shape (B,)."""
    dims = tuple(range(1, g.dim()))  # over every dimension but the batch's, without copying a strided view
    res = torch.linalg.vector_norm(g, dim=dims)
    if stop_mode == "rel":
        res = res / (torch.linalg.vector_norm(fz, dim=dims) + _EPS)
    return res


def residual_per_sample(fz: Tensor, z: Tensor, stop_mode: StopMode, work: Tensor | None = None) -> Tensor:
    """‖f(z) − z‖ per sample, divided by ‖f(z)‖ in rel mode. Shape (B,).

    `work`, a buffer shaped like z, receives f(z) − z so that solver loops allocate no large temporaries.
    """
    return residual_norms(torch.sub(fz, z, out=work) if work is not None else fz - z, fz, stop_mode)


class BestIterate:
    """Keeps each sample's lowest-residual iterate (or, given costs, its best near-equilibrium one) and the residual
    traces while a solver runs, all on the solve's device.

    `update(z, res)` records the residual `res` (B,) measured at iterate `z` and returns True when every sample
    is below tol. Only that answer needs the host: it is asked every `check_every`-th call (the solve then runs at
    most `check_every` − 1 iterations more than it needed, keeping each sample's best iterate all the same) and never
    when tol is `EVERY_ITERATION`, so a GPU's queue of work is not drained between iterations.
    """

    def __init__(self, z0: Tensor, tol: float, solver: str, stop_mode: StopMode, cost_slack: float = 1.3,
                 warmup: int = 10, check_every: int = 1) -> None:
        self.z = z0.detach().clone()
        self.residual = torch.full((z0.shape[0],), float("inf"), device=z0.device, dtype=torch.float64)
        self.lowest = self.residual.clone()
        self.cost = self.residual.clone()
        self.cost_slack, self.warmup = cost_slack, warmup
        self.tol = tol
        self.solver = solver
        self.stop_mode = stop_mode
        self.check_every = max(1, int(check_every))
        self.calls = 0
        self._traces: list[Tensor] = []
        """Per call: the batch's worst and mean residual, (2,) on the device."""
        self._start = time.perf_counter()
        self._sync = z0.device.type == "cuda"
        if self._sync:
            torch.cuda.synchronize(z0.device)

    def update(self, z: Tensor, res: Tensor, cost: Tensor | None = None) -> bool:
        """With a per-sample `cost` of z, a sample also keeps z when its cost is its lowest so far and its residual
        is within `cost_slack` × its lowest residual, and always during the first `warmup` calls (JIIO attacks:
        the best attack among near-equilibrium iterates, as the JIIO reference selects)."""
        res = torch.nan_to_num(res.to(torch.float64), nan=float("inf"))
        better = res < self.residual
        if cost is not None:
            cost = torch.nan_to_num(cost.detach().to(torch.float64), nan=float("inf"))
            better = better | (cost < self.cost) & (res < self.cost_slack * self.lowest)
            if self.calls < self.warmup:
                better = torch.ones_like(better)
            self.cost = torch.where(better, cost, self.cost)
            self.lowest = torch.minimum(self.lowest, res)
        self.residual = torch.where(better, res, self.residual)
        torch.where(better.view(-1, *([1] * (z.dim() - 1))), z, self.z, out=self.z)
        self.calls += 1
        if res.numel():
            self._traces.append(torch.stack([res.max(), res.mean()]))
        if self.tol <= EVERY_ITERATION or self.calls % self.check_every:
            return False
        return bool(self.residual.max() < self.tol) if self.residual.numel() else True

    def finish(self) -> tuple[Tensor, SolverStats]:
        if self._sync:
            torch.cuda.synchronize(self.z.device)
        worst, mean = torch.stack(self._traces).T.tolist() if self._traces else ([], [])
        stats = SolverStats(
            solver=self.solver,
            nstep=self.calls,
            residual_max_trace=worst,
            residual_mean_trace=mean,
            residual=self.residual,
            converged=self.residual < self.tol,
            wall_time_s=time.perf_counter() - self._start,
            stop_mode=self.stop_mode,
            tol=self.tol,
        )
        return self.z, stats


def solve(
    name: str, f: FixedPointMap, z0: Tensor, *, max_iter: int, tol: float, stop_mode: StopMode = "rel", **options: float
) -> tuple[Tensor, SolverStats]:
    """Run the registered solver `name` on f from z0 (under no_grad)."""
    with torch.no_grad():
        return SOLVERS.get(name)(f, z0, max_iter=max_iter, tol=tol, stop_mode=stop_mode, **options)

