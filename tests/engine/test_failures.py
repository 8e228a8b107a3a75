"""The one error path and interrupts: every failure is one sentence (traceback in the log, or with --debug);
Ctrl-C and SIGTERM checkpoint and exit 130; resuming drops a torn metrics line and orphan temporaries, and refuses a
changed input or a step count below the checkpoint's."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import cli
from engine.errors import log_path, user_message
from engine.run_directory import RunDirectory
from tests.engine.media_files import tiny_media

FAST = ["--width", "16", "--device", "cpu", "--log-every", "2"]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tiny_media(tmp_path_factory.mktemp("failures"))


def test_an_unexpected_failure_is_one_sentence_and_its_traceback_is_logged(monkeypatch, capsys) -> None:
    def broken(kind, args):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(cli, "run_task", broken)
    assert cli.main(["fit", "any.png"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deq-studio: error: Something went wrong inside DEQ Studio")
    assert "Traceback" not in err and str(log_path()) in err
    logged = log_path().read_text()
    assert "TypeError: unsupported operand" in logged and "deq-studio fit any.png" in logged
    assert cli.main(["fit", "any.png", "--debug"]) == cli.EXIT_FAILED
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_common_failures_read_as_sentences() -> None:
    import errno

    assert "ran out of memory" in user_message(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert user_message(MemoryError()).startswith("The computer ran out of memory")
    full = OSError(errno.ENOSPC, "No space left on device", "/some/where/metrics.jsonl")
    assert user_message(full) == ("The disk is full (metrics.jsonl in where). Free some space, or choose a folder on "
                                  "another disk.")
    assert user_message(FileNotFoundError(2, "No such file", "photo.png")).startswith("photo.png does not exist")
    missing_folder = FileNotFoundError(2, "No such file", "/x/y/photo.png")
    assert user_message(missing_folder).startswith("The folder y of photo.png does not exist")


def test_resume_refuses_fewer_steps_and_a_changed_input_and_cleans_up(media, tmp_path, capsys) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(media["image"].read_bytes())
    out = tmp_path / "run"
    assert cli.main(["fit", str(image), "--steps", "6", "--out", str(out), *FAST]) == 0
    assert cli.main(["resume", str(out), "--steps", "3"]) == cli.EXIT_BAD_INPUT
    assert "already at step 6: give --steps 6 or more" in capsys.readouterr().err
    orphan = out / ".checkpoint.pt.k2j3h4.tmp"  # a write cut off by a kill
    orphan.write_bytes(b"partial")
    with open(out / "metrics.jsonl", "a", encoding="utf-8") as metrics:
        metrics.write('{"step": 7, "loss": 0.0')  # a row cut off by a full disk or a kill
    capsys.readouterr()
    assert cli.main(["resume", str(out), "--steps", "8"]) == 0
    err = capsys.readouterr().err
    assert "dropped the torn last line" in err and not orphan.exists()
    assert [row["step"] for row in RunDirectory(out).read_metrics()][-2:] == [6, 8]
    pixels = bytearray(image.read_bytes())
    image.write_bytes(bytes(pixels[:-12]) + bytes(12))  # the same name, other bytes
    assert cli.main(["resume", str(out), "--steps", "10"]) == cli.EXIT_BAD_INPUT
    assert "photo.png has changed since the run" in capsys.readouterr().err


def test_a_damaged_middle_line_of_the_metrics_is_a_sentence(tmp_path) -> None:
    run = RunDirectory(tmp_path)
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n{"step": 2, "lo\n{"step": 3}\n', encoding="utf-8")
    with pytest.raises(Exception, match="Line 2 of metrics.jsonl .* is damaged"):
        run.read_metrics()


@pytest.mark.slow
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_saves_a_checkpoint_and_the_run_resumes(media, tmp_path, signal_number) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "app.main", "fit", str(media["image"]), "--steps", "100000", "--out", str(out),
               *FAST]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not (out / "metrics.jsonl").is_file() or (out / "metrics.jsonl").stat().st_size == 0:
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal_number)
    _, err = process.communicate(timeout=60)
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert "checkpoint saved" in err and "deq-studio resume" in err and "Traceback" not in err
    step = RunDirectory(out).load_checkpoint()[2]["step"]
    assert step >= 1
    assert cli.main(["resume", str(out), "--steps", str(step + 2)]) == 0
    assert RunDirectory(out).read_metrics()[-1]["step"] == step + 2
    assert not list(Path(out).glob(".*.tmp"))
