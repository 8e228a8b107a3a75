"""Inverse problems with a trained generative prior: denoising and inpainting by JIIO and by Adam over the latent.

One step per method, each timed alone on the same corrupted batch (JIIO first, then Adam): JIIO solves the
augmented fixed point for its K iterations; Adam takes `adam_steps` steps, each a full forward solve and an adjoint
solve. Both run on frozen weights in eval mode with the decoder's solver settings, and both are scored the same way:
re-solve the equilibrium from zero at the found latent, then the loss against the observation and the PSNR against
the clean image (SPEC 2.5).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.nn.utils import parametrize

from engine.config import InverseConfig
from engine.jiio import ReconstructionProblem, jiio
from engine.jiio.baselines import adam_over_inputs
from engine.jiio.corruptions import Corrupted, add_noise, apply_mask, read_mask, remove_box, remove_pixels
from engine.metrics import psnr
from engine.models.mdeq import MDEQDecoder
from engine.tasks.base import MethodRace, Snapshot
from engine.tasks.previews import PREVIEW_COLUMNS, PREVIEW_COUNT, image_grid


def corrupt(images: Tensor, config: InverseConfig, generator: torch.Generator) -> Corrupted:
    """The observation of `images` (in [−1, 1]) under the configured corruption."""
    if config.corruption == "noise":
        return add_noise(images, config.sigma, generator)
    if config.corruption == "box":
        return remove_box(images, config.box_size, generator)
    if config.corruption == "pixels":
        return remove_pixels(images, config.pixel_fraction, generator)
    return apply_mask(images, read_mask(config.mask, tuple(images.shape[-2:])))


class InverseTask(MethodRace):
    """Restore a batch of corrupted images with each configured method; the loop's steps are the methods."""

    def __init__(self, config: InverseConfig, decoder: MDEQDecoder, clean: Tensor, device: torch.device) -> None:
        self.config, self.decoder, self.device = config, decoder.eval().requires_grad_(False), device
        self.clean = clean.to(device)
        self.corrupted = corrupt(self.clean, config, torch.Generator().manual_seed(config.seed))
        self.problem = ReconstructionProblem(decoder, self.corrupted.observation, self.corrupted.mask,
                                             reduction=config.jiio.loss_reduction, weight=config.jiio.loss_weight)
        self.methods = ["jiio", "adam"] if config.method == "both" else [config.method]
        self.latents: dict[str, Tensor] = {}
        self.restored: dict[str, Tensor] = {}
        self.traces: dict[str, np.ndarray] = {}
        self.step_count, self.train_time = 0, 0.0

    def describe(self) -> str:
        return f"Restoring {len(self.clean)} image(s) ({self.config.corruption}) with {' and '.join(self.methods)}"

    def report(self, scalars: dict[str, float]) -> str:
        lines = [f"PSNR of the corrupted images: {scalars['psnr_corrupted']:.2f} dB"]
        lines += [f"{m:>5}: {scalars[f'{m}_ms']:8.0f} ms, {scalars[f'{m}_iterations']:.0f} iterations, loss "
                  f"{scalars[f'{m}_loss']:.4g}, PSNR {scalars[f'psnr_{m}']:.2f} dB" for m in self.methods]
        return "\n".join(lines)

    def solve(self, method: str) -> tuple[Tensor, list[float], list[float]]:
        """The latent found by `method`, with its loss and time at every iteration. Weight-normalized weights are
        computed once per solve (they are frozen), for both methods alike."""
        with parametrize.cached():
            return self._solve(method)

    def _solve(self, method: str) -> tuple[Tensor, list[float], list[float]]:
        x0 = self.clean.new_zeros(len(self.clean), self.decoder.latent)
        if method == "jiio":
            z0 = self.clean.new_zeros(len(self.clean), self.decoder.cell.state_size)
            found = jiio(self.problem, z0, x0, self.config.jiio)
            return found.x, found.loss_trace, found.time_trace
        result = adam_over_inputs(lambda x: self.decoder.equilibrium(x)[0], self.problem, x0,
                                  steps=self.config.adam_steps, lr=self.config.adam_lr)
        return result.x, result.loss_trace, result.time_trace

    @torch.no_grad()
    def score(self, latent: Tensor) -> tuple[Tensor, float, float]:
        """(restored images, mean loss, PSNR against the clean images), re-solved from zero at `latent`."""
        z, _ = self.decoder.equilibrium(latent)
        return self.decoder.decode(z), float(self.problem.loss(z, latent).mean()), psnr(self.decoder.decode(z),
                                                                                          self.clean)

    def step(self) -> dict[str, float]:
        method = self.methods[self.step_count]
        start = time.perf_counter()
        latent, losses, times = self.solve(method)
        seconds = time.perf_counter() - start
        restored, loss, quality = self.score(latent)
        self.latents[method], self.restored[method] = latent, restored
        self.traces[method] = np.asarray([times, losses], dtype=np.float32).T
        self.step_count += 1
        self.train_time += seconds
        return {"step": float(self.step_count), "time_s": self.train_time, f"{method}_ms": seconds * 1e3,
                f"{method}_loss": loss, f"psnr_{method}": quality, f"{method}_iterations": float(len(losses))}

    def evaluate(self, final: bool = False) -> dict[str, float]:
        return {"psnr_corrupted": psnr(self.corrupted.observation, self.clean)}

    def previews(self) -> dict[str, np.ndarray]:
        n = PREVIEW_COUNT
        columns = PREVIEW_COLUMNS
        shown = {"clean": image_grid(self.clean[:n], columns),
                 "corrupted": image_grid(self.corrupted.observation[:n], columns),
                 "mask": image_grid(self.corrupted.mask[:n], columns, low=0.0, high=1.0)}
        for method, images in self.restored.items():
            shown[method] = image_grid(images[:n], columns)
            shown[f"race_{method}"] = self.traces[method]
        return shown

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        return Snapshot(self.step_count, len(self.methods), self.train_time, dict(scalars), self.previews(), final)

    def export(self, out_dir: Path) -> Path:
        """restored.png (rows of 16: clean, corrupted, then each method) and race.csv (method, iteration,
        seconds, loss)."""
        from engine.atomic_files import atomic_write_text
        from engine.media import write_image

        out_dir.mkdir(parents=True, exist_ok=True)
        n = min(PREVIEW_COUNT, len(self.clean))
        rows = [self.clean[:n], self.corrupted.observation[:n]] + [self.restored[m][:n] for m in self.restored]
        write_image(out_dir / "restored.png", image_grid(torch.cat(rows), columns=n))
        lines = ["method,iteration,seconds,loss"]
        for method, trace in self.traces.items():
            lines += [f"{method},{i + 1},{t:.6f},{loss:.6g}" for i, (t, loss) in enumerate(trace)]
        atomic_write_text(out_dir / "race.csv", "\n".join(lines) + "\n")
        return out_dir / "restored.png"

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step_count, "train_time": self.train_time, "methods": list(self.latents),
                "latents": [self.latents[m] for m in self.latents],
                "traces": [torch.from_numpy(self.traces[m]) for m in self.latents]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count, self.train_time = int(state["step"]), float(state["train_time"])
        for method, latent, trace in zip(state["methods"], state["latents"], state["traces"]):
            self.latents[method] = latent.to(self.device)
            self.restored[method] = self.score(self.latents[method])[0]
            self.traces[method] = trace.numpy()
