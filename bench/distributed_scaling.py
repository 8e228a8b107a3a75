"""Throughput of one process against several on the same global batch (torchrun, DistributedDataParallel).

For each task: `deq-studio <task>` in one process with every CPU thread (or one GPU), then under torchrun with
`--processes` processes (CPU: the threads shared out, one each by default; GPU: one per device). The same settings,
seed and global batch; the median step time over the logged steps after a warm-up (evaluation excluded). Prints
JSON with each task's `speedup` (one process's step time ÷ the job's).

    python bench/distributed_scaling.py [--processes 2] [--steps 40] [--device cpu|cuda] [--tasks adv-train ...]

`--processes 1` measures the one-process step times alone (one GPU: the per-GPU step a multi-GPU job repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.data import use_shared_data  # noqa: E402

use_shared_data()

TASKS = {
    "adv-train": ["--batch-size", "64", "--attack", "none"],
    "meta-train": ["--tasks-per-step", "4", "--jiio-iterations", "40"],
    "train-prior": ["--batch-size", "32", "--jiio-iterations", "20"],
}
"""Each task's settings: the full preset's network with the batch each step shares out."""
WARM_UP = 5


def run(task: str, processes: int, steps: int, device: str, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        words = [task, "--preset", "full", *TASKS[task], "--steps", str(steps), "--log-every", "1",
                 "--eval-every", str(10 * steps), "--device", device, "--out", str(out)]
        if task == "meta-train":
            words += ["--eval-episodes", "4"]
        elif task == "adv-train":
            words += ["--eval-images", "16"]
        launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
                    if processes > 1 else [sys.executable])
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        done = subprocess.run([*launcher, "-m", "engine.cli", *words], env=env, capture_output=True, text=True,
                              cwd=folder)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{task} in {processes} processes failed: {done.stderr[-1500:]}")
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    step_ms = [row["ms_per_step"] for row in rows if row["step"] > WARM_UP]
    return {"processes": processes, "threads_each": threads, "ms_per_step_median": statistics.median(step_ms),
            "wall_s": round(wall, 1), "final_loss": rows[-1]["loss"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    report: dict = {"device": args.device, "cpu_cores": cores, "steps": args.steps, "tasks": {}}
    for task in args.tasks:
        one = run(task, 1, args.steps, args.device, cores)
        report["tasks"][task] = {"one": one}
        if args.processes > 1:  # --processes 1: the one-process step times alone (a machine with one GPU)
            many = run(task, args.processes, args.steps, args.device, max(1, cores // args.processes))
            report["tasks"][task].update(several=many, speedup=round(one["ms_per_step_median"]
                                                                     / many["ms_per_step_median"], 2))
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
