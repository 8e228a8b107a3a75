"""Why (or whether) implicit models generalize better than explicit ones: ablations of the reference protocol.

Each family (SIREN, Fourier, Gabor) is fitted on the training pixels [::2, ::2] of 256² Kodak images with the
(Implicit)² reference settings (1 layer, width 256, input scale 128, Adam 1e-3, spectral normalization on both sides,
Picard to 1e-3, amortized, Neumann T = 1), scored on [1::2, 1::2] every `--eval-every` steps, and varied one
setting at a time:

- the backward: Neumann T = 3, or the exact adjoint (implicit side);
- the forward tolerance 1e-4 instead of 1e-3 (implicit side: its first solve and every evaluation);
- the input scale 64 or 256 instead of 128 (both sides);
- no spectral normalization on the explicit side (as the explicit baselines are usually trained);
- the data: `--skimage NAME` adds a colour photograph and its grayscale copy (three targets per pixel or one).

For each implicit run it also measures how deep its equilibrium is: the evaluation's Picard iterations and the
observed contraction (the geometric mean ratio of successive residuals of a solve from zero), at initialization
and after training; and it sets each model's held-out PSNR beside bilinear interpolation of the same pixels.
Runs are `deq-studio fit` run folders under `bench/runs/ablations/` (resumed where cut off). Prints JSON.

    python bench/gain_ablations.py [--families siren fourier gabor] [--images kodim02 kodim05] [--steps 1000]
                                   [--budget-min 60] [--report-only]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fit_runs import deadline_after, rows_of, run_environment, run_fit  # noqa: E402
from bench.report import REFERENCE, interpolation_baseline  # noqa: E402
from bench.shared_data import shared_data_dir  # noqa: E402

FAMILIES = {"siren": ("isiren", "siren-inj"), "fourier": ("fourier-imfn", "fourier-mfn"),
            "gabor": ("gabor-imfn", "gabor-mfn")}
VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    "reference": ([], []),
    "neumann-3": (["--backward-neumann-order", "3"], []),
    "exact-backward": (["--backward", "exact"], []),
    "tol-1e-4": (["--solver-tol", "1e-4"], []),
    "scale-64": (["--input-scale", "64"], ["--input-scale", "64"]),
    "scale-256": (["--input-scale", "256"], ["--input-scale", "256"]),
    "explicit-without-sn": ([], ["--no-spectral-norm"]),
}
"""Name → (extra flags of the implicit run, extra flags of the explicit run); an empty list on a side reuses that
side's reference run."""


def skimage_pair(name: str, folder: Path, size: int = 256) -> list[Path]:
    """scikit-image's colour photograph `name`, centre-cropped square and downsampled with antialiasing to `size`²
    (as the paper's images were downsampled), written in colour and in grayscale: the same picture with three
    targets per pixel or one."""
    import skimage.data
    from PIL import Image

    pixels = getattr(skimage.data, name)()
    side = min(pixels.shape[:2])
    top, left = (pixels.shape[0] - side) // 2, (pixels.shape[1] - side) // 2
    image = Image.fromarray(pixels[top:top + side, left:left + side]).resize((size, size), Image.LANCZOS)
    folder.mkdir(parents=True, exist_ok=True)
    colour, gray = folder / f"{name}.png", folder / f"{name}-gray.png"
    image.save(colour)
    image.convert("L").save(gray)
    return [colour, gray]


def contraction(folder: Path, trained: bool) -> dict[str, float]:
    """Picard iterations and the observed contraction of a solve from zero on the run's training coordinates, with
    its trained weights or (trained=False) its weights at initialization."""
    from engine.runs import reopen_run
    from engine.tasks.fit import FitTask

    task = reopen_run(folder, torch.device("cpu")).task
    if not trained:
        task = FitTask(dataclasses.replace(task.config, steps=0), task.signal, torch.device("cpu"))
    model = task.model.eval()
    with torch.no_grad():
        _, stats = model.predict(task.train_x)
    trace = [float(t) for t in stats[0].residual_max_trace]
    ratios = [b / a for a, b in zip(trace, trace[1:]) if a > 0 and b > 0]
    rate = math.exp(np.mean(np.log(ratios))) if ratios else float("nan")
    with torch.no_grad():
        norm = float(torch.linalg.matrix_norm(model.normalized_weights()[0], ord=2))
    return {"iterations": int(stats[0].nstep), "contraction": round(rate, 3), "weight_norm": round(norm, 3)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=["siren", "fourier"], choices=list(FAMILIES))
    parser.add_argument("--images", nargs="*", default=["kodim02", "kodim05"], help="names in the images/ folder")
    parser.add_argument("--skimage", nargs="*", default=[],
                        help="scikit-image photographs (e.g. astronaut), each in colour and in grayscale")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--budget-min", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--runs", type=Path, default=ROOT / "bench" / "runs" / "ablations")
    args = parser.parse_args(argv)
    env, deadline = run_environment(args.threads), deadline_after(args.budget_min)
    flags = [*REFERENCE, "--input-scale", "128", "--width", "256", "--log-every", "50",
             "--eval-every", str(args.eval_every),
             "--checkpoint-every", "250"]
    files = [shared_data_dir() / "images" / f"{name}.png" for name in args.images]
    files += [path for name in args.skimage for path in skimage_pair(name, args.runs / "images")]
    table: dict = {"interpolation_baseline": interpolation_baseline(files), "variants": {}}
    for variant in args.variants:
        implicit_flags, explicit_flags = VARIANTS[variant]
        for family in args.families:
            implicit, explicit = FAMILIES[family]
            for file in files:
                sides = {}
                for model, extra, tag in ((implicit, implicit_flags, variant), (explicit, explicit_flags, variant)):
                    tag = tag if extra or variant == "reference" else "reference"
                    folder = args.runs / f"{file.stem}-{model}-{tag}"
                    sides[model] = run_fit(file, model, folder, flags + extra, args.steps, "cpu", deadline, env,
                                           args.report_only)
                    sides[model]["trajectory"] = {int(r["step"]): round(r["psnr_test"], 2)
                                                  for r in rows_of(folder) if "psnr_test" in r}
                entry = {"image": file.stem, "family": family, "variant": variant, **{
                    m: {"psnr_test": s["final"].get("psnr_test"), "psnr_train": s["final"].get("eval_psnr_train"),
                        "eval_iters": s["final"].get("eval_iters"), "trajectory": s["trajectory"],
                        "state": s["state"], "command": s["command"]} for m, s in sides.items()}}
                if all(s["state"] == "done" for s in sides.values()):
                    entry["gain_db"] = round(sides[implicit]["final"]["psnr_test"]
                                             - sides[explicit]["final"]["psnr_test"], 2)
                    folder = args.runs / f"{file.stem}-{implicit}-{variant if implicit_flags else 'reference'}"
                    entry["depth"] = {"init": contraction(folder, False), "trained": contraction(folder, True)}
                table["variants"].setdefault(variant, []).append(entry)
                print(f"{variant} {family} {file.stem}: gain {entry.get('gain_db')}", file=sys.stderr, flush=True)
    table["summary"] = {variant: {family: round(float(np.mean(gains)), 2) for family in args.families
                                  if (gains := [e["gain_db"] for e in entries
                                                if e["family"] == family and "gain_db" in e])}
                        for variant, entries in table["variants"].items()}
    print(json.dumps(table, indent=1))
    return table


if __name__ == "__main__":
    main()
