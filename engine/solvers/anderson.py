"""Anderson acceleration for batched fixed points, one small linear system per sample.

At step k with the last m iterates z_i and values f(z_i), residuals g_i = f(z_i) − z_i, choose weights α
(Σα = 1), then z_{k+1} = β Σ α_i f(z_i) + (1−β) Σ α_i z_i. Both kinds solve H α ∝ 1 with
- type II (default): H = GGᵀ, i.e. α minimizes ‖Σ α_i g_i‖² + λ‖α‖² (least-squares residual);
- type I ("good" Anderson, a multisecant Broyden method): H_ij = ⟨z_i, g_j⟩, i.e. the mixed residual Σ α_j g_j is
  orthogonal to every difference of iterates z_i − z_l (Petrov–Galerkin). The JIIO reference uses it.
H is updated by one new row (and column) per step; λ is scaled by the mean |diagonal| of H so that
regularization keeps its meaning as the residuals shrink, and raised ×10 for samples whose solve is singular.
Reference: Walker & Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal. 2011;
Fang & Saad, "Two classes of multisecant methods for nonlinear acceleration", Numer. Linear Algebra Appl. 2009;
Bai, Kolter, Koltun, "Deep Equilibrium Models", NeurIPS 2019.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from engine.solvers.base import SOLVERS, BestIterate, FixedPointMap, SolverStats, StopMode, residual_norms
from engine.solvers.history import combine, dots

_MAX_REG_RAISES = 8


AndersonKind = Literal["II", "I"]


def mixing_weights(gram: Tensor, lam: float, all_at_once: bool | None = None) -> Tensor:
    """Weights α (B, k) ∝ (H + λ̃I)⁻¹1 with Σα = 1, for each sample's matrix `gram` H (B, k, k): the minimizer of
    αᵀ(GGᵀ + λ̃I)α when H = GGᵀ (type II), the bordered type-I system when H_ij = ⟨z_i, g_j⟩.

    λ̃ = λ · mean|diag H|; where a sample's system is singular or its weights are not finite, λ̃ is raised ×10
    (up to 8 times), and a sample that still fails takes the newest iterate alone (a plain Picard step). On a CPU
    the raises are tried one at a time while a sample still fails; elsewhere all at once, in one batch of small
    systems, the first that works taken per sample: there, nothing waits for the device to answer (`all_at_once`
    chooses either way; the weights are the same).
    """
    b, k, _ = gram.shape
    gram = gram.to(torch.float64)
    eye = torch.eye(k, dtype=gram.dtype, device=gram.device)
    # a sample at its fixed point has H = 0: a floor on the scale keeps 1/λ̃ and Σ y far from overflowing
    scale = gram.diagonal(dim1=1, dim2=2).abs().mean(dim=1).clamp_min(1e-150)  # (B,)
    ones = torch.ones(1, b, k, 1, dtype=gram.dtype, device=gram.device)
    alpha = torch.zeros(b, k, dtype=gram.dtype, device=gram.device)
    alpha[:, -1] = 1.0  # the fallback
    todo = torch.ones(b, dtype=torch.bool, device=gram.device)
    tries = _MAX_REG_RAISES + 1
    all_at_once = gram.device.type != "cpu" if all_at_once is None else all_at_once
    chunk = tries if all_at_once else 1
    for first_raise in range(0, tries, chunk):
        raises = 10.0 ** torch.arange(first_raise, first_raise + chunk, dtype=gram.dtype, device=gram.device)
        reg = max(lam, 1e-14) * raises.view(-1, 1) * scale  # (R, B)
        y, info = torch.linalg.solve_ex(gram + reg.view(-1, b, 1, 1) * eye, ones)  # R systems per sample
        total = y.sum(dim=(2, 3))  # (R, B)
        a = y.squeeze(-1) / total.unsqueeze(-1)  # (R, B, k)
        ok = torch.isfinite(a).all(dim=2) & torch.isfinite(total) & (total != 0) & (info == 0)  # (R, B)
        works = ok.to(torch.uint8).argmax(dim=0)  # the first raise that works (0 where none does)
        solved = todo & ok.any(dim=0)
        alpha = torch.where(solved.unsqueeze(-1), a.gather(0, works.view(1, b, 1).expand(1, b, k)).squeeze(0), alpha)
        todo = todo & ~solved
        if chunk == 1 and not bool(todo.any()):  # free on a CPU
            break
    return alpha


@SOLVERS.register("anderson")
def anderson(
    f: FixedPointMap,
    z0: Tensor,
    *,
    max_iter: int,
    tol: float,
    stop_mode: StopMode = "rel",
    check_every: int = 1,
    memory: int = 5,
    lam: float = 1e-4,
    beta: float = 1.0,
    project: Callable[[Tensor], Tensor] | None = None,
    cost: Callable[[], Tensor] | None = None,
    kind: AndersonKind = "II",
) -> tuple[Tensor, SolverStats]:
    """Anderson-accelerated fixed-point iteration from z0; returns each sample's lowest-residual iterate.

    `project`, if given, maps every mixed iterate back onto a constraint set (used by JIIO, whose input variable
    lives in a ball or box); it receives and returns the batch in z0's shape, and may project in place. `cost`, if given, returns the
    per-sample cost of the iterate f was last called at, and the returned iterate is selected by
    `BestIterate.update`'s cost rule instead of by residual alone. `kind` picks type II or type I mixing.
    """
    if kind not in ("II", "I"):
        raise ValueError(f"Anderson kind must be 'II' or 'I', not {kind!r}")
    best = BestIterate(z0, tol, "anderson", stop_mode, check_every=check_every)
    shape, b = z0.shape, z0.shape[0]
    n = z0[0].numel()
    m = max(1, memory)
    # histories: only the first min(k + 1, m) slots are ever read, so they need no zero fill
    F = z0.new_empty(b, m, n)  # f-values of the last m iterates       (B, m, n)
    G = z0.new_empty(b, m, n)  # their residuals f(z) − z              (B, m, n)
    X = z0.new_empty(b, m, n) if beta != 1.0 or kind == "I" else None  # iterates: for β < 1 and type I
    gram = z0.new_zeros(b, m, m, dtype=torch.float64)  # H: GGᵀ, or ⟨z_i, g_j⟩ for type I   (B, m, m)
    z = z0.detach().reshape(b, n).clone()
    z_next = torch.empty_like(z)
    mix_x = torch.empty_like(z) if beta != 1.0 else None
    for k in range(max_iter):
        slot = k % m
        fz = f(z.view(shape)).reshape(b, n)
        F[:, slot].copy_(fz)
        g = torch.sub(fz, z, out=G[:, slot])
        if X is not None:
            X[:, slot].copy_(z)
        res = residual_norms(g, fz, stop_mode)
        if best.update(z.view(shape), res, None if cost is None else cost()) or k == max_iter - 1:
            break
        filled = min(k + 1, m)
        if kind == "II":
            row = dots(G[:, :filled], g).to(torch.float64)  # (B, filled)
            gram[:, slot, :filled] = row
            gram[:, :filled, slot] = row
        else:
            assert X is not None
            gram[:, slot, :filled] = dots(G[:, :filled], z).to(torch.float64)  # ⟨z_slot, g_j⟩
            gram[:, :filled, slot] = dots(X[:, :filled], g).to(torch.float64)  # ⟨z_i, g_slot⟩
        alpha = mixing_weights(gram[:, :filled, :filled], lam)  # (B, filled)
        combine(F[:, :filled], alpha, out=z_next)
        if mix_x is not None:
            assert X is not None
            z_next.mul_(beta).add_(combine(X[:, :filled], alpha, out=mix_x), alpha=1.0 - beta)
        if project is not None:
            projected = project(z_next.view(shape))
            if projected.data_ptr() != z_next.data_ptr():
                z_next.view(shape).copy_(projected)
        z, z_next = z_next, z
    return best.finish()

