"""File ▸ Render at another size…: the fitted network is a continuous function, so a picture renders at any size,
a sound at any sample rate, a video at any frame rate. One question for the grid, then where to save it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

GRID_QUESTIONS = {
    "image": ("Render at another size", "Each side times (2 = twice as wide and twice as tall):", "scale", 2.0,
              0.05, 32.0, 2),
    "audio": ("Render at another sample rate", "Samples per second (Hz):", "rate", None, 100.0, 384_000.0, 0),
    "video": ("Render at another frame rate", "Frames per second:", "rate", None, 1.0, 240.0, 2),
}
"""Per medium: the dialog's title and question, the setting it gives (`Session.render`), its first value (None:
twice the fitted rate), its range and decimals."""


def ask_grid(parent: QWidget, medium: str, rate: float | None) -> dict[str, float] | None:
    """The render's grid as `Session.render` takes it ({"scale": 2.0} or {"rate": 32000.0}); None when cancelled."""
    title, question, key, first, low, high, decimals = GRID_QUESTIONS[medium]
    value, ok = QInputDialog.getDouble(parent, title, question, first if first is not None else 2 * (rate or 1.0),
                                       low, high, decimals)
    return {key: value} if ok else None


def ask_render_path(parent: QWidget, suggested: Path) -> Path | None:
    """Where to save the render (the suggestion: named after its grid, in the last folder used); None when
    cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save the render", str(suggested),
                                          f"{suggested.suffix[1:].upper()} (*{suggested.suffix})")
    return Path(path) if path else None
