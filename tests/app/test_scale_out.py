"""Runs beyond the window: a 2-process adv-train started from the window and watched live, a finished run folder
attached, and the cluster commands of the panel's settings."""
from __future__ import annotations

import dataclasses
import shlex

import pytest

from engine import cli
from engine.tasks.kinds import task_kind


def small(window) -> None:
    form = window.forms["adv-train"]
    form.set_config(dataclasses.replace(form.config(), steps=50, batch_size=8, channels=(4, 8), attack="none",
                                        eval_images=16, log_every=5, eval_every=25))


@pytest.mark.slow
def test_a_two_process_run_started_here_is_watched_to_its_end(window, qtbot, data_dir, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    window.set_kind("adv-train")
    small(window)
    out = window.scale_out.launch(2, tmp_path)
    assert out is not None and out.parent == tmp_path and window.scale_out.watching
    qtbot.waitUntil(lambda: window.scale_out.process is None, timeout=300_000)
    assert window.errors == [] and window.phase == "Finished"
    watcher = window.scale_out.watcher
    assert watcher.record["task"] == "adv-train" and watcher.rows == 11  # step 1, every 5th, the last
    assert window.curves.runs[-1]["name"].endswith("(watched)") and len(window.curves.runs[-1]["rows"]) == 11
    assert window.views.currentWidget() is window.views.view("grid") and (out / "classifier.safetensors").is_file()
    assert window.progress.value() == 50 and "Finished" in window.status.text()


def test_a_finished_run_folder_attaches_with_its_curves_and_previews(window, qtbot, data_dir, monkeypatch,
                                                                      tmp_path) -> None:
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    run = tmp_path / "run"
    assert cli.main(["adv-train", "--steps", "4", "--batch-size", "8", "--channels", "4", "8", "--attack", "none",
                     "--eval-images", "16", "--log-every", "2", "--device", "cpu", "--out", str(run)]) == 0
    window.set_kind("meta-train")
    assert window.scale_out.attach(run)
    qtbot.waitUntil(lambda: window.scale_out.watcher.rows == 3, timeout=5_000)
    assert window.kind == "adv-train" and window.views.currentWidget() is window.views.view("grid")
    assert window.phase == "Watching" and not window.hint.isVisible()
    assert window.forms["adv-train"].config().channels == (4, 8)  # the run's settings in the panel
    qtbot.waitUntil(lambda: "step 4/4" in window.status.text(), timeout=5_000)
    window.scale_out.stop()
    assert not window.scale_out.watching and window.errors == []


def test_cluster_commands_hold_the_panel_settings(window) -> None:
    window.set_kind("adv-train")
    small(window)
    text = window.scale_out.cluster_text(nodes=2, per_node=4)
    torchrun = next(line for line in text.splitlines() if line.startswith("torchrun"))
    words = shlex.split(torchrun.replace("$HEAD_NODE", "head"))
    assert words[:3] == ["torchrun", "--nnodes=2", "--nproc-per-node=4"]
    task = words[words.index("engine.cli") + 1:]
    rebuilt, _ = cli.settings(task_kind("adv-train"), cli.build_parser().parse_args(task))
    assert rebuilt == dataclasses.replace(window.forms["adv-train"].config(), device="auto")
    assert "srun --nodes=2" in text


def test_tasks_that_do_not_run_in_several_processes_say_so(window, tmp_path) -> None:
    window.set_kind("inverse")
    assert window.scale_out.launch(2, tmp_path) is None
    assert "does not run in several processes" in window.errors[-1]


def test_a_batch_that_does_not_split_is_refused_before_any_folder_is_made(window, tmp_path) -> None:
    window.set_kind("adv-train")
    small(window)  # a batch of 8
    assert window.scale_out.launch(3, tmp_path) is None
    assert "does not split evenly over 3 processes" in window.errors[-1]
    assert list(tmp_path.iterdir()) == [] and window.scale_out.process is None
