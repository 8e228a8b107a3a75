"""Run folders the window saves and reopens: the same config.json, metrics.jsonl and checkpoint.pt the CLI writes,
so `deq-studio resume FOLDER` continues a window's snapshot and the window reopens a CLI run.

Fits, generative priors and classifier training are resumable; the folders of a JIIO race or an attack (re-run,
not resumed) reopen as their curves alone.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from app.task_kinds import TASK_KINDS
from engine.config import from_dict, to_dict
from engine.run_directory import RunDirectory
from engine.tasks import RESUMABLE, build_resumed_task

CURVES_ONLY = ("inverse", "attack")
"""Run kinds whose folders reopen as curves only."""


@dataclasses.dataclass
class ReopenedRun:
    """What a run folder held: the window's task kind, the task where it stopped (None for curves-only runs), the
    settings it was built from, its metrics rows and, for fits, the input file."""

    key: str
    task: Any
    settings: Any
    rows: list[dict]
    path: Path | None = None


def save_run(folder: str | Path, key: str, task, rows: list[dict], path: Path | None) -> Path:
    """Write `task` (of window kind `key`) as a resumable run folder with its metrics rows; OSError on failure."""
    run_kind = TASK_KINDS[key].run_kind
    if run_kind is None:
        raise ValueError(f"a {key} run is not resumable")
    out = RunDirectory(folder)
    record: dict[str, Any] = {"task": run_kind, "config": to_dict(task.config)}
    if path is not None:
        record["input"] = str(Path(path).resolve())
    out.write_config(record)
    (out.path / "metrics.jsonl").unlink(missing_ok=True)
    for row in rows:
        out.append_metrics(row)
    return out.save_checkpoint(run_kind, to_dict(task.config), task.state_dict())


def reopen_run(folder: str | Path, device: torch.device) -> ReopenedRun:
    """Read a run folder and rebuild its task on `device` where it stopped.

    Raises the engine's errors (CheckpointError, ConfigError, SignalError, ModelFileError) or ValueError /
    KeyError / OSError for folders that are not runs."""
    run = RunDirectory(folder)
    record = run.read_config()
    task_name = record.get("task")
    if task_name in CURVES_ONLY:
        return ReopenedRun(task_name, None, None, run.read_metrics())
    if task_name not in RESUMABLE:
        raise ValueError(f"not a run folder the window knows (task {task_name!r})")
    key = next(key for key, kind in TASK_KINDS.items() if kind.run_kind == task_name)
    settings = dataclasses.replace(from_dict(RESUMABLE[task_name], record["config"]), device="auto")
    _, _, state = run.load_checkpoint()
    task = build_resumed_task(record, dataclasses.replace(settings, device=device.type), device)
    task.load_state_dict(state)
    path = Path(record["input"]) if task_name == "fit" else None
    return ReopenedRun(key, task, settings, run.read_metrics(), path)
