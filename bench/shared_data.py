"""Where the real data is, for benchmarks and tests alike: `$DEQ_STUDIO_DATA`, else ../shared/data beside the
project.

Product code never names that folder: it reads `$DEQ_STUDIO_DATA` (or the digits a bundle ships), which
`use_shared_data` sets for the test session and for each benchmark.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """`$DEQ_STUDIO_DATA`, else ../shared/data relative to the project root."""
    env = os.environ.get("DEQ_STUDIO_DATA")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"


def use_shared_data() -> Path:
    """Point `$DEQ_STUDIO_DATA` at the real data (unless it is set already), so the product finds MNIST there."""
    path = shared_data_dir()
    if path.is_dir():
        os.environ.setdefault("DEQ_STUDIO_DATA", str(path))
    return path
