"""The duel: two fits of one file step for step, each exactly the fit it would be alone; the CLI writes one run
folder per network, and both the duel and each side resume."""
from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.config import ConfigError, DuelConfig, FitConfig, ModelConfig
from engine.media import load_image
from engine.resources import sample_path
from engine.tasks.duel import DuelTask, split_row, standing, standing_text
from engine.tasks.fit import FitTask
from engine.tasks.kinds import task_kind

ROOT = Path(__file__).resolve().parents[3]
CPU = torch.device("cpu")


def small(steps: int = 6) -> DuelConfig:
    return DuelConfig(model=ModelConfig(model="gabor-imfn", width=16), rival="gabor-mfn", steps=steps,
                      signal=dataclasses.replace(FitConfig().signal, max_size=24), device="cpu")


def test_each_side_trains_exactly_as_its_fit_alone() -> None:
    signal = load_image(sample_path("image.png"), small().signal)
    duel = DuelTask(small(), signal, CPU)
    rows = [duel.step() for _ in range(4)]
    alone = FitTask(small().fit_of("gabor-mfn"), signal, CPU)
    losses = [alone.step()["loss"] for _ in range(4)]
    # exact: same data, same seed, same steps, the same arithmetic in the same order
    assert [split_row(row)["gabor-mfn"]["loss"] for row in rows] == losses
    assert set(split_row(rows[-1])) == {"gabor-imfn", "gabor-mfn"} and rows[-1]["step"] == 4
    for side in split_row(rows[-1]).values():
        assert side["memory_mb"] > 0 and side["ms_per_step"] > 0
    state = copy.deepcopy(duel.state_dict())  # as a checkpoint holds it (live tensors would be shared)
    again = DuelTask(small(), signal, CPU)
    again.load_state_dict(state)
    clocks = {"ms_per_step", "time_s"}  # wall-clock readings: they differ from run to run, the rest must not

    def measured(row: dict) -> dict:
        return {side: {k: v for k, v in values.items() if k not in clocks} for side, values in split_row(row).items()}

    assert measured(again.step()) == measured(duel.step())
    assert torch.equal(again.sides["gabor-imfn"].model.readout.weight, duel.sides["gabor-imfn"].model.readout.weight)


def test_a_duel_needs_two_different_networks_and_a_grid_signal(tmp_path) -> None:
    with pytest.raises(ConfigError, match="two different networks"):
        DuelConfig(rival="fourier-imfn")
    mesh = tmp_path / "tetra.obj"
    mesh.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    with pytest.raises(ValueError, match="Duel takes an image, a sound or a video, and tetra.obj is a 3D shape"):
        task_kind("duel").build(small(), mesh, CPU)


def test_split_row_leaves_plain_rows_alone() -> None:
    assert split_row({"step": 3.0, "loss": 0.1}) == {}
    assert split_row({"step": 3.0, "a/loss": 0.1, "b/loss": 0.2}) == {"a": {"loss": 0.1, "step": 3.0},
                                                                     "b": {"loss": 0.2, "step": 3.0}}


def test_the_duel_is_decided_by_held_out_psnr_then_psnr_then_iou() -> None:
    scores = {"fourier-imfn": {"eval_psnr_train": 30.0, "psnr_test": 28.52},
              "fourier-mfn": {"eval_psnr_train": 31.0, "psnr_test": 27.14}}
    result = standing(scores)  # better on the training pixels is not better: the held-out ones decide
    assert result["metric"] == "psnr_test" and result["leader"] == "fourier-imfn"
    assert result["margin"] == pytest.approx(1.38)
    assert standing_text(result, finished=True) == ("fourier-imfn wins by 1.38 dB of held-out PSNR "
                                                    "(28.52 against 27.14 dB for fourier-mfn).")
    assert standing_text(result, finished=False).startswith("fourier-imfn leads by 1.38 dB")
    represent = {"a": {"eval_psnr_train": 20.0}, "b": {"eval_psnr_train": 20.004}}
    assert standing(represent)["leader"] is None  # closer than the 0.01 dB shown
    assert standing_text(standing(represent), True) == "A tie on PSNR: b 20.00, a 20.00 dB."
    shapes = {"a": {"iou_uniform": 0.91, "iou_near": 0.5}, "b": {"iou_uniform": 0.93, "iou_near": 0.9}}
    assert standing(shapes)["leader"] == "b" and "0.020 of IoU" in standing_text(standing(shapes), True)
    assert standing({"a": {"psnr_test": 20.0}, "b": {}}) is None  # one side not evaluated yet
    assert standing({"a": {"psnr_test": float("nan")}, "b": {"psnr_test": 20.0}}) is None
    assert standing_text(None, True) == ""


@pytest.mark.slow
def test_cli_duel_writes_one_resumable_fit_folder_per_network(tmp_path) -> None:
    out = tmp_path / "duel"
    command = [sys.executable, "-m", "engine.cli", "duel", str(sample_path("image.png")), "--models", "isiren",
               "siren-inj", "--width", "16", "--max-size", "24", "--steps", "6", "--log-every", "3", "--out", str(out),
               "--protocol", "represent"]  # scored on the whole file (the default, generalize: the window's test)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "duel.json").read_text())
    assert (out / "duel.png").is_file() and summary["step"] == 6 and summary["finished"]
    scores = {name: summary["scores"][name]["eval_psnr_train"] for name in ("isiren", "siren-inj")}
    assert summary["decided_by"] == "eval_psnr_train" and summary["verdict"] in done.stdout  # the last line said
    if abs(scores["isiren"] - scores["siren-inj"]) >= 0.01:
        assert summary["leader"] == max(scores, key=scores.get)
        assert summary["verdict"].startswith(f"{summary['leader']} wins by")
    for name in ("isiren", "siren-inj"):
        record = json.loads((out / name / "config.json").read_text())
        assert record["task"] == "fit" and record["config"]["model"]["model"] == name
        rows = [json.loads(line) for line in (out / name / "metrics.jsonl").read_text().splitlines()]
        assert [row["step"] for row in rows] == [1, 3, 6] and "loss" in rows[-1] and "eval_psnr_train" in rows[-1]
        assert (out / name / "reconstruction.png").is_file()
    side = [sys.executable, "-m", "engine.cli", "resume", str(out / "isiren"), "--steps", "8"]
    whole = [sys.executable, "-m", "engine.cli", "resume", str(out), "--steps", "8"]
    for again in (side, whole):
        done = subprocess.run(again, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    last_side = json.loads((out / "isiren" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last_side["step"] == 8  # rewritten by the duel's own resume, from the same state: the same result
