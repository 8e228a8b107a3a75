"""Backward modes of an implicit layer: given g = ∂ℓ/∂z at the equilibrium, the vector u that replaces g.

The gradient of ℓ(z*) with respect to anything θ that f depends on is uᵀ ∂f/∂θ with u solving u = Jᵀu + g
(J = ∂f/∂z at z*). The modes trade accuracy for cost:
- `exact`: solve the adjoint fixed point with a solver (warm-startable);
- `neumann` (order T): u ≈ Σ_{i=0..T} (Jᵀ)ⁱ g, T vector-Jacobian products; T = 1 is the (Implicit)² default;
- `jfb` (T = 0): u = g, Jacobian-free backprop.
References: Bai, Kolter, Koltun, "Deep Equilibrium Models", NeurIPS 2019 (implicit backward);
Huang, Bai, Kolter, "(Implicit)²: Implicit Layers for Implicit Representations", NeurIPS 2021 (Neumann, amortization);
Fung et al., "JFB: Jacobian-Free Backpropagation for Implicit Networks", AAAI 2022.
"""
from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from engine.config import BackwardConfig
from engine.solvers import SolverStats, solve

VJP = Callable[[Tensor], Tensor]
"""v ↦ Jᵀv at the equilibrium."""


def neumann_adjoint(g: Tensor, vjp: VJP, order: int) -> Tensor:
    """Σ_{i=0..order} (Jᵀ)ⁱ g with `order` vector-Jacobian products."""
    u, term = g, g
    for _ in range(order):
        term = vjp(term)
        u = u + term
    return u


def exact_adjoint(g: Tensor, vjp: VJP, config: BackwardConfig, u0: Tensor | None = None) -> tuple[Tensor, SolverStats]:
    """Solve u = Jᵀu + g with `config.adjoint`, starting from u0 (or zero)."""
    adjoint = config.adjoint
    start = u0.detach().reshape(g.shape).to(g.dtype) if u0 is not None else g.new_zeros(g.shape)
    u, stats = solve(
        adjoint.solver,
        lambda u: vjp(u) + g,
        start,
        max_iter=adjoint.max_iter,
        tol=adjoint.tol,
        stop_mode=adjoint.stop_mode,
        **adjoint.options(),
    )
    return u, stats


def adjoint_vector(
    g: Tensor, vjp: VJP, config: BackwardConfig, u0: Tensor | None = None
) -> tuple[Tensor, SolverStats | None]:
    """The vector u of the configured backward mode (and the adjoint solver's stats in `exact` mode)."""
    if config.mode == "exact":
        return exact_adjoint(g, vjp, config, u0)
    order = config.neumann_order if config.mode == "neumann" else 0
    return neumann_adjoint(g, vjp, order), None
