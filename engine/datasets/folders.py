"""Where a dataset is read from: the folder the user gives, else `$DEQ_STUDIO_DATA/<name>`, else the copy a packaged
bundle ships (`engine.resources.bundled_dataset`)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from engine.media.base import SignalError
from engine.resources import bundled_dataset


def dataset_folder(name: str, holds: Callable[[Path], bool], explicit: str | Path = "", files: str = "") -> Path:
    """`explicit` if given, else the first of `$DEQ_STUDIO_DATA/<name>` and the bundle's copy that `holds` the
    dataset's files; SignalError says where it looked and how to point at them (`files`: what they look like)."""
    if explicit:
        return Path(explicit)
    candidates = [Path(os.environ["DEQ_STUDIO_DATA"]) / name] if os.environ.get("DEQ_STUDIO_DATA") else []
    shipped = bundled_dataset(name)
    candidates += [shipped] if shipped is not None else []
    for folder in candidates:
        if folder.is_dir() and holds(folder):
            return folder
    where = f"looked in {', '.join(str(c) for c in candidates)}" if candidates else "DEQ_STUDIO_DATA is not set"
    raise SignalError(f"No {name} folder found ({where}): choose the folder of {files or 'its files'} as Data "
                      f"(--data DIR), or set DEQ_STUDIO_DATA to a folder holding {name}/.")


def existing_folder(folder: str | Path, holding: str) -> Path:
    """`folder` when it is a folder; else a SignalError that says what it is instead (missing, or a file) and to
    choose the folder `holding` (e.g. "the MNIST files (or your images)") as Data."""
    folder = Path(folder)
    if folder.is_dir():
        return folder
    what = "is a file, not a folder" if folder.exists() else "does not exist"
    raise SignalError(f"The data folder {folder.name} {what}: choose the folder that holds {holding} as Data.")
