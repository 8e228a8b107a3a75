"""Jacobian regularization of an equilibrium: a Hutchinson estimate of ‖∂f/∂z‖²_F per state element at z*.

Training with `loss + w · penalty` keeps the cell contractive, so forward and adjoint solves stay short and the
equilibrium exists where the model is used (Bai, Koltun, Kolter, "Stabilizing Equilibrium Models by Jacobian
Regularization", ICML 2021; the JIIO paper trains its classifiers with it).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def jacobian_penalty(f: Callable[[Tensor], Tensor], z: Tensor, probes: int = 1,
                     randn_like: Callable[[Tensor], Tensor] = torch.randn_like) -> Tensor:
    """E_v ‖vᵀ ∂f/∂z‖² / n with Gaussian probes v (drawn by `randn_like`), at z (detached); differentiable in
    whatever f closes over."""
    z = z.detach().requires_grad_()
    fz = f(z)
    total = fz.new_zeros(())
    for _ in range(probes):
        v = randn_like(fz)
        (vj,) = torch.autograd.grad(fz, z, v, create_graph=True)
        total = total + vj.pow(2).sum()
    return total / (probes * z.numel())
