"""Every solver against the closed form of a linear fixed point, per-sample behaviour, best-iterate return."""
from __future__ import annotations

import pytest
import torch

from engine.solvers import SOLVERS, residual_per_sample, solve
from tests.engine.linear_problems import affine_map, exact_solution, symmetric_contraction

SOLVER_NAMES = ["picard", "anderson", "broyden"]


def test_registry_lists_the_three_solvers() -> None:
    assert SOLVERS.names() == SOLVER_NAMES
    from engine.config.equilibrium import SolverConfig
    from engine.config.fields import field_choices, field_options

    assert field_choices(SolverConfig, "solver") == tuple(SOLVER_NAMES)  # what the settings offer is registered
    assert {option.value for option in field_options(SolverConfig).values()} == set(SOLVER_NAMES)
    with pytest.raises(KeyError, match="choose one of"):
        SOLVERS.get("newton")


@pytest.fixture(scope="module")
def linear_problem():
    a = symmetric_contraction(16, 64, 0.9, seed=1)
    # float64 QR and SVD: ‖A‖₂ is 0.9 to rounding (measured 1.3e-15 off), far inside allclose's 1e-5
    assert torch.allclose(torch.linalg.matrix_norm(a, ord=2), torch.full((16,), 0.9, dtype=torch.float64))
    b = torch.randn(16, 64, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    return a, b, exact_solution(a, b)


@pytest.fixture(scope="module")
def linear_results(linear_problem):
    a, b, _ = linear_problem
    return {
        name: solve(name, affine_map(a, b), torch.zeros_like(b), max_iter=1000, tol=1e-8, stop_mode="rel")
        for name in SOLVER_NAMES
    }


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_linear_contraction_matches_direct_solve(name, linear_problem, linear_results) -> None:
    """A solve stops once every sample's relative residual is below 1e-8, and the residual recomputed from the returned
    iterate repeats the solver's arithmetic (measured equal to the bit). The error is then at most
    ‖(I − A)⁻¹‖ = 1 / (1 − 0.9) = 10 times the residual, 1e-7 (measured 9.6e-8 at most on AVX2 and AVX-512 at one and
    two threads): the bound 1e-6 leaves 10×."""
    a, b, z_exact = linear_problem
    z, stats = linear_results[name]
    assert stats.converged.all()
    assert stats.max_residual < 1e-8
    true_res = residual_per_sample(affine_map(a, b)(z), z, "rel")
    assert (true_res < 1e-8).all()
    rel_err = (z - z_exact).norm(dim=1) / z_exact.norm(dim=1)
    assert rel_err.max() < 1e-6
    assert stats.nstep == len(stats.residual_max_trace) == len(stats.residual_mean_trace)
    assert stats.wall_time_s > 0


@pytest.mark.parametrize("name", ["anderson", "broyden"])
def test_accelerated_solvers_need_at_most_half_of_picards_iterations(name, linear_results) -> None:
    picard_steps = linear_results["picard"][1].nstep
    assert picard_steps > 100  # the problem is hard for plain iteration
    # measured: Picard 151 steps, Anderson 41, Broyden 43 or 44 (AVX2 and AVX-512, one and two threads)
    assert linear_results[name][1].nstep <= picard_steps / 2


def test_type_one_anderson_matches_direct_solve_and_beats_picard(linear_problem, linear_results) -> None:
    """Type I wants a small regularization: λ = 1e-4 of |diag H| already slows it below Picard here. The error bound is
    the type II one's (measured 6.2e-8), and it takes 56 steps against Picard's 151 on AVX2 and AVX-512 at one and two
    threads."""
    a, b, z_exact = linear_problem
    z, stats = solve("anderson", affine_map(a, b), torch.zeros_like(b), max_iter=1000, tol=1e-8, kind="I",
                     lam=1e-8)
    assert stats.converged.all()
    assert ((z - z_exact).norm(dim=1) / z_exact.norm(dim=1)).max() < 1e-6
    assert stats.nstep <= linear_results["picard"][1].nstep / 2
    with pytest.raises(ValueError, match="kind"):
        solve("anderson", affine_map(a, b), torch.zeros_like(b), max_iter=3, tol=1e-8, kind="III")


def test_abs_stop_mode_measures_absolute_residual(linear_problem) -> None:
    a, b, z_exact = linear_problem
    z, stats = solve("anderson", affine_map(a, b), torch.zeros_like(b), max_iter=500, tol=1e-9, stop_mode="abs")
    assert stats.converged.all()
    # the solve stops below 1e-9 (measured 9.1e-10 at most) and this recomputes the same residual
    assert ((affine_map(a, b)(z) - z).norm(dim=1) < 1e-9).all()


def test_damped_picard_converges_where_plain_iteration_oscillates() -> None:
    # eigenvalues in [-1.2, -0.5]: plain iteration diverges, τ = 0.5 maps them into [-0.1, 0.25]
    a = -symmetric_contraction(4, 16, 1.2, seed=3, low=0.5)
    b = torch.randn(4, 16, dtype=torch.float64)
    _, plain = solve("picard", affine_map(a, b), torch.zeros_like(b), max_iter=60, tol=1e-10)
    z, damped = solve("picard", affine_map(a, b), torch.zeros_like(b), max_iter=60, tol=1e-10, damping=0.5)
    assert not plain.converged.any()
    assert damped.converged.all()
    # the damped map contracts by 0.25 at most, so the error is about the 1e-10 residual: measured at most 1.5e-4 of
    # allclose's tolerance (atol 1e-8 + rtol 1e-5) over 20 draws of b
    assert torch.allclose(z, exact_solution(a, b), atol=1e-8)


def _mixed_batch():
    """Samples 0..3 easy (‖A‖ = 0.1), samples 4..7 hard (‖A‖ = 0.95)."""
    easy = symmetric_contraction(4, 32, 0.1, seed=4)
    hard = symmetric_contraction(4, 32, 0.95, seed=5, low=0.5)
    a = torch.cat([easy, hard])
    b = torch.randn(8, 32, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    return a, b


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_mixed_batch_has_per_sample_stats_and_returns_each_samples_best(name) -> None:
    a, b = _mixed_batch()
    f = affine_map(a, b)
    seen: list[torch.Tensor] = []

    def recording_f(z: torch.Tensor) -> torch.Tensor:
        seen.append(z.clone())
        return f(z)

    z, stats = solve(name, recording_f, torch.zeros_like(b), max_iter=12, tol=1e-6)
    # easy samples converge within the budget, hard ones do not: measured at most 2.3e-10 and at least 4.7e-4 (Anderson;
    # the other solvers are farther apart), 400× either side of the tolerance
    assert stats.converged[:4].all() and not stats.converged[4:].any()
    assert stats.residual[:4].max() < 1e-6 < stats.residual[4:].min()
    assert stats.residual_max_trace[-1] > stats.residual_mean_trace[-1]
    # the returned iterate is, per sample, the evaluated iterate with the lowest residual
    history = torch.stack(seen)  # (K, B, n)
    residuals = torch.stack([residual_per_sample(f(h), h, "rel") for h in history])  # (K, B)
    best = residuals.argmin(dim=0)
    expected = history[best, torch.arange(8)]
    # exact: the same f on the same iterates, and each sample's best residual is at least 12 % below its next best
    # (measured), so no rounding can reorder them
    assert torch.equal(z, expected)
    assert torch.allclose(stats.residual, residuals.min(dim=0).values)


def test_picard_returns_lowest_iterate_when_the_map_expands() -> None:
    # an expansive map: residuals grow, so the best iterate is the first one
    a = symmetric_contraction(3, 8, 1.5, seed=7, low=1.2)
    b = torch.ones(3, 8, dtype=torch.float64)
    z0 = exact_solution(a, b) + 1e-3
    z, stats = solve("picard", affine_map(a, b), z0, max_iter=10, tol=1e-12)
    assert torch.equal(z, z0)
    assert stats.residual_max_trace[-1] > stats.residual_max_trace[0]


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_solvers_keep_shape_dtype_and_zero_budget(name) -> None:
    f = lambda z: 0.5 * z + 1.0  # noqa: E731
    z0 = torch.zeros(5, 3, 4, dtype=torch.float32)
    z, stats = solve(name, f, z0, max_iter=100, tol=1e-5)
    assert z.shape == z0.shape and z.dtype == torch.float32
    # f(z) − z = (2 − z) / 2 per element and ‖f(z)‖ ≈ 2√12, so a relative residual below 1e-5 leaves each element within
    # 4e-5 of 2 (measured 3.1e-5, Picard); the tolerance 1.2e-4 (atol + rtol·2) leaves 3×
    assert torch.allclose(z, torch.full_like(z0, 2.0), atol=1e-4)
    z_none, none = solve(name, f, z0, max_iter=0, tol=1e-5)
    assert none.nstep == 0 and torch.equal(z_none, z0)


def test_non_finite_values_never_become_the_returned_iterate() -> None:
    calls = {"n": 0}

    def exploding(z: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return z * 0.5 + 1.0 if calls["n"] < 4 else torch.full_like(z, float("nan"))

    z, stats = solve("anderson", exploding, torch.zeros(2, 4), max_iter=8, tol=1e-12)
    assert torch.isfinite(z).all()
    assert torch.isfinite(stats.residual).all()


def test_stats_as_numpy_is_plain_data(linear_results) -> None:
    import numpy as np

    data = linear_results["anderson"][1].as_numpy()
    assert isinstance(data["residual"], np.ndarray) and data["residual"].shape == (16,)
    assert data["converged"].dtype == bool
    assert data["nstep"] == len(data["residual_max_trace"])


def _near_linear_tanh(batch: int = 256, dim: int = 64):
    gen = torch.Generator().manual_seed(2)
    a = symmetric_contraction(1, dim, 0.97, seed=2)[0]
    inj = 0.05 * torch.sin(torch.randn(batch, dim, generator=gen, dtype=torch.float64))
    return lambda z: torch.tanh(torch.addmm(inj, z, a)), inj


def test_broyden_restarts_diverging_samples_instead_of_blowing_up() -> None:
    f, inj = _near_linear_tanh()
    _, plain = solve("broyden", f, torch.zeros_like(inj), max_iter=150, tol=1e-6, restart_ratio=float("inf"))
    _, guarded = solve("broyden", f, torch.zeros_like(inj), max_iter=150, tol=1e-6)
    assert not plain.converged.all()  # full Broyden steps alone diverge on some samples here
    assert guarded.converged.all()
    # measured: plain Broyden leaves 159 of 256 samples unconverged, the guarded one converges in 67 of its 150 steps,
    # Picard in 225 (AVX2 and AVX-512, one and two threads)
    _, picard = solve("picard", f, torch.zeros_like(inj), max_iter=1000, tol=1e-6)
    assert guarded.nstep < picard.nstep


@pytest.mark.cuda
@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_solvers_on_cuda_match_the_direct_solve(name, linear_problem) -> None:
    a, b, z_exact = (t.cuda() for t in linear_problem)
    z, stats = solve(name, affine_map(a, b), torch.zeros_like(b), max_iter=1000, tol=1e-8)
    assert z.is_cuda and stats.converged.all()
    # the CPU test's bound: at most 10 × the 1e-8 residual (float64 on either device)
    assert ((z - z_exact).norm(dim=1) / z_exact.norm(dim=1)).max() < 1e-6


@pytest.mark.parametrize("name", SOLVER_NAMES)
@pytest.mark.parametrize("every", [3, 7])
def test_checking_convergence_every_k_iterations_finds_the_same_fixed_point(name, every, linear_problem,
                                                                           linear_results) -> None:
    """Asked every k-th iteration whether to stop (the host waits for the device only then), a solve runs at most
    k − 1 iterations more than when asked every iteration, on exactly the same iterates, and returns a fixed point
    at least as converged."""
    a, b, z_exact = linear_problem
    z_each, each = linear_results[name]
    z, stats = solve(name, affine_map(a, b), torch.zeros_like(b), max_iter=1000, tol=1e-8, stop_mode="rel",
                     check_every=every)
    assert each.nstep <= stats.nstep <= each.nstep + every - 1 and stats.nstep % every == 0
    assert stats.residual_max_trace[:each.nstep] == each.residual_max_trace  # the same iterations, to the bit
    assert stats.converged.all() and (stats.residual <= each.residual).all()
    assert torch.allclose(z, z_each, rtol=0, atol=1e-6) and torch.allclose(z, z_exact, rtol=0, atol=1e-6)


def test_a_fixed_number_of_iterations_is_never_cut_short() -> None:
    """With tol `EVERY_ITERATION` (JIIO's fixed K rounds) the solve never asks whether to stop."""
    from engine.solvers.base import EVERY_ITERATION

    a = symmetric_contraction(4, 8, 0.5, seed=3)
    b = torch.randn(4, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    for name in SOLVER_NAMES:
        _, stats = solve(name, affine_map(a, b), torch.zeros_like(b), max_iter=60, tol=EVERY_ITERATION)
        assert stats.nstep == len(stats.residual_max_trace) == 60 and not stats.converged.any()


def test_anderson_weights_are_the_same_solved_one_raise_at_a_time_or_all_at_once() -> None:
    """Where a sample's system is singular the regularization is raised ×10 until it solves (a GPU tries every raise
    in one batch, so as not to wait for the answer; a CPU one at a time); a sample that never solves takes the newest
    iterate alone. Both ways give the same weights, summing to 1."""
    from engine.solvers.anderson import mixing_weights

    g = torch.randn(5, 4, 30, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    gram = g @ g.transpose(1, 2)
    gram[1] = 0.0  # a sample at its fixed point: equal weights (it once got none, its next iterate 0)
    gram[2, :, 0] = gram[2, 0, :] = 0.0  # singular: regular once λ̃ is raised enough
    gram[3] = float("nan")  # never solves
    gram[4] = torch.tensor([[1e300, -1e300, 0, 0], [-1e300, 1e300, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    one, batch = mixing_weights(gram, 1e-20, all_at_once=False), mixing_weights(gram, 1e-20, all_at_once=True)
    assert torch.equal(one, batch)
    assert torch.allclose(one.sum(dim=1), torch.ones(5, dtype=torch.float64))
    assert torch.allclose(one[1], torch.full((4,), 0.25, dtype=torch.float64))
    assert torch.equal(one[3], torch.tensor([0.0, 0, 0, 1], dtype=torch.float64))  # the newest iterate alone
