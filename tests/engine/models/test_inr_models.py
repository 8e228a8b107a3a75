"""INR models: equations, fixed points, spectral normalization, and a 2-step smoke run of every model × medium."""
from __future__ import annotations

import pytest
import torch

from engine.config import EquilibriumConfig, FitConfig, ModelConfig, SignalConfig, SolverConfig
from engine.models.inr import COUNTERPART, IMPLICIT, INR_MODELS, build_inr
from engine.models.inr.spectral import SpectralShrink
from engine.tasks import build_fit_task
from tests.engine.media_files import tiny_media


def make(name: str, layers: int = 1, width: int = 32, d_in: int = 2, d_out: int = 3, sn: bool = True,
         equilibrium: EquilibriumConfig = EquilibriumConfig()):
    torch.manual_seed(0)
    model = build_inr(ModelConfig(model=name, layers=layers, width=width), d_in, d_out, input_scale=16.0,
                      spectral_norm=sn, equilibrium=equilibrium)
    return model.eval()  # power iteration frozen, so repeated forwards use the same normalized weights


def test_registry_has_the_seven_models_and_their_pairs() -> None:
    assert INR_MODELS.names() == ["isiren", "fourier-imfn", "gabor-imfn", "siren-inj", "fourier-mfn", "gabor-mfn",
                                  "siren"]
    assert set(COUNTERPART) == set(IMPLICIT)
    from engine.config import DuelConfig, ModelConfig, field_choices

    assert field_choices(ModelConfig, "model") == tuple(INR_MODELS.names())  # what the settings offer is registered
    assert field_choices(DuelConfig, "rival") == tuple(INR_MODELS.names())


@pytest.mark.parametrize("name", ["isiren", "fourier-imfn", "gabor-imfn"])
@pytest.mark.parametrize("layers", [1, 4])
def test_implicit_output_is_a_fixed_point_of_its_cell(name, layers) -> None:
    model = make(name, layers, equilibrium=EquilibriumConfig(SolverConfig(solver="anderson", tol=1e-6, max_iter=200)))
    x = torch.rand(300, 2) * 2 - 1
    with torch.no_grad():
        out = model(x)
        tensors = (*model.injections(x), *model.cell_weights())
        again = model.cell(out.z, *tensors)
    assert out.stats is not None and out.stats.converged.all()
    # the solve stops below 1e-6 per sample; the whole batch's residual measured at most 2.6e-7 (float32, AVX2 and
    # AVX-512 at one and two threads)
    assert torch.linalg.vector_norm(again - out.z) / torch.linalg.vector_norm(again) < 1e-5
    assert torch.allclose(out.y, model.readout(out.z))  # the same arithmetic: measured equal to the bit


@pytest.mark.parametrize("implicit_name", sorted(COUNTERPART))
def test_explicit_counterpart_is_the_cell_once_from_zero(implicit_name) -> None:
    explicit = make(COUNTERPART[implicit_name])
    x = torch.rand(50, 2) * 2 - 1
    with torch.no_grad():
        tensors = (*explicit.injections(x), *explicit.cell_weights())
        zeros = torch.zeros(50, explicit.width)
        assert torch.allclose(explicit(x).z, explicit.cell(zeros, *tensors), atol=1e-6)  # measured equal to the bit


def test_mfn_equation_for_one_layer() -> None:
    model = make("fourier-imfn", sn=False)
    x = torch.rand(20, 2) * 2 - 1
    z = torch.randn(20, model.width)
    g0, g1 = model.filters[0](x), model.filters[1](x)
    w, b = model.weights[0], model.biases[0]
    expected = g1 * ((z + g0) @ w.T + b)
    # float32, values up to 2.2: measured equal to the bit
    assert torch.allclose(model.cell(z, *model.injections(x), *model.cell_weights()), expected, atol=1e-6)
    assert torch.allclose(g0, torch.sin(x @ model.filters[0].omega.T + model.filters[0].phase))


def test_isiren_equation_for_one_layer() -> None:
    model = make("isiren", sn=False)
    x = torch.rand(20, 2) * 2 - 1
    z = torch.randn(20, model.width)
    u0, u1 = model.first, model.inputs[0]
    expected = torch.sin((z + torch.sin(x @ u0.omega.T + u0.phase)) @ model.weights[0].T + model.biases[0]
                         + x @ u1.omega.T + u1.phase)
    # the sines' arguments reach the input scale 16, whose float32 rounding is 1e-6: measured 8.3e-7 apart
    assert torch.allclose(model.cell(z, *model.injections(x), *model.cell_weights()), expected, atol=1e-5)


def test_gabor_filter_envelope_and_init() -> None:
    model = make("gabor-imfn", width=256)
    filt = model.filters[0]
    assert (filt.gamma > 0).all()
    x = filt.mu[:1].detach()  # at a filter centre the envelope of that unit is 1
    value = filt(x)[0, 0]
    # the envelope is exp(0) = 1 exactly: measured equal to the bit
    assert torch.allclose(value, torch.sin(x @ filt.linear.omega[:1].T + filt.linear.phase[:1])[0, 0], atol=1e-6)


def test_filter_initialization_scale() -> None:
    torch.manual_seed(0)
    model = build_inr(ModelConfig(model="fourier-mfn", width=4096), 2, 1, input_scale=256.0, spectral_norm=False)
    bound = 256.0 / 2**0.5 / 2**0.5  # uniform(±1/√d_in) × input_scale/√(L+1)
    omega = model.filters[0].omega
    # 8192 uniform draws: their largest is below 0.99 of the bound with probability 0.99⁸¹⁹² ≈ 1e-36 (measured 0.99989)
    assert omega.abs().max() <= bound and omega.abs().max() > 0.99 * bound


def test_spectral_shrink_caps_only_large_norms() -> None:
    torch.manual_seed(0)
    shrink = SpectralShrink(64)
    big = torch.randn(64, 64)
    for _ in range(20):  # let the power iteration settle
        capped = shrink(big)
    # 100 power-iteration steps on a 64×64 Gaussian matrix: measured 9e-8 from 0.97
    assert torch.linalg.matrix_norm(capped, ord=2) == pytest.approx(0.97, rel=1e-3)
    small = 0.1 * torch.randn(64, 64) / 8
    assert torch.equal(shrink(small), small)


MEDIA_OPTIONS = {
    "image": {}, "audio": {}, "video": {"batch_size": 64},
    "mesh": {"batch_size": 256, "eval_points": 2048, "mc_resolution": 16, "signal": SignalConfig(mesh_points=2000)},
}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tiny_media(tmp_path_factory.mktemp("smoke"))


@pytest.mark.parametrize("medium", ["image", "audio", "video", "mesh"])
@pytest.mark.parametrize("name", INR_MODELS.names())
def test_every_model_on_every_medium_runs_two_steps(media, name, medium) -> None:
    config = FitConfig(model=ModelConfig(model=name, width=16), steps=2, device="cpu", **MEDIA_OPTIONS[medium])
    task = build_fit_task(media[medium], config, torch.device("cpu"))
    rows = [task.step() for _ in range(2)]
    assert task.step_count == 2
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    assert ("solver_iters" in rows[0]) == (name in IMPLICIT)
    assert task.evaluate()


def test_sine_keeping_cosine_has_the_gradient_of_sin() -> None:
    from engine.models.inr.siren import sine

    x = torch.randn(20, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sine, (x,))
    with torch.no_grad():
        assert torch.equal(sine(x), torch.sin(x))


def plain_filter(kind: str, x, omega, phase, mu=None, gamma=None):
    """The filters written as autograd's elementwise graph (what the blocked functions replace)."""
    lin = x @ omega.T + phase
    if kind == "fourier":
        return torch.sin(lin)
    dist2 = ((x[:, None, :] - mu[None]) ** 2).sum(-1)
    return torch.sin(lin) * torch.exp(-0.5 * gamma.clamp_min(0.0) * dist2)


@pytest.mark.parametrize("kind", ["fourier", "gabor"])
def test_blocked_filters_match_autograd_across_blocks_and_pass_gradcheck(kind, monkeypatch) -> None:
    import engine.models.inr.filters as filters

    monkeypatch.setattr(filters, "BLOCK_ROWS", 7)  # 30 coordinates: four full blocks and a ragged one
    torch.manual_seed(0)
    x = (torch.rand(30, 2, dtype=torch.float64) * 2 - 1).requires_grad_()
    omega = (torch.randn(5, 2, dtype=torch.float64) * 3).requires_grad_()
    phase = torch.randn(5, dtype=torch.float64, requires_grad=True)
    mu = (torch.rand(5, 2, dtype=torch.float64) * 2 - 1).requires_grad_()
    gamma = torch.tensor([0.5, 2.0, 0.05, -0.3, 1.0], dtype=torch.float64, requires_grad=True)  # −0.3 clamped to 0
    if kind == "fourier":
        blocked, inputs = filters._FourierFilter.apply, (x, omega, phase)
    else:
        blocked, inputs = filters._GaborFilter.apply, (x, omega, phase, mu, gamma)
    assert torch.autograd.gradcheck(blocked, inputs)
    upstream = torch.randn(30, 5, dtype=torch.float64)
    expected = torch.autograd.grad(plain_filter(kind, *inputs), inputs, upstream)
    got = torch.autograd.grad(blocked(*inputs), inputs, upstream)
    assert torch.allclose(blocked(*inputs), plain_filter(kind, *inputs))
    for want, have in zip(expected, got):  # float64 sums in another order: measured 4.2e-15 apart
        assert torch.allclose(want, have, atol=1e-12)


def test_filters_run_in_cache_sized_blocks_on_a_cpu_and_in_one_elsewhere() -> None:
    import engine.models.inr.filters as filters

    on_cpu = filters._blocks(torch.empty(2500, 2))
    assert [b.stop - b.start for b in on_cpu] == [filters.BLOCK_ROWS] * 2 + [2500 - 2 * filters.BLOCK_ROWS]
    assert filters._blocks(torch.empty(2500, 2, device="meta")) == [slice(0, 2500)]  # a GPU's launches cost more


def test_grid_axes_recognises_row_major_grids_only() -> None:
    from engine.models.inr.grid import grid_axes

    u, v = torch.linspace(-1, 1, 40), torch.linspace(-1, 1, 30)
    grid = torch.stack(torch.meshgrid(u, v, indexing="ij"), -1).reshape(-1, 2)
    axes = grid_axes(grid)
    assert axes is not None and torch.equal(axes[0], u) and torch.equal(axes[1], v)
    assert grid_axes(grid[torch.randperm(len(grid))]) is None  # shuffled: a minibatch
    moved = grid.clone()
    moved[500, 1] += 1e-3
    assert grid_axes(moved) is None
    assert grid_axes(grid[:-30]) is not None and grid_axes(grid[:-7]) is None  # whole rows only
    assert grid_axes(grid[:900]) is None  # too few coordinates to pay
    assert grid_axes(torch.rand(1200, 3)) is None
    thin = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 4), torch.linspace(-1, 1, 400), indexing="ij"), -1)
    assert grid_axes(thin.reshape(-1, 2)) is None  # 4 rows: one accumulation per column would not pay


@pytest.mark.parametrize("kind", ["fourier", "gabor"])
def test_grid_filters_match_the_entrywise_filters_and_their_gradients(kind) -> None:
    import engine.models.inr.filters as filters
    from engine.models.inr.grid import GridProduct

    torch.manual_seed(0)
    layer = filters.make_filter(kind, 2, 8, 40.0, 1, 3.0).double()
    if kind == "gabor":
        with torch.no_grad():
            layer.gamma[0] = -0.2  # clamped to 0: no envelope, no gradient
    u, v = torch.linspace(-1, 1, 40, dtype=torch.float64), torch.linspace(-0.7, 1, 33, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(u, v, indexing="ij"), -1).reshape(-1, 2)
    upstream = torch.randn(len(grid), 8, dtype=torch.float64)
    params = list(layer.parameters())
    separated = layer(grid)
    entrywise = layer(grid.clone().requires_grad_())  # a coordinate gradient takes the entrywise path
    # float64: sin(a + b) as a sum of products, measured 3.6e-15 apart; the gradients sum 1320 coordinates' terms of
    # up to 40, measured 1.1e-13 apart
    assert torch.allclose(separated, entrywise, atol=1e-12)
    for a, b in zip(torch.autograd.grad(separated, params, upstream), torch.autograd.grad(entrywise, params, upstream)):
        assert torch.allclose(a, b, atol=1e-9)
    tables = [torch.randn(n, 3, dtype=torch.float64, requires_grad=True) for n in (47, 5, 47, 5)]
    assert torch.autograd.gradcheck(GridProduct.apply, tables)


def test_predict_in_chunks_is_the_forward_of_each_chunk_and_one_stats_of_them_all() -> None:
    model = make("gabor-imfn", equilibrium=EquilibriumConfig(SolverConfig(solver="anderson", tol=1e-6,
                                                                            max_iter=200)))
    x = torch.rand(700, 2) * 2 - 1
    with torch.no_grad():
        y, (stats,) = model.predict(x, chunk=256)
        parts = [model(x[start:start + 256]) for start in (0, 256, 512)]
    # the same forward on the same chunks (measured equal to the bit), so the residuals compare exactly too
    assert torch.allclose(y, torch.cat([part.y for part in parts]), atol=1e-6)
    assert stats.residual.shape == (3,) and stats.nstep == max(part.stats.nstep for part in parts)
    assert stats.converged.all() and stats.max_residual == max(part.stats.max_residual for part in parts)
    explicit_y, explicit_stats = make("gabor-mfn").predict(x, chunk=256)
    assert explicit_y.shape == (700, 3) and explicit_stats == []


def test_an_evaluation_keeps_no_chunks_results_while_it_solves_the_next() -> None:
    """Results kept across chunks lie between the chunks' large temporaries and fragment the heap: a 4000×4000 image's
    evaluation in 489 chunks took 7 GB more than its training step (9.9 GB against 3.0 GB once nothing was kept, a
    megapixel image 503 MB against 9 MB). When a chunk is solved, at most the previous chunk's output (still bound to
    the loop's variable) and the slowest chunk's stats are alive."""
    import weakref

    model = make("gabor-imfn")
    predictions, stats, alive = [], [], []
    forward = model.forward

    def watched(*args, **kwargs):
        alive.append((sum(ref() is not None for ref in predictions), sum(ref() is not None for ref in stats)))
        out = forward(*args, **kwargs)
        predictions.append(weakref.ref(out.y))
        stats.append(weakref.ref(out.stats))
        return out

    model.forward = watched
    model.predict(torch.rand(64 * 20, 2) * 2 - 1, chunk=64)
    assert len(alive) == 20 and max(alive) <= (1, 2), alive
