"""How quick the Quick preview is: for every built-in sample and task kind, in a fresh process on the CPU with two
threads, the seconds from Start to the first visible result, to a recognisable one and to the end of the preview,
and how far the ETA the window shows was from the truth.

    python bench/preview_times.py [--rows fit-image fit-audio ...] [--cap 300] [--write FILE.json]

Each row builds its task from the kind's `preview` preset (the window's starting settings for that file on a CPU)
and runs it through `engine.loop.run` as the window's worker does (a snapshot at every logged step), timing from
the build's end. First visible: the first snapshot with a preview picture. Recognisable: the first evaluation that
reaches the row's bar (image ≥ 24 dB PSNR, sound ≥ 10 dB SNR, video ≥ 22 dB, shape IoU ≥ 0.8; races and attacks:
every method's previews shown; training on a dataset: its first evaluation). ETA error: at a quarter of the steps,
|predicted remaining − actual remaining| / actual remaining, the prediction being the window's (app/run_phase.py:
the steps left at the training speed so far, and the evaluations left at the time each took so far). A row cut off at `--cap` seconds reports null for what it did not reach.
Goal on a quiet 2-core machine: first ≤ 3 s, recognisable ≤ 30 s, total ≤ 120 s, ETA error ≤ 0.3 for every row.

Prints `{"rows": [{"task", "medium", "first_s", "recognisable_s", "total_s", "eta_error", "steps"}], ...}`.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import use_shared_data  # noqa: E402
from engine.media import medium_of  # noqa: E402

ROWS = {
    "fit-image": ("fit", "image.png"), "fit-audio": ("fit", "audio.wav"), "fit-video": ("fit", "video.mp4"),
    "fit-mesh": ("fit", "mesh.ply"), "duel-image": ("duel", "image.png"), "train-prior": ("train-prior", None),
    "inverse": ("inverse", None), "attack": ("attack", None), "adv-train": ("adv-train", None),
    "meta-train": ("meta-train", None),
}
"""Row name → (task kind, built-in sample or None)."""
RECOGNISABLE = {"image": ("eval_psnr_train", 24.0), "audio": ("snr_train", 10.0), "video": ("eval_psnr_train", 22.0),
                "mesh": ("iou_uniform", 0.8)}
"""A fit's bar: the metric of an evaluation and the value it must reach."""
GOAL = {"first_s": 3.0, "recognisable_s": 30.0, "total_s": 120.0, "eta_error": 0.3}

MEASURE = r"""
import json, sys, time
import torch
torch.set_num_threads(2)
from engine.loop import run
from engine.media import medium_of
from engine.resources import sample_path
from engine.tasks.kinds import task_kind
kind, sample, cap, metric, bar = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
path = sample_path(sample) if sample != "-" else None
medium = medium_of(path) if path is not None else None
config = task_kind(kind).preset("preview", torch.device("cpu"), medium)
task = task_kind(kind).build(config, path, torch.device("cpu"))
if kind == "duel":  # the first network's score
    metric = f"{config.model.model}/{metric}"
EVALUATED = ("psnr_held_out", "accuracy_clean", "accuracy_test")
schedule = task.schedule()
from app.run_phase import RunPhase  # the window's ETA (no Qt)
phase = RunPhase()
phase.started(task.train_time, task.step_count, schedule.eval_every, task.final_evaluation_weight())
start = time.perf_counter()
first = recognisable = eta = quarter_time = best = None
for snap in run(task, schedule.steps, log_every=schedule.log_every, eval_every=schedule.eval_every,
                snapshot_every=schedule.log_every, stop_requested=lambda: time.perf_counter() - start > cap,
                on_phase=lambda name: phase.worker(name, True)):  # as the window's worker tells it
    now = time.perf_counter() - start
    if first is None and snap.previews:
        first = now
    if metric != "-":  # a fit: its bar
        value = snap.scalars.get(metric)
        reached = value is not None and value >= bar
        best = value if value is not None and (best is None or value > best) else best
    elif task_kind(kind).race:  # a race: every method's previews shown
        reached = snap.final
    else:  # training on a dataset: its first evaluation
        reached = any(key in snap.scalars for key in EVALUATED)
    if recognisable is None and reached:
        recognisable = now
    if eta is None and snap.step >= schedule.steps / 4 and snap.elapsed_s > 0 and not task_kind(kind).race:
        eta, quarter_time = phase.eta(snap.step, schedule.steps, snap.elapsed_s), now
end = time.perf_counter() - start
done = task.step_count >= schedule.steps
print(json.dumps({"first_s": first, "recognisable_s": recognisable, "total_s": end if done else None,
                  "eta_error": abs(eta - (end - quarter_time)) / (end - quarter_time) if eta is not None and done
                  else None, "steps": schedule.steps, "steps_done": task.step_count, "best": best}))
"""


def measure(row: str, cap: float) -> dict:
    kind, sample = ROWS[row]
    medium = medium_of(sample) if sample else None
    metric, bar = RECOGNISABLE.get(medium, ("-", 0.0)) if kind in ("fit", "duel") else ("-", 0.0)
    done = subprocess.run([sys.executable, "-c", MEASURE, kind, sample or "-", str(cap), metric, str(bar)], cwd=ROOT,
                          capture_output=True, text=True, timeout=cap + 600)
    if done.returncode != 0:
        raise SystemExit(f"{row} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"task": kind, "medium": medium, "row": row, **{k: round(v, 2) if isinstance(v, float) else v
                                                           for k, v in result.items()}}


def within_goal(row: dict) -> bool:
    return all(row[key] is not None and row[key] <= limit for key, limit in GOAL.items()
               if not (key == "eta_error" and row["task"] in ("inverse", "attack")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--cap", type=float, default=300.0, help="stop a row after this many seconds")
    parser.add_argument("--write", help="also write the JSON here")
    args = parser.parse_args()
    use_shared_data()
    rows = []
    for name in args.rows:
        started = time.perf_counter()
        row = measure(name, args.cap)
        row["within_goal"] = within_goal(row)
        rows.append(row)
        print(f"{name}: {row} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    report = {"rows": rows, "goal": GOAL, "threads": 2, "device": "cpu",
              "all_within_goal": all(row["within_goal"] for row in rows)}
    text = json.dumps(report, indent=1)
    if args.write:
        Path(args.write).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
