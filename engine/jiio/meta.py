"""Few-shot adaptation as input optimization: a task's context v is the input JIIO optimizes.

For a batch of T tasks with S support images each, one JIIO sample is one task: its z holds the states of all S
support images side by side (T, S·n), its x is the task's context v (T, c). The loss is the support set's
cross-entropy summed over the N classes and averaged over each class's K examples (N/S times the sum: a K-shot task
has the scale of a 1-shot one, so the same JIIO step sizes serve any K), plus an optional proximal term
½ λ ‖v − v₀‖². The support images' input injections do not depend on
v and are computed once, not at every JIIO iteration.

`inner_loop` is the baseline the JIIO paper measures against: gradient steps on v, each solving every support
image's equilibrium from zero and differentiating through it (the implicit backward: an adjoint solve).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.implicit import implicit_layer
from engine.jiio.baselines import BaselineResult, gradient_steps

Criterion = Callable[[Tensor, Tensor], Tensor]
"""(logits (N, ways), labels (N,)) → per-image loss (N,)."""


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    return F.cross_entropy(logits, labels, reduction="none")


class MetaLearningProblem:
    """min over each task's v of (N/S) Σ_support criterion(logits(z*(v)), y) + ½ λ ‖v − v₀‖² (a JIIO problem)."""

    def __init__(self, model, support: Tensor, labels: Tensor, context0: Tensor, proximal: float = 0.0,
                 criterion: Criterion = cross_entropy) -> None:
        """`support` (T, S, C, H, W), `labels` (T, S) in 0 … ways − 1, `context0` (c,) or (T, c)."""
        self.model, self.labels, self.proximal, self.criterion = model, labels, proximal, criterion
        self.tasks, self.shots = labels.shape
        self.per_example = (int(labels.max()) + 1) / self.shots
        """N/S: the weight of one support image's loss (1 in a 1-shot task)."""
        self.state = model.cell.state_size
        self.context0 = context0.expand(self.tasks, -1) if context0.dim() == 1 else context0
        with torch.no_grad():
            self.injections = [i.detach() for i in model.injections(support.flatten(0, 1))]

    def start(self) -> tuple[Tensor, Tensor]:
        """(z0, v0) to start JIIO from: zero states, the initial context."""
        z0 = self.context0.new_zeros(self.tasks, self.shots * self.state)
        return z0, self.context0.detach().clone()

    def per_image(self, z: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """The states as (T·S, n) and each image's context (T·S, c)."""
        return z.reshape(self.tasks * self.shots, self.state), v.repeat_interleave(self.shots, dim=0)

    def cell(self, z: Tensor, v: Tensor) -> Tensor:
        states, contexts = self.per_image(z, v)
        return self.model.context_cell(states, self.injections, contexts).reshape(z.shape)

    def support_logits(self, z: Tensor, v: Tensor) -> Tensor:
        return self.model.task_logits(*self.per_image(z, v))

    def loss(self, z: Tensor, v: Tensor) -> Tensor:
        per_image = self.criterion(self.support_logits(z, v), self.labels.flatten()).reshape(self.tasks, self.shots)
        loss = per_image.sum(dim=1) * self.per_example
        if self.proximal:
            loss = loss + 0.5 * self.proximal * ((v - self.context0) ** 2).sum(dim=1)
        return loss

    def loss_per_example(self, v: Tensor) -> float:
        """The tasks' mean loss per support image at context v, every equilibrium re-solved from zero."""
        with torch.no_grad():
            return float(self.loss(self.equilibrium(v), v).mean()) / (self.per_example * self.shots)

    def project(self, v: Tensor) -> Tensor:
        return v

    def equilibrium(self, v: Tensor) -> Tensor:
        """z*(v) of every support image from zero, differentiable in v (the model's backward mode): (T, S·n)."""
        states, contexts = self.per_image(torch.zeros(self.tasks, self.shots * self.state, dtype=v.dtype,
                                                      device=v.device), v)
        config = self.model.equilibrium_config

        def f(z: Tensor, context: Tensor) -> Tensor:
            return self.model.context_cell(z, self.injections, context)

        z, _ = implicit_layer(f, (contexts,), states, forward=config.forward, backward=config.backward)
        return z.reshape(self.tasks, self.shots * self.state)


def inner_loop(problem: MetaLearningProblem, *, steps: int, lr: float, optimizer: str = "sgd") -> BaselineResult:
    """The baseline: `steps` gradient steps on v (plain or Adam), each a full forward solve and implicit backward."""
    return gradient_steps(problem.equilibrium, problem, problem.start()[1], steps=steps, lr=lr, optimizer=optimizer)
