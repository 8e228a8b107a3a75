"""Frozen dataclass configs: every field carries an attribute docstring (a GUI tooltip and CLI `--help`), a
`Literal[...]` type gives the choices (or `Registered(kind)`: the names a registry holds, such as the networks),
and configs round-trip through plain JSON dicts (`to_dict` / `from_dict`).

    fields.py       the machinery: docstrings, types, choices, validation, dict round trip
    equilibrium.py  forward solver, backward mode, EquilibriumConfig (both, handed to a model when it is built)
    fit.py          fitting a signal with an INR
    jiio.py         JIIO: the augmented solver, generative priors, inverse problems, attacks, adversarial training
    meta.py         few-shot meta-learning with a task context found by JIIO or an inner loop
    resume.py       what a run continued from its checkpoint may change
"""
from engine.config.equilibrium import BackwardConfig, DemoConfig, EquilibriumConfig, SolverConfig, SolverName
from engine.config.fields import (SEED, ConfigError, Range, check_fields, config_paths, field_choices, field_docs,
                                  field_ranges, field_types, from_dict, picture_file_fields, require, to_dict,
                                  with_paths)
from engine.config.fit import (DuelConfig, FitConfig, INRName, ModelConfig, RenderConfig, RestoreConfig,
                               SignalConfig, span_of)
from engine.config.jiio import AdvTrainConfig, AttackConfig, AttackTaskConfig, InverseConfig, JIIOConfig, PriorConfig
from engine.config.meta import MetaTestConfig, MetaTrainConfig
from engine.config.resume import ResumeConfig

__all__ = [
    "AdvTrainConfig", "AttackConfig", "AttackTaskConfig", "BackwardConfig", "ConfigError", "DemoConfig", "DuelConfig",
    "EquilibriumConfig", "FitConfig", "INRName", "InverseConfig", "JIIOConfig", "MetaTestConfig", "MetaTrainConfig",
    "ModelConfig", "PriorConfig", "Range", "RenderConfig", "ResumeConfig", "RestoreConfig", "SEED",
    "SignalConfig", "SolverConfig", "SolverName", "check_fields", "config_paths", "field_choices", "field_docs",
    "field_ranges", "field_types", "from_dict", "picture_file_fields", "require", "span_of", "to_dict", "with_paths",
]
