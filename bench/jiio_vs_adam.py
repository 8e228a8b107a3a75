"""JIIO against Adam over the latent on held-out MNIST digits: denoising and inpainting with a trained prior.

Fair by construction: the same decoder (eval mode, frozen weights, the same solver settings), the same corrupted
batch, the same summed squared-error loss, timed alone one after the other on the same device (CUDA events on
a GPU). Each method gets the same small tuning grid: Adam's learning rate and JIIO's (α₁, α₂) pair are each the
best of their grid on the quantity the benchmark measures. Then:

- Adam-40 runs its 40 steps (each a forward solve and an adjoint solve): `adam_ms`, and `adam_final_loss`, the
  loss re-solved from zero at its final latent. Adam's learning rate is the one with the lowest such loss.
- JIIO runs with budgets K = 5, 10, ..., 80, each run timed from scratch; `jiio_ms_to_adam_loss` is the time of the
  smallest K whose re-solved loss is at most Adam's (the latent is scored exactly like Adam's). JIIO's α pair is
  the one that gets there soonest (the lowest loss at K = 80 when none does).
- `ratio` = adam_ms / jiio_ms_to_adam_loss; PSNRs are against the clean digits.

Prints one JSON object per task per line, then a summary object with the grids and the setup.

    python bench/jiio_vs_adam.py [--prior resources/models/mnist-prior.safetensors] [--count 64] [--device auto]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import use_shared_data  # noqa: E402

use_shared_data()

from engine.config import InverseConfig, JIIOConfig  # noqa: E402
from engine.device import device_name, resolve_device  # noqa: E402
from engine.models.mdeq.stored import load_decoder  # noqa: E402
from engine.datasets.mnist import held_out_digits  # noqa: E402
from engine.tasks.generative import to_signed  # noqa: E402
from engine.tasks.inverse import InverseTask  # noqa: E402
from engine.timing import timed  # noqa: E402

TASKS = {
    "denoise-0.2": {"corruption": "noise", "sigma": 0.2},
    "denoise-0.4": {"corruption": "noise", "sigma": 0.4},
    "inpaint-box20": {"corruption": "box", "box_size": 20},
    "inpaint-box10": {"corruption": "box", "box_size": 10},
    "inpaint-pixels50": {"corruption": "pixels", "pixel_fraction": 0.5},
}
ADAM_LRS = (0.1, 0.3, 1.0, 3.0)
JIIO_ALPHAS = ((0.3, 0.1), (1.0, 0.3), (3.0, 1.0), (10.0, 3.0))
K_LADDER = tuple(range(5, 85, 5))


def run_method(task: InverseTask, method: str, config: InverseConfig) -> dict:
    """One timed run of `method` under `config`, scored by re-solving from zero."""
    task.config = config
    (latent, _, _), ms = timed(task.device, lambda: task.solve(method))
    _, loss, quality = task.score(latent)
    return {"ms": ms, "loss": loss, "psnr": quality}


def bench_task(name: str, task: InverseTask, args: argparse.Namespace) -> dict:
    base = task.config
    run_method(task, "jiio", dataclasses.replace(base, jiio=dataclasses.replace(base.jiio, iterations=3)))  # warm-up
    run_method(task, "adam", dataclasses.replace(base, adam_steps=2))
    adam = {lr: run_method(task, "adam", dataclasses.replace(base, adam_steps=args.adam_steps, adam_lr=lr))
            for lr in ADAM_LRS}
    best_lr = min(adam, key=lambda lr: adam[lr]["loss"])
    target = adam[best_lr]["loss"]
    k_max = max(K_LADDER)
    tuning, ladders, reached_at = {}, {}, {}
    for alpha in JIIO_ALPHAS:
        budget = lambda k: dataclasses.replace(base, jiio=dataclasses.replace(base.jiio, alpha=alpha,  # noqa: E731
                                                                               iterations=k))
        tuning[alpha] = run_method(task, "jiio", budget(k_max))
        ladders[alpha] = {}
        for k in K_LADDER:
            ladders[alpha][k] = tuning[alpha] if k == k_max else run_method(task, "jiio", budget(k))
            if ladders[alpha][k]["loss"] <= target:
                reached_at[alpha] = k
                break
    if reached_at:
        best_alpha = min(reached_at, key=lambda a: ladders[a][reached_at[a]]["ms"])
    else:
        best_alpha = min(tuning, key=lambda a: tuning[a]["loss"])
    reached, ladder = reached_at.get(best_alpha), ladders[best_alpha]
    row = {"task": name, "adam_ms": round(adam[best_lr]["ms"], 1), "adam_final_loss": round(target, 4),
           "jiio_ms_to_adam_loss": None, "ratio": None, "psnr_adam": round(adam[best_lr]["psnr"], 3),
           "psnr_jiio": None, "jiio_iterations": reached, "adam_lr": best_lr, "jiio_alpha": list(best_alpha),
           "psnr_corrupted": round(task.evaluate()["psnr_corrupted"], 3),
           "jiio_k80": {k: round(v, 4) for k, v in tuning[best_alpha].items()},
           "adam_grid": {str(lr): {k: round(v, 4) for k, v in r.items()} for lr, r in adam.items()},
           "jiio_grid": {str(list(a)): {**{k: round(v, 4) for k, v in r.items()},
                                         "k_to_adam_loss": reached_at.get(a),
                                         "ms_to_adam_loss": round(ladders[a][reached_at[a]]["ms"], 1)
                                         if a in reached_at else None} for a, r in tuning.items()},
           "jiio_ladder": {str(k): {m: round(v, 4) for m, v in r.items()} for k, r in ladder.items()}}
    if reached is not None:
        hit = ladder[reached]
        row.update(jiio_ms_to_adam_loss=round(hit["ms"], 1), ratio=round(adam[best_lr]["ms"] / hit["ms"], 2),
                   psnr_jiio=round(hit["psnr"], 3))
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prior", default="", help="prior model file (default: the built-in MNIST prior)")
    parser.add_argument("--data", default="", help="MNIST folder (default: $DEQ_STUDIO_DATA/mnist; bench/shared_data.py)")
    parser.add_argument("--count", type=int, default=64, help="held-out digits per task (one batch)")
    parser.add_argument("--adam-steps", type=int, default=40)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    decoder, _ = load_decoder(args.prior, device)
    clean = to_signed(held_out_digits(args.data, args.count)[0], device)
    rows = []
    for name in args.tasks:
        config = InverseConfig(**TASKS[name], jiio=JIIOConfig(iterations=max(K_LADDER)))
        task = InverseTask(config, decoder, clean, device)
        rows.append(bench_task(name, task, args))
        print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"setup": {"device": device_name(device), "count": args.count, "adam_steps": args.adam_steps,
                                "adam_lr_grid": ADAM_LRS, "jiio_alpha_grid": JIIO_ALPHAS, "k_ladder": K_LADDER,
                                "solver": dataclasses.asdict(decoder.equilibrium_config.forward),
                                "adjoint": dataclasses.asdict(decoder.equilibrium_config.backward.adjoint)}}))
    return rows


if __name__ == "__main__":
    main()
