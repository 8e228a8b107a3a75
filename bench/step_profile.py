"""Where one training step's time goes on a device: kernels launched, waits for the host (`.item()` and the like),
and how busy the GPU is inside the step's wall time.

    python bench/step_profile.py TASK [task flags ...]      e.g. adv-train --batch-size 64 --attack none
    PROFILE_DEVICE=cpu python bench/step_profile.py ...      (default: cuda)

Builds the task with the full preset, takes 5 steps to warm up, times 10, profiles 3 (torch.profiler) and prints
one JSON line (ms_per_step, gpu_busy_ms_per_step, kernels_per_step, host_syncs_per_step), then the profiler's table.
A GPU busy for a small part of the step is bound by the host launching kernels, not by arithmetic.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import cli  # noqa: E402
from engine.tasks.kinds import task_kind  # noqa: E402

WARM_UP, TIMED, PROFILED = 5, 10, 3
HOST_WAITS = ("aten::_local_scalar_dense",)
"""What every `.item()`, `bool()` or `float()` of a tensor runs: on a GPU the host waits for the device there."""


def main(argv: list[str]) -> dict:
    device = os.environ.get("PROFILE_DEVICE", "cuda")
    name, flags = argv[0], argv[1:]
    kind = task_kind(name)
    config, path = cli.settings(kind, cli.build_parser().parse_args([name, "--preset", "full", "--device", device,
                                                                     *flags]))
    task = kind.build(config, path, torch.device(device))
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(WARM_UP):
        task.step()
    sync()
    start = time.perf_counter()
    for _ in range(TIMED):
        task.step()
    sync()
    step_ms = (time.perf_counter() - start) / TIMED * 1e3
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as profiler:
        for _ in range(PROFILED):
            task.step()
        sync()
    events = profiler.key_averages()
    on_device = [event for event in events if event.device_type.name == "CUDA"]
    report = {"task": name, "flags": flags, "device": device, "ms_per_step": round(step_ms, 2),
              "gpu_busy_ms_per_step": round(sum(e.self_device_time_total for e in on_device) / PROFILED / 1e3, 2),
              "kernels_per_step": sum(e.count for e in on_device) // PROFILED,
              "host_syncs_per_step": sum(e.count for e in events if e.key in HOST_WAITS) // PROFILED}
    print(json.dumps(report))
    print(events.table(sort_by="self_cpu_time_total", row_limit=15))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
