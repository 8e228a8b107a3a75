"""The common frame of every implicit neural representation: injections, a cell, a readout.

A model computes its input injections (filters) once per coordinate set, then either
- implicit: z* = f(z*, injections, weights) solved by the DEQ layer (engine.implicit), or
- explicit: the same cell applied once from z = 0,
and reads out ŷ = W_out z + b_out. Coordinates form one sample of the solver's batch (z viewed as (1, N, D)), so
the relative residual is measured over the whole coordinate set, as in the (Implicit)² experiments.
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from engine.config import BackwardConfig, EquilibriumConfig
from engine.implicit import AdjointMemory, implicit_layer
from engine.models.inr.spectral import SpectralShrink
from engine.solvers import SolverStats


@dataclasses.dataclass
class INROutput:
    """Prediction ŷ (N, C), the hidden state z (N, D) and, for implicit models, the forward solve's stats."""

    y: Tensor
    z: Tensor
    stats: SolverStats | None


class INR(nn.Module):
    """Base class: subclasses define `injections`, `cell_weights` and the static `cell`."""

    def __init__(self, d_in: int, d_out: int, width: int, layers: int, implicit: bool,
                 equilibrium: EquilibriumConfig = EquilibriumConfig()) -> None:
        super().__init__()
        self.d_in, self.d_out, self.width, self.layers, self.implicit = d_in, d_out, width, layers, implicit
        self.readout = nn.Linear(width, d_out)
        self.equilibrium_config = equilibrium
        """How the equilibrium is solved and differentiated (fixed when the model is built)."""

    def add_square_layers(self, spectral_norm: bool) -> None:
        """`layers` weights W_l (D, D) and biases b_l, uniform(±√(1/D)), optionally spectrally normalized."""
        width, bound = self.width, math.sqrt(1.0 / self.width)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(width, width).uniform_(-bound, bound)) for _ in range(self.layers)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(width).uniform_(-bound, bound)) for _ in range(self.layers)
        )
        self.shrinks = nn.ModuleList(SpectralShrink(width) for _ in range(self.layers)) if spectral_norm else None

    def normalized_weights(self) -> list[Tensor]:
        """The W_l as used in this forward (capped at spectral norm 0.97 when enabled)."""
        if self.shrinks is None:
            return list(self.weights)
        return [shrink(w) for shrink, w in zip(self.shrinks, self.weights)]

    def injections(self, x: Tensor) -> tuple[Tensor, ...]:
        """Everything that depends on the coordinates only, (N, D) each."""
        raise NotImplementedError

    def cell_weights(self) -> tuple[Tensor, ...]:
        """The cell's weights as used in this forward (spectral normalization applied)."""
        raise NotImplementedError

    @staticmethod
    def cell(z: Tensor | None, *tensors: Tensor) -> Tensor:
        """One application of the layer to z (N, D); z = None means z = 0 (the explicit network)."""
        raise NotImplementedError

    def forward(
        self, x: Tensor, z0: Tensor | None = None, *, iterate: bool = True, adjoint: AdjointMemory | None = None,
        backward: BackwardConfig | None = None,
    ) -> INROutput:
        """Predict at coordinates x (N, d_in); implicit models start from z0 (N, D) or zero.

        `iterate=False` applies the cell once at z0 (the amortized step); `backward` replaces the model's backward
        mode for this call only.
        """
        tensors = (*self.injections(x), *self.cell_weights())
        if not self.implicit:
            z = self.cell(None, *tensors)
            return INROutput(self.readout(z), z, None)
        n, width = x.shape[0], self.width
        start = z0.reshape(1, n, width) if z0 is not None else x.new_zeros(1, n, width)
        cell = self.cell

        def f(z: Tensor, *ts: Tensor) -> Tensor:  # (1, N, D) -> (1, N, D)
            return cell(z.view(n, width), *ts).view(1, n, width)

        z, stats = implicit_layer(f, tensors, start, forward=self.equilibrium_config.forward,
                                  backward=backward or self.equilibrium_config.backward,
                                  iterate=iterate, adjoint=adjoint)
        z = z.view(n, width)
        return INROutput(self.readout(z), z, stats)

    @torch.no_grad()
    def predict(self, x: Tensor, chunk: int = 32768) -> tuple[Tensor, list[SolverStats]]:
        """ŷ at every coordinate, solved from zero in chunks of `chunk` coordinates (evaluation), and for an implicit
        model one SolverStats of the whole: each chunk is one sample of it, its traces those of the slowest chunk.

        The prediction goes into one tensor made beforehand and each chunk's stats are reduced to numbers at once:
        results kept across chunks would lie between the chunks' large temporaries and fragment the heap (a
        16-million-pixel image took 7 GB more than its estimate)."""
        y = x.new_empty(x.shape[0], self.d_out)
        residuals = torch.empty(-(-x.shape[0] // chunk), dtype=torch.float64)  # made beforehand, like y
        slowest: SolverStats | None = None
        wall_time = 0.0
        for index, start in enumerate(range(0, x.shape[0], chunk)):
            out = self.forward(x[start : start + chunk])
            y[start : start + chunk] = out.y
            if out.stats is not None:
                residual = residuals[index] = out.stats.max_residual
                wall_time += out.stats.wall_time_s
                if slowest is None or (out.stats.nstep, residual) > (slowest.nstep, slowest.max_residual):
                    slowest = out.stats  # the one kept: the others' traces are freed with them
        if slowest is None:
            return y, []
        return y, [dataclasses.replace(slowest, residual=residuals, converged=residuals < slowest.tol,
                                       wall_time_s=wall_time)]
