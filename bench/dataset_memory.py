"""Peak memory of the dataset tasks (train-prior, inverse, attack, adv-train, meta-train) against `engine.memory`'s
estimate, printed as JSON.

    python bench/dataset_memory.py          # every case: measured, estimated, ratio
    python bench/dataset_memory.py --fit    # also each kind's bytes per (example × state number), from its cases

Each case runs in a fresh process: build the task (data loaded, model made), note the resident memory, take the
kind's steps (a race: every method) and its final evaluation, and report the peak resident memory above the noted one
(sampled every 20 ms). The memory of these tasks grows with the examples solved at once times the numbers of one
example's equilibrium state (the kind's registered `memory`, `engine.memory.DatasetMemory`); two sizes per kind give
the coefficient and the rest test it: the estimate should not fall below the measurement.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import use_shared_data  # noqa: E402

CASES = {
    # name: (role, kind, settings, steps)
    "attack-64": ("calibrate", "attack", {"count": 64}, 2),
    "attack-256": ("calibrate", "attack", {"count": 256}, 2),
    "attack-128-jio-only": ("check", "attack", {"count": 128, "method": "jio"}, 1),
    "inverse-64": ("calibrate", "inverse", {"count": 64}, 2),
    "inverse-256": ("calibrate", "inverse", {"count": 256}, 2),
    "adv-train-64": ("calibrate", "adv-train", {"batch_size": 64, "eval_images": 64, "steps": 2}, 2),
    "adv-train-256": ("calibrate", "adv-train", {"batch_size": 256, "eval_images": 256, "steps": 2}, 2),
    "adv-train-128-wide": ("check", "adv-train", {"batch_size": 128, "eval_images": 128, "steps": 2,
                                                  "channels": [32, 64]}, 2),
    "train-prior-128": ("calibrate", "train-prior", {"batch_size": 128, "steps": 2}, 2),
    "train-prior-512": ("calibrate", "train-prior", {"batch_size": 512, "steps": 2}, 2),
    "train-prior-64-wide": ("check", "train-prior", {"batch_size": 64, "steps": 2, "channels": [32, 64]}, 2),
    "meta-train-2": ("calibrate", "meta-train", {"tasks_per_step": 2, "eval_episodes": 2, "steps": 2}, 2),
    "meta-train-8": ("calibrate", "meta-train", {"tasks_per_step": 8, "eval_episodes": 2, "steps": 2}, 2),
}

MEASURE = r"""
import json, sys, threading, time
import psutil, torch
from engine.config import from_dict, to_dict
from engine.tasks.kinds import task_kind
kind, settings, steps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(2)
config = from_dict(task_kind(kind).config, {**to_dict(task_kind(kind).config()), **settings, "device": "cpu"})
task = task_kind(kind).build(config, None, torch.device("cpu"))
process, peak = psutil.Process(), [0]
def watch():
    while True:
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.02)
time.sleep(0.1)
held = process.memory_info().rss
threading.Thread(target=watch, daemon=True).start()
for _ in range(steps):
    task.step()
task.evaluate(final=True)
time.sleep(0.1)
estimate = task_kind(kind).memory.of(config, task)
print(json.dumps({"measured": peak[0] - held, "examples": estimate.examples, "state": estimate.state,
                  "estimated": estimate.total}))
"""


def measure(kind: str, settings: dict, steps: int) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, kind, json.dumps(settings), str(steps)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    use_shared_data()
    results = {}
    for name, (role, kind, settings, steps) in CASES.items():
        found = measure(kind, settings, steps)
        found.update(role=role, kind=kind, ratio=round(found["estimated"] / max(found["measured"], 1), 2))
        results[name] = found
        print(json.dumps({name: found}), file=sys.stderr, flush=True)
    if "--fit" in sys.argv:  # per kind: the slope of measured bytes over (examples × state numbers)
        slopes = {}
        for kind in sorted({case[1] for case in CASES.values()}):
            points = sorted((r["examples"] * r["state"], r["measured"]) for r in results.values()
                            if r["kind"] == kind and r["role"] == "calibrate")
            (x0, y0), (x1, y1) = points[0], points[-1]
            slopes[kind] = round((y1 - y0) / (x1 - x0), 1)
        results["bytes_per_state"] = slopes
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
