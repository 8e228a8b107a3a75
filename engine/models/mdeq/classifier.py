"""The MDEQ-lite classifier: image → strided-convolution injections into every branch → equilibrium → logits.

Used as the victim of JIO and PGD attacks and for adversarial training (JIIO paper, section 4.3).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.config import BackwardConfig, SolverConfig
from engine.implicit import module_implicit_layer
from engine.models.mdeq.cell import MultiscaleCell, conv, groups_for
from engine.models.mdeq.contractive_cell import ContractiveMultiscaleCell
from engine.solvers import SolverStats


class MDEQClassifier(nn.Module):
    """Images (B, C, S, S) in [0, 1] → logits (B, classes)."""

    def __init__(self, channels: tuple[int, ...] = (16, 32), image_size: int = 28, image_channels: int = 1,
                 classes: int = 10, contractive: bool = False) -> None:
        super().__init__()
        self.contractive, self.image_size, self.classes = contractive, image_size, classes
        self.cell = (ContractiveMultiscaleCell(channels, image_size // 2) if contractive
                     else MultiscaleCell(channels, image_size // 2))
        stems = []
        for i, c in enumerate(channels):  # 2^(i+1) downsampling by strided convolutions
            layers: list[nn.Module] = [conv(image_channels, c, 3, 2)]
            layers += [conv(c, c, 3, 2) for _ in range(i)]
            stems.append(nn.Sequential(*layers, nn.GroupNorm(groups_for(c), c)))
        self.stems = nn.ModuleList(stems)
        self.head = nn.Linear(sum(channels), classes)
        self.solver = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
        self.backward_config = BackwardConfig(mode="neumann", neumann_order=3)

    def injections(self, images: Tensor) -> list[Tensor]:
        return [stem(images) for stem in self.stems]

    def cell_map(self, z: Tensor, images: Tensor) -> Tensor:
        """f(z, images): one application of the cell (what JIO iterates, with images = base + δ)."""
        return self.cell(z, *self.injections(images))

    def logits(self, z: Tensor) -> Tensor:
        """Equilibrium state (B, n) → class scores: global average pool of every branch, then linear."""
        pooled = [m.mean(dim=(2, 3)) for m in self.cell.split(z)]
        return self.head(torch.cat(pooled, dim=1))

    def equilibrium(self, images: Tensor) -> tuple[Tensor, SolverStats]:
        start = images.new_zeros(images.shape[0], self.cell.state_size)
        return module_implicit_layer(self.cell, self.injections(images), start, forward=self.solver,
                                     backward=self.backward_config)

    def forward(self, images: Tensor) -> Tensor:
        z, _ = self.equilibrium(images)
        return self.logits(z)

    @torch.no_grad()
    def predict(self, images: Tensor) -> Tensor:
        """Class probabilities, re-solved from zero."""
        return F.softmax(self.forward(images), dim=1)
