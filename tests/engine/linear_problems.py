"""Linear fixed-point problems z = A z + b with a known solution, for solver reference tests."""
from __future__ import annotations

import torch
from torch import Tensor


def symmetric_contraction(batch: int, dim: int, top: float, *, seed: int = 0, low: float = 0.0) -> Tensor:
    """Batch of symmetric matrices A = Q diag(λ) Qᵀ with λ uniform in [low, top] and one λ = top (‖A‖₂ = top)."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(batch, dim, dim, generator=gen, dtype=torch.float64))
    eig = low + (top - low) * torch.rand(batch, dim, generator=gen, dtype=torch.float64)
    eig[:, 0] = top
    return q @ torch.diag_embed(eig) @ q.transpose(1, 2)


def affine_map(a: Tensor, b: Tensor):
    """z ↦ A z + b for batched A (B, n, n), b (B, n)."""

    def f(z: Tensor) -> Tensor:
        return torch.baddbmm(b.unsqueeze(-1), a, z.unsqueeze(-1)).squeeze(-1)

    return f


def exact_solution(a: Tensor, b: Tensor) -> Tensor:
    """(I − A)⁻¹ b by a direct solve."""
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return torch.linalg.solve(eye - a, b.unsqueeze(-1)).squeeze(-1)
