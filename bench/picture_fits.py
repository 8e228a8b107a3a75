"""Fitting a picture in this process, for the render and compression tables: a numpy picture written as a PNG and
fitted by DEQ Studio's own `FitTask` (the `represent` protocol, every pixel), with its scores."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.shared_data import shared_data_dir  # noqa: E402
from engine.config import FitConfig, ModelConfig  # noqa: E402
from engine.media import load_signal, write_image  # noqa: E402
from engine.tasks.fit import FitTask  # noqa: E402


SECTIONS = ("audio", "video")
"""The parts of a table that a run with `--media audio` or `--media video` writes beside the pictures' rows."""


def read_rgb(path: Path) -> np.ndarray:
    """A picture file as uint8 (H, W, 3)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def resized(picture: np.ndarray, width: int, height: int, method=Image.BICUBIC) -> np.ndarray:
    """Pillow's resize (antialiased when shrinking) of a uint8 picture."""
    return np.asarray(Image.fromarray(picture).resize((width, height), method))


def fit_picture(picture: np.ndarray, model: str, width: int, steps: int, lr: float = 1e-3, seed: int = 0,
                device: str = "cpu") -> tuple[FitTask, float]:
    """`picture` fitted by `model` at `width` for `steps` full-batch steps; the task (evaluated) and its seconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "picture.png"
        write_image(path, picture)
        config = FitConfig(model=ModelConfig(model=model, width=width), protocol="represent", steps=steps,
                           log_every=steps, lr=lr, seed=seed, device=device)
        task = FitTask(config, load_signal(path, config.signal), torch.device(device))
    start = time.perf_counter()
    for _ in range(steps):
        task.step()
    seconds = time.perf_counter() - start
    task.evaluate(final=True)
    return task, seconds


def table_arguments(description: str, models: list[str], steps: int) -> argparse.ArgumentParser:
    """The options every picture table takes: --images, --models, --steps, --threads, --write."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=None, help="names in the real data's images/ (default: 8)")
    parser.add_argument("--models", nargs="+", default=models)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", default="", help="also write PREFIX.json")
    parser.add_argument("--media", nargs="+", choices=("pictures",) + SECTIONS, default=["pictures"],
                        help="which rows to run: the Kodak pictures, the two sounds, the video (each its own part "
                        "of PREFIX.json)")
    return parser


def kodak_pictures(names: list[str] | None, count: int = 8) -> Iterator[tuple[str, np.ndarray]]:
    """(name, picture) of the real data's Kodak 256² set: `names`, else the first `count`."""
    folder = shared_data_dir() / "images"
    for name in names or sorted(path.stem for path in folder.glob("*.png"))[:count]:
        yield name, read_rgb(folder / f"{name}.png")


def table_row(rows: list[dict], row: dict) -> None:
    """Add `row` to `rows` and show it on stderr as it comes."""
    rows.append(row)
    print(json.dumps(row), file=sys.stderr, flush=True)


def finish_table(args, protocol: str, rows: list[dict], section: str | None = None, **extra) -> dict:
    """The table (the run's device, threads and steps, `protocol` in words, the rows and `extra`) printed as JSON,
    and written to `args.write`.json when given: as its pictures' part, or as its `section` ("audio", "video"),
    keeping the other parts a run before wrote there."""
    table = {"device": "cpu", "threads": args.threads, "steps": args.steps, **extra, "protocol": protocol,
             "rows": rows}
    print(json.dumps(table, indent=1))
    if args.write:
        path = Path(f"{args.write}.json")
        before = json.loads(path.read_text()) if path.is_file() else {}
        if section is None:
            whole = {**table, **{name: part for name, part in before.items() if name in SECTIONS}}
        else:
            whole = {**before, section: table}
        path.write_text(json.dumps(whole, indent=1) + "\n")
    return table


def mean_of(rows: list[dict], key: str, **match) -> float:
    """The mean of `key` over the rows matching every `match`, to 3 decimals."""
    return round(float(np.mean([row[key] for row in rows if all(row[k] == v for k, v in match.items())])), 3)
