"""The hot steps against the machine's limit: achieved matrix-product FLOP/s as a fraction of the measured peak.

The peak is the best of a few dense fp32 products (4096², the process's threads). Each hot step is timed the same
way, the best of 5 calls after a warm-up (the median is reported beside it: on this CPU a step now and then pays
for page faults, the C library having handed freed memory back), and its matrix-product FLOPs counted by torch's
profiler (mm, addmm, bmm, convolutions: elementwise work is time spent, not FLOPs counted, which is what the
fraction exposes):

- the amortized training step of iSIREN, Fourier-iMFN and Gabor-iMFN (f applied once at the stored equilibrium,
  one-step Neumann backward) and of their explicit counterparts, on a 512² image's training half (65,536
  coordinates) at width 256, 1 layer: the (Implicit)² reference setting;
- the Gabor-iMFN step with the exact backward (an adjoint solve) instead;
- one JIIO iteration and one MDEQ forward solve of the built-in MNIST prior on a batch of digits.

`before` repeats the filter steps with the filters written as autograd's elementwise graph (what the blocked
filters of engine/models/inr/filters.py replaced), in the same run. Prints JSON with a top-level `roofline`
object {name: {"gflops", "peak_gflops", "fraction_of_peak", "ms"}} and a markdown table on stderr.

    python bench/roofline.py [--threads N] [--coords 65536] [--width 256] [--before] [--device cpu]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import statistics
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report_markdown import roofline as roofline_markdown  # noqa: E402
from bench.shared_data import shared_data_dir, use_shared_data  # noqa: E402

use_shared_data()

from engine.config import BackwardConfig, FitConfig, InverseConfig, JIIOConfig, ModelConfig, SolverConfig  # noqa: E402
from engine.device import device_name, resolve_device  # noqa: E402
from engine.media import load_image  # noqa: E402
from engine.models.inr import filters  # noqa: E402
from engine.tasks import FitTask  # noqa: E402
from engine.timing import timed  # noqa: E402

STEP_MODELS = ["isiren", "fourier-imfn", "gabor-imfn", "siren-inj", "fourier-mfn", "gabor-mfn"]
FILTER_MODELS = ["fourier-imfn", "gabor-imfn", "fourier-mfn", "gabor-mfn"]


def matmul_peak(device: torch.device, size: int = 4096, repeats: int = 5, dtype: torch.dtype = torch.float32) -> float:
    """GFLOP/s of the best of `repeats` dense products of two size² matrices of `dtype`."""
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    best = min(timed(device, lambda: torch.mm(a, b, out=out))[1] for _ in range(repeats + 1)) / 1e3
    return 2 * size ** 3 / best / 1e9


MATRIX_OPS = ("aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::baddbmm", "aten::conv2d",
              "aten::conv_transpose2d")
"""The operations whose FLOPs count (each convolution once, at its outermost call)."""


def matrix_gflop(step) -> float:
    """The matrix-product GFLOP of one `step()`, from the profiler's FLOP estimates (it sees through
    `autograd.grad` inside a backward, which JIIO and the adjoint solves call)."""
    with profile(activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])],
                 with_flops=True) as prof:
        step()
    return sum(event.flops for event in prof.events() if event.name in MATRIX_OPS and event.flops) / 1e9


def measure(step, device: torch.device, warmup: int = 2, repeats: int = 5) -> tuple[float, float, float]:
    """(GFLOP per call, best and median seconds per call) of `step()`."""
    for _ in range(warmup):
        step()
    gflop = matrix_gflop(step)
    times = [timed(device, step)[1] / 1e3 for _ in range(repeats)]
    return gflop, min(times), statistics.median(times)


def fit_step(model: str, args: argparse.Namespace, device: torch.device, backward: str = "neumann"):
    """The amortized training step of `model` on the reference setting, as a callable."""
    config = FitConfig(model=ModelConfig(model=model, width=args.width, input_scale=128.0, spectral_norm=True),
                       protocol="generalize", solver=SolverConfig(solver="picard", max_iter=100, tol=1e-3),
                       backward=BackwardConfig(mode=backward, neumann_order=1), lr=1e-3, device=device.type)
    side = int(round((4 * args.coords) ** 0.5))  # the training half of a side² image has `coords` coordinates
    image = load_image(shared_data_dir() / "images512" / "kodim01.png", dataclasses.replace(config.signal,
                                                                                             max_size=side))
    task = FitTask(config, image, device)
    return task.step


@contextlib.contextmanager
def plain_filters():
    """The filters as autograd's elementwise graph, for the `before` measurements."""
    fourier, gabor = filters.FourierFilter.forward, filters.GaborFilter.forward

    def plain_fourier(self, x):
        return torch.sin(torch.addmm(self.phase, x, self.omega.T))

    def plain_gabor(self, x):
        dist2 = torch.addmm((self.mu * self.mu).sum(-1), x, self.mu.T, alpha=-2.0).add_((x * x).sum(-1, keepdim=True))
        envelope = torch.exp(dist2 * (-0.5 * self.gamma.clamp_min(0.0)))
        return torch.sin(self.linear(x)) * envelope

    filters.FourierFilter.forward, filters.GaborFilter.forward = plain_fourier, plain_gabor
    try:
        yield
    finally:
        filters.FourierFilter.forward, filters.GaborFilter.forward = fourier, gabor


def jiio_steps(device: torch.device, count: int = 64, iterations: int = 20):
    """One JIIO iteration (per call: `iterations` of them, divided out) and one MDEQ forward solve of the prior."""
    from engine.datasets.mnist import held_out_digits
    from engine.models.mdeq.stored import load_decoder
    from engine.tasks.generative import to_signed
    from engine.tasks.inverse import InverseTask

    decoder, _ = load_decoder("", device)
    clean = to_signed(held_out_digits("", count)[0], device)
    task = InverseTask(InverseConfig(corruption="noise", sigma=0.2, jiio=JIIOConfig(iterations=iterations)), decoder,
                       clean, device)
    latent = task.solve("jiio")[0]
    return (lambda: task.solve("jiio")), iterations, (lambda: task.score(latent))


def reduced_precision_peaks(device: torch.device) -> dict[str, float]:
    """On CUDA the matmul peaks with TF32 tensor cores and in bf16 (the fractions above are of the fp32 peak)."""
    if device.type != "cuda":
        return {}
    allowed = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        tf32 = matmul_peak(device)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = allowed
    return {"peak_gflops_tf32": round(tf32, 1), "peak_gflops_bf16": round(matmul_peak(device, dtype=torch.bfloat16), 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: as started)")
    parser.add_argument("--coords", type=int, default=65536, help="training coordinates of the fit steps")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--before", action="store_true", help="also the filter steps with autograd's filters")
    parser.add_argument("--no-jiio", action="store_true", help="skip the JIIO and MDEQ steps")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    peak = matmul_peak(device)
    results: dict[str, dict] = {}

    def record(name: str, gflop: float, seconds: float, median: float, per: int = 1) -> None:
        gflops = gflop / seconds
        results[name] = {"gflops": round(gflops, 1), "peak_gflops": round(peak, 1),
                         "fraction_of_peak": round(gflops / peak, 3), "ms": round(seconds / per * 1e3, 1),
                         "ms_median": round(median / per * 1e3, 1), "gflop_per_call": round(gflop / per, 2)}
        print(f"{name}: {gflops:.1f} GFLOP/s = {gflops / peak:.0%} of {peak:.0f}", file=sys.stderr, flush=True)

    for model in STEP_MODELS:
        record(f"step {model}", *measure(fit_step(model, args, device), device))
    record("step gabor-imfn exact backward", *measure(fit_step("gabor-imfn", args, device, "exact"), device))
    if args.before:
        with plain_filters():
            for model in FILTER_MODELS:
                record(f"step {model} (before: autograd filters)", *measure(fit_step(model, args, device), device))
    if not args.no_jiio:
        jiio, iterations, forward = jiio_steps(device)
        record("JIIO iteration", *measure(jiio, device, warmup=1, repeats=3), per=iterations)
        record("MDEQ forward solve", *measure(forward, device))
    report = {"roofline": results, "setup": {"device": device_name(device), "threads": torch.get_num_threads(),
                                             "coords": args.coords, "width": args.width, "peak_gflops": round(peak, 1),
                                             **reduced_precision_peaks(device)}}
    print(json.dumps(report, indent=2))
    print(roofline_markdown(report, report), file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
