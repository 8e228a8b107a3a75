"""Shared test setup: real-data location, CUDA marker handling, small-thread CPU runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from bench.shared_data import PROJECT_ROOT, shared_data_dir, use_shared_data

use_shared_data()
__all__ = ["PROJECT_ROOT", "shared_data_dir"]


def project_entries() -> set[str]:
    """What the project's root folder holds (caches aside)."""
    return {p.name for p in PROJECT_ROOT.iterdir()} - {".pytest_cache", ".hypothesis", "__pycache__"}


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_the_project():
    """Tests write only into temporary folders: the project's root holds the same entries after the session."""
    before = project_entries()
    yield
    added = project_entries() - before
    assert not added, f"tests wrote into the project: {sorted(added)}"


@pytest.fixture(scope="session", autouse=True)
def log_into_a_temporary_folder(tmp_path_factory):
    """Failures the tests provoke are logged into a temporary folder, not the user's log."""
    os.environ["DEQ_STUDIO_LOG_DIR"] = str(tmp_path_factory.mktemp("log"))
    yield


@pytest.fixture(autouse=True)
def work_in_a_temporary_folder(tmp_path, monkeypatch) -> None:
    """Each test runs in its own temporary folder, so relative outputs (the CLI's runs/) land there."""
    monkeypatch.chdir(tmp_path)


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


MISSING = ("real data", "DEQ_STUDIO_DATA", "is missing", "PySide6")
"""Words of the skips a checkout with the real data and PySide6 never takes (data not found, the window's tests)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """With DEQ_STUDIO_NO_SKIPS=1 (CI: .ci/run), a test skipped for want of the real data or PySide6 fails instead:
    a missing ../shared or a broken install must not pass as a green run."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("DEQ_STUDIO_NO_SKIPS") == "1":
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        if any(word in reason for word in MISSING):
            report.outcome = "failed"
            report.longrepr = f"skipped, which DEQ_STUDIO_NO_SKIPS=1 forbids: {reason}"
