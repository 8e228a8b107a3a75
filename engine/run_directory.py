"""A run's folder: config.json, metrics.jsonl (one JSON object per logged step), the reconstruction, checkpoint.pt."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from engine.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"


class RunDirectory:
    """Reads and writes the files of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write_config(self, record: dict[str, Any]) -> None:
        """config.json: {"task": ..., "input": ..., "config": {...}} (atomic)."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / CONFIG, json.dumps(record, indent=2) + "\n")

    def read_config(self) -> dict[str, Any]:
        file = self.path / CONFIG
        if not file.is_file():
            raise FileNotFoundError(f"{self.path}: no {CONFIG}; is this a DEQ Studio run folder?")
        return json.loads(file.read_text(encoding="utf-8"))

    def append_metrics(self, row: dict[str, float]) -> None:
        """Append one row to metrics.jsonl (non-finite numbers written as null)."""
        clean = {k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in row.items()}
        if "step" in clean and clean["step"] is not None:
            clean["step"] = int(clean["step"])
        with open(self.path / METRICS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        file = self.path / METRICS
        if not file.is_file():
            return []
        return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows past `last_step` (written after the checkpoint a resumed run starts from)."""
        rows = [r for r in self.read_metrics() if int(r.get("step", 0)) <= last_step]
        atomic_write_text(self.path / METRICS, "".join(json.dumps(r) + "\n" for r in rows))

    def save_checkpoint(self, kind: str, config: dict[str, Any], state: dict[str, Any]) -> Path:
        path = self.path / CHECKPOINT
        save_checkpoint(path, kind=kind, config=config, state=state)
        return path

    def load_checkpoint(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        return load_checkpoint(self.path / CHECKPOINT)
