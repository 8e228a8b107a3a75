"""Measure how the window behaves while it trains: event-loop latency and training speed against headless.

    python -m app.responsiveness headless [--steps N]   the fit loop alone, as the CLI runs it
    python -m app.responsiveness gui [--steps N] [--no-probe]
                                                        the same fit through the window's worker thread, with a
                                                        10 ms QTimer measuring the event loop's lateness (or
                                                        without it, for the training speed alone)

Each prints one JSON object. Run them as separate fresh processes (like the app and the CLI): the test does, and
reports steps/s of both, their ratio (target ≥ 0.9) and the p99 lateness (target < 50 ms).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

STEPS = 150


def fit_config(steps: int):
    import torch

    from engine.presets import fit_preview

    return dataclasses.replace(fit_preview("image", torch.device("cpu")), steps=steps, log_every=2,
                               eval_every=steps, device="cpu")


def headless(steps: int) -> dict:
    import torch

    from engine.loop import run
    from engine.resources import sample_path
    from engine.tasks import build_fit_task

    task = build_fit_task(sample_path("image.png"), fit_config(steps), torch.device("cpu"))
    start = time.perf_counter()
    for _ in run(task, steps, log_every=2, eval_every=steps):
        pass
    return {"steps_per_s": steps / (time.perf_counter() - start)}


def gui(steps: int, probe: bool = True) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

    from app.application import application
    from app.main_window import MainWindow
    from engine.resources import sample_path

    app = application()
    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "deq-studio-responsiveness.ini"),
                         QSettings.Format.IniFormat)
    settings.clear()  # the same starting settings every time
    window = MainWindow(settings)
    window.show()
    window.forms["fit"].set_config(dataclasses.replace(fit_config(steps), device="auto"))
    if not window.open_file(sample_path("image.png")):
        raise SystemExit(window.errors[-1])
    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.controller.finished.connect(lambda _: loop.quit())
    if probe:
        timer.start()
    start = time.perf_counter()
    window.start()
    loop.exec()
    seconds = time.perf_counter() - start
    timer.stop()
    report = {"steps_per_s": steps / seconds, "steps": window.task.step_count, "errors": window.errors,
              "snapshots": window.controller.snapshots_received, "ticks": len(lateness),
              "event_loop_p99_ms": float(np.percentile(lateness, 99)) if lateness else None,
              "event_loop_max_ms": max(lateness) if lateness else None}
    window.close()
    app.processEvents()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["headless", "gui"])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--no-probe", action="store_true", help="gui: train without the 10 ms latency timer")
    args = parser.parse_args(argv)
    print(json.dumps(headless(args.steps) if args.mode == "headless" else gui(args.steps, not args.no_probe)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
