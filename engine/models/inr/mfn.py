"""Multiplicative filter networks, implicit (Fourier-/Gabor-iMFN) and explicit (Fourier-/Gabor-MFN).

    L = 1:  z = g₁(x) ⊙ (W (z + g₀(x)) + b)
    L = 4:  h₀ = z + g₀(x);  h_l = g_l(x) ⊙ (W_l h_{l−1} + b_l), l = 1..4;  z = h₄   (one equilibrium)
The explicit network is the same cell applied once from z = 0: an MFN with L + 1 filters.
W_l uniform(±√(1/D)); optional spectral normalization caps ‖W_l‖₂ at 0.97.
References: Fathony et al., "Multiplicative Filter Networks", ICLR 2021; Huang, Bai, Kolter, "(Implicit)²", 2021.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from engine.config import EquilibriumConfig
from engine.models.inr.base import INR
from engine.models.inr.filters import make_filter
from engine.models.inr.registry import Network

FIRST_ALPHA = 2.0
"""The first (input) Gabor filter's Gamma shape is this many times the others' (α₀ = 6 for α = 3): larger γ, so
narrower envelopes and higher frequencies (Ω scales with √γ), as the (Implicit)² release builds that filter."""


class MFN(INR):
    """Fourier or Gabor MFN; `implicit` selects the equilibrium (iMFN) or the single pass (MFN)."""

    def __init__(
        self, d_in: int, d_out: int, width: int, layers: int, *, filter_kind: str, implicit: bool,
        input_scale: float, spectral_norm: bool, gabor_alpha: float = 3.0,
        equilibrium: EquilibriumConfig = EquilibriumConfig(),
    ) -> None:
        super().__init__(d_in, d_out, width, layers, implicit, equilibrium)
        self.filters = nn.ModuleList(
            make_filter(filter_kind, d_in, width, input_scale, layers, gabor_alpha * (FIRST_ALPHA if k == 0 else 1))
            for k in range(layers + 1)
        )
        self.add_square_layers(spectral_norm)

    def injections(self, x: Tensor) -> tuple[Tensor, ...]:
        return tuple(g(x) for g in self.filters)  # L + 1 tensors (N, D)

    def cell_weights(self) -> tuple[Tensor, ...]:
        return (*self.normalized_weights(), *self.biases)

    @staticmethod
    def cell(z: Tensor | None, *tensors: Tensor) -> Tensor:
        layers = (len(tensors) - 1) // 3
        filters, ws, bs = tensors[: layers + 1], tensors[layers + 1 : 2 * layers + 1], tensors[2 * layers + 1 :]
        h = filters[0] if z is None else z + filters[0]
        for g, w, b in zip(filters[1:], ws, bs):
            h = g * torch.addmm(b, h, w.T)
        return h


def mfn_network(filter_kind: str, implicit: bool, counterpart: str | None = None) -> Network:
    """A Fourier or Gabor MFN as registered: its filters, its Gabor shape α, and whether it is implicit."""
    def build(config, d_in, d_out, input_scale, spectral_norm, equilibrium) -> MFN:
        return MFN(d_in, d_out, config.width, config.layers, filter_kind=filter_kind, implicit=implicit,
                   input_scale=input_scale, spectral_norm=spectral_norm, gabor_alpha=config.gabor_alpha,
                   equilibrium=equilibrium)

    return Network(build, implicit, counterpart)
