"""Presets and the defaults that depend on the medium, the device or the settings themselves."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from engine.config import (AdvTrainConfig, AttackTaskConfig, BackwardConfig, FitConfig, InverseConfig, ModelConfig,
                           SolverConfig)
from engine.presets import resolve_fit_config
from engine.tasks.kinds import TASKS, task_kind

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_full_is_the_spec_and_preview_is_small_on_a_cpu() -> None:
    for kind in TASKS:
        assert kind.preset("full", CPU) == kind.config()
    image = task_kind("fit").preset("preview", CPU, "image")
    assert image.signal.max_size == 256 and image.model.width == 64 and image.steps == 500
    assert task_kind("fit").preset("preview", CPU, "audio").signal.audio_duration_s == 2.0
    on_cuda = task_kind("fit").preset("preview", CUDA, "image")
    assert on_cuda.model.width == FitConfig().model.width  # the SPEC's on CUDA
    assert task_kind("train-prior").preset("preview", CPU).steps == 100
    with pytest.raises(ValueError, match="unknown preset"):
        task_kind("fit").preset("fastest", CPU)


def test_medium_defaults_fill_only_what_is_empty() -> None:
    resolved = resolve_fit_config(FitConfig(), "image")
    assert resolved.model.input_scale == 256.0 and resolved.model.spectral_norm and resolved.lr == 1e-3
    generalize = resolve_fit_config(FitConfig(protocol="generalize"), "image")
    assert generalize.model.input_scale == 128.0
    small = FitConfig(protocol="generalize", model=ModelConfig(model="isiren"))
    assert resolve_fit_config(small, "image", 256).model.input_scale == 64.0  # in proportion to the image's side
    assert resolve_fit_config(FitConfig(), "image", 256).model.input_scale == 128.0
    assert resolve_fit_config(small, "video").model.input_scale == 64.0  # SIREN-like halved on other media
    mesh = resolve_fit_config(FitConfig(lr=5e-4), "mesh")
    assert mesh.lr == 5e-4 and mesh.batch_size == 50000 and mesh.eval_every == 250
    assert resolve_fit_config(FitConfig(), "audio").model.spectral_norm is False


def test_fields_that_do_nothing_are_named() -> None:
    fit_fields, inverse_fields = task_kind("fit").inapplicable_fields, task_kind("inverse").inapplicable_fields
    attack_fields, classifier_fields = task_kind("attack").inapplicable_fields, task_kind("adv-train").inapplicable_fields
    image = fit_fields(FitConfig(), "image")
    assert "signal.audio_rate" in image and "mc_resolution" in image and "signal.max_size" not in image
    mesh = fit_fields(FitConfig(), "mesh")
    assert "protocol" in mesh and "mc_resolution" not in mesh and "signal.mesh_points" not in mesh
    solvers = {"solver.damping", "solver.broyden_memory", "backward.adjoint", "backward.warm_start_adjoint"}
    fit = fit_fields(FitConfig(), None)  # Anderson and the Neumann backward are chosen
    assert fit >= solvers and not {"solver.anderson_memory", "backward.neumann_order"} & fit
    exact = FitConfig(solver=SolverConfig(solver="picard"), backward=BackwardConfig(mode="exact"))
    unused = fit_fields(exact, None)
    assert {"solver.anderson_memory", "backward.neumann_order", "backward.adjoint.damping"} <= unused
    assert not {"solver.damping", "backward.adjoint", "backward.adjoint.anderson_memory"} & unused
    assert inverse_fields(InverseConfig(corruption="box"), None) >= {"sigma", "pixel_fraction", "mask"}
    assert "box_size" not in inverse_fields(InverseConfig(corruption="box"), None)
    assert "label" in attack_fields(AttackTaskConfig(), None)
    assert "label" not in attack_fields(AttackTaskConfig(image="x.png"), None)
    classifier_solver = {"solver.damping", "solver.broyden_memory"}
    assert classifier_fields(AdvTrainConfig(), None) == {"attack_settings"} | classifier_solver
    assert classifier_fields(dataclasses.replace(AdvTrainConfig(), attack="pgd"), None) == classifier_solver
