"""The baselines JIIO is measured against: gradient-based input optimization through a DEQ.

Every step runs a full forward solve and an implicit backward (adjoint solve) through the equilibrium, then updates
the input: Adam over latents for reconstruction, projected normalized gradient descent (PGD) for attacks.
Both record the loss and time of every step, like JIIO, so that loss-against-wall-clock curves compare directly.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import torch
from torch import Tensor

from engine.interrupt import check as check_interrupt

Equilibrium = Callable[[Tensor], Tensor]
"""x ↦ z*(x), differentiable in x by the implicit function theorem."""


@dataclasses.dataclass
class BaselineResult:
    """The optimized input and the mean per-sample loss / seconds since the start at every step."""

    x: Tensor
    loss_trace: list[float]
    time_trace: list[float]


def adam_over_inputs(equilibrium: Equilibrium, problem, x0: Tensor, *, steps: int, lr: float) -> BaselineResult:
    """Adam on x for `steps` steps of ℓ(z*(x), x) (the latent-optimization baseline of the JIIO paper)."""
    return gradient_steps(equilibrium, problem, x0, steps=steps, lr=lr, optimizer="adam")


def gradient_steps(equilibrium: Equilibrium, problem, x0: Tensor, *, steps: int, lr: float,
                   optimizer: str = "adam") -> BaselineResult:
    """`steps` steps of Adam or plain gradient descent ("sgd") on x of ℓ(z*(x), x), summed over the batch."""
    x = x0.detach().clone().requires_grad_()
    optimizer = torch.optim.Adam([x], lr=lr) if optimizer == "adam" else torch.optim.SGD([x], lr=lr)
    losses, times, start = [], [], time.perf_counter()
    for _ in range(steps):
        check_interrupt()
        per_sample = problem.loss(equilibrium(x), x)
        optimizer.zero_grad(set_to_none=True)
        per_sample.sum().backward()
        optimizer.step()
        losses.append(float(per_sample.detach().mean()))
        times.append(time.perf_counter() - start)
    return BaselineResult(x.detach(), losses, times)


def projected_gradient_descent(equilibrium: Equilibrium, problem, x0: Tensor, *, steps: int, lr: float,
                               normalized: bool = True) -> BaselineResult:
    """x ← Π(x − lr · d), d the gradient of ℓ (normalized per sample): PGD when ℓ is the negated attack loss."""
    x = problem.project(x0.detach().clone())
    losses, times, start = [], [], time.perf_counter()
    for _ in range(steps):
        check_interrupt()
        x.requires_grad_()
        per_sample = problem.loss(equilibrium(x), x)
        (grad,) = torch.autograd.grad(per_sample.sum(), x)
        if normalized:
            norms = torch.linalg.vector_norm(grad.flatten(1), dim=1).clamp_min(1e-12)
            grad = grad / norms.view(-1, *([1] * (grad.dim() - 1)))
        with torch.no_grad():
            x = problem.project(x - lr * grad)
        losses.append(float(per_sample.detach().mean()))
        times.append(time.perf_counter() - start)
    return BaselineResult(x.detach(), losses, times)
