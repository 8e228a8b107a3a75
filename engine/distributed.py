"""Several processes on PyTorch's own distributed engine (torch.distributed, launched by torchrun; SPEC section 6).

`Ranks` is what a task knows of the job it is part of. In one process (`Ranks()`) every method is the identity, so
a task has no branch for it. Under torchrun (RANK, WORLD_SIZE and LOCAL_RANK set) `Ranks.join()` joins the process
group: gloo on a CPU, nccl on CUDA devices (one per process: cuda:LOCAL_RANK).

The semantics are one process's, whatever the number of processes:
- every rank draws the same global batch from the same generator (same seed, same draws) and keeps its contiguous
  share (`share`); the batch must split evenly;
- the loss of a share is its mean, and DistributedDataParallel averages the gradients across ranks during the
  backward pass (bucketed all-reduces that overlap it): the step is the one process's step on the global batch;
- random probes (the Jacobian penalty's) are drawn for the global batch on every rank from the CPU generator and
  shared out the same way (`randn_like`), so on a CPU they do not depend on the number of processes (one CUDA
  process draws from the GPU's generator instead: other numbers, the same distribution);
- the JIIO inner solves (attacks, latents, few-shot contexts) are per sample: each rank solves its share, with no
  communication;
- the loss and accuracies of a row are the ranks' means (`mean`: the global batch's, as shares are equal; a PSNR so
  averaged is the mean of the shares' PSNRs), step times and solver counts rank 0's own; tables that must stay whole
  (the generative task's latents, a fit's warm-start buffer) are all-gathered (`gather`);
- rank 0 alone evaluates, writes metrics.jsonl, checkpoints and exports. A checkpoint holds the same state on every
  rank and nothing of the number of processes, so a run resumes on any number of them.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

T = TypeVar("T")

ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
"""What torchrun sets in every process it starts."""
TIMEOUT = datetime.timedelta(minutes=30)
"""How long a rank waits for the others at a collective (rank 0 evaluating and checkpointing keeps them waiting)."""


def require_even_split(batch: int, processes: int) -> None:
    """ValueError when a global batch of `batch` does not split into equal shares over `processes` processes."""
    if batch % processes:
        raise ValueError(f"a global batch of {batch} does not split evenly over {processes} processes: choose a "
                         f"batch size (or tasks per step) that is a multiple of {processes}")


def launched_by_torchrun() -> bool:
    """Whether this process is one of several started by torchrun."""
    return all(name in os.environ for name in ENVIRONMENT) and int(os.environ["WORLD_SIZE"]) > 1


@dataclasses.dataclass(frozen=True)
class Ranks:
    """This process's place in the job: its rank among `world` processes and its device index on its node."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one that evaluates and writes the run folder."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @staticmethod
    def join(device: str = "auto") -> Ranks:
        """Join the job torchrun started (the process group: nccl when `device` resolves to CUDA, else gloo)."""
        import torch.distributed as dist

        ranks = Ranks(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
        if not dist.is_initialized():
            cuda = device != "cpu" and torch.cuda.is_available()
            if cuda:
                torch.cuda.set_device(ranks.local_rank)
            dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
        return ranks

    def device(self, device: torch.device) -> torch.device:
        """This rank's device: its own GPU (cuda:LOCAL_RANK) when the job runs on CUDA."""
        if self.distributed and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def leave(self) -> None:
        """Leave the process group (at the end of a run), after what still holds it is collected: a
        DistributedDataParallel replica sits in reference cycles, and its reducer destroyed after the group (at
        interpreter exit, in no set order) would touch connections the other process has already closed."""
        if self.distributed:
            import gc

            import torch.distributed as dist

            gc.collect()
            if dist.is_initialized():
                dist.destroy_process_group()

    def share(self, batch: Tensor) -> Tensor:
        """This rank's rows of a global batch (dim 0): a contiguous 1/world of it."""
        if not self.distributed:
            return batch
        require_even_split(len(batch), self.world)
        size = len(batch) // self.world
        return batch[self.rank * size:(self.rank + 1) * size]

    def randn_like(self, local: Tensor) -> Tensor:
        """Gaussian noise shaped like this rank's share, drawn for the global batch (the same on every rank)."""
        if not self.distributed:
            return torch.randn_like(local)
        whole = torch.randn((local.shape[0] * self.world, *local.shape[1:]), dtype=local.dtype)
        return self.share(whole).to(local.device)

    def replicate(self, model: nn.Module, idle_parameters: bool = False) -> Replica:
        """`model` for training steps: its gradients are averaged across ranks (DistributedDataParallel).
        `idle_parameters`: some parameters may take no part in a step (they are then looked for at every step)."""
        return Replica(model, self, idle_parameters)

    def mean(self, row: dict[str, float], keys: tuple[str, ...]) -> dict[str, float]:
        """`row` with the values of `keys` averaged over the ranks (the global batch's, as shares are equal)."""
        present = [key for key in keys if key in row]
        if not self.distributed or not present:
            return row
        import torch.distributed as dist

        values = torch.tensor([float(row[key]) for key in present], dtype=torch.float64, device=self._collective())
        dist.all_reduce(values)
        return {**row, **{key: float(v) / self.world for key, v in zip(present, values.tolist())}}

    def on_any(self, flag: bool) -> bool:
        """Whether `flag` holds on any rank (every rank asks at the same point: a stop request reaches them all)."""
        if not self.distributed:
            return flag
        import torch.distributed as dist

        value = torch.tensor([1.0 if flag else 0.0], device=self._collective())
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def barrier(self) -> None:
        """Wait until every rank is here (the others wait for rank 0's last writes before they exit)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def gather(self, local: Tensor) -> Tensor:
        """Every rank's share concatenated in rank order (the global batch's rows)."""
        if not self.distributed:
            return local
        import torch.distributed as dist

        parts = [torch.empty_like(local) for _ in range(self.world)]
        dist.all_gather(parts, local.contiguous())
        return torch.cat(parts)

    def _collective(self) -> torch.device:
        import torch.distributed as dist

        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")


class Replica:
    """Runs a training step's loss computation as the forward pass of DistributedDataParallel around `model`, so that
    the backward pass averages the gradients over the ranks; in one process it just runs it."""

    def __init__(self, model: nn.Module, ranks: Ranks, idle_parameters: bool = False) -> None:
        self.model, self.ranks, self.idle_parameters = model, ranks, idle_parameters
        self._parallel = None
        if ranks.distributed:
            from torch.nn.parallel import DistributedDataParallel

            device = next(model.parameters()).device
            self._parallel = DistributedDataParallel(_Step(model), device_ids=[device.index] if device.type == "cuda"
                                                     else None, find_unused_parameters=idle_parameters)

    def __call__(self, loss: Callable[[], T]) -> T:
        """`loss()`: its result's tensors carry the step's graph; backward then reduces the gradients."""
        return loss() if self._parallel is None else self._parallel(loss)


class _Step(nn.Module):
    """The module DistributedDataParallel wraps: the model's parameters, and a forward that runs the step's loss."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, loss: Callable[[], Any]) -> Any:
        return loss()
