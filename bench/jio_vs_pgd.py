"""JIO against PGD-20 on held-out MNIST digits, attacking a trained DEQ classifier inside the same L2 ball.

Both attacks run on frozen weights in eval mode with the classifier's solver settings, on the same digits, timed
alone one after the other (CUDA events on a GPU), and are scored the same way: re-solve the classifier from zero
at base + δ. PGD takes 20 normalized steps of lr 0.6, each a forward solve and an exact implicit backward (an
adjoint solve with the same solver settings). JIO runs the
augmented fixed point with K = 80 (SPEC settings) and, to find the time at which it matches PGD, with the smaller
budgets of a ladder, each timed from scratch.

Prints one JSON object:
    {"pgd_success", "pgd_ms", "jio_success", "jio_ms", "jio_k_at_pgd_success", "jio_ms_at_pgd_success",
     "time_ratio" (JIO time at ≥ PGD's success / PGD time), "ladder": {K: {"success", "ms"}}, "setup": {...}}

    python bench/jio_vs_pgd.py [--classifier resources/models/mnist-classifier.safetensors] [--count 500]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import use_shared_data  # noqa: E402

use_shared_data()

from engine.config import AttackConfig  # noqa: E402
from engine.device import device_name, resolve_device  # noqa: E402
from engine.jiio.attacks import accuracy, attack  # noqa: E402
from engine.models.mdeq.stored import load_classifier  # noqa: E402
from engine.datasets.mnist import held_out_digits  # noqa: E402
from engine.tasks.adversarial import to_unit  # noqa: E402
from engine.timing import timed  # noqa: E402

K_LADDER = (10, 20, 30, 40, 50, 60, 80)


def timed_attack(classifier, images, labels, config: AttackConfig, device: torch.device) -> dict:
    found, ms = timed(device, lambda: attack(classifier, images, labels, config))
    return {"success": round(found.success_rate(labels), 4), "ms": round(ms, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier", default="", help="classifier file (default: the built-in one)")
    parser.add_argument("--data", default="", help="MNIST folder (default: $DEQ_STUDIO_DATA/mnist; bench/shared_data.py)")
    parser.add_argument("--count", type=int, default=500, help="held-out digits attacked")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    classifier = load_classifier(args.classifier, device)
    images, labels = held_out_digits(args.data, args.count)
    images, labels = to_unit(images, device), torch.from_numpy(labels.copy()).to(device)
    base = AttackConfig()
    jio = lambda k: dataclasses.replace(base, method="jio", jio=dataclasses.replace(base.jio, iterations=k))  # noqa
    timed_attack(classifier, images[:16], labels[:16], jio(3), device)  # warm-up
    full = timed_attack(classifier, images, labels, jio(max(K_LADDER)), device)
    pgd = timed_attack(classifier, images, labels, dataclasses.replace(base, method="pgd"), device)
    ladder = {max(K_LADDER): full}
    for k in K_LADDER[:-1]:
        ladder[k] = timed_attack(classifier, images, labels, jio(k), device)
    matching = [k for k in sorted(ladder) if ladder[k]["success"] >= pgd["success"]]
    k_match = matching[0] if matching else None
    row = {"pgd_success": pgd["success"], "pgd_ms": pgd["ms"], "jio_success": full["success"], "jio_ms": full["ms"],
           "jio_k_at_pgd_success": k_match,
           "jio_ms_at_pgd_success": ladder[k_match]["ms"] if k_match else None,
           "time_ratio": round(ladder[k_match]["ms"] / pgd["ms"], 3) if k_match else None,
           "ladder": {str(k): ladder[k] for k in sorted(ladder)},
           "setup": {"device": device_name(device), "count": args.count,
                     "clean_accuracy": round(accuracy(classifier, images, labels), 4),
                     "epsilon": base.epsilon, "pgd_steps": base.pgd_steps, "pgd_lr": base.pgd_lr,
                     "jio": dataclasses.asdict(base.jio), "solver": dataclasses.asdict(classifier.equilibrium_config.forward),
                     "pgd_gradient": base.pgd_gradient}}
    print(json.dumps(row))
    return row


if __name__ == "__main__":
    main()
