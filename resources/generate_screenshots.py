"""Generate the README's screenshots: the real window (offscreen) on the built-in samples, each task run briefly.

    python -m resources.generate_screenshots [NAME ...]      # writes resources/screenshots/<NAME>.png (default: all)
    .venv/bin/python resources/generate_screenshots.py --out FOLDER --steps 20 --width 480

Three pictures of the whole window at 1280×800, scaled to 960 pixels wide and stored as palette PNGs (about 50–65
KB each):
- `fit-an-image`: the built-in test picture fitted (target, reconstruction with the split line, |error|; loss and
  PSNR curves below);
- `restore-digits`: the JIIO race restoring noisy digits with the shipped MNIST prior, JIIO against Adam;
- `duel`: two networks fitting the built-in test picture side by side, and who won.

Each picture comes from a window of its own, as on a first launch, with its own temporary settings file (the user's
settings are untouched) and run folders in a temporary folder (nothing but the pictures is written into the
project). It runs the window's Quick preview settings, the fit and the duel with fewer steps (200 of 500), and fixed
seeds, so a rerun gives the same pictures but for the timings shown (speeds, seconds, the race's time axis). On two
idle CPU cores each picture takes 25–40 s, about 2 minutes in all (twice that while other jobs load the cores).

The race restores MNIST test digits: from $DEQ_STUDIO_DATA, else ../shared/data beside the project (an installed
bundle ships its own); where there are none, `restore-digits` is skipped with a note and its old picture kept.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("DEQ_STUDIO_DATA") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["DEQ_STUDIO_DATA"] = str(ROOT.parent / "shared" / "data")

OUT = ROOT / "resources" / "screenshots"
WINDOW = (1280, 800)
"""The window's size when it is grabbed, in pixels."""
WIDTH = 960
"""The stored pictures' width, in pixels (about the width GitHub shows a README's pictures at)."""
COLOURS = 256
"""Palette size of the stored PNGs. The palette is chosen by maximum coverage, then refined by k-means: median cut
merges a thin coloured curve into the grey around it, and maximum coverage alone tints the window's large grey
areas; so refined, a pixel is two levels off on average and hardly ever more than 20."""
STEPS = 200
"""Training steps of the fit and the duel (the Quick preview's 500 take minutes on a CPU; 200 show the picture
recognisably reconstructed), and the most solver iterations of each method in the race (its preview's 40)."""
SPLIT = 25
"""Where the image view's split line stands, in % of the width: the target left of it, the reconstruction right."""


@dataclasses.dataclass(frozen=True)
class Shot:
    """One picture: a task kind run on a built-in sample (or none) with settings changed from its Quick preview."""

    kind: str
    """The task kind (`engine.tasks.kinds`), as the toolbar's selector holds it."""
    sample: str | None
    """The built-in sample opened first (File ▸ Samples), or None: the digit tasks need no file."""
    changes: dict
    """Settings changed from the Quick preview's, by dotted field path (`jiio.iterations`)."""


def shots(steps: int = STEPS) -> dict[str, Shot]:
    """Each picture's name and what it runs: `steps` training steps, or at most that many solver iterations."""
    log_every = max(1, steps // 40)
    fit = {"steps": steps, "log_every": log_every, "eval_every": max(log_every, steps // 8)}
    race = {"count": 16, "sigma": 0.4, "adam_steps": min(40, steps), "jiio.iterations": min(40, steps)}
    return {"fit-an-image": Shot("fit", "image.png", fit),
            "restore-digits": Shot("inverse", None, race),
            "duel": Shot("duel", "image.png", fit)}


SHOTS = tuple(shots())
"""The pictures' names, in the README's order."""


def digits_found() -> bool:
    """Whether the MNIST test digits the race restores are where the application looks for them."""
    from engine.resources import bundled_dataset

    data = os.environ.get("DEQ_STUDIO_DATA")
    return bundled_dataset("mnist") is not None or bool(data and (Path(data) / "mnist").is_dir())


def seed(value: int = 0) -> None:
    """Seed every generator a run or a view may draw from (the tasks seed their own from their settings too)."""
    import numpy as np
    import torch

    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def wait(app, seconds: float) -> None:
    """Let the window handle its events for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def run(window, app, changes: dict, timeout_s: float = 600) -> None:
    """Start the window's task with `changes` to its settings and wait until it finishes."""
    form = window.forms[window.kind]
    from app.self_test import run_to_the_end
    from engine.config import with_paths

    form.set_config(with_paths(form.config(), changes))

    done = run_to_the_end(window, app, timeout_s)
    wait(app, 0.5)  # the last throttled preview
    if done != [True] or window.errors:
        raise RuntimeError(f"the {window.kind} run did not finish: {window.errors[-1:] or 'timed out'}")


def save(picture, path: Path, width: int) -> int:
    """Store a grabbed QPixmap `width` pixels wide as an optimized palette PNG; its size in bytes."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not picture.save(buffer, "PNG"):
        raise RuntimeError("the window's picture could not be encoded")
    image = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    image = image.quantize(COLOURS, method=Image.Quantize.MAXCOVERAGE, kmeans=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return path.stat().st_size


def shoot(app, name: str, shot: Shot, folder: Path):
    """Run `shot` in a fresh window (settings in `folder`) and grab the whole window."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from engine.resources import sample_path

    seed()
    window = MainWindow(QSettings(str(folder / f"{name}.ini"), QSettings.Format.IniFormat))
    try:
        window.jiio_controls.drawings_dir = folder / "drawings"
        window.resize(*WINDOW)
        window.show()
        wait(app, 0.2)
        if shot.sample and not window.open_file(sample_path(shot.sample)):
            raise RuntimeError(window.errors[-1])
        window.set_kind(shot.kind)
        window.apply_preset("preview")
        run(window, app, shot.changes)
        if shot.kind == "fit":
            window.views.view("image").split.setValue(SPLIT)
        window.statusBar().clearMessage()  # the status line itself stays: Finished, the step, the quality
        wait(app, 0.2)
        return window.grab()
    finally:
        window.controller.stop()
        window.controller.wait()
        window.close()
        window.deleteLater()
        wait(app, 0.1)


def main(out: Path = OUT, steps: int = STEPS, width: int = WIDTH, names: tuple[str, ...] = SHOTS) -> list[Path]:
    """Make the pictures `names` into the folder `out`, running `steps` steps each; the paths written."""
    from app.application import application

    app = application()
    out, plan, written = Path(out).resolve(), shots(steps), []
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # run folders stay out of the project
        try:
            for name in names:
                if plan[name].kind == "inverse" and not digits_found():
                    print(f"{name}: skipped (no MNIST digits found: set DEQ_STUDIO_DATA to a folder holding mnist/)")
                    continue
                began = time.monotonic()
                picture = shoot(app, name, plan[name], Path(tmp))
                path = out / f"{name}.png"
                size = save(picture, path, width)
                written.append(path)
                print(f"{name}.png: the window at {picture.width()}×{picture.height()}, stored {width} wide, "
                      f"{size / 1024:.0f} KB, {time.monotonic() - began:.0f} s")
        finally:
            os.chdir(here)
    return written


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"pictures to make (default: {' '.join(SHOTS)})")
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write into (default: resources/screenshots)")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"training steps of the fit and the duel, at most "
                        f"as many solver iterations in the race (default {STEPS})")
    parser.add_argument("--width", type=int, default=WIDTH, help=f"the pictures' width in pixels (default {WIDTH})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SHOTS))
    if unknown:
        parser.error(f"no picture called {', '.join(unknown)} (choose from {', '.join(SHOTS)})")
    if args.steps < 1 or args.width < 16:
        parser.error("--steps must be at least 1 and --width at least 16")
    return args


if __name__ == "__main__":
    args = arguments()
    main(args.out, args.steps, args.width, tuple(args.names) or SHOTS)
