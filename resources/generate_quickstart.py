"""Generate the Quickstart's pictures: each task kind run briefly in the real window (offscreen), its view grabbed.

    python resources/generate_quickstart.py [NAME ...]    # writes resources/quickstart/<NAME>.jpg (default: all)

A fit of the built-in image and mesh samples, and the MNIST tasks on the digits of the data folder
($DEQ_STUDIO_DATA, else ../shared/data beside the project) with the built-in prior and classifier. Each run is short
(the window's Quick preview settings, fewer steps), so the pictures show a task under way, as a new user sees it.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("DEQ_STUDIO_DATA") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["DEQ_STUDIO_DATA"] = str(ROOT.parent / "shared" / "data")

OUT = ROOT / "resources" / "quickstart"
WIDTH = 520
"""Width of each picture, in pixels (the Quickstart window is about 620 wide)."""
WINDOW = (1200, 900)

RUNS = {
    "fit": ("fit", "image.png", {"steps": 80, "log_every": 10, "eval_every": 40}),
    "fit-mesh": ("fit", "mesh.ply", {"steps": 150, "log_every": 25, "eval_every": 75}),
    "duel": ("duel", "image.png", {"steps": 80, "log_every": 10, "eval_every": 40}),
    "restore": ("restore", "image.png", {"steps": 150, "log_every": 10, "eval_every": 50, "mask": "{tmp}/damage.png"}),
    "restore-sound": ("restore", "audio.wav", {"steps": 150, "log_every": 10, "eval_every": 50, "gap": "0.99:1.01"}),
    "train-prior": ("train-prior", None, {"steps": 6, "log_every": 2, "eval_every": 6}),
    "inverse": ("inverse", None, {"count": 16, "sigma": 0.4, "adam_steps": 10}),
    "attack": ("attack", None, {"count": 16}),
    "adv-train": ("adv-train", None, {"steps": 40, "log_every": 10, "eval_every": 40, "eval_images": 200}),
    "meta-train": ("meta-train", None, {"steps": 30, "log_every": 5, "eval_every": 30, "eval_episodes": 20}),
}
"""Picture name → (the task kind, the built-in sample it opens or None, settings; `{tmp}` is the run's folder)."""


def write_damage(path: Path, side: int = 128) -> None:
    """A mask of the built-in image's size: a few strokes and a box painted black (the damage a restore fills in)."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(mask)
    draw.line([(10, 20), (110, 60)], fill=0, width=5)
    draw.line([(20, 110), (100, 80)], fill=0, width=4)
    draw.rectangle([70, 90, 95, 115], fill=0)
    mask.save(path)


def save(picture, path: Path) -> None:
    """Write a QPixmap or QImage as a JPEG and say so."""
    if not picture.save(str(path), "JPG", 88):
        raise SystemExit(f"could not write {path}")
    print(f"{path.relative_to(ROOT)}: {picture.width()}×{picture.height()}, {path.stat().st_size // 1024} KB")


def render_picture(reconstruction, render_path: Path, crop: int = 40, scale: int = 4):
    """A corner of the fit's reconstruction enlarged pixel by pixel beside the same corner of the network rendered
    at `scale` times the size: what rendering at another size gives. A QImage."""
    import numpy as np
    from PIL import Image, ImageDraw
    from PySide6.QtGui import QImage

    top = (reconstruction.shape[0] - crop) // 2
    pixels = Image.fromarray(np.asarray(reconstruction)[top:top + crop, top:top + crop].squeeze())
    with Image.open(render_path) as render:
        rendered = render.crop((top * scale, top * scale, (top + crop) * scale, (top + crop) * scale))
        side = crop * scale
        sheet = Image.new("RGB", (2 * side + 12, side + 24), (32, 32, 32))
        sheet.paste(pixels.resize((side, side), Image.NEAREST).convert("RGB"), (0, 24))
        sheet.paste(rendered.convert("RGB"), (side + 12, 24))
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 5), "the fit's pixels, enlarged", fill=(230, 230, 230))
    draw.text((side + 16, 5), f"the network rendered at {scale}x the size", fill=(230, 230, 230))
    data = np.ascontiguousarray(np.asarray(sheet))
    return QImage(data.data, data.shape[1], data.shape[0], 3 * data.shape[1], QImage.Format.Format_RGB888).copy()


def run(window, app, changes: dict) -> None:
    """Start the window's task with `changes` to its settings and wait until it finishes."""
    form = window.forms[window.kind]
    form.set_config(dataclasses.replace(form.config(), **changes))
    done: list[bool] = []
    window.controller.finished.connect(done.append)
    window.start()
    deadline = time.monotonic() + 600
    while not done and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.controller.finished.disconnect(done.append)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:  # the last throttled preview
        app.processEvents()
        time.sleep(0.01)
    if not done or window.errors:
        raise SystemExit(f"the {window.kind} run did not finish: {window.errors[-1:] or 'timed out'}")


def main() -> None:
    from PySide6.QtCore import QSettings, Qt

    from app.application import application
    from app.main_window import MainWindow
    from engine.resources import sample_path

    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # run folders and drawings stay out of the project
        window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(*WINDOW)
        window.show()
        OUT.mkdir(exist_ok=True)
        write_damage(Path(tmp) / "damage.png")
        for name, (kind, sample, changes) in RUNS.items():
            if sys.argv[1:] and name not in sys.argv[1:]:
                continue
            changes = {key: value.format(tmp=tmp) if isinstance(value, str) else value
                       for key, value in changes.items()}
            if sample:
                window.set_kind("fit")
                if not window.open_file(sample_path(sample)):
                    raise SystemExit(window.errors[-1])
            window.set_kind(kind)
            window.apply_preset("preview")
            run(window, app, changes)
            if kind == "restore" and sample == "audio.wav":  # the gap shown where it was selected
                view = window.views.currentWidget()
                (start, end), middle = view.gap(), sum(view.gap()) / 2
                view.wave_plot.setXRange(middle - 4 * (end - start), middle + 4 * (end - start), padding=0)
                app.processEvents()
            picture = window.views.grab().scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
            save(picture, OUT / f"{name}.jpg")
            if name == "fit":  # what the network weighs, as the status bar says it; a render at 4 times the size
                save(window.kept.grab(), OUT / "fit-kept.jpg")
                window.render_to(Path(tmp) / "render.png", scale=4.0)
                save(render_picture(window.task.reconstruction, Path(tmp) / "render.png"), OUT / "fit-render.jpg")
        window.close()


if __name__ == "__main__":
    main()
