"""The CUDA path against the CPU one: the same gradients, the same JIIO optimum, the same fit and a resumable CLI
run on the GPU (skipped where there is none; bench/gpu_check.sh runs them)."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch

from engine.config import FitConfig, JIIOConfig, ModelConfig
from engine.jiio import jiio
from engine.media import load_image
from engine.resources import sample_path
from engine.tasks.fit import FitTask
from tests.engine.implicit.test_implicit import grads, make_problem
from tests.engine.jiio.test_jiio import LinearProblem, _rel

pytestmark = pytest.mark.cuda
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_exact_backward_on_cuda_matches_the_cpu_gradient() -> None:
    params, target = make_problem()
    on_cpu = grads(params, target)
    on_gpu = grads([p.cuda() for p in params], target.cuda())
    for a, b in zip(on_cpu, on_gpu):
        assert b.is_cuda and torch.allclose(a, b.cpu(), rtol=1e-8, atol=1e-10)


def test_jiio_on_cuda_reaches_the_closed_form_optimum() -> None:
    problem = LinearProblem()
    for name in ("a", "b", "c", "y", "x_star"):
        setattr(problem, name, getattr(problem, name).cuda())
    result = jiio(problem, torch.zeros(4, 16, dtype=torch.float64, device=CUDA),
                  torch.zeros(4, 6, dtype=torch.float64, device=CUDA), JIIOConfig(iterations=200, alpha=(0.5, 0.5)))
    assert result.x.is_cuda and _rel(result.x, problem.x_star) < 1e-4


@pytest.mark.parametrize("model", ["isiren", "gabor-imfn", "fourier-mfn"])
def test_a_fit_on_cuda_follows_the_cpu_fit(model) -> None:
    config = FitConfig(model=ModelConfig(model=model, width=32), steps=40, lr=3e-3, device="cuda",
                       signal=dataclasses.replace(FitConfig().signal, max_size=32))
    signal = load_image(sample_path("image.png"), config.signal)
    on_cpu, on_gpu = ([task.step()["loss"] for _ in range(40)] for task in
                      (FitTask(config, signal, CPU), FitTask(config, signal, CUDA)))
    assert on_gpu[0] == pytest.approx(on_cpu[0], rel=1e-3)  # the same data, seed and initial weights
    assert on_gpu[-1] < 0.5 * on_gpu[0]
    assert on_gpu[-1] == pytest.approx(on_cpu[-1], rel=0.2)  # float rounding grows over 40 steps


def test_cli_fit_on_cuda_writes_and_resumes_its_run(tmp_path) -> None:
    folder = tmp_path / "run"
    command = [sys.executable, "-m", "engine.cli", "fit", str(sample_path("image.png")), "--model", "gabor-imfn",
               "--width", "32", "--max-size", "32", "--steps", "20", "--eval-every", "10", "--device", "cuda",
               "--out", str(folder)]
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 20 and "psnr" in json.dumps(rows[-1])
    resumed = subprocess.run([sys.executable, "-m", "engine.cli", "resume", str(folder), "--steps", "30"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 30


@pytest.mark.parametrize("kind", ["fourier", "gabor"])
def test_filters_on_cuda_in_one_block_match_the_cpu_blocks(kind) -> None:
    from engine.models.inr.filters import make_filter

    torch.manual_seed(0)
    layer = make_filter(kind, 2, 16, 64.0, 1, 3.0).double()
    x = torch.rand(3000, 2, dtype=torch.float64) * 2 - 1
    upstream = torch.randn(3000, 16, dtype=torch.float64)
    results = []
    for device in (CPU, CUDA):
        layer.to(device).zero_grad()
        xd = x.to(device).detach().requires_grad_()  # a fresh leaf on each device (x itself stays without grad)
        out = layer(xd)
        out.backward(upstream.to(device))
        # copies on the CPU: moving the layer to the next device moves its gradients' storage too
        results.append([t.detach().cpu().clone() for t in (out, xd.grad, *(p.grad for p in layer.parameters()))])
    for a, b in zip(*results):
        assert torch.allclose(a, b, atol=1e-9)
