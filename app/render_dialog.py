"""File ▸ Render at another size…: the fitted network is a continuous function, so a picture renders at any size,
a sound at any sample rate, a video at any frame rate. One question for the grid, then where to save it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

GRID_QUESTIONS = {
    "image": ("Render at another size", "Each side times (2 = twice as wide and twice as tall):", "scale", 0.05, 32.0,
              2),
    "audio": ("Render at another sample rate", "Samples per second (Hz):", "rate", 100.0, 384_000.0, 0),
    "video": ("Render at another frame rate", "Frames per second:", "rate", 1.0, 240.0, 2),
    "mesh": ("Render the surface from another grid", "Marching-cubes grid, points per side (finer is smoother and "
             "slower):", "size", 8.0, 320.0, 0),
}
"""Per medium: the dialog's title and question, the setting it gives (`Session.render`), its range and decimals. It
starts at twice the fitted grid: a scale of 2, twice the rate, twice the points per side."""


def ask_grid(parent: QWidget, network) -> dict[str, float] | None:
    """The grid to render `network` (a `FittedNetwork`) on, as `Session.render` takes it ({"scale": 2.0},
    {"rate": 32000.0} or {"size": 128}); None when cancelled."""
    title, question, key, low, high, decimals = GRID_QUESTIONS[network.medium]
    first = {"scale": 2.0, "rate": 2 * (network.rate or 1.0), "size": 2 * network.shape[0]}[key]
    if key == "size":
        question = f"{question} The fit's: {network.shape[0]}."
    value, ok = QInputDialog.getDouble(parent, title, question, min(first, high), low, high, decimals)
    return {key: int(value) if key == "size" else value} if ok else None


def ask_render_path(parent: QWidget, suggested: Path) -> Path | None:
    """Where to save the render (the suggestion: named after its grid, in the last folder used); None when
    cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save the render", str(suggested),
                                          f"{suggested.suffix[1:].upper()} (*{suggested.suffix})")
    return Path(path) if path else None
