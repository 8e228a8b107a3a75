"""Spectral normalization that only shrinks: W ↦ W · min(1, σ_max_target / σ(W)).

σ(W) is estimated by power iteration (5 steps per call, vectors kept as buffers, no gradient through them), and
the gradient flows through σ = uᵀ W v as in Miyato et al. With every filter bounded by 1, ‖∂f/∂z‖ ≤ σ_max_target
and Picard iteration provably converges.
Reference: Miyato et al., "Spectral Normalization for GANs", ICLR 2018; Huang, Bai, Kolter, "(Implicit)²", 2021.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SpectralShrink(nn.Module):
    """Caps the spectral norm of a square weight at `target` (0.97 by default)."""

    def __init__(self, width: int, target: float = 0.97, steps: int = 5) -> None:
        super().__init__()
        self.target = target
        self.steps = steps
        self.register_buffer("u", F.normalize(torch.randn(width), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(width), dim=0))

    def forward(self, w: Tensor) -> Tensor:
        with torch.no_grad():
            u, v = self.u, self.v
            for _ in range(self.steps):
                v = F.normalize(w.T @ u, dim=0, eps=1e-12)
                u = F.normalize(w @ v, dim=0, eps=1e-12)
            if self.training:
                self.u.copy_(u)
                self.v.copy_(v)
        sigma = torch.dot(u, w @ v)
        return w / torch.clamp(sigma / self.target, min=1.0)
