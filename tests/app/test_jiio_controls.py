"""The JIIO views' controls: noise slider and mask painter drive the inverse settings; ε slider, the digit canvas
(classified as drawn) and 'Attack this digit' drive the attack."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from app.views.paint_canvas import PaintCanvas  # noqa: E402


@pytest.fixture
def window(window, data_dir, monkeypatch):
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    window.show()
    return window


def test_canvas_paints_with_the_mouse(qtbot) -> None:
    canvas = PaintCanvas(28, ink=255, paper=0, radius=1.5)
    qtbot.addWidget(canvas)
    canvas.resize(280, 280)
    canvas.show()
    with qtbot.waitSignal(canvas.changed):
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(140, 140))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(140, 140))
    assert canvas.pixels[14, 14] == 255 and canvas.pixels[0, 0] == 0
    qtbot.mousePress(canvas, Qt.MouseButton.RightButton, pos=QPoint(140, 140))
    qtbot.mouseRelease(canvas, Qt.MouseButton.RightButton, pos=QPoint(140, 140))
    assert canvas.pixels[14, 14] == 0


def test_a_fast_stroke_is_a_line_not_dots(qtbot) -> None:
    canvas = PaintCanvas(28, ink=255, paper=0, radius=1.0)
    qtbot.addWidget(canvas)
    canvas.resize(280, 280)
    canvas.show()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(35, 145))
    qtbot.mouseMove(canvas, pos=QPoint(245, 145))  # one move event across most of the canvas
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(245, 145))
    assert (canvas.pixels[14, 4:24] == 255).all() and canvas.pixels[5, 14] == 0


def test_noise_slider_and_painted_mask_drive_the_race(window, qtbot) -> None:
    window.set_kind("inverse")
    assert window.curves.isHidden()  # the race draws its own losses against time; the step curves would be empty
    controls = window.views.view("race").controls
    controls.sigma.set_value(0.4)
    assert window.form.config().sigma == pytest.approx(0.4) and window.form.config().corruption == "noise"
    assert window.session.settings_of("inverse") == window.form.config()  # the slider edits the session's settings
    controls.use_mask.click()  # nothing painted: refused with a message
    assert "empty" in window.errors[-1]
    for x in range(8, 20):
        for y in range(8, 20):
            controls.painter.paint_at(x + 0.5, y + 0.5, 0)
    controls.use_mask.click()
    config = window.form.config()
    assert config.corruption == "mask" and (window.jiio_controls.drawings_dir / "mask.png").is_file()
    window.form.set_config(dataclasses.replace(config, count=2, adam_steps=2,
                                               jiio=dataclasses.replace(config.jiio, iterations=3)))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and len(window.errors) == 1
    qtbot.waitUntil(lambda: window.views.view("race").panels["corrupted"].image is not None, timeout=5_000)
    corrupted = window.views.view("race").panels["corrupted"].image
    assert corrupted.ndim >= 2 and (corrupted[10:18, 10:18] == corrupted[10, 10]).all()  # the hole is flat


def test_epsilon_slider_drawn_digit_and_its_attack(window, qtbot) -> None:
    window.set_kind("fit")
    assert not window.curves.isHidden()
    window.set_kind("attack")
    assert window.curves.isHidden()  # its two steps are its two methods: the view compares them
    window.curves_action.setChecked(False)  # View ▸ Curves off: a fit does not show them either
    window.set_kind("fit")
    assert window.curves.isHidden()
    window.curves_action.setChecked(True)
    assert not window.curves.isHidden()
    window.set_kind("attack")
    controls = window.views.view("attack").controls
    controls.epsilon.set_value(1.5)
    assert window.forms["attack"].config().attack.epsilon == pytest.approx(1.5)
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[5:23, 13:16] = 255  # a "1"
    controls.canvas.set_pixels(digit)
    probabilities = window.jiio_controls.classify_drawing(digit)
    assert probabilities is not None and probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert controls.prediction.text().startswith("Classifier: ")
    form = window.forms["attack"]
    attack = dataclasses.replace(form.config().attack, pgd_steps=2,
                                 jio=dataclasses.replace(form.config().attack.jio, iterations=4))
    form.set_config(dataclasses.replace(form.config(), attack=attack))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        controls.attack_button.click()
    assert done.args == [True] and not window.errors and window.kind == "attack"
    assert len(window.task.images) == 1 and int(window.task.labels[0]) == int(probabilities.argmax())
    qtbot.waitUntil(lambda: window.views.view("attack").panels["jio"].image is not None, timeout=5_000)
    assert window.task.config.attack.epsilon == pytest.approx(1.5)
    assert form.config().image == "" and form.config().label is None  # the next Start attacks the digits again


def test_stop_during_the_adam_baseline_ends_the_race_at_once(window, qtbot) -> None:
    window.set_kind("inverse")
    config = window.form.config()
    window.form.set_config(dataclasses.replace(config, count=2, adam_steps=100_000,  # hours of Adam if not stopped
                                               jiio=dataclasses.replace(config.jiio, iterations=3)))
    window.start()
    qtbot.waitUntil(lambda: window.task is not None and window.task.step_count == 1, timeout=120_000)  # JIIO done
    qtbot.wait(500)  # inside Adam's iterations
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as done:
        window.stop()
    assert done.args == [False] and window.task.step_count == 1 and "adam" not in window.task.restored
    assert window.session.run_phase.phase == "Stopped" and not window.errors


def test_the_painted_mask_is_shown_again_after_a_restart(window, qtbot, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    window.set_kind("inverse")
    painter = window.views.view("race").controls.painter
    for x in range(4, 12):
        painter.paint_at(x + 0.5, 14.5, 0)
    window.views.view("race").controls.use_mask.click()
    painted = painter.pixels.copy()
    assert (painted < 128).sum() > 8 and window.form.config().corruption == "mask"
    window.close()  # saves the settings, which name the mask file
    again = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.jiio_controls.drawings_dir = tmp_path / "drawings"
    again.set_kind("inverse")
    assert again.form.config().corruption == "mask"
    assert np.array_equal(again.views.view("race").controls.painter.pixels, painted)  # not a blank canvas
