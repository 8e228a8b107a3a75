"""The window tells the truth about its state, driven as a user drives it: the title names what is shown, the
status bar says the phase (Ready, Loading, Training, Paused, Stopping, Stopped, Finished, Failed) with the engine's
own thread count, a failed Open changes nothing, Reset and switching tasks leave no stale progress, scroll position
or results, changed settings of a trained model ask before they are ignored, and a corrected field loses its mark."""
from __future__ import annotations

import dataclasses
import re

import pytest

pytest.importorskip("PySide6")

from app.worker import ENGINE_THREADS  # noqa: E402
from engine.resources import sample_path  # noqa: E402


def train(window, qtbot, steps: int, **changes) -> None:
    window.form.set_config(dataclasses.replace(window.form.config(), steps=steps, log_every=1, **changes))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.start()


def test_title_and_phases_follow_the_run(window, qtbot) -> None:
    assert window.status.text().startswith(f"CPU ({ENGINE_THREADS} thread")  # the worker's threads, not the GUI's
    assert window.open_file(sample_path("image.png"))
    assert window.windowTitle() == "DEQ Studio — image.png"
    assert " · Ready · Fitting image.png" in window.status.text()
    window.form.set_config(dataclasses.replace(window.form.config(), steps=2000, log_every=1))
    window.start()
    assert window.phase == "Training" and " · Training · " in window.status.text()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 2, timeout=30_000)
    window.toggle_pause()
    assert window.phase == "Paused" and " · Paused · step " in window.status.text()
    window.toggle_pause()
    assert window.phase == "Training"
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.stop()
    assert window.phase == "Stopped" and " · Stopped · step " in window.status.text()
    stopped_at = window.task.step_count
    assert window.progress.value() == stopped_at
    train(window, qtbot, stopped_at + 3)
    assert window.phase == "Finished" and f"step {stopped_at + 3}/{stopped_at + 3}" in window.status.text()

    window.reset()  # a fresh model: no stale progress
    assert window.task.step_count == 0 and window.progress.value() == 0 and window.phase == "Ready"
    window.set_kind("attack")
    assert window.windowTitle() == "DEQ Studio — Attack: JIO vs PGD"
    assert window.status.text().endswith("Ready · Attack: JIO vs PGD") and window.progress.value() == 0


def test_a_failed_open_changes_nothing(window, qtbot, tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    form = window.forms["fit"]
    form.set_config(dataclasses.replace(form.config(), seed=7))
    settings, task = form.config(), window.task
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    assert not window.open_file(broken)
    assert window.errors and "broken.wav" in window.errors[-1]
    assert window.task is task and window.path == sample_path("image.png")
    assert form.config() == settings  # not the audio panel's settings
    assert window.windowTitle() == "DEQ Studio — image.png"
    assert window.views.currentWidget() is window.views.view("image")

    window.set_kind("train-prior")
    assert not window.open_file(broken)
    assert window.kind == "train-prior" and window.windowTitle() == "DEQ Studio — Train a generative prior (MNIST)"


def test_a_file_too_large_is_offered_smaller_and_a_refusal_changes_nothing(window, qtbot, tmp_path,
                                                                           monkeypatch) -> None:
    import numpy as np
    import soundfile as sf

    import engine.media.audio

    monkeypatch.setattr(engine.media.audio, "MAX_AUDIO_SAMPLES", 20_000)
    clip = tmp_path / "long.wav"
    sf.write(clip, np.sin(np.arange(48_000) / 7.0).astype(np.float32), 16_000)
    assert window.open_file(sample_path("image.png"))
    asked: list[str] = []
    monkeypatch.setattr(window, "accepts_smaller", lambda message: asked.append(message) or False)
    assert not window.open_file(clip)
    assert "Audio duration s to 1.2" in asked[0] and "long.wav" in window.errors[-1]
    assert window.path == sample_path("image.png")
    monkeypatch.setattr(window, "accepts_smaller", lambda message: asked.append(message) or True)
    assert window.open_file(clip)
    assert window.path == clip and window.forms["fit"].config().signal.audio_duration_s == 1.2
    assert window.task.signal.shape == (19_200,) and len(asked) == 2
    form = window.forms["fit"]  # the whole clip asked for at Start: offered again, then trained
    form.set_config(dataclasses.replace(form.config(), signal=dataclasses.replace(form.config().signal,
                                                                                  audio_duration_s=None)))
    train(window, qtbot, 2, eval_every=100)
    assert len(asked) == 3 and form.config().signal.audio_duration_s == 1.2
    assert window.phase == "Finished" and window.task.signal.shape == (19_200,)


def test_switching_tasks_shows_each_panel_from_its_top(window, qtbot) -> None:
    window.settings_scroll.resize(300, 200)
    window.set_kind("attack")
    bar = window.settings_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    window.set_kind("inverse")
    assert bar.value() == 0


def test_changed_model_settings_after_training_ask_before_they_are_ignored(window, qtbot, monkeypatch) -> None:
    assert window.open_file(sample_path("image.png"))
    train(window, qtbot, 3)
    trained = window.task
    form = window.form
    wider = dataclasses.replace(form.config(), model=dataclasses.replace(form.config().model, width=32), steps=5)
    asked = []

    def answer(choice):
        def ask() -> str:
            asked.append(choice)
            return choice
        return ask

    form.set_config(wider)
    monkeypatch.setattr(window, "ask_restart", answer("cancel"))
    window.start()
    assert asked == ["cancel"] and not window.controller.busy and window.task is trained

    monkeypatch.setattr(window, "ask_restart", answer("continue"))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert window.task is trained and trained.step_count == 5
    assert form.config().model.width == 64 and form.config().steps == 5  # the panel shows what ran

    form.set_config(dataclasses.replace(wider, steps=2))
    monkeypatch.setattr(window, "ask_restart", answer("restart"))
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert window.task is not trained and window.task.step_count == 2 and window.task.model.width == 32
    assert asked == ["cancel", "continue", "restart"]

    monkeypatch.setattr(window, "ask_restart", answer("never asked"))
    train(window, qtbot, 4)  # only the schedule changed: no question
    assert window.task.step_count == 4 and len(asked) == 3


def test_a_corrected_field_loses_its_mark_and_errors_say_what_to_enter(window, qtbot) -> None:
    from engine.config import ConfigError

    width = window.forms["fit"].children_forms["model"].editors["width"]
    width.setText("wide")
    with pytest.raises(ConfigError, match="enter a whole number, not 'wide'"):
        window.forms["fit"].config()
    assert width.styleSheet()
    qtbot.keyClicks(width, "x")  # the user edits the field
    assert width.styleSheet() == ""
    width.setText("12.5")
    with pytest.raises(ConfigError, match="whole number"):
        window.forms["fit"].config()


def test_every_write_says_where_and_old_runs_can_be_cleared(window, qtbot, tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    train(window, qtbot, 2)
    train(window, qtbot, 3)
    assert len(window.session.history.runs) == 2 and len(window.curves.runs) == 2
    written = window.export_metrics(tmp_path / "metrics.csv")
    assert written is not None and window.statusBar().currentMessage() == f"Saved to {written}"
    curves = window.export_curves(tmp_path / "curves")  # no suffix: a PNG
    assert curves == tmp_path / "curves.png" and curves.is_file()
    assert window.statusBar().currentMessage() == f"Saved to {curves}"
    snapshot = window.save_snapshot(tmp_path / "snap")
    assert window.statusBar().currentMessage() == f"Saved to {snapshot}"
    assert window.save_screenshot(tmp_path / "no-such-folder" / "x.bmp2") is None
    assert "use a .png or .jpg name" in window.errors[-1]
    assert window.export_metrics(tmp_path / "gone" / "metrics.csv") is None
    assert window.errors[-1] == ("Could not export the metrics: The folder gone of metrics.csv does not exist. "
                                 "Choose a folder that does.")
    window.curves.clear_old_runs()
    assert len(window.session.history.runs) == 1 and len(window.curves.runs) == 1
    lines = window.session.history.export_jsonl(tmp_path / "m.jsonl").read_text().splitlines()
    assert len(lines) == 1  # the second run's one new row (step 3)


def test_quitting_mid_run_asks_then_the_window_goes_at_once(window, qtbot, monkeypatch) -> None:
    import time

    assert window.open_file(sample_path("image.png"))
    window.form.set_config(dataclasses.replace(window.form.config(), steps=100_000))
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.controller.snapshots_received >= 1, timeout=30_000)
    monkeypatch.setattr(window, "confirm_quit", lambda: False)
    window.close()
    assert window.isVisible() and window.controller.busy  # "No": nothing happens
    monkeypatch.setattr(window, "confirm_quit", lambda: True)
    start = time.perf_counter()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.close()
        assert not window.isVisible() and time.perf_counter() - start < 1.0  # gone at once
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    assert window.phase == "Stopped" and window.settings.value("geometry") is not None


def test_a_first_run_is_guided(window, qtbot) -> None:
    from app.quickstart import pictures, quickstart_html
    from engine.tasks.kinds import TASKS

    assert window.hint.isHidden()  # nothing opened yet: the placeholder says what to do
    assert window.open_file(sample_path("image.png"))
    assert not window.hint.isHidden() and window.hint.text().startswith("Press Start ▶ (F5): fit an image")
    train(window, qtbot, 2)
    assert window.hint.isHidden()
    window.set_kind("inverse")
    assert not window.hint.isHidden() and "JIIO against Adam" in window.hint.text()
    html = quickstart_html()
    assert all(kind.title in html for kind in TASKS)
    assert all(pictures(kind.name) for kind in TASKS)
    assert html.count("<img") == sum(len(pictures(kind.name)) for kind in TASKS)
    assert not window.settings.value("quickstart_shown")
    window.show_quickstart()
    assert window.quickstart.isVisible() and window.settings.value("quickstart_shown")
    window.quickstart.close()


def test_simple_settings_with_an_advanced_drawer_and_only_what_applies(window, qtbot) -> None:
    fit = window.forms["fit"]
    window.show()
    assert window.open_file(sample_path("image.png"))
    signal = fit.children_forms["signal"]
    assert not fit.advanced_box.isVisible() and fit.rows["solver"][0] is not fit.rows["steps"][0]
    assert signal.editors["max_size"].isVisible() and not signal.editors["audio_rate"].isVisible()
    assert not fit.editors["mc_resolution"].isVisible() and fit.editors["steps"].isVisible()
    assert simple_fields(fit) == {"model.model", "steps", "protocol", "signal.max_size"}  # the few a user knows
    assert fit.rows["model"][1].isVisible() and not fit.children_forms["model"].editors["width"].isVisible()
    fit.show_advanced(True)
    assert fit.children_forms["solver"].isVisible() and fit.editors["seed"].isVisible()
    assert fit.children_forms["model"].editors["width"].isVisible()
    solver = fit.children_forms["solver"]
    assert not solver.editors["damping"].isVisible() and solver.editors["anderson_memory"].isVisible()
    solver.editors["solver"].setCurrentIndex(solver.editors["solver"].findData("picard"))
    solver.editors["solver"].activated.emit(solver.editors["solver"].currentIndex())  # as a user's choice does
    assert solver.editors["damping"].isVisible() and not solver.editors["anderson_memory"].isVisible()
    assert not fit.children_forms["backward"].rows["adjoint"][1].isVisible()  # Neumann needs no adjoint solver
    assert window.open_file(sample_path("audio.wav"))
    assert signal.editors["audio_rate"].isVisible() and not signal.editors["max_size"].isVisible()
    assert window.open_file(sample_path("mesh.ply"))
    assert fit.editors["mc_resolution"].isVisible() and not fit.editors["protocol"].isVisible()
    assert fit.config().signal.audio_rate is None  # hidden fields keep their values
    assert simple_fields(fit) == {"model.model", "steps", "mesh_target", "mc_resolution"}
    assert not fit.rows["signal"][1].isVisible()  # no empty group
    window.set_kind("attack")
    assert simple_fields(window.form) == {"count", "image", "method", "attack.epsilon"}

    window.set_kind("adv-train")
    window.apply_preset("full")
    from engine.config import AdvTrainConfig

    assert window.form.config() == AdvTrainConfig() and "Full quality" in window.statusBar().currentMessage()
    window.apply_preset("preview")
    assert window.form.config().steps == 300


def simple_fields(form, prefix: str = "") -> set[str]:
    """The dotted paths of the fields a form shows in Simple (outside the Advanced drawer)."""
    shown = set()
    for name, (layout, widget) in form.rows.items():
        if layout is not form.simple or not layout.isRowVisible(widget):
            continue
        child = form.children_forms.get(name)
        shown |= simple_fields(child, f"{prefix}{name}.") if child else {prefix + name}
    return shown


def test_evaluations_are_announced_as_a_phase(window, qtbot) -> None:
    assert window.open_file(sample_path("image.png"))
    seen: list[str] = []
    window.controller.phase.connect(lambda phase: seen.append(f"{phase}:{window.phase}"))
    train(window, qtbot, 4, eval_every=2)
    assert seen[:2] == ["Evaluating:Evaluating", "Training:Training"] and seen[-1] == "Evaluating:Evaluating"
    assert window.phase == "Finished"


def test_a_small_screen_keeps_the_settings_and_the_views_usable(window, qtbot) -> None:
    assert window.open_file(sample_path("image.png"))
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    assert window.settings_dock.width() >= 280 and window.forms["fit"].editors["steps"].width() >= 80
    assert window.views.width() >= 400 and window.views.height() >= 250 and window.curves.height() >= 120


def test_race_columns_share_the_width_and_video_frames_are_numbered(qtbot) -> None:
    import numpy as np

    from app.views.race_view import RaceView
    from app.views.video_view import VideoView

    race = RaceView()
    qtbot.addWidget(race)
    race.resize(1200, 600)
    race.show()
    race.panels["adam"].title.setText("Adam over the latent — 15.61 dB, 1.3 s, and a much longer title than that")
    qtbot.wait(20)
    widths = [race.panels[key].width() for key in race.PANELS]
    assert max(widths) - min(widths) <= 0.1 * max(widths), widths

    video = VideoView()
    qtbot.addWidget(video)
    video.set_target(np.zeros((16, 8, 8, 3), np.uint8), 25.0)
    assert video.frame_label.text() == "frame 1 / 16"
    video.slider.setValue(4)
    assert video.frame_label.text() == "frame 5 / 16"
    video.play_button.setChecked(True)
    assert video.play_button.text() == "Stop playback"  # not a second "Pause" beside the run's
    video.play_button.setChecked(False)


def test_the_eta_counts_measured_training_time_not_evaluations(window) -> None:
    from engine.tasks.base import Snapshot

    window.session.run_phase.started(2.0, 10)  # the run started at step 10, 2 s of training
    # 20 more steps in 4 s of training, however long the evaluations in between took on the wall clock
    window.show_snapshot(Snapshot(30, 120, 6.0, {"psnr_train": 20.0}, {}, final=True))
    assert "· 5.0 steps/s · ETA 18 s ·" in window.status.text() and "PSNR 20.00 dB" in window.status.text()
    window.session.run_phase.paused(True)
    window._show_progress()
    assert "Paused · step 30/120 ·" in window.status.text() and "steps/s" not in window.status.text()


def test_errors_and_perturbations_have_colour_bars(qtbot) -> None:
    import numpy as np

    from app.views.attack_view import AttackView
    from app.views.image_view import ImageView

    image = ImageView()
    qtbot.addWidget(image)
    assert image.error_bar.values == (0.0, 64.0 / 255)
    attack = AttackView()
    qtbot.addWidget(attack)
    bar = attack.panels["perturbation_jio"].bar
    assert bar is not None and bar.values == (-1.0, 1.0)
    lut = attack.panels["perturbation_pgd"].item.lut
    assert lut is not None and not (lut[0] == lut[-1]).all()  # a colour map, not gray
    assert attack.panels["clean"].bar is None
    attack.show_snapshot({"perturbation_jio": np.full((28, 28), 128, np.uint8),
                          "perturbation_range": np.float32(0.25)}, {})
    assert bar.levels() == (-0.25, 0.25)  # the bar spans the largest change shown
    attack.clear()
    assert bar.levels() == (-1.0, 1.0)


def test_the_spectrogram_has_axes_in_seconds_and_hertz_and_says_what_it_shows(qtbot) -> None:
    import numpy as np

    from app.views.audio_view import AudioView

    view = AudioView()
    qtbot.addWidget(view)
    rate = 8000.0
    view.set_target(np.sin(np.linspace(0, 2000, 16000)).astype(np.float32), rate)
    assert view.spec_plot.titleLabel.text == "Spectrogram of the target"
    assert view.spec_plot.getAxis("left").labelText == "frequency (Hz)"
    rect = view.spec_item.mapRectToParent(view.spec_item.boundingRect())
    assert rect.width() == pytest.approx(2.0) and rect.height() == pytest.approx(rate / 2)  # 2 s, 0–4 kHz
    view.set_reconstruction(np.zeros(16000, np.float32))
    assert view.spec_plot.titleLabel.text == "Spectrogram of the reconstruction"


def test_no_result_of_an_earlier_run_is_left_and_labels_explain_their_own_field(window, qtbot) -> None:
    import numpy as np

    from app.views.readable_axis import ReadableAxis
    from engine.config import ModelConfig, field_docs

    race = window.views.view("race")
    assert isinstance(race.plot.getAxis("left"), ReadableAxis)  # its log labels never overprint either
    race.show_snapshot({"corrupted": np.zeros((28, 28), np.uint8)}, {"psnr_corrupted": 16.7})
    assert "16.70 dB" in race.panels["corrupted"].title.text()
    window.set_kind("inverse")
    assert race.panels["corrupted"].title.text() == "Corrupted" and race.panels["corrupted"].image is None
    attack = window.views.view("attack")
    attack.show_snapshot({"jio": np.zeros((28, 28), np.uint8)}, {})
    window.set_kind("attack")
    assert attack.panels["jio"].image is None and attack.panels["jio"].title.text() == "JIO"
    window.set_kind("train-prior")
    window.show()
    window.views.view("grid").show_snapshot({"samples": np.zeros((28, 28), np.uint8)}, {})
    samples = window.views.view("grid").panels["samples"]
    qtbot.wait(10)  # a panel added to a shown view shows at the next event
    assert samples.isVisible()
    window.set_kind("adv-train")  # the prior's panels are gone at once, not at the next deferred deletion
    assert not samples.isVisible() and not window.views.view("grid").panels

    model = window.forms["fit"].children_forms["model"]
    layout, editor = model.rows["width"]
    label = layout.labelForField(editor)
    assert label.toolTip() == field_docs(ModelConfig)["width"] != model.toolTip()


def test_only_the_settings_that_do_something_are_shown(window, qtbot) -> None:
    window.set_kind("inverse")
    form = window.form
    visible = lambda name: form.rows[name][0].isRowVisible(form.rows[name][1])  # noqa: E731
    assert visible("sigma") and not visible("box_size") and not visible("mask")  # noise: its level only
    corruption = form.editors["corruption"]
    corruption.setCurrentIndex(corruption.findData("box"))
    corruption.activated.emit(corruption.currentIndex())  # as a user's choice
    assert visible("box_size") and not visible("sigma")
    window.views.view("race").controls.sigma_changed.emit(0.3)  # the noise slider switches back to noise
    assert visible("sigma") and not visible("box_size")

    window.set_kind("attack")
    form = window.form
    assert not visible("label")  # no image to label
    form.editors["image"].setText("digit.png")
    form.editors["image"].editingFinished.emit()
    assert visible("label")
    method = form.editors["method"]
    method.setCurrentIndex(method.findData("jio"))
    method.activated.emit(method.currentIndex())
    attack = form.children_forms["attack"]
    assert not attack.rows["pgd_steps"][0].isRowVisible(attack.rows["pgd_steps"][1])
    assert attack.rows["jio"][0].isRowVisible(attack.rows["jio"][1])


def test_a_diverging_run_pauses_at_its_best_state_and_continues_with_a_lower_lr(window, qtbot, monkeypatch) -> None:
    assert window.open_file(sample_path("image.png"))
    train(window, qtbot, 40, lr=1000.0, eval_every=100)
    assert window.phase == "Paused after divergence" and "Training diverged at step" in window.errors[-1]
    assert "set a lower learning rate" in window.errors[-1]
    kept = re.search(r"The (?:weights of step (\d+)|starting weights) \(loss", window.errors[-1])
    best = int(kept.group(1) or 0)  # lr 1000 may wreck the network at its first update: then the starting weights
    assert window.task.step_count == best < 40  # restored, ready to continue
    monkeypatch.setattr(window, "ask_restart", lambda: pytest.fail("a new lr needs no restart"))
    trained = window.task
    train(window, qtbot, 40, lr=1e-4, eval_every=100)
    assert window.task is trained or best == 0  # the starting weights: an untrained task, built anew
    assert window.phase == "Finished" and window.task.step_count == 40
    assert window.task.config.lr == 1e-4
    assert all(group["lr"] == 1e-4 for group in window.task.optimizer.param_groups)


@pytest.mark.parametrize("kind, sample", [("fit", "image.png"), ("fit", "video.mp4"), ("fit", "audio.wav"),
                                          ("inverse", None), ("attack", None), ("meta-train", None),
                                          ("train-prior", None)])
def test_the_start_hint_covers_no_control(window, qtbot, kind, sample) -> None:
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox

    window.resize(1280, 800)
    window.show()
    window.set_kind(kind)
    if sample:
        assert window.open_file(sample_path(sample))
    qtbot.waitUntil(lambda: window.hint.isVisible(), timeout=5_000)
    window.show_hint()  # placed for the shown size
    hint = QRect(window.hint.mapTo(window, QPoint(0, 0)), window.hint.size())
    view = window.views.currentWidget()
    controls = [widget for kind_ in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox)
                for widget in view.findChildren(kind_) if widget.isVisible()]
    assert controls or kind == "train-prior"  # the grid view has none
    covered = [widget for widget in controls
               if hint.intersects(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))]
    assert covered == [], [widget.text() if hasattr(widget, "text") else type(widget).__name__ for widget in covered]


def test_the_eta_counts_the_evaluations_left_at_the_time_each_took() -> None:
    from app.run_phase import RunPhase, evaluations_between

    assert evaluations_between(0, 100, 25, 100) == 5  # step 1, 25, 50, 75, 100
    assert evaluations_between(30, 110, 25, 110) == 4  # 50, 75, 100 and the last, 110
    phase = RunPhase()
    phase.started(0.0, 0, eval_every=25)
    wall = phase.wall + 30.0  # 30 s since Start: 20 s of training to step 50, so 10 s in its 3 evaluations
    eta = phase.eta(50, 100, 20.0, now=wall)
    assert eta == pytest.approx(20.0 + 2 * 10.0 / 3)  # 50 steps at 2.5 steps/s, and 2 evaluations left


def test_the_eta_counts_the_latest_evaluation_and_a_heavier_final_one() -> None:
    from app.run_phase import RunPhase

    phase = RunPhase()
    phase.started(0.0, 0, eval_every=50, final_weight=10.0)
    phase.wall = 100.0
    phase.worker("Evaluating", True, now=100.0)  # step 1: an untrained model's slow evaluation
    phase.worker("Training", True, now=104.0)
    phase.worker("Evaluating", True, now=110.0)  # step 50: a trained one's
    phase.worker("Training", True, now=110.5)
    assert phase.last_evaluation_s == 0.5
    # at step 100 after 10 s of training: 100 steps left (10 s), evaluations at 150 and 200, the last the final one
    assert phase.eta(100, 200, 10.0, now=120.0) == pytest.approx(10.0 + (1 + 10.0) * 0.5)
