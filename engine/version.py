"""DEQ Studio's version: the one `pyproject.toml` declares, read from the installed package's metadata.

A source checkout installed with pip, and the packaged bundle (which carries the package's metadata), both answer
from the metadata; a source tree that was never installed reads `pyproject.toml` beside it.
"""
from __future__ import annotations

import functools
import re
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "deq-studio"


@functools.cache
def version() -> str:
    """The version string, e.g. `0.1.0` (`0+unknown` when neither the metadata nor pyproject.toml is found)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1) if found else "0+unknown"
