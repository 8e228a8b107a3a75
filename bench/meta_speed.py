"""Few-shot adaptation: JIIO against the inner loop of gradient steps, same model, same tasks, same run.

The baseline adapts each task's context with `--gd-steps` steps of plain gradient descent or Adam, each solving
every support image's equilibrium and its adjoint; its method and step size are the best of a small grid (lowest
final support loss). JIIO's step sizes (plain or normalized steps on the context) are tuned on a small grid too, and
it is run with a ladder of iteration budgets; its time to the baseline's
loss is the time of the smallest budget whose context reaches the baseline's final support loss (the loss re-solved
at the returned context, the same measure for both). Also the query accuracy each reaches, and the wall time of one
meta-training step with each inner solve. Prints JSON with a `speedup` key: the baseline's time ÷ JIIO's time to
the same inner loss.

    python bench/meta_speed.py [--model FILE | --train-steps 200] [--tasks 16] [--proximal 0] [--device cpu]
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import use_shared_data  # noqa: E402

use_shared_data()

from engine.config import JIIOConfig, MetaTrainConfig, from_dict  # noqa: E402
from engine.datasets.omniglot import EpisodeSampler, default_omniglot_folder, load_omniglot, split_characters  # noqa
from engine.device import device_name, resolve_device  # noqa: E402
from engine.jiio import jiio  # noqa: E402
from engine.jiio.meta import MetaLearningProblem, inner_loop  # noqa: E402
from engine.tasks.meta_train import MetaTrainTask, query_accuracy, stacked  # noqa: E402

GD_GRID = {"sgd": (0.3, 1.0, 3.0, 10.0), "adam": (0.03, 0.1, 0.3)}
JIIO_GRID = {False: ((0.04, 0.01), (0.1, 0.03), (0.3, 0.1)), True: ((0.1, 0.03), (0.3, 0.1), (1.0, 0.3))}
"""JIIO's step sizes, with plain steps on the context (False) and steps normalized per task (True): on a separable
support set the loss falls only as fast as the readout's scale grows, which fixed-length steps (as Adam's) grow
fastest."""
JIIO_LADDER = (5, 10, 20, 40, 70, 100)


def timed(run) -> tuple[object, float]:
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="", help="a few-shot classifier file; default: meta-train one here")
    parser.add_argument("--train-steps", type=int, default=200, help="meta-training steps when no --model is given")
    parser.add_argument("--tasks", type=int, default=16, help="5-way 1-shot tasks adapted (one batch)")
    parser.add_argument("--gd-steps", type=int, default=20, help="the baseline's gradient steps per task")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--proximal", type=float, default=0.0,
                        help="the inner problem's ½ λ ‖v − v₀‖² weight (0: the objective the model trained with)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    data = load_omniglot(default_omniglot_folder())
    config = MetaTrainConfig(jiio=JIIOConfig(iterations=40), device=device.type, proximal=args.proximal)
    if args.model:
        from engine.models.mdeq.stored import load_few_shot

        stored, arch = load_few_shot(args.model, device)
        config = dataclasses.replace(config, channels=tuple(arch["channels"]), context=arch["context"],
                                     readout=bool(arch.get("readout", False)),
                                     jiio=from_dict(JIIOConfig, arch["jiio"]) if "jiio" in arch else config.jiio)
    trainer = MetaTrainTask(config, data, device)
    if args.model:
        trainer.model.load_state_dict(stored.state_dict())
    else:
        for _ in range(args.train_steps):
            trainer.step()
    model = trainer.model.eval().requires_grad_(False)  # the inner solves differentiate in the context alone
    test = EpisodeSampler(data, split_characters(data)[1], config.ways, config.shots, config.queries)
    rng = np.random.default_rng(123)
    support, labels, query, query_labels = stacked([test.sample(rng) for _ in range(args.tasks)], device)

    def problem() -> MetaLearningProblem:
        return MetaLearningProblem(model, support, labels, model.context0.detach(), config.proximal)

    start_loss = problem().loss_per_example(problem().start()[1])
    baseline = {}
    for optimizer, rates in GD_GRID.items():
        for lr in rates:
            result, seconds = timed(lambda: inner_loop(problem(), steps=args.gd_steps, lr=lr, optimizer=optimizer))
            baseline[f"{optimizer}-{lr}"] = {
                "optimizer": optimizer, "lr": lr, "loss": problem().loss_per_example(result.x), "seconds": seconds,
                "accuracy": float(query_accuracy(model, result.x, query, query_labels).mean())}
    best = min(baseline, key=lambda key: baseline[key]["loss"])
    target = baseline[best]["loss"]
    ladder = {}
    for normalized, alphas in JIIO_GRID.items():
        for alpha, iterations in itertools.product(alphas, JIIO_LADDER):
            settings = dataclasses.replace(config.jiio, iterations=iterations, alpha=alpha, normalized=normalized)
            p = problem()
            result, seconds = timed(lambda: jiio(p, *p.start(), settings))
            ladder[f"{'normalized ' if normalized else ''}{alpha}-{iterations}"] = {
                "alpha": list(alpha), "normalized": normalized, "iterations": iterations,
                "loss": p.loss_per_example(result.x), "seconds": seconds,
                "accuracy": float(query_accuracy(model, result.x, query, query_labels).mean())}
    reaching = [r for r in ladder.values() if r["loss"] <= target]
    fastest = min(reaching, key=lambda r: r["seconds"]) if reaching else None
    steps = {}
    model.requires_grad_(True)  # the outer steps train it
    for inner in ("jiio", "gd"):
        trainer.config = dataclasses.replace(config, inner=inner, inner_lr=baseline[best]["lr"],
                                             inner_steps=args.gd_steps)
        trainer.step()  # warm-up
        steps[inner] = float(np.median([trainer.step()["ms_per_step"] for _ in range(3)]))
    report = {
        "device": device_name(device), "tasks": args.tasks, "ways": config.ways, "shots": config.shots,
        "model": args.model or f"meta-trained here for {args.train_steps} steps (JIIO-40)",
        "support_loss_at_start": start_loss, "proximal": config.proximal,
        "baseline": {"gd_steps": args.gd_steps, "grid": baseline, "best": best, "loss": target,
                     "seconds": baseline[best]["seconds"], "accuracy": baseline[best]["accuracy"]},
        "jiio": {"grid": ladder, "fastest_to_baseline_loss": fastest},
        "speedup": round(baseline[best]["seconds"] / fastest["seconds"], 2) if fastest else None,
        "outer_step_ms": steps,
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
