"""What every INR fitting task shares: medium defaults, model and optimizer, the amortized training step, state.

The step follows SPEC 2.2: full-batch signals keep a per-coordinate buffer of z — step 0 solves from zero, every
later step applies f once at the stored z and stores the result back; minibatch signals solve from zero (or from the
stored z of the sampled coordinates). Evaluation always re-solves from zero (`INR.predict`).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from engine.config import FitConfig
from engine.distributed import Ranks, Replica
from engine.implicit import WarmStartBuffer
from engine.models.inr import INR, build_inr
from engine.tasks.base import TrainingTask, gradient_step

LossFn = Callable[[Tensor, Tensor], Tensor]

class INRTraining:
    """Model, optimizer, warm-start buffer and sampler of one fit; `train_step` does one update."""

    def __init__(self, config: FitConfig, d_in: int, d_out: int, n_train: int, device: torch.device) -> None:
        self.config = config
        self.device = device
        torch.manual_seed(config.seed)
        assert config.model.input_scale is not None and config.model.spectral_norm is not None, "resolve first"
        self.model: INR = build_inr(config.model, d_in, d_out, input_scale=config.model.input_scale,
                                    spectral_norm=config.model.spectral_norm,
                                    equilibrium=config.equilibrium).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.n_train = n_train
        self.full_batch = config.batch_size is None or config.batch_size >= n_train
        self.buffer = WarmStartBuffer()
        if self.model.implicit and (self.full_batch and config.amortize or config.minibatch_warm_start):
            self.buffer.allocate(n_train, (self.model.width,), device=device, dtype=torch.float32)
        self.sampler = torch.Generator().manual_seed(config.seed + 1)
        self.step_count = 0
        self.train_time = 0.0
        self.ranks = Ranks()
        self.replica = Replica(self.model, self.ranks)

    def distribute(self, ranks: Ranks) -> None:
        """Train in a job of several processes: each rank fits its share of every minibatch, and every rank keeps
        the whole warm-start buffer (the equilibria of all shares are gathered)."""
        if self.full_batch:
            raise ValueError("a full-batch fit (every coordinate at every step) runs in one process: give it a "
                             "batch size (--batch-size) to run it in several")
        self.ranks, self.replica = ranks, ranks.replicate(self.model)

    def sample_batch(self) -> Tensor | None:
        """Indices of the next minibatch (None for full batch)."""
        if self.full_batch:
            return None
        return torch.randint(self.n_train, (int(self.config.batch_size or 0),), generator=self.sampler).to(self.device)

    def train_step(
        self, x: Tensor, y: Tensor, index: Tensor | None, loss_fn: LossFn, batch: Tensor | None = None
    ) -> tuple[dict[str, float], Tensor]:
        """One Adam step on (x, y); `index` names their rows of the warm-start buffer (None = all). In a job of
        several processes (x, y) are this rank's share of the minibatch `batch` (the rows of every rank).

        Returns the step's scalars and the (detached) prediction the loss was computed on."""
        start = time.perf_counter()
        z0, iterate = None, True
        if self.buffer.z is not None:
            z0, filled = self.buffer.lookup(index)
            iterate = not (filled and self.full_batch)  # amortized: one application; minibatch: warm solve
        self.model.train()

        def loss_of():
            out = self.model(x, z0, iterate=iterate)
            return loss_fn(out.y, y), out

        loss, out = self.replica(loss_of)
        gradient_step(loss, self.optimizer, self.step_count + 1, self.config.grad_clip,
                      "lower the learning rate or turn spectral normalization on", self.ranks)
        if self.buffer.z is not None:
            if self.ranks.distributed:
                self.buffer.store(self.ranks.gather(out.z.detach()), batch)
            else:
                self.buffer.store(out.z, index)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        elapsed = time.perf_counter() - start
        self.step_count += 1
        self.train_time += elapsed
        row = {"step": float(self.step_count), "time_s": self.train_time, "loss": loss.item(),
               "ms_per_step": elapsed * 1e3}
        if out.stats is not None:
            row["solver_iters"] = float(out.stats.nstep)
            row["solver_residual"] = out.stats.max_residual
        return row, out.y.detach()

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "buffer": self.buffer.state_dict(),
            "sampler": self.sampler.get_state(),
            "step": self.step_count,
            "train_time": self.train_time,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict({k: v.to(self.device) for k, v in state["buffer"].items()})
        self.sampler.set_state(state["sampler"])
        self.step_count = int(state["step"])
        self.train_time = float(state["train_time"])


class INRTask(TrainingTask):
    """Shared frame of the fit tasks: subclasses set `config`, `training`, `train_x`, `train_y` and `loss`."""

    config: FitConfig
    training: INRTraining
    train_x: Tensor
    train_y: Tensor
    cache_keys = ("buffer",)
    """The state that is a cache (the warm-start buffer): a state without it restores it empty ({})."""

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def model(self) -> INR:
        return self.training.model

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self.training.optimizer

    @property
    def step_count(self) -> int:
        return self.training.step_count

    @property
    def train_time(self) -> float:
        return self.training.train_time

    def step(self) -> dict[str, float]:
        """One update on the full training set or a minibatch of it."""
        batch = self.training.sample_batch()
        index = batch if batch is None else self.training.ranks.share(batch)  # the whole batch in one process
        x = self.train_x if index is None else self.train_x[index]
        y = self.train_y if index is None else self.train_y[index]
        row, prediction = self.training.train_step(x, y, index, self.loss, batch)
        row.update(self.batch_metrics(prediction, y))
        return self.training.ranks.mean(row, ("loss", "psnr_train"))  # several processes: the ranks' mean

    @property
    def replica(self):
        return self.training.replica

    def distribute(self, ranks) -> None:
        self.training.distribute(ranks)

    def batch_metrics(self, pred: Tensor, target: Tensor) -> dict[str, float]:
        """Extra scalars of the training batch (none by default)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return self.training.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.training.load_state_dict(state)


def solve_summary(stats: list) -> dict[str, float]:
    """Largest iteration count and residual over the chunks of an evaluation."""
    if not stats:
        return {}
    return {"eval_iters": float(max(s.nstep for s in stats)), "eval_residual": max(s.max_residual for s in stats)}
