"""Benchmark fits as resumable `deq-studio fit` runs: each (file, model) is one run folder, its command kept.

A run cut off (a time budget, a session ending) keeps its checkpoint and is resumed by the next call, so a long
table fills in across sessions; a finished run (its last row the final evaluation) is only read.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def run_environment(threads: int | None = None) -> dict[str, str]:
    """The environment of a benchmark's runs: the real data where the product looks for it, and `threads` torch
    threads per run where given."""
    from bench.shared_data import shared_data_dir

    env = dict(os.environ, DEQ_STUDIO_DATA=str(shared_data_dir()))
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def deadline_after(minutes: float | None) -> float:
    """The monotonic time a budget of `minutes` ends at (never, without one)."""
    return time.monotonic() + (minutes * 60 if minutes else float("inf"))


def fit_command(file: Path, model: str, folder: Path, flags: list[str], steps: int, device: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "fit", str(file), "--model", model, *flags, "--steps", str(steps),
            "--device", device, "--out", str(folder)]


def shown(command: list[str]) -> str:
    """The command as a reader types it from the project root."""
    return relative(" ".join(["python"] + command[1:]))


def relative(text: str) -> str:
    """`text` with this machine's paths as a reader has them: the project root left out, the real data as
    ../shared/data (where DEQ_STUDIO_DATA points by default)."""
    from bench.shared_data import shared_data_dir

    return text.replace(str(shared_data_dir()), "../shared/data").replace(str(ROOT) + "/", "")


def rows_of(folder: Path) -> list[dict]:
    path = folder / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line: `resume` drops it
    return rows


def state_of(folder: Path, steps: int) -> str:
    """new, partial (a checkpoint to resume) or done (the final evaluation written)."""
    rows = rows_of(folder)
    final = rows[-1] if rows else {}
    if final.get("step") == steps and any(key.startswith(("psnr_test", "eval_", "iou")) for key in final):
        return "done"
    return "partial" if (folder / "checkpoint.pt").is_file() else "new"


def run_until(command: list[str], deadline: float, env: dict) -> int:
    """Run `command`; past `deadline` ask it to stop (SIGTERM: it checkpoints and exits) and wait."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGTERM)
            return process.wait()
        time.sleep(1.0)
    return process.returncode


def run_fit(file: Path, model: str, folder: Path, flags: list[str], steps: int, device: str, deadline: float,
            env: dict, only_report: bool = False) -> dict:
    """Start, resume or just read the run of `model` on `file` in `folder`; its record: state, step, the final
    evaluation row (`final`), the median ms per step (the first step, which solves, left out) and the command."""
    command = fit_command(file, model, folder, flags, steps, device)
    state = state_of(folder, steps)
    if not only_report and state != "done" and time.monotonic() < deadline:
        step = (rows_of(folder) or [{"step": 0}])[-1]["step"]
        print(f"{file.stem} {model}: {state} at step {step}", file=sys.stderr, flush=True)
        again = [sys.executable, "-m", "engine.cli", "resume", str(folder)]
        run_until(again if state == "partial" else command, deadline, env)
        state = state_of(folder, steps)
    rows = rows_of(folder)
    times = [r["ms_per_step"] for r in rows if "ms_per_step" in r][1:]
    return {"file": file.stem, "model": model, "state": state, "step": rows[-1].get("step", 0) if rows else 0,
            "final": rows[-1] if state == "done" else {},
            "ms_per_step": float(np.median(times)) if times else None, "command": shown(command)}
