"""The engine worker thread: snapshots arrive, pause/resume/stop act between steps, errors become messages."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.controller import RunController  # noqa: E402
from app.worker import describe_failure  # noqa: E402
from engine.config import FitConfig, ModelConfig  # noqa: E402
from engine.resources import sample_path  # noqa: E402
from engine.tasks import build_fit_task  # noqa: E402


def small_fit():
    import torch

    config = FitConfig(model=ModelConfig(model="gabor-imfn", width=32, input_scale=64.0), steps=400, lr=3e-3,
                       device="cpu")
    return build_fit_task(sample_path("image.png"), config, torch.device("cpu"))


class FailingTask:
    step_count, train_time = 0, 0.0

    def step(self):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_snapshots_arrive_and_pause_resume_stop_act_between_steps(qtbot) -> None:
    controller = RunController()
    task = small_fit()
    rows = []
    controller.row.connect(rows.append)
    controller.start(task, 400, log_every=5, eval_every=50)
    qtbot.waitUntil(lambda: controller.snapshots_received >= 3, timeout=60_000)
    controller.pause()
    qtbot.wait(300)
    paused_at = task.step_count
    qtbot.wait(500)
    assert task.step_count == paused_at and controller.state == "paused"
    controller.resume()
    qtbot.waitUntil(lambda: task.step_count > paused_at, timeout=30_000)
    with qtbot.waitSignal(controller.finished, timeout=30_000) as finished:
        controller.stop()
    assert finished.args == [False] and controller.state == "idle" and not controller.busy
    assert task.step_count < 400 and rows and rows[0]["step"] == 1
    psnr = [r["psnr_train"] for r in rows]
    assert psnr[-1] > psnr[0]
    # a stopped task continues where it was
    before = task.step_count
    controller.start(task, before + 3)
    with qtbot.waitSignal(controller.finished, timeout=60_000) as finished:
        pass
    assert finished.args == [True] and task.step_count == before + 3


def test_errors_become_one_line_messages_and_the_controller_recovers(qtbot) -> None:
    controller = RunController()
    messages: list[str] = []
    controller.failed.connect(messages.append)
    with qtbot.waitSignal(controller.finished, timeout=10_000):
        controller.start(FailingTask(), 5)
    (message,) = messages
    assert "ran out of memory" in message and "\n" not in message
    assert controller.state == "idle" and not controller.busy
    assert describe_failure(ValueError("bad\nthing")) == "ValueError: bad"
