"""The (Implicit)² natural-image table on the paper's own 16 images (div2k512, RGB), ours beside the authors' code.

Ours: each (image, model) is one resumable `deq-studio fit` run under `bench/runs/div2k/` at the reference protocol
(bench/reference_protocol.py: 1L-256D, input scale 128, spectral norm, Picard to relative 1e-3 at the first step only,
one-step backward, Adam 1e-3, full batch, 2000 steps), held-out pixels scored every 250 steps.

The authors' code (the oracle): their unmodified `scripts/train_2d_image.py` from a checkout of locuslab/ImpSq kept
outside this project (`--authors-code`), run by a Python that has its requirements (`--authors-python`), one image
and one filter family (its implicit and explicit model) per call, in `bench/runs/div2k-authors/<image>/<family>/`.
Nothing of their code is changed; what differs from their release is the data file (`data/image/data_div2k.npz` in
the call's folder, written from the same JPEG our loader decodes), the device, the step count and a seed (torch and
numpy seeded 0 before their script runs). Their script keeps no checkpoint: a call cut off by the budget starts that
model again next time. Run folders are not kept with the project: a run the newest committed table
(`bench/results/*-div2k.json`, `--recorded`) holds as finished is taken from it and not run again, so the table
fills in across sessions and machines.

    python bench/div2k_table.py [--images image_000 image_003] [--models ...] [--budget-min 60] [--threads 1]
        [--authors-code DIR --authors-python PY] [--only ours|authors] [--report-only] [--write PREFIX]

Prints one JSON object on stdout ({"images", "models": {name: {"ours_mean", "ours_std", "authors_mean",
"authors_std", "paper", ...}}, "gains": {family: {"ours", "authors", "paper"}}, per-image numbers and held-out
curves), the markdown table on stderr; `--write PREFIX` also writes PREFIX.json, PREFIX.md and the curves as
PREFIX-curves.png.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fit_runs import deadline_after, relative, rows_of, run_environment, run_fit  # noqa: E402
from bench.paper import GAIN_NATURAL, GENERALIZATION_NATURAL  # noqa: E402
from bench.reference_protocol import COUNTERPART, MODELS, PROTOCOL, STEPS  # noqa: E402
from bench.shared_data import shared_data_dir  # noqa: E402

RUNS = ROOT / "bench" / "runs" / "div2k"
AUTHORS_RUNS = ROOT / "bench" / "runs" / "div2k-authors"
RESULTS = ROOT / "bench" / "results"
EVAL_EVERY = 250
"""Held-out PSNR every 250 steps: the curve, at eight points (each evaluation solves the 512² grid from zero)."""
FAMILY = {"siren-inj": "siren_like", "isiren": "siren_like", "fourier-mfn": "fourier", "fourier-imfn": "fourier",
          "gabor-mfn": "gabor", "gabor-imfn": "gabor"}
"""Our model name → the authors' filter name."""
GAIN_NAMES = {"isiren": "siren", "fourier-imfn": "fourier", "gabor-imfn": "gabor"}
DIFFERENCES = (
    "The same weights give the same numbers (`bench/authors_parity.py`, results in `*-authors-parity.json`): "
    "explicit outputs and gradients within 1e-6–6e-6, one amortized implicit step within 5e-6.",
    "A cold solve (evaluation, the first step) stops at the same iteration in both; theirs applies f once more after "
    "it, ours returns the iterate: outputs differ by at most 2.9e-3 at width 16, inside the solver's 1e-3 relative "
    "tolerance (given that one more application, 5e-6). Held-out PSNR is evaluated that way at every point of the "
    "curves.",
    "Their spectral norm runs 5 power iterations on every call of a layer, and they never switch to eval mode, so "
    "inside every evaluation's solve from zero σ's estimate moves on and the weight being iterated changes: the model "
    "scored is not quite the model trained. Ours scores with the vectors training left (5 iterations per training "
    "forward, as theirs). Measured from the same weights, each code training its copy 500 steps on image_003 at 256² "
    "(`bench/authors_parity.py --train 500 --image …`, `*-authors-train-alike.json`): their iSIREN scores 26.37 dB "
    "held out as their script scores it and 26.55 dB with its trained vectors (−0.17 dB, the largest of the three: "
    "Fourier-iMFN +0.04, Gabor-iMFN −0.04). It accounts for much of our iSIREN's lead over theirs on image_003 at "
    "512² (+0.37 dB), the rest being the spread of the next item.",
    "From the same weights, the two trained copies differ by −0.17 … +0.08 dB (scored alike: iSIREN ours 26.52 / "
    "theirs 26.55, Fourier-iMFN 25.55 / 25.47, Gabor-iMFN 25.83 / 26.00 dB): their first step starts from f applied "
    "once more after the cold solve, 2e-4 apart in z, and the trajectories part from there (with our first step "
    "started from the same z, losses agree to 2e-7 and gradients to 5e-6 over the first steps compared). Two "
    "valid trajectories of one model, of the size of the spread between seeds.",
    "Their coordinates are (column, row), ours (row, column); the filters' frequencies are drawn i.i.d., so this only "
    "changes which random draw a model gets. No seed is set in their script (we seed 0 before it runs). The spread "
    "between draws, the yardstick of the ours − authors' column, measured with ours on image_003 downsampled to "
    "256² (input scale 64, 500 steps, `deq-studio fit` with the reference flags and `--seed 0…3`): Fourier-iMFN "
    "25.50 ± 0.07 dB held out (25.40–25.58), Fourier-MFN 23.65 ± 0.02 dB, their difference +1.73 to +1.94 dB.",
    "The first Gabor filter's α is 6 in theirs (get_filter's default) and 2 × gabor_alpha = 6 in ours; their "
    "Fourier `x_map_2` is a parameter never used; their γ's ReLU has zero gradient at 0: none changes a number.",
    "PSNR, clamping, colour and the pixel split are checked from the JPEG itself by "
    "`tests/engine/tasks/test_div2k_protocol.py`, and the authors' data file is written from the same decoded pixels.",
)
"""What differs between their code and ours on this protocol, with its measured effect (the report's last section)."""


def authors_key(model: str, width: int = 256, layers: int = 1) -> str:
    """The name the authors' script gives `model` in its summary (get_summary_dict's tag)."""
    implicit = model in COUNTERPART
    return f"{'DEQ-' if implicit else ''}{FAMILY[model].capitalize()}-MFN{layers}L{width}D"


def our_flags() -> list[str]:
    flags = list(PROTOCOL)
    flags[flags.index("--eval-every") + 1] = str(EVAL_EVERY)
    return flags


def run_ours(image: Path, model: str, steps: int, device: str, deadline: float, env: dict, only_report: bool,
             runs: Path) -> dict:
    folder = runs / f"{image.stem}-{model}"
    every = "1000" if device == "cuda" else "100"  # as bench/reference_protocol.py
    run = run_fit(image, model, folder, [*our_flags(), "--checkpoint-every", every], steps, device, deadline, env,
                  only_report)
    curve = [[row["step"], row["psnr_test"]] for row in rows_of(folder) if row.get("psnr_test") is not None]
    return {"state": run["state"], "step": run["step"], "psnr_test": run["final"].get("psnr_test"),
            "psnr_train": run["final"].get("eval_psnr_train"), "ms_per_step": run["ms_per_step"], "curve": curve,
            "command": run["command"]}


def write_authors_data(image: Path, work: Path) -> None:
    """Their script reads ./data/image/data_div2k.npz: `test_data` (and an unused `train_data`) as uint8 (N, 512, 512,
    3); here the one image, decoded as our loader decodes it."""
    from engine.media.image import decoded

    pixels = np.asarray(decoded(image, 512).convert("RGB"))[None]
    if pixels.shape != (1, 512, 512, 3):
        raise SystemExit(f"{image.name}: the authors' script needs a 512×512 RGB image, this one is {pixels.shape}")
    target = work / "data" / "image" / "data_div2k.npz"
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, train_data=pixels, test_data=pixels)


AUTHORS_LAUNCH = ("import runpy, sys, numpy, torch; torch.manual_seed(0); numpy.random.seed(0); "
                  "script = sys.argv[1]; sys.argv = sys.argv[1:]; runpy.run_path(script, run_name='__main__')")
"""Seeds torch and numpy, then runs their script as `python script.py ARGS` would (their code is not touched)."""


def authors_summary(log_dir: Path) -> dict:
    path = log_dir / "div2k_summary.pth"
    if not path.is_file():
        return {}
    import torch

    numpy_types = [np._core.multiarray.scalar, np._core.multiarray._reconstruct, np.ndarray, np.dtype,
                   np.dtypes.Float32DType, np.dtypes.Float64DType, np.dtypes.Int64DType]
    with torch.serialization.safe_globals(numpy_types):  # their summary holds numpy arrays and scalars; nothing runs
        return torch.load(path, map_location="cpu", weights_only=True)


def run_authors(image: Path, family: str, steps: int, device: str, deadline: float, env: dict, code: Path,
                python: str, runs: Path) -> None:
    """One call of their script for `family` (its implicit and explicit model) on `image`, unless both are done."""
    work = runs / image.stem
    log_dir = work / family
    summary = authors_summary(log_dir)
    models = [model for model in FAMILY if FAMILY[model] == family]
    if all(summary.get(authors_key(model), {}).get("finished") for model in models):
        return  # both models of the family (a summary cut off after the first holds only that one)
    if time.monotonic() >= deadline:
        return
    write_authors_data(image, work)
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [python, "-c", AUTHORS_LAUNCH, str(code / "scripts" / "train_2d_image.py"), "--dataset", "nature",
               "--experiment_id", "div2k", "--log_dir", str(log_dir.resolve()), "--filters", family,
               "--network_specs", "1,256", "--input_scale", "128", "--lr", "1e-3", "--lr_decay", "1",
               "--max_train_iters", str(steps), "--log_freq", "50", "--device", device]
    if summary:
        command.append("--continue_run")  # skips the model already finished
    print(f"authors {image.stem} {family}: {'continuing' if summary else 'new'}", file=sys.stderr, flush=True)
    # their --continue_run reads its own pickle, which torch ≥ 2.6 refuses by default
    process = subprocess.Popen(command, cwd=work, env=dict(env, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1"),
                               stdout=subprocess.DEVNULL, stderr=open(log_dir / "stderr.txt", "a"))
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGTERM)
            process.wait()
            return
        time.sleep(1.0)


def authors_result(image: Path, model: str, steps: int, runs: Path) -> dict:
    entry = authors_summary(runs / image.stem / FAMILY[model]).get(authors_key(model))
    if not entry or not entry["finished"]:
        return {"state": "partial" if entry else "new"}
    results = entry["results"]
    test, train = results["test_psnr"][0], results["train_psnr"][0]
    curve = [[50 * (i + 1), float(value)] for i, value in enumerate(test)]
    if curve[-1][0] != steps:
        return {"state": "other steps"}
    times = results["train_step_time"][0][1:]  # the first step solves from zero
    return {"state": "done", "psnr_test": float(test[-1]), "psnr_train": float(train[-1]),
            "ms_per_step": 1000 * float(np.median(times)), "curve": curve,
            "forward_steps": float(results["avg_forward_step"][0])}


def stats(values: list[float]) -> tuple[float | None, float | None]:
    return (float(np.mean(values)), float(np.std(values))) if values else (None, None)


def recorded(path: Path | None, images: list[str], models: list[str]) -> tuple[dict, dict]:
    """The finished runs an earlier `--write` recorded (its JSON), as (ours, authors) results by (image, model): run
    folders are not kept with the project, the table is, so a later call completes it without running them again."""
    ours: dict = {}
    authors: dict = {}
    if path is None or not path.is_file():
        return ours, authors
    table = json.loads(path.read_text())
    if table.get("protocol", {}).get("steps") != STEPS:
        return ours, authors
    for image in images:
        for model in models:
            cell = table.get("per_image", {}).get(image, {}).get(model)
            curves = table.get("curves", {}).get(image, {}).get(model, {})
            for who, results in (("ours", ours), ("authors", authors)):
                if cell and cell.get(who) is not None:
                    results[image, model] = {"state": "done", "step": STEPS, "psnr_test": cell[who],
                                             "psnr_train": cell.get(f"{who}_train"),
                                             "ms_per_step": cell.get(f"{who}_ms_per_step"),
                                             "curve": curves.get(who, []), "recorded": str(path.name)}
    return ours, authors


def tabulate(images: list[str], models: list[str], ours: dict, authors: dict) -> dict:
    table: dict = {"images": images, "protocol": {"ours": relative(" ".join(our_flags())), "steps": STEPS},
                   "models": {}, "gains": {}, "per_image": {}, "curves": {}}
    for model in models:
        mine = [ours[i, model]["psnr_test"] for i in images if ours[i, model]["state"] == "done"]
        theirs = [authors[i, model]["psnr_test"] for i in images if authors[i, model]["state"] == "done"]
        (ours_mean, ours_std), (authors_mean, authors_std) = stats(mine), stats(theirs)
        times = [ours[i, model]["ms_per_step"] for i in images if ours[i, model].get("ms_per_step")]
        their_times = [authors[i, model]["ms_per_step"] for i in images if authors[i, model].get("ms_per_step")]
        table["models"][model] = {
            "ours_mean": ours_mean, "ours_std": ours_std, "ours_images": len(mine),
            "authors_mean": authors_mean, "authors_std": authors_std, "authors_images": len(theirs),
            "paper": GENERALIZATION_NATURAL[model],
            "ours_ms_per_step": float(np.median(times)) if times else None,
            "authors_ms_per_step": float(np.median(their_times)) if their_times else None}
    for image in images:
        table["per_image"][image] = {}
        table["curves"][image] = {}
        for model in models:
            mine, theirs = ours[image, model], authors[image, model]
            both = mine["state"] == theirs["state"] == "done"
            table["per_image"][image][model] = {
                "ours": mine.get("psnr_test"), "authors": theirs.get("psnr_test"),
                "ours_minus_authors": mine["psnr_test"] - theirs["psnr_test"] if both else None,
                "ours_train": mine.get("psnr_train"), "authors_train": theirs.get("psnr_train"),
                "ours_ms_per_step": mine.get("ms_per_step"), "authors_ms_per_step": theirs.get("ms_per_step"),
                "ours_state": f"{mine['state']} (step {mine.get('step', 0)})", "authors_state": theirs["state"]}
            table["curves"][image][model] = {"ours": mine.get("curve", []), "authors": theirs.get("curve", [])}
    for implicit, explicit in COUNTERPART.items():
        if implicit not in models or explicit not in models:
            continue
        gains = {}
        for who, results in (("ours", ours), ("authors", authors)):
            pairs = [results[i, implicit]["psnr_test"] - results[i, explicit]["psnr_test"] for i in images
                     if results[i, implicit]["state"] == results[i, explicit]["state"] == "done"]
            gains[who] = float(np.mean(pairs)) if pairs else None
            gains[f"{who}_images"] = len(pairs)
            gains[f"{who}_per_image"] = {i: results[i, implicit]["psnr_test"] - results[i, explicit]["psnr_test"]
                                         for i in images
                                         if results[i, implicit]["state"] == results[i, explicit]["state"] == "done"}
        table["gains"][GAIN_NAMES[implicit]] = {**gains, "paper": GAIN_NATURAL[implicit],
                                               "models": f"{implicit} − {explicit}"}
    return table


def number(value: float | None, signed: bool = False) -> str:
    return "—" if value is None else (f"{value:+.2f}" if signed else f"{value:.2f}")


def markdown(table: dict) -> str:
    lines = ["| model | held-out PSNR (ours) | authors' code | paper | ours − authors' | ms/step ours / theirs |",
             "|---|---|---|---|---|---|"]
    for model, row in table["models"].items():
        differences = [table["per_image"][i][model]["ours_minus_authors"] for i in table["images"]]
        differences = [d for d in differences if d is not None]
        spread = (f"{min(differences):+.2f} … {max(differences):+.2f}" if len(differences) > 1
                  else number(differences[0], True) if differences else "—")
        times = f"{number(row['ours_ms_per_step']).split('.')[0]} / {number(row['authors_ms_per_step']).split('.')[0]}"
        lines.append(f"| {model} | {number(row['ours_mean'])} ± {number(row['ours_std'])} ({row['ours_images']}) | "
                     f"{number(row['authors_mean'])} ± {number(row['authors_std'])} ({row['authors_images']}) | "
                     f"{row['paper']} | {spread} | {times} |")
    for family, gain in table["gains"].items():
        lines.append(f"| {gain['models']} | {number(gain['ours'], True)} dB ({gain['ours_images']}) | "
                     f"{number(gain['authors'], True)} dB ({gain['authors_images']}) | {gain['paper']:+.2f} dB | | |")
    lines += ["", "Per image, held-out PSNR at the last step (ours / authors' code):", "",
              "| image | " + " | ".join(table["models"]) + " |", "|---|" + "---|" * len(table["models"])]
    for image, row in table["per_image"].items():
        lines.append(f"| {image} | " + " | ".join(f"{number(cell['ours'])} / {number(cell['authors'])}"
                                                 for cell in row.values()) + " |")
    gains = table["gains"]
    lines += ["", "Per image, implicit − explicit in dB (ours / authors' code):", "",
              "| image | " + " | ".join(gain["models"] for gain in gains.values()) + " |",
              "|---|" + "---|" * len(gains)]
    for image in table["images"]:
        lines.append(f"| {image} | " + " | ".join(
            f"{number(gain['ours_per_image'].get(image), True)} / {number(gain['authors_per_image'].get(image), True)}"
            for gain in gains.values()) + " |")
    lines += ["", "Where the two codes differ, and what each difference measures:", ""]
    lines += [f"- {difference}" for difference in DIFFERENCES]
    lines += ["", "The ms/step columns are the runs' medians, each run under whatever else the machine ran then. The "
              "same training step of both codes with the same weights, timed in turn in one process, is "
              "`bench/authors_parity.py --time` (results in `*-authors-step-time.json`)."]
    return "\n".join(lines)


def plot_curves(table: dict, path: Path) -> None:
    """Held-out PSNR against step: one row of panels per image, one panel per family; implicit and explicit in two
    colours, ours solid and the authors' code dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = [(implicit, explicit) for implicit, explicit in COUNTERPART.items()
                if implicit in table["models"] and explicit in table["models"]]
    images = table["images"]
    figure, axes = plt.subplots(len(images), len(families), figsize=(4.2 * len(families), 3.2 * len(images)),
                                squeeze=False, sharex=True)
    for row, image in enumerate(images):
        for column, pair in enumerate(families):
            axis = axes[row][column]
            for model, colour in zip(pair, ("tab:red", "tab:blue")):
                for who, style in (("ours", "-"), ("authors", "--")):
                    curve = table["curves"][image][model][who]
                    if curve:
                        steps, values = zip(*curve)
                        axis.plot(steps, values, style, color=colour, label=f"{model} ({who})")
            axis.set_title(f"{image}: {pair[0]} against {pair[1]}", fontsize=9)
            axis.set_xlabel("step")
            axis.set_ylabel("held-out PSNR (dB)")
            axis.grid(alpha=0.3)
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=["image_000", "image_003"],
                        help="names in the real data's div2k512 folder (the paper's 16: image_000 … image_015)")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--budget-min", type=float, default=None, help="stop (ours checkpointed) after this long")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of each run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where both train")
    parser.add_argument("--steps", type=int, default=STEPS, help="the protocol's 2000 (fewer: a smoke test)")
    parser.add_argument("--authors-code", type=Path, default=None,
                        help="a checkout of locuslab/ImpSq outside this project (without it: ours only)")
    parser.add_argument("--authors-python", default=sys.executable,
                        help="a Python with their requirements (configargparse, livelossplot, scikit-image, "
                             "matplotlib, plyfile, tqdm, pyyaml, scipy, torch)")
    parser.add_argument("--only", choices=["ours", "authors"], default=None, help="run one side only")
    parser.add_argument("--report-only", action="store_true", help="run nothing; tabulate what the folders hold")
    parser.add_argument("--runs", type=Path, default=RUNS, help="our run folders")
    parser.add_argument("--authors-runs", type=Path, default=AUTHORS_RUNS, help="the authors' script's folders")
    parser.add_argument("--recorded", type=Path, default=max(RESULTS.glob("*-div2k.json"), default=None),
                        help="a table written before (--write's JSON; default: the newest in bench/results): "
                             "its finished runs count as done")
    parser.add_argument("--write", type=Path, default=None,
                        help="also write PREFIX.json, PREFIX.md and PREFIX-curves.png")
    args = parser.parse_args(argv)
    env, deadline = run_environment(args.threads), deadline_after(args.budget_min)
    files = {name: shared_data_dir() / "div2k512" / f"{name}.jpg" for name in args.images}
    for name, file in files.items():
        if not file.is_file():
            raise SystemExit(f"{relative(str(file))} is missing: the div2k512 images are in ../shared/data")
    if args.authors_code and not (args.authors_code / "scripts" / "train_2d_image.py").is_file():
        raise SystemExit(f"{args.authors_code} holds no scripts/train_2d_image.py: give a checkout of locuslab/ImpSq")
    # runs finished in an earlier session, whose folders are gone, count as the recorded table has them
    earlier_ours, earlier_authors = (recorded(args.recorded, args.images, args.models) if args.steps == STEPS
                                     else ({}, {}))
    run_theirs = args.authors_code is not None and args.only != "ours" and not args.report_only
    if run_theirs:
        for name, file in files.items():
            for family in dict.fromkeys(FAMILY[m] for m in args.models):
                if not all((name, m) in earlier_authors for m in args.models if FAMILY[m] == family):
                    run_authors(file, family, args.steps, args.device, deadline, env, args.authors_code,
                                args.authors_python, args.authors_runs)
    only_report = args.report_only or args.only == "authors"
    ours = {(name, model): run_ours(file, model, args.steps, args.device, deadline, env,
                                    only_report or (name, model) in earlier_ours, args.runs)
            for name, file in files.items() for model in args.models}
    authors = {(name, model): authors_result(file, model, args.steps, args.authors_runs)
               for name, file in files.items() for model in args.models}
    for now, earlier in ((ours, earlier_ours), (authors, earlier_authors)):
        for key, result in earlier.items():
            if now[key]["state"] != "done":
                now[key] = result
    table = tabulate(args.images, args.models, ours, authors)
    text = markdown(table)
    print(json.dumps(table, indent=1))
    print(text, file=sys.stderr)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.with_suffix(".json").write_text(json.dumps(table, indent=1) + "\n")
        args.write.with_suffix(".md").write_text(text + "\n")
        plot_curves(table, args.write.with_name(args.write.name + "-curves.png"))
    return table


if __name__ == "__main__":
    main()
