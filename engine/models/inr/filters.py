"""Input filters of multiplicative filter networks and the sine injections of SIREN-type layers.

    Fourier:  g(x) = sin(Ω x + φ)
    Gabor:    g(x) = sin(Ω x + φ) · exp(−½ γ ‖x − μ‖²),   γ ≥ 0

Initialization (SPEC 2.3): Ω uniform(±1/√d_in) × input_scale/√(L+1), φ uniform(−π, π); Gabor γ ~ Gamma(α/(L+1), 1)
with Ω also × √γ, μ ~ U(−1, 1)^d. Filters depend on x only: a forward computes them once per coordinate set and
every solver iteration reuses them.

On a CPU both filters run in blocks of `BLOCK_ROWS` coordinates (on a GPU in one), forward and backward, with a
hand-written backward (`_FourierFilter`, `_GaborFilter`): the dozen elementwise passes over a (block, D) slab then
stay in the CPU's cache instead of streaming (N, D) temporaries through memory, and nothing of size (N, D) is saved
for the backward (it recomputes the block's arguments from x, two thin matrix products). Measured on one CPU thread
at N = 65,536, D = 256: a Gabor filter's forward and backward took 261 ms with autograd's elementwise graph. On a
coordinate grid both filters are separated by axis instead (engine/models/inr/grid.py), which is faster still.
References: Fathony, Sahu, Willmott, Kolter, "Multiplicative Filter Networks", ICLR 2021;
Huang, Bai, Kolter, "(Implicit)²", NeurIPS 2021.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from engine.models.inr.grid import grid_axes, grid_filter

BLOCK_ROWS = 1024
"""Coordinates per block on a CPU: a (1024, 256) float32 slab is 1 MB, so a block's temporaries stay in cache."""


def _block_rows(x: Tensor) -> int:
    """On a CPU `BLOCK_ROWS`; on a GPU every row in one block: there each block costs a dozen kernel launches, and
    65,536 coordinates in blocks of 1024 measured 5–8 times slower than one block (H200, width 256)."""
    return BLOCK_ROWS if x.device.type == "cpu" else max(x.shape[0], 1)


def _blocks(x: Tensor) -> list[slice]:
    n, rows = x.shape[0], _block_rows(x)
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def _cpu_grid(x: Tensor) -> tuple[Tensor, Tensor] | None:
    """The axes of x on a CPU when x is a grid (engine/models/inr/grid.py); a GPU keeps the one-block filters, whose
    speed there was measured (the separated ones were not yet)."""
    return grid_axes(x) if x.device.type == "cpu" else None


def _with_ones(x: Tensor) -> Tensor:
    """[x, 1]: Ω x + φ becomes one product [x, 1] [Ω, φ]ᵀ, written straight into its output (a product with a
    bias first copies the bias into every row)."""
    return torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)


class _FourierFilter(torch.autograd.Function):
    """sin(x Ωᵀ + φ) in blocks; the backward recomputes each block's argument."""

    @staticmethod
    def forward(ctx, x: Tensor, omega: Tensor, phase: Tensor) -> Tensor:  # type: ignore[override]
        out = x.new_empty(x.shape[0], omega.shape[0])
        x1, weights = _with_ones(x), torch.cat([omega, phase[:, None]], dim=1)  # (N, d + 1), (D, d + 1)
        for rows in _blocks(x):
            torch.mm(x1[rows], weights.T, out=out[rows]).sin_()
        ctx.save_for_backward(x1, weights)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        x1, weights = ctx.saved_tensors
        grad_weights = torch.zeros_like(weights)
        grad_x = x1.new_empty(x1.shape[0], x1.shape[1] - 1) if ctx.needs_input_grad[0] else None
        for rows in _blocks(x1):
            xb = x1[rows]
            grad_lin = torch.mm(xb, weights.T).cos_().mul_(grad[rows])
            grad_weights.addmm_(grad_lin.T, xb)
            if grad_x is not None:
                torch.mm(grad_lin, weights[:, :-1], out=grad_x[rows])
        return grad_x, grad_weights[:, :-1], grad_weights[:, -1]


class _GaborFilter(torch.autograd.Function):
    """sin(x Ωᵀ + φ) · exp(k ⊙ ‖x − μ‖²), k = −½ max(γ, 0), in blocks; the backward recomputes each block.

    Both arguments come from one product per block: with x̃ = [x, 1, ‖x‖²] and the (2D, d + 2) matrix
    M = [[Ω, φ, 0], [k ⊙ (−2μ), k ⊙ ‖μ‖², k]], x̃ Mᵀ holds Ω x + φ beside k ‖x − μ‖², and the backward's two
    gradients, side by side, give every weight's gradient in one more product, x̃ᵀ [∂/∂(Ωx + φ), ∂/∂exponent]."""

    @staticmethod
    def _matrix(omega: Tensor, phase: Tensor, mu: Tensor, k: Tensor) -> Tensor:
        zero, one = phase.new_zeros(phase.shape[0], 1), phase.new_ones(phase.shape[0], 1)
        linear = torch.cat([omega, phase[:, None], zero], dim=1)
        exponent = torch.cat([-2.0 * mu, (mu * mu).sum(-1, keepdim=True), one], dim=1) * k[:, None]
        return torch.cat([linear, exponent], dim=0)  # (2D, d + 2)

    @staticmethod
    def forward(ctx, x: Tensor, omega: Tensor, phase: Tensor, mu: Tensor, gamma: Tensor  # type: ignore[override]
                ) -> Tensor:
        width = omega.shape[0]
        out = x.new_empty(x.shape[0], width)
        xt = torch.cat([x, x.new_ones(x.shape[0], 1), (x * x).sum(-1, keepdim=True)], dim=1)  # (N, d + 2)
        matrix = _GaborFilter._matrix(omega, phase, mu, gamma.clamp_min(0.0) * -0.5)
        for rows in _blocks(x):
            both = torch.mm(xt[rows], matrix.T)
            torch.mul(both[:, :width].sin_(), both[:, width:].exp_(), out=out[rows])
        ctx.save_for_backward(xt, mu, gamma, matrix)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        xt, mu, gamma, matrix = ctx.saved_tensors
        width, d = mu.shape
        grad_matrix = torch.zeros_like(matrix)
        grads = xt.new_empty(min(_block_rows(xt), xt.shape[0]), 2 * width)  # [∂/∂(Ωx + φ), ∂/∂exponent], a block
        grad_xt = torch.empty_like(xt) if ctx.needs_input_grad[0] else None
        for rows in _blocks(xt):
            xb = xt[rows]
            both = torch.mm(xb, matrix.T)
            lin, g = both[:, :width], grads[: xb.shape[0]]
            weighted = torch.mul(both[:, width:].exp_(), grad[rows], out=g[:, width:])  # G · envelope
            torch.mul(torch.cos(lin), weighted, out=g[:, :width])
            weighted.mul_(lin.sin_())  # G · g
            grad_matrix.addmm_(g.T, xb)
            if grad_xt is not None:
                torch.mm(g, matrix, out=grad_xt[rows])
        k = gamma.clamp_min(0.0) * -0.5
        base = torch.cat([-2.0 * mu, (mu * mu).sum(-1, keepdim=True), mu.new_ones(width, 1)], dim=1)
        grad_linear, grad_exponent = grad_matrix[:width], grad_matrix[width:]
        grad_k = (grad_exponent * base).sum(1)
        grad_mu = k[:, None] * (-2.0 * grad_exponent[:, :d] + 2.0 * mu * grad_exponent[:, d : d + 1])
        grad_gamma = grad_k * -0.5 * (gamma >= 0)  # clamp_min passes the gradient where γ ≥ 0
        grad_x = None
        if grad_xt is not None:
            grad_x = grad_xt[:, :d] + 2.0 * xt[:, :d] * grad_xt[:, d + 1 : d + 2]
        return grad_x, grad_linear[:, :d].contiguous(), grad_linear[:, d].contiguous(), grad_mu, grad_gamma


class LinearInjection(nn.Module):
    """x ↦ Ω x + φ with the filter initialization (the argument of a sine filter, or a SIREN input injection)."""

    def __init__(self, d_in: int, width: int, input_scale: float, layers: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        scale = input_scale / math.sqrt(layers + 1)
        self.omega = nn.Parameter(torch.empty(width, d_in).uniform_(-bound, bound) * scale)  # (D, d)
        self.phase = nn.Parameter(torch.empty(width).uniform_(-math.pi, math.pi))  # (D,)

    def forward(self, x: Tensor, bias: Tensor | None = None) -> Tensor:  # (N, d) -> (N, D)
        """Ω x + φ (+ `bias`, a (D,) vector folded into the same pass over the (N, D) output)."""
        return torch.addmm(self.phase if bias is None else self.phase + bias, x, self.omega.T)


class FourierFilter(LinearInjection):
    """g(x) = sin(Ω x + φ)."""

    def forward(self, x: Tensor) -> Tensor:  # (N, d) -> (N, D)
        axes = _cpu_grid(x)
        if axes is not None:
            return grid_filter(axes, self.omega, self.phase)
        return _FourierFilter.apply(x, self.omega, self.phase)


class GaborFilter(nn.Module):
    """g(x) = sin(Ω x + φ) · exp(−½ γ ‖x − μ‖²), with γ kept ≥ 0."""

    def __init__(self, d_in: int, width: int, input_scale: float, layers: int, alpha: float = 3.0) -> None:
        super().__init__()
        self.linear = LinearInjection(d_in, width, input_scale, layers)
        gamma = torch.distributions.Gamma(alpha / (layers + 1), 1.0).sample((width,))
        with torch.no_grad():
            self.linear.omega.mul_(gamma.sqrt().unsqueeze(1))
        self.gamma = nn.Parameter(gamma)  # (D,)
        self.mu = nn.Parameter(torch.empty(width, d_in).uniform_(-1.0, 1.0))  # (D, d)

    def forward(self, x: Tensor) -> Tensor:  # (N, d) -> (N, D)
        axes = _cpu_grid(x)
        if axes is not None:
            return grid_filter(axes, self.linear.omega, self.linear.phase, (self.mu, self.gamma.clamp_min(0.0) * -0.5))
        return _GaborFilter.apply(x, self.linear.omega, self.linear.phase, self.mu, self.gamma)


def make_filter(kind: str, d_in: int, width: int, input_scale: float, layers: int, alpha: float) -> nn.Module:
    """A Fourier or Gabor filter."""
    if kind == "fourier":
        return FourierFilter(d_in, width, input_scale, layers)
    if kind == "gabor":
        return GaborFilter(d_in, width, input_scale, layers, alpha)
    raise ValueError(f"unknown filter {kind!r}")
