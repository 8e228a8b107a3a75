"""A run's folder: config.json, metrics.jsonl (one JSON object per logged step), the task's export, checkpoint.pt,
and previews.npz (the latest snapshot's pictures, for a window that watches the run from outside).

A run writes only into a folder it created (`RunDirectory.create`: a new or empty folder, or a fresh `name-2` beside
an existing one) or into a run folder it is resuming or re-saving (`RunDirectory.open`); every file it writes goes
through an atomic replace, and never over one of the run's inputs.
"""
from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from engine.atomic_files import append_text, atomic_write_bytes, atomic_write_text, remove_temporaries
from engine.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from engine.tasks.base import Snapshot

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
PREVIEWS = "previews.npz"
MAX_CONFIG_BYTES = 1 << 24
"""The largest config.json read (DEQ Studio writes a few kilobytes)."""
MAX_METRICS_BYTES = 1 << 30
"""The largest metrics.jsonl read (a row of every step of a ten-million-step run takes about this)."""


class RunFolderError(ValueError):
    """A run folder cannot be used; the message says why and what to do instead."""


class RunDirectory:
    """Reads and writes the files of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.torn_line = False
        """Whether the last read of metrics.jsonl dropped a torn last line."""

    # ---- lifecycle -----------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, fresh: bool = False) -> RunDirectory:
        """The folder of a new run at `path`: created, or used when it is an empty folder (so it holds no input and
        no other run). Anything else is refused (RunFolderError) unless `fresh`, which picks the first free
        `path-2`, `path-3`, ... beside it."""
        path = Path(path)
        for parent in path.parents:  # a file where a folder must be: say which, not "does not exist"
            if parent.exists() and not parent.is_dir():
                raise RunFolderError(f"{parent} is a file, so the folder {path.name} cannot be made inside it: choose "
                                     f"another folder")
        candidate, n = path, 1
        while candidate.exists() and not (candidate.is_dir() and not any(candidate.iterdir())):
            if not fresh:
                if not candidate.is_dir():
                    raise RunFolderError(f"{candidate} is a file, not a folder")
                raise RunFolderError(f"{candidate} already holds files; choose a new or empty folder"
                                     + (" (or continue that run with `deq-studio resume`)"
                                        if (candidate / CONFIG).is_file() else ""))
            n += 1
            candidate = path.with_name(f"{path.name}-{n}")
        candidate.mkdir(parents=True, exist_ok=True)
        return cls(candidate)

    @classmethod
    def open(cls, path: str | Path) -> RunDirectory:
        """An existing run folder (to resume, reopen or re-save); FileNotFoundError when it holds no config.json,
        RunFolderError when it holds the run's own input (a file its writes could replace) or when one of its files is
        a link (a write could follow it out of the folder). A writer takes the
        folder's lock (`engine.run_lock`) and then removes what killed writers left (`remove_orphan_temporaries`)."""
        run = cls(path)
        for name in (CONFIG, METRICS, CHECKPOINT, PREVIEWS):
            if (run.path / name).is_symlink():
                raise RunFolderError(f"{name} in {run.path.name} is a link to another file: DEQ Studio reads and "
                                     f"writes a run's files only in its own folder. Put the file itself there, or "
                                     f"start a new run.")
        source = run.read_config().get("input")
        if isinstance(source, str) and Path(source).is_file() and _inside(Path(source), run.path):
            raise RunFolderError(f"{run.path} holds the run's input {Path(source).name}; move the input out of the "
                                 "run folder first")
        return run

    def remove_orphan_temporaries(self) -> list[Path]:
        """Delete the temporary files of atomic writes (run files and exports) that a killed process left
        (`.checkpoint.pt.<random>.tmp.pt`). Returns what was removed."""
        return remove_temporaries(self.path)

    def start(self, record: dict[str, Any], rows: Iterable[dict[str, Any]] = ()) -> None:
        """config.json from `record` and metrics.jsonl from `rows` (replacing earlier ones of this run)."""
        self.write_config(record)
        atomic_write_text(self.path / METRICS, "".join(json.dumps(_clean(row)) + "\n" for row in rows))

    # ---- files ---------------------------------------------------------------------------------------------------
    def write_config(self, record: dict[str, Any]) -> None:
        """config.json: {"task": ..., "input": ..., "config": {...}} (atomic)."""
        atomic_write_text(self.path / CONFIG, json.dumps(record, indent=2) + "\n")

    def read_config(self) -> dict[str, Any]:
        file = self.path / CONFIG
        if not file.is_file():
            raise FileNotFoundError(f"{self.path}: no {CONFIG}; is this a DEQ Studio run folder?")
        _check_size(file, MAX_CONFIG_BYTES, self.path)
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else f"not readable JSON: {exc}"
            raise RunFolderError(f"{file.name} in {self.path.name} is damaged ({why}). Open another run folder, or "
                                 f"start the run again.") from None
        if not isinstance(record, dict) or not isinstance(record.get("task"), str) \
                or not isinstance(record.get("config"), dict):
            raise RunFolderError(f"{file.name} in {self.path.name} is not a DEQ Studio run record (it needs a task "
                                 f"and its settings): open a run folder that DEQ Studio wrote.")
        for name in ("input", "run_id"):
            if name in record and not isinstance(record[name], str):
                raise RunFolderError(f"{file.name} in {self.path.name} is damaged (its {name.replace('_', ' ')} is "
                                     f"not text): open a run folder that DEQ Studio wrote.")
        return record

    def append_metrics(self, row: dict[str, float]) -> None:
        """Append one row to metrics.jsonl (non-finite numbers written as null)."""
        append_text(self.path / METRICS, json.dumps(_clean(row)) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """The rows of metrics.jsonl whose step is a whole number ≥ 0 (others are dropped), their values numbers or
        null. A torn last line (the process was cut off while writing it) is dropped and `torn_line` set; a damaged
        line elsewhere is a RunFolderError."""
        self.torn_line = False
        file = self.path / METRICS
        if not file.is_file():
            return []
        _check_size(file, MAX_METRICS_BYTES, self.path)
        lines = [line for line in file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                row = _metrics_row(json.loads(line))
            except (ValueError, RecursionError, OverflowError):
                if number == len(lines):
                    self.torn_line = True
                    break
                raise RunFolderError(f"Line {number} of {file.name} in {self.path.name} is damaged: the metrics "
                                     f"cannot be read. Remove that line, or start a new run.") from None
            if row is not None:
                rows.append(row)
        return rows

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows past `last_step` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read_metrics() if r.get("step", 0) <= last_step]
        atomic_write_text(self.path / METRICS, "".join(json.dumps(r) + "\n" for r in rows))

    def write_previews(self, snapshot: Snapshot) -> None:
        """previews.npz: the snapshot's preview arrays with its step, planned steps and seconds (atomic)."""
        arrays = {f"preview_{name}": np.asarray(value) for name, value in snapshot.previews.items()}
        arrays["progress"] = np.array([snapshot.step, snapshot.total_steps, snapshot.elapsed_s, snapshot.final])
        atomic_write_bytes(self.path / PREVIEWS, lambda handle: np.savez(handle, **arrays))

    def read_previews(self) -> Snapshot | None:
        """The snapshot previews.npz holds (its scalars empty), or None when there is none or it cannot be read."""
        try:
            with np.load(self.path / PREVIEWS, allow_pickle=False) as stored:
                step, total, elapsed, final = stored["progress"].tolist()
                previews = {name[len("preview_"):]: stored[name] for name in stored.files
                            if name.startswith("preview_")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        return Snapshot(int(step), int(total), float(elapsed), {}, previews, bool(final))

    def save_checkpoint(self, kind: str, config: dict[str, Any], state: dict[str, Any]) -> Path:
        """checkpoint.pt, marked with the run's id from config.json (so that it is never taken for another run's)."""
        path = self.path / CHECKPOINT
        save_checkpoint(path, kind=kind, config=config, state=state, run_id=self.read_config().get("run_id"))
        return path

    def load_checkpoint(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(kind, config, state) of checkpoint.pt; CheckpointError when it belongs to another run (another id or
        task than config.json's: copied in from another run folder)."""
        kind, config, state, run_id = read_checkpoint(self.path / CHECKPOINT)
        record = self.read_config()
        if kind != record["task"] or None not in (run_id, record.get("run_id")) and run_id != record["run_id"]:
            raise CheckpointError(f"checkpoint.pt in {self.path.name} belongs to another run (it was copied in from "
                                  f"another run folder), so this run cannot continue from it. Put its own checkpoint "
                                  f"back, or start the run again.")
        return kind, config, state


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """A metrics row with non-finite numbers as None and the step as an int."""
    clean = {k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in row.items()}
    if "step" in clean and clean["step"] is not None:
        clean["step"] = int(clean["step"])
    return clean


def _metrics_row(row: Any) -> dict[str, Any] | None:
    """`row` as read from metrics.jsonl, cleaned: a value that is no number a float can hold becomes null, an
    integral float step an int; None (dropped) when its step is missing or no whole number ≥ 0; ValueError when the
    line is not an object at all."""
    if not isinstance(row, dict):
        raise ValueError("not an object")
    step = row.get("step")
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step < 0 \
            or step != int(step) or step > 2 ** 53:
        return None
    clean = {str(key): value if _number(value) else None for key, value in row.items()}
    clean["step"] = int(step)
    return clean


def _number(value: Any) -> bool:
    """Whether `value` is a finite number a float holds (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_size(file: Path, limit: int, folder: Path) -> None:
    """RunFolderError when `file` is larger than `limit` bytes (it is read whole)."""
    size = file.stat().st_size
    if size > limit:
        raise RunFolderError(f"{file.name} in {folder.name} is {size / 1e6:,.0f} MB, far more than DEQ Studio writes "
                             f"there: it is damaged or not a run's file. Open another run folder, or start the run "
                             f"again.")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
