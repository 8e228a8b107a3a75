"""Adversarial perturbations of a DEQ classifier by JIO or PGD, and accuracy under attack.

Both attacks work in eval mode on frozen weights, with the same projection (L2 ball, [0, 1] box); the returned
perturbations are scored by re-solving the classifier's equilibrium from zero at base + δ (SPEC 2.5).
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn.utils import parametrize

from engine.config import AttackConfig, BackwardConfig
from engine.jiio.baselines import projected_gradient_descent
from engine.jiio.problems import AttackProblem
from engine.jiio.solve import jiio


@dataclasses.dataclass
class AttackResult:
    """Perturbations, the predictions they cause (re-solved from zero) and the attack's wall time."""

    delta: Tensor
    predictions: Tensor
    seconds: float
    loss_trace: list[float]
    time_trace: list[float]

    def success_rate(self, labels: Tensor) -> float:
        """Fraction of samples whose prediction is no longer the label."""
        return float((self.predictions != labels).float().mean())


def run_attack(classifier, problem: AttackProblem, images: Tensor, config: AttackConfig):
    """(δ, loss trace, time trace) of the configured method."""
    if config.method == "jio":
        z0 = images.new_zeros(len(images), classifier.cell.state_size)
        found = jiio(problem, z0, torch.zeros_like(images), config.jio)
        return found.x, found.loss_trace, found.time_trace
    backward = None  # the classifier's own (cheaper) backward mode
    if config.pgd_gradient == "exact":
        backward = BackwardConfig(mode="exact", adjoint=classifier.equilibrium_config.forward)
    found = projected_gradient_descent(lambda d: classifier.equilibrium(images + d, backward)[0], problem,
                                       torch.zeros_like(images), steps=config.pgd_steps, lr=config.pgd_lr)
    return found.x, found.loss_trace, found.time_trace


@contextlib.contextmanager
def frozen(classifier) -> Iterator[None]:
    """The classifier in eval mode with its weights out of autograd for the block, then exactly as it was (an
    adversarially trained one goes back to training): attacks need gradients in the input only."""
    was_training = classifier.training
    grads = [p.requires_grad for p in classifier.parameters()]
    classifier.eval().requires_grad_(False)
    try:
        with parametrize.cached():  # frozen weight-normalized weights: computed once per attack, for both methods
            yield
    finally:
        for p, g in zip(classifier.parameters(), grads):
            p.requires_grad_(g)
        classifier.train(was_training)


def attack(classifier, images: Tensor, labels: Tensor, config: AttackConfig) -> AttackResult:
    """Perturb `images` (in [0, 1]) to raise the classifier's loss, by config.method. The classifier's settings are
    untouched: an exact PGD gradient is a backward mode passed for the attack's calls."""
    problem = AttackProblem(classifier, images, labels, config.epsilon, box=config.jio.box,
                            weight=config.jio.loss_weight)
    with frozen(classifier):
        start = time.perf_counter()
        delta, losses, times = run_attack(classifier, problem, images, config)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            predictions = classifier(images + delta).argmax(dim=1)
    return AttackResult(delta.detach(), predictions, seconds, losses, times)


@torch.no_grad()
def accuracy(classifier, images: Tensor, labels: Tensor, batch: int = 250) -> float:
    """Clean accuracy, re-solved from zero, in batches."""
    classifier.eval()
    correct = 0
    for i in range(0, len(images), batch):
        correct += int((classifier(images[i : i + batch]).argmax(1) == labels[i : i + batch]).sum())
    return correct / max(1, len(images))
