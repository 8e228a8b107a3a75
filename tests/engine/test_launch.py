"""Commands of a run: the flags rebuild the settings exactly; the torchrun and Slurm lines hold them."""
from __future__ import annotations

import dataclasses
import shlex

import pytest

from engine import cli
from engine.config import AdvTrainConfig, JIIOConfig, MetaTrainConfig, PriorConfig
from engine.launch import cluster_commands, local_command, task_arguments
from engine.tasks.kinds import task_kind


@pytest.mark.parametrize("kind, config", [
    ("adv-train", AdvTrainConfig(attack="pgd", channels=(8, 16), lr=3e-4, batch_size=24, device="cpu")),
    ("train-prior", PriorConfig(steps=77, jiio=JIIOConfig(iterations=12, alpha=(0.5, 0.25)), solver=dataclasses.replace(
        PriorConfig().solver, tol=1e-12))),
    ("meta-train", MetaTrainConfig(readout=False, rotations=False, shots=5, split="alphabets", inner="gd")),
])
def test_the_command_line_rebuilds_the_settings_exactly(kind, config, tmp_path) -> None:
    words = task_arguments(task_kind(kind), config, tmp_path / "run")
    args = cli.build_parser().parse_args(words)
    rebuilt, _ = cli.settings(task_kind(kind), args)
    assert rebuilt == config and args.out == str(tmp_path / "run")


def test_local_and_cluster_commands() -> None:
    kind, config = task_kind("adv-train"), AdvTrainConfig(steps=50, device="cpu")
    local = local_command(kind, config, "runs/x", 2)
    assert local[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m"]
    assert local[6:9] == ["engine.cli", "adv-train", "--preset"] and "--steps" in local
    lines = cluster_commands(kind, config, "runs/x", nodes=4, per_node=8)
    torchrun = shlex.split(lines["torchrun"].replace("$HEAD_NODE", "head"))
    assert torchrun[:3] == ["torchrun", "--nnodes=4", "--nproc-per-node=8"] and "--device" not in torchrun
    assert lines["slurm"].startswith("srun --nodes=4 ") and "--rdzv-id=$SLURM_JOB_ID" in lines["slurm"]


def test_only_kinds_that_run_in_several_processes_take_more_than_one() -> None:
    task_kind("adv-train").require_processes(4)
    task_kind("inverse").require_processes(1)
    with pytest.raises(ValueError, match="does not run in several processes.*Train a classifier"):
        task_kind("inverse").require_processes(2)
