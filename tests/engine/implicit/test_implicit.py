"""The implicit layer's backward modes against finite differences and long unrolled autograd; warm starts."""
from __future__ import annotations

import pytest
import torch

from engine.config import BackwardConfig, SolverConfig
from engine.implicit import AdjointMemory, WarmStartBuffer, implicit_layer

DT = torch.float64
TIGHT = SolverConfig(solver="anderson", max_iter=400, tol=1e-13)
EXACT = BackwardConfig(mode="exact", adjoint=SolverConfig(solver="anderson", max_iter=400, tol=1e-13))


def tanh_layer(z, x, w, u, b):
    """f(z, x) = tanh(W z + U x + b), batch first: z (B, n), x (B, d)."""
    return torch.tanh(z @ w.T + x @ u.T + b)


def make_problem(seed: int = 0, batch: int = 4, d: int = 3, n: int = 8, norm: float = 0.9):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n, n, generator=gen, dtype=DT)
    w = w / torch.linalg.matrix_norm(w, ord=2) * norm
    u = torch.randn(n, d, generator=gen, dtype=DT)
    b = torch.randn(n, generator=gen, dtype=DT) * 0.5
    x = torch.randn(batch, d, generator=gen, dtype=DT)
    target = torch.randn(batch, n, generator=gen, dtype=DT)
    return [w, u, b, x], target


def loss_of(z, target):
    return ((z - target) ** 2).sum() + z.sin().sum()


def deq_loss(params, target, backward=EXACT, forward=TIGHT):
    w, u, b, x = params
    z, _ = implicit_layer(tanh_layer, (x, w, u, b), torch.zeros(x.shape[0], w.shape[0], dtype=DT, device=x.device),
                          forward=forward, backward=backward)
    return loss_of(z, target)


def grads(params, target, backward=EXACT):
    leaves = [p.clone().requires_grad_() for p in params]
    return torch.autograd.grad(deq_loss(leaves, target, backward), leaves)


def test_exact_gradient_matches_central_finite_differences() -> None:
    """Central differences with h = 1e-6 in float64 err by about h² (truncation) plus the losses' rounding and their
    1e-13 solve tolerance divided by h, 1e-7 relative at most; measured 2.1e-9 on AVX2 and AVX-512 at one and two
    threads. The bound 1e-5 leaves room for both."""
    params, target = make_problem()
    analytic = grads(params, target)
    h = 1e-6
    for p, g in zip(params, analytic):
        fd = torch.zeros_like(p)
        for i in range(p.numel()):
            plus = [q.clone() for q in params]
            minus = [q.clone() for q in params]
            k = [q is p for q in params].index(True)
            plus[k].view(-1)[i] += h
            minus[k].view(-1)[i] -= h
            with torch.no_grad():
                fd.view(-1)[i] = (deq_loss(plus, target) - deq_loss(minus, target)) / (2 * h)
        assert torch.linalg.vector_norm(g - fd) / torch.linalg.vector_norm(fd) < 1e-5


def test_exact_gradient_matches_300_unrolled_iterations() -> None:
    """300 steps of a map contracting by 0.9 leave 0.9³⁰⁰ ≈ 2e-14 of the start in the forward and in the backward;
    measured 8.8e-14 on AVX2 and AVX-512 at one and two threads, under the bound 1e-8."""
    params, target = make_problem(seed=1)
    analytic = grads(params, target)
    leaves = [p.clone().requires_grad_() for p in params]
    w, u, b, x = leaves
    z = torch.zeros(x.shape[0], w.shape[0], dtype=DT)
    for _ in range(300):
        z = tanh_layer(z, x, w, u, b)
    unrolled = torch.autograd.grad(loss_of(z, target), leaves)
    for g, ref in zip(analytic, unrolled):
        assert torch.linalg.vector_norm(g - ref) / torch.linalg.vector_norm(ref) < 1e-8


def _flat(gs):
    return torch.cat([g.reshape(-1) for g in gs])


def test_neumann_error_shrinks_monotonically_with_order_and_jfb_points_uphill() -> None:
    params, target = make_problem(seed=2)
    exact = _flat(grads(params, target))
    errors = []
    for order in range(9):
        approx = _flat(grads(params, target, BackwardConfig(mode="neumann", neumann_order=order)))
        errors.append(float(torch.linalg.vector_norm(approx - exact)))
    # measured: each order leaves at most 0.55 of the previous error (float64 rounding is 1e-16 of it), order 8 leaves
    # 1e-3 of order 0's; JFB's cosine with the exact gradient is 0.94
    assert all(later < earlier for earlier, later in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.2 * errors[0]
    jfb = _flat(grads(params, target, BackwardConfig(mode="jfb")))
    assert torch.allclose(jfb, _flat(grads(params, target, BackwardConfig(mode="neumann", neumann_order=0))))
    assert float(jfb @ exact) > 0


def test_adjoint_memory_records_stats_and_warm_starts_the_next_adjoint() -> None:
    params, target = make_problem(seed=3)
    backward = BackwardConfig(mode="exact", adjoint=SolverConfig(solver="anderson", max_iter=200, tol=1e-10))
    memory = AdjointMemory()
    w, u, b, x = [p.clone().requires_grad_() for p in params]

    def step() -> int:
        z, _ = implicit_layer(tanh_layer, (x, w, u, b), torch.zeros(4, 8, dtype=DT),
                              forward=TIGHT, backward=backward, adjoint=memory)
        loss_of(z, target).backward()
        assert memory.stats is not None and memory.stats.converged.all()
        return memory.stats.nstep

    cold = step()
    with torch.no_grad():
        w.add_(1e-4 * torch.randn_like(w))
    warm = step()
    assert memory.u is not None and memory.u.shape == (4, 8)
    assert warm < cold  # measured 17 cold, 10 to 12 warm over ten draws of the weight change


def test_gradient_flows_only_into_tensors_that_require_it() -> None:
    params, target = make_problem(seed=4)
    w, u, b, x = params
    w = w.clone().requires_grad_()
    z, stats = implicit_layer(tanh_layer, (x, w, u, b), torch.zeros(4, 8, dtype=DT), forward=TIGHT, backward=EXACT)
    loss_of(z, target).backward()
    assert w.grad is not None and x.grad is None and u.grad is None
    assert stats.converged.all()


def test_no_grad_mode_returns_a_plain_tensor() -> None:
    params, _ = make_problem(seed=5)
    w, u, b, x = [p.clone().requires_grad_() for p in params]
    with torch.no_grad():
        z, _ = implicit_layer(tanh_layer, (x, w, u, b), torch.zeros(4, 8, dtype=DT), forward=TIGHT, backward=EXACT)
    assert not z.requires_grad


def test_amortized_step_applies_f_once_and_reports_its_residual() -> None:
    params, _ = make_problem(seed=6)
    w, u, b, x = params
    z_star, _ = implicit_layer(tanh_layer, (x, w, u, b), torch.zeros(4, 8, dtype=DT), forward=TIGHT, backward=EXACT)
    w_req = w.clone().requires_grad_()
    z, stats = implicit_layer(tanh_layer, (x, w_req, u, b), z_star, forward=TIGHT, backward=EXACT, iterate=False)
    assert stats.solver == "amortized" and stats.nstep == 1
    assert torch.allclose(z.detach(), tanh_layer(z_star, x, w, u, b))  # the same arithmetic: measured equal to the bit
    assert stats.max_residual < 1e-10  # z* was solved to 1e-13, so one more step moves it as little: measured 6.7e-15


def _perturbed_solve_steps(solver: str) -> tuple[int, int]:
    params, _ = make_problem(seed=7, batch=32, d=4, n=64, norm=0.95)
    w, u, b, x = params
    config = SolverConfig(solver=solver, max_iter=500, tol=1e-6)
    z0 = torch.zeros(32, 64, dtype=DT)
    z_star, _ = implicit_layer(tanh_layer, (x, w, u, b), z0, forward=config, backward=EXACT)
    delta = torch.randn(w.shape, generator=torch.Generator().manual_seed(8), dtype=DT)
    w2 = w + 1e-5 * torch.linalg.matrix_norm(w) / torch.linalg.matrix_norm(delta) * delta  # ‖ΔW‖ = 1e-5 ‖W‖
    _, cold = implicit_layer(tanh_layer, (x, w2, u, b), z0, forward=config, backward=EXACT)
    _, warm = implicit_layer(tanh_layer, (x, w2, u, b), z_star, forward=config, backward=EXACT)
    assert cold.converged.all() and warm.converged.all()
    return cold.nstep, warm.nstep


@pytest.mark.parametrize("solver", ["picard", "anderson", "broyden"])
def test_warm_start_after_small_weight_change_needs_a_third_of_the_iterations(solver) -> None:
    """Measured 13 or 14 steps cold and 3 warm for each solver, on AVX2 and AVX-512 at one and two threads."""
    cold, warm = _perturbed_solve_steps(solver)
    assert warm <= cold / 3, (cold, warm)


def test_warm_start_buffer_stores_rows_and_round_trips() -> None:
    buf = WarmStartBuffer()
    buf.allocate(10, (3,), device=torch.device("cpu"), dtype=torch.float32)
    z, full = buf.lookup()
    assert not full and torch.equal(z, torch.zeros(10, 3))
    idx = torch.tensor([1, 4, 7])
    buf.store(torch.ones(3, 3), idx)
    rows, full = buf.lookup(idx)
    assert full and torch.equal(rows, torch.ones(3, 3))
    assert not buf.lookup(torch.tensor([0, 1]))[1]
    clone = WarmStartBuffer()
    clone.load_state_dict(buf.state_dict())
    assert torch.equal(clone.lookup()[0], buf.lookup()[0])
    buf.store(torch.full((10, 3), 2.0))
    assert buf.lookup()[1]
    buf.allocate(10, (3,), device=torch.device("cpu"), dtype=torch.float32)  # same layout: kept
    assert buf.lookup()[1]
    buf.reset()
    with pytest.raises(RuntimeError):
        buf.lookup()
