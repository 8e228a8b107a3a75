"""Limited-memory "good" Broyden's method on the residual g(z) = f(z) − z, batched per sample.

The inverse Jacobian of g is approximated as H = −I + U Vᵀ, starting from −I (so the first step is a Picard step),
and updated after each step dz with dg = g_new − g_old by the rank-one correction
    H ← H + (dz − H dg) (dzᵀH) / (dzᵀ H dg).
Since dz = −H g_old, dz − H dg = −H g_new =: c, so u = c / (dzᵀH dg) and the next step is
−H_new g_new = c · (1 − (dzᵀH g_new)/(dzᵀH dg)): two passes over the history per step instead of six.
The newest `memory` corrections are kept, the oldest overwritten first (after which the step is recomputed with the
truncated H, two more passes); steps are full (no line search); a
correction whose denominator vanishes for a sample is skipped for that sample. Broyden without line search is not
globally convergent: a sample whose residual grows past `restart_ratio` × its best is sent back to its best
iterate with its corrections cleared (H = −I), so one bad sample cannot blow up.
Reference: Broyden, "A class of methods for solving nonlinear simultaneous equations", Math. Comp. 1965;
Bai, Kolter, Koltun, "Deep Equilibrium Models", NeurIPS 2019.
"""
from __future__ import annotations

import torch
from torch import Tensor

from engine.solvers.base import SOLVERS, BestIterate, FixedPointMap, SolverStats, StopMode, residual_norms
from engine.solvers.history import combine, dots


def _rowdot(a: Tensor, b: Tensor) -> Tensor:
    """Per-sample dot product of (B, n) tensors, as (B, 1)."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(-1)).squeeze(-1)


@SOLVERS.register("broyden")
def broyden(
    f: FixedPointMap,
    z0: Tensor,
    *,
    max_iter: int,
    tol: float,
    stop_mode: StopMode = "rel",
    check_every: int = 1,
    memory: int = 30,
    restart_ratio: float = 10.0,
) -> tuple[Tensor, SolverStats]:
    """Broyden's method from z0; returns each sample's lowest-residual iterate."""
    best = BestIterate(z0, tol, "broyden", stop_mode, check_every=check_every)
    shape, b = z0.shape, z0.shape[0]
    n = z0[0].numel()
    m = max(1, memory)
    # histories: only the first min(updates, m) slots are ever read, so they need no zero fill
    us = z0.new_empty(b, m, n)  # columns of U  (B, m, n)
    vts = z0.new_empty(b, m, n)  # rows of Vᵀ   (B, m, n)
    z = z0.detach().reshape(b, n).clone()
    g_old = torch.empty_like(z)
    step = torch.empty_like(z)
    cand = torch.empty_like(z)
    vt = torch.empty_like(z)
    updates = 0
    for k in range(max_iter):
        fz = f(z.view(shape)).reshape(b, n)
        g = fz - z
        res = residual_norms(g, fz, stop_mode)
        if best.update(z.view(shape), res) or k == max_iter - 1:
            break
        filled = min(updates, m)
        u_hist, vt_hist = us[:, :filled], vts[:, :filled]
        torch.sub(g, combine(u_hist, dots(vt_hist, g), out=cand), out=cand)  # c = −H g = g − U Vᵀ g
        if k == 0:
            step.copy_(cand)
        else:
            torch.sub(combine(vt_hist, dots(u_hist, step), out=vt), step, out=vt)  # dzᵀH = −dz + (dzᵀU)Vᵀ
            num = _rowdot(vt, g)  # dzᵀ H g_new        (B, 1)
            den = num - _rowdot(vt, g_old)  # dzᵀ H dg (B, 1)
            usable = den.abs() > 1e-30
            inv_den = torch.where(usable, 1.0 / torch.where(usable, den, torch.ones_like(den)), torch.zeros_like(den))
            slot = updates % m
            torch.mul(cand, inv_den, out=us[:, slot])
            torch.mul(vt, usable.to(vt.dtype), out=vts[:, slot])
            updates += 1
            if updates <= m:  # H_new = H + u vtᵀ exactly
                torch.mul(cand, 1.0 - num * inv_den, out=step)
            else:  # the oldest correction was dropped: take the step with the truncated H
                torch.sub(g, combine(us, dots(vts, g), out=step), out=step)
        # diverging or non-finite samples go back to their best iterate with H = −I (a Picard step next). A CPU
        # answers whether any does at once, and the histories are touched only then (they are large: masking them
        # every iteration made a solve 2.4× slower); elsewhere masked, so that no answer from the device is waited for
        restart = ~(res <= restart_ratio * best.residual.to(res.dtype))  # (B,)
        if restart.device.type != "cpu" or bool(restart.any()):
            torch.where(restart.view(b, 1), best.z.reshape(b, n), z, out=z)
            step.masked_fill_(restart.view(b, 1), 0.0)
            for buffer in (us, vts):
                buffer.masked_fill_(restart.view(b, 1, 1), 0.0)
        g_old.copy_(g)
        z = z + step
    return best.finish()
