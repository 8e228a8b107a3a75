"""The JIIO paper's MNIST adversarial-training table: rows = how the classifier was trained (clean, PGD, JIO),
columns = accuracy on held-out digits when clean, under PGD-20 and under JIO-80 (L2 ε = 1, SPEC settings).

The classifiers come from `deq-studio adv-train` run folders (or model files); every attack is scored by re-solving
the classifier from zero. Prints one JSON object per classifier per line, then a markdown table on stderr.

    python bench/adv_table.py [--runs runs/classifier-none runs/classifier-pgd runs/classifier-jio] [--count 500]
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
from engine.model_store import load_model  # noqa: E402
from engine.models.mdeq.stored import load_classifier  # noqa: E402
from engine.datasets.mnist import held_out_digits  # noqa: E402
from engine.tasks.adversarial import to_unit  # noqa: E402

DEFAULT_RUNS = ["runs/classifier-none", "runs/classifier-pgd", "runs/classifier-jio"]


def model_path(entry: str) -> Path:
    path = Path(entry)
    return path / "classifier.safetensors" if path.is_dir() else path


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="adv-train run folders or model files")
    parser.add_argument("--data", default="", help="MNIST folder (default: $DEQ_STUDIO_DATA/mnist; bench/shared_data.py)")
    parser.add_argument("--count", type=int, default=500, help="held-out digits scored")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    images, labels = held_out_digits(args.data, args.count)
    images, labels = to_unit(images, device), torch.from_numpy(labels.copy()).to(device)
    rows = []
    for entry in args.runs:
        path = model_path(entry)
        classifier = load_classifier(path, device)
        trained = load_model(path)[1].get("attack", "?")
        row = {"classifier": str(entry), "trained_with": {"none": "clean"}.get(trained, trained),
               "clean": round(accuracy(classifier, images, labels), 4)}
        for method in ("pgd", "jio"):
            found = attack(classifier, images, labels, dataclasses.replace(AttackConfig(), method=method))
            row[method] = round(1.0 - found.success_rate(labels), 4)
            row[f"{method}_s"] = round(found.seconds, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({"setup": {"device": device_name(device), "count": args.count,
                                "attack": dataclasses.asdict(AttackConfig())}}))
    lines = ["| trained with | clean | PGD-20 | JIO-80 |", "|---|---|---|---|"]
    lines += [f"| {r['trained_with']} | {r['clean']:.3f} | {r['pgd']:.3f} | {r['jio']:.3f} |" for r in rows]
    print("\n".join(lines), file=sys.stderr)
    return rows


if __name__ == "__main__":
    main()
