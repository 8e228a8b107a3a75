"""JIIO against closed forms and plain gradient descent; constraint satisfaction; μ*-warm-started weight gradients."""
from __future__ import annotations

import pytest
import torch

from engine.config import BackwardConfig, JIIOConfig, SolverConfig
from engine.implicit import AdjointMemory, implicit_layer
from engine.jiio import jiio, project_perturbation

DT = torch.float64


class LinearProblem:
    """f(z, x) = A z + B x, ℓ = ½‖C z − y‖² + ½λ‖x‖²: x* = (MᵀCᵀCM + λI)⁻¹ MᵀCᵀ y with M = (I − A)⁻¹ B."""

    def __init__(self, batch: int = 4, n: int = 16, d: int = 6, m: int = 10, lam: float = 0.1) -> None:
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=gen, dtype=DT)
        self.a = a / torch.linalg.matrix_norm(a, ord=2) * 0.5
        self.b = torch.randn(n, d, generator=gen, dtype=DT) / d**0.5
        self.c = torch.randn(m, n, generator=gen, dtype=DT) / n**0.5
        self.y = torch.randn(batch, m, generator=gen, dtype=DT)
        self.lam = lam
        eye = torch.eye(n, dtype=DT)
        self.m_map = torch.linalg.solve(eye - self.a, self.b)  # z*(x) = M x
        hessian = self.m_map.T @ self.c.T @ self.c @ self.m_map + lam * torch.eye(d, dtype=DT)
        self.x_star = torch.linalg.solve(hessian, self.m_map.T @ self.c.T @ self.y.T).T
        self.z_star = self.x_star @ self.m_map.T
        residual = self.z_star @ self.c.T - self.y
        self.mu_star = torch.linalg.solve(eye - self.a.T, (residual @ self.c).T).T  # μ = ∂ℓ/∂z + Aᵀμ

    def cell(self, z, x):
        return z @ self.a.T + x @ self.b.T

    def loss(self, z, x):
        return 0.5 * ((z @ self.c.T - self.y) ** 2).sum(1) + 0.5 * self.lam * (x**2).sum(1)

    def project(self, x):
        return x

    def gradient(self, x):
        """dℓ(z*(x), x)/dx in closed form."""
        return (x @ self.m_map.T @ self.c.T - self.y) @ self.c @ self.m_map + self.lam * x


def _rel(a, b):
    return ((a - b).norm(dim=1) / b.norm(dim=1)).max().item()


@pytest.mark.parametrize("kind", ["II", "I"])
def test_jiio_reaches_the_closed_form_optimum_and_the_exact_adjoint(kind) -> None:
    problem = LinearProblem()
    config = JIIOConfig(iterations=200, alpha=(0.5, 0.5), anderson_memory=10, anderson_kind=kind,
                        anderson_lam=1e-4 if kind == "II" else 1e-8)
    result = jiio(problem, torch.zeros(4, 16, dtype=DT), torch.zeros(4, 6, dtype=DT), config)
    # measured at most 1.3e-8 (type I; type II 5e-14) on AVX2 and AVX-512 at one and two threads
    assert _rel(result.x, problem.x_star) < 1e-4
    assert _rel(result.z, problem.z_star) < 1e-4
    assert _rel(result.mu, problem.mu_star) < 1e-4
    assert len(result.loss_trace) == 200 and result.loss_trace[-1] < result.loss_trace[0]
    assert all(later >= earlier for earlier, later in zip(result.time_trace, result.time_trace[1:]))


def test_plain_gradient_descent_agrees_with_jiio() -> None:
    problem = LinearProblem()
    x = torch.zeros(4, 6, dtype=DT)
    for _ in range(3000):
        x = x - 0.3 * problem.gradient(x)
    # measured 1e-15, and JIIO 3.4e-14 from it, on AVX2 and AVX-512 at one and two threads
    assert _rel(x, problem.x_star) < 1e-6
    result = jiio(problem, torch.zeros(4, 16, dtype=DT), torch.zeros(4, 6, dtype=DT),
                  JIIOConfig(iterations=200, alpha=(0.5, 0.5)))
    assert _rel(result.x, x) < 1e-4


def test_step_size_schedule_switches_at_max_50_or_five_eighths() -> None:
    short = JIIOConfig(iterations=40, alpha=(0.6, 0.2))
    assert short.step_size(39) == 0.6  # switch at 50 > K: never
    long = JIIOConfig(iterations=160, alpha=(0.6, 0.2))
    assert long.step_size(99) == 0.6 and long.step_size(100) == 0.2


class AttackProblem:
    """A small DEQ classifier z = tanh(W z + U (base + δ)), logits V z; ℓ = −10·CE (maximize the loss)."""

    def __init__(self, epsilon: float) -> None:
        gen = torch.Generator().manual_seed(1)
        self.w = torch.randn(32, 32, generator=gen, dtype=DT)
        self.w = self.w / torch.linalg.matrix_norm(self.w, ord=2) * 0.8
        self.u = torch.randn(32, 20, generator=gen, dtype=DT)
        self.v = torch.randn(5, 32, generator=gen, dtype=DT)
        self.base = torch.rand(8, 20, generator=gen, dtype=DT)
        self.labels = torch.arange(8) % 5
        self.epsilon = epsilon

    def cell(self, z, delta):
        return torch.tanh(z @ self.w.T + (self.base + delta) @ self.u.T)

    def loss(self, z, delta):
        return -10 * torch.nn.functional.cross_entropy(z @ self.v.T, self.labels, reduction="none")

    def project(self, delta):
        return project_perturbation(delta, self.base, self.epsilon, box=True)


def test_attack_perturbations_stay_in_the_ball_and_box_and_raise_the_loss() -> None:
    problem = AttackProblem(epsilon=1.0)
    config = JIIOConfig(iterations=80, alpha=(0.6, 0.2), normalized=True, box=True)
    result = jiio(problem, torch.zeros(8, 32, dtype=DT), torch.zeros(8, 20, dtype=DT), config)
    norms = result.x.norm(dim=1)
    # the slack is float64 rounding of the projection's scaling (measured: every norm at most 1, the box exact)
    assert (norms <= 1.0 * (1 + 1e-6)).all()
    adv = problem.base + result.x
    assert adv.min() >= -1e-9 and adv.max() <= 1 + 1e-9
    assert result.loss_trace[-1] < result.loss_trace[0]  # −CE went down: the attack raised the CE (−16 to −182)
    assert norms.max() > 0.5  # it used the budget


@pytest.mark.parametrize("epsilon", [0.1, 2.0])
def test_l2_projection_never_exceeds_the_radius(epsilon) -> None:
    delta = torch.randn(64, 3, 7, 7, dtype=DT) * 5
    projected = project_perturbation(delta, None, epsilon, box=False)
    assert (projected.flatten(1).norm(dim=1) <= epsilon * (1 + 1e-6)).all()  # float64 rounding: measured 2.2e-16 over
    small = delta * 1e-4
    assert torch.equal(project_perturbation(small, None, 1e3, box=False), small)


def _dykstra(y, low, high, epsilon, rounds=20_000):
    """Dykstra's alternating projections onto the box and the ball: the exact projection in the limit."""
    x, p, q = y.clone(), torch.zeros_like(y), torch.zeros_like(y)
    for _ in range(rounds):
        u = torch.maximum(torch.minimum(x + p, high), low)
        p = x + p - u
        v = u + q
        v = v * torch.clamp(epsilon / v.norm(dim=1, keepdim=True), max=1.0)
        q = u + q - v
        x = v
    return x


def test_ball_and_box_projection_is_the_nearest_feasible_point() -> None:
    gen = torch.Generator().manual_seed(5)
    base = torch.rand(32, 12, generator=gen, dtype=DT)
    base[:, :4] = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=DT)  # pixels on the box's faces, as in MNIST
    y = torch.randn(32, 12, generator=gen, dtype=DT) * torch.linspace(0.05, 2.0, 32, dtype=DT)[:, None]
    projected = project_perturbation(y, base, 0.8, box=True)
    assert (projected.norm(dim=1) <= 0.8 * (1 + 1e-9)).all()
    assert (base + projected).min() >= -1e-12 and (base + projected).max() <= 1 + 1e-12
    expected = _dykstra(y, -base, 1 - base, 0.8)
    assert (projected - expected).abs().max() < 1e-6  # measured 2e-9: Dykstra's own convergence
    composite = project_perturbation(project_perturbation(y, base, None, box=True), None, 0.8, box=False)
    # equal where both leave a row alone (measured 7.5e-17 apart): the slack is float64 rounding; elsewhere
    # clip-then-scale lands up to 0.15 farther
    assert (composite - y).norm(dim=1).min() >= (projected - y).norm(dim=1).min() - 1e-9
    assert ((composite - y).norm(dim=1) > (projected - y).norm(dim=1) + 1e-6).any()  # clip-then-scale is not it
    inside = y * 1e-3
    assert torch.allclose(project_perturbation(inside, base, 0.8, box=True),
                          torch.maximum(torch.minimum(inside, 1 - base), -base))


def test_weight_gradient_with_mu_star_warm_start_matches_the_cold_adjoint() -> None:
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(24, 24, generator=gen, dtype=DT)
    w = (w / torch.linalg.matrix_norm(w, ord=2) * 0.9).requires_grad_()
    u = torch.randn(24, 5, generator=gen, dtype=DT).requires_grad_()
    target = torch.tanh(torch.randn(6, 24, generator=gen, dtype=DT))

    class Decoder:
        def cell(self, z, x):
            return torch.tanh(z @ w.T + x @ u.T)

        def loss(self, z, x):
            return 0.5 * ((z - target) ** 2).sum(1)

        def project(self, x):
            return x

    with torch.no_grad():
        result = jiio(Decoder(), torch.zeros(6, 24, dtype=DT), torch.zeros(6, 5, dtype=DT),
                      JIIOConfig(iterations=60, alpha=(0.3, 0.1)))
    forward = SolverConfig(solver="anderson", tol=1e-12, max_iter=300)
    backward = BackwardConfig(mode="exact", adjoint=SolverConfig(solver="anderson", tol=1e-10, max_iter=300))

    def weight_grads(memory):
        z, _ = implicit_layer(lambda z, x, w_, u_: torch.tanh(z @ w_.T + x @ u_.T), (result.x, w, u),
                              result.z, forward=forward, backward=backward, adjoint=memory)
        loss = 0.5 * ((z - target) ** 2).sum()
        return torch.autograd.grad(loss, (w, u)), memory

    cold, _ = weight_grads(None)
    (warm_w, warm_u), memory = weight_grads(AdjointMemory(u=result.mu.clone()))
    for a, b in zip((warm_w, warm_u), cold):
        assert (a - b).norm() / b.norm() < 1e-4  # both adjoints solved to 1e-10: measured 1.5e-11
    cold_memory = AdjointMemory()
    weight_grads(cold_memory)
    assert memory.stats.nstep < cold_memory.stats.nstep  # μ* is already close to the adjoint (measured 23 against 26)
