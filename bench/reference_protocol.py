"""The (Implicit)² image-generalization table under the authors' reference protocol, run as resumable CLI runs.

Each (image, model) is one `deq-studio fit` run folder under `bench/runs/reference/` (ignored by git): 512×512
images, trained on pixels [::2, ::2] and scored on [1::2, 1::2]; 2000 steps of Adam at lr 1e-3, full batch; input
scale 128; spectral normalization on every model, explicit ones included; forward solve by plain fixed-point
iteration to a relative 1e-3 (at most 100 iterations), run at the first step only and amortized after; one-step
(Neumann T = 1) backward; 1 layer of width 256. A run that was cut off (a time budget, a session ending) is
resumed from its checkpoint by the next call, so the table fills in across sessions:

    python bench/reference_protocol.py [--images kodim01 kodim02] [--models ...] [--budget-min 60] [--threads 1]

Prints one JSON object (per model: test PSNR mean ± std over the finished images, train PSNR, ms per step; per
implicit family the gain over its explicit counterpart; every run's command and state) on stdout, and the
markdown table on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fit_runs import deadline_after, run_environment, run_fit  # noqa: E402
from bench.paper import GAIN_NATURAL, GENERALIZATION_NATURAL  # noqa: E402
from bench.shared_data import shared_data_dir  # noqa: E402

MODELS = ["siren-inj", "isiren", "fourier-mfn", "fourier-imfn", "gabor-mfn", "gabor-imfn"]
"""In pairs, explicit then implicit, so that each family's gain is known as soon as its pair is done."""
COUNTERPART = {"isiren": "siren-inj", "fourier-imfn": "fourier-mfn", "gabor-imfn": "gabor-mfn"}
STEPS = 2000
RUNS = ROOT / "bench" / "runs" / "reference"
PROTOCOL = ["--preset", "full", "--protocol", "generalize", "--width", "256", "--layers", "1", "--input-scale", "128",
            "--spectral-norm", "--solver", "picard", "--solver-tol", "1e-3", "--solver-max-iter", "100",
            "--solver-stop-mode", "rel", "--backward", "neumann", "--backward-neumann-order", "1", "--lr", "1e-3",
            "--amortize", "--log-every", "50", "--eval-every", "500", "--seed", "0"]
"""The authors' released configuration, as `deq-studio fit` flags."""
PAPER, PAPER_GAIN = GENERALIZATION_NATURAL, GAIN_NATURAL


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=None,
                        help="names in the real data's images512 folder (default: kodim01 kodim02; with "
                             "--report-only, every image with a run in --runs)")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--budget-min", type=float, default=None, help="stop (checkpointed) after this long")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of each run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=STEPS, help="the protocol's 2000 (fewer: a smoke test)")
    parser.add_argument("--checkpoint-every", type=int, default=None,
                        help="steps between checkpoints (default: 100 on a CPU, 1000 on a GPU, where 100 steps take "
                             "less time than writing one; a budget's stop checkpoints too)")
    parser.add_argument("--report-only", action="store_true", help="run nothing; tabulate the folders as they are")
    parser.add_argument("--runs", type=Path, default=RUNS, help="the folder of the run folders")
    args = parser.parse_args(argv)
    env, deadline = run_environment(args.threads), deadline_after(args.budget_min)
    every = args.checkpoint_every or (1000 if args.device == "cuda" else 100)  # each holds the warm starts, 68 MB
    flags = [*PROTOCOL, "--checkpoint-every", str(every)]
    images = args.images or (sorted({folder.name.split("-")[0] for folder in args.runs.glob("*-*")})
                             if args.report_only and args.runs.is_dir() else ["kodim01", "kodim02"])
    runs = []
    for name in images:
        image = shared_data_dir() / "images512" / f"{name}.png"
        for model in args.models:
            run = run_fit(image, model, args.runs / f"{name}-{model}", flags, args.steps, args.device, deadline, env,
                          args.report_only)
            runs.append({"image": name, "model": model, "state": run["state"], "step": run["step"],
                         "psnr_test": run["final"].get("psnr_test"), "psnr_train": run["final"].get("eval_psnr_train"),
                         "ms_per_step": run["ms_per_step"], "command": run["command"]})
    table = tabulate(runs, args.models)
    print(json.dumps(table, indent=2))
    print(markdown(table), file=sys.stderr)
    return table


def tabulate(runs: list[dict], models: list[str]) -> dict:
    table: dict = {"models": {}, "runs": runs}
    for model in models:
        done = [r for r in runs if r["model"] == model and r["state"] == "done"]
        if done:
            tests = np.array([r["psnr_test"] for r in done])
            table["models"][model] = {
                "psnr_test_mean": float(tests.mean()), "psnr_test_std": float(tests.std()), "images": len(done),
                "psnr_train_mean": float(np.mean([r["psnr_train"] for r in done])),
                "ms_per_step": float(np.median([r["ms_per_step"] for r in done]))}
    table["implicit_vs_explicit"] = {}
    for implicit, explicit in COUNTERPART.items():
        pairs = [(a["psnr_test"], b["psnr_test"]) for a in runs for b in runs
                 if a["model"] == implicit and b["model"] == explicit and a["image"] == b["image"]
                 and a["state"] == b["state"] == "done"]
        if pairs:
            gains = [a - b for a, b in pairs]
            table["implicit_vs_explicit"][implicit] = {"explicit": explicit, "images": len(pairs),
                                                       "psnr_test_gain_db": float(np.mean(gains))}
    return table


def markdown(table: dict) -> str:
    lines = ["| model | test PSNR (ours) | test PSNR (paper) | train PSNR | ms/step | images |",
             "|---|---|---|---|---|---|"]
    for model, row in table["models"].items():
        lines.append(f"| {model} | {row['psnr_test_mean']:.2f} ± {row['psnr_test_std']:.2f} | {PAPER[model]} | "
                     f"{row['psnr_train_mean']:.2f} | {row['ms_per_step']:.0f} | {row['images']} |")
    for implicit, gain in table["implicit_vs_explicit"].items():
        lines.append(f"| {implicit} − {gain['explicit']} | {gain['psnr_test_gain_db']:+.2f} dB | "
                     f"{PAPER_GAIN[implicit]:+.2f} dB | | | {gain['images']} |")
    pending = [f"{r['image']}-{r['model']} ({r['state']}, step {r['step']})" for r in table["runs"]
               if r["state"] != "done"]
    if pending:
        lines.append(f"\nNot finished yet: {', '.join(pending)}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
