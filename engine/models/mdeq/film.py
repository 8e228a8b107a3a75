"""The few-shot classifier: MDEQ-lite whose cell is modulated by a task context vector v through FiLM layers.

After each branch's GroupNorm the cell scales and shifts every channel by an affine function of v,
    x ← (1 + Γ_b v) ⊙ x + B_b v,
Γ_b, B_b (channels × context) initialized like any linear layer, and the starting context v₀ at zero: at v₀ the cell
is MDEQ-lite's (contractive), and the context's gradient is not zero (v₀ = 0 with Γ = B = 0 would be a saddle no
gradient leaves).

With `readout` the context has a second part: the task's own readout, an N × (F + 1) linear map from the
equilibrium's pooled features (every branch average-pooled to a READOUT_GRID × READOUT_GRID grid, F numbers) to the
N class scores, starting at zero. The fixed readout of a plain classifier must serve every task's labelling, so the
FiLM codes alone have to route each drawing to its class slot; a per-task readout leaves the FiLM codes to adapt the
features and lets the inner solve place the classes (its first gradient step from zero is a nearest-prototype rule).
A few-shot task is solved by finding the v under which the support images are
classified right (JIIO over (z of every support image, μ, v), or the inner-loop baseline); the network's weights and
the initial context v₀ are what meta-training learns.
References: Perez et al., "FiLM: Visual Reasoning with a General Conditioning Layer", AAAI 2018; Gurumurthy, Bai,
Manchester, Kolter, "Joint Inference and Input Optimization in Equilibrium Networks", NeurIPS 2021, section 4.4.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.config import BackwardConfig
from engine.implicit import module_implicit_layer
from engine.models.mdeq.cell import MultiscaleCell
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM, MDEQClassifier, pool_to
from engine.solvers import SolverStats


class FiLMCell(MultiscaleCell):
    """f(z, *injections, v): MDEQ-lite's cell with each branch's normalized output modulated by the context v."""

    def __init__(self, channels: tuple[int, ...], base_size: int, context: int) -> None:
        super().__init__(channels, base_size)
        self.film = nn.ModuleList(nn.Linear(context, 2 * c, bias=False) for c in channels)

    def forward(self, z: Tensor, *inputs: Tensor) -> Tensor:  # inputs: the injections, then v (B, context)
        *injections, context = inputs
        blocks = [block(x, inj) for block, x, inj in zip(self.blocks, self.split(z), injections)]
        out = []
        for norm, film, total in zip(self.post, self.film, self.fused(blocks)):
            scale, shift = film(context)[:, :, None, None].chunk(2, dim=1)
            out.append(torch.addcmul(shift, norm(F.relu(total)), 1.0 + scale))
        return self.join(out)


READOUT_GRID = 2
"""The per-task readout sees every branch average-pooled to this many cells a side."""


class FewShotClassifier(MDEQClassifier):
    """Images (B, 1, 28, 28) in [0, 1] and a context (B, context size) → logits (B, ways)."""

    def __init__(self, channels: tuple[int, ...] = (16, 32), ways: int = 5, context: int = 64,
                 image_size: int = 28, equilibrium=CLASSIFIER_EQUILIBRIUM, readout: bool = False) -> None:
        super().__init__(channels, image_size=image_size, classes=ways, equilibrium=equilibrium)
        self.cell = FiLMCell(channels, image_size // 2, context)
        self.film_size, self.readout, self.ways = context, readout, ways
        self.features_size = sum(channels) * READOUT_GRID ** 2
        readout_size = ways * (self.features_size + 1) if readout else 0
        self.context0 = nn.Parameter(torch.zeros(context + readout_size))
        """v₀: where every task's context starts (learned by meta-training)."""

    @property
    def context_size(self) -> int:
        return self.context0.numel()

    def with_ways(self, ways: int) -> FewShotClassifier:
        """The same network for `ways`-way tasks: a task readout has one row per class, so a model meta-trained on
        5-way tasks can take on 20-way ones; every class's starting row is the mean of the learned ones."""
        if ways == self.ways:
            return self
        if not self.readout:
            raise ValueError(f"this model's readout is fixed to {self.ways} classes: it cannot take {ways}-way tasks")
        other = FewShotClassifier(tuple(shape[0] for shape in self.cell.shapes), ways, self.film_size,
                                  self.image_size, self.equilibrium_config, readout=True)
        kept = {k: v for k, v in self.state_dict().items() if not k.startswith("head.") and k != "context0"}
        other.load_state_dict(kept, strict=False)
        rows = self.context0.detach()[self.film_size:].reshape(self.ways, -1).mean(0)
        with torch.no_grad():
            other.context0.copy_(torch.cat([self.context0.detach()[:self.film_size], rows.repeat(ways)]))
        return other.to(self.context0.device).train(self.training).requires_grad_(self.context0.requires_grad)

    def film(self, context: Tensor) -> Tensor:
        """The part of the contexts (B, context size) the FiLM layers read."""
        return context[:, :self.film_size]

    def context_cell(self, z: Tensor, injections: list[Tensor], context: Tensor) -> Tensor:
        """f(z, injections, v): one application of the cell (what the inner JIIO solve iterates)."""
        return self.cell(z, *injections, self.film(context))

    def task_logits(self, z: Tensor, context: Tensor) -> Tensor:
        """Class scores of equilibrium states (B, n), each under its task's context (B, context size)."""
        if not self.readout:
            return self.logits(z)
        features = torch.cat([pool_to(m, READOUT_GRID).flatten(1) for m in self.cell.split(z)], dim=1)
        readout = context[:, self.film_size:].reshape(-1, self.ways, self.features_size + 1)
        return torch.baddbmm(readout[:, :, -1:], readout[:, :, :-1], features[:, :, None]).squeeze(-1)

    def equilibrium_with(self, images: Tensor, context: Tensor,
                         backward: BackwardConfig | None = None) -> tuple[Tensor, SolverStats]:
        """z* of `images` under `context` (B, context), differentiable in both and in the weights."""
        start = images.new_zeros(images.shape[0], self.cell.state_size)
        return module_implicit_layer(self.cell, [*self.injections(images), self.film(context)], start,
                                     forward=self.equilibrium_config.forward,
                                     backward=backward or self.equilibrium_config.backward)

    def classify(self, images: Tensor, context: Tensor) -> Tensor:
        """Logits of `images` (B, ...) under one task's context (context,) or one per image (B, context)."""
        if context.dim() == 1:
            context = context.expand(images.shape[0], -1)
        return self.task_logits(self.equilibrium_with(images, context)[0], context)

    def forward(self, images: Tensor) -> Tensor:  # a plain classifier at v₀
        return self.classify(images, self.context0)
