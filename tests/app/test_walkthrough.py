"""A new user's walkthrough, scripted: open each medium, run each task kind, change a setting of a trained model,
save and reload a snapshot, shrink the window to 1024×700 — checking the title, the status phase, the fields on
show and the view at every step, as a person looking at the window would."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from engine.resources import sample_path  # noqa: E402

pytestmark = pytest.mark.slow

MEDIA = {  # file, its view, fields shown, fields hidden, a small run
    "image.png": ("image", {"signal.max_size"}, {"signal.audio_rate", "mc_resolution"}, {}),
    "audio.wav": ("audio", {"signal.audio_duration_s"}, {"signal.max_size", "mesh_target"}, {}),
    "video.mp4": ("video", {"signal.video_stride"}, {"signal.audio_rate"}, {"batch_size": 4096}),
    "mesh.ply": ("mesh", {"mesh_target", "mc_resolution"}, {"protocol", "signal.max_size"},
                 {"batch_size": 2048, "eval_points": 4096, "mc_resolution": 24,
                  "signal": {"mesh_points": 5000}}),
}
TINY = {
    "train-prior": lambda c: dataclasses.replace(c, steps=2, batch_size=8, log_every=1, eval_every=2,
                                                 jiio=dataclasses.replace(c.jiio, iterations=3)),
    "inverse": lambda c: dataclasses.replace(c, count=2, adam_steps=2, jiio=dataclasses.replace(c.jiio, iterations=3)),
    "attack": lambda c: dataclasses.replace(c, count=4, attack=dataclasses.replace(
        c.attack, pgd_steps=2, jio=dataclasses.replace(c.attack.jio, iterations=3))),
    "adv-train": lambda c: dataclasses.replace(c, steps=2, batch_size=8, log_every=1, eval_every=2, eval_images=8),
}


def shown(form, path: str) -> bool:
    """Whether the field at dotted `path` is on show in `form` (its row not hidden for the medium)."""
    *parents, name = path.split(".")
    for parent in parents:
        form = form.children_forms[parent]
    layout, widget = form.rows[name]
    return layout.isRowVisible(widget)


def run_to_the_end(window, qtbot) -> None:
    window.start()
    assert window.phase == "Training" and " · Training · " in window.status.text()
    assert window.hint.isHidden()
    with qtbot.waitSignal(window.controller.finished, timeout=300_000) as done:
        pass
    assert done.args == [True] and window.phase == "Finished" and not window.errors, window.errors
    assert " · Finished · step " in window.status.text()


def test_a_new_users_walkthrough(qtbot, tmp_path, data_dir, monkeypatch) -> None:
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "DEQ Studio" and window.views.currentWidget() is window.placeholder

    for name, (view, visible, invisible, small) in MEDIA.items():
        assert window.open_file(sample_path(name)), window.errors
        form = window.forms["fit"]
        assert window.windowTitle() == f"DEQ Studio — {name}" and window.phase == "Ready"
        assert window.views.currentWidget() is window.views.view(view) and not window.hint.isHidden()
        assert all(shown(form, path) for path in visible), name
        assert not any(shown(form, path) for path in invisible), name
        config = form.config()
        signal = dataclasses.replace(config.signal, **small.pop("signal", {}))
        form.set_config(dataclasses.replace(config, steps=3, log_every=1, eval_every=3, signal=signal, **small))
        run_to_the_end(window, qtbot)
        assert window.progress.value() == 3

    # a setting the trained model cannot take: the user is asked, and restarts
    form = window.forms["fit"]
    monkeypatch.setattr(window, "ask_restart", lambda: "restart")
    form.set_config(dataclasses.replace(form.config(), seed=5, steps=2))
    trained = window.task
    run_to_the_end(window, qtbot)
    assert window.task is not trained and window.task.step_count == 2

    # save, reset, reload: the window says what it shows
    saved = window.save_snapshot(tmp_path / "snapshot")
    assert saved is not None and window.statusBar().currentMessage() == f"Saved to {saved}"
    window.reset()
    assert window.task.step_count == 0 and window.progress.value() == 0 and window.phase == "Ready"
    window.set_kind("attack")
    assert window.load_snapshot(saved), window.errors
    assert window.kind == "fit" and window.windowTitle() == "DEQ Studio — mesh.ply"
    assert window.task.step_count == 2 and " · Ready · Fitting mesh.ply" in window.status.text()
    assert window.views.currentWidget() is window.views.view("mesh") and window.views.view("mesh").reconstruction is not None

    for kind, shrink in TINY.items():
        window.set_kind(kind)
        assert window.windowTitle() == f"DEQ Studio — {window.session.kind.title}"
        assert window.views.currentWidget() is window.kind_view(kind) and not window.hint.isHidden()
        assert window.settings_scroll.verticalScrollBar().value() == 0
        window.form.set_config(shrink(window.form.config()))
        run_to_the_end(window, qtbot)
        qtbot.wait(150)  # the last throttled preview
        assert any(panel.image is not None for panel in window.kind_view(kind).panels.values()), kind

    window.resize(1024, 700)
    qtbot.wait(50)
    assert window.settings_dock.width() >= 280
    assert window.views.width() >= 400 and window.views.height() >= 250 and window.curves.isVisible()
