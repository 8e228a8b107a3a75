"""The settings panel in plain words: every choice a newcomer sees in a task's simple settings has a name, and the
papers' names stay beside it (in brackets) or in the tooltips and the CLI."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QComboBox  # noqa: E402

from app.panels.config_form import ConfigForm  # noqa: E402
from app.panels.plain_names import CHOICE_NAMES, NETWORKS  # noqa: E402
from engine.models.inr import INR_MODELS  # noqa: E402
from engine.tasks.kinds import TASKS  # noqa: E402


def simple_choices(form: ConfigForm):
    for name, editor in form.editors.items():
        layout, _ = form.rows[name]
        if isinstance(editor, QComboBox) and layout is form.simple and editor.itemData(0) is not None:
            yield name, [(editor.itemData(i), editor.itemText(i)) for i in range(editor.count())]
    for name, child in form.children_forms.items():
        if form.rows[name][0] is form.simple:  # a group shown in Simple (not in the Advanced drawer)
            yield from simple_choices(child)


def test_every_simple_choice_reads_in_plain_words(qtbot) -> None:
    seen = 0
    for kind in TASKS:
        form = ConfigForm(kind.title, kind.config(), hidden=kind.fixed | {"device"}, advanced=kind.advanced)
        qtbot.addWidget(form)
        for field, items in simple_choices(form):
            for value, text in items:
                if isinstance(value, str):
                    assert value in CHOICE_NAMES.get(field, {}) and text != value, (kind.name, field, value)
                    seen += 1
    assert seen >= 20
    assert set(NETWORKS) == set(INR_MODELS.names())
    assert all("network" in text and "(" in text for text in NETWORKS.values())  # the paper's name in brackets
