"""The augmented JIIO map F over v = (z, μ, x), evaluated with a single reverse-mode call.

At the current point, one backward pass of  L = Σ_b ℓ_b(z, x) + Σ_b μ_bᵀ f(z_b, x_b)  gives both
∂ℓ/∂z + (∂f/∂z)ᵀμ and ∂ℓ/∂x + (∂f/∂x)ᵀμ, and then
    z ← z + η_z (f(z, x) − z)
    μ ← μ + η_μ (∂ℓ/∂z + (∂f/∂z)ᵀμ − μ)
    x ← Π(x − α_k d_k),   d_k = ∂ℓ/∂x + (∂f/∂x)ᵀμ, or d_k/‖d_k‖₂ per sample (normalized mode)
At a fixed point z = f(z, x), μ is the adjoint of ℓ at z*, and d = 0 (or x is a constrained stationary point):
the solution of min_x ℓ(z*(x), x) together with its equilibrium and adjoint.
Reference: Gurumurthy, Bai, Manchester, Kolter, "Joint Inference and Input Optimization in Equilibrium Networks",
NeurIPS 2021, section 3.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

from engine.config import JIIOConfig
from engine.timing import IterationTrace


class JIIOProblem(Protocol):
    """What JIIO optimizes: a DEQ cell, a per-sample loss and the input's constraint set."""

    def cell(self, z: Tensor, x: Tensor) -> Tensor:
        """f(z, x), batch first, shape of z."""

    def loss(self, z: Tensor, x: Tensor) -> Tensor:
        """Per-sample loss ℓ (B,), already reduced and weighted as the config says."""

    def project(self, x: Tensor) -> Tensor:
        """Π: the input back onto its constraint set (identity when unconstrained)."""


class StatePacking:
    """Packs (z, μ, x) into one (B, 2·n_z + n_x) state per sample and back."""

    def __init__(self, z_shape: torch.Size, x_shape: torch.Size) -> None:
        self.z_shape, self.x_shape = z_shape, x_shape
        self.nz = int(torch.Size(z_shape[1:]).numel())
        self.nx = int(torch.Size(x_shape[1:]).numel())

    def pack(self, z: Tensor, mu: Tensor, x: Tensor) -> Tensor:
        b = z.shape[0]
        return torch.cat([z.reshape(b, -1), mu.reshape(b, -1), x.reshape(b, -1).to(z.dtype)], dim=1)

    def unpack(self, v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Views into v (writing into them writes v)."""
        z = v[:, : self.nz].view(self.z_shape)
        mu = v[:, self.nz : 2 * self.nz].view(self.z_shape)
        x = v[:, 2 * self.nz :].view(self.x_shape)
        return z, mu, x


class AugmentedMap:
    """F(v) for iteration k = 0, 1, ...; records the mean loss and the time of every evaluation (`trace`, on the
    device: read once the solve is over)."""

    def __init__(self, problem: JIIOProblem, config: JIIOConfig, packing: StatePacking,
                 device: torch.device) -> None:
        self.problem, self.config, self.packing = problem, config, packing
        self.k = 0
        self.last_loss: Tensor | None = None
        self.trace = IterationTrace(device)

    def __call__(self, v: Tensor) -> Tensor:
        config = self.config
        z, mu, x = self.packing.unpack(v)
        with torch.enable_grad():
            z_leaf = z.detach().requires_grad_()
            x_leaf = x.detach().requires_grad_()
            fz = self.problem.cell(z_leaf, x_leaf)
            per_sample = self.problem.loss(z_leaf, x_leaf)
            total = per_sample.sum() + (mu * fz).sum()
            grad_z, grad_x = torch.autograd.grad(total, (z_leaf, x_leaf))
        direction = grad_x
        if config.normalized:
            norms = torch.linalg.vector_norm(direction.flatten(1), dim=1).clamp_min(1e-12)
            direction = direction / norms.view(-1, *([1] * (direction.dim() - 1)))
        out = torch.empty_like(v)
        z_new, mu_new, x_new = self.packing.unpack(out)  # views: the new state is written in place
        torch.lerp(z, fz.detach(), config.eta_z, out=z_new)
        torch.lerp(mu, grad_z, config.eta_mu, out=mu_new)
        x_new.copy_(self.problem.project(x - config.step_size(self.k) * direction))
        self.last_loss = per_sample.detach()
        self.trace.add(self.last_loss.mean())
        self.k += 1
        return out

    def projector(self) -> Callable[[Tensor], Tensor]:
        """Projection of a whole packed state (its x part, in place) for the Anderson driver."""

        def project(v: Tensor) -> Tensor:
            x = self.packing.unpack(v)[2]
            x.copy_(self.problem.project(x))
            return v

        return project
