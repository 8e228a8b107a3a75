"""Config dataclasses: docstrings for help texts, choices, validation, JSON round trip."""
from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import (
    AdvTrainConfig,
    AttackConfig,
    AttackTaskConfig,
    BackwardConfig,
    ConfigError,
    EquilibriumConfig,
    FitConfig,
    InverseConfig,
    JIIOConfig,
    ModelConfig,
    PriorConfig,
    SignalConfig,
    SolverConfig,
    field_choices,
    field_docs,
    from_dict,
    to_dict,
)


ALL_CONFIGS = [SolverConfig, BackwardConfig, EquilibriumConfig, ModelConfig, SignalConfig, FitConfig, JIIOConfig,
               PriorConfig, AttackConfig, InverseConfig, AttackTaskConfig, AdvTrainConfig]
MATH = set("‖∂Σ∇ᵀηαβγλμτ") | {"SPEC"}
"""What a tooltip's first sentence must not hold: the formula and the references come after plain words."""


@pytest.mark.parametrize("cls", ALL_CONFIGS, ids=lambda cls: cls.__name__)
def test_every_field_explains_itself_in_plain_words_first(cls) -> None:
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        doc = docs.get(f.name, "")
        first = doc.split(". ")[0]
        assert doc, f"{cls.__name__}.{f.name} has no docstring"
        assert not any(symbol in first for symbol in MATH), f"{cls.__name__}.{f.name}: {first!r}"


def test_literal_fields_give_choices_and_are_validated() -> None:
    import engine.solvers  # noqa: F401  (registers the solvers: the choices of a Registered field)

    assert field_choices(SolverConfig, "solver") == ("picard", "anderson", "broyden")
    assert field_choices(SolverConfig, "stop_mode") == ("rel", "abs")  # a Literal field
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
    assert SolverConfig(solver="picard", damping=0.5).options() == {"damping": 0.5, "check_every": 1}
    assert SolverConfig(solver="anderson", check_every=4).options() == {"memory": 5, "lam": 1e-4, "beta": 1.0,
                                                                   "check_every": 4}
    assert SolverConfig(solver="broyden").options() == {"memory": 30, "check_every": 1}
