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

from engine.checkpoint import atomic_write_bytes, atomic_write_text, load_checkpoint, save_checkpoint
from engine.tasks.base import Snapshot

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
PREVIEWS = "previews.npz"


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
        RunFolderError when it holds the run's own input (a file its writes could replace)."""
        run = cls(path)
        source = run.read_config().get("input")
        if isinstance(source, str) and Path(source).is_file() and _inside(Path(source), run.path):
            raise RunFolderError(f"{run.path} holds the run's input {Path(source).name}; move the input out of the "
                                 "run folder first")
        run.remove_orphan_temporaries()
        return run

    def remove_orphan_temporaries(self) -> list[Path]:
        """Delete the temporary files of atomic writes that a killed process left (`.checkpoint.pt.<random>.tmp`);
        only names of this folder's own files are touched. Returns what was removed."""
        removed = []
        for name in (CONFIG, METRICS, CHECKPOINT, PREVIEWS):
            for orphan in self.path.glob(f".{name}.*.tmp"):
                orphan.unlink(missing_ok=True)
                removed.append(orphan)
        return removed

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
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunFolderError(f"{file.name} in {self.path.name} is damaged (not readable JSON: {exc}). Open "
                                 f"another run folder, or start the run again.") from None
        if not isinstance(record, dict) or not isinstance(record.get("task"), str) \
                or not isinstance(record.get("config"), dict):
            raise RunFolderError(f"{file.name} in {self.path.name} is not a DEQ Studio run record (it needs a task "
                                 f"and its settings): open a run folder that DEQ Studio wrote.")
        if "input" in record and not isinstance(record["input"], str):
            raise RunFolderError(f"{file.name} in {self.path.name} names its input wrongly: open a run folder that "
                                 f"DEQ Studio wrote.")
        return record

    def append_metrics(self, row: dict[str, float]) -> None:
        """Append one row to metrics.jsonl (non-finite numbers written as null)."""
        with open(self.path / METRICS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(_clean(row)) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """The rows of metrics.jsonl. A torn last line (the process was cut off while writing it) is dropped and
        `torn_line` set; a damaged line elsewhere is a RunFolderError."""
        self.torn_line = False
        file = self.path / METRICS
        if not file.is_file():
            return []
        lines = [line for line in file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
            except ValueError:
                if number == len(lines):
                    self.torn_line = True
                    break
                raise RunFolderError(f"Line {number} of {file.name} in {self.path.name} is damaged: the metrics "
                                     f"cannot be read. Remove that line, or start a new run.") from None
            rows.append(row)
        return rows

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows past `last_step` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read_metrics() if int(r.get("step", 0)) <= last_step]
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
        path = self.path / CHECKPOINT
        save_checkpoint(path, kind=kind, config=config, state=state)
        return path

    def load_checkpoint(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        return load_checkpoint(self.path / CHECKPOINT)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """A metrics row with non-finite numbers as None and the step as an int."""
    clean = {k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in row.items()}
    if "step" in clean and clean["step"] is not None:
        clean["step"] = int(clean["step"])
    return clean


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
