"""MDEQ-lite models and the JIIO attack problem / PGD baseline built on them (small sizes, CPU).

Not yet covered: the decoder's equilibrium does not converge at initialization (see the issue notes).
"""
from __future__ import annotations

import torch

from engine.config import JIIOConfig
from engine.jiio import AttackProblem, jiio
from engine.jiio.baselines import projected_gradient_descent
from engine.models.mdeq import MDEQClassifier, MultiscaleCell


def test_multiscale_cell_keeps_the_state_shape_for_two_to_four_branches() -> None:
    for channels in [(8, 16), (8, 8, 16), (4, 8, 8, 16)]:
        cell = MultiscaleCell(channels, 16)
        z = torch.randn(3, cell.state_size)
        injections = [torch.randn(3, *shape) for shape in cell.shapes]
        out = cell(z, *injections)
        assert out.shape == z.shape and torch.isfinite(out).all()
        assert [m.shape[1:] for m in cell.split(out)] == [torch.Size(s) for s in cell.shapes]


def test_jio_and_pgd_perturbations_respect_the_budget() -> None:
    torch.manual_seed(1)
    classifier = MDEQClassifier(channels=(8, 16), image_size=12, classes=3).eval().requires_grad_(False)
    base = torch.rand(5, 1, 12, 12)
    labels = torch.tensor([0, 1, 2, 0, 1])
    problem = AttackProblem(classifier, base, labels, epsilon=0.5)
    z0 = torch.zeros(5, classifier.cell.state_size)
    jio = jiio(problem, z0, torch.zeros_like(base),
               JIIOConfig(iterations=20, alpha=(0.3, 0.1), normalized=True, projection="l2", epsilon=0.5, box=True))
    pgd = projected_gradient_descent(lambda x: classifier.equilibrium(base + x)[0], problem, torch.zeros_like(base),
                                     steps=5, lr=0.3)
    for delta in (jio.x, pgd.x):
        assert (delta.flatten(1).norm(dim=1) <= 0.5 * (1 + 1e-6)).all()
        assert (base + delta).min() >= -1e-6 and (base + delta).max() <= 1 + 1e-6
    assert pgd.loss_trace[-1] <= pgd.loss_trace[0]  # −CE does not rise
