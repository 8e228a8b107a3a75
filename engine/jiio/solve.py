"""Running JIIO: Anderson acceleration on the augmented state for exactly K iterations.

Each sample's lowest-residual iterate (or, with select="loss", its lowest-loss near-equilibrium one) is
returned (its x projected onto the constraint set), with the loss and time of every iteration for
loss-against-wall-clock comparisons.
Reference: Gurumurthy, Bai, Manchester, Kolter, "Joint Inference and Input Optimization in Equilibrium Networks",
NeurIPS 2021, algorithm 1.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from engine.config import JIIOConfig
from engine.jiio.augmented import AugmentedMap, JIIOProblem, StatePacking
from engine.solvers import SolverStats
from engine.solvers.anderson import anderson
from engine.solvers.base import EVERY_ITERATION


@dataclasses.dataclass
class JIIOResult:
    """The joint solution: equilibrium z*, adjoint μ*, optimized input x*, and how the run went."""

    z: Tensor
    mu: Tensor
    x: Tensor
    stats: SolverStats
    loss_trace: list[float]
    """Mean per-sample loss at each iteration."""
    time_trace: list[float]
    """Seconds since the start at each iteration."""


def jiio(problem: JIIOProblem, z0: Tensor, x0: Tensor, config: JIIOConfig, mu0: Tensor | None = None) -> JIIOResult:
    """Solve min_x ℓ(z*(x), x) jointly with z* = f(z*, x) and its adjoint, starting from (z0, μ0 or 0, Π(x0))."""
    packing = StatePacking(z0.shape, x0.shape)
    augmented = AugmentedMap(problem, config, packing, z0.device)
    with torch.no_grad():
        v0 = packing.pack(z0.detach(), torch.zeros_like(z0) if mu0 is None else mu0.detach(),
                          problem.project(x0.detach()))
        v, stats = anderson(augmented, v0, max_iter=config.iterations, tol=EVERY_ITERATION, stop_mode="rel",
                            memory=config.anderson_memory, lam=config.anderson_lam, kind=config.anderson_kind,
                            project=augmented.projector(),
                            cost=(lambda: augmented.last_loss) if config.select == "loss" else None)
        z, mu, x = packing.unpack(v)
        x = problem.project(x)
    stats.solver = "jiio-anderson"
    loss_trace, time_trace = augmented.trace.read()
    return JIIOResult(z, mu, x.to(x0.dtype), stats, loss_trace, time_trace)
