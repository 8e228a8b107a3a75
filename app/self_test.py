"""`deq-studio --self-test [--screenshot FILE]`: prove the desktop build works, with or without a display.

Starts the main window from a settings file a previous session left (a window opened on a temporary file, a few
things changed, closed) and checks that they came back, opens the built-in image sample, trains ~20 steps through
the real worker thread, checks that snapshots arrived and that the PSNR rose, optionally saves a screenshot of the
window, and last starts a window on that file with one value damaged, which must be set aside. Returns 0 (or 1 with
the reason on stderr). It says how long after the process started the window was shown and the sample opened (the
previous session's window not counted). Uses the offscreen platform when no display is available.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

SELF_TEST_STEPS = 20
PREVIOUS_SIGMA = 0.3
"""The inverse task's noise level the previous session leaves (its default is another)."""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("win32", "darwin")


def ensure_platform() -> None:
    """Fall back to Qt's offscreen platform where there is no display."""
    if not os.environ.get("QT_QPA_PLATFORM") and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def self_test(screenshot: str | None = None, timeout_s: float = 300.0) -> int:
    ensure_platform()
    with tempfile.TemporaryDirectory(prefix="deq-studio-self-test-", ignore_cleanup_errors=True) as folder:
        return run_self_test(Path(folder) / "DEQ Studio.conf", screenshot, timeout_s)


def run_self_test(settings_file: Path, screenshot: str | None, timeout_s: float) -> int:
    """The self-test with its settings in `settings_file` (in a temporary folder)."""
    from app.application import application, splash_screen

    app = application()
    splash = splash_screen()  # as the real launch does: painted before PyTorch is imported
    splash_s = seconds_since_launch()
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.views.audio_view import output_device_problem
    from engine.resources import sample_path

    previous_s = previous_session(settings_file)
    window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    problem = restore_problem(window)
    if problem:
        return fail(problem)
    fit = window.forms["fit"]
    fit.set_config(dataclasses.replace(fit.config(), steps=SELF_TEST_STEPS, log_every=2, eval_every=SELF_TEST_STEPS))
    window.show()
    splash.close()
    app.processEvents()
    shown_s = seconds_since_launch() - previous_s
    if not window.open_file(sample_path("image.png")):
        return fail(f"could not open the built-in image: {window.errors[-1]}")
    opened_s = seconds_since_launch() - previous_s
    rows: list[dict] = []
    window.controller.row.connect(rows.append)
    problem = train(window, app, timeout_s)
    if problem:
        return fail(problem)
    first, last = rows[0]["psnr_train"], rows[-1]["psnr_train"]
    if not last > first:
        return fail(f"PSNR did not rise ({first:.2f} → {last:.2f} dB)")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(screenshot)):
            return fail(f"could not save the screenshot to {screenshot}")
    window.close()
    window.settings.sync()
    problem = set_aside_problem(settings_file)
    if problem:
        return fail(problem)
    print(f"audio playback: {output_device_problem() or 'ready'}")  # says whether PortAudio loaded
    print(f"self-test passed: splash screen {splash_s:.2f} s, window shown {shown_s:.2f} s after launch, "
          f"sample open at {opened_s:.2f} s (a previous session's window {previous_s:.2f} s not counted), "
          f"{window.task.step_count} steps, {window.controller.snapshots_received} snapshots, "
          f"PSNR {first:.2f} → {last:.2f} dB, the previous session's settings restored, a damaged settings file "
          f"set aside" + (f", screenshot {screenshot}" if screenshot else ""))
    return 0


def previous_session(settings_file: Path) -> float:
    """Leave `settings_file` as a previous session of the window would: a window opened on it, the inverse task
    chosen with another noise level, the image sample among the recent files, closed (so it saves its geometry and
    every panel). Returns the seconds this took."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from engine.resources import sample_path

    began = time.perf_counter()
    window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    window.set_kind("inverse")
    window.form.set_config(dataclasses.replace(window.form.config(), sigma=PREVIOUS_SIGMA))
    window.recent.remember(sample_path("image.png"))
    window.close()
    window.settings.sync()
    window.deleteLater()
    return time.perf_counter() - began


def restore_problem(window) -> str | None:
    """What of the previous session's settings did not come back into `window` (None when all did)."""
    from engine.resources import sample_path

    restored = {"warnings": window.warnings, "task": window.kind, "noise": window.forms["inverse"].config().sigma,
                "recent": window.recent.entries()[:1]}
    expected = {"warnings": [], "task": "inverse", "noise": PREVIOUS_SIGMA,
                "recent": [str(sample_path("image.png").resolve())]}
    wrong = [name for name in expected if restored[name] != expected[name]]
    return (f"the previous session's settings did not come back ({', '.join(wrong)}: {restored})" if wrong
            else None)


def run_to_the_end(window, app, timeout_s: float) -> list[bool]:
    """Press Start and let the event loop run until the run ends or `timeout_s` passes: what `finished` said
    ([True] when every step was done, [] on the timeout)."""
    done: list[bool] = []
    window.controller.finished.connect(done.append)
    window.start()
    deadline = time.monotonic() + timeout_s
    while not done and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.controller.finished.disconnect(done.append)
    return done


def train(window, app, timeout_s: float) -> str | None:
    """Train the opened sample through the worker thread; what went wrong (None when nothing did)."""
    done = run_to_the_end(window, app, timeout_s)
    for _ in range(5):
        app.processEvents()
    if not done:
        window.controller.stop()
        window.controller.wait()
        return f"the run did not finish within {timeout_s:.0f} s"
    if window.errors:
        return window.errors[-1]
    if window.controller.snapshots_received < 3:
        return f"only {window.controller.snapshots_received} snapshots arrived"
    return None


def set_aside_problem(settings_file: Path) -> str | None:
    """Damage one value of `settings_file` and start a window on it: the file must be set aside beside itself and
    the window open with its defaults, saying so (None when all this happened)."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    damaged = QSettings(str(settings_file), QSettings.Format.IniFormat)
    damaged.setValue("geometry", "not a window's geometry")
    damaged.sync()
    window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    aside = list(settings_file.parent.glob(f"{settings_file.name}.unreadable-*"))
    window.close()
    window.settings.sync()
    window.deleteLater()
    if len(aside) != 1 or not window.warnings or str(aside[0]) not in window.warnings[-1] or window.kind != "fit":
        return f"a damaged settings file was not set aside ({window.warnings or 'no notice'})"
    return None


def seconds_since_launch() -> float:
    """Wall time since this process started (the bundle's launcher and the interpreter are the same process)."""
    try:  # Linux: the process's start and the uptime both count from boot, to the hundredth of a second
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as uptime:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            return float(uptime.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil  # elsewhere: the start time to the second

        return time.time() - psutil.Process().create_time()


def fail(reason: str) -> int:
    print(f"deq-studio self-test failed: {reason}", file=sys.stderr)
    return 1
