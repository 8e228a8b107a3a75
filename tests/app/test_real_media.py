"""The window on the real files in ../shared/data, one per medium, and every task kind started from its panel.

For each medium: open (with the medium's CPU starting settings), start, receive ≥ 3 snapshots, pause, resume,
stop; save a snapshot, reset, reload it and continue; export the reconstruction in its medium.
"""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.slow

from engine.tasks.kinds import TASKS  # noqa: E402

MEDIA = [("images/kodim05.png", "image", ".png"), ("audio/gt_bach.wav", "audio", ".wav"),
         ("video/bikes.mp4", "video", ".mp4"), ("meshes/bunny.obj", "mesh", ".ply")]


@pytest.mark.parametrize("relative, view, suffix", MEDIA, ids=[m[0].split("/")[0] for m in MEDIA])
def test_each_medium_from_the_shared_data(window, qtbot, tmp_path, data_dir, relative, view, suffix) -> None:
    assert window.open_file(data_dir / relative), window.errors
    shown = window.views.view(view)
    assert window.views.currentWidget() is shown
    form = window.forms["fit"]
    defaults = form.config()
    assert defaults.steps >= 100  # the medium's starting settings, small enough for a CPU
    form.set_config(dataclasses.replace(defaults, steps=200, log_every=2, eval_every=4))

    window.start()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 3, timeout=120_000)
    window.toggle_pause()
    assert window.controller.state == "paused"
    paused_at = window.task.step_count
    qtbot.wait(300)
    assert window.task.step_count <= paused_at + 1  # at most the step in flight finishes
    window.toggle_pause()
    assert window.controller.state == "running"
    qtbot.waitUntil(lambda: window.task.step_count >= paused_at + 2, timeout=120_000)
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.controller.stop()
    assert done.args == [False] and not window.errors
    trained = window.task.step_count
    assert 4 <= trained < 200

    saved = window.save_snapshot(tmp_path / "snapshot")
    assert saved is not None
    exported = window.export_reconstruction(tmp_path / "export")
    assert exported is not None and exported.suffix == suffix and exported.stat().st_size > 0
    window.reset()
    assert window.task.step_count == 0
    assert window.load_snapshot(tmp_path / "snapshot"), window.errors
    assert window.task.step_count == trained and window.views.currentWidget() is window.views.view(view)
    form.set_config(dataclasses.replace(form.config(), steps=trained + 2))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and window.task.step_count == trained + 2 and not window.errors


def test_every_task_kind_starts_from_its_panel(window, qtbot, data_dir, monkeypatch) -> None:
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    tiny = {
        "train-prior": lambda c: dataclasses.replace(c, steps=2, batch_size=8, log_every=1, eval_every=2,
                                               jiio=dataclasses.replace(c.jiio, iterations=3)),
        "inverse": lambda c: dataclasses.replace(c, count=2, adam_steps=2,
                                                 jiio=dataclasses.replace(c.jiio, iterations=3)),
        "attack": lambda c: dataclasses.replace(c, count=4, attack=dataclasses.replace(
            c.attack, pgd_steps=2, jio=dataclasses.replace(c.attack.jio, iterations=3))),
        "adv-train": lambda c: dataclasses.replace(c, steps=2, batch_size=8, log_every=1, eval_every=2,
                                                   eval_images=8, attack="jio", attack_settings=dataclasses.replace(
                                                       c.attack_settings, jio=dataclasses.replace(
                                                           c.attack_settings.jio, iterations=3))),
        "meta-train": lambda c: dataclasses.replace(c, steps=2, tasks_per_step=2, log_every=1, eval_every=2,
                                                    eval_episodes=2, jiio=dataclasses.replace(c.jiio, iterations=3)),
    }
    assert set(tiny) | {"fit", "duel", "restore"} == set(TASKS.names())  # the tasks on a file have tests of their own
    for kind, shrink in tiny.items():
        window.set_kind(kind)
        assert window.start_action.isEnabled() and window.views.currentWidget() is window.kind_view(kind)
        window.form.set_config(shrink(window.form.config()))
        rows: list[dict] = []
        window.controller.row.connect(rows.append)
        with qtbot.waitSignal(window.controller.finished, timeout=300_000) as done:
            window.start()
        window.controller.row.disconnect(rows.append)
        assert done.args == [True], (kind, window.errors)
        assert not window.errors and rows and all("step" in row for row in rows)
        qtbot.wait(150)  # the latest snapshot reaches the view on the preview timer
        view = window.kind_view(kind)
        panels = view.panels
        assert any(panel.image is not None for panel in panels.values()), kind
        assert window.export_action.isEnabled()


def test_prior_snapshot_reloads_and_continues_and_race_curves_reopen(window, qtbot, tmp_path, data_dir,
                                                                     monkeypatch) -> None:
    from engine.cli import main as cli

    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    window.set_kind("train-prior")
    form = window.form
    form.set_config(dataclasses.replace(form.config(), steps=2, batch_size=8, log_every=1, eval_every=2,
                                        jiio=dataclasses.replace(form.config().jiio, iterations=3)))
    with qtbot.waitSignal(window.controller.finished, timeout=300_000):
        window.start()
    assert window.save_action.isEnabled()
    assert window.save_snapshot(tmp_path / "prior") is not None
    window.reset()
    assert window.task is None
    window.set_kind("fit")
    assert window.load_snapshot(tmp_path / "prior"), window.errors
    assert window.kind == "train-prior" and window.task.step_count == 2 and len(window.task_rows) == 2
    assert window.views.view("grid").panels
    form.set_config(dataclasses.replace(form.config(), steps=3))
    with qtbot.waitSignal(window.controller.finished, timeout=300_000) as done:
        window.start()
    assert done.args == [True] and window.task.step_count == 3 and not window.errors

    race = tmp_path / "race"
    assert cli(["inverse", "--count", "2", "--adam-steps", "2", "--jiio-iterations", "3", "--out", str(race),
                "--device", "cpu"]) == 0
    runs = len(window.curves.runs)
    assert window.load_snapshot(race) and len(window.curves.runs) == runs + 1
    assert window.curves.runs[-1]["rows"] and not window.errors
