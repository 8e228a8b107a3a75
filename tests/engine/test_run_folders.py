"""Run folders: a run writes only into a folder it created (or a run it resumes), never over another run or an
input, and a run that fails to start leaves an existing folder as it was."""
from __future__ import annotations

import shutil

import pytest

from engine import cli
from engine.resources import sample_path
from engine.run_directory import RunDirectory, RunFolderError

FAST = ["--preset", "preview", "--steps", "2", "--log-every", "1", "--device", "cpu"]


def snapshot_of(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_create_uses_new_or_empty_folders_and_refuses_others(tmp_path) -> None:
    assert RunDirectory.create(tmp_path / "a" / "b").path.is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert RunDirectory.create(empty).path == empty
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError, match="already holds files"):
        RunDirectory.create(taken)
    assert RunDirectory.create(taken, fresh=True).path == tmp_path / "taken-2"
    (tmp_path / "taken-2" / "x").write_text("")
    assert RunDirectory.create(taken, fresh=True).path == tmp_path / "taken-3"
    (tmp_path / "taken-3" / "x").write_text("")
    (tmp_path / "taken-4").write_text("a file in the way")
    assert RunDirectory.create(taken, fresh=True).path == tmp_path / "taken-5"
    with pytest.raises(RunFolderError, match="is a file"):
        RunDirectory.create(tmp_path / "taken-4")


def test_a_run_folder_holding_its_own_input_is_not_reopened_for_writing(tmp_path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(sample_path("image.png"), folder / "photo.png")
    RunDirectory(folder).write_config({"task": "fit", "input": str(folder / "photo.png"), "config": {}})
    with pytest.raises(RunFolderError, match="holds the run's input"):
        RunDirectory.open(folder)
    assert cli.main(["resume", str(folder)]) == cli.EXIT_BAD_INPUT


def test_fit_out_never_replaces_another_run_or_the_input(tmp_path, capsys) -> None:
    first = tmp_path / "run"
    assert cli.main(["fit", str(sample_path("image.png")), *FAST, "--out", str(first)]) == 0
    before = snapshot_of(first)
    assert cli.main(["fit", str(sample_path("image.png")), *FAST, "--out", str(first)]) == cli.EXIT_BAD_INPUT
    assert "already holds files" in capsys.readouterr().err and snapshot_of(first) == before

    photos = tmp_path / "photos"
    photos.mkdir()
    photo = photos / "reconstruction.png"
    shutil.copy(sample_path("image.png"), photo)
    original = photo.read_bytes()
    assert cli.main(["fit", str(photo), *FAST, "--out", str(photos)]) == cli.EXIT_BAD_INPUT
    assert photo.read_bytes() == original and [p.name for p in photos.iterdir()] == ["reconstruction.png"]


def test_a_run_that_fails_to_start_writes_nothing(tmp_path) -> None:
    out = tmp_path / "never"
    assert cli.main(["fit", str(tmp_path / "missing.png"), *FAST, "--out", str(out)]) == cli.EXIT_BAD_INPUT
    assert not out.exists()


def test_default_folders_are_fresh_each_time(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert cli.main(["fit", str(sample_path("image.png")), *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["image-gabor-imfn-represent",
                                                                       "image-gabor-imfn-represent-2"]


def test_previews_round_trip_for_a_window_watching_the_folder(tmp_path) -> None:
    import numpy as np

    from engine.run_directory import RunDirectory
    from engine.tasks.base import Snapshot

    run = RunDirectory.create(tmp_path / "run")
    assert run.read_previews() is None
    picture = np.arange(12, dtype=np.uint8).reshape(3, 4)
    run.write_previews(Snapshot(7, 50, 1.5, {"loss": 1.0}, {"batch": picture}, final=False))
    seen = run.read_previews()
    assert (seen.step, seen.total_steps, seen.elapsed_s, seen.final) == (7, 50, 1.5, False)
    assert np.array_equal(seen.previews["batch"], picture) and seen.previews["batch"].dtype == np.uint8
    (tmp_path / "run" / "previews.npz").write_bytes(b"torn")
    assert run.read_previews() is None
