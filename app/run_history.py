"""Every run's curves in a window session, and the rows they are drawn from: `RunHistory` (exported as CSV or JSON
lines) and `drawable_row`, which keeps what the curves can draw of a row read from a run folder."""
from __future__ import annotations

import csv
import dataclasses
import errno
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.atomic_files import atomic_write_text


def number(value: Any) -> float | None:
    """`value` as a float when it is a number (not a boolean) a float can hold; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        return None


def drawable_row(row: Any) -> dict[str, float] | None:
    """A metrics row as the curves draw it: its numbers (other values left out), or None when it is not an object
    or its step is not a whole number of at least 0; a time_s that is not a finite number of at least 0 is left out
    too. Rows read from run folders (written by hand, by another program or an older version, with non-finite
    numbers written as null) pass through this, so that one bad line never breaks the curves of any run."""
    if not isinstance(row, dict):
        return None
    values = {key: value for key, value in ((key, number(value)) for key, value in row.items())
              if value is not None and isinstance(key, str)}
    step = values.get("step")
    if step is None or not step.is_integer() or step < 0:
        return None
    seconds = values.get("time_s")
    if seconds is not None and not (math.isfinite(seconds) and seconds >= 0):
        del values["time_s"]
    return values


def drawable_rows(rows: Iterable[Any]) -> list[dict[str, float]]:
    """The rows `drawable_row` keeps, each with its numbers only."""
    return [row for row in map(drawable_row, rows) if row is not None]


@dataclasses.dataclass
class Run:
    """One run's name and its metrics rows, in the order they came."""

    name: str
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class RunHistory:
    """Every run since the session began (and every reopened one), exported as CSV or JSON lines."""

    def __init__(self) -> None:
        self.runs: list[Run] = []

    def add_run(self, name: str, rows: Iterable[dict] = ()) -> Run:
        run = Run(name, list(rows))
        self.runs.append(run)
        return run

    def keep_last(self) -> None:
        """Forget every run but the latest."""
        self.runs = self.runs[-1:]

    def add_row(self, row: dict) -> None:
        if not self.runs:
            self.add_run("run")
        self.runs[-1].rows.append(row)

    def export_jsonl(self, path: str | Path) -> Path:
        """Every row as a JSON object with a "run" key (written atomically, into an existing folder)."""
        path = existing_folder_of(path)
        atomic_write_text(path, "".join(json.dumps({"run": run.name, **row}) + "\n"
                                        for run in self.runs for row in run.rows))
        return path

    def export_csv(self, path: str | Path) -> Path:
        """Every row, with a run column first and one column per metric any run has (written atomically, into an
        existing folder)."""
        path = existing_folder_of(path)
        keys = sorted({k for run in self.runs for row in run.rows for k in row})
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=["run", *keys])
        writer.writeheader()
        for run in self.runs:
            for row in run.rows:
                writer.writerow({"run": run.name, **row})
        atomic_write_text(path, text.getvalue())
        return path


def existing_folder_of(path: str | Path) -> Path:
    """`path`, when its folder exists (FileNotFoundError naming it otherwise: an export never makes folders)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "No such folder", str(path))
    return path
