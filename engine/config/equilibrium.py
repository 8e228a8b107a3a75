"""How an implicit layer finds and differentiates its fixed point: forward solver, backward mode, and the two as one
`EquilibriumConfig` handed to a model's constructor (SPEC 2.1, 2.2)."""
from __future__ import annotations

import dataclasses
from typing import Any, Literal

from engine.config.fields import check_choices, require

SolverName = Literal["picard", "anderson", "broyden"]


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    """How a fixed point z* = f(z*) is found (SPEC 2.1)."""

    solver: SolverName = "anderson"
    """Fixed-point solver: damped Picard iteration, Anderson acceleration or limited-memory Broyden."""
    max_iter: int = 100
    """Most solver iterations per solve; the lowest-residual iterate is kept if tol is not reached."""
    tol: float = 1e-3
    """Stop when every sample's residual is below this value."""
    stop_mode: Literal["rel", "abs"] = "rel"
    """Residual measure: rel = ‖f(z)−z‖/‖f(z)‖ per sample, abs = ‖f(z)−z‖ per sample."""
    damping: float = 1.0
    """Picard damping τ in z ← (1−τ)z + τf(z); 1 is plain forward iteration."""
    anderson_memory: int = 5
    """Anderson: number of past iterates mixed."""
    anderson_lam: float = 1e-4
    """Anderson: Tikhonov regularization of the small least-squares solve, relative to its scale."""
    anderson_beta: float = 1.0
    """Anderson: mixing β between f-values (1) and iterates (0)."""
    broyden_memory: int = 30
    """Broyden: number of rank-one updates kept (limited memory)."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.max_iter >= 0, "max_iter must be ≥ 0")
        require(self.tol > 0, "tol must be > 0")
        require(0 < self.damping <= 1, "damping must be in (0, 1]")
        require(self.anderson_memory >= 1, "anderson_memory must be ≥ 1")
        require(self.anderson_lam >= 0, "anderson_lam must be ≥ 0")
        require(0 < self.anderson_beta <= 1, "anderson_beta must be in (0, 1]")
        require(self.broyden_memory >= 1, "broyden_memory must be ≥ 1")

    def options(self) -> dict[str, Any]:
        """Keyword options of the chosen solver function."""
        if self.solver == "picard":
            return {"damping": self.damping}
        if self.solver == "anderson":
            return {"memory": self.anderson_memory, "lam": self.anderson_lam, "beta": self.anderson_beta}
        return {"memory": self.broyden_memory}


@dataclasses.dataclass(frozen=True)
class BackwardConfig:
    """How gradients pass through the equilibrium (SPEC 2.2)."""

    mode: Literal["exact", "neumann", "jfb"] = "neumann"
    """exact: solve the adjoint u = Jᵀu + g; neumann: u ≈ Σ_{i≤T}(Jᵀ)ⁱg; jfb: u = g (Jacobian-free)."""
    neumann_order: int = 1
    """T, the number of Neumann terms past the identity (1 is the (Implicit)² "one step" default)."""
    adjoint: SolverConfig = SolverConfig(solver="anderson", max_iter=50, tol=1e-6)
    """Solver for the exact adjoint u = Jᵀu + g."""
    warm_start_adjoint: bool = True
    """Start the exact adjoint solve from the previous step's solution where one is kept."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.neumann_order >= 0, "neumann_order must be ≥ 0")


@dataclasses.dataclass(frozen=True)
class EquilibriumConfig:
    """Everything an implicit layer needs to solve and differentiate: given to a model when it is built."""

    forward: SolverConfig = SolverConfig()
    """Forward fixed-point solver."""
    backward: BackwardConfig = BackwardConfig()
    """Backward mode (and the adjoint solver of the exact mode)."""
