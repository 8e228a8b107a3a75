"""MDEQ-lite models and the JIIO problems/baselines built on them (small sizes, CPU)."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from engine.config import JIIOConfig, SolverConfig
from engine.jiio import AttackProblem, ReconstructionProblem, jiio
from engine.jiio.baselines import adam_over_inputs, projected_gradient_descent
from engine.models.mdeq import MDEQClassifier, MDEQDecoder, MultiscaleCell
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM
from engine.models.mdeq.decoder import DECODER_EQUILIBRIUM


def test_multiscale_cell_keeps_the_state_shape_for_one_to_four_branches() -> None:
    for channels in [(8,), (8, 16), (8, 8, 16), (4, 8, 8, 16)]:
        cell = MultiscaleCell(channels, 16)
        z = torch.randn(3, cell.state_size)
        injections = [torch.randn(3, *shape) for shape in cell.shapes]
        out = cell(z, *injections)
        assert out.shape == z.shape and torch.isfinite(out).all()
        assert [m.shape[1:] for m in cell.split(out)] == [torch.Size(s) for s in cell.shapes]


def small_decoder() -> MDEQDecoder:
    torch.manual_seed(0)
    solver = SolverConfig(solver="anderson", max_iter=60, tol=1e-4)
    decoder = MDEQDecoder(latent=8, channels=(8, 16), image_size=12,
                          equilibrium=dataclasses.replace(DECODER_EQUILIBRIUM, forward=solver)).eval()
    return decoder.requires_grad_(False)


def test_decoder_output_range_and_equilibrium() -> None:
    decoder = small_decoder()
    x = torch.randn(4, 8)
    z, stats = decoder.equilibrium(x)
    assert stats.converged.all()
    image = decoder.decode(z)
    assert image.shape == (4, 1, 12, 12) and image.abs().max() <= 1
    again = decoder.cell_map(z, x)
    assert (again - z).norm() / again.norm() < 1e-3  # solved to 1e-4 per sample: measured 1.2e-5 for the batch


def test_jiio_and_adam_both_lower_an_inpainting_loss() -> None:
    decoder = small_decoder()
    with torch.no_grad():
        target = decoder.decode(decoder.equilibrium(torch.randn(4, 8))[0])
    mask = torch.ones_like(target)
    mask[..., 4:8, 4:8] = 0  # inpainting: a hole in the middle
    problem = ReconstructionProblem(decoder, target, mask)
    z0, x0 = torch.zeros(4, decoder.cell.state_size), torch.zeros(4, 8)
    result = jiio(problem, z0, x0, JIIOConfig(iterations=30, alpha=(0.05, 0.02)))
    # measured 0.30 (JIIO) and 0.32 (Adam) of the start on AVX2 and AVX-512 at one and two threads
    assert min(result.loss_trace) < 0.5 * result.loss_trace[0]
    adam = adam_over_inputs(lambda x: decoder.equilibrium(x)[0], problem, x0, steps=15, lr=0.1)
    assert adam.loss_trace[-1] < 0.5 * adam.loss_trace[0]
    assert len(adam.time_trace) == 15


def test_jio_and_pgd_perturbations_respect_the_budget() -> None:
    torch.manual_seed(1)
    classifier = MDEQClassifier(channels=(8, 16), image_size=12, classes=3).eval().requires_grad_(False)
    base = torch.rand(5, 1, 12, 12)
    labels = torch.tensor([0, 1, 2, 0, 1])
    problem = AttackProblem(classifier, base, labels, epsilon=0.5)
    z0 = torch.zeros(5, classifier.cell.state_size)
    jio = jiio(problem, z0, torch.zeros_like(base),
               JIIOConfig(iterations=20, alpha=(0.3, 0.1), normalized=True, box=True))
    pgd = projected_gradient_descent(lambda x: classifier.equilibrium(base + x)[0], problem, torch.zeros_like(base),
                                     steps=5, lr=0.3)
    for delta in (jio.x, pgd.x):  # the slack is float32 rounding of the projection (measured: none needed)
        assert (delta.flatten(1).norm(dim=1) <= 0.5 * (1 + 1e-6)).all()
        assert (base + delta).min() >= -1e-6 and (base + delta).max() <= 1 + 1e-6
    assert pgd.loss_trace[-1] <= pgd.loss_trace[0]  # −CE does not rise (measured −13.2 to −18.5)


def test_contractive_cell_is_a_contraction_and_its_norm_is_right() -> None:
    import torch

    from engine.models.mdeq.contractive_cell import ContractiveMultiscaleCell

    torch.manual_seed(0)
    cell = ContractiveMultiscaleCell((4, 8), 8, bound=0.9)
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(5.0)  # far from contractive before the rescaling
    cell.train()
    with torch.enable_grad():
        for _ in range(60):  # the persistent power iteration converges
            cell.spectral_norm()
    # the true ‖L‖₂ by many power iterations on the explicit matrix
    n = cell.state_size
    with torch.no_grad():
        matrix = torch.stack([cell.linear(e[None])[0] for e in torch.eye(n)], dim=1)
    # 61 power-iteration steps: measured 2.3e-4 below the true norm on AVX2 and AVX-512 at one and two threads
    assert cell.spectral_norm().item() == pytest.approx(torch.linalg.matrix_norm(matrix, 2).item(), rel=1e-3)
    cell.eval()
    injections = [torch.randn(3, c, h, w) for c, h, w in cell.shapes]
    a, b = torch.randn(3, n), torch.randn(3, n)
    with torch.no_grad():
        gap = torch.linalg.vector_norm(cell(a, *injections) - cell(b, *injections), dim=1)
    assert (gap <= 0.9 * torch.linalg.vector_norm(a - b, dim=1) * (1 + 1e-4)).all()  # measured 0.18 of the bound


def test_contractive_classifier_converges_and_round_trips(tmp_path) -> None:
    import torch

    from engine.config import SolverConfig
    from engine.model_store import save_model
    from engine.models.mdeq import MDEQClassifier
    from engine.models.mdeq.stored import load_classifier

    torch.manual_seed(0)
    solver = SolverConfig(solver="picard", max_iter=200, tol=1e-5)
    model = MDEQClassifier((4, 8), 16, 1, 3, contractive=True,
                           equilibrium=dataclasses.replace(CLASSIFIER_EQUILIBRIUM, forward=solver))
    images = torch.rand(5, 1, 16, 16)
    z, stats = model.equilibrium(images)
    assert bool(stats.converged.all())
    path = save_model(tmp_path / "c.safetensors", model, "mdeq-classifier",
                      {"channels": [4, 8], "image_size": 16, "classes": 3, "contractive": True, "head": "grid"})
    again = load_classifier(path, solver=solver)
    with torch.no_grad():  # the same weights and solve: measured equal to the bit
        assert torch.allclose(again(images), model.eval()(images), atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("channels, stride", [(1, 2), (3, 1), (3, 2)])
def test_image_convolution_gradients_equal_pytorchs(channels: int, stride: int) -> None:
    from engine.models.mdeq.cell import conv
    from engine.models.mdeq.image_conv import _FoldedInputGradient

    torch.manual_seed(0)
    folded, plain = conv(channels, 6, 3, stride, of_image=True).double(), conv(channels, 6, 3, stride).double()
    plain.load_state_dict(folded.state_dict())  # same parameters, same state-dict keys
    image = torch.rand(3, channels, 11, 11, dtype=torch.float64, requires_grad=True)
    grad = torch.randn_like(plain(image))
    ours = torch.autograd.grad(folded(image), [image, *folded.parameters()], grad)
    theirs = torch.autograd.grad(plain(image), [image, *plain.parameters()], grad)
    for a, b in zip(ours, theirs):  # float64 sums in another order: measured 4.4e-16 apart
        assert torch.allclose(a, b, atol=1e-12)
    weight = torch.randn(6, channels, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(6, dtype=torch.float64, requires_grad=True)
    apply = lambda x, w, b: _FoldedInputGradient.apply(x, w, b, (stride, stride), (1, 1))  # noqa: E731
    assert torch.autograd.gradcheck(apply, (image, weight, bias))
    assert torch.autograd.gradgradcheck(apply, (image, weight, bias))  # Jacobian penalties differentiate twice


def test_grid_head_classifier_round_trips_and_keeps_positions(tmp_path) -> None:
    from engine.model_store import save_model
    from engine.models.mdeq.stored import load_classifier

    torch.manual_seed(0)
    model = MDEQClassifier((4, 8), 16, 1, 3, head="grid").eval()
    assert model.head.in_features == (4 + 8) * 4 * 4  # both branches pooled to the coarsest 4×4 grid
    images = torch.rand(5, 1, 16, 16)
    path = save_model(tmp_path / "g.safetensors", model, "mdeq-classifier",
                      {"channels": [4, 8], "image_size": 16, "classes": 3, "head": "grid"})
    again = load_classifier(path)
    with torch.no_grad():
        assert torch.allclose(again(images), model(images), atol=1e-5)  # the same weights: measured equal to the bit
        z, _ = model.equilibrium(images)
        a, b = model.cell.split(z)
        moved = model.cell.join([a.flip(-1), b.flip(-1)])  # mirrored features: a mean head cannot tell
        assert not torch.allclose(model.logits(moved), model.logits(z), atol=1e-4)  # measured 1.6 apart
    with pytest.raises(ValueError, match="head"):
        MDEQClassifier((4, 8), 16, 1, 3, head="max")
    older = MDEQClassifier((4, 8), 16, 1, 3, head="mean")  # files written before the grid head name no head
    path = save_model(tmp_path / "m.safetensors", older, "mdeq-classifier", {"channels": [4, 8], "image_size": 16,
                                                                             "classes": 3})
    assert load_classifier(path).head_kind == "mean"


def test_freed_memory_is_kept_on_glibc() -> None:
    import sys

    from engine.allocator import keep_freed_memory, release_freed_memory

    assert keep_freed_memory() == sys.platform.startswith("linux")  # the CI and this machine run glibc
    release_freed_memory()
