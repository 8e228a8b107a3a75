"""Decoder-only generative training with JIIO latents (JIIO paper, section 4.1; SPEC 2.5 `train-prior`).

Every step: find the latents of a batch by JIIO from zero (weights frozen), then update the weights with the
implicit gradient at (z*, x*): the equilibrium is re-solved from z* (a few steps) and the exact adjoint solve
starts from μ*, rescaled from JIIO's summed loss to the training loss (the batch mean of squared errors).
Samples come from a Gaussian mixture fitted to the latents JIIO found for the training images.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from engine.config import BackwardConfig, EquilibriumConfig, PriorConfig, to_dict
from engine.distributed import Replica
from engine.implicit import AdjointMemory
from engine.jiio import ReconstructionProblem, jiio
from engine.metrics import psnr
from engine.models.mdeq import MDEQDecoder
from engine.tasks.base import Snapshot, Targets, TrainingTask
from engine.tasks.previews import PREVIEW_COLUMNS, image_grid

HELD_OUT_BATCH = 256


def to_signed(images: np.ndarray, device: torch.device) -> Tensor:
    """uint8 (N, H, W) → float (N, 1, H, W) in [−1, 1]."""
    return torch.from_numpy(np.array(images)).float().div(127.5).sub(1.0).unsqueeze(1).to(device)


def mixture_tensors(mixture) -> dict[str, Tensor]:
    """A fitted scikit-learn GaussianMixture as float32 tensors (stored beside the weights to sample later)."""
    return {"gmm_weights": torch.from_numpy(mixture.weights_).float(),
            "gmm_means": torch.from_numpy(mixture.means_).float(),
            "gmm_covariances": torch.from_numpy(mixture.covariances_).float()}


def sample_mixture(extra: dict[str, Tensor], n: int, generator: torch.Generator) -> Tensor:
    """n latents drawn from a mixture stored by `mixture_tensors`."""
    weights, means, covariances = extra["gmm_weights"], extra["gmm_means"], extra["gmm_covariances"]
    components = torch.multinomial(weights.cpu(), n, replacement=True, generator=generator)
    noise = torch.randn(n, means.shape[1], generator=generator)
    chol = torch.linalg.cholesky(covariances.cpu().double()).float()
    draws = means.cpu()[components] + torch.einsum("nij,nj->ni", chol[components], noise)
    return draws.to(means.device)


class GenerativeTrainTask(TrainingTask):
    """Train an MDEQ-lite decoder on a set of small gray images."""

    def __init__(self, config: PriorConfig, train: np.ndarray, held_out: np.ndarray, device: torch.device) -> None:
        self.config, self.device = config, device
        torch.manual_seed(config.seed)
        self.train_images = to_signed(train, device)
        self.held_out = to_signed(held_out[:config.eval_images or HELD_OUT_BATCH], device)
        equilibrium = EquilibriumConfig(config.solver, BackwardConfig(mode="exact", adjoint=config.solver,
                                                                      warm_start_adjoint=True))
        self.decoder = MDEQDecoder(config.latent, config.channels, train.shape[-1], equilibrium=equilibrium).to(device)
        self.optimizer = torch.optim.Adam(self.decoder.parameters(), lr=config.lr)
        self.replica = Replica(self.decoder, self.ranks)
        self.sampler = torch.Generator().manual_seed(config.seed + 1)
        self.latents = torch.zeros(len(train), config.latent, device=device)
        self.seen = torch.zeros(len(train), dtype=torch.bool, device=device)
        self.step_count, self.train_time = 0, 0.0
        self.previews: dict[str, np.ndarray] = {}
        self.last_batch: Tensor | None = None

    def describe(self) -> str:
        return (f"Training a generative prior on {len(self.train_images)} images ({len(self.held_out)} held out for "
                f"scoring)")

    def targets(self) -> Targets:
        return Targets()

    def find_latents(self, images: Tensor) -> tuple:
        """JIIO latents (and z*, μ*) of `images` with frozen weights."""
        self.decoder.requires_grad_(False)
        problem = ReconstructionProblem(self.decoder, images, reduction=self.config.jiio.loss_reduction,
                                        weight=self.config.jiio.loss_weight)
        z0 = images.new_zeros(len(images), self.decoder.cell.state_size)
        result = jiio(problem, z0, images.new_zeros(len(images), self.config.latent), self.config.jiio)
        self.decoder.requires_grad_(True)
        return result

    def adjoint_scale(self, images: Tensor) -> float:
        """u = μ* × this: the training loss is the batch mean of squared errors, JIIO's the weighted per-sample sum
        (or per-pixel mean) of the same errors."""
        batch, pixels = len(images), images[0].numel()
        per_sample = pixels if self.config.jiio.loss_reduction == "sum" else 1
        return 1.0 / (self.config.jiio.loss_weight * batch * per_sample)

    def step(self) -> dict[str, float]:
        start = time.perf_counter()
        index = torch.randint(len(self.train_images), (self.config.batch_size,), generator=self.sampler).to(self.device)
        images = self.train_images[self.ranks.share(index)]  # the whole batch in one process
        self.decoder.train()
        found = self.find_latents(images)  # per image: each rank solves its share alone
        jiio_s = time.perf_counter() - start
        memory = AdjointMemory(u=found.mu * self.adjoint_scale(images))

        def loss_of() -> tuple[Tensor, Tensor, Any]:
            z, stats = self.decoder.equilibrium(found.x, z0=found.z, adjoint=memory)
            recon = self.decoder.decode(z)
            return F.mse_loss(recon, images), recon, stats

        loss, recon, stats = self.replica(loss_of)
        self.descend(loss, hint="lower lr or the JIIO step sizes")
        self.latents[index] = self.ranks.gather(found.x)  # the whole table on every rank
        self.seen[index] = True
        row = {**self.count_step(start, loss), "psnr_train": psnr(recon.detach(), images),
               "jiio_loss": found.loss_trace[-1], "jiio_ms": jiio_s * 1e3, "solver_iters": float(stats.nstep),
               "solver_residual": stats.max_residual}
        if memory.stats is not None:
            row["adjoint_iters"] = float(memory.stats.nstep)
        self.last_batch = torch.cat([images[:8], recon.detach()[:8]])  # tiled only when a snapshot asks
        return self.ranks.mean(row, ("loss", "psnr_train", "jiio_loss"))  # several processes: the ranks' mean

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """JIIO reconstructions of held-out images, re-solved from zero at the found latents; samples."""
        self.decoder.eval()
        found = self.find_latents(self.held_out)
        with torch.no_grad():
            z, _ = self.decoder.equilibrium(found.x)
            recon = self.decoder.decode(z)
        self.previews["held_out"] = image_grid(torch.cat([self.held_out[:8], recon[:8]]), PREVIEW_COLUMNS)
        row = {"psnr_held_out": psnr(recon, self.held_out)}
        if int(self.seen.sum()) >= 2 * self.config.gmm_components:
            self.previews["samples"] = image_grid(self.sample(24), PREVIEW_COLUMNS)
        return row

    def fit_mixture(self):
        """A Gaussian mixture over the latents JIIO found for the training images seen so far."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        latents = self.latents[self.seen].cpu().numpy()
        components = min(self.config.gmm_components, len(latents) // 2)
        with warnings.catch_warnings():  # early latents are near-duplicates: fewer clusters is expected, not news
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GaussianMixture(components, covariance_type="full", reg_covar=1e-3,
                                   random_state=self.config.seed).fit(latents)

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """n images decoded from mixture draws (the same Cholesky sampler as a stored prior's)."""
        draws = sample_mixture(mixture_tensors(self.fit_mixture()), n, torch.Generator().manual_seed(self.config.seed))
        x = draws.to(self.device)
        self.decoder.eval()
        z, _ = self.decoder.equilibrium(x)
        return self.decoder.decode(z)

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        if self.last_batch is not None:
            self.previews["reconstructions"] = image_grid(self.last_batch, PREVIEW_COLUMNS)
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars), dict(self.previews), final)

    def export(self, out_dir: Path) -> Path:
        """Write a grid of samples (PNG) and the decoder weights (safetensors) beside the run's files."""
        from engine.model_store import save_model
        from engine.media import write_image

        out_dir.mkdir(parents=True, exist_ok=True)
        write_image(out_dir / "samples.png", image_grid(self.sample(64)))
        return save_model(out_dir / "prior.safetensors", self.decoder, "mdeq-decoder",
                          {"latent": self.config.latent, "channels": list(self.config.channels),
                           "image_size": int(self.train_images.shape[-1]), "solver": to_dict(self.config.solver)},
                          extra=mixture_tensors(self.fit_mixture()))

    def state_dict(self) -> dict[str, Any]:
        return {"decoder": self.decoder.state_dict(), "optimizer": self.optimizer.state_dict(),
                "sampler": self.sampler.get_state(), "latents": self.latents, "seen": self.seen,
                "step": self.step_count, "train_time": self.train_time}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decoder.load_state_dict(state["decoder"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.set_state(state["sampler"])
        self.latents, self.seen = state["latents"].to(self.device), state["seen"].to(self.device)
        self.step_count, self.train_time = int(state["step"]), float(state["train_time"])
