"""The task registry: every field path a registration names exists, and Simple keeps only a few choices."""
from __future__ import annotations

import pytest

from engine.config import config_paths
from engine.tasks.kinds import TASKS


@pytest.mark.parametrize("kind", list(TASKS), ids=lambda kind: kind.name)
def test_every_named_field_exists(kind) -> None:
    paths = config_paths(kind.config)
    named = kind.fixed | kind.advanced | kind.flatten | set(kind.rename)
    assert named <= paths, sorted(named - paths)


def test_config_paths_walk_nested_configs() -> None:
    from engine.config import FitConfig

    paths = config_paths(FitConfig)
    assert {"model", "model.width", "solver.anderson_memory", "backward.adjoint.tol", "steps"} <= paths
    assert "model.model" in paths and "width" not in paths
