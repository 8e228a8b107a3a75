"""Scaling curves: one training step's time and memory against coordinate count and width, implicit against
explicit — the (Implicit)² claim that an amortized implicit model costs O(1) in depth where an explicit one costs
O(L).

Three models of one family (Gabor by default) take full-batch Adam steps on a synthetic 2-D signal:

- the implicit 1-layer model, amortized (after the first step, f applied once at the stored equilibrium, one-step
  Neumann backward): its effective depth is the solver's iteration count, its cost one layer's;
- the explicit 1-layer model (the same structure run once from z = 0);
- the explicit 4-layer model.

Each point: the median time of a few steps after a warm-up, and the step's memory — on CUDA the peak allocated
above what was held before the step; on the CPU, which keeps no allocator statistics, the bytes autograd saves for
the backward (each storage counted once), which is what grows with depth. Sweeps: coordinates 2^12 … 2^20 at
width 256, and widths 64 … 1024 at a fixed coordinate count. Prints one JSON object and, with `--plots DIR`,
writes `scaling_coords.png` and `scaling_width.png` (matplotlib, the `bench` extra).

    python bench/scaling.py [--quick] [--family gabor|fourier|siren] [--device cpu] [--plots DIR]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import BackwardConfig, FitConfig, ModelConfig, SolverConfig  # noqa: E402
from engine.device import device_name, resolve_device  # noqa: E402
from engine.memory import step_memory  # noqa: E402
from engine.tasks.inr_training import INRTraining  # noqa: E402
from engine.timing import timed  # noqa: E402

FAMILIES = {"gabor": ("gabor-imfn", "gabor-mfn"), "fourier": ("fourier-imfn", "fourier-mfn"),
            "siren": ("isiren", "siren-inj")}
SWEEPS = {"quick": {"coords": [2 ** k for k in range(12, 19, 2)], "widths": [64, 128, 256, 512], "at": 2 ** 14},
          "full": {"coords": [2 ** k for k in range(12, 21, 2)], "widths": [64, 128, 256, 512, 1024], "at": 2 ** 16}}
"""The CPU-feasible sweep (`--quick`) and the full one (2^20 coordinates, width 1024: for a GPU)."""


def variants(family: str) -> dict[str, tuple[str, int]]:
    implicit, explicit = FAMILIES[family]
    return {"implicit 1L (amortized)": (implicit, 1), "explicit 1L": (explicit, 1), "explicit 4L": (explicit, 4)}


def training(model: str, layers: int, width: int, coords: int, device: torch.device):
    """An INRTraining of `model` on `coords` random 2-D coordinates, with its data."""
    config = FitConfig(model=ModelConfig(model=model, width=width, layers=layers, input_scale=128.0,
                                         spectral_norm=True),
                       solver=SolverConfig(solver="picard", max_iter=100, tol=1e-3),
                       backward=BackwardConfig(mode="neumann", neumann_order=1), lr=1e-3, device=device.type)
    generator = torch.Generator().manual_seed(0)
    x = (torch.rand(coords, 2, generator=generator) * 2 - 1).to(device)
    y = torch.sin(3 * x[:, :1]) * torch.cos(5 * x[:, 1:])
    return INRTraining(config, 2, 1, coords, device), x, y


def measure_point(model: str, layers: int, width: int, coords: int, device: torch.device, repeats: int) -> dict:
    train, x, y = training(model, layers, width, coords, device)

    def step():
        train.train_step(x, y, None, torch.nn.functional.mse_loss)

    step()  # the first step solves; later ones are amortized
    step()
    memory = step_memory(device, step)[1]
    ms = statistics.median(timed(device, step)[1] for _ in range(repeats))
    return {"ms": round(ms, 2), "memory_mb": round(memory / 2 ** 20, 2)}


def sweep(family: str, size: str, device: torch.device, repeats: int) -> dict:
    plan = SWEEPS[size]
    result: dict = {"coords": {}, "width": {}}
    for name, (model, layers) in variants(family).items():
        result["coords"][name] = {str(n): measure_point(model, layers, 256, n, device, repeats)
                                  for n in plan["coords"]}
        result["width"][name] = {str(w): measure_point(model, layers, w, plan["at"], device, repeats)
                                 for w in plan["widths"]}
        print(f"{name}: done", file=sys.stderr, flush=True)
    return result


def depth_ratios(result: dict) -> dict:
    """Explicit 4L ÷ explicit 1L and implicit ÷ explicit 1L, time and memory, at each swept coordinate count."""
    out = {}
    for n, four in result["coords"]["explicit 4L"].items():
        one, implicit = result["coords"]["explicit 1L"][n], result["coords"]["implicit 1L (amortized)"][n]
        out[n] = {"explicit_4L_over_1L_time": round(four["ms"] / one["ms"], 2),
                  "explicit_4L_over_1L_memory": round(four["memory_mb"] / max(one["memory_mb"], 1e-9), 2),
                  "implicit_over_explicit_1L_time": round(implicit["ms"] / one["ms"], 2),
                  "implicit_over_explicit_1L_memory": round(implicit["memory_mb"] / max(one["memory_mb"], 1e-9), 2)}
    return out


def plot(result: dict, folder: Path, memory_label: str) -> list[str]:
    """The two sweeps as PNGs (time and memory side by side, log-log); the written files' names."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plots", file=sys.stderr)
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for axis, label in (("coords", "coordinates"), ("width", "width")):
        figure, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(10, 4))
        for name, points in result[axis].items():
            xs = [int(k) for k in points]
            time_ax.plot(xs, [p["ms"] for p in points.values()], marker="o", label=name)
            memory_ax.plot(xs, [p["memory_mb"] for p in points.values()], marker="o", label=name)
        for ax, ylabel in ((time_ax, "ms per step"), (memory_ax, memory_label)):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
        time_ax.legend()
        figure.suptitle(f"one training step against {label}")
        figure.tight_layout()
        name = f"scaling_{axis}.png"
        figure.savefig(folder / name, dpi=90)
        plt.close(figure)
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the CPU-feasible sweep (to 2^18 coordinates, width 512)")
    parser.add_argument("--family", default="gabor", choices=list(FAMILIES))
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plots", type=Path, default=None, help="write the PNG plots into this folder")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    result = sweep(args.family, "quick" if args.quick else "full", device, args.repeats)
    memory_label = "peak MB allocated" if device.type == "cuda" else "MB saved for the backward"
    report = {"scaling": result, "depth_ratios": depth_ratios(result), "memory_measure": memory_label,
              "plots": plot(result, args.plots, memory_label) if args.plots else [],
              "setup": {"device": device_name(device), "threads": torch.get_num_threads(), "family": args.family,
                        "width_sweep_coords": SWEEPS["quick" if args.quick else "full"]["at"]}}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
