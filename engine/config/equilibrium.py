"""How an implicit layer finds and differentiates its fixed point: forward solver, backward mode, and the two as one
`EquilibriumConfig` handed to a model's constructor (SPEC 2.1, 2.2)."""
from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from engine.config.fields import DEVICE, OptionOf, Range, Registered, check_fields, chosen_options, require

SolverName = Annotated[str, Registered("solver")]
"""A fixed-point solver's name: one of those `engine.solvers` registers."""


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    """How a fixed point z* = f(z*) is found (SPEC 2.1)."""

    solver: SolverName = "anderson"
    """How the network finds its answer. picard: repeat the layer until it stops changing (simplest); anderson: combine
    the last few tries (fast, the usual choice); broyden: a quasi-Newton method (fewest steps, more memory)."""
    max_iter: Annotated[int, Range(1, 10_000)] = 100
    """The most tries per answer: more is more accurate and slower. If the tolerance is not reached, the best try is
    kept."""
    tol: Annotated[float, Range(0.0, 1.0)] = 1e-3
    """How close the answer must get before the solver stops: smaller is more accurate and slower. Every sample's
    residual must be below it."""
    stop_mode: Literal["rel", "abs"] = "rel"
    """How closeness is measured. rel: the change relative to the answer's size, ‖f(z)−z‖/‖f(z)‖; abs: the change
    itself, ‖f(z)−z‖ (per sample)."""
    check_every: Annotated[int, Range(1, 1000)] = 1
    """How often the solver asks whether it has converged: every this many tries. On a GPU each question waits for
    the device to finish its queue of work; asking less often lets it run ahead, at the cost of up to this many − 1
    extra tries (the best try is kept either way)."""
    damping: Annotated[float, OptionOf("solver", "picard", "damping")] = 1.0
    """Picard only: how far each try moves toward the layer's output; 1 moves all the way, smaller is steadier and
    slower. It is τ in z ← (1−τ)z + τf(z)."""
    anderson_memory: Annotated[int, Range(1, 100), OptionOf("solver", "anderson", "memory")] = 5
    """Anderson only: how many past tries are combined; more often converges in fewer tries and uses more memory."""
    anderson_lam: Annotated[float, OptionOf("solver", "anderson", "lam")] = 1e-4
    """Anderson only: a small safety margin that keeps the combination stable; raise it if the solver jumps around. It
    is the Tikhonov regularization of the small least-squares solve, relative to its scale."""
    anderson_beta: Annotated[float, OptionOf("solver", "anderson", "beta")] = 1.0
    """Anderson only: 1 combines the layer's outputs, smaller values blend in the tries themselves. It is the mixing
    β."""
    broyden_memory: Annotated[int, Range(1, 1000), OptionOf("solver", "broyden", "memory")] = 30
    """Broyden only: how many corrections it remembers; more is more accurate and uses more memory (rank-one updates
    kept)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.tol > 0, "tol must be > 0")
        require(0 < self.damping <= 1, "damping must be in (0, 1]")
        require(self.anderson_lam >= 0, "anderson_lam must be ≥ 0")
        require(0 < self.anderson_beta <= 1, "anderson_beta must be in (0, 1]")

    def options(self) -> dict[str, Any]:
        """Keyword options of the chosen solver function (its fields marked `OptionOf` it, and how often it checks
        for convergence)."""
        return {**chosen_options(self, "solver"), "check_every": self.check_every}


@dataclasses.dataclass(frozen=True)
class BackwardConfig:
    """How gradients pass through the equilibrium (SPEC 2.2)."""

    mode: Literal["exact", "neumann", "jfb"] = "neumann"
    """How training learns through the network's answer. neumann: a cheap approximation (the (Implicit)² default);
    exact: the true gradient (slowest); jfb: skip the loop entirely (fastest, roughest). In symbols: exact solves u =
    Jᵀu + g; neumann takes u ≈ Σ_{i≤T}(Jᵀ)ⁱg; jfb takes u = g."""
    neumann_order: Annotated[int, Range(0, 100), OptionOf("mode", "neumann")] = 1
    """Neumann only: how many correction terms; more is closer to exact and slower. It is T, the number of terms past
    the identity (1 is the (Implicit)² "one step" default)."""
    adjoint: Annotated[SolverConfig, OptionOf("mode", "exact")] = SolverConfig(solver="anderson", max_iter=50,
                                                                            tol=1e-6)
    """Exact mode only: how the gradient's own equation is solved. The equation is u = Jᵀu + g."""
    warm_start_adjoint: Annotated[bool, OptionOf("mode", "exact")] = True
    """Exact mode only: start each gradient solve from the previous step's answer, which is faster."""

    def __post_init__(self) -> None:
        check_fields(self)


@dataclasses.dataclass(frozen=True)
class EquilibriumConfig:
    """Everything an implicit layer needs to solve and differentiate: given to a model when it is built."""

    forward: SolverConfig = SolverConfig()
    """How the answer is found (the forward fixed-point solver)."""
    backward: BackwardConfig = BackwardConfig()
    """How gradients pass through the answer (the backward mode, and the exact mode's adjoint solver)."""


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """The solver comparison (`deq-studio demo`): every solver on an iSIREN-like equilibrium, cold and warm-started."""

    coords: Annotated[int, Range(16, 1 << 26)] = 16384
    """How many coordinates (a square grid)."""
    width: Annotated[int, Range(1, 8192)] = 256
    """The hidden width D."""
    tol: Annotated[float, Range(1e-12, 1.0)] = 1e-4
    """The relative residual tolerance every solver stops at."""
    device: DEVICE = "auto"
    """Where it runs."""

    def __post_init__(self) -> None:
        check_fields(self)
