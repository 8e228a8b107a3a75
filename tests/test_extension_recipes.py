"""ARCHITECTURE.md's recipes, followed from inside a test with nothing else changed: a new medium (a series of
numbers in a CSV file, with its own view) and a new task kind (learn the mean of some numbers, with its own view)
run through the CLI verb and the window's panel; a new network, by its registration alone, is offered by the
settings and fits through the CLI."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pytest
import torch

from engine import cli
from engine.config import FitConfig, ModelConfig
from engine.config.fields import MAX_STEPS, Range, check_fields
from engine.media import MEDIA, FitDefaults, MediumSpec, Signal, SignalError, grid_coords, register_medium
from engine.tasks.base import Snapshot, Targets, TrainingTask, gradient_step
from engine.tasks.kinds import TASKS, TaskKind, register


# ---- a medium: a series of numbers ----------------------------------------------------------------------------------
def load_series(path: Path, config) -> Signal:
    """A CSV file of numbers (one or more per line), scaled into [−1, 1] over t ∈ [−1, 1]."""
    try:
        numbers = np.loadtxt(path, delimiter=",", ndmin=1, dtype=np.float32).reshape(-1)
    except ValueError as exc:
        raise SignalError(f"{path.name} holds something other than numbers separated by commas.") from exc
    if numbers.size < 2:
        raise SignalError(f"{path.name} holds fewer than two numbers. Open a longer series.")
    scaled = numbers / max(float(np.abs(numbers).max()), 1e-12)
    return Signal("series", grid_coords((numbers.size,)), torch.from_numpy(scaled[:, None].copy()), (numbers.size,),
                  None, path.name)


SERIES = MediumSpec(
    "series", "a series of numbers", (".csv",), load_series, FitDefaults(input_scale=16.0),
    FitConfig(model=ModelConfig(model="fourier-imfn", width=32), steps=40, log_every=5, eval_every=10, lr=1e-2),
    write=lambda path, values, rate: np.savetxt(path, values, delimiter=","), export_name="reconstruction.csv",
    float_samples=True, view="series-plot")


def series_view():
    from PySide6.QtWidgets import QLabel

    class SeriesView(QLabel):
        """Says how many numbers it holds and the latest reconstruction's first one."""

        def show_target(self, targets: Targets) -> None:
            self.target = targets.arrays["signal"]
            self.setText(f"{self.target.size} numbers")

        def show_previews(self, previews: dict) -> None:
            if "reconstruction" in previews:
                self.reconstruction = previews["reconstruction"]
                self.setText(f"{self.target.size} numbers, the first ≈ {self.reconstruction[0]:.3f}")

    return SeriesView()


# ---- a task kind: learn the mean of some numbers --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MeanConfig:
    """Learn the mean of some random numbers by gradient descent."""

    count: Annotated[int, Range(1, 10_000)] = 16
    """How many numbers."""
    lr: float = 0.2
    """How big each step is."""
    steps: Annotated[int, Range(0, MAX_STEPS)] = 200
    """How many steps."""
    log_every: Annotated[int, Range(1, MAX_STEPS)] = 5
    """A point on the curves every this many steps."""
    eval_every: Annotated[int, Range(1, MAX_STEPS)] | None = None
    """Score every this many steps; empty = at every curve point."""
    seed: int = 0
    """The same seed gives the same numbers."""
    device: Literal["auto", "cpu", "cuda"] = "cpu"
    """Where it runs."""

    def __post_init__(self) -> None:
        check_fields(self)


class MeanTask(TrainingTask):
    def __init__(self, config: MeanConfig, device: torch.device) -> None:
        self.config, self.step_count, self.train_time = config, 0, 0.0
        self.numbers = torch.randn(config.count, generator=torch.Generator().manual_seed(config.seed)) + 3.0
        self.estimate = torch.zeros((), requires_grad=True)
        self.optimizer = torch.optim.SGD([self.estimate], lr=config.lr)

    def describe(self) -> str:
        return f"Learning the mean of {self.config.count} numbers"

    def targets(self) -> Targets:
        return Targets()

    def step(self) -> dict[str, float]:
        loss = ((self.estimate - self.numbers) ** 2).mean()
        gradient_step(loss, self.optimizer, self.step_count)
        self.step_count += 1
        return {"step": float(self.step_count), "loss": loss.item()}

    def evaluate(self, final: bool = False) -> dict[str, float]:
        return {"error": abs(self.estimate.item() - self.numbers.mean().item())}

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars),
                        {"estimate": np.array([self.estimate.item()], np.float32)}, final)

    def state_dict(self) -> dict:
        return {"estimate": self.estimate.detach().clone(), "optimizer": self.optimizer.state_dict(),
                "step": self.step_count}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            self.estimate.copy_(state["estimate"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_count = int(state["step"])

    def export(self, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "mean.json"
        path.write_text(json.dumps({"estimate": self.estimate.item(), "mean": self.numbers.mean().item()}))
        return path


MEAN = TaskKind("learn-mean", "Learn a mean", "learn the mean of some numbers by gradient descent", MeanConfig,
                lambda config, path, device: MeanTask(config, device), lambda config, path: "mean", resumable=True,
                view="mean-plot", preview=lambda medium, device: MeanConfig(steps=60))


def mean_view():
    from PySide6.QtWidgets import QLabel

    class MeanView(QLabel):
        def clear(self) -> None:
            self.estimate = None
            self.setText("")

        def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
            self.estimate = float(previews["estimate"][0])
            self.setText(f"estimate {self.estimate:.3f}" + (" (final)" if final else ""))

    return MeanView()


@pytest.fixture
def registered():
    """The new medium and task kind (and, when the window is there, their views), registered for one test."""
    register_medium(SERIES)
    register(MEAN)
    views = None
    try:
        from app.views.registry import VIEWS

        views = VIEWS
        VIEWS["series-plot"], VIEWS["mean-plot"] = series_view, mean_view
    except ImportError:
        pass
    yield
    MEDIA.unregister("series")
    TASKS.unregister("learn-mean")
    if views is not None:
        del views["series-plot"], views["mean-plot"]


def write_series(path: Path, n: int = 64) -> Path:
    t = np.linspace(0, 1, n)
    np.savetxt(path, 2.0 * np.sin(2 * np.pi * 3 * t) + 0.5 * np.cos(2 * np.pi * 7 * t), delimiter=",")
    return path


def test_a_new_medium_fits_through_the_cli_and_exports_in_its_own_format(registered, tmp_path, capsys) -> None:
    series = write_series(tmp_path / "wave.csv")
    out = tmp_path / "run"
    assert cli.main(["fit", str(series), "--out", str(out)]) == 0  # the medium's own preview settings
    settings = json.loads((out / "config.json").read_text())["config"]
    assert settings["steps"] == 40 and settings["model"]["model"] == "fourier-imfn"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["eval_psnr_train"] > rows[0]["eval_psnr_train"] + 10  # it learns the series
    assert np.loadtxt(out / "reconstruction.csv").shape == (64,)
    assert cli.main(["fit", str(series), "--protocol", "generalize", "--steps", "3", "--out", str(tmp_path / "g")]) == 0
    assert "psnr_test" in (tmp_path / "g" / "metrics.jsonl").read_text()  # its held-out samples: every other one
    parser = cli.build_parser()
    help_text = next(action for action in parser._actions if action.dest == "verb").choices["fit"].format_help()
    assert "series: " in help_text  # the CLI's list of preview settings names it
    (tmp_path / "bad.csv").write_text("one, two\n")
    assert cli.main(["fit", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "bad")]) == 2
    assert "bad.csv holds something other than numbers" in capsys.readouterr().err
    assert cli.main(["fit", str(tmp_path / "x.xyz")]) == 2
    assert "a series of numbers (.csv)" in capsys.readouterr().err  # what DEQ Studio opens, the new medium too


def test_a_new_task_kind_runs_and_resumes_through_its_cli_verb(registered, tmp_path) -> None:
    out = tmp_path / "mean"
    assert cli.main(["learn-mean", "--steps", "100", "--lr", "0.3", "--out", str(out)]) == 0
    result = json.loads((out / "mean.json").read_text())
    assert abs(result["estimate"] - result["mean"]) < 1e-4  # gradient descent on the squared error finds the mean
    assert cli.main(["resume", str(out), "--steps", "120"]) == 0
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 120


def test_the_window_offers_both_with_their_panels_and_views(registered, qtbot, tmp_path) -> None:
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert window.open_file(write_series(tmp_path / "wave.csv"))
    view = window.views.currentWidget()
    assert window.views.view("series-plot") is view and view.text() == "64 numbers"
    assert window.form.config().steps == 40  # the medium's preview settings fill the fit panel
    audio_rate, protocol = window.form.children_forms["signal"].rows["audio_rate"], window.form.rows["protocol"]
    assert not audio_rate[0].isRowVisible(audio_rate[1]) and protocol[0].isRowVisible(protocol[1])  # what applies
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    assert window.task.step_count == 40 and "the first ≈" in view.text()
    window.set_kind("learn-mean")
    assert window.form.config() == MeanConfig(steps=60)  # the kind's own panel, from its preview
    with qtbot.waitSignal(window.controller.finished, timeout=60_000):
        window.start()
    mean_view = window.views.currentWidget()
    assert mean_view is window.views.view("mean-plot") and mean_view.text().endswith("(final)")
    assert abs(mean_view.estimate - float(window.task.numbers.mean())) < 1e-3 and window.curves.runs


def test_a_new_network_is_offered_by_its_registration_alone(tmp_path) -> None:
    from engine.config import field_choices
    from engine.models.inr import INR_MODELS, Network, register_network
    from engine.models.inr.siren import CLASSIC_SIREN

    register_network("wide-siren", Network(lambda config, *rest: CLASSIC_SIREN.build(
        dataclasses.replace(config, width=2 * config.width), *rest)))
    try:
        assert field_choices(ModelConfig, "model")[-1] == "wide-siren"  # the panel's list and the CLI's choices
        with pytest.raises(Exception, match="choose one of"):
            ModelConfig(model="narrow-siren")
        from PIL import Image

        picture = tmp_path / "tiny.png"
        Image.fromarray((np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)).save(picture)
        assert cli.main(["fit", str(picture), "--model", "wide-siren", "--width", "8", "--steps", "3",
                         "--out", str(tmp_path / "run")]) == 0
        settings = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
        assert settings["model"]["model"] == "wide-siren"
    finally:
        INR_MODELS.unregister("wide-siren")
    assert "wide-siren" not in field_choices(ModelConfig, "model")
