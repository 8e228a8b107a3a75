"""`deq-studio <verb>`: the headless command line. Thin: parse a config, build a task, iterate the loop, log.

Verbs: `fit PATH`, `train-prior`, `inverse`, `attack`, `adv-train`, `resume DIR`, `demo`. Bad input prints one line `deq-studio: error: <reason>` and exits 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from engine.checkpoint import CheckpointError
from engine.cli_options import add_config_arguments, config_from_arguments
from engine.config import (AdvTrainConfig, AttackTaskConfig, ConfigError, FitConfig, InverseConfig, PriorConfig,
                           from_dict, to_dict)
from engine.device import device_name, resolve_device
from engine.model_store import ModelFileError
from engine.media import SignalError
from engine.version import version

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
FIT_FLATTEN = frozenset({"model", "signal"})
FIT_RENAME = {"backward.mode": "backward"}


def run_fit(args: argparse.Namespace) -> int:
    """Fit a file with an INR and write the run folder."""
    from engine.run_directory import RunDirectory
    from engine.tasks import build_fit_task

    config = config_from_arguments(FitConfig, args)
    device = resolve_device(config.device)
    path = Path(args.path)
    task = build_fit_task(path, config, device)
    out = RunDirectory(args.out or Path("runs") / f"{path.stem}-{config.model.model}-{config.protocol}")
    out.path.mkdir(parents=True, exist_ok=True)
    (out.path / "metrics.jsonl").unlink(missing_ok=True)
    out.write_config({"task": "fit", "input": str(path.resolve()), "config": to_dict(task.config)})
    print(f"Fitting {task_description(task)} with {config.model.model} on {device_name(device)} → {out.path}",
          flush=True)
    return train(task, out, args.checkpoint_every, "fit")


def run_train_prior(args: argparse.Namespace) -> int:
    """Train a generative MDEQ-lite decoder with JIIO latents and write the run folder."""
    from engine.tasks import build_prior_task

    config = config_from_arguments(PriorConfig, args)
    device = resolve_device(config.device)
    task = build_prior_task(config, device)
    folder = args.out or Path("runs") / f"prior-{Path(config.data).name or 'mnist'}"
    return start_training(task, "train-prior", config, folder, args.checkpoint_every,
                          f"Training a generative prior on {len(task.train_images)} images ({len(task.held_out)} "
                          f"held out for scoring) on {device_name(device)}")


def run_adv_train(args: argparse.Namespace) -> int:
    """Train an MDEQ-lite classifier on clean, PGD or JIO adversarial digits and write the run folder."""
    from engine.tasks import build_adv_task

    config = config_from_arguments(AdvTrainConfig, args)
    device = resolve_device(config.device)
    task = build_adv_task(config, device)
    kind = "clean" if config.attack == "none" else config.attack + " adversarial"
    return start_training(task, "adv-train", config, args.out or Path("runs") / f"classifier-{config.attack}",
                          args.checkpoint_every,
                          f"Training a DEQ classifier ({kind}) on {len(task.images)} digits on {device_name(device)}")


def start_training(task, kind: str, config, folder: str | Path, checkpoint_every: int, announce: str) -> int:
    """A fresh run folder for a dataset task (config.json with the data folder, empty metrics), then train."""
    from engine.run_directory import RunDirectory

    out = RunDirectory(folder)
    out.path.mkdir(parents=True, exist_ok=True)
    (out.path / "metrics.jsonl").unlink(missing_ok=True)
    out.write_config({"task": kind, "input": str(Path(config.data).resolve()) if config.data else "mnist",
                      "config": to_dict(config)})
    print(f"{announce} → {out.path}", flush=True)
    return train(task, out, checkpoint_every, kind)


def run_inverse(args: argparse.Namespace) -> int:
    """Restore corrupted images with a trained prior by JIIO and/or Adam; report loss against time and PSNR."""
    from engine.tasks import build_inverse_task

    config = config_from_arguments(InverseConfig, args)
    device = resolve_device(config.device)
    task = build_inverse_task(config, device)
    name = Path(config.image).stem if config.image else "mnist"
    print(f"Restoring {len(task.clean)} image(s) ({config.corruption}) with {' and '.join(task.methods)} on "
          f"{device_name(device)}", flush=True)
    last = solve_all(task, "inverse", config, args.out or Path("runs") / f"inverse-{name}-{config.corruption}")
    print(f"PSNR of the corrupted images: {last['psnr_corrupted']:.2f} dB")
    for method in task.methods:
        print(f"{method:>5}: {last[f'{method}_ms']:8.0f} ms, {last[f'{method}_iterations']:.0f} iterations, "
              f"loss {last[f'{method}_loss']:.4g}, PSNR {last[f'psnr_{method}']:.2f} dB")
    return 0


def run_attack(args: argparse.Namespace) -> int:
    """Attack a trained classifier with JIO and/or PGD; report success rates and times."""
    from engine.tasks import build_attack_task

    config = config_from_arguments(AttackTaskConfig, args)
    device = resolve_device(config.device)
    task = build_attack_task(config, device)
    print(f"Attacking {len(task.images)} held-out digits (L2 ε = {config.attack.epsilon:g}) with "
          f"{' and '.join(task.methods)} on {device_name(device)}", flush=True)
    last = solve_all(task, "attack", config, args.out or Path("runs") / "attack-mnist")
    print(f"clean accuracy: {last['accuracy_clean']:.3f}")
    for method in task.methods:
        print(f"{method:>4}: success {last[f'success_{method}']:.3f}, accuracy under attack "
              f"{last[f'accuracy_{method}']:.3f}, {last[f'{method}_ms']:.0f} ms")
    return 0


def solve_all(task, kind: str, config, folder: Path) -> dict[str, float]:
    """Drive a task whose steps are its methods; write config, metrics, a checkpoint and the task's export.
    Returns every scalar reported (the rows merged)."""
    from engine.loop import run
    from engine.run_directory import RunDirectory

    out = RunDirectory(folder)
    out.path.mkdir(parents=True, exist_ok=True)
    (out.path / "metrics.jsonl").unlink(missing_ok=True)
    out.write_config({"task": kind, "config": to_dict(config)})
    merged: dict[str, float] = {}
    for snap in run(task, task.total_steps, log_every=1, eval_every=1, logger=out.append_metrics):
        merged.update(snap.scalars)
    written = task.export(out.path)
    out.save_checkpoint(kind, to_dict(config), task.state_dict())
    print(f"Wrote {written}, {out.path / 'metrics.jsonl'}")
    return merged


def run_resume(args: argparse.Namespace) -> int:
    """Continue a run from its checkpoint; metrics continue as if it had never stopped."""
    from engine.run_directory import RunDirectory
    from engine.tasks import RESUMABLE, build_resumed_task

    out = RunDirectory(args.dir)
    record = out.read_config()
    kind = record.get("task")
    if kind not in RESUMABLE:
        raise ValueError(f"{out.path}: cannot resume a task of kind {kind!r}")
    config = from_dict(RESUMABLE[kind], record["config"])
    if args.steps is not None:
        config = dataclasses.replace(config, steps=args.steps)
    if args.device is not None:
        config = dataclasses.replace(config, device=args.device)
    _, _, state = out.load_checkpoint()
    task = build_resumed_task(record, config, resolve_device(config.device))
    task.load_state_dict(state)
    out.truncate_metrics(task.step_count)
    out.write_config({**record, "config": to_dict(task.config)})
    print(f"Resuming {out.path} at step {task.step_count} of {task.config.steps}")
    return train(task, out, args.checkpoint_every, kind)


def task_description(task) -> str:
    signal = getattr(task, "signal", None) or task.mesh
    return f"{signal.source}: {signal.describe()}"


def train(task, out, checkpoint_every: int, kind: str) -> int:
    """Drive the loop with a progress bar, checkpoints, the reconstruction and a summary."""
    from tqdm import tqdm

    from engine.loop import run

    config = task.config
    bar = tqdm(total=config.steps, initial=task.step_count, unit="step", disable=not sys.stderr.isatty(),
               dynamic_ncols=True)
    last: dict[str, float] = {}
    for snap in run(task, config.steps, log_every=config.log_every, eval_every=config.eval_every or config.log_every,
                    logger=out.append_metrics):
        bar.update(snap.step - bar.n)
        last = snap.scalars
        bar.set_postfix({k: f"{v:.4g}" for k, v in last.items() if k in ("loss", "psnr_train", "psnr_test",
                                                                            "iou_uniform")})
        if checkpoint_every and snap.step % checkpoint_every == 0 and not snap.final:
            out.save_checkpoint(kind, to_dict(config), task.state_dict())
    bar.close()
    if task.step_count and not last:
        last = task.evaluate(final=True)
    written = task.export(out.path)
    out.save_checkpoint(kind, to_dict(config), task.state_dict())
    shown = {k: round(v, 4) for k, v in last.items() if k not in ("step",)}
    print(f"Done: step {task.step_count}, {shown}")
    print(f"Wrote {written}, {out.path / 'metrics.jsonl'}, {out.path / 'checkpoint.pt'}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deq-studio", description="DEQ Studio: implicit layers and JIIO, headless.")
    parser.add_argument("--version", action="version", version=f"DEQ Studio {version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    fit = verbs.add_parser("fit", help="fit an image, audio clip, video or mesh with an implicit representation",
                           description=FitConfig.__doc__)
    fit.add_argument("path", help="the file to fit (image, audio, video or mesh)")
    fit.add_argument("--out", help="run folder (default: runs/<name>-<model>-<protocol>)")
    fit.add_argument("--checkpoint-every", type=int, default=500, help="also checkpoint every N steps (default 500)")
    add_config_arguments(fit, FitConfig, flatten=FIT_FLATTEN, rename=FIT_RENAME)
    fit.set_defaults(run=run_fit)

    prior = verbs.add_parser("train-prior", help="train a generative DEQ decoder whose latents JIIO finds",
                             description=PriorConfig.__doc__)
    prior.add_argument("--out", help="run folder (default: runs/prior-<data folder>)")
    prior.add_argument("--checkpoint-every", type=int, default=250, help="also checkpoint every N steps")
    add_config_arguments(prior, PriorConfig)
    prior.set_defaults(run=run_train_prior)

    inverse = verbs.add_parser("inverse", help="denoise or inpaint with a trained prior: JIIO against Adam",
                               description=InverseConfig.__doc__)
    inverse.add_argument("--out", help="run folder (default: runs/inverse-<images>-<corruption>)")
    add_config_arguments(inverse, InverseConfig)
    inverse.set_defaults(run=run_inverse)

    attack = verbs.add_parser("attack", help="attack a trained DEQ classifier: JIO against PGD",
                              description=AttackTaskConfig.__doc__)
    attack.add_argument("--out", help="run folder (default: runs/attack-mnist)")
    add_config_arguments(attack, AttackTaskConfig, flatten=frozenset({"attack"}),
                         skip=frozenset({"attack.method", "attack.jio.epsilon", "attack.jio.projection"}))
    attack.set_defaults(run=run_attack)

    adv = verbs.add_parser("adv-train", help="train a DEQ classifier on clean, PGD or JIO adversarial digits",
                           description=AdvTrainConfig.__doc__)
    adv.add_argument("--out", help="run folder (default: runs/classifier-<attack>)")
    adv.add_argument("--checkpoint-every", type=int, default=250, help="also checkpoint every N steps")
    add_config_arguments(adv, AdvTrainConfig, skip=frozenset({"attack_settings.method", "attack_settings.jio.epsilon",
                                                              "attack_settings.jio.projection"}))
    adv.set_defaults(run=run_adv_train)

    resume = verbs.add_parser("resume", help="continue a run from its folder's checkpoint")
    resume.add_argument("dir", help="the run folder written by `fit`")
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
