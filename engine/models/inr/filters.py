"""Input filters of multiplicative filter networks and the sine injections of SIREN-type layers.

    Fourier:  g(x) = sin(Ω x + φ)
    Gabor:    g(x) = sin(Ω x + φ) · exp(−½ γ ‖x − μ‖²),   γ ≥ 0

Initialization (SPEC 2.3): Ω uniform(±1/√d_in) × input_scale/√(L+1), φ uniform(−π, π); Gabor γ ~ Gamma(α/(L+1), 1)
with Ω also × √γ, μ ~ U(−1, 1)^d. Filters depend on x only: a forward computes them once per coordinate set and
every solver iteration reuses them.
References: Fathony, Sahu, Willmott, Kolter, "Multiplicative Filter Networks", ICLR 2021;
Huang, Bai, Kolter, "(Implicit)²", NeurIPS 2021.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class LinearInjection(nn.Module):
    """x ↦ Ω x + φ with the filter initialization (the argument of a sine filter, or a SIREN input injection)."""

    def __init__(self, d_in: int, width: int, input_scale: float, layers: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        scale = input_scale / math.sqrt(layers + 1)
        self.omega = nn.Parameter(torch.empty(width, d_in).uniform_(-bound, bound) * scale)  # (D, d)
        self.phase = nn.Parameter(torch.empty(width).uniform_(-math.pi, math.pi))  # (D,)

    def forward(self, x: Tensor) -> Tensor:  # (N, d) -> (N, D)
        return torch.addmm(self.phase, x, self.omega.T)


class FourierFilter(LinearInjection):
    """g(x) = sin(Ω x + φ)."""

    def forward(self, x: Tensor) -> Tensor:  # (N, d) -> (N, D)
        return torch.sin(super().forward(x))


class GaborFilter(nn.Module):
    """g(x) = sin(Ω x + φ) · exp(−½ γ ‖x − μ‖²), with γ kept ≥ 0."""

    def __init__(self, d_in: int, width: int, input_scale: float, layers: int, alpha: float = 3.0) -> None:
        super().__init__()
        self.linear = LinearInjection(d_in, width, input_scale, layers)
        gamma = torch.distributions.Gamma(alpha / (layers + 1), 1.0).sample((width,))
        with torch.no_grad():
            self.linear.omega.mul_(gamma.sqrt().unsqueeze(1))
        self.gamma = nn.Parameter(gamma)  # (D,)
        self.mu = nn.Parameter(torch.empty(width, d_in).uniform_(-1.0, 1.0))  # (D, d)

    def forward(self, x: Tensor) -> Tensor:  # (N, d) -> (N, D)
        # ‖x − μ‖² = ‖μ‖² − 2 x·μ + ‖x‖²: one addmm and one broadcast add over the (N, D) block
        dist2 = torch.addmm((self.mu * self.mu).sum(-1), x, self.mu.T, alpha=-2.0).add_((x * x).sum(-1, keepdim=True))
        envelope = torch.exp(dist2 * (-0.5 * self.gamma.clamp_min(0.0)))
        return torch.sin(self.linear(x)) * envelope


def make_filter(kind: str, d_in: int, width: int, input_scale: float, layers: int, alpha: float) -> nn.Module:
    """A Fourier or Gabor filter."""
    if kind == "fourier":
        return FourierFilter(d_in, width, input_scale, layers)
    if kind == "gabor":
        return GaborFilter(d_in, width, input_scale, layers, alpha)
    raise ValueError(f"unknown filter {kind!r}")
