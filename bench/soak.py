"""Soak: a long headless fit, its resident memory sampled as it runs, printed as JSON.

    python bench/soak.py [--minutes 30] [--file PATH] [--warmup-s 60]

The fit is the window's Quick preview of the file (the built-in image by default), trained with the CLI's loop
(metrics and evaluations included) until the time is up. The loop hands freed memory back now and then
(engine/allocator.py), so resident memory saws between a trimmed low and a working peak: growth compares the peak
of the last minute with the peak of the first minute after the warm-up; it should stay under 5 %. The low points
(the smallest sample of each minute) are reported too.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import psutil
    import torch

    from engine.loop import run
    from engine.media import medium_of
    from engine.resources import sample_path
    from engine.run_directory import RunDirectory
    from engine.tasks.kinds import build_fit_task, task_kind

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--file", default=str(sample_path("image.png")))
    parser.add_argument("--warmup-s", type=float, default=60.0)
    args = parser.parse_args()

    device = torch.device("cpu")
    config = task_kind("fit").preset("preview", device, medium_of(args.file))
    task = build_fit_task(Path(args.file), config, device)
    process = psutil.Process()
    start = time.monotonic()
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        folder_run = RunDirectory(folder)
        schedule = task.schedule()
        for _ in run(task, 10 ** 9, log_every=schedule.log_every, eval_every=schedule.eval_every,
                     logger=folder_run.append_metrics):
            elapsed = time.monotonic() - start
            samples.append((elapsed, process.memory_info().rss / 1e6))
            if elapsed > args.minutes * 60:
                break
    minutes: dict[int, list[float]] = {}
    for t, rss in samples:
        if t >= args.warmup_s:
            minutes.setdefault(int((t - args.warmup_s) // 60), []).append(rss)
    windows = [minutes[k] for k in sorted(minutes)] or [[samples[-1][1]]]
    first, last = max(windows[0]), max(windows[-1])
    print(json.dumps({"file": Path(args.file).name, "minutes": round(samples[-1][0] / 60, 2),
                      "steps": task.step_count, "peak_first_minute_after_warmup_mb": round(first, 1),
                      "peak_last_minute_mb": round(last, 1), "rss_peak_mb": round(max(rss for _, rss in samples), 1),
                      "low_per_minute_mb": [round(min(w), 1) for w in windows],
                      "peak_per_minute_mb": [round(max(w), 1) for w in windows],
                      "growth_after_warmup": round(last / first - 1, 4)}, indent=2))


if __name__ == "__main__":
    main()
