"""The few-shot view: a meta-training run's tasks and accuracy, a new unseen task on request, and the user's own
drawings adapted to and classified; every failure a message, never a crash."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.config import JIIOConfig, MetaTrainConfig
from engine.datasets.omniglot import load_omniglot
from engine.tasks.meta_train import MetaTrainTask
from tests.engine.datasets.test_omniglot import drawn_folder


@pytest.fixture
def trained(tmp_path):
    """A tiny meta-trained model (5-way, as the view's canvases) on a drawn Omniglot-like folder, and that folder."""
    folder = drawn_folder(tmp_path / "omniglot", alphabets=2, characters=10, drawers=7)
    config = MetaTrainConfig(channels=(4, 8), context=6, tasks_per_step=2, queries=2, eval_episodes=2,
                             jiio=JIIOConfig(iterations=5, alpha=(0.3, 0.1)), steps=2, device="cpu")
    task = MetaTrainTask(config, load_omniglot(folder), torch.device("cpu"))
    rows = [task.step() for _ in range(2)]
    rows[-1].update(task.evaluate())
    return task, rows[-1], task.export(tmp_path / "model"), folder


def use_model(window, monkeypatch, path, folder) -> None:
    monkeypatch.setattr("engine.models.mdeq.stored.model_file", lambda p, kind: path)
    form = window.forms["meta-train"]
    form.set_config(dataclasses.replace(form.config(), data=str(folder)))
    window.few_shot_wiring.folder = path.parent / "written"


def test_a_run_shows_its_task_queries_and_held_out_accuracy(window, trained) -> None:
    task, row, _, _ = trained
    window.set_kind("meta-train")
    view = window.kind_view("meta-train")
    assert view is window.views.view("few-shot") and window.views.currentWidget() is view
    snapshot = task.snapshot(row)
    view.show_snapshot(snapshot.previews, snapshot.scalars)
    assert view.panels["support"].image is not None and view.panels["query"].image.shape[2] == 3
    assert "Accuracy on unseen characters" in view.accuracy.text() and "chance is 20 %" in view.accuracy.text()


def test_a_new_unseen_task_is_adapted_to_and_its_queries_scored(window, trained, monkeypatch) -> None:
    _, _, path, folder = trained
    use_model(window, monkeypatch, path, folder)
    window.show()
    window.set_kind("meta-train")
    assert not window.hint.isHidden()  # waiting for a first run: what Start does
    window.views.view("few-shot").controls.new_button.click()
    assert not window.errors, window.errors
    panels = window.views.view("few-shot").panels
    assert panels["support"].image is not None and "right (green)" in panels["query"].title.text()
    assert window.hint.isHidden()  # never over the task just shown


def test_drawn_examples_and_a_drawn_query_are_classified(window, trained, monkeypatch) -> None:
    _, _, path, folder = trained
    use_model(window, monkeypatch, path, folder)
    controls = window.views.view("few-shot").controls
    controls.classify_button.click()
    assert window.errors[-1].startswith("Draw an example for class 1, 2, 3, 4, 5 first")
    for number, canvas in enumerate(controls.examples):
        pixels = np.zeros((28, 28), np.uint8)
        pixels[4 + 4 * number : 8 + 4 * number, 6:22] = 255  # a bar at a different height for each class
        canvas.set_pixels(pixels)
    query = np.zeros((28, 28), np.uint8)
    query[8:12, 6:22] = 255
    controls.query.set_pixels(query)
    controls.classify_button.click()
    assert controls.guess.text().startswith("The network says: class ")


def test_without_a_model_the_user_is_told_what_to_do(window, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr("engine.models.mdeq.stored.model_file", lambda p, kind: tmp_path / "none.safetensors")
    window.views.view("few-shot").controls.new_button.click()
    assert "press Start to meta-train one first" in window.errors[-1]
