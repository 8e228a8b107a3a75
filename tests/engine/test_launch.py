"""Commands of a run: the flags rebuild the settings exactly; the torchrun and Slurm lines hold them."""
from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest

from engine import cli
from engine.config import AdvTrainConfig, FitConfig, JIIOConfig, MetaTrainConfig, PriorConfig
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


def test_a_job_whose_global_batch_does_not_split_is_refused_before_it_starts() -> None:
    task_kind("adv-train").require_processes(4, AdvTrainConfig(batch_size=64))
    with pytest.raises(ValueError, match="global batch of 64 does not split evenly over 3"):
        task_kind("adv-train").require_processes(3, AdvTrainConfig(batch_size=64))
    with pytest.raises(ValueError, match="global batch of 4 does not split evenly over 8"):
        task_kind("meta-train").require_processes(8, MetaTrainConfig(tasks_per_step=4))
    fit = task_kind("fit")
    fit.require_processes(4, FitConfig(), Path("clip.mp4"))  # video: 65,536 points a step by default
    fit.require_processes(2, FitConfig(batch_size=4096), Path("photo.png"))
    with pytest.raises(ValueError, match="full-batch fit"):
        fit.require_processes(2, FitConfig(), Path("photo.png"))  # an image: every pixel at every step
    with pytest.raises(ValueError, match="does not split evenly over 32"):
        fit.require_processes(32, FitConfig(), Path("bunny.ply"))  # a mesh: 50,000 points a step
