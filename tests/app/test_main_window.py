"""The main window offscreen: open, train through the worker, pause/resume/stop, reset, bad files, self-test."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from engine.resources import sample_path  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.form.set_config(dataclasses.replace(win.form.config(), steps=400, log_every=2, eval_every=50))
    yield win
    win.controller.stop()
    win.controller.wait()


def test_image_sample_trains_live_and_obeys_run_control(window, qtbot) -> None:
    assert window.open_file(sample_path("image.png"))
    assert window.views.view("image").target is not None and window.start_action.isEnabled()
    window.start()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 3, timeout=60_000)
    qtbot.waitUntil(lambda: window.views.view("image").reconstruction is not None, timeout=10_000)
    assert window.views.view("image").reconstruction.shape == window.views.view("image").target.shape
    window.toggle_pause()
    assert window.controller.state == "paused" and window.pause_action.text() == "&Resume"
    window.toggle_pause()
    assert window.controller.state == "running"
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.controller.stop()
    trained = window.task.step_count
    assert 0 < trained < 400 and window.curves.runs[0]["rows"]
    window.reset()
    assert window.task.step_count == 0 and window.views.view("image").reconstruction is None


def test_unreadable_file_shows_an_error_and_keeps_the_app_usable(window, tmp_path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"definitely not a png")
    assert not window.open_file(bad)
    assert window.errors[-1].startswith("Could not read broken.png as an image: ")  # a sentence, said once
    from PySide6.QtWidgets import QMessageBox

    box = window.findChildren(QMessageBox)[-1]
    assert "Open another file" in box.text() and "Details" not in box.text() and box.detailedText()
    assert window.open_file(sample_path("image.png"))


def test_self_test_trains_and_saves_a_screenshot(tmp_path, capsys, monkeypatch) -> None:
    import tempfile

    from app.self_test import self_test

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))
    (tmp_path / "temporary").mkdir()
    shot = tmp_path / "window.png"
    assert self_test(str(shot)) == 0
    assert shot.is_file() and shot.stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "self-test passed" in out and "the previous session's settings restored" in out
    assert "a damaged settings file set aside" in out
    assert not list((tmp_path / "temporary").glob("deq-studio*"))  # its settings files are gone with their folder


def test_self_test_starts_from_the_settings_a_previous_session_left(tmp_path, capsys, monkeypatch) -> None:
    import tempfile

    from app.self_test import self_test
    from app.window_state import WindowState

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(WindowState, "restore_settings", lambda window, kept: None)  # a window that forgets them
    assert self_test() == 1
    assert "the previous session's settings did not come back (task, noise:" in capsys.readouterr().err


def test_the_splash_screen_is_painted_before_pytorch_is_imported() -> None:
    import os
    import subprocess
    import sys

    probe = ("import sys; from app.main import main; from app.application import application, splash_screen; "
             "application(); splash = splash_screen(); print('torch' in sys.modules, splash.isVisible())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_jiio_race_and_attack_run_from_the_window(window, qtbot, data_dir) -> None:
    import os

    os.environ.setdefault("DEQ_STUDIO_DATA", str(data_dir))
    window.set_kind("inverse")
    form = window.forms["inverse"]
    form.set_config(dataclasses.replace(form.config(), count=4, adam_steps=3,
                                        jiio=dataclasses.replace(form.config().jiio, iterations=8)))
    assert window.start_action.isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.waitUntil(lambda: window.views.view("race").panels["adam"].image is not None, timeout=5_000)
    assert set(window.views.view("race").curves) == {"jiio", "adam"}
    window.set_kind("attack")
    form = window.forms["attack"]
    attack = dataclasses.replace(form.config().attack, pgd_steps=2,
                                 jio=dataclasses.replace(form.config().attack.jio, iterations=6))
    form.set_config(dataclasses.replace(form.config(), count=8, attack=attack))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.waitUntil(lambda: "PGD" in window.views.view("attack").predictions.text(), timeout=5_000)
    assert window.views.view("attack").panels["perturbation_jio"].image is not None
    assert window.open_file(sample_path("image.png")) and window.kind == "fit"


def test_snapshot_saves_reloads_and_continues_and_exports(window, qtbot, tmp_path) -> None:
    from engine.run_directory import RunDirectory

    window.forms["fit"].set_config(dataclasses.replace(window.forms["fit"].config(), steps=6, log_every=2,
                                                       eval_every=6))
    assert window.open_file(sample_path("image.png"))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert window.task.step_count == 6
    saved = window.save_snapshot(tmp_path / "snap")
    assert saved is not None and RunDirectory(tmp_path / "snap").read_metrics()[-1]["step"] == 6
    exported = window.export_reconstruction(tmp_path / "export")
    assert exported is not None and exported.suffix == ".png" and exported.is_file()
    weights = [p.detach().clone() for p in window.task.model.parameters()]
    window.reset()
    assert window.task.step_count == 0
    assert window.load_snapshot(tmp_path / "snap")
    assert window.task.step_count == 6 and window.views.view("image").reconstruction is not None
    assert all((a == b.detach()).all() for a, b in zip(weights, window.task.model.parameters()))
    assert window.curves.runs[-1]["name"].endswith("(reopened)")
    window.forms["fit"].set_config(dataclasses.replace(window.forms["fit"].config(), steps=8))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000) as done:
        window.start()
    assert done.args == [True] and window.task.step_count == 8
    (tmp_path / "junk").mkdir()
    assert not window.load_snapshot(tmp_path / "junk") and "junk" in window.errors[-1]


@pytest.mark.parametrize("name, view", [("audio.wav", "audio"), ("video.mp4", "video")])
def test_audio_and_video_samples_train_live(window, qtbot, name, view) -> None:
    assert window.open_file(sample_path(name))
    window.forms["fit"].set_config(dataclasses.replace(window.forms["fit"].config(), steps=4, log_every=2,
                                                       eval_every=2, batch_size=4096))
    shown = window.views.view(view)
    assert window.views.currentWidget() is shown and shown.target is not None
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.waitUntil(lambda: shown.reconstruction is not None, timeout=5_000)
    assert shown.reconstruction.shape == shown.target.shape
    if view == "video":
        shown.slider.setValue(shown.count - 1)
        assert shown.frames.reconstruction.shape == shown.target.shape[1:]


def test_spectrogram_finds_a_tone() -> None:
    import numpy as np

    from app.views.audio_view import spectrogram

    rate = 8000
    wave = np.sin(2 * np.pi * 1000 * np.arange(rate) / rate).astype(np.float32)
    spec = spectrogram(wave, window=512)
    assert abs(int(spec.mean(axis=1).argmax()) - round(1000 / rate * 512)) <= 1


def test_open_recent_remembers_files_across_windows(window, qtbot, tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    assert window.open_file(sample_path("audio.wav"))
    assert window.open_file(sample_path("image.png"))
    names = [a.text() for a in window.recent_menu.actions()]
    assert names == ["image.png", "audio.wav"]
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    assert [a.text() for a in again.recent_menu.actions()] == names
    again.recent_menu.actions()[1].trigger()
    assert again.path.name == "audio.wav"


def test_panels_and_task_kind_persist_across_windows(window, qtbot) -> None:
    window.set_kind("attack")
    form = window.forms["attack"]
    form.set_config(dataclasses.replace(form.config(), count=7))
    window.forms["inverse"].set_config(dataclasses.replace(window.forms["inverse"].config(), sigma=0.35))
    window.close()
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    assert again.kind == "attack" and again.forms["attack"].config().count == 7
    assert again.forms["inverse"].config().sigma == 0.35
    assert again.views.view("race").controls.sigma.value == 0.35
    window.settings.setValue("forms/inverse", "{not json")
    third = MainWindow(window.settings)
    qtbot.addWidget(third)
    assert third.forms["inverse"].config().sigma == 0.2  # unreadable: the defaults


def test_settings_of_an_earlier_version_name_the_prior_task_by_its_new_name(qtbot, tmp_path) -> None:
    import json

    settings = QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat)
    settings.setValue("kind", "prior")
    settings.setValue("forms/prior", json.dumps({"steps": 77}))
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert window.kind == "train-prior" and window.forms["train-prior"].config().steps == 77


def test_audio_playback_is_probed_with_the_first_clip(qtbot) -> None:
    import numpy as np

    from app.views.audio_view import AudioView, output_device_problem

    view = AudioView()
    qtbot.addWidget(view)
    assert not view.play_buttons["target"].isEnabled() and not view.play("target")  # nothing to play yet
    view.set_target(np.zeros(800, np.float32), 8000.0)
    problem = output_device_problem()
    assert view.playback_problem == problem
    assert view.play_buttons["target"].isEnabled() == (problem is None)
    assert (f"Play is off: {problem}." in view.notice.text()) == (problem is not None)  # the reason, not a mystery
    view.set_target(np.zeros(800, np.float32), 8000.0, "seconds 0.00–0.10 of the file's 24.31")
    assert view.notice.text().startswith("Learning seconds 0.00–0.10 of the file's 24.31 s (raise Audio duration s")
    assert not view.notice.isHidden()


def test_without_a_display_a_given_file_is_fitted_headless(tmp_path, monkeypatch, capsys) -> None:
    import numpy as np
    from PIL import Image

    import app.self_test
    from app.main import main

    image = tmp_path / "tiny.png"
    Image.fromarray((np.random.default_rng(0).random((8, 8)) * 255).astype(np.uint8)).save(image)
    monkeypatch.setattr(app.self_test, "has_display", lambda: False)
    assert main([str(image)]) == 0
    out = capsys.readouterr().out
    assert "fitting tiny.png headless" in out and "tiny.png" in out.splitlines()[1]
    assert list((tmp_path / "runs").glob("tiny-*/reconstruction.png"))


def test_a_damaged_picture_is_restored_in_the_window(window, qtbot, tmp_path) -> None:
    """Restore on the opened picture keeps showing it (its panel asks for the mask alone); Start without a mask says
    what to do; with one, the damaged picture is the target and the reconstruction fills the hole."""
    import numpy as np
    from PIL import Image

    assert window.open_file(sample_path("image.png"))
    window.set_kind("restore")
    assert window.views.currentWidget() is not window.placeholder and window.kind == "restore"
    visible = {name for name, (_, editor) in window.form.rows.items() if editor.isVisibleTo(window.form)}
    assert "mask" in visible and not {"gap", "frames", "protocol"} & visible
    window.start()
    assert "mask first" in window.errors[-1]
    mask = np.full((128, 128), 255, np.uint8)
    mask[30:50, 40:70] = 0
    Image.fromarray(mask).save(tmp_path / "mask.png")
    config = window.form.config()
    window.form.set_config(dataclasses.replace(config, mask=str(tmp_path / "mask.png"), steps=6, log_every=2,
                                               eval_every=6))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    view = window.views.currentWidget()
    assert (view.items[0].image[30:50, 40:70] == 0).all()  # the target shown: the damaged picture
    assert view.reconstruction is not None and view.reconstruction[30:50, 40:70].any()
    assert "psnr_test" in window.task_rows[-1] and "Restoring image.png" in window.task.describe()


def test_the_damage_is_painted_on_the_picture_or_chosen_as_a_file(window, qtbot, monkeypatch, tmp_path) -> None:
    """A restore of a picture offers Paint damage under the view: a stroke on the target becomes the restore's mask
    (a PNG at the picture file's size, black where painted) and the run restores exactly there; Clear damage empties
    the setting; the mask entry's button chooses a file, which the picture then shows as damage. Other kinds do not
    offer the painter."""
    import numpy as np
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    assert window.open_file(sample_path("image.png"))
    view = window.views.currentWidget()
    assert not view.paint_damage.isVisibleTo(window)  # a fit paints nothing
    window.set_kind("restore")
    view = window.views.currentWidget()
    assert view.paint_damage.isVisibleTo(window) and view.damage.damage.shape == view.target.shape[:2]
    view.paint_damage.setChecked(True)
    view.brush_size.setValue(4)
    with qtbot.waitSignal(view.damage_painted):
        view.damage.mark(40.0, 60.0, start=(20.0, 60.0))
        view.damage.painted.emit(view.damage.damage.copy())  # what a finished mouse stroke emits
    mask = window.panel.settings_of("restore").mask
    pixels = np.asarray(Image.open(mask))
    assert pixels.shape == (128, 128) and (pixels[58:62, 22:38] == 0).all() and (pixels[:40] == 255).all()
    window.form.set_config(dataclasses.replace(window.form.config(), steps=4, log_every=2, eval_every=4))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert not window.errors and int(window.task.missing.sum()) == int((pixels < 128).sum())
    view.clear_damage.click()
    assert window.panel.settings_of("restore").mask == "" and not view.damage.damage.any()
    chosen = tmp_path / "chosen.png"
    box = np.full((128, 128), 255, np.uint8)
    box[10:20, 30:40] = 0
    Image.fromarray(box).save(chosen)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(chosen), ""))
    window.form.editors["mask"].chooser.trigger()
    assert window.panel.settings_of("restore").mask == str(chosen)
    assert view.damage.damage.sum() == 100 and view.damage.damage[10:20, 30:40].all()
    window.set_kind("fit")
    assert not window.views.currentWidget().paint_damage.isVisibleTo(window)


def test_a_sounds_gap_is_selected_on_its_waveform_and_a_videos_lost_frames_on_its_frames(window, qtbot) -> None:
    """A restore of a sound offers Select the gap over the waveform: the shaded stretch becomes the restore's gap in
    seconds of the file (Audio start s added), and the run fills exactly those samples; a video's Mark lost marks
    the frame shown and extends to the next one marked; Clear empties the setting."""
    assert window.open_file(sample_path("audio.wav"))
    window.set_kind("restore")
    view = window.views.currentWidget()
    assert view.select_gap.isVisibleTo(window) and view.gap() is None
    settings = window.panel.settings_of("restore")
    window.panel.put_settings("restore", dataclasses.replace(
        settings, steps=4, log_every=2, eval_every=4,
        signal=dataclasses.replace(settings.signal, audio_start_s=0.5, audio_duration_s=1.0)))
    window.open_file(sample_path("audio.wav"))  # read again from 0.5 s
    view.wave_plot.setXRange(0.2, 0.4, padding=0)
    view.select_gap.click()  # a fiftieth of the view at its middle: 0.298–0.302 s of the clip
    start, end = (float(t) for t in window.panel.settings_of("restore").gap.split(":"))
    assert abs(start - 0.798) < 2e-3 and abs(end - 0.802) < 2e-3
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    rate = window.task.signal.rate
    assert not window.errors and abs(int(window.task.missing.sum()) - round((end - start) * rate)) <= 1
    view.clear_gap.click()
    assert window.panel.settings_of("restore").gap == "" and view.gap() is None

    assert window.open_file(sample_path("video.mp4"))
    window.set_kind("restore")
    view = window.views.currentWidget()
    assert view.mark_lost.isVisibleTo(window)
    view.slider.setValue(4)
    view.mark_lost.click()
    view.slider.setValue(2)
    view.mark_lost.click()
    assert window.panel.settings_of("restore").frames == "3:5" and "lost" in view.frame_label.text()
    view.clear_lost.click()
    assert window.panel.settings_of("restore").frames == "" and "lost" not in view.frame_label.text()
    window.set_kind("fit")
    assert not window.views.currentWidget().mark_lost.isVisibleTo(window)
