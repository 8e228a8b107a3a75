"""The headless command line and the solver benchmark run end to end."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from engine import cli
from tests.conftest import PROJECT_ROOT


def test_demo_prints_a_row_per_solver(capsys) -> None:
    assert cli.main(["demo", "--coords", "256", "--width", "32", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    for name in ("picard", "anderson", "broyden"):
        assert name in out
    assert "not converged" not in out


def test_cuda_without_a_gpu_is_a_clear_error(capsys, monkeypatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert cli.main(["demo", "--device", "cuda"]) == cli.EXIT_BAD_INPUT
    assert "no CUDA device" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_entry_point_fits_the_built_in_sample(tmp_path) -> None:
    out = subprocess.run([sys.executable, str(PROJECT_ROOT / "app" / "main.py"), "--demo"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "runs" / "image-gabor-imfn-represent" / "reconstruction.png").is_file()
    metrics = tmp_path / "runs" / "image-gabor-imfn-represent" / "metrics.jsonl"
    final = json.loads(metrics.read_text().splitlines()[-1])
    assert final["eval_psnr_train"] > 20  # the demo visibly fits (about 21 dB here, the window's preview settings)


def test_console_entry_point_runs_a_verb() -> None:
    out = subprocess.run([sys.executable, "-m", "app.main", "demo", "--coords", "64", "--width", "16"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "anderson" in out.stdout


def test_solver_bench_prints_one_json_object() -> None:
    out = subprocess.run([sys.executable, "bench/solvers.py", "--coords", "256", "--width", "32", "--repeats", "1"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for name in ("picard", "anderson", "broyden"):
        assert result[name]["converged"] and result[name]["iters"] > 0 and result[name]["ms"] > 0
        assert result["warm"][name]["iters"] <= result[name]["iters"]
        assert result["near_linear"][name]["converged"]


def test_the_cli_starts_from_the_windows_preset_and_full_is_one_flag_away() -> None:
    import torch

    from engine.config import FitConfig
    from engine.tasks.kinds import task_kind

    fit, prior = task_kind("fit"), task_kind("train-prior")
    parse = cli.build_parser().parse_args
    cpu = torch.device("cpu")
    assert cli.settings(fit, parse(["fit", "clip.wav", "--device", "cpu"]))[0] == \
        dataclasses.replace(fit.preset("preview", cpu, "audio"), device="cpu")
    assert cli.settings(fit, parse(["fit", "clip.wav", "--preset", "full"]))[0] == FitConfig()
    assert cli.settings(prior, parse(["train-prior"]))[0] == prior.preset("preview", cpu)


def test_help_lists_the_previews_differences_and_they_are_exactly_the_preview() -> None:
    import torch

    from engine.media import MEDIA, medium_spec
    from engine.tasks.kinds import TASKS

    parser = cli.build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb").choices
    cpu = torch.device("cpu")
    for kind in TASKS:
        help_text = verbs[kind.name].format_help()
        lines = help_text.split(cli.PREVIEW_HEAD)[1].strip().splitlines()
        for line in lines:
            medium, _, flags = line.strip().rpartition(": ") if kind.needs_file else ("", "", line.strip())
            argv = [kind.name, *([f"x{medium_spec(medium).extensions[0]}"] if kind.needs_file else []), "--preset", "full", "--device", "cpu", *flags.split()]
            config = cli.settings(kind, parser.parse_args(argv))[0]
            assert config == dataclasses.replace(kind.preset("preview", cpu, medium or None), device="cpu"), \
                (kind.name, medium)
        assert len(lines) == (len(kind.media or MEDIA.names()) if kind.needs_file else 1)
