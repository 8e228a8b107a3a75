"""SIREN-type networks: implicit iSIREN, its explicit counterpart (SIREN with input injection), classic SIREN.

    iSIREN L = 1:  z = sin(W (z + sin(U₀ x + c₀)) + b + U₁ x + c₁)
    L = 4:         h₀ = z + sin(U₀x + c₀);  h_l = sin(W_l h_{l−1} + b_l + U_l x + c_l);  z = h₄
No ω₀ = 30 factor: frequency comes from `input_scale` in the initialization of U (the filter initialization).
"SIREN (input injection)" is the same cell once from z = 0. Classic SIREN: sin(30 (W x + b)) layers with the SIREN
initialization, for reference.
References: Sitzmann et al., "Implicit Neural Representations with Periodic Activation Functions", NeurIPS 2020;
Huang, Bai, Kolter, "(Implicit)²", NeurIPS 2021.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from engine.config import EquilibriumConfig
from engine.models.inr.base import INR, INROutput
from engine.models.inr.filters import FourierFilter, LinearInjection
from engine.models.inr.registry import Network


class _SineKeepingCosine(torch.autograd.Function):
    """sin(x) that stores cos(x) for its backward: the implicit layer traverses the cell's graph twice per step
    (the Neumann term, then the weights), and would otherwise recompute the cosine each time."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(torch.cos(x))
        return torch.sin(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (cos,) = ctx.saved_tensors
        return grad * cos


def sine(x: Tensor) -> Tensor:
    """sin(x); keeps cos(x) for the backward pass when a gradient will be taken."""
    return _SineKeepingCosine.apply(x) if torch.is_grad_enabled() and x.requires_grad else torch.sin(x)


class InjectedSiren(INR):
    """iSIREN (`implicit=True`) or SIREN with input injection (`implicit=False`)."""

    def __init__(
        self, d_in: int, d_out: int, width: int, layers: int, *, implicit: bool, input_scale: float,
        spectral_norm: bool, equilibrium: EquilibriumConfig = EquilibriumConfig(),
    ) -> None:
        super().__init__(d_in, d_out, width, layers, implicit, equilibrium)
        self.first = FourierFilter(d_in, width, input_scale, layers)  # sin(U₀ x + c₀)
        self.inputs = nn.ModuleList(LinearInjection(d_in, width, input_scale, layers) for _ in range(layers))
        self.add_square_layers(spectral_norm)

    def injections(self, x: Tensor) -> tuple[Tensor, ...]:
        # U_l x + c_l + b_l folded into one (N, D) injection per layer
        return (self.first(x), *(inj(x, b) for inj, b in zip(self.inputs, self.biases)))

    def cell_weights(self) -> tuple[Tensor, ...]:
        return tuple(self.normalized_weights())

    @staticmethod
    def cell(z: Tensor | None, *tensors: Tensor) -> Tensor:
        layers = (len(tensors) - 1) // 2
        first, injected, ws = tensors[0], tensors[1 : layers + 1], tensors[layers + 1 :]
        h = first if z is None else z + first
        for a, w in zip(injected, ws):
            h = sine(torch.addmm(a, h, w.T))
        return h


class ClassicSiren(INR):
    """sin(30 (W x + b)) for the first layer and `layers` hidden layers, then a linear readout (explicit)."""

    omega0 = 30.0

    def __init__(self, d_in: int, d_out: int, width: int, layers: int,
                 equilibrium: EquilibriumConfig = EquilibriumConfig()) -> None:
        super().__init__(d_in, d_out, width, layers, False, equilibrium)
        self.linears = nn.ModuleList([nn.Linear(d_in, width), *(nn.Linear(width, width) for _ in range(layers))])
        with torch.no_grad():
            self.linears[0].weight.uniform_(-1.0 / d_in, 1.0 / d_in)
            for lin in self.linears[1:]:
                bound = math.sqrt(6.0 / width) / self.omega0
                lin.weight.uniform_(-bound, bound)

    def forward(self, x: Tensor, z0: Tensor | None = None, **_: object) -> INROutput:  # type: ignore[override]
        h = x
        for lin in self.linears:
            h = torch.sin(self.omega0 * lin(h))
        return INROutput(self.readout(h), h, None)


def injected_siren_network(implicit: bool, counterpart: str | None = None) -> Network:
    """iSIREN or SIREN with input injection as registered."""
    def build(config, d_in, d_out, input_scale, spectral_norm, equilibrium) -> InjectedSiren:
        return InjectedSiren(d_in, d_out, config.width, config.layers, implicit=implicit, input_scale=input_scale,
                             spectral_norm=spectral_norm, equilibrium=equilibrium)

    return Network(build, implicit, counterpart)


CLASSIC_SIREN = Network(lambda config, d_in, d_out, input_scale, spectral_norm, equilibrium:
                        ClassicSiren(d_in, d_out, config.width, config.layers, equilibrium=equilibrium))
"""Classic SIREN as registered: its ω₀ = 30 replaces the input scale, and it has no spectral normalization."""
