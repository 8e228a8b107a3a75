"""Shared test setup: real-data location, CUDA marker handling, small-thread CPU runs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.data import PROJECT_ROOT, shared_data_dir, use_shared_data

use_shared_data()
__all__ = ["PROJECT_ROOT", "shared_data_dir"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder not found: {path} (set DEQ_STUDIO_DATA)")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
