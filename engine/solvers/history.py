"""Batched products with a solver's history of vectors, laid out (B, k, n): one (k, n) history per sample.

Both run at memory bandwidth on CPU for the shapes solvers meet (B up to ~10⁵ samples, k ≤ 40): dot products use
bmm in the (1, n) × (n, k) orientation, combinations accumulate with addcmul into a reused buffer.
"""
from __future__ import annotations

import torch
from torch import Tensor


def dots(history: Tensor, v: Tensor) -> Tensor:
    """⟨history[b, i], v[b]⟩ for every sample b and row i: (B, k, n), (B, n) → (B, k)."""
    return torch.bmm(v.unsqueeze(1), history.transpose(1, 2)).squeeze(1)


def combine(history: Tensor, coef: Tensor, out: Tensor) -> Tensor:
    """out[b] = Σ_i coef[b, i] · history[b, i]: (B, k, n), (B, k) → out (B, n); zeros when k = 0."""
    k = history.shape[1]
    if k == 0:
        return out.zero_()
    coef = coef.to(out.dtype)
    torch.mul(history[:, 0], coef[:, 0:1], out=out)
    for i in range(1, k):
        out.addcmul_(history[:, i], coef[:, i : i + 1])
    return out
