"""Config dataclasses: docstrings for help texts, choices, validation, JSON round trip."""
from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import (
    BackwardConfig,
    ConfigError,
    SolverConfig,
    field_choices,
    field_docs,
    from_dict,
    to_dict,
)


@pytest.mark.parametrize("cls", [SolverConfig, BackwardConfig])
def test_every_field_has_a_docstring(cls) -> None:
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        assert docs.get(f.name), f"{cls.__name__}.{f.name} has no docstring"


def test_literal_fields_give_choices_and_are_validated() -> None:
    assert field_choices(SolverConfig, "solver") == ("picard", "anderson", "broyden")
    assert field_choices(SolverConfig, "max_iter") is None
    with pytest.raises(ConfigError, match="choose one of"):
        SolverConfig(solver="newton")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="tol"):
        SolverConfig(tol=0.0)
    with pytest.raises(ConfigError, match="neumann_order"):
        BackwardConfig(neumann_order=-1)


def test_json_round_trip_of_nested_configs() -> None:
    config = BackwardConfig(mode="exact", adjoint=SolverConfig(solver="broyden", tol=1e-7, max_iter=20))
    text = json.dumps(to_dict(config))
    assert from_dict(BackwardConfig, json.loads(text)) == config
    assert dataclasses.replace(config, mode="jfb").adjoint == config.adjoint


def test_from_dict_rejects_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        from_dict(SolverConfig, {"solverr": "picard"})
    with pytest.raises(ConfigError, match="expected int"):
        from_dict(SolverConfig, {"max_iter": "many"})
    assert from_dict(SolverConfig, {"tol": 1}).tol == 1.0


def test_solver_options_follow_the_chosen_solver() -> None:
    assert SolverConfig(solver="picard", damping=0.5).options() == {"damping": 0.5}
    assert SolverConfig(solver="anderson").options() == {"memory": 5, "lam": 1e-4, "beta": 1.0}
    assert SolverConfig(solver="broyden").options() == {"memory": 30}
