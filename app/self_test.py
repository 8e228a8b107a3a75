"""`deq-studio --self-test [--screenshot FILE]`: prove the desktop build works, with or without a display.

Builds the main window, opens the built-in image sample, trains ~20 steps through the real worker thread, checks
that snapshots arrived and that the PSNR rose, optionally saves a screenshot of the window, and returns 0 (or 1 with
the reason on stderr). It says how long after the process started the window was shown and the sample opened.
Uses the offscreen platform when no display is available.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

SELF_TEST_STEPS = 20


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("win32", "darwin")


def ensure_platform() -> None:
    """Fall back to Qt's offscreen platform where there is no display."""
    if not os.environ.get("QT_QPA_PLATFORM") and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def self_test(screenshot: str | None = None, timeout_s: float = 300.0) -> int:
    ensure_platform()
    from PySide6.QtCore import QSettings

    from app.application import application, splash_screen

    app = application()
    splash = splash_screen()  # as the real launch does: painted before PyTorch is imported
    splash_s = seconds_since_launch()
    from app.main_window import MainWindow
    from app.views.audio_view import output_device_problem
    from engine.resources import sample_path

    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "deq-studio-self-test.ini"),
                         QSettings.Format.IniFormat)
    settings.clear()  # the same starting settings every time
    window = MainWindow(settings)
    window.form.set_config(dataclasses.replace(window.form.config(), steps=SELF_TEST_STEPS, log_every=2,
                                               eval_every=SELF_TEST_STEPS))
    window.show()
    splash.close()
    app.processEvents()
    shown_s = seconds_since_launch()
    if not window.open_file(sample_path("image.png")):
        return fail(f"could not open the built-in image: {window.errors[-1]}")
    opened_s = seconds_since_launch()
    rows: list[dict] = []
    window.controller.row.connect(rows.append)
    done: list[bool] = []
    window.controller.finished.connect(done.append)
    window.start()
    deadline = time.monotonic() + timeout_s
    while not done and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()
    if not done:
        window.controller.stop()
        window.controller.wait()
        return fail(f"the run did not finish within {timeout_s:.0f} s")
    if window.errors:
        return fail(window.errors[-1])
    if window.controller.snapshots_received < 3:
        return fail(f"only {window.controller.snapshots_received} snapshots arrived")
    first, last = rows[0]["psnr_train"], rows[-1]["psnr_train"]
    if not last > first:
        return fail(f"PSNR did not rise ({first:.2f} → {last:.2f} dB)")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(screenshot)):
            return fail(f"could not save the screenshot to {screenshot}")
    print(f"audio playback: {output_device_problem() or 'ready'}")  # says whether PortAudio loaded
    print(f"self-test passed: splash screen {splash_s:.2f} s, window shown {shown_s:.2f} s after launch, "
          f"sample open at {opened_s:.2f} s, "
          f"{window.task.step_count} steps, {window.controller.snapshots_received} snapshots, "
          f"PSNR {first:.2f} → {last:.2f} dB" + (f", screenshot {screenshot}" if screenshot else ""))
    window.close()
    return 0


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
