"""The (Implicit)² image-generalization table on real photographs: six 1-layer models, same width, same steps.

Each model is trained on pixels [::2, ::2] of every image (25%) and scored on the disjoint [1::2, 1::2] (25%),
re-solving from zero. Prints one JSON object on stdout:

    {model: {"psnr_test_mean", "psnr_test_std", "psnr_train_mean", "ms_per_step"}, ...,
     "implicit_vs_explicit": {implicit: {"explicit": name, "psnr_test_gain_db", "step_time_ratio"}},
     "setup": {...}}

and a markdown table (ours beside the paper's) on stderr.

    python bench/inr_table.py [--images DIR (default: the real data's images/)] [--width 128] [--steps 300] [--device auto]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import shared_data_dir, use_shared_data  # noqa: E402

use_shared_data()

from engine.config import FitConfig, ModelConfig  # noqa: E402
from engine.device import device_name, resolve_device  # noqa: E402
from engine.models.inr import COUNTERPART  # noqa: E402
from engine.media import load_image  # noqa: E402
from engine.tasks import FitTask  # noqa: E402

MODELS = ["siren-inj", "fourier-mfn", "gabor-mfn", "isiren", "fourier-imfn", "gabor-imfn"]
PAPER: dict[str, str] = {}
"""The paper's test PSNR per model, where it could be recovered (left empty otherwise)."""


def fit_one(path: Path, model: str, args: argparse.Namespace) -> dict[str, float]:
    config = FitConfig(model=ModelConfig(model=model, width=args.width), protocol="generalize", steps=args.steps,
                       seed=args.seed, device=args.device)
    task = FitTask(config, load_image(path), resolve_device(args.device))
    times = [task.step()["ms_per_step"] for _ in range(args.steps)]
    result = task.evaluate(final=True)
    return {"psnr_test": result["psnr_test"], "psnr_train": result["eval_psnr_train"],
            "ms_per_step": statistics.median(times[min(5, len(times) - 1):])}


def markdown(table: dict) -> str:
    lines = ["| model | held-out PSNR (ours) | train PSNR (ours) | ms/step (ours) | held-out PSNR (paper) |",
             "|---|---|---|---|---|"]
    for model in [m for m in MODELS if m in table]:
        row = table[model]
        lines.append(f"| {model} | {row['psnr_test_mean']:.2f} ± {row['psnr_test_std']:.2f} | "
                     f"{row['psnr_train_mean']:.2f} | {row['ms_per_step']:.1f} | {PAPER.get(model, 'n/a')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=shared_data_dir() / "images")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS, help="a subset of the six models")
    args = parser.parse_args(argv)
    images = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[: args.limit]
    if not images:
        parser.error(f"no images in {args.images}")
    start = time.perf_counter()
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in args.models}
    for path in images:
        for model in args.models:
            runs[model].append(fit_one(path, model, args))
            print(f"{path.name} {model}: {runs[model][-1]['psnr_test']:.2f} dB", file=sys.stderr, flush=True)
    table: dict = {}
    for model, rows in runs.items():
        tests = np.array([r["psnr_test"] for r in rows])
        table[model] = {"psnr_test_mean": float(tests.mean()), "psnr_test_std": float(tests.std()),
                        "psnr_train_mean": float(np.mean([r["psnr_train"] for r in rows])),
                        "ms_per_step": float(np.median([r["ms_per_step"] for r in rows]))}
    table["implicit_vs_explicit"] = {
        imp: {"explicit": exp,
              "psnr_test_gain_db": table[imp]["psnr_test_mean"] - table[exp]["psnr_test_mean"],
              "step_time_ratio": table[imp]["ms_per_step"] / table[exp]["ms_per_step"]}
        for imp, exp in COUNTERPART.items() if imp in table and exp in table
    }
    table["setup"] = {"images": [p.name for p in images], "width": args.width, "layers": 1, "steps": args.steps,
                      "protocol": "generalize", "device": device_name(resolve_device(args.device)),
                      "wall_s": round(time.perf_counter() - start, 1)}
    print(json.dumps(table))
    print(markdown(table), file=sys.stderr)
    return table


if __name__ == "__main__":
    main()
