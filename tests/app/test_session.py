"""The session model without Qt: open, start, continue, reset, save, load, export and the run history, driven by the
inline runner (the window drives the same session through its worker thread)."""
from __future__ import annotations

import csv
import dataclasses
import json

import pytest
import torch

from app.session import InlineRunner, Session, SessionError
from engine.media import SignalError
from engine.resources import sample_path
from engine.run_directory import RunDirectory
from engine.tasks.kinds import task_kind


@pytest.fixture
def session() -> Session:
    runner = InlineRunner()
    session = Session(runner, torch.device("cpu"))
    runner.on_row = session.record
    return session


def short(session: Session, steps: int = 6):
    settings = session.starting_settings(session.kind, "image")
    return dataclasses.replace(settings, steps=steps, log_every=2, eval_every=6)


def test_open_start_continue_and_history(session, tmp_path) -> None:
    settings = short(session)
    task = session.open(sample_path("image.png"), settings)
    assert session.path == sample_path("image.png") and task.targets().medium == "image"
    assert task.targets().arrays["signal"].shape == (128, 128, 3) and "image.png" in task.describe()
    started = session.start(settings)
    assert not started.fresh and session.task is task and started.steps == 6 and task.step_count == 6
    assert [row["step"] for row in session.rows] == [1, 2, 4, 6]
    again = session.start(dataclasses.replace(settings, steps=10))  # a trained task continues
    assert not again.fresh and session.task is task and task.step_count == 10
    assert [run.name for run in session.history.runs] == ["image #1", "image #2"]
    assert len(session.rows) == 4 + 2 and len(session.history.runs[1].rows) == 2
    rows = list(csv.DictReader(open(session.history.export_csv(tmp_path / "m.csv"))))
    assert len(rows) == 6 and rows[0]["run"] == "image #1" and float(rows[-1]["step"]) == 10
    lines = session.history.export_jsonl(tmp_path / "m.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["run"] == "image #2"


def test_changed_settings_rebuild_an_untrained_task_and_reset_discards_training(session) -> None:
    settings = short(session)
    first = session.open(sample_path("image.png"), settings)
    changed = dataclasses.replace(settings, seed=1)
    assert session.start(changed).fresh and session.task is not first and session.built_from == changed
    trained = session.task
    assert session.reset(settings) is not trained and session.task.step_count == 0 and session.rows == []


def test_a_bad_file_changes_nothing(session, tmp_path) -> None:
    settings = short(session)
    session.open(sample_path("image.png"), settings)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(SignalError):
        session.open(bad, settings)
    assert session.path == sample_path("image.png") and session.task is not None


def test_save_load_and_rewrite_only_what_it_saved(session, tmp_path) -> None:
    settings = short(session)
    session.open(sample_path("image.png"), settings)
    session.start(settings)
    folder = session.save(tmp_path / "snap")
    assert folder == (tmp_path / "snap").resolve() and RunDirectory(folder).read_metrics()[-1]["step"] == 6
    session.start(dataclasses.replace(settings, steps=8))
    assert session.save(tmp_path / "snap") == folder  # its own folder: rewritten
    assert RunDirectory(folder).read_metrics()[-1]["step"] == 8
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.png").write_bytes(b"keep me")
    inside = session.save(other)  # someone else's folder: a fresh subfolder, their file untouched
    assert inside.parent == other.resolve() and (other / "holiday.png").read_bytes() == b"keep me"
    assert session.save(other) == inside  # the same task again: that subfolder, rewritten

    session.open(sample_path("image.png"), settings)  # another task: never over the first one's run
    beside = session.save(tmp_path / "snap")
    assert beside == (tmp_path / "snap-2").resolve() and RunDirectory(folder).read_metrics()[-1]["step"] == 8

    runner = InlineRunner()
    fresh = Session(runner, torch.device("cpu"))
    runner.on_row = fresh.record
    opened = fresh.load(folder)
    assert fresh.kind.name == "fit" and fresh.task.step_count == 8 and len(fresh.rows) == 5
    assert opened.snapshot.previews["reconstruction"].shape == (128, 128, 3)
    assert fresh.history.runs[-1].name == "snap (reopened)"
    exported = fresh.export(tmp_path / "export")
    assert exported.name == "reconstruction.png" and exported.is_file()
    fresh.start(dataclasses.replace(settings, steps=10))
    assert fresh.save(folder) == folder  # a loaded run, continued, is saved back into its own folder
    assert [row["step"] for row in RunDirectory(folder).read_metrics()][-2:] == [8, 10]


def test_reopening_drops_rows_written_after_the_checkpoint(session, tmp_path) -> None:
    settings = short(session)
    session.open(sample_path("image.png"), settings)
    session.start(settings)
    folder = session.save(tmp_path / "snap")
    run = RunDirectory(folder)
    run.append_metrics({"step": 99, "loss": 0.1})  # written by a run killed before its next checkpoint
    opened = Session(InlineRunner(), torch.device("cpu")).load(folder)
    assert opened.task.step_count == 6 and [row["step"] for row in opened.rows] == [1, 2, 4, 6]


def test_kinds_come_from_the_registry_and_need_what_they_need(session) -> None:
    session.set_kind("train-prior")
    assert session.kind.resumable and session.kind.view == "grid"
    with pytest.raises(SessionError):
        session.save("anywhere")  # nothing trained yet
    session.set_kind("fit")
    with pytest.raises(SessionError, match="Open a file"):
        session.start(short(session))
    with pytest.raises(ValueError, match="unknown task"):
        session.set_kind("juggle")


@pytest.mark.hostile
def test_a_continued_run_is_held_against_its_earlier_rows_and_says_when_it_still_diverges(session) -> None:
    """The runner is given the rows the task logged before, so the window, like `deq-studio resume`, says when a run
    it continues is still diverging (a loaded run whose weights were wrecked)."""
    from engine.tasks.base import DivergenceError

    settings = short(session)
    task = session.open(sample_path("image.png"), settings)
    session.start(settings)
    best = min(row["loss"] for row in session.rows)
    session.rows = [{"step": row["step"], "loss": best / 1000} for row in session.rows]  # it once did far better
    with pytest.raises(DivergenceError, match="The resumed run is still diverging"):
        session.start(dataclasses.replace(settings, steps=10))
    assert task.step_count == 7  # the weights its first row (step 8) was measured on: nothing better is known


def test_the_session_keeps_every_kinds_settings(session) -> None:
    """Each kind's settings live in the session (the window's forms and controls edit them): a kind starts from its
    preview preset, an edit or a Start keeps what it was given, and a file of another medium resets the kinds on a
    file to that medium's settings."""
    from engine.config import ConfigError

    inverse = session.settings_of("inverse")
    assert inverse == session.starting_settings(task_kind("inverse"))
    edited = session.edit_settings("inverse", lambda s: dataclasses.replace(s, sigma=0.3))
    assert edited.sigma == 0.3 and session.settings_of("inverse") is edited
    with pytest.raises(ConfigError):
        session.edit_settings("inverse", lambda s: dataclasses.replace(s, sigma=-1.0))
    assert session.settings_of("inverse") is edited  # a refused edit changes nothing
    with pytest.raises(TypeError, match="InverseConfig"):
        session.set_settings("inverse", session.settings_of("fit"))
    short_image = short(session)
    session.open(sample_path("image.png"), short_image)
    assert session.settings_of("fit") == short_image
    session.start()  # with the fit's settings here
    assert session.task.step_count == short_image.steps
    session.open(sample_path("audio.wav"))  # another medium: its preview settings, for the duel too
    assert session.settings_of("fit") == session.starting_settings(session.kind, "audio")
    assert session.settings_of("duel").signal == session.settings_of("fit").signal
    assert session.settings_of("inverse") is edited  # kinds without a file keep theirs
