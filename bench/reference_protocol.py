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
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.data import shared_data_dir  # noqa: E402

MODELS = ["siren-inj", "isiren", "fourier-mfn", "fourier-imfn", "gabor-mfn", "gabor-imfn"]
"""In pairs, explicit then implicit, so that each family's gain is known as soon as its pair is done."""
COUNTERPART = {"isiren": "siren-inj", "fourier-imfn": "fourier-mfn", "gabor-imfn": "gabor-mfn"}
STEPS = 2000
RUNS = ROOT / "bench" / "runs" / "reference"
PROTOCOL = ["--preset", "full", "--protocol", "generalize", "--width", "256", "--layers", "1", "--input-scale", "128",
            "--spectral-norm", "--solver", "picard", "--solver-tol", "1e-3", "--solver-max-iter", "100",
            "--solver-stop-mode", "rel", "--backward", "neumann", "--backward-neumann-order", "1", "--lr", "1e-3",
            "--amortize", "--log-every", "50", "--eval-every", "500", "--checkpoint-every", "100", "--seed", "0"]
"""The authors' released configuration, as `deq-studio fit` flags."""
PAPER = {"siren-inj": "22.88 ± 3.0", "isiren": "24.28 ± 3.37", "fourier-mfn": "23.27 ± 3.18",
         "fourier-imfn": "24.88 ± .44", "gabor-mfn": "24.16 ± 3.35", "gabor-imfn": "24.91 ± 3.41"}
"""The (Implicit)² paper's natural-image test PSNR at 1L-256D (the slides in ../shared/seeds), mean ± std over its
images (Fourier-iMFN's std as printed there)."""
PAPER_GAIN = {"isiren": 1.40, "fourier-imfn": 1.61, "gabor-imfn": 0.75}
"""The paper's implicit − explicit gain of each family at 1L-256D (natural images), in dB."""


def fit_command(image: Path, model: str, folder: Path, device: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "fit", str(image), "--model", model, *PROTOCOL,
            "--steps", str(STEPS), "--device", device, "--out", str(folder)]


def rows_of(folder: Path) -> list[dict]:
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line: `resume` drops it
    return rows


def state_of(folder: Path) -> str:
    """new, partial (a checkpoint to resume) or done (a final evaluation written)."""
    rows = rows_of(folder)
    if rows and rows[-1].get("step") == STEPS and "psnr_test" in rows[-1]:
        return "done"
    return "partial" if (folder / "checkpoint.pt").is_file() else "new"


def run_until(command: list[str], deadline: float, env: dict) -> int:
    """Run `command`; past `deadline` ask it to stop (SIGTERM: it checkpoints and exits) and wait."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGTERM)
            return process.wait()
        time.sleep(2.0)
    return process.returncode


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=["kodim01", "kodim02"],
                        help="names in the real data's images512 folder")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--budget-min", type=float, default=None, help="stop (checkpointed) after this long")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of each run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--report-only", action="store_true", help="run nothing; tabulate the folders as they are")
    parser.add_argument("--runs", type=Path, default=RUNS, help="the folder of the run folders")
    args = parser.parse_args(argv)
    env = dict(os.environ, DEQ_STUDIO_DATA=str(shared_data_dir()))
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    deadline = time.monotonic() + (args.budget_min * 60 if args.budget_min else float("inf"))
    runs = []
    for name in args.images:
        image = shared_data_dir() / "images512" / f"{name}.png"
        for model in args.models:
            folder = args.runs / f"{name}-{model}"
            command = fit_command(image, model, folder, args.device)
            state = state_of(folder)
            if not args.report_only and state != "done" and time.monotonic() < deadline:
                step = (rows_of(folder) or [{"step": 0}])[-1]["step"]
                print(f"{name} {model}: {state} at step {step}", file=sys.stderr, flush=True)
                again = [sys.executable, "-m", "engine.cli", "resume", str(folder)]
                run_until(again if state == "partial" else command, deadline, env)
                state = state_of(folder)
            rows = rows_of(folder)
            last = rows[-1] if rows else {}
            times = [r["ms_per_step"] for r in rows if "ms_per_step" in r][1:]
            runs.append({"image": name, "model": model, "state": state, "step": last.get("step", 0),
                         "psnr_test": last.get("psnr_test"), "psnr_train": last.get("eval_psnr_train"),
                         "ms_per_step": float(np.median(times)) if times else None,
                         "command": " ".join(["python"] + command[1:]).replace(str(ROOT) + "/", "")})
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
