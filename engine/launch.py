"""The exact command lines of a run: `deq-studio <kind> …` for settings, and the torchrun commands that run it in
several processes on this machine, on several nodes, or under Slurm (SPEC section 6).

Settings become flags from the full preset (the config class's defaults, the same on every device), so a command
rebuilds exactly the settings it was made from (`cli.settings` reads it back: tested).
"""
from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

from engine.cli_options import config_arguments
from engine.tasks.kinds import TaskKind

PORT = 29500
"""The rendezvous port on the first node of a multi-node job."""


def task_arguments(kind: TaskKind, config: Any, out: str | Path, path: str | Path | None = None) -> list[str]:
    """`<kind> [PATH] --preset full <flags> --out OUT`: the CLI's words for a run of `kind` with `config`."""
    words = [kind.name, *([str(path)] if kind.needs_file and path is not None else []), "--preset", "full"]
    words += config_arguments(config, flatten=kind.flatten, rename=dict(kind.rename), skip=kind.fixed)
    return [*words, "--out", str(out)]


def local_command(kind: TaskKind, config: Any, out: str | Path, processes: int,
                  path: str | Path | None = None) -> list[str]:
    """This Python running `processes` processes of the run on this machine (torchrun, standalone rendezvous)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            "-m", "engine.cli", *task_arguments(kind, config, out, path)]


def cluster_commands(kind: TaskKind, config: Any, out: str | Path, nodes: int, per_node: int,
                     path: str | Path | None = None) -> dict[str, str]:
    """Shell lines for a job of `nodes` × `per_node` processes (one per GPU; device auto): `torchrun` (run it on
    every node, HEAD_NODE set to the first node's address) and `slurm` (one srun line inside an allocation)."""
    if hasattr(config, "device"):
        config = dataclasses.replace(config, device="auto")
    task = shlex.join(["-m", "engine.cli", *task_arguments(kind, config, out, path)])
    name = f"deq-studio-{kind.name}"
    torchrun = (f"torchrun --nnodes={nodes} --nproc-per-node={per_node} --rdzv-backend=c10d "
                f"--rdzv-endpoint=$HEAD_NODE:{PORT} --rdzv-id={name} {task}")
    slurm = (f"srun --nodes={nodes} --ntasks-per-node=1 --gpus-per-node={per_node} torchrun --nnodes=$SLURM_NNODES "
             f"--nproc-per-node={per_node} --rdzv-backend=c10d "
             f"--rdzv-endpoint=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n 1):{PORT} "
             f"--rdzv-id=$SLURM_JOB_ID {task}")
    return {"torchrun": torchrun, "slurm": slurm}
