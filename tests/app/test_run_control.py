"""Run control as a user meets it: Steps lowered after a Stop, and Steps changed while paused."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from engine.resources import sample_path  # noqa: E402


def stopped_after_some_steps(window, qtbot) -> int:
    assert window.open_file(sample_path("image.png"))
    window.form.set_config(dataclasses.replace(window.form.config(), steps=400, log_every=2, eval_every=50))
    window.start()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 2, timeout=60_000)
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.stop()
    return window.task.step_count


def test_steps_after_stop_lowered_says_why_not_then_raised_trains_on(window, qtbot) -> None:
    trained = stopped_after_some_steps(window, qtbot)
    runs = len(window.curves.runs)
    window.form.set_config(dataclasses.replace(window.form.config(), steps=trained))
    window.start()
    assert not window.controller.busy and len(window.curves.runs) == runs  # no empty run in the curves
    assert f"already trained {trained} steps" in window.errors[-1] and "Steps above" in window.errors[-1]
    assert window.task.step_count == trained and "Stopped" in window.status.text()  # what it was
    window.form.set_config(dataclasses.replace(window.form.config(), steps=trained + 3))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as done:
        window.start()
    assert done.args == [True] and window.task.step_count == trained + 3


def test_steps_after_stop_with_the_old_settings_says_why_not(window, qtbot, monkeypatch) -> None:
    trained = stopped_after_some_steps(window, qtbot)
    monkeypatch.setattr(window, "ask_restart", lambda: "continue")  # a change that needs a new model
    settings = window.form.config()
    window.form.set_config(dataclasses.replace(settings, steps=max(1, trained - 1),
                                               model=dataclasses.replace(settings.model, width=32)))
    window.start()
    assert not window.controller.busy and "already trained" in window.errors[-1]


def test_steps_changed_while_paused_are_said_to_apply_at_the_next_start(window, qtbot) -> None:
    assert window.open_file(sample_path("image.png"))
    window.form.set_config(dataclasses.replace(window.form.config(), steps=400, log_every=2, eval_every=50))
    window.start()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 1, timeout=60_000)
    window.toggle_pause()
    window.form.set_config(dataclasses.replace(window.form.config(), steps=350))
    window.toggle_pause()
    assert "goes on to step 400" in window.statusBar().currentMessage()
    assert "Steps 350 applies from the next Start" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.stop()
