"""The duel in the window: both networks train in one worker, their pictures and errors side by side, one curve
per network, and a saved duel holds a fit run folder per network."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("PySide6")

from app.panels.plain_names import network_name  # noqa: E402
from engine.resources import sample_path  # noqa: E402


def test_duel_trains_both_networks_side_by_side(window, qtbot, tmp_path) -> None:
    assert window.open_file(sample_path("image.png"))
    window.set_kind("duel")
    assert window.views.currentWidget() is window.views.view("duel")
    config = window.form.config()
    assert (config.model.model, config.rival, config.protocol) == ("fourier-imfn", "fourier-mfn", "generalize")
    window.form.set_config(dataclasses.replace(config, model=dataclasses.replace(config.model, width=16), steps=12,
                                               log_every=3, eval_every=6))
    with qtbot.waitSignal(window.controller.finished, timeout=120_000):
        window.start()
    assert not window.errors
    names = [run["name"] for run in window.curves.runs]
    assert len(names) == 2 and names[0].endswith("· fourier-imfn") and names[1].endswith("· fourier-mfn")
    for run in window.curves.runs:
        assert [row["step"] for row in run["rows"]] == [1, 3, 6, 9, 12] and "loss" in run["rows"][-1]
    view = window.views.view("duel")
    assert set(view.sides) == {"fourier-imfn", "fourier-mfn"} and view.target.image is not None
    for side in view.sides.values():
        assert side["picture"].image.shape[:2] == view.target.image.shape[:2]
        assert side["error"].image.dtype == np.uint8
        assert "ms/step" in side["label"].text() and "MB/step" in side["label"].text()
    psnr = {name: view.scalars[name]["psnr_test"] for name in view.sides}  # held out: the default protocol
    verdict = view.verdict.text()  # after the last step: who won, not who leads
    assert ("wins by" in verdict and network_name(max(psnr, key=psnr.get)) in verdict or "A tie" in verdict), verdict
    assert window.export_action.isEnabled()
    saved = window.session.save(tmp_path / "saved")
    for name in ("fourier-imfn", "fourier-mfn"):
        record = json.loads((saved / name / "config.json").read_text())
        assert record["task"] == "fit" and record["config"]["model"]["model"] == name
    window.curves.clear_old_runs()  # the two sides are one run: both stay
    assert len(window.curves.runs) == 2
    window.set_kind("fit")
    assert window.load_snapshot(saved), window.errors  # a saved duel reopens as a duel, where it stopped
    assert window.kind == "duel" and window.task.step_count == 12 and window.views.currentWidget() is view
    assert set(view.sides) == {"fourier-imfn", "fourier-mfn"}
    assert view.verdict.text() == verdict  # the reopened duel says who won, from its own evaluation


def test_the_duel_view_says_leads_while_training_and_wins_after_the_last_step(qtbot) -> None:
    from app.views.duel_view import DuelView

    view = DuelView()
    qtbot.addWidget(view)
    scalars = {"step": 250.0, "fourier-imfn/psnr_test": 28.52, "fourier-mfn/psnr_test": 27.14}
    view.show_snapshot({}, scalars)
    assert view.verdict.text() == "<b>Fourier network — implicit leads by 1.38 dB of held-out PSNR (28.52 against " \
                                  "27.14 dB for Fourier network — explicit).</b>"  # in plain words
    view.show_snapshot({}, {"step": 2000.0, "fourier-imfn/psnr_test": 30.12}, final=True)
    assert "Fourier network — implicit wins by 2.98 dB" in view.verdict.text()  # the other side's last score is kept
    assert view.sides["fourier-imfn"]["label"].text().startswith("<b>Fourier network — implicit</b> (fourier-imfn)")


def test_duel_view_shows_a_sound_as_spectrograms_and_a_video_by_its_middle_frame(qtbot) -> None:
    from app.views.duel_view import DuelView

    view = DuelView()
    qtbot.addWidget(view)
    t = np.linspace(0, 1, 8000, dtype=np.float32)
    target = np.sin(2 * np.pi * 440 * t)
    scalars = {"step": 5.0, "a/ms_per_step": 12.0, "a/memory_mb": 3.5, "a/psnr_train": 20.0, "b/psnr_train": 30.0}
    view.show_snapshot({"target": target, "a": target * 0.5, "b": target * 0.99}, scalars)
    assert not view.pixels and view.target.image.dtype == np.uint8 and view.target.image.ndim == 2
    quiet, loud = view.sides["b"]["error"].image, view.sides["a"]["error"].image
    assert quiet.mean() < loud.mean()  # the closer reconstruction has the darker residual
    assert "12 ms/step" in view.sides["a"]["label"].text() and "3.5 MB/step" in view.sides["a"]["label"].text()
    frames = np.zeros((5, 8, 8, 3), np.uint8)
    frames[2] = 200
    view.show_snapshot({"target": frames, "a": frames, "b": frames}, {"step": 1.0, "a/loss": 1.0, "b/loss": 1.0})
    assert view.pixels and view.target.image.max() == 200  # the middle frame, and the view rebuilt for pixels
    assert view.sides["a"]["error"].image.max() == 0


def test_the_duel_keeps_to_files_it_can_duel(window) -> None:
    assert window.open_file(sample_path("mesh.ply"))
    window.set_kind("duel")  # refused at once, not at Start
    assert window.kind == "fit" and window.task_box.currentData() == "fit"
    assert "Duel takes an image, a sound or a video, and mesh.ply is a 3D shape" in window.statusBar().currentMessage()
    assert window.open_file(sample_path("image.png"))
    window.set_kind("duel")
    assert window.open_file(sample_path("audio.wav"))  # another file a duel takes: still a duel, on that file
    assert window.kind == "duel" and window.views.currentWidget() is window.views.view("duel")
    assert window.views.view("duel").target.image is not None and not window.views.view("duel").pixels  # the sound's spectrogram
    assert window.form.config().signal.audio_duration_s is not None  # the duel's settings for a sound
    assert window.open_file(sample_path("mesh.ply"))  # one it does not: fitted, and the status line says why
    assert window.kind == "fit" and "Duel takes" in window.statusBar().currentMessage()
    assert not window.errors


def test_the_start_hint_stays_off_the_duels_caption(window, qtbot) -> None:
    window.resize(1024, 700)
    window.show()
    assert window.open_file(sample_path("image.png"))
    window.set_kind("duel")
    qtbot.wait(50)
    view = window.views.view("duel")
    assert not window.hint.isHidden()
    hint = window.hint.geometry()
    for caption in (view.legend, view.verdict):
        corner = caption.mapTo(window.views, caption.rect().topLeft())
        assert not hint.intersects(caption.rect().translated(corner)), caption.text()
