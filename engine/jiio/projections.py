"""Constraint projections for the optimized input: an L2 ball around zero and the [0, 1] box on base + δ."""
from __future__ import annotations

import torch
from torch import Tensor


def project_l2_ball(delta: Tensor, epsilon: float) -> Tensor:
    """Scale each sample's δ by min(1, ε/‖δ‖₂)."""
    norms = torch.linalg.vector_norm(delta.flatten(1), dim=1).clamp_min(1e-12)
    scale = torch.clamp(epsilon / norms, max=1.0)
    return delta * scale.view(-1, *([1] * (delta.dim() - 1)))


def project_box(delta: Tensor, base: Tensor) -> Tensor:
    """The δ that keeps base + δ inside [0, 1]."""
    return (base + delta).clamp(0.0, 1.0) - base


def project_perturbation(delta: Tensor, base: Tensor | None, epsilon: float | None, box: bool) -> Tensor:
    """Box first (if asked, around `base`), then the L2 ball (if `epsilon`): the result satisfies the ball exactly
    and the box up to the ball's shrinking toward zero, which keeps base + δ between base and the box."""
    if box and base is not None:
        delta = project_box(delta, base)
    if epsilon is not None:
        delta = project_l2_ball(delta, epsilon)
    return delta
