"""A contractive multiscale cell: f(z) = relu(s · L z + injection), with ‖s · L‖₂ ≤ `bound` < 1.

L is the linear multiscale operator: a 3×3 convolution per branch plus the cross-resolution fusion (strided 3×3
convolutions down, 1×1 convolution and nearest upsampling up). Its spectral norm is tracked by a persistent power
iteration (L and its adjoint through autograd), and s = min(1, bound/‖L‖₂) is differentiable, as in spectral
normalization. ReLU is 1-Lipschitz, so f is a contraction in z for every input: the equilibrium exists, is unique,
and every fixed-point and adjoint iteration converges — what JIO's damped (z, μ) updates need.
Reference: Miyato et al., "Spectral Normalization for GANs" (ICLR 2018) for the power iteration; Winston & Kolter,
"Monotone operator equilibrium networks" (NeurIPS 2020) for well-posed equilibria.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.models.mdeq.cell import MultiscaleLayout


def plain_conv(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Module:
    """A bias-free convolution, 'same' padding: a linear map, whose norm the power iteration tracks."""
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)


class ContractiveMultiscaleCell(MultiscaleLayout):
    """f(z, *injections) with branches of `channels` at base_size, base_size/2, ...; the same state layout and
    fusion as `MultiscaleCell`."""

    def __init__(self, channels: tuple[int, ...], base_size: int, bound: float = 0.9,
                 power_iterations: int = 1) -> None:
        super().__init__(channels, base_size)
        self.bound, self.power_iterations = bound, power_iterations
        self.mix = nn.ModuleList(plain_conv(c, c, 3, 1) for c in channels)
        self.build_fusion(channels, plain_conv)
        self.register_buffer("probe", F.normalize(torch.randn(1, sum(self.sizes)), dim=1))

    def linear(self, z: Tensor) -> Tensor:
        """L z (no bias, no nonlinearity)."""
        return self.join(self.fused([conv(x) for conv, x in zip(self.mix, self.split(z))]))

    def spectral_norm(self) -> Tensor:
        """‖L‖₂ from the persistent probe (updated in training), differentiable in the weights."""
        u = self.probe
        if self.training and torch.is_grad_enabled():  # the re-attached application, once per training step
            with torch.enable_grad():
                for _ in range(self.power_iterations):
                    x = u.detach().requires_grad_()
                    (back,) = torch.autograd.grad(self.linear(x), x, self.linear(x).detach())
                    u = F.normalize(back.detach(), dim=1)
            self.probe.copy_(u)
        return torch.linalg.vector_norm(self.linear(u))

    def forward(self, z: Tensor, *injections: Tensor) -> Tensor:
        scale = torch.clamp(self.bound / self.spectral_norm().clamp_min(1e-12), max=1.0)
        return F.relu(scale * self.linear(z) + self.join(list(injections)))
