"""Screenshots of the main window with an image, an audio clip, a mesh (the real files in the shared data), the JIIO
race, an attack on a drawn digit, a generative prior and a classifier in training, at 1600×1000 and 1024×700:
training must have drawn into each view. They are written into a temporary folder, or into `$DEQ_STUDIO_SCREENSHOTS`
when set (for the README and for review: `DEQ_STUDIO_SCREENSHOTS=screenshots pytest
tests/app/test_screenshots.py`)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings  # noqa: E402

from app.main_window import MainWindow  # noqa: E402



def train(window, qtbot, **changes) -> None:
    form = window.forms[window.kind]
    form.set_config(dataclasses.replace(form.config(), **changes))
    with qtbot.waitSignal(window.controller.finished, timeout=180_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.wait(300)  # the last throttled preview


def pixels(picture) -> np.ndarray:
    """A QPixmap as an (H, W) array of packed RGB values."""
    from PySide6.QtGui import QImage

    image = picture.toImage().convertToFormat(QImage.Format.Format_RGB32)
    flat = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return flat.reshape(image.height(), image.width()).copy()


LARGE, SMALL = (1600, 1000), (1024, 700)
"""The window sizes each view is pictured at."""


def shoot(window, qtbot) -> tuple:
    """(the window at LARGE, its view at LARGE, the window at SMALL), the window left at LARGE."""
    large, view = window.grab(), window.views.grab()
    window.resize(*SMALL)
    qtbot.wait(100)
    small = window.grab()
    window.resize(*LARGE)
    qtbot.wait(100)
    return large, view, small


def changed_fraction(before, after) -> float:
    """The fraction of the view's pixels that training changed."""
    a, b = pixels(before), pixels(after)
    return float((a != b).mean()) if a.shape == b.shape else 1.0


@pytest.mark.slow
def test_screenshots_of_every_view(qtbot, tmp_path, data_dir) -> None:
    os.environ.setdefault("DEQ_STUDIO_DATA", str(data_dir))
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(*LARGE)
    window.show()
    out = Path(os.environ.get("DEQ_STUDIO_SCREENSHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    window.jiio_controls.drawings_dir = tmp_path / "drawings"
    shots, untrained = {}, {}
    assert window.open_file(data_dir / "images" / "kodim05.png")
    window.views.view("image").split.setValue(40)
    untrained["image"] = window.views.grab()
    train(window, qtbot, steps=60, log_every=5, eval_every=20)
    shots["image"] = shoot(window, qtbot)
    assert window.open_file(data_dir / "audio" / "gt_bach.wav")
    untrained["audio"] = window.views.grab()
    train(window, qtbot, steps=30, log_every=5, eval_every=15)
    shots["audio"] = shoot(window, qtbot)
    assert window.open_file(data_dir / "meshes" / "bunny.obj")
    untrained["mesh"] = window.views.grab()
    train(window, qtbot, steps=200, log_every=10, eval_every=100)
    shots["mesh"] = shoot(window, qtbot)
    window.set_kind("inverse")
    untrained["jiio-race"] = window.views.grab()
    jiio = dataclasses.replace(window.forms["inverse"].config().jiio, iterations=30)
    train(window, qtbot, count=16, sigma=0.4, adam_steps=10, jiio=jiio)
    shots["jiio-race"] = shoot(window, qtbot)
    window.set_kind("attack")
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[5:8, 8:20] = 255
    for row in range(8, 23):  # a "7": a bar and a slanted stroke
        digit[row, max(8, 19 - (row - 8) * 2 // 3) : 22 - (row - 8) * 2 // 3] = 255
    window.views.view("attack").controls.canvas.set_pixels(digit)
    window.jiio_controls.classify_drawing(digit)
    untrained["attack"] = window.views.grab()
    train(window, qtbot, count=16)
    shots["attack"] = shoot(window, qtbot)
    window.set_kind("train-prior")
    window.apply_preset("preview")
    untrained["train-prior"] = window.views.grab()
    train(window, qtbot, steps=6, log_every=2, eval_every=6)
    shots["train-prior"] = shoot(window, qtbot)
    window.set_kind("adv-train")
    window.apply_preset("preview")
    untrained["adv-train"] = window.views.grab()
    train(window, qtbot, steps=40, log_every=10, eval_every=40, eval_images=200)
    shots["adv-train"] = shoot(window, qtbot)
    for name, (picture, view, small) in shots.items():
        assert (picture.width(), picture.height()) == LARGE and (small.width(), small.height()) == SMALL, name
        assert small.save(str(out / f"{name}-{SMALL[0]}x{SMALL[1]}.png")), name
        changed = changed_fraction(untrained[name], view)
        print(f"{name}: {changed:.1%} of the view changed by training")
        assert changed > 0.05, name  # training drew into the view (nothing drawn: 0%)
        path = out / f"{name}.png"
        assert picture.save(str(path)) and path.stat().st_size > 20_000, name
