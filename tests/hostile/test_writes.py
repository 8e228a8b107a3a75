"""The last ways to lose work: a stop request while the results are written, the terminal closed under a run
(SIGHUP), a run folder's files replaced by links, two processes on one run folder, a full disk or a limit on file
sizes, a read-only disk, names too long, and a file where a folder must be. Each ends in a clear sentence with nothing
torn: every file is whole or absent, and a run that stopped continues."""
from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import cli
from engine.atomic_files import TEMPORARY
from engine.errors import log_failure, log_path, user_message
from engine.run_directory import RunDirectory
from engine.run_lock import run_lock
from tests.conftest import PROJECT_ROOT
from tests.hostile.test_hostile import run_cli, says_one_thing

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(180)]
FAST = ["--preset", "preview", "--width", "8", "--device", "cpu", "--log-every", "1"]


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.png"
    Image.fromarray((np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)).save(path)
    return path


def temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.rglob(".*") if TEMPORARY.match(path.name)]


def test_a_stop_request_while_the_results_are_written_lets_them_finish_and_says_so(tiny_image, tmp_path, capsys,
                                                                                    monkeypatch) -> None:
    from engine.tasks.fit import FitTask

    export = FitTask.export

    def interrupted_export(task, folder):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the reconstruction is being written
        return export(task, folder)

    monkeypatch.setattr(FitTask, "export", interrupted_export)
    out = tmp_path / "run"
    code, err = run_cli(["fit", str(tiny_image), "--steps", "2", *FAST, "--out", str(out)], capsys)
    assert code == cli.EXIT_INTERRUPTED, err
    assert "SIGTERM: the run had finished; its results and checkpoint are complete" in err
    assert Image.open(out / "reconstruction.png").size == (8, 8)  # whole
    assert RunDirectory(out).load_checkpoint()[2]["step"] == 2 and not temporaries(out)


def test_a_failing_export_leaves_the_earlier_file_and_no_half_of_a_new_one(tiny_image, tmp_path, monkeypatch) -> None:
    from engine.media import write_image

    target = tmp_path / "reconstruction.png"
    write_image(target, np.zeros((4, 4, 3), np.uint8))
    before = target.read_bytes()

    def torn(image, path, *args, **kwargs):
        Path(path).write_bytes(b"\x89PNG half of it")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Image.Image, "save", torn)
    with pytest.raises(OSError):
        write_image(target, np.ones((4, 4, 3), np.uint8))
    assert target.read_bytes() == before and not temporaries(tmp_path)


def fit_process(image: Path, out: Path, *, steps: int = 100_000, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app.main", "fit", str(image), "--steps", str(steps), *FAST,
                             "--out", str(out)], env={**os.environ, "PYTHONUNBUFFERED": "1",
                                                      "PYTHONPATH": str(PROJECT_ROOT)}, **popen)


def wait_for_rows(out: Path, process: subprocess.Popen, rows: int = 2) -> None:
    deadline = time.monotonic() + 120
    metrics = out / "metrics.jsonl"
    while not metrics.is_file() or len(metrics.read_text().splitlines()) < rows:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGHUP") or not hasattr(os, "openpty"), reason="needs SIGHUP and a pty")
def test_closing_the_terminal_of_a_run_stops_it_with_a_checkpoint_like_sigterm(tiny_image, tmp_path) -> None:
    """The run's output goes to a terminal (a pty) which then hangs up: SIGHUP stops it after the step with a
    checkpoint, and the writes to the vanished terminal do not turn that into a failure."""
    out = tmp_path / "run"
    controller, terminal = os.openpty()
    process = fit_process(tiny_image, out, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    try:
        wait_for_rows(out, process)
        os.close(controller)  # the terminal window is closed: its side of the pty is gone
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=60) == cli.EXIT_INTERRUPTED
    finally:
        if process.poll() is None:
            process.kill()
    step = RunDirectory(out).load_checkpoint()[2]["step"]
    assert step >= 1 and not temporaries(out)
    assert cli.main(["resume", str(out), "--steps", str(step + 1)]) == 0


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="needs SIGHUP")
def test_sighup_says_what_sigterm_says(tiny_image, tmp_path) -> None:
    out = tmp_path / "run"
    process = fit_process(tiny_image, out, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_rows(out, process)
        process.send_signal(signal.SIGHUP)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert "SIGHUP: stopped at step" in err and "checkpoint saved" in err and "Traceback" not in err


@pytest.fixture
def finished_run(tiny_image, tmp_path) -> Path:
    out = tmp_path / "run"
    assert cli.main(["fit", str(tiny_image), "--steps", "2", *FAST, "--out", str(out)]) == 0
    return out


def test_a_metrics_file_replaced_by_a_link_is_not_written_through(finished_run, tmp_path, capsys) -> None:
    elsewhere = tmp_path / "someone-elses.txt"
    elsewhere.write_text("precious\n")
    rows = (finished_run / "metrics.jsonl").read_text()
    (finished_run / "metrics.jsonl").unlink()
    (finished_run / "metrics.jsonl").symlink_to(elsewhere)
    capsys.readouterr()
    code, err = run_cli(["resume", str(finished_run), "--steps", "4"], capsys)
    assert elsewhere.read_text() == "precious\n"
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "metrics.jsonl in run is a link to another file" in err
    (finished_run / "metrics.jsonl").unlink()
    (finished_run / "metrics.jsonl").write_text(rows)
    (finished_run / "metrics.jsonl").rename(finished_run / "kept.jsonl")
    (finished_run / "metrics.jsonl").symlink_to(elsewhere)  # a link made while the run is going: appends refuse it
    with pytest.raises(ValueError, match="metrics.jsonl in run is a link to another file"):
        RunDirectory(finished_run).append_metrics({"step": 3, "loss": 0.1})
    assert elsewhere.read_text() == "precious\n"


def test_the_log_replaced_by_a_link_is_not_written_through(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DEQ_STUDIO_LOG_DIR", str(tmp_path / "logs"))
    log_path().parent.mkdir()
    elsewhere = tmp_path / "someone-elses.txt"
    elsewhere.write_text("precious\n")
    log_path().symlink_to(elsewhere)
    assert log_failure(RuntimeError("boom"), "a test") is None
    assert elsewhere.read_text() == "precious\n"
    assert user_message(RuntimeError("boom"))  # the sentence is still given


def test_a_second_process_on_a_run_folder_is_refused_while_the_first_writes_it(finished_run, capsys) -> None:
    before = (finished_run / "metrics.jsonl").read_text()
    with run_lock(finished_run):  # another process is resuming it
        code, err = run_cli(["resume", str(finished_run), "--steps", "4"], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "Another DEQ Studio process" in err and f"number {os.getpid()}" in err
    assert (finished_run / "metrics.jsonl").read_text() == before
    assert not (finished_run / ".lock").exists()  # released with its holder
    assert cli.main(["resume", str(finished_run), "--steps", "4"]) == 0  # and free again


@pytest.mark.slow
def test_two_resumes_at_once_never_write_the_same_steps_twice(finished_run) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "engine.cli", "resume", str(finished_run), "--steps", "40"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    first.communicate(timeout=300)
    assert sorted([first.returncode, second.returncode]) in ([0, 0], [0, cli.EXIT_BAD_INPUT])
    steps = [json.loads(line)["step"] for line in (finished_run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 40


def test_a_limit_on_file_sizes_reads_as_a_full_disk_and_tears_nothing(tiny_image, tmp_path) -> None:
    """`ulimit -f` (a quota behaves alike): the checkpoint cannot be written whole, and the run says the disk is
    full instead of something having gone wrong inside DEQ Studio."""
    out = tmp_path / "run"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run([sys.executable, "-m", "engine.cli", "fit", str(tiny_image), "--steps", "2", *FAST,
                           "--out", str(out)], capture_output=True, text=True, timeout=120, preexec_fn=small_files,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode in (cli.EXIT_BAD_INPUT, cli.EXIT_FAILED), done.stderr
    assert "The disk is full" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not temporaries(out)
    for path in out.iterdir():  # what was written is whole
        if path.suffix == ".json":
            json.loads(path.read_text())


def test_full_read_only_and_too_long_read_as_what_they_are() -> None:
    assert user_message(OSError(errno.EROFS, "Read-only file system", "/media/disk/run/.config.json.ab12cd34.tmp"
                                                                      ".json")).startswith(
        "The disk can only be read, not written (config.json in run)")
    assert "(checkpoint.pt in run)" in user_message(PermissionError(13, "Permission denied",
                                                                    "/x/run/.checkpoint.pt.k2j3h4ab.tmp.pt"))
    assert user_message(OSError(errno.EFBIG, "File too large", "run/metrics.jsonl")).startswith("The disk is full")
    assert "longer than this disk allows" in user_message(OSError(errno.ENAMETOOLONG, "File name too long", "a" * 300))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_names_the_folder_not_a_temporary(tiny_image, tmp_path, capsys) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, err = run_cli(["fit", str(tiny_image), "--steps", "1", *FAST, "--out", str(folder / "run")], capsys)
    finally:
        folder.chmod(0o755)
    assert code == cli.EXIT_BAD_INPUT and ".tmp" not in err, err
    says_one_thing(err)


def test_an_input_with_a_legal_250_character_name_gets_a_run_folder_it_can_make(tiny_image, tmp_path,
                                                                              capsys) -> None:
    long = tmp_path / ("a" * 246 + ".png")
    long.write_bytes(tiny_image.read_bytes())
    code, err = run_cli(["fit", str(long), "--steps", "1", *FAST], capsys)  # into runs/<a name from the file's>
    assert code == 0, err
    (folder,) = Path("runs").iterdir()
    assert len(folder.name.encode()) <= 120 and (folder / "reconstruction.png").is_file()


def test_a_file_where_the_run_folder_must_go_is_named(tiny_image, tmp_path, capsys) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "afile").write_text("not a folder")
    code, err = run_cli(["fit", str(tiny_image), "--steps", "1", *FAST, "--out", str(tmp_path / "runs/afile/sub")],
                        capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "afile is a file, so the folder sub cannot be made inside it" in err


def test_a_checkpoint_too_large_for_the_memory_is_refused_before_it_is_read(finished_run, capsys,
                                                                           monkeypatch) -> None:
    import psutil

    class Little:
        available = 1000

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Little())
    code, err = run_cli(["resume", str(finished_run), "--steps", "4"], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "memory free, so the run cannot continue from it here" in err


def test_a_train_prior_data_that_is_a_file_says_so(tiny_image, tmp_path, capsys) -> None:
    code, err = run_cli(["train-prior", "--data", str(tiny_image), "--steps", "1", "--device", "cpu",
                         "--out", str(tmp_path / "run")], capsys)
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert "tiny.png is a file, not a folder" in err


def test_a_torch_float_tensor_never_becomes_integers_on_the_way_in() -> None:
    """The checkpoint and model checks compare number types, not only shapes (load_state_dict would cast)."""
    from engine.checkpoint import layout_mismatch

    expected = {"model": {"w": torch.zeros(2, 3)}, "optimizer": {"state": {}}}
    assert layout_mismatch(expected, {"model": {"w": torch.zeros(2, 3, dtype=torch.int32)}}) == \
        "model.w holds int32 numbers where float32 is expected"
    assert "shape (3, 2)" in layout_mismatch(expected, {"model": {"w": torch.zeros(3, 2)}})
    assert layout_mismatch(expected, {"model": {"w": torch.ones(2, 3)}, "optimizer": {"state": {"0": 1}}}) is None
