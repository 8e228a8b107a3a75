"""Meta-training: steps with either inner solve, evaluation on held-out characters, exact resume, export."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from engine.config import JIIOConfig, MetaTrainConfig
from engine.datasets.omniglot import load_omniglot
from engine.tasks.meta_train import MetaTrainTask
from tests.engine.datasets.test_omniglot import drawn_folder

CPU = torch.device("cpu")


def tiny(inner: str = "jiio") -> MetaTrainConfig:
    return MetaTrainConfig(ways=3, shots=1, queries=2, tasks_per_step=2, channels=(4, 8), context=6, inner=inner,
                           jiio=JIIOConfig(iterations=6, alpha=(0.5, 0.2)), inner_steps=3, inner_lr=0.5,
                           eval_episodes=4, steps=5, device="cpu")


@pytest.fixture(scope="module")
def drawings(tmp_path_factory):
    return load_omniglot(drawn_folder(tmp_path_factory.mktemp("omniglot"), alphabets=2, characters=6, drawers=5))


@pytest.mark.parametrize("inner", ["jiio", "gd"])
def test_steps_train_and_evaluate_on_held_out_characters(drawings, inner) -> None:
    task = MetaTrainTask(tiny(inner), drawings, CPU)
    assert not set(task.train_characters) & set(task.test_characters)
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    rows = [task.step() for _ in range(2)]
    assert rows[-1]["step"] == 2 and 0 <= rows[-1]["accuracy_query"] <= 1 and rows[-1]["inner_ms_per_task"] > 0
    assert any(not torch.equal(before[k], v) for k, v in task.model.state_dict().items())
    assert not torch.equal(before["context0"], task.model.context0)  # the first-order meta-gradient reaches v₀
    scores = task.evaluate()
    assert 0 <= scores["accuracy_test"] <= 1 and scores["accuracy_test_ci95"] >= 0
    snapshot = task.snapshot(rows[-1])
    assert snapshot.previews["support"].dtype.name == "uint8" and len(snapshot.previews["query_correct"]) == 6


def test_a_restored_task_continues_exactly(drawings, tmp_path) -> None:
    task = MetaTrainTask(tiny(), drawings, CPU)
    for _ in range(2):
        task.step()
    state = copy.deepcopy(task.state_dict())
    ahead = [task.step()["loss"] for _ in range(2)]
    again = MetaTrainTask(tiny(), drawings, CPU)
    again.load_state_dict(state)
    assert [again.step()["loss"] for _ in range(2)] == ahead  # exact: the same arithmetic in the same order
    from engine.model_store import load_model

    kind, arch, weights, _ = load_model(task.export(tmp_path))
    assert kind == "few-shot-classifier" and arch["ways"] == 3 and "context0" in weights


def test_cli_meta_train_then_meta_test_prints_accuracy_with_its_interval(drawings, tmp_path, capsys) -> None:
    from engine import cli

    folder = drawn_folder(tmp_path / "omniglot", alphabets=2, characters=6, drawers=5)
    run = tmp_path / "run"
    assert cli.main(["meta-train", "--data", str(folder), "--ways", "3", "--queries", "2", "--tasks-per-step", "2",
                     "--channels", "4", "8", "--context", "6", "--jiio-iterations", "4", "--steps", "2",
                     "--eval-episodes", "2", "--out", str(run), "--device", "cpu"]) == 0
    assert cli.main(["meta-test", "--model", str(run / "few-shot-classifier.safetensors"), "--data", str(folder),
                     "--queries", "2", "--episodes", "6", "--device", "cpu"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    import json

    result = json.loads(line)
    assert result["ways"] == 3 and result["episodes"] == 6 and 0 <= result["accuracy"] <= 1 and result["ci95"] >= 0
    assert cli.main(["meta-test", "--model", str(run / "few-shot-classifier.safetensors"), "--data", str(folder),
                     "--ways", "4", "--queries", "2", "--episodes", "2", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["ways"] == 4  # a task readout takes any N
    assert cli.main(["meta-test", "--model", str(run / "missing.safetensors"), "--data", str(folder)]) == \
        cli.EXIT_BAD_INPUT
    from engine.resources import resources_dir

    digits = resources_dir() / "models" / "mnist-classifier.safetensors"
    assert cli.main(["meta-test", "--model", str(digits), "--data", str(folder)]) == cli.EXIT_BAD_INPUT
    assert "holds a digit classifier" in capsys.readouterr().err


def test_a_model_with_a_task_readout_takes_more_ways_and_a_fixed_readout_refuses() -> None:
    from engine.models.mdeq.film import FewShotClassifier

    torch.manual_seed(0)
    model = FewShotClassifier((4, 8), ways=3, context=6, readout=True)
    with torch.no_grad():
        model.context0.normal_()
    wider = model.with_ways(5)
    assert wider.context_size == 6 + 5 * (model.context_size - 6) // 3
    rows = model.context0[6:].reshape(3, -1)
    assert torch.allclose(wider.context0[6:].reshape(5, -1), rows.mean(0).expand(5, -1))
    images = torch.rand(2, 1, 28, 28)
    same_film = torch.cat([model.context0[:6], torch.zeros(wider.context_size - 6)])
    assert torch.allclose(model.equilibrium_with(images, model.context0.expand(2, -1))[0],  # measured equal to the bit
                          wider.equilibrium_with(images, same_film.expand(2, -1))[0], atol=1e-6)
    with pytest.raises(ValueError, match="fixed to 3 classes"):
        FewShotClassifier((4, 8), ways=3, context=6).with_ways(5)


def test_a_run_saved_before_the_task_readout_existed_resumes_as_it_ran(tmp_path) -> None:
    import json

    from engine.runs import resume_run, save_run
    from engine.tasks.kinds import task_kind

    folder = drawn_folder(tmp_path / "omniglot", alphabets=2, characters=6, drawers=5)
    config = dataclasses.replace(tiny(), readout=False, data=str(folder))
    task = MetaTrainTask(config, load_omniglot(folder), CPU)
    task.step()
    run = save_run(tmp_path / "old", task_kind("meta-train"), task, [], None)
    record = json.loads((run.path / "config.json").read_text())
    del record["config"]["readout"]  # as written before the field existed
    (run.path / "config.json").write_text(json.dumps(record))
    _, resumed, _ = resume_run(run.path)
    assert resumed.config.readout is False and resumed.step_count == 1
