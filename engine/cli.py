"""`deq-studio <verb>`: the headless command line. Thin: parse a config, build a task, iterate the loop, log.

One verb per registered task kind (engine.tasks.kinds: `fit PATH`, `train-prior`, `inverse`, `attack`,
`adv-train`), plus `resume DIR` and `demo`. Bad input prints one line `deq-studio: error: <reason>` and exits 2.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import traceback
from pathlib import Path

from engine.cli_options import add_config_arguments, config_from_arguments, in_range
from engine.distributed import Ranks
from engine.config import ResumeConfig, field_choices
from engine.config.fields import MAX_STEPS
from engine.device import device_name, resolve_device
from engine.presets import PRESETS
from engine.run_lock import run_lock
from engine.tasks.kinds import TASKS, TaskKind
from engine.version import version

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report an interrupted command."""
SHOWN = ("loss", "psnr_train", "psnr_test", "iou_uniform", "accuracy_clean")
"""Scalars the progress bar shows when a row has them."""
PREVIEW_INTERVAL_S = 2.0
"""previews.npz (for a window watching the run folder) is rewritten at most this often, and after the last step."""


def settings(kind: TaskKind, args: argparse.Namespace):
    """The config of a run: the chosen preset, with every option the user gave applied."""
    from engine.media import medium_of

    path = Path(args.path) if kind.needs_file else None
    medium = medium_of(path) if path is not None else None
    base = kind.preset(args.preset, resolve_device(getattr(args, "device", "auto")), medium)
    for flag, paths in kind.pairs.items():
        for field, value in zip(paths, getattr(args, f"pair:{flag}", ())):
            setattr(args, field, value)
    return config_from_arguments(kind.config, args, base=base), path


def join_job(device: str) -> Ranks:
    """This process's ranks: one process, or its place in the job torchrun started (joined here)."""
    from engine.distributed import Ranks, launched_by_torchrun

    return Ranks.join(device) if launched_by_torchrun() else Ranks()


def run_task(kind: TaskKind, args: argparse.Namespace) -> int:
    """Build the task (bad input fails before any file is written), make its run folder, drive it. Under torchrun
    every process builds and trains the task on its share of each batch; rank 0 makes and writes the run folder."""
    from engine.runs import start_run

    config, path = settings(kind, args)
    ranks = join_job(config.device)
    try:
        kind.require_processes(ranks.world, config, path)
        device = ranks.device(resolve_device(config.device))
        task = kind.build(config, path, device)
        if ranks.distributed:
            task.distribute(ranks)
        run = start_run(kind, task, path, args.out) if ranks.main else None
        with run_lock(run.path) if ranks.main else contextlib.nullcontext():  # rank 0 alone writes the folder
            if ranks.main:
                job = f" in {ranks.world} processes" if ranks.distributed else ""
                print(f"{task.describe()} on {device_name(device)}{job} → {run.path}", flush=True)
            return drive(kind, task, run, getattr(args, "checkpoint_every", 0), ranks)
    finally:
        task = run = None  # the task's replica goes before its process group
        ranks.leave()


def run_resume(args: argparse.Namespace) -> int:
    """Continue a run from its checkpoint; metrics continue as if it had never stopped (under torchrun on any number
    of processes: a checkpoint holds nothing of how many trained it)."""
    from engine.run_directory import RunDirectory
    from engine.runs import resume_run

    settings = config_from_arguments(ResumeConfig, args)
    folder = RunDirectory.open(args.dir)
    saved = folder.read_config()["config"].get("device", "auto") if settings.device is None else None
    ranks = join_job(settings.device or saved)  # the backend of the device the run continues on
    try:
        # one writer: refused while another process writes it
        with run_lock(folder.path) if ranks.main else contextlib.nullcontext():
            kind, task, run = resume_run(args.dir, settings.steps, settings.device, settings.lr, ranks)
            if ranks.main and run.torn_line:
                print(f"deq-studio: dropped the torn last line of {run.path / 'metrics.jsonl'} (the run was cut off "
                      f"while writing it)", file=sys.stderr)
            if ranks.main:
                job = f" in {ranks.world} processes" if ranks.distributed else ""
                print(f"Resuming {run.path} at step {task.step_count} of {task.schedule().steps}{job}", flush=True)
            history = [row for row in run.read_metrics() if row["step"] <= task.step_count]  # alike on every rank
            return drive(kind, task, run if ranks.main else None, settings.checkpoint_every, ranks, history)
    finally:
        task = run = None  # the task's replica goes before its process group
        ranks.leave()


def drive(kind: TaskKind, task, run, checkpoint_every: int, ranks: Ranks | None = None,
          history: list[dict] = ()) -> int:
    """Drive the loop with a progress bar and checkpoints; then the export, a last checkpoint and a summary. In a
    job of several processes rank 0 alone evaluates and writes (`run` is None on the others), and a stop request
    (Ctrl-C, SIGTERM, SIGHUP) stops every rank after the same step. `history`: the rows a resumed run logged up to its
    checkpoint (the same on every rank), which the divergence guard holds new rows against."""
    from tqdm import tqdm

    from engine.distributed import Ranks
    from engine.divergence import DivergenceGuard
    from engine.loop import run as loop
    from engine.tasks.base import DivergenceError
    from engine.runs import checkpoint, finish

    ranks = ranks or Ranks()
    schedule = task.schedule()
    bar = tqdm(total=schedule.steps, initial=task.step_count, unit="step",
               disable=not sys.stderr.isatty() or not ranks.main, dynamic_ncols=True)
    last: dict[str, float] = {}
    guard = DivergenceGuard(task, history)
    warned, previews_written = False, 0.0
    with StopRequests(quiet=not ranks.main) as stop:  # in force to the end: the final evaluation and the export too
        try:
            for snap in loop(task, schedule.steps, log_every=schedule.log_every, eval_every=schedule.eval_every,
                             logger=run.append_metrics if ranks.main else None,
                             stop_requested=lambda: ranks.on_any(stop.requested()), guard=guard,
                             evaluate=ranks.main, interrupt_steps=not ranks.distributed):
                bar.update(snap.step - bar.n)
                last.update(snap.scalars)
                bar.set_postfix({k: f"{v:.4g}" for k, v in snap.scalars.items() if k in SHOWN})
                if ranks.main and (snap.final or time.monotonic() - previews_written >= PREVIEW_INTERVAL_S):
                    run.write_previews(snap)
                    previews_written = time.monotonic()
                if checkpoint_every and snap.step % checkpoint_every == 0 and not snap.final and ranks.main:
                    checkpoint(run, kind, task)
                if guard.warning and not warned and ranks.main:
                    bar.write(f"deq-studio: warning: {guard.warning}", file=sys.stderr)
                    warned = True
        except DivergenceError:  # every rank saw the same rows (or the same non-finite loss) and restored alike
            bar.close()
            if ranks.main and kind.resumable and guard.best_state is not None:
                checkpoint(run, kind, task)  # the restored state: no reconstruction or model is written from this run
                lower = f"{task.config.lr / 10:g}" if getattr(task.config, "lr", None) else "LOWER"
                print(f"deq-studio: the restored weights are checkpointed in {run.path}; nothing else was written. "
                      f"Continue with a lower learning rate: deq-studio resume {run.path} --lr {lower}",
                      file=sys.stderr)
            ranks.barrier()  # the others wait for rank 0's checkpoint: torchrun ends the job when one process exits
            if not ranks.main:
                return EXIT_FAILED
            raise
        bar.close()
        stopped = stop.signal is not None or task.step_count < schedule.steps
        if not ranks.main:
            ranks.barrier()
            return EXIT_INTERRUPTED if stopped else 0
        try:
            if stopped:
                return interrupted(kind, task, run, stop.signal or "another process's stop request")
            if task.step_count and not last:
                last = task.evaluate(final=True)
            written = finish(run, kind, task)
            print(task.report(last))
            files = sorted(path.name for path in written.parent.iterdir()
                           if path.is_file() and path != written and not path.name.startswith("."))
            print(f"Wrote {written}, and in {written.parent}: {', '.join(files)}")
            if stop.signal is not None:  # it arrived while the results were written: they were finished first
                print(f"deq-studio: {stop.signal}: the run had finished; its results and checkpoint are complete in "
                      f"{run.path}", file=sys.stderr)
                return EXIT_INTERRUPTED
            return 0
        finally:
            ranks.barrier()


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Ctrl-C, a polite kill, and the terminal that started the run being closed (SIGHUP, where the system has it)."""


class StopRequests:
    """While a run goes on: Ctrl-C, SIGTERM or SIGHUP asks the loop to stop between two steps (the run then
    checkpoints); a second Ctrl-C interrupts at once. After SIGHUP the terminal is gone, so what would be printed to it
    goes nowhere instead of failing. The previous handlers come back on exit."""

    def __init__(self, quiet: bool = False) -> None:
        self.signal: str | None = None
        """"Ctrl-C", "SIGTERM" or "SIGHUP" once one arrived."""
        self.quiet = quiet
        """Say nothing (the ranks other than 0 of a job: rank 0 speaks for it)."""
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequests:
        for number in STOP_SIGNALS:
            try:
                self._previous[number] = signal.signal(number, self._handle)
            except ValueError:  # not the main thread: signals stay as they were
                pass
        return self

    def __exit__(self, *exc_info) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame) -> None:
        if self.signal is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        if number == getattr(signal, "SIGHUP", None):
            _leave_the_terminal()
        self.signal = "Ctrl-C" if number == signal.SIGINT else signal.Signals(number).name
        if not self.quiet:
            print(f"\ndeq-studio: {self.signal}: stopping after this step and saving a checkpoint"
                  + (" (Ctrl-C again to stop at once)" if number == signal.SIGINT else ""), file=sys.stderr,
                  flush=True)

    def requested(self) -> bool:
        return self.signal is not None


def _leave_the_terminal() -> None:
    """Point standard output and error that went to a terminal (a character device) at the null device: the
    terminal has hung up, and a write to it would fail. Output redirected to a file or a pipe stays."""
    import os
    import stat

    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                if stat.S_ISCHR(os.fstat(fd).st_mode):
                    os.dup2(null, fd)
            except OSError:
                pass
    finally:
        os.close(null)


def interrupted(kind: TaskKind, task, run, signal_name: str) -> int:
    """After Ctrl-C or SIGTERM between two steps: a checkpoint (the metrics so far stay), and how to continue."""
    from engine.runs import checkpoint

    if kind.resumable and task.step_count:
        checkpoint(run, kind, task)
        print(f"deq-studio: {signal_name}: stopped at step {task.step_count}; checkpoint saved in {run.path}. "
              f"Continue with: deq-studio resume {run.path}", file=sys.stderr)
    else:
        print(f"deq-studio: {signal_name}: stopped at step {task.step_count} (a {kind.name} run does not "
              f"continue; its metrics so far are in {run.path})", file=sys.stderr)
    return EXIT_INTERRUPTED


def run_demo(args: argparse.Namespace) -> int:
    """Solve an iSIREN-like equilibrium with every solver, cold and warm-started, and print a table."""
    from engine.solver_probe import compare_solvers, isiren_probe

    from engine.memory import check_demo_memory

    from engine.config import DemoConfig

    demo = config_from_arguments(DemoConfig, args)
    device = resolve_device(demo.device)
    check_demo_memory(demo.coords, demo.width, device)
    layer = isiren_probe(coords=demo.coords, width=demo.width, device=device)
    print(f"Equilibrium of an iSIREN-like layer: {layer.inject0.shape[0]} coordinates × width {demo.width}, "
          f"‖W‖₂ = 0.97, relative tolerance {demo.tol:g}, on {device_name(device)}.")
    print(f"{'solver':<10}{'cold iters':>12}{'cold ms':>10}{'warm iters':>12}{'warm ms':>10}")
    for row in compare_solvers(layer, tol=demo.tol):
        print(f"{row['solver']:<10}{row['cold_iters']:>12}{row['cold_ms']:>10.0f}"
              f"{row['warm_iters']:>12}{row['warm_ms']:>10.0f}" + ("" if row["converged"] else "  (not converged)"))
    print("warm = after a 0.1% weight change, solved from the previous equilibrium (the amortization of (Implicit)²).")
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Render a fitted network's file (or a fit's run folder) at another size or rate and write it."""
    from engine.config import ConfigError, RenderConfig
    from engine.fitted_network import load_network, render_name

    render = config_from_arguments(RenderConfig, args)
    source = Path(args.network)
    if source.is_dir():
        source = source / "network.safetensors"
    network = load_network(source, resolve_device(render.device))
    shape, rate = network.target_shape(render.scale, render.size, render.rate)
    out = Path(render.out) if render.out else render_name(source, network.medium, shape, rate)
    if render.out and out.exists():
        raise ConfigError(f"{out.name} already exists: choose another --out (nothing was written)")
    network.write(out, network.render(shape, rate), rate)
    print(f"Rendered {network.source or source.name} as {network.describe(shape, rate)}: {out}")
    return 0


def run_meta_test(args: argparse.Namespace) -> int:
    """Score a meta-trained few-shot classifier on unseen Omniglot tasks: accuracy ± its 95 % interval."""
    import dataclasses
    import json

    from engine.config import JIIOConfig, MetaTestConfig, MetaTrainConfig, from_dict
    from engine.datasets.omniglot import (EpisodeSampler, default_omniglot_folder, load_omniglot, split_alphabets,
                                          split_characters)
    from engine.models.mdeq.stored import load_few_shot
    from engine.tasks.meta_train import meta_test

    test = config_from_arguments(MetaTestConfig, args)
    device = resolve_device(test.device)
    model, arch = load_few_shot(test.model, device)
    model = model.with_ways(test.ways or arch["ways"])
    config = MetaTrainConfig(ways=test.ways or arch["ways"], shots=test.shots, queries=test.queries, split=test.split,
                             inner=test.inner or arch.get("inner", "jiio"), context=arch["context"],
                             jiio=from_dict(JIIOConfig, arch["jiio"]) if "jiio" in arch else JIIOConfig())
    if test.jiio_iterations:
        config = dataclasses.replace(config, jiio=dataclasses.replace(config.jiio, iterations=test.jiio_iterations))
    data = load_omniglot(default_omniglot_folder(test.data))
    held_out = (split_characters if test.split == "characters" else split_alphabets)(data, seed=test.split_seed)[1]
    sampler = EpisodeSampler(data, held_out, config.ways, config.shots, config.queries)
    from tqdm import tqdm

    with tqdm(total=test.episodes, unit="task", disable=not sys.stderr.isatty(), dynamic_ncols=True) as bar:
        mean, ci95 = meta_test(model, config, sampler, test.episodes, test.seed, progress=bar.update)
    print(f"{config.ways}-way {config.shots}-shot on {len(held_out)} held-out characters ({test.split}), "
          f"{test.episodes} tasks, inner solve {config.inner}: {100 * mean:.1f} % ± {100 * ci95:.1f} % (95 %)")
    print(json.dumps({"ways": config.ways, "shots": config.shots, "split": test.split, "episodes": test.episodes,
                      "inner": config.inner, "accuracy": round(mean, 4), "ci95": round(ci95, 4)}))
    return 0


def add_meta_test_verb(verbs) -> None:
    """`meta-test`, its flags generated from MetaTestConfig."""
    from engine.config import MetaTestConfig

    meta = verbs.add_parser("meta-test", help="score a meta-trained few-shot classifier on unseen Omniglot tasks")
    add_config_arguments(meta, MetaTestConfig)
    meta.set_defaults(run=run_meta_test)


def add_task_verb(verbs, kind: TaskKind) -> None:
    """`deq-studio <kind>`: its input, --out, --preset, checkpoints, and one flag per config field."""
    verb = verbs.add_parser(kind.name, help=kind.summary, description=kind.config.__doc__)
    if kind.needs_file:
        verb.add_argument("path", help="the file to fit (image, audio, video or mesh)")
    verb.add_argument("--out", help="a new or empty run folder (default: a fresh folder under runs/)")
    verb.add_argument("--preset", choices=PRESETS, default="preview",
                      help="starting settings: preview (what the window starts from, per medium: small and quick on "
                           "a CPU, the SPEC's sizes on a GPU) or full (the SPEC's settings, the papers' protocols); "
                           "the options below change them. The defaults they show are the full preset's; the "
                           "preview's differences are listed at the end (default: preview)")
    if not kind.race:
        verb.add_argument("--checkpoint-every", type=in_range(0, MAX_STEPS), default=kind.checkpoint_every,
                          help=f"also checkpoint every N steps (default {kind.checkpoint_every})")
    add_config_arguments(verb, kind.config, flatten=kind.flatten, rename=dict(kind.rename), skip=kind.fixed)
    for flag, paths in kind.pairs.items():
        choices = field_choices(*_owner(kind.config, paths[0]))
        verb.add_argument(f"--{flag}", nargs=len(paths), choices=choices, dest=f"pair:{flag}",
                          metavar=tuple(path.rsplit(".", 1)[-1].upper() for path in paths), default=argparse.SUPPRESS,
                          help=f"sets {' and '.join(paths)} at once" + (f"; each one of {', '.join(choices)}"
                                                                         if choices else ""))
    verb.epilog = preview_differences(verb, kind)
    verb.formatter_class = KeptEpilogFormatter
    verb.set_defaults(run=lambda args: run_task(kind, args))


def _owner(config: type, path: str) -> tuple[type, str]:
    """The config class that holds the dotted field `path`, and the field's name."""
    from engine.config import field_types

    *parents, name = path.split(".")
    for parent in parents:
        config = field_types(config)[parent]
    return config, name


def preview_differences(verb: argparse.ArgumentParser, kind: TaskKind) -> str:
    """The options in which `--preset preview` on a CPU differs from the defaults --help shows, per medium for a fit,
    as flags (read from the parser, so they are spelled as typed)."""
    import torch

    from engine.config import to_dict
    from engine.media import MEDIA

    flags = {action.dest: action.option_strings[-1] for action in verb._actions if action.option_strings}
    full = _flat(to_dict(kind.config()))
    lines = []
    media = [spec.name for spec in MEDIA if kind.takes(spec.name)] if kind.needs_file else [None]
    for medium in media:
        preview = _flat(to_dict(kind.preset("preview", torch.device("cpu"), medium)))
        changed = [f"{flags[path]} {_shown(value)}" for path, value in preview.items()
                   if value != full.get(path) and path in flags]
        if changed:
            lines.append(f"  {medium + ': ' if medium else ''}{' '.join(changed)}")
    return PREVIEW_HEAD + "\n" + "\n".join(lines) if lines else ""


PREVIEW_HEAD = "the preview preset (the default) on a CPU differs from the defaults above in:"


class KeptEpilogFormatter(argparse.HelpFormatter):
    """Wraps descriptions and help as usual; keeps the lines of the preview's differences (one per medium)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(PREVIEW_HEAD):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _flat(values: dict, prefix: str = "") -> dict:
    flat = {}
    for name, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return "(empty)" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deq-studio", description="DEQ Studio: implicit layers and JIIO, headless.")
    parser.add_argument("--version", action="version", version=f"DEQ Studio {version()}")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, print the full traceback as well (anywhere on the command line; it is "
                             "always written to the log)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    for kind in TASKS:
        add_task_verb(verbs, kind)

    resume = verbs.add_parser("resume", help="continue a run from its folder's checkpoint")
    resumable = ", ".join(kind.name for kind in TASKS if kind.resumable)
    resume.add_argument("dir", help=f"a run folder (of {resumable})")
    add_config_arguments(resume, ResumeConfig)
    resume.set_defaults(run=run_resume)

    add_meta_test_verb(verbs)

    from engine.config import RenderConfig

    render = verbs.add_parser("render", help="render a fitted network at another size or rate",
                              description=RenderConfig.__doc__)
    render.add_argument("network", help="a fit's network.safetensors, or its run folder")
    add_config_arguments(render, RenderConfig)
    render.set_defaults(run=run_render)

    from engine.config import DemoConfig

    demo = verbs.add_parser("demo", help="compare the fixed-point solvers on an iSIREN-like equilibrium")
    add_config_arguments(demo, DemoConfig)
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the verb; returns the process exit code. Every failure is one line on stderr (the
    traceback too with --debug, anywhere on the command line); its traceback always goes to the log."""
    from engine.errors import failure_sentence, is_user_error, log_path
    from engine.tasks.base import DivergenceError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([word for word in argv if word != "--debug"])
    try:
        return args.run(args)
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the training loop
        print("deq-studio: interrupted (nothing saved since the last checkpoint)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 — the one error path: a sentence, never a traceback
        text = failure_sentence(exc, "deq-studio " + " ".join(argv))
        if debug:
            traceback.print_exception(exc)
        if isinstance(exc, DivergenceError):
            print(f"deq-studio: {text}", file=sys.stderr)
            return EXIT_FAILED
        print(f"deq-studio: error: {text}", file=sys.stderr)
        if debug:
            print(f"(the traceback is also in {log_path()})", file=sys.stderr)
        return EXIT_BAD_INPUT if is_user_error(exc) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
