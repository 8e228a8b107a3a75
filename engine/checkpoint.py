"""Checkpoints: task state + config in one file, written atomically, loaded without unpickling objects.

The file is a `torch.save` archive of plain containers, tensors and numbers; loading uses `weights_only=True`,
so a crafted file cannot execute code. Writes go to a temporary file in the same folder, then `os.replace`.
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

FORMAT = "deq-studio-checkpoint/1"


class CheckpointError(Exception):
    """A checkpoint could not be read; the message says why."""


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call `write(file_object)` on a temporary file beside `path`, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain open() would give
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    atomic_write_bytes(path, lambda handle: handle.write(text.encode("utf-8")))


def save_checkpoint(path: Path, *, kind: str, config: dict[str, Any], state: dict[str, Any]) -> None:
    """Save a task's `state_dict` and its config (as JSON text) to `path`."""
    payload = {"format": FORMAT, "kind": kind, "config_json": json.dumps(config), "state": state}
    atomic_write_bytes(Path(path), lambda handle: torch.save(payload, handle))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, config dict, state) from a checkpoint written by `save_checkpoint`."""
    path = Path(path)
    try:
        with warnings.catch_warnings():  # a foreign pickle makes torch warn; the error below says it all
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} does not exist: the run folder has no checkpoint to continue from "
                              f"(it was stopped before its first one, or moved).") from None
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise CheckpointError(f"Could not read {path.name}: the checkpoint is damaged or incomplete, so the run cannot "
                              f"continue from it. Start the run again. (Details: {exc.__class__.__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a DEQ Studio checkpoint: open a run folder that DEQ Studio wrote.")
    return str(payload["kind"]), json.loads(payload["config_json"]), payload["state"]
