"""Quitting the real application (its own event loop, in a process of its own) while a run is in progress: the
process ends within seconds of the answer, and a run that was saved into a run folder is saved there again."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")

from tests.conftest import PROJECT_ROOT  # noqa: E402

SCRIPT = r"""
import dataclasses, sys, time
from PySide6.QtCore import QSettings, Qt, QTimer
from app.application import application
from app.main import run_gui

app, state = application(), {}
folder = sys.argv[2] if len(sys.argv) > 2 else None

def window():
    return next((w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"), None)

def start():  # once the window has opened its sample (the splash screen runs the event loop before)
    w = window()
    if w is None or w.task is None:
        return QTimer.singleShot(100, start)
    w.confirm_quit = lambda: True
    if folder:  # a first short run, saved into its folder; the long run continues that task
        w.form.set_config(dataclasses.replace(w.form.config(), steps=3))
        w.controller.finished.connect(lambda completed: saved_then_long(w), type=Qt.ConnectionType.SingleShotConnection)
        w.start()
    else:
        long_run(w)

def saved_then_long(w):
    w.save_snapshot(folder)
    QTimer.singleShot(0, lambda: long_run(w))

def long_run(w):
    w.form.set_config(dataclasses.replace(w.form.config(), steps=100_000))
    w.start()
    state["from"] = w.controller.snapshots_received
    QTimer.singleShot(100, close)

def close():
    w = window()
    if w.controller.snapshots_received < state["from"] + 2:
        return QTimer.singleShot(100, close)
    state["asked"] = time.perf_counter()
    w.close()

QTimer.singleShot(0, start)
QTimer.singleShot(60_000, lambda: app.exit(3))
code = run_gui(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
print(f"exit {code} after {time.perf_counter() - state['asked']:.2f} s")
"""


def quit_during_a_run(tmp_path, *folder: str) -> tuple[int, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "settings.ini"), *folder], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    words = done.stdout.split()
    assert done.returncode == 0 and "exit" in words, done.stdout + done.stderr
    return int(words[words.index("exit") + 1]), float(words[words.index("after") + 1])


def test_quit_during_a_run_ends_the_process(tmp_path) -> None:
    code, seconds = quit_during_a_run(tmp_path)
    assert code == 0 and seconds < 5.0  # not left running with its window hidden


def test_quit_during_a_run_saves_a_run_that_has_a_folder(tmp_path) -> None:
    folder = tmp_path / "kept"
    code, seconds = quit_during_a_run(tmp_path, str(folder))
    assert code == 0 and seconds < 5.0
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] > 3 and (folder / "checkpoint.pt").is_file()  # saved again on the way out
