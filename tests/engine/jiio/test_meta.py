"""Few-shot adaptation as input optimization: the inner JIIO solve against the closed form on a linear toy and
against the inner-loop baseline; the FiLM classifier starts as MDEQ-lite and its context steers it."""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from engine.config import BackwardConfig, EquilibriumConfig, JIIOConfig, SolverConfig
from engine.jiio import jiio
from engine.jiio.meta import MetaLearningProblem, inner_loop
from engine.models.mdeq.cell import MultiscaleCell
from engine.models.mdeq.film import READOUT_GRID, FewShotClassifier

DT = torch.float64
EXACT = EquilibriumConfig(SolverConfig(solver="anderson", max_iter=200, tol=1e-12),
                          BackwardConfig(mode="exact", adjoint=SolverConfig(solver="anderson", max_iter=200,
                                                                            tol=1e-12)))


class LinearToy:
    """z = A z + B v + U x per image, logits = C z: with a squared-error criterion the task's loss is quadratic in v."""

    def __init__(self, n: int = 6, c: int = 3, pixels: int = 5, ways: int = 2) -> None:
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=gen, dtype=DT)
        self.a = a / torch.linalg.matrix_norm(a, ord=2) * 0.5
        self.b = torch.randn(n, c, generator=gen, dtype=DT)
        self.u = torch.randn(n, pixels, generator=gen, dtype=DT)
        self.c = torch.randn(ways, n, generator=gen, dtype=DT) / n ** 0.5
        self.cell = dataclasses.make_dataclass("Layout", ["state_size"])(n)
        self.equilibrium_config = EXACT

    def injections(self, images):
        return [images.flatten(1) @ self.u.T]

    def context_cell(self, z, injections, v):
        return z @ self.a.T + v @ self.b.T + injections[0]

    def task_logits(self, z, v):
        return z @ self.c.T


def squared(logits, labels):
    return 0.5 * ((logits - F.one_hot(labels, logits.shape[1]).to(logits.dtype)) ** 2).sum(1)


def toy_task(proximal: float = 0.1):
    toy = LinearToy()
    gen = torch.Generator().manual_seed(1)
    support = torch.rand(3, 4, 1, 5, generator=gen, dtype=DT)  # 3 tasks of 4 support images of 5 pixels
    labels = torch.tensor([[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 1]])
    context0 = torch.randn(3, generator=gen, dtype=DT)
    return toy, MetaLearningProblem(toy, support, labels, context0, proximal, squared), support, labels, context0


def closed_form(toy: LinearToy, support, labels, context0, proximal: float):
    """v* = (w Σ_s KᵀK + λI)⁻¹ (w Σ_s Kᵀ(e_s − C m_s) + λ v₀) per task, K = C (I − A)⁻¹ B, m_s = (I − A)⁻¹ U x_s,
    w = N/S (classes over support images)."""
    inverse = torch.linalg.inv(torch.eye(6, dtype=DT) - toy.a)
    k = toy.c @ inverse @ toy.b
    answers = []
    for images, ys in zip(support, labels):
        m = images.flatten(1) @ toy.u.T @ inverse.T
        targets = F.one_hot(ys, 2).to(DT) - m @ toy.c.T
        weight = 2 / len(ys)  # 2 classes, 4 examples: each example's loss counts half
        hessian = weight * len(ys) * k.T @ k + proximal * torch.eye(3, dtype=DT)
        answers.append(torch.linalg.solve(hessian, weight * k.T @ targets.sum(0) + proximal * context0))
    return torch.stack(answers)


def test_inner_jiio_on_a_linear_toy_reaches_the_closed_form() -> None:
    toy, problem, support, labels, context0 = toy_task()
    expected = closed_form(toy, support, labels, context0, 0.1)
    z0, v0 = problem.start()
    result = jiio(problem, z0, v0, JIIOConfig(iterations=300, alpha=(0.05, 0.05), anderson_memory=10))
    # measured 3.7e-15 and 7.7e-14 (float64) on AVX2 and AVX-512 at one and two threads
    assert ((result.x - expected).norm(dim=1) / expected.norm(dim=1)).max() < 1e-5
    assert torch.allclose(result.z, problem.equilibrium(result.x).detach(), atol=1e-8)  # z is v*'s equilibrium


def test_inner_loop_baseline_reaches_the_same_optimum() -> None:
    toy, problem, support, labels, context0 = toy_task()
    expected = closed_form(toy, support, labels, context0, 0.1)
    # The loss's Hessian in v has eigenvalues 0.1, 4.0 and 14.7; v₀ is already optimal along the first (only the
    # proximal term acts there), and the slowest other direction contracts by 1 − 0.05 · 4.0 = 0.8 a step: 0.8⁸⁰ ≈ 1e-8
    # (measured 3.2e-8 on AVX2 and AVX-512 at one and two threads).
    result = inner_loop(problem, steps=80, lr=0.05)
    assert ((result.x - expected).norm(dim=1) / expected.norm(dim=1)).max() < 1e-5
    assert result.loss_trace[-1] < result.loss_trace[0]


def test_film_cell_starts_as_mdeq_lite_and_its_context_steers_it() -> None:
    torch.manual_seed(0)
    model = FewShotClassifier(channels=(8, 16), ways=5, context=4)
    plain = MultiscaleCell((8, 16), 14)
    plain.load_state_dict({k: v for k, v in model.cell.state_dict().items() if not k.startswith("film")})
    images = torch.rand(3, 1, 28, 28)
    injections = model.injections(images)
    z = torch.randn(3, model.cell.state_size)
    at_start = model.context0.expand(3, -1)  # v₀ = 0: MDEQ-lite's cell (measured equal to the bit)
    assert torch.allclose(model.context_cell(z, injections, at_start), plain(z, *injections), atol=1e-6)
    context = torch.randn(3, 4, requires_grad=True)  # steered: measured 3.0 apart
    assert not torch.allclose(model.context_cell(z, injections, context), plain(z, *injections), atol=1e-3)
    logits = model.classify(images, context)
    (grad,) = torch.autograd.grad(logits[:, 0].sum(), context)
    assert logits.shape == (3, 5) and grad.abs().sum() > 0


def test_jiio_adapts_a_few_shot_classifier_to_its_support_set() -> None:
    """On pure-noise images the solve wanders (the final losses move by 0.3 between one and two threads), but it always
    ends well below the start: measured 2.44 to 3.27 against 3.62 and 3.82, at most 0.90 of the start, over the images
    perturbed by 1e-6 (8 draws) on AVX2 and AVX-512 at one and two threads."""
    torch.manual_seed(0)
    model = FewShotClassifier(channels=(8, 16), ways=3, context=8)
    support = torch.rand(2, 3, 1, 28, 28)
    labels = torch.tensor([[0, 1, 2], [2, 0, 1]])
    problem = MetaLearningProblem(model, support, labels, model.context0.detach())
    z0, v0 = problem.start()
    with torch.no_grad():
        before = problem.loss(problem.equilibrium(v0), v0)
    result = jiio(problem, z0, v0, JIIOConfig(iterations=60, alpha=(0.5, 0.2)))
    with torch.no_grad():
        after = problem.loss(problem.equilibrium(result.x), result.x)
    assert (after < before).all()


def test_task_readout_is_a_linear_map_of_pooled_features_and_starts_as_the_prototype_rule() -> None:
    torch.manual_seed(0)
    model = FewShotClassifier(channels=(8, 16), ways=3, context=4, readout=True)
    features = (8 + 16) * READOUT_GRID ** 2
    assert model.context_size == 4 + 3 * (features + 1)
    images, labels = torch.rand(6, 1, 28, 28), torch.tensor([0, 1, 2, 0, 1, 2])
    context = torch.randn(6, model.context_size)
    z, _ = model.equilibrium_with(images, context)
    pooled = torch.cat([F.adaptive_avg_pool2d(m, READOUT_GRID).flatten(1) for m in model.cell.split(z)], dim=1)
    readout = context[:, 4:].reshape(6, 3, features + 1)
    expected = torch.einsum("bkf,bf->bk", readout[:, :, :-1], pooled) + readout[:, :, -1]
    # float32 sums of 97 terms with logits up to 19 (rtol adds 1e-5 of them): measured at most 1.9e-6 apart
    assert torch.allclose(model.task_logits(z, context), expected, atol=1e-5)
    # From a zero readout, the summed cross-entropy's gradient in class k's row is −Σ_j (1[y_j = k] − 1/N) (f_j, 1):
    # one step down it scores each image by its (centred) similarity to each class's examples.
    start = torch.zeros(6, model.context_size)
    start[:, :4] = context[:, :4]
    start.requires_grad_(True)
    z, _ = model.equilibrium_with(images, start.detach())
    loss = F.cross_entropy(model.task_logits(z.detach(), start), labels, reduction="sum")
    (grad,) = torch.autograd.grad(loss, start)
    augmented = torch.cat([pooled.detach(), torch.ones(6, 1)], dim=1)
    rows = -(F.one_hot(labels, 3).float() - 1 / 3)[:, :, None] * augmented[:, None, :]
    assert torch.allclose(grad[:, 4:].reshape(6, 3, features + 1), rows, atol=1e-5)  # float32: measured 4.8e-7


def banded(labels: torch.Tensor) -> torch.Tensor:
    """Support images whose class shows where a bright band lies (class c in rows 9c to 9c + 9) under faint noise:
    their 2×2 pooled features differ by class, so a readout separates them with a margin."""
    images = 0.1 * torch.rand(*labels.shape, 1, 28, 28)
    for index, c in enumerate(labels.flatten().tolist()):
        images.view(-1, 1, 28, 28)[index, 0, 9 * c:9 * c + 10, 4:24] += 0.9
    return images


def test_jiio_with_a_task_readout_classifies_the_support_set() -> None:
    """The readout is a linear map of pooled features, so fitting it is a convex problem with a margin once the
    features tell the classes apart: 60 rounds bring the support loss from ln 3 to about 0.003 and every correct logit
    ahead of the others by 4.8 to 15 (measured at α (0.5, 0.2) and (0.2, 0.1), 30 and 60 rounds, one and two threads,
    AVX2 and AVX-512). The test asks for a margin of 2. (Pure-noise images have nearly equal pooled features: there
    the solve wanders and an argmax without margin flips with the threads.)"""
    torch.manual_seed(0)
    model = FewShotClassifier(channels=(8, 16), ways=3, context=8, readout=True)
    labels = torch.tensor([[0, 1, 2], [2, 0, 1]])
    support = banded(labels)
    problem = MetaLearningProblem(model, support, labels, model.context0.detach())
    result = jiio(problem, *problem.start(), JIIOConfig(iterations=60, alpha=(0.5, 0.2)))
    with torch.no_grad():
        logits = model.classify(support.flatten(0, 1), result.x.repeat_interleave(3, dim=0))
    chosen = F.one_hot(labels.flatten(), 3).bool()
    margins = logits[chosen] - logits.masked_fill(chosen, -torch.inf).amax(1)
    assert margins.min() > 2.0, margins
    assert F.cross_entropy(logits, labels.flatten()) < 0.05
