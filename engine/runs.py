"""The run lifecycle both front ends call: start a run in a new folder, checkpoint and finish it, save a snapshot of a
task, resume a run, reopen a run folder where it stopped.

A run folder is a `RunDirectory`: config.json {"task": kind, "input": file or dataset, "config": settings},
metrics.jsonl, the task's export and checkpoint.pt. The CLI writes it while it trains; the window saves one on
request; either continues the other's (`deq-studio resume`, the window's Load).
"""
from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import torch

from engine.checkpoint import CheckpointError, layout_mismatch
from engine.config import to_dict
from engine.distributed import Ranks
from engine.errors import UserError
from engine.run_directory import CONFIG, RunDirectory, RunFolderError
from engine.run_lock import run_lock
from engine.tasks.base import Snapshot, Task
from engine.tasks.kinds import TaskKind, task_kind

DEFAULT_RUNS = Path("runs")
"""Where runs go when no folder is named (relative to the working folder)."""
NAME_BYTES = 120
"""The longest run folder name made from an input's name (file systems allow 255 bytes; `-2`, ... may follow)."""


def folder_name(kind: TaskKind, config: Any, path: Path | None) -> str:
    """The name of a new run's folder (`kind.run_name`), its middle cut out when it is too long for a file system."""
    name = kind.run_name(config, path)
    encoded = name.encode("utf-8")
    if len(encoded) <= NAME_BYTES:
        return name
    head = encoded[: NAME_BYTES * 2 // 3].decode("utf-8", "ignore")
    tail = encoded[-(NAME_BYTES // 3 - 2):].decode("utf-8", "ignore")
    return f"{head}--{tail}"


def run_record(kind: TaskKind, config: Any, path: Path | None) -> dict[str, Any]:
    """The config.json of a run of `kind` with `config` on `path`, with a new run id (its checkpoints carry it)."""
    record: dict[str, Any] = {"task": kind.name, "run_id": uuid.uuid4().hex}
    source = kind.record_input(config, path)
    if source is not None:
        record["input"] = source
        if path is not None and Path(path).is_file():
            record["input_sha256"] = file_digest(Path(path))
    record["config"] = to_dict(config)
    return record


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes: a run continues only on the very file it started on."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def start_run(kind: TaskKind, task: Task, path: Path | None, out: str | Path | None) -> RunDirectory:
    """The folder of a new run of the built `task`: `out` (new or empty, else RunFolderError), or a fresh
    runs/<name> (name-2, ... when taken); config.json written, metrics empty."""
    config = task.config
    if out:
        run = RunDirectory.create(out)
    else:
        run = RunDirectory.create(DEFAULT_RUNS / folder_name(kind, config, path), fresh=True)
    run.start(run_record(kind, config, path))
    return run


def checkpoint(run: RunDirectory, kind: TaskKind, task: Task) -> Path:
    """Save the task's state (and its settings) into the run folder."""
    config = to_dict(task.config)
    return run.save_checkpoint(kind.name, config, task.state_dict())


def finish(run: RunDirectory, kind: TaskKind, task: Task) -> Path:
    """Write the task's export (reconstruction, model, images) and a checkpoint (and a task made of parts, a duel,
    each part's own run folder); returns the export."""
    written = task.export(run.path)
    checkpoint(run, kind, task)
    if task.parts():
        source = run.read_config().get("input")
        save_parts(run, task, run.read_metrics(), Path(source) if source else None)
    return written


def save_parts(run: RunDirectory, task: Task, rows: list[dict], path: Path | None) -> list[Path]:
    """For a task made of parts (a duel's two fits), each part as an ordinary resumable fit run folder inside the
    run folder (`<run>/<network>/`: its settings, its own metrics rows, its checkpoint and its export)."""
    parts = task.parts
    if not parts():
        return []
    from engine.tasks.duel import split_row

    sides = [split_row(row) for row in rows]
    folders = []
    for name, part in parts().items():
        folder = run.path / name
        part_run = save_run(folder, task_kind("fit"), part, [side[name] for side in sides if name in side], path,
                            rewrite=(folder / CONFIG).is_file())
        part.export(part_run.path)
        folders.append(part_run.path)
    return folders


def save_run(folder: str | Path, kind: TaskKind, task: Task, rows: list[dict], path: Path | None,
             rewrite: bool = False) -> RunDirectory:
    """A resumable run folder of `task` with its metrics `rows` (and, once it has trained, its export): `folder`
    when it is new or empty, or when
    `rewrite` (the run folder this task was saved into or loaded from); beside it (`folder-2`) when it is another
    run's folder; else a fresh subfolder of it named after the run. OSError / RunFolderError on failure."""
    if not kind.resumable:
        raise ValueError(f"a {kind.name} run is not resumable")
    config = task.config
    folder = Path(folder)
    if rewrite:
        run = RunDirectory.open(folder)
    elif not folder.exists() or folder.is_dir() and not any(folder.iterdir()):
        run = RunDirectory.create(folder)
    elif (folder / CONFIG).is_file():  # another run's folder: a new one beside it
        run = RunDirectory.create(folder, fresh=True)
    else:
        run = RunDirectory.create(folder / folder_name(kind, config, path), fresh=True)
    with run_lock(run.path):  # refused while another process writes the folder
        run.remove_orphan_temporaries()
        run.start(run_record(kind, config, path), rows)
        checkpoint(run, kind, task)
        if task.step_count:  # what it has learnt, in its medium, beside the checkpoint (as a finished CLI run)
            task.export(run.path)
        save_parts(run, task, rows, path)
    return run


def resume_run(folder: str | Path, steps: int | None = None, device: str | None = None, lr: float | None = None,
               ranks: Ranks = Ranks()) -> tuple[TaskKind, Task, RunDirectory]:
    """The task of a run folder where its checkpoint left it (settings as saved, with a new step count, device or
    learning rate); metrics past the checkpoint are dropped and config.json records the settings it continues
    with. In a job of several processes (`ranks`) each builds the task on its device and takes part; rank 0 alone
    rewrites the folder's files (its caller holds the folder's lock, `engine.run_lock`)."""
    from engine.device import resolve_device

    run = RunDirectory.open(folder)
    record = run.read_config()
    kind = _resumable_kind(record, run.path)
    config = kind.stored_settings(record["config"])
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    if device is not None:
        config = dataclasses.replace(config, device=device)
    kind.require_processes(ranks.world, config, Path(record["input"]) if kind.needs_file and "input" in record
                           else None)
    task = _rebuild(kind, record, config, ranks.device(resolve_device(config.device)), run)
    if ranks.distributed:
        task.distribute(ranks)
    if steps is not None and steps < task.step_count:
        raise UserError(f"The run in {run.path.name} is already at step {task.step_count}: give --steps "
                        f"{task.step_count} or more (or leave it out to keep its {record['config'].get('steps')}).")
    if lr is not None:
        task.set_lr(lr)  # after the checkpoint, whose optimizer state holds the old one
    if ranks.main:
        run.remove_orphan_temporaries()
        run.truncate_metrics(task.step_count)
        run.write_config({**record, "config": to_dict(task.config)})
    return kind, task, run


@dataclasses.dataclass
class ReopenedRun:
    """What a run folder held: its kind, the task where it stopped (None for a race: its curves alone), the settings
    it was built from (device "auto"), its metrics rows, the fitted file, and a snapshot of the restored task."""

    kind: TaskKind
    task: Task | None
    settings: Any
    rows: list[dict]
    path: Path | None = None
    snapshot: Snapshot | None = None


def reopen_run(folder: str | Path, device: torch.device) -> ReopenedRun:
    """Read a run folder and rebuild its task on `device` where it stopped, evaluated (so its previews show).

    Raises the engine's errors (CheckpointError, ConfigError, SignalError, ModelFileError, RunFolderError) or
    ValueError / KeyError / OSError for folders that are not runs."""
    run = RunDirectory.open(folder)
    record = run.read_config()
    kind = task_kind(str(record.get("task")))
    if kind.race:
        return ReopenedRun(kind, None, None, run.read_metrics())
    kind = _resumable_kind(record, run.path)
    settings = dataclasses.replace(kind.stored_settings(record["config"]), device="auto")
    task = _rebuild(kind, record, dataclasses.replace(settings, device=device.type), device, run)
    if task.step_count:
        task.evaluate()  # the reconstruction, or the held-out previews and samples
    path = Path(record["input"]) if kind.needs_file else None
    rows = [row for row in run.read_metrics() if int(row.get("step") or 0) <= task.step_count]
    finished = task.step_count >= task.schedule().steps
    return ReopenedRun(kind, task, settings, rows, path, task.snapshot({}, final=finished))


def _resumable_kind(record: dict, folder: Path) -> TaskKind:
    kind = task_kind(str(record.get("task")))
    if not kind.resumable:
        raise ValueError(f"{folder}: cannot resume a task of kind {kind.name!r}")
    return kind


def _rebuild(kind: TaskKind, record: dict, config: Any, device: torch.device, run: RunDirectory) -> Task:
    """The task of `record` built from `config`, with the folder's checkpoint loaded into it."""
    _, _, state = run.load_checkpoint()
    if kind.needs_file and "input" not in record:
        raise RunFolderError(f"config.json in {run.path.name} does not name the file the run fitted, so it cannot "
                             f"continue: start a new run.")
    source = Path(record["input"]) if kind.needs_file else None
    if source is not None and source.is_file() and record.get("input_sha256") not in (None, file_digest(source)):
        raise UserError(f"{source.name} has changed since the run in {run.path.name} started, so its weights do not "
                        f"belong to it: start a new run on the changed file, or put the original back.")
    task = kind.build(config, source, device)
    try:
        problem = layout_mismatch(task.state_dict(), state)  # a cast would load an int relabelled float silently
        if problem:
            raise ValueError(problem)
        task.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint.pt in {run.path.name} does not fit the run's settings "
                              f"({str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__}):"
                              f" the folder was changed by hand or is damaged. Start the run again.") from None
    return task
