"""Damped Picard (forward) iteration z ← (1−τ) z + τ f(z).

Converges linearly when f is a contraction; the baseline every accelerated solver is measured against.
Reference: Bai, Kolter, Koltun, "Deep Equilibrium Models", NeurIPS 2019.
"""
from __future__ import annotations

import torch
from torch import Tensor

from engine.solvers.base import SOLVERS, BestIterate, FixedPointMap, SolverStats, StopMode, residual_per_sample


@SOLVERS.register("picard")
def picard(
    f: FixedPointMap,
    z0: Tensor,
    *,
    max_iter: int,
    tol: float,
    stop_mode: StopMode = "rel",
    check_every: int = 1,
    damping: float = 1.0,
) -> tuple[Tensor, SolverStats]:
    """Iterate z ← (1−τ)z + τf(z) from z0, returning each sample's lowest-residual iterate."""
    best = BestIterate(z0, tol, "picard", stop_mode, check_every=check_every)
    z = z0.detach().clone()
    work = torch.empty_like(z)
    for _ in range(max_iter):
        fz = f(z)
        if best.update(z, residual_per_sample(fz, z, stop_mode, work)):
            break
        if damping == 1.0:
            z = fz
        else:
            z.mul_(1.0 - damping).add_(fz, alpha=damping)
    return best.finish()
