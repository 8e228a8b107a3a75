"""The two kinds of input optimization JIIO runs: reconstructing an observation with a generative decoder
(latent x, unconstrained) and attacking a classifier (perturbation δ in an L2 ball, base + δ in [0, 1]).

Losses are per sample and their scale is explicit (SPEC 2.5): the reference sums the squared errors of the
observed pixels for reconstruction and uses −10 × cross-entropy for attacks.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.jiio.projections import project_perturbation


class ReconstructionProblem:
    """min over latents x of weight · reduce(mask ⊙ (decode(z*(x)) − observation)²)."""

    def __init__(self, decoder, observation: Tensor, mask: Tensor | None = None,
                 reduction: Literal["sum", "mean"] = "sum", weight: float = 1.0) -> None:
        self.decoder, self.observation = decoder, observation
        self.mask = mask if mask is not None else torch.ones_like(observation)
        self.reduction, self.weight = reduction, weight

    def cell(self, z: Tensor, x: Tensor) -> Tensor:
        return self.decoder.cell_map(z, x)

    def loss(self, z: Tensor, x: Tensor) -> Tensor:
        err = (self.mask * (self.decoder.decode(z) - self.observation) ** 2).flatten(1)
        per_sample = err.sum(1) if self.reduction == "sum" else err.sum(1) / self.mask.flatten(1).sum(1).clamp_min(1)
        return self.weight * per_sample

    def project(self, x: Tensor) -> Tensor:
        return x


class AttackProblem:
    """max over δ (‖δ‖₂ ≤ ε, base + δ ∈ [0, 1]) of the cross-entropy, as min of −weight · CE."""

    def __init__(self, classifier, base: Tensor, labels: Tensor, epsilon: float, box: bool = True,
                 weight: float = 10.0) -> None:
        self.classifier, self.base, self.labels = classifier, base, labels
        self.epsilon, self.box, self.weight = epsilon, box, weight

    def cell(self, z: Tensor, delta: Tensor) -> Tensor:
        return self.classifier.cell_map(z, self.base + delta)

    def loss(self, z: Tensor, delta: Tensor) -> Tensor:
        return -self.weight * F.cross_entropy(self.classifier.logits(z), self.labels, reduction="none")

    def project(self, delta: Tensor) -> Tensor:
        return project_perturbation(delta, self.base, self.epsilon, self.box)
