"""The hostile suite (`pytest -m hostile`): bad files to the loaders and the window's open path, every fit option at
NaN / Inf / 0 / −1, damaged run folders, checkpoints and model files to the CLI, and a few real processes.

A case passes when nothing crashes or hangs, no traceback reaches the user, a failure is one clear sentence (exit
code 1 or 2 in the CLI, a dialog in the window), and nothing outside the case's temporary folder changed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import cli
from engine.config import SignalConfig
from engine.media import MeshSignal, Signal, SignalError, load_signal
from bench.shared_data import shared_data_dir
from tests.hostile.cases import CHECKPOINTS, LOADER_CASES, MODEL_FILES, RUN_RECORDS, pickled_exploit

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(120)]
SMALL = SignalConfig(max_size=48, audio_duration_s=0.25, video_max_frames=3)
"""Small reads: a case tests the loader's guard, not its throughput."""
VALUES = ("nan", "inf", "0", "-1")


@pytest.fixture(scope="module", autouse=True)
def the_data_folder_is_never_changed():
    """No case writes into the real data (or anywhere but its temporary folder)."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real data folder not found: {folder}")
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    yield
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def says_one_thing(text: str) -> None:
    """A user-facing failure: no traceback, one line, a sentence."""
    assert "Traceback" not in text and text.strip(), text
    assert len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize("case", sorted(LOADER_CASES))
def test_loaders(case, tmp_path) -> None:
    path = LOADER_CASES[case](tmp_path)
    try:
        signal = load_signal(path, SMALL)
    except SignalError as exc:
        says_one_thing(str(exc))
        assert path.name in str(exc) or path.suffix in str(exc), str(exc)
        return
    assert isinstance(signal, (Signal, MeshSignal))
    values = signal.values if isinstance(signal, Signal) else torch.from_numpy(signal.vertices)
    assert torch.isfinite(values).all() and values.abs().max() <= 1.0 + 1e-6


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from app.application import application
    from app.main_window import MainWindow

    application()
    folder = tmp_path_factory.mktemp("window")
    threads = torch.get_num_threads()
    win = MainWindow(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    yield win
    win.close()
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", sorted(c for c in LOADER_CASES if c.startswith(("image", "audio"))))
def test_the_windows_open_path(case, tmp_path, window) -> None:
    from engine.resources import sample_path

    path = LOADER_CASES[case](tmp_path)
    errors = len(window.errors)
    if not window.open_file(path):
        assert len(window.errors) == errors + 1
        says_one_thing(window.errors[-1])
    assert window.open_file(sample_path("image.png"))  # the window stays usable


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("tiny") / "tiny.png"
    Image.fromarray((np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)).save(path)
    return path


def fit_options() -> list[str]:
    """Every option of `deq-studio fit` that takes a value."""
    verbs = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(option for action in verbs.choices["fit"]._actions for option in action.option_strings
                  if option.startswith("--") and action.nargs != 0 and option not in ("--out", "--help"))


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own refusal of a value it cannot parse
        code = exc.code
    return int(code or 0), capsys.readouterr().err


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("option", fit_options())
def test_every_fit_option_at_nan_inf_zero_and_minus_one(option, value, tiny_image, tmp_path, capsys) -> None:
    threads = torch.get_num_threads()
    code, err = run_cli(["fit", str(tiny_image), "--preset", "preview", "--steps", "1", "--device", "cpu",
                         "--out", str(tmp_path / "run"), option, value], capsys)
    torch.set_num_threads(threads)
    assert code in (0, 1, 2), err
    if code:
        assert "Traceback" not in err and "error" in err, err
        if code != 2 or "usage:" not in err:  # argparse prints its usage line above its one-line error
            says_one_thing(err)


@pytest.fixture(scope="module")
def finished_run(tiny_image, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert cli.main(["fit", str(tiny_image), "--preset", "preview", "--steps", "2", "--device", "cpu",
                     "--out", str(out)]) == 0
    return out


def copy_of(run: Path, folder: Path) -> Path:
    copy = folder / "run"
    shutil.copytree(run, copy)
    return copy


@pytest.mark.parametrize("value", VALUES)
def test_resume_lr_at_nan_inf_zero_and_minus_one(value, finished_run, tmp_path, capsys) -> None:
    run = copy_of(finished_run, tmp_path)
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    code, err = run_cli(["resume", str(run), "--steps", "3", "--lr", value], capsys)
    assert code == cli.EXIT_BAD_INPUT and "lr" in err, err
    says_one_thing(err)
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before  # refused before anything changed


@pytest.mark.parametrize("variant", sorted(RUN_RECORDS))
def test_damaged_run_records(variant, finished_run, tmp_path, capsys) -> None:
    run = copy_of(finished_run, tmp_path)
    record = json.loads((run / "config.json").read_text())
    edits = {"steps-true": lambda r: r["config"].update(steps=True),
             "unknown-option": lambda r: r["config"].update(teleport=1),
             "input-missing": lambda r: r.pop("input"),
             "input-not-text": lambda r: r.update(input=[1, 2]),
             "lr-infinite": lambda r: r["config"].update(lr=float("inf")),
             "run-id-not-text": lambda r: r.update(run_id=7)}
    if variant == "config-2-gb":
        with open(run / "config.json", "r+b") as handle:
            handle.truncate(2 << 30)  # sparse: nothing is written, and nothing may be read
    else:
        if RUN_RECORDS[variant] is None:
            edits[variant](record)
            text = json.dumps(record)
        else:
            text = RUN_RECORDS[variant]
        (run / "config.json").write_text(text)
    code, err = run_cli(["resume", str(run), "--steps", "3"], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)


@pytest.mark.parametrize("variant", CHECKPOINTS)
def test_damaged_checkpoints(variant, finished_run, tmp_path, capsys, tiny_image) -> None:
    run = copy_of(finished_run, tmp_path)
    checkpoint = run / "checkpoint.pt"
    data = checkpoint.read_bytes()
    if variant in ("other-width", "another-runs"):  # the other run: another width, or the very same settings
        other = tmp_path / "other"
        width = ["--width", "24"] if variant == "other-width" else []
        assert cli.main(["fit", str(tiny_image), "--preset", "preview", "--steps", "2", *width, "--device", "cpu",
                         "--out", str(other)]) == 0
        capsys.readouterr()
        shutil.copy(other / "checkpoint.pt", checkpoint)
    elif variant in EDITED_CHECKPOINTS:
        payload = torch.load(checkpoint, weights_only=True)
        EDITED_CHECKPOINTS[variant](payload)
        torch.save(payload, checkpoint)
    else:
        contents = {"empty": b"", "random-bytes": np.random.default_rng(0).bytes(4096),
                    "truncated": data[: len(data) // 2], "pickled-exploit": pickled_exploit(tmp_path),
                    "json": b'{"format": "deq-studio-checkpoint"}'}[variant]
        checkpoint.write_bytes(contents)
    code, err = run_cli(["resume", str(run), "--steps", "3"], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert not (tmp_path / "PWNED").exists()  # nothing in the file ran
    if variant == "another-runs":
        assert "belongs to another run" in err, err
    if variant in ("buffer-of-another-shape", "weights-as-integers"):
        assert "does not fit the run's settings" in err and ("shape" in err or "int32" in err), err


def _first_weight(state: dict) -> str:
    return next(iter(state["model"]))


EDITED_CHECKPOINTS = {
    "config-json-a-number": lambda payload: payload.update(config_json="5"),
    "buffer-of-another-shape": lambda payload: payload["state"]["buffer"].update(
        z=torch.zeros(payload["state"]["buffer"]["z"].shape[0] + 1, payload["state"]["buffer"]["z"].shape[1])),
    "weights-as-integers": lambda payload: payload["state"]["model"].update(
        {_first_weight(payload["state"]): payload["state"]["model"][_first_weight(payload["state"])].to(torch.int32)}),
    "state-a-list": lambda payload: payload.update(state=[1, 2]),
}
"""A real checkpoint, edited as the name says."""


@pytest.mark.parametrize("variant", MODEL_FILES)
def test_damaged_model_files(variant, tmp_path, capsys) -> None:
    from engine.model_store import save_model
    from tests.engine.tasks.test_inverse_attack import tiny_classifier, tiny_decoder

    path = tmp_path / "classifier.safetensors"
    good = save_model(tmp_path / "good.safetensors", tiny_classifier(), "mdeq-classifier",
                      {"channels": [8, 16], "image_size": 28, "classes": 2}).read_bytes()
    if variant == "wrong-kind":
        save_model(path, tiny_decoder(), "mdeq-decoder", {"latent": 8, "channels": [8, 16], "image_size": 28})
    elif variant in ("huge-channels", "nan-weights"):
        model = tiny_classifier()
        if variant == "nan-weights":
            next(model.parameters()).data.fill_(float("nan"))
        channels = [10 ** 6, 10 ** 6] if variant == "huge-channels" else [8, 16]
        save_model(path, model, "mdeq-classifier", {"channels": channels, "image_size": 28, "classes": 2})
    elif variant in EDITED_MODELS:
        from safetensors.torch import save

        tensors = {f"model.{k}": v.contiguous() for k, v in tiny_classifier().state_dict().items()}
        metadata = {"format": "deq-studio-model/1", "kind": "mdeq-classifier",
                    "arch": json.dumps({"channels": [8, 16], "image_size": 28, "classes": 2, "head": "grid"})}
        EDITED_MODELS[variant](tensors, metadata)
        path.write_bytes(save(tensors, metadata=metadata))
    elif variant == "trailing-bytes":
        path.write_bytes(good + b"\0" * 64)
    elif variant == "huge-sparse":
        path.write_bytes(good)
        with open(path, "r+b") as handle:
            handle.truncate(5 << 30)  # sparse: refused by its size, never read
    elif variant == "a-folder":
        path.mkdir()
    else:
        path.write_bytes({"empty": b"", "random-bytes": np.random.default_rng(1).bytes(2048),
                          "truncated": good[: len(good) // 3],
                          "header-too-long": (10 ** 12).to_bytes(8, "little") + good[8:],
                          "not-a-model": b"\x10\x00\x00\x00\x00\x00\x00\x00" + b'{"a": 1}        '}[variant])
    code, err = run_cli(["attack", "--classifier", str(path), "--count", "2", "--device", "cpu",
                         "--out", str(tmp_path / "run")], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert path.name in err, err
    if variant == "integers-for-floats":
        assert "int32" in err and "float32" in err, err


def _as_integers(tensors: dict, metadata: dict) -> None:
    name = next(name for name, tensor in tensors.items() if tensor.is_floating_point())
    tensors[name] = tensors[name].view(torch.int32)  # the same bytes, labelled I32


EDITED_MODELS = {
    "integers-for-floats": _as_integers,
    "no-arch": lambda tensors, metadata: metadata.pop("arch"),
    "no-kind": lambda tensors, metadata: metadata.pop("kind"),
    "arch-not-json": lambda tensors, metadata: metadata.update(arch="{channels: [8"),
    "arch-nested-deep": lambda tensors, metadata: metadata.update(arch="[" * 100_000 + "]" * 100_000),
}
"""A real classifier's tensors and metadata, edited as the name says."""


PROCESSES = {
    "fit-bomb": lambda folder: ["fit", LOADER_CASES["image-declares-20000x20000"](folder)],
    "fit-truncated-audio": lambda folder: ["fit", LOADER_CASES["audio-truncated-3"](folder), "--steps", "1",
                                           "--preset", "preview"],
    "attack-bomb-image": lambda folder: ["attack", "--image", LOADER_CASES["image-declares-9000x9000"](folder)],
    "resume-not-a-run": lambda folder: ["resume", folder],
    "fit-folder": lambda folder: ["fit", folder],
    "open-bomb-headless": lambda folder: [LOADER_CASES["image-declares-20000x20000"](folder)],
}
"""Real processes: what the user's shell sees."""


@pytest.mark.parametrize("case", sorted(PROCESSES))
def test_real_processes(case, tmp_path) -> None:
    argv = [str(word) for word in PROCESSES[case](tmp_path)]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "app.main", *argv], capture_output=True, text=True, timeout=90,
                          cwd=tmp_path, env=env)
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.startswith("deq-studio:")]
        assert len(lines) == 1, done.stderr
