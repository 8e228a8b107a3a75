"""Forms generated from config dataclasses: every field editable, docstrings as tooltips, validation by the config."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit  # noqa: E402

from app.panels.config_form import ConfigForm  # noqa: E402
from engine.config import ConfigError, FitConfig, ModelConfig, SolverConfig, field_docs  # noqa: E402


def test_form_round_trips_every_field_and_shows_docstrings(qtbot) -> None:
    config = FitConfig(model=ModelConfig(model="isiren", width=48, input_scale=None), lr=2e-3, steps=7)
    form = ConfigForm("Fit", config)
    qtbot.addWidget(form)
    assert form.config() == config
    assert form.editors["steps"].toolTip() == field_docs(FitConfig)["steps"]
    model = form.children_forms["model"]
    assert isinstance(model.editors["model"], QComboBox) and isinstance(form.editors["amortize"], QCheckBox)
    assert model.editors["input_scale"].placeholderText() == "auto"


def test_edits_become_a_validated_config(qtbot) -> None:
    form = ConfigForm("Fit", FitConfig())
    qtbot.addWidget(form)
    solver = form.children_forms["solver"]
    solver.editors["solver"].setCurrentIndex(solver.editors["solver"].findData("broyden"))
    solver.editors["tol"].setText("1e-5")
    form.children_forms["model"].editors["width"].setText("96")
    edited = form.config()
    assert edited.solver == dataclasses.replace(FitConfig().solver, solver="broyden", tol=1e-5)
    assert edited.model.width == 96
    steps: QLineEdit = form.editors["steps"]
    steps.setText("many")
    with pytest.raises(ConfigError, match="Steps"):
        form.config()
    assert "border" in steps.styleSheet()
    steps.setText("-3")
    with pytest.raises(ConfigError, match="steps"):
        form.config()
    form.set_config(FitConfig(solver=SolverConfig(solver="picard")))
    assert form.config().solver.solver == "picard" and form.config().steps == FitConfig().steps


def test_an_untouched_value_comes_back_exactly_and_an_edited_one_as_typed(qtbot) -> None:
    exact = FitConfig(model=ModelConfig(input_scale=2595.6581128916605))  # a resolved default, shown as 2595.66
    form = ConfigForm("Fit", exact)
    qtbot.addWidget(form)
    assert form.config() == exact  # a run reopened from its folder is not "changed" by its rounded display
    scale = form.children_forms["model"].editors["input_scale"]
    assert scale.text() == "2595.66"
    scale.setText("2600")
    assert form.config().model.input_scale == 2600.0
