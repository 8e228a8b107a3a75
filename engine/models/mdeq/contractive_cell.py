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


class ContractiveMultiscaleCell(nn.Module):
    """f(z, *injections) with branches of `channels` at base_size, base_size/2, ...; the same state layout as
    `MultiscaleCell` (one flattened map per branch)."""

    def __init__(self, channels: tuple[int, ...], base_size: int, bound: float = 0.9,
                 power_iterations: int = 1) -> None:
        super().__init__()
        self.shapes = [(c, base_size >> i, base_size >> i) for i, c in enumerate(channels)]
        self.sizes = [c * h * w for c, h, w in self.shapes]
        self.bound, self.power_iterations = bound, power_iterations
        self.mix = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1, bias=False) for c in channels)
        self.fuse = nn.ModuleDict()
        for i, c_in in enumerate(channels):
            for j, c_out in enumerate(channels):
                if i < j:
                    steps = [nn.Conv2d(c_in if k == 0 else c_out, c_out, 3, stride=2, padding=1, bias=False)
                             for k in range(j - i)]
                    self.fuse[f"{i}to{j}"] = nn.Sequential(*steps)
                elif i > j:
                    self.fuse[f"{i}to{j}"] = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.register_buffer("probe", F.normalize(torch.randn(1, sum(self.sizes)), dim=1))

    @property
    def state_size(self) -> int:
        return sum(self.sizes)

    def split(self, z: Tensor) -> list[Tensor]:
        parts = torch.split(z, self.sizes, dim=1)
        return [p.reshape(-1, *shape) for p, shape in zip(parts, self.shapes)]

    def join(self, maps: list[Tensor]) -> Tensor:
        return torch.cat([m.flatten(1) for m in maps], dim=1)

    def linear(self, z: Tensor) -> Tensor:
        """L z (no bias, no nonlinearity)."""
        mixed = [conv(x) for conv, x in zip(self.mix, self.split(z))]
        out = []
        for j, target in enumerate(mixed):
            total = target
            for i, source in enumerate(mixed):
                if i < j:
                    total = total + self.fuse[f"{i}to{j}"](source)
                elif i > j:
                    total = total + F.interpolate(self.fuse[f"{i}to{j}"](source), scale_factor=2 ** (i - j),
                                                  mode="nearest")
            out.append(total)
        return self.join(out)

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
