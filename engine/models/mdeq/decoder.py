"""The generative MDEQ-lite decoder: latent x ∈ ℝ^k → linear injections into every branch → equilibrium → image.

Decoder-only generative model of the JIIO paper: there is no encoder, the latent of each image is found by JIIO.
The head upsamples the finest branch to the image size and maps it to [−1, 1] with tanh.
Reference: Gurumurthy, Bai, Manchester, Kolter, "Joint Inference and Input Optimization in Equilibrium Networks",
NeurIPS 2021, section 4.1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.config import BackwardConfig, EquilibriumConfig, SolverConfig
from engine.implicit import AdjointMemory, module_implicit_layer
from engine.models.mdeq.cell import MultiscaleCell, conv
from engine.solvers import SolverStats


DECODER_SOLVER = SolverConfig(solver="anderson", max_iter=30, tol=1e-3)
DECODER_EQUILIBRIUM = EquilibriumConfig(DECODER_SOLVER, BackwardConfig(mode="exact", adjoint=DECODER_SOLVER))
"""The decoder's default: Anderson, 30 iterations, forward and exact adjoint alike."""


class MDEQDecoder(nn.Module):
    """Latent (B, k) → image (B, C, S, S) in [−1, 1] through a multiscale equilibrium."""

    def __init__(self, latent: int = 64, channels: tuple[int, ...] = (24, 48), image_size: int = 28,
                 image_channels: int = 1, equilibrium: EquilibriumConfig = DECODER_EQUILIBRIUM) -> None:
        super().__init__()
        self.latent, self.image_size, self.image_channels = latent, image_size, image_channels
        self.cell = MultiscaleCell(channels, image_size // 2)
        self.inject = nn.ModuleList(nn.Linear(latent, c * h * w) for c, h, w in self.cell.shapes)
        self.head = nn.Sequential(conv(channels[0], 16), nn.ReLU(), conv(16, image_channels))
        self.equilibrium_config = equilibrium
        """How the equilibrium is solved and differentiated (fixed when the model is built)."""

    def injections(self, x: Tensor) -> list[Tensor]:
        """One (B, c, h, w) injection per branch."""
        return [lin(x).reshape(-1, *shape) for lin, shape in zip(self.inject, self.cell.shapes)]

    def cell_map(self, z: Tensor, x: Tensor) -> Tensor:
        """f(z, x): one application of the cell with the latent's injections (what JIIO iterates)."""
        return self.cell(z, *self.injections(x))

    def decode(self, z: Tensor) -> Tensor:
        """Equilibrium state (B, n) → image in [−1, 1]."""
        finest = self.cell.split(z)[0]
        return torch.tanh(self.head(F.interpolate(finest, size=self.image_size, mode="nearest")))

    def equilibrium(self, x: Tensor, z0: Tensor | None = None, adjoint: AdjointMemory | None = None
                    ) -> tuple[Tensor, SolverStats]:
        """z* for latents x, differentiable in the weights and x (implicit gradient)."""
        start = z0 if z0 is not None else x.new_zeros(x.shape[0], self.cell.state_size)
        return module_implicit_layer(self.cell, self.injections(x), start, forward=self.equilibrium_config.forward,
                                     backward=self.equilibrium_config.backward, adjoint=adjoint)

    def forward(self, x: Tensor) -> Tensor:
        z, _ = self.equilibrium(x)
        return self.decode(z)
