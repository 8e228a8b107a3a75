"""`deq-studio <verb>`: the headless command line. Thin: parse a config, build a task, iterate the loop, log.

One verb per registered task kind (engine.tasks.kinds: `fit PATH`, `train-prior`, `inverse`, `attack`,
`adv-train`), plus `resume DIR` and `demo`. Bad input prints one line `deq-studio: error: <reason>` and exits 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.checkpoint import CheckpointError
from engine.cli_options import add_config_arguments, config_from_arguments
from engine.config import ConfigError
from engine.device import device_name, resolve_device
from engine.model_store import ModelFileError
from engine.media import SignalError
from engine.presets import PRESETS, preset
from engine.tasks.kinds import TASKS, TaskKind
from engine.version import version

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
SHOWN = ("loss", "psnr_train", "psnr_test", "iou_uniform", "accuracy_clean")
"""Scalars the progress bar shows when a row has them."""


def settings(kind: TaskKind, args: argparse.Namespace):
    """The config of a run: the chosen preset, with every option the user gave applied."""
    from engine.media import medium_of

    path = Path(args.path) if kind.needs_file else None
    medium = medium_of(path) if path is not None else None
    base = preset(kind.config, args.preset, resolve_device(getattr(args, "device", "auto")), medium)
    return config_from_arguments(kind.config, args, base=base), path


def run_task(kind: TaskKind, args: argparse.Namespace) -> int:
    """Build the task (bad input fails before any file is written), make its run folder, drive it."""
    from engine.runs import start_run

    config, path = settings(kind, args)
    device = resolve_device(config.device)
    task = kind.build(config, path, device)
    run = start_run(kind, task, path, args.out)
    print(f"{task.describe()} on {device_name(device)} → {run.path}", flush=True)
    return drive(kind, task, run, getattr(args, "checkpoint_every", 0))


def run_resume(args: argparse.Namespace) -> int:
    """Continue a run from its checkpoint; metrics continue as if it had never stopped."""
    from engine.runs import resume_run

    kind, task, run = resume_run(args.dir, args.steps, args.device)
    print(f"Resuming {run.path} at step {task.step_count} of {task.schedule().steps}", flush=True)
    return drive(kind, task, run, args.checkpoint_every)


def drive(kind: TaskKind, task, run, checkpoint_every: int) -> int:
    """Drive the loop with a progress bar and checkpoints; then the export, a last checkpoint and a summary."""
    from tqdm import tqdm

    from engine.loop import run as loop
    from engine.runs import checkpoint, finish

    schedule = task.schedule()
    bar = tqdm(total=schedule.steps, initial=task.step_count, unit="step", disable=not sys.stderr.isatty(),
               dynamic_ncols=True)
    last: dict[str, float] = {}
    for snap in loop(task, schedule.steps, log_every=schedule.log_every, eval_every=schedule.eval_every,
                     logger=run.append_metrics):
        bar.update(snap.step - bar.n)
        last.update(snap.scalars)
        bar.set_postfix({k: f"{v:.4g}" for k, v in snap.scalars.items() if k in SHOWN})
        if checkpoint_every and snap.step % checkpoint_every == 0 and not snap.final:
            checkpoint(run, kind, task)
    bar.close()
    if task.step_count and not last:
        last = task.evaluate(final=True)
    written = finish(run, kind, task)
    print(task.report(last))
    print(f"Wrote {written}, {run.path / 'metrics.jsonl'}, {run.path / 'checkpoint.pt'}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Solve an iSIREN-like equilibrium with every solver, cold and warm-started, and print a table."""
    from engine.solver_probe import compare_solvers, isiren_probe

    device = resolve_device(args.device)
    layer = isiren_probe(coords=args.coords, width=args.width, device=device)
    print(f"Equilibrium of an iSIREN-like layer: {layer.inject0.shape[0]} coordinates × width {args.width}, "
          f"‖W‖₂ = 0.97, relative tolerance {args.tol:g}, on {device_name(device)}.")
    print(f"{'solver':<10}{'cold iters':>12}{'cold ms':>10}{'warm iters':>12}{'warm ms':>10}")
    for row in compare_solvers(layer, tol=args.tol):
        print(f"{row['solver']:<10}{row['cold_iters']:>12}{row['cold_ms']:>10.0f}"
              f"{row['warm_iters']:>12}{row['warm_ms']:>10.0f}" + ("" if row["converged"] else "  (not converged)"))
    print("warm = after a 0.1% weight change, solved from the previous equilibrium (the amortization of (Implicit)²).")
    return 0


def add_task_verb(verbs, kind: TaskKind) -> None:
    """`deq-studio <kind>`: its input, --out, --preset, checkpoints, and one flag per config field."""
    verb = verbs.add_parser(kind.name, help=kind.summary, description=kind.config.__doc__)
    if kind.needs_file:
        verb.add_argument("path", help="the file to fit (image, audio, video or mesh)")
    verb.add_argument("--out", help="a new or empty run folder (default: a fresh folder under runs/)")
    verb.add_argument("--preset", choices=PRESETS, default="full",
                      help="starting settings: full (the SPEC's) or preview (what the window starts from: small "
                           "and quick on a CPU); the options below change them, and show the full preset's "
                           "defaults (default: full)")
    if not kind.race:
        verb.add_argument("--checkpoint-every", type=int, default=kind.checkpoint_every,
                          help=f"also checkpoint every N steps (default {kind.checkpoint_every})")
    add_config_arguments(verb, kind.config, flatten=kind.flatten, rename=dict(kind.rename), skip=kind.fixed)
    verb.set_defaults(run=lambda args: run_task(kind, args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deq-studio", description="DEQ Studio: implicit layers and JIIO, headless.")
    parser.add_argument("--version", action="version", version=f"DEQ Studio {version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    for kind in TASKS:
        add_task_verb(verbs, kind)

    resume = verbs.add_parser("resume", help="continue a run from its folder's checkpoint")
    resumable = ", ".join(kind.name for kind in TASKS if kind.resumable)
    resume.add_argument("dir", help=f"a run folder (of {resumable})")
    resume.add_argument("--steps", type=int, help="new total number of steps (default: the run's own)")
    resume.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override the run's device")
    resume.add_argument("--checkpoint-every", type=int, default=500, help="also checkpoint every N steps")
    resume.set_defaults(run=run_resume)

    demo = verbs.add_parser("demo", help="compare the fixed-point solvers on an iSIREN-like equilibrium")
    demo.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where to run")
    demo.add_argument("--coords", type=int, default=16384, help="number of coordinates (a square grid)")
    demo.add_argument("--width", type=int, default=256, help="hidden width D")
    demo.add_argument("--tol", type=float, default=1e-4, help="relative residual tolerance")
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the verb; returns the process exit code."""
    from engine.tasks.base import DivergenceError

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SignalError, ConfigError, CheckpointError, ModelFileError, ValueError, OSError) as exc:
        print(f"deq-studio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DivergenceError as exc:
        print(f"deq-studio: training diverged: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
