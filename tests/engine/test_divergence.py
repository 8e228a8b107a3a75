"""Divergence and non-convergence: the loss growing 10× over its best (or turning non-finite) stops the run at its
best logged state (the weights that loss was measured on: those from before its step) with a sentence; a resumed run
that still diverges says so; a solver that keeps missing its tolerance is reported once."""
from __future__ import annotations

import json
import math
import types

import pytest

from engine import cli
from engine.divergence import GROWTH, STUCK_ROWS, WARMUP_ROWS, DivergenceGuard
from engine.loop import run
from engine.tasks.base import DivergenceError, TaskDefaults


class ScriptedTask(TaskDefaults):
    """A task whose losses are given; its state is its step count."""

    def __init__(self, losses: list[float], residual: float = 0.0, iterations: int = 1) -> None:
        self.losses, self.step_count, self.loaded = losses, 0, []
        self.residual, self.iterations = residual, iterations
        solver = types.SimpleNamespace(tol=1e-3, max_iter=10)
        self.config = types.SimpleNamespace(solver=solver, model=types.SimpleNamespace(spectral_norm=True))

    def step(self) -> dict[str, float]:
        loss = self.losses[self.step_count]
        if not math.isfinite(loss):
            raise DivergenceError(f"the loss became {loss} at step {self.step_count + 1}; lower the lr")
        self.step_count += 1
        return {"step": float(self.step_count), "loss": loss}

    def evaluate(self, final: bool = False) -> dict[str, float]:
        return {"eval_residual": self.residual, "eval_iters": float(self.iterations)}

    def snapshot(self, row, final=False):
        return row

    def state_dict(self) -> dict:
        return {"step": self.step_count}

    def load_state_dict(self, state: dict) -> None:
        self.loaded.append(state["step"])
        self.step_count = state["step"]


def test_a_loss_that_grows_tenfold_restores_the_best_state() -> None:
    losses = [1.0, 0.5, 0.3, 0.2, 0.25, 0.2 * GROWTH * 1.5, 0.1]
    task = ScriptedTask(losses)
    # Row 4's loss (0.2) is the best: it was measured on the weights step 4 started from, those of step 3.
    with pytest.raises(DivergenceError, match=r"diverged at step 6: the loss grew to 3, 15× its best \(0.2\)"
                                              r"\. The weights of step 3 .* restored\. Lower the learning rate"):
        list(run(task, len(losses), log_every=1, eval_every=100, guard=DivergenceGuard(task)))
    assert task.loaded == [3] and task.step_count == 3


def test_with_rows_every_few_steps_the_kept_weights_are_those_a_logged_loss_was_measured_on() -> None:
    losses = [1.0, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 5.0, 9.0, 9.0, 9.0]
    task = ScriptedTask(losses)
    with pytest.raises(DivergenceError, match=r"The weights of step 5 \(loss 0.2\)"):  # rows 1, 3, 6, 9: 0.2 at 6
        list(run(task, len(losses), log_every=3, eval_every=100, guard=DivergenceGuard(task)))
    assert task.loaded == [5]


@pytest.mark.hostile  # a case the hostile probe found
def test_a_first_update_that_wrecks_the_network_goes_back_to_the_starting_weights() -> None:
    task = ScriptedTask([1.0, 50.0, 80.0, 90.0, 95.0])  # the first row is the only good one: its loss is step 0's
    with pytest.raises(DivergenceError, match=r"The starting weights \(loss 1\) are restored"):
        list(run(task, 5, log_every=1, eval_every=100, guard=DivergenceGuard(task)))
    assert task.loaded == [0] and task.step_count == 0


@pytest.mark.hostile  # a case the hostile probe found
def test_a_resumed_run_that_still_diverges_says_so() -> None:
    history = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.2}, {"step": 3, "loss": 0.3}]
    task = ScriptedTask([0, 0, 0, 1e13, 1e13, 1e13])
    task.step_count = 3  # where the checkpoint left it
    with pytest.raises(DivergenceError, match=r"The resumed run is still diverging at step 4: the loss grew to "
                                              r"1e\+13, over 1000× its best \(0.2\); that best was logged at step 2, "
                                              r"before it was resumed\. The weights of step 3"):
        list(run(task, 6, log_every=1, eval_every=100, guard=DivergenceGuard(task, history)))
    assert task.loaded == [3]
    calm = ScriptedTask([0, 0, 0, 0.25, 0.21, 0.19])
    calm.step_count = 3
    assert len(list(run(calm, 6, log_every=1, eval_every=100, guard=DivergenceGuard(calm, history)))) == 3


def test_a_nearly_exact_fit_may_wobble() -> None:
    losses = [0.2, 0.01, 1e-6, 1e-12, 1e-12, 2e-11, 1e-3, 1e-12]  # 20×, then a spike to 1/200 of the start
    task = ScriptedTask(losses)
    assert len(list(run(task, len(losses), log_every=1, eval_every=100, guard=DivergenceGuard(task)))) == 8


def test_growth_is_tolerated_during_the_warm_up_and_without_a_guard() -> None:
    losses = [0.1] + [0.1 * GROWTH * 2] * (WARMUP_ROWS - 1) + [0.05]
    task = ScriptedTask(losses)
    assert len(list(run(task, len(losses), log_every=1, eval_every=100, guard=DivergenceGuard(task)))) == len(losses)
    task = ScriptedTask([1.0, 0.1, 100.0, 100.0, 100.0])
    assert len(list(run(task, 5, log_every=1, eval_every=100))) == 5


def test_a_non_finite_loss_goes_back_to_the_best_state() -> None:
    task = ScriptedTask([1.0, 0.5, math.nan])
    with pytest.raises(DivergenceError, match=r"the loss became nan at step 3; lower the lr\. The weights of step 1"):
        list(run(task, 3, log_every=1, eval_every=100, guard=DivergenceGuard(task)))
    assert task.loaded == [1]


def test_a_solver_that_keeps_missing_its_tolerance_is_reported_once() -> None:
    task = ScriptedTask([1.0] * 12, residual=0.5, iterations=10)
    guard = DivergenceGuard(task)
    seen = [guard.warning for _ in run(task, 12, log_every=1, eval_every=1, guard=guard)]
    assert seen[STUCK_ROWS - 2] is None and seen[STUCK_ROWS - 1] is not None
    assert "residual 0.5 > 0.001 after 10 iterations" in guard.warning
    converged = ScriptedTask([1.0] * 12, residual=1e-4, iterations=10)
    quiet = DivergenceGuard(converged)
    list(run(converged, 12, log_every=1, eval_every=1, guard=quiet))
    assert quiet.warning is None


@pytest.mark.hostile  # a case the hostile probe found
def test_the_cli_stops_a_diverging_fit_and_writes_no_reconstruction(tmp_path, capsys) -> None:
    import numpy as np
    from PIL import Image

    image = tmp_path / "x.png"
    Image.fromarray((np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)).save(image)
    out = tmp_path / "run"
    code = cli.main(["fit", str(image), "--lr", "1000", "--steps", "200", "--width", "32", "--log-every", "2",
                     "--device", "cpu", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILED and "Training diverged at step" in err and "are restored" in err
    assert (out / "checkpoint.pt").is_file() and not (out / "reconstruction.png").exists()
    suggestion = err.split("Continue with a lower learning rate: ")[1].splitlines()[0].split()
    assert suggestion[:3] == ["deq-studio", "resume", str(out)] and suggestion[3:] == ["--lr", "100"]
    capsys.readouterr()
    assert cli.main(["resume", str(out), "--lr", "1e-3"]) == 0  # the restored weights, a smaller step
    assert (out / "reconstruction.png").is_file()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 1 and "starting weights" in err  # the first update wrecked it: back to the start
    # and it learns from there (the wrecked state's loss was 1e13): measured 0.344 to 0.259
    assert rows[-1]["loss"] < rows[0]["loss"] < 1.0
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["lr"] == 1e-3 and record["config"]["steps"] == 200


def test_a_real_fit_goes_back_to_its_best_weights_and_moments_with_an_empty_buffer(tmp_path) -> None:
    import numpy as np
    import torch
    from PIL import Image

    from engine.tasks.kinds import build_fit_task, task_kind

    image = tmp_path / "x.png"
    Image.fromarray((np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)).save(image)
    config = task_kind("fit").preset("preview", torch.device("cpu"), "image")
    task = build_fit_task(image, config, torch.device("cpu"))
    assert task.training.buffer.z is not None  # a full-batch implicit fit keeps a warm-start buffer
    guard = DivergenceGuard(task)
    for _ in range(3):
        best_step = task.step_count
        weights = {k: v.clone() for k, v in task.model.state_dict().items()}
        moments = [s["exp_avg"].clone() for s in task.optimizer.state.values()]
        guard.before_step()
        guard.observe(task.step())  # a falling loss: each row's weights (from before its step) become the best
    assert guard.best_step == best_step == 2
    assert "buffer" not in guard.best_state  # the cache is not kept: its memory is not paid twice
    for _ in range(2):
        task.step()
    for attempt in range(2):  # a second divergence finds the same best state: training after a restore left it alone
        with pytest.raises(DivergenceError, match=f"The weights of step {best_step} "):
            guard.observe({"step": float(task.step_count), "loss": math.inf})
        assert task.step_count == best_step and not task.training.buffer.filled.any()
        assert all(torch.equal(weights[k], v) for k, v in task.model.state_dict().items())
        assert all(torch.equal(m, s["exp_avg"]) for m, s in zip(moments, task.optimizer.state.values()))
        for _ in range(2):
            task.step()
    assert task.training.buffer.filled.all()  # refilled by the first step after the restore


@pytest.mark.hostile  # a case the hostile probe found: a run folder whose weights were wrecked resumed "fine"
def test_resuming_a_run_whose_weights_are_wrecked_says_it_is_still_diverging(tmp_path, capsys) -> None:
    import numpy as np
    import torch
    from PIL import Image

    image = tmp_path / "x.png"
    Image.fromarray((np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)).save(image)
    out = tmp_path / "run"
    assert cli.main(["fit", str(image), "--steps", "6", "--width", "32", "--log-every", "1", "--device", "cpu",
                     "--out", str(out)]) == 0
    payload = torch.load(out / "checkpoint.pt", weights_only=True)
    for name, weight in payload["state"]["model"].items():  # what an earlier version's guard could restore
        if name.startswith("readout"):
            weight.mul_(1e4)
    torch.save(payload, out / "checkpoint.pt")
    capsys.readouterr()
    code = cli.main(["resume", str(out), "--steps", "12", "--lr", "1e-3"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_FAILED and "The resumed run is still diverging at step 7" in err, err
    assert "before it was resumed" in err and "start a new run" in err
