"""A synthetic iSIREN-like equilibrium for comparing solvers on this machine (used by the CLI demo and the bench).

    z = sin(W (z + sin(U₀ x + c₀)) + b + U₁ x + c₁),   x on a square grid in [−1, 1]²,  ‖W‖₂ = norm,

initialized as SPEC 2.3 prescribes for a 1-layer iSIREN (U uniform(±1/√2)·input_scale/√2, phases uniform(−π, π),
W uniform(±√(1/D)) rescaled to the given spectral norm). Every coordinate is one sample of the batch.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch
from torch import Tensor

from engine.solvers import SOLVERS, solve


@dataclasses.dataclass
class ProbeLayer:
    """Weights and cached injections of the probe layer."""

    w: Tensor  # (D, D)
    inject0: Tensor  # sin(U₀x + c₀)        (N, D)
    inject1: Tensor  # U₁x + c₁ + b         (N, D)

    def map(self, w: Tensor | None = None) -> Callable[[Tensor], Tensor]:
        """z ↦ f(z) with weights `w` (default: the layer's own)."""
        wt = (self.w if w is None else w).T.contiguous()
        inject0, inject1 = self.inject0, self.inject1

        def f(z: Tensor) -> Tensor:
            return torch.sin(torch.addmm(inject1, z + inject0, wt))

        return f

    def perturbed_weights(self, relative: float, seed: int = 1) -> Tensor:
        """W + ΔW with ‖ΔW‖_F = relative · ‖W‖_F (a training step's worth of change)."""
        delta = torch.randn(self.w.shape, generator=torch.Generator().manual_seed(seed)).to(self.w)
        return self.w + relative * torch.linalg.matrix_norm(self.w) / torch.linalg.matrix_norm(delta) * delta


def isiren_probe(
    coords: int = 16384, width: int = 256, norm: float = 0.97, input_scale: float = 256.0,
    device: torch.device | str = "cpu", seed: int = 0,
) -> ProbeLayer:
    """Build the probe layer on a ⌊√coords⌋² grid."""
    gen = torch.Generator().manual_seed(seed)
    side = math.isqrt(coords)
    axis = torch.linspace(-1, 1, side)
    x = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1).reshape(-1, 2)  # (N, 2)
    bound = input_scale / math.sqrt(2) / math.sqrt(2)
    u0, u1 = ((torch.rand(2, width, generator=gen) * 2 - 1) * bound for _ in range(2))
    c0, c1 = ((torch.rand(width, generator=gen) * 2 - 1) * math.pi for _ in range(2))
    w = (torch.rand(width, width, generator=gen) * 2 - 1) / math.sqrt(width)
    w = w * (norm / torch.linalg.matrix_norm(w, ord=2))
    b = (torch.rand(width, generator=gen) * 2 - 1) / math.sqrt(width)
    device = torch.device(device)
    return ProbeLayer(w.to(device), torch.sin(x @ u0 + c0).to(device), (x @ u1 + c1 + b).to(device))


def compare_solvers(layer: ProbeLayer, tol: float = 1e-4, max_iter: int = 500, perturbation: float = 1e-3) -> list[dict]:
    """Cold and warm (after a weight perturbation) solves with every registered solver: one row per solver."""
    z0 = torch.zeros_like(layer.inject0)
    f, f_next = layer.map(), layer.map(layer.perturbed_weights(perturbation))
    rows = []
    for name in SOLVERS.names():
        z_star, cold = solve(name, f, z0, max_iter=max_iter, tol=tol)
        _, warm = solve(name, f_next, z_star, max_iter=max_iter, tol=tol)
        rows.append({"solver": name, "cold_iters": cold.nstep, "cold_ms": cold.wall_time_s * 1e3,
                     "warm_iters": warm.nstep, "warm_ms": warm.wall_time_s * 1e3,
                     "converged": bool(cold.converged.all() and warm.converged.all())})
    return rows
