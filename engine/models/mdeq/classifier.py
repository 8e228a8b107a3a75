"""The MDEQ-lite classifier: image → strided-convolution injections into every branch → equilibrium → logits.

Used as the victim of JIO and PGD attacks and for adversarial training (JIIO paper, section 4.3).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.config import BackwardConfig, EquilibriumConfig, SolverConfig
from engine.implicit import module_implicit_layer
from engine.models.mdeq.cell import MultiscaleCell, conv, groups_for
from engine.models.mdeq.contractive_cell import ContractiveMultiscaleCell
from engine.solvers import SolverStats


HEADS = ("mean", "grid")
CLASSIFIER_EQUILIBRIUM = EquilibriumConfig(SolverConfig(solver="anderson", max_iter=20, tol=1e-3),
                                           BackwardConfig(mode="neumann", neumann_order=3))
"""The classifier's default: Anderson, 20 iterations; a 3-term Neumann series backward."""


def pool_to(maps: Tensor, size: int) -> Tensor:
    """Average-pool (B, C, H, H) maps to (B, C, size, size): plain k×k pooling when H = k·size (much faster than
    adaptive pooling on CPU), adaptive pooling otherwise."""
    height = maps.shape[-1]
    if height == size:
        return maps
    if height % size == 0:
        return F.avg_pool2d(maps, height // size)
    return F.adaptive_avg_pool2d(maps, size)


class MDEQClassifier(nn.Module):
    """Images (B, C, S, S) in [0, 1] → logits (B, classes)."""

    def __init__(self, channels: tuple[int, ...] = (16, 32), image_size: int = 28, image_channels: int = 1,
                 classes: int = 10, contractive: bool = False, head: str = "grid",
                 equilibrium: EquilibriumConfig = CLASSIFIER_EQUILIBRIUM) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}")
        self.contractive, self.image_size, self.classes, self.head_kind = contractive, image_size, classes, head
        self.cell = (ContractiveMultiscaleCell(channels, image_size // 2) if contractive
                     else MultiscaleCell(channels, image_size // 2))
        stems = []
        for i, c in enumerate(channels):  # 2^(i+1) downsampling by strided convolutions
            layers: list[nn.Module] = [conv(image_channels, c, 3, 2, of_image=True)]
            layers += [conv(c, c, 3, 2) for _ in range(i)]
            stems.append(nn.Sequential(*layers, nn.GroupNorm(groups_for(c), c)))
        self.stems = nn.ModuleList(stems)
        coarsest = self.cell.shapes[-1][1]
        self.head = nn.Linear(sum(channels) * (coarsest * coarsest if head == "grid" else 1), classes)
        self.equilibrium_config = equilibrium
        """How the equilibrium is solved and differentiated (fixed when the model is built)."""

    def injections(self, images: Tensor) -> list[Tensor]:
        return [stem(images) for stem in self.stems]

    def cell_map(self, z: Tensor, images: Tensor) -> Tensor:
        """f(z, images): one application of the cell (what JIO iterates, with images = base + δ)."""
        return self.cell(z, *self.injections(images))

    def logits(self, z: Tensor) -> Tensor:
        """Equilibrium state (B, n) → class scores. Head "mean": global average pool of every branch, then linear;
        "grid": every branch average-pooled to the coarsest branch's resolution, flattened, then linear (keeps where
        the strokes are)."""
        maps = self.cell.split(z)
        if self.head_kind == "grid":
            size = maps[-1].shape[-1]
            pooled = [pool_to(m, size).flatten(1) for m in maps]
        else:
            pooled = [m.mean(dim=(2, 3)) for m in maps]
        return self.head(torch.cat(pooled, dim=1))

    def equilibrium(self, images: Tensor, backward: BackwardConfig | None = None) -> tuple[Tensor, SolverStats]:
        """z* for `images`; `backward` replaces the model's backward mode for this call only."""
        start = images.new_zeros(images.shape[0], self.cell.state_size)
        return module_implicit_layer(self.cell, self.injections(images), start,
                                     forward=self.equilibrium_config.forward,
                                     backward=backward or self.equilibrium_config.backward)

    def forward(self, images: Tensor) -> Tensor:
        z, _ = self.equilibrium(images)
        return self.logits(z)

    @torch.no_grad()
    def predict(self, images: Tensor) -> Tensor:
        """Class probabilities, re-solved from zero."""
        return F.softmax(self.forward(images), dim=1)
