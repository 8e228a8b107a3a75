"""Every benchmark in one run: the papers' tables with our numbers beside theirs, the roofline, the scaling curves,
start-up and GUI overhead. `make bench` runs the quick size.

    python bench/report.py --quick            a CPU-feasible size (under 40 minutes on 2 cores)
    python bench/report.py --full             the papers' sizes (for a GPU; hours on a CPU)
    python bench/report.py --quick --only roofline scaling      some sections (names: --help)
    python bench/report.py --render FILE.json                   the markdown of a results file again

Writes `bench/results/<date>-<device>-<size>.json` (every section's JSON output, command and seconds; a top-level
`roofline` object) and the markdown report beside it (`.md`, with the scaling PNGs). The fits run as `deq-studio fit`
run folders under `bench/runs/<date>-<device>-<size>/`, so an interrupted report resumes them; delete that folder
to run them afresh. A section that fails is reported as failed and the others still run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fit_runs import relative, run_fit, shown  # noqa: E402
from bench.report_markdown import render  # noqa: E402
from bench.text_images import write_text_images  # noqa: E402
from bench.shared_data import shared_data_dir  # noqa: E402

MODELS = ["siren-inj", "isiren", "fourier-mfn", "fourier-imfn", "gabor-mfn", "gabor-imfn"]
REFERENCE = ["--preset", "full", "--protocol", "generalize", "--layers", "1", "--spectral-norm", "--solver", "picard",
             "--solver-tol", "1e-3", "--solver-max-iter", "100",
             "--backward", "neumann", "--backward-neumann-order", "1", "--lr", "1e-3", "--amortize", "--seed", "0"]
"""The (Implicit)² generalization settings (bench/reference_protocol.py), less the steps, width and image size; the
input scale is the default, 128 for a 512² image and in proportion to its side (64 for 256²)."""

SIZES = {
    "quick": {"generalization": {"width": 128, "steps": 300, "images": 2, "image_dir": "images"},
              "represent": {"width": 128, "steps": 300, "max_size": 128},
              "audio": {"width": 128, "steps": 300, "duration_s": 0.25},
              "video": {"width": 128, "steps": 300, "frames": 6, "max_size": 64},
              "mesh": {"width": 128, "steps": 300, "models": ["siren-inj", "isiren", "gabor-mfn", "gabor-imfn"]},
              "jio_vs_pgd": ["--count", "100"], "jiio_vs_adam": ["--count", "16"],
              "adversarial": {"steps": 30, "count": 100},
              "roofline": ["--before", "--threads", "1"], "scaling": ["--quick"],
              "responsiveness": ["--repeats", "5", "--startup", "5"],
              "solvers": []},
    "full": {"generalization": {"width": 256, "steps": 2000, "images": 6, "image_dir": "images512"},
             "represent": {"width": 256, "steps": 2000, "max_size": 512},
             "audio": {"width": 256, "steps": 2000, "duration_s": None},
             "video": {"width": 1024, "steps": 10000, "frames": None, "max_size": None},
             "mesh": {"width": 256, "steps": 10000, "models": MODELS},
             "jio_vs_pgd": ["--count", "500"], "jiio_vs_adam": ["--count", "64"],
             "adversarial": {"steps": 1000, "count": 500},
             "roofline": ["--before"], "scaling": [], "responsiveness": ["--repeats", "5", "--startup", "5"],
             "solvers": []},
}
SECTIONS = ["generalization", "text", "reference", "div2k", "ablations", "represent", "audio", "video", "mesh",
            "jio_vs_pgd", "jiio_vs_adam", "adversarial", "roofline", "scaling", "responsiveness", "solvers"]


class Context:
    """What every section needs: the size's settings, the device, the run folders, the environment, the clock."""

    def __init__(self, size: str, device: str, runs: Path, out: Path) -> None:
        self.size, self.device, self.runs, self.out = size, device, runs, out
        self.settings = SIZES[size]
        self.env = dict(os.environ, DEQ_STUDIO_DATA=str(shared_data_dir()), QT_QPA_PLATFORM="offscreen")
        self.deadline = float("inf")
        self.reference_runs = ROOT / "bench" / "runs" / "reference"

    def script(self, name: str, *arguments: str) -> dict:
        """Run bench/<name>.py and parse its JSON: one object, or one per line (collected into `rows`)."""
        command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *arguments]
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{shown(command)} failed:\n{done.stderr[-3000:]}")
        return {**parse_json(done.stdout), "commands": [shown(command)]}

    def fits(self, files: list[Path], models: list[str], flags: list[str], steps: int, tag: str) -> dict:
        """Fit every model on every file as a CLI run; the runs' records."""
        runs = [run_fit(file, model, self.runs / f"{tag}-{file.stem}-{model}", flags, steps, self.device,
                        self.deadline, self.env) for file in files for model in models]
        return {"runs": runs, "commands": [run["command"] for run in runs]}


def parse_json(text: str) -> dict:
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else {"rows": value}
    except json.JSONDecodeError:
        rows = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
        return {"rows": rows}


def interpolation_baseline(files: list[Path]) -> dict[str, float]:
    """Per image, the held-out PSNR of bilinear interpolation: each test pixel [1::2, 1::2] the mean of its four
    training neighbours [::2, ::2] (edges repeated). A model-free yardstick of how much the split can be guessed."""
    scores = {}
    for file in files:
        pixels = np.asarray(Image.open(file).convert("RGB"), dtype=np.float64) / 255.0
        train, test = pixels[::2, ::2], pixels[1::2, 1::2]
        padded = np.pad(train, ((0, 1), (0, 1), (0, 0)), mode="edge")
        guess = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4
        guess = guess[: test.shape[0], : test.shape[1]]
        scores[file.stem] = round(float(-10 * np.log10(np.mean((guess - test) ** 2))), 2)
    return scores


def generalization(ctx: Context, text: bool = False) -> dict:
    s = ctx.settings["generalization"]
    if text:
        folder = ctx.runs / "text-images"
        files = write_text_images(folder, s["images"], 256 if ctx.size == "quick" else 512)
    else:
        files = sorted((shared_data_dir() / s["image_dir"]).glob("*.png"))[: s["images"]]
    flags = [*REFERENCE, "--width", str(s["width"]), "--log-every", "50", "--eval-every", str(s["steps"])]
    result = ctx.fits(files, MODELS, flags, s["steps"], "text" if text else "natural")
    return {**result, "setup": {**s, "images": [f.name for f in files]},
            "interpolation_baseline": interpolation_baseline(files)}


def represent(ctx: Context) -> dict:
    s = ctx.settings["represent"]
    image = shared_data_dir() / "images" / "kodim01.png"
    flags = ["--preset", "full", "--protocol", "represent", "--spectral-norm", "--width", str(s["width"]),
             "--max-size", str(s["max_size"]),
             "--eval-every", str(s["steps"]), "--seed", "0"]
    return {**ctx.fits([image], MODELS, flags, s["steps"], "represent"), "setup": s}


def audio(ctx: Context) -> dict:
    s = ctx.settings["audio"]
    flags = ["--preset", "full", "--width", str(s["width"]), "--eval-every", str(s["steps"]), "--seed", "0"]
    if s["duration_s"]:
        flags += ["--audio-duration-s", str(s["duration_s"])]
    return {**ctx.fits([shared_data_dir() / "audio" / "gt_bach.wav"], MODELS, flags, s["steps"], "audio"),
            "setup": s}


def video(ctx: Context) -> dict:
    s = ctx.settings["video"]  # spectral normalization on both sides, as the (Implicit)² release configures them
    flags = ["--preset", "full", "--spectral-norm", "--width", str(s["width"]), "--eval-every", str(s["steps"]),
             "--seed", "0"]
    flags += ["--video-max-frames", str(s["frames"])] if s["frames"] else []
    flags += ["--max-size", str(s["max_size"])] if s["max_size"] else []
    return {**ctx.fits([shared_data_dir() / "video" / "bikes.mp4"], MODELS, flags, s["steps"], "video"), "setup": s}


def mesh(ctx: Context) -> dict:
    s = ctx.settings["mesh"]  # quick: the window's CPU preview of a shape (50k points, IoU on 65k), full: the SPEC's
    flags = ["--preset", "preview" if ctx.size == "quick" else "full", "--width", str(s["width"]),
             "--eval-every", str(s["steps"]), "--seed", "0"]
    return {**ctx.fits([shared_data_dir() / "meshes" / "bunny.obj"], s["models"], flags, s["steps"], "mesh"),
            "setup": s}


def adversarial(ctx: Context) -> dict:
    """Table 5: the built-in (clean) classifier, and that classifier fine-tuned against PGD and against JIO."""
    s = ctx.settings["adversarial"]
    builtin = ROOT / "resources" / "models" / "mnist-classifier.safetensors"
    entries, commands = [str(builtin)], []
    for attack in ("pgd", "jio"):
        folder = ctx.runs / f"adv-{attack}"
        command = [sys.executable, "-m", "engine.cli", "adv-train", "--init", str(builtin), "--attack", attack,
                   "--steps", str(s["steps"]), "--device", ctx.device, "--out", str(folder)]
        if not (folder / "classifier.safetensors").is_file():
            done = subprocess.run(command, cwd=ROOT, env=ctx.env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{shown(command)} failed:\n{done.stderr[-3000:]}")
        entries.append(str(folder))
        commands.append(shown(command))
    table = ctx.script("adv_table", "--runs", *entries, "--count", str(s["count"]), "--device", ctx.device)
    return {**table, "commands": commands + table["commands"], "setup": s}


def run_section(name: str, ctx: Context) -> dict:
    s = ctx.settings
    device = ["--device", ctx.device]
    if name == "generalization":
        return generalization(ctx)
    if name == "text":
        return generalization(ctx, text=True)
    if name == "reference":  # the long runs are resumed by bench/reference_protocol.py itself; here only read
        table = ctx.script("reference_protocol", "--report-only", "--runs", str(ctx.reference_runs), *device)
        images = sorted({run["image"] for run in table.get("runs", [])})
        files = [shared_data_dir() / "images512" / f"{image}.png" for image in images]
        return {**table, "interpolation_baseline": interpolation_baseline(files),
                "commands": [run["command"] for run in table.get("runs", [])]}
    if name == "div2k":  # bench/div2k_table.py runs ours and the authors' code (resumably); here only read
        images = sorted(folder.name.split("-")[0] for folder in (ROOT / "bench" / "runs" / "div2k").glob("*-*"))
        table = ctx.script("div2k_table", "--report-only", "--images", *(dict.fromkeys(images) or ["image_000"]))
        return {**table, "commands": [f"python bench/div2k_table.py --images {' '.join(table['images'])} "
                                      "--authors-code IMPSQ_CHECKOUT --authors-python PYTHON"]}
    if name == "ablations":  # as the reference: bench/gain_ablations.py runs them (resumably); here only read
        return ctx.script("gain_ablations", "--report-only", "--families", "siren", "fourier", "gabor",
                          "--skimage", "astronaut")
    if name in ("represent", "audio", "video", "mesh", "adversarial"):
        return globals()[name](ctx)
    if name == "scaling":
        return ctx.script("scaling", *s["scaling"], *device, "--plots", str(ctx.out.with_suffix("")))
    if name == "responsiveness":
        return ctx.script("responsiveness", *s["responsiveness"])
    return ctx.script(name, *s[name], *device)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const="quick", dest="size", help="the CPU-feasible size")
    size.add_argument("--full", action="store_const", const="full", dest="size", help="the papers' size (a GPU)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run these sections only")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="where the report goes")
    parser.add_argument("--render", type=Path, default=None, help="write the markdown of this results file and stop")
    parser.add_argument("--budget-min", type=float, default=None,
                        help="start no section after this long; a fit past it is checkpointed (resumed next time)")
    parser.add_argument("--reference-runs", type=Path, default=None,
                        help="the reference protocol's run folders (default: bench/runs/reference)")
    args = parser.parse_args(argv)
    if args.render:
        report = json.loads(relative(args.render.read_text()))
        args.render.write_text(json.dumps(report, indent=1))
        args.render.with_suffix(".md").write_text(render(report))
        return report
    size_name = args.size or "quick"
    stem = f"{datetime.date.today().isoformat()}-{args.device}-{size_name}"
    out = args.results / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    ctx = Context(size_name, args.device, ROOT / "bench" / "runs" / stem, out)
    if args.reference_runs:
        ctx.reference_runs = args.reference_runs.resolve()
    if args.budget_min:
        ctx.deadline = time.monotonic() + 60 * args.budget_min
    report: dict = json.loads(out.read_text()) if out.is_file() else {}
    report.update({"size": size_name, "device": args.device, "date": datetime.date.today().isoformat(),
                   "sections": report.get("sections", {})})
    for name in args.only:
        if time.monotonic() > ctx.deadline:
            print(f"== {name}: skipped (past the time budget)", file=sys.stderr, flush=True)
            continue
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            result = run_section(name, ctx)
        except Exception as error:  # noqa: BLE001 - one failing section must not lose the others
            result = {"failed": f"{type(error).__name__}: {error}"}
            print(result["failed"], file=sys.stderr, flush=True)
        result["seconds"] = round(time.perf_counter() - start, 1)
        report["sections"][name] = result
        if "roofline" in result:
            report["roofline"] = result["roofline"]
        out.write_text(relative(json.dumps(report, indent=1)))  # after each section: an interrupted report keeps it
        out.with_suffix(".md").write_text(render(report))
    print(json.dumps({"results": str(out), "markdown": str(out.with_suffix(".md")),
                      "seconds": {k: v.get("seconds") for k, v in report["sections"].items()}}))
    return report


if __name__ == "__main__":
    main()
