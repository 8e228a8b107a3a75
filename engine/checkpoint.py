"""Checkpoints: task state + config in one file, written atomically, loaded without unpickling objects.

The file is a `torch.save` archive of plain containers, tensors and numbers; loading uses `weights_only=True`,
so a crafted file cannot execute code. Writes are atomic (`engine.atomic_files`).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from engine.atomic_files import atomic_write_bytes

FORMAT = "deq-studio-checkpoint/1"


class CheckpointError(Exception):
    """A checkpoint could not be read; the message says why."""


def save_checkpoint(path: Path, *, kind: str, config: dict[str, Any], state: dict[str, Any],
                    run_id: str | None = None) -> None:
    """Save a task's `state_dict` and its config (as JSON text) to `path`; `run_id` names the run it belongs to."""
    payload = {"format": FORMAT, "kind": kind, "config_json": json.dumps(config), "state": state}
    if run_id is not None:
        payload["run_id"] = run_id
    atomic_write_bytes(Path(path), lambda handle: torch.save(payload, handle))


def layout_mismatch(expected: Any, found: Any, where: str = "") -> str | None:
    """The first place where the tensors of `found` do not have the dtype and shape of those at the same place in
    `expected` (nested dicts and lists, e.g. a fresh task's state_dict), as words; None when they all agree. Places
    `expected` leaves empty (an optimizer's state before its first step) are not compared."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(found, torch.Tensor):
            return f"{where or 'a value'} is not a tensor"
        if found.dtype != expected.dtype:
            return f"{where} holds {str(found.dtype).removeprefix('torch.')} numbers where " \
                   f"{str(expected.dtype).removeprefix('torch.')} is expected"
        if found.shape != expected.shape:
            return f"{where} has shape {tuple(found.shape)} where {tuple(expected.shape)} is expected"
        return None
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return f"{where or 'the state'} is not a table of values"
        for key in expected.keys() & found.keys():
            problem = layout_mismatch(expected[key], found[key], f"{where}.{key}" if where else str(key))
            if problem:
                return problem
    if isinstance(expected, (list, tuple)) and isinstance(found, (list, tuple)) and len(expected) == len(found):
        for index, (a, b) in enumerate(zip(expected, found)):
            problem = layout_mismatch(a, b, f"{where}[{index}]")
            if problem:
                return problem
    return None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, config dict, state) from a checkpoint written by `save_checkpoint`."""
    return read_checkpoint(path, map_location)[:3]


def read_checkpoint(path: Path, map_location: str | torch.device = "cpu"
                    ) -> tuple[str, dict[str, Any], dict[str, Any], str | None]:
    """(kind, config dict, state, run id or None) from a checkpoint written by `save_checkpoint`, each part checked
    for its type (CheckpointError, a sentence)."""
    path = Path(path)
    try:
        _check_fits_in_memory(path)
        with warnings.catch_warnings():  # a foreign pickle makes torch warn; the error below says it all
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path.name} does not exist: the run folder has no checkpoint to continue from "
                              f"(it was stopped before its first one, or moved).") from None
    except CheckpointError:
        raise
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise CheckpointError(f"Could not read {path.name}: the checkpoint is damaged or incomplete, so the run cannot "
                              f"continue from it. Start the run again. (Details: {exc.__class__.__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a DEQ Studio checkpoint: open a run folder that DEQ Studio wrote.")
    try:
        config = json.loads(payload["config_json"])
    except (KeyError, TypeError, ValueError, RecursionError):
        config = None
    kind, state, run_id = payload.get("kind"), payload.get("state"), payload.get("run_id")
    if not (isinstance(kind, str) and isinstance(config, dict) and isinstance(state, dict)
            and isinstance(run_id, (str, type(None)))):
        raise CheckpointError(f"{path.name} is damaged: its parts are not what DEQ Studio writes (was it edited?). "
                              f"Start the run again.")
    return kind, config, state, run_id


def _check_fits_in_memory(path: Path) -> None:
    """CheckpointError when reading `path` whole would take more memory than is free (a checkpoint is read at once;
    a video fit's warm-start buffer can make it gigabytes)."""
    import psutil

    if not path.is_file():
        return
    size, free = path.stat().st_size, psutil.virtual_memory().available
    if size > 0.9 * free:
        raise CheckpointError(f"{path.name} is {size / 1e9:.1f} GB and this computer has {free / 1e9:.1f} GB of "
                              f"memory free, so the run cannot continue from it here. Close other programs, or "
                              f"continue it on a computer with more memory.")
