"""The engine worker thread: snapshots arrive, pause/resume/stop act between steps, errors become messages."""
from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from app.controller import RunController  # noqa: E402
from engine.errors import failure_sentence  # noqa: E402
from engine.config import FitConfig, ModelConfig  # noqa: E402
from engine.resources import sample_path  # noqa: E402
from engine.tasks import build_fit_task  # noqa: E402
from engine.tasks.base import TaskDefaults  # noqa: E402


def small_fit():
    import torch

    config = FitConfig(model=ModelConfig(model="gabor-imfn", width=32, input_scale=64.0), steps=400, lr=3e-3,
                       device="cpu")
    return build_fit_task(sample_path("image.png"), config, torch.device("cpu"))


class FailingTask(TaskDefaults):
    step_count, train_time = 0, 0.0

    def step(self):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def state_dict(self) -> dict:
        return {"step": self.step_count}


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
    assert failure_sentence(ValueError("bad\nthing"), "a test") == "bad thing"  # bad input: the engine's own words
    unexpected = failure_sentence(KeyError("x"), "a test")
    assert unexpected.startswith("Something went wrong inside DEQ Studio (KeyError: 'x').")


class SlowEvaluationTask(TaskDefaults):
    """One step, then an evaluation that takes a while (a generative prior's first evaluation, say)."""

    def __init__(self) -> None:
        self.step_count, self.train_time, self.evaluating = 0, 0.0, False

    def step(self):
        self.step_count += 1
        return {"step": float(self.step_count), "loss": 1.0}

    def evaluate(self, final: bool = False):
        import time

        self.evaluating = True
        time.sleep(1.0)
        self.evaluating = False
        return {"psnr_train": 10.0}

    def snapshot(self, scalars, final: bool = False):
        from engine.tasks.base import Snapshot

        return Snapshot(self.step_count, 1, 0.0, dict(scalars), {"batch": None}, final)

    def state_dict(self):
        return {"step": self.step_count}

    def load_state_dict(self, state):
        self.step_count = state["step"]


def test_a_long_evaluation_does_not_leave_the_view_waiting(qtbot) -> None:
    controller = RunController()
    task = SlowEvaluationTask()
    seen: list[tuple[int, bool, str]] = []
    controller.snapshot.connect(lambda snap: seen.append((snap.step, task.evaluating, ",".join(snap.scalars))))
    phases: list[str] = []
    controller.phase.connect(phases.append)
    with qtbot.waitSignal(controller.finished, timeout=10_000):
        controller.start(task, 1, log_every=1, eval_every=1)
    assert phases == ["Evaluating"]  # the last step's evaluation: no Training after it
    assert seen[0][:2] == (1, True)  # shown while the evaluation was still running
    assert seen[-1] == (1, False, "step,loss,psnr_train")  # then the evaluated snapshot
