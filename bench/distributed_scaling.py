"""Throughput of one process against several on the same global batch (torchrun, DistributedDataParallel).

For each task: `deq-studio <task>` in one process with every CPU thread (or one GPU), then under torchrun with
`--processes` processes (CPU: the threads shared out, one each by default; GPU: one per device). The same settings,
seed and global batch; the median step time over the logged steps after a warm-up (evaluation excluded). Prints
JSON with each task's `speedup` (one process's step time ÷ the job's).

    python bench/distributed_scaling.py [--processes 2] [--steps 40] [--device cpu|cuda] [--tasks adv-train ...]
                                        [--shares 2 4 8]

`--processes 1` measures the one-process step times alone (one GPU: the per-GPU step a multi-GPU job repeats).

`--shares 2 4 8` is the measurement for a node one does not have: one process (one GPU) also runs the share of
the global batch each of N processes computes (batch ÷ N) and the batch N times larger (one GPU given what N GPUs
would hold). From those, for each N, the expected speedup of N processes on the same global batch (strong
scaling) is t(batch) ÷ (t(batch ÷ N) + all-reduce), and the samples per second of N GPUs each holding the full
batch (weak scaling) is N × batch ÷ (t(batch) + all-reduce), set beside one GPU given the N-times batch. The
all-reduce is the ring's time for the gradient bytes (read from the run's optimizer state):
latency + 2 (N − 1) / N × bytes ÷ bandwidth, with `--link-latency-us` and `--link-gbs` (assumed, not measured:
one machine cannot measure its link to a second GPU). Every rank also draws the whole global batch before keeping
its share; that sampling is in t(batch ÷ N) only for its share (it is small next to the solves here).
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

from bench.shared_data import use_shared_data  # noqa: E402

use_shared_data()

TASKS = {
    "adv-train": ("--batch-size", 64, ["--attack", "none"]),
    "meta-train": ("--tasks-per-step", 4, ["--jiio-iterations", "40"]),
    "train-prior": ("--batch-size", 32, ["--jiio-iterations", "20"]),
}
"""Each task's batch option, the global batch each step shares out, and its other settings (the full preset)."""
WARM_UP = 5


def gradient_bytes(run_folder: Path) -> int:
    """The bytes DistributedDataParallel all-reduces each step: every trained parameter's gradient (the optimizer's
    first moments have the same shapes)."""
    from engine.checkpoint import load_checkpoint

    _, _, state = load_checkpoint(run_folder / "checkpoint.pt")
    moments = [entry["exp_avg"] for entry in state["optimizer"]["state"].values()]
    return sum(moment.numel() * moment.element_size() for moment in moments)


def run(task: str, processes: int, steps: int, device: str, threads: int, batch: int | None = None) -> dict:
    option, default_batch, settings = TASKS[task]
    batch = batch or default_batch
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        words = [task, "--preset", "full", option, str(batch), *settings, "--steps", str(steps), "--log-every", "1",
                 "--eval-every", str(10 * steps), "--device", device, "--out", str(out)]
        if task == "meta-train":
            words += ["--eval-episodes", "4"]
        elif task == "adv-train":
            words += ["--eval-images", "16"]
        launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
                    if processes > 1 else [sys.executable])
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        start = time.perf_counter()
        done = subprocess.run([*launcher, "-m", "engine.cli", *words], env=env, capture_output=True, text=True,
                              cwd=folder)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{task} in {processes} processes failed: {done.stderr[-1500:]}")
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        gradients = gradient_bytes(out)
    step_ms = [row["ms_per_step"] for row in rows if row["step"] > WARM_UP]
    return {"processes": processes, "threads_each": threads, "batch": batch,
            "ms_per_step_median": statistics.median(step_ms), "wall_s": round(wall, 1), "final_loss": rows[-1]["loss"],
            "gradient_bytes": gradients}


def all_reduce_ms(size: int, processes: int, latency_us: float, gbs: float) -> float:
    """A ring all-reduce's time: its latency plus 2 (N − 1) / N of the bytes over the link's bandwidth."""
    return latency_us / 1e3 + 2 * (processes - 1) / processes * size / (gbs * 1e9) * 1e3


def expected_scaling(task: str, one: dict, steps: int, device: str, threads: int, shares: list[int],
                     latency_us: float, gbs: float) -> dict:
    """One process on each share of the batch and on the N-times batch; the expected speedups from them."""
    batch, base_ms = one["batch"], one["ms_per_step_median"]
    table = {}
    for processes in shares:
        row: dict = {"all_reduce_ms": round(all_reduce_ms(one["gradient_bytes"], processes, latency_us, gbs), 4)}
        if batch % processes == 0:  # strong scaling: the same global batch shared out
            share = run(task, 1, steps, device, threads, batch // processes)
            row.update(share_batch=share["batch"], share_ms=round(share["ms_per_step_median"], 2),
                       speedup=round(base_ms / (share["ms_per_step_median"] + row["all_reduce_ms"]), 2))
        whole = run(task, 1, steps, device, threads, batch * processes)  # weak scaling: N GPUs each with `batch`
        row.update(times_batch=whole["batch"], times_batch_ms=round(whole["ms_per_step_median"], 2),
                   one_process_samples_per_s=round(whole["batch"] / whole["ms_per_step_median"] * 1e3, 1),
                   n_processes_samples_per_s=round(processes * batch / (base_ms + row["all_reduce_ms"]) * 1e3, 1))
        table[str(processes)] = row
    return table


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--shares", nargs="*", type=int, default=[],
                        help="numbers of processes to expect the scaling of, from one process's runs (see above)")
    parser.add_argument("--link-latency-us", type=float, default=30.0,
                        help="an all-reduce's latency between the GPUs of a node (assumed)")
    parser.add_argument("--link-gbs", type=float, default=100.0,
                        help="an all-reduce's bus bandwidth in GB/s between the GPUs of a node (assumed)")
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
        if args.shares:
            report["link"] = {"latency_us": args.link_latency_us, "bus_gbs": args.link_gbs, "assumed": True}
            report["tasks"][task]["expected"] = expected_scaling(
                task, one, args.steps, args.device, cores, args.shares, args.link_latency_us, args.link_gbs)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
