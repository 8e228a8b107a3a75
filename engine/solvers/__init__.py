"""Batched fixed-point solvers sharing one signature; importing this package registers them in SOLVERS.

Registration order (picard, anderson, broyden) is the order users see in menus.
"""
from engine.solvers import picard  # noqa: F401,I001  (registration side effects, in menu order)
from engine.solvers import anderson  # noqa: F401
from engine.solvers import broyden  # noqa: F401
from engine.solvers.base import SOLVERS, SolverStats, residual_per_sample, solve

__all__ = ["SOLVERS", "SolverStats", "residual_per_sample", "solve"]
