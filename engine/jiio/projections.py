"""Constraint projections for the optimized input: an L2 ball around zero, the [0, 1] box on base + δ, and the
exact Euclidean projection onto their intersection.

The intersection {δ : ‖δ‖₂ ≤ ε, 0 ≤ base + δ ≤ 1} is projected exactly: with the box's bounds l = −base ≤ 0 ≤
u = 1 − base, the KKT conditions give δ = clip(t·y, l, u) for the largest t ∈ (0, 1] whose result lies in the
ball (t = 1/(1 + λ), λ the ball's multiplier), and ‖clip(t·y, l, u)‖ grows with t, so t is found by bisection.
Clipping first and then scaling into the ball (a cheaper composition) also lands in the intersection but is not
the nearest point; a fixed-point method like JIO can stall at its spurious fixed points.
"""
from __future__ import annotations

import torch
from torch import Tensor

BISECTION_STEPS = 30
"""Halvings of t's bracket: 2⁻³⁰ ≈ 1e-9 relative precision."""


def _norms(delta: Tensor) -> Tensor:
    return torch.linalg.vector_norm(delta.flatten(1), dim=1)


def _per_sample(values: Tensor, like: Tensor) -> Tensor:
    return values.view(-1, *([1] * (like.dim() - 1)))


def project_l2_ball(delta: Tensor, epsilon: float) -> Tensor:
    """Scale each sample's δ by min(1, ε/‖δ‖₂)."""
    scale = torch.clamp(epsilon / _norms(delta).clamp_min(1e-12), max=1.0)
    return delta * _per_sample(scale, delta)


def project_box(delta: Tensor, base: Tensor) -> Tensor:
    """The δ that keeps base + δ inside [0, 1]."""
    return (base + delta).clamp(0.0, 1.0) - base


def project_ball_and_box(delta: Tensor, base: Tensor, epsilon: float) -> Tensor:
    """The nearest point to δ (per sample) with ‖δ‖₂ ≤ ε and base + δ ∈ [0, 1] (base itself in [0, 1])."""
    low, high = -base, 1.0 - base
    clipped = torch.maximum(torch.minimum(delta, high), low)
    outside = _norms(clipped) > epsilon
    if not bool(outside.any()):
        return clipped
    y, lo_b, hi_b = delta[outside], low[outside], high[outside]
    t_low = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)  # ‖clip(0·y)‖ = 0 ≤ ε
    t_high = torch.ones_like(t_low)  # ‖clip(1·y)‖ > ε
    for _ in range(BISECTION_STEPS):
        t = 0.5 * (t_low + t_high)
        inside = _norms(torch.maximum(torch.minimum(_per_sample(t, y) * y, hi_b), lo_b)) <= epsilon
        t_low = torch.where(inside, t, t_low)
        t_high = torch.where(inside, t_high, t)
    found = torch.maximum(torch.minimum(_per_sample(t_low, y) * y, hi_b), lo_b)
    clipped[outside] = project_l2_ball(found, epsilon)  # exact to rounding: never outside the ball
    return clipped


def project_perturbation(delta: Tensor, base: Tensor | None, epsilon: float | None, box: bool) -> Tensor:
    """Π onto the constraint set: the L2 ball (if `epsilon`), the box around `base` (if `box`), or exactly onto
    both."""
    if box and base is not None:
        if epsilon is None:
            return project_box(delta, base)
        return project_ball_and_box(delta, base, epsilon)
    if epsilon is not None:
        return project_l2_ball(delta, epsilon)
    return delta
