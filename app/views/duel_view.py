"""The duel view: two networks on the same file, side by side — the target, each network's reconstruction and its
error, and under each network's name its step time, step memory and PSNR as training goes.

Pictures: an image as itself, a video by its middle frame, a sound by its spectrogram. Errors are heat maps on one
fixed scale for both sides (|target − reconstruction| per pixel; for a sound the spectrogram of the residual, in dB
below the target's peak), so the darker side is the better one. The curves of both sides overlay in the curves view
(one coloured line per network).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.panels.plain_names import network_name
from app.views.audio_view import spectrogram, stft_magnitude
from app.views.image_view import ERROR_RANGE, absolute_error
from app.views.race_view import ImagePanel
from app.views.registry import register_view
from engine.tasks.duel import split_row, standing, standing_text

FLOOR_DB = -80.0
"""A sound's spectrograms span this many dB below the target's peak (0–255 in the panels)."""


def picture(array: np.ndarray) -> np.ndarray:
    """What a panel shows of a medium's array: an image as is, a video's middle frame, a sound's spectrogram."""
    if array.dtype == np.uint8 and array.ndim == 4:
        return array[len(array) // 2]
    if array.dtype == np.uint8:
        return array
    db = spectrogram(np.asarray(array, dtype=np.float32).reshape(-1))
    return np.clip((db - FLOOR_DB) / -FLOOR_DB * 255, 0, 255).astype(np.uint8)[::-1]


def error_picture(target: np.ndarray, reconstruction: np.ndarray, reference: float | None = None) -> np.ndarray:
    """The error as a uint8 heat map: |error| of pixels on 0–ERROR_RANGE levels, or for a sound the residual's
    spectrogram in dB below `reference` (the target's peak magnitude)."""
    if target.dtype == np.uint8:
        if target.ndim == 4:
            target, reconstruction = picture(target), picture(reconstruction)
        error = absolute_error(target, reconstruction)
        return np.clip(error / ERROR_RANGE * 255, 0, 255).astype(np.uint8)
    residual = np.asarray(target, np.float32).reshape(-1) - np.asarray(reconstruction, np.float32).reshape(-1)
    magnitude = stft_magnitude(residual).T
    db = 20 * np.log10(magnitude / (reference or magnitude.max() or 1.0) + 1e-9)
    return np.clip((db - FLOOR_DB) / -FLOOR_DB * 255, 0, 255).astype(np.uint8)[::-1]


def side_summary(name: str, scalars: dict[str, float]) -> str:
    """`name` and the latest step time, step memory and PSNR of that side."""
    parts = [f"<b>{network_name(name)}</b> ({name})"]
    if "ms_per_step" in scalars:
        parts.append(f"{scalars['ms_per_step']:.0f} ms/step")
    if "memory_mb" in scalars:
        parts.append(f"{scalars['memory_mb']:.1f} MB/step")
    if "psnr_train" in scalars:
        parts.append(f"PSNR {scalars['psnr_train']:.2f} dB")
    if "psnr_test" in scalars:
        parts.append(f"held-out {scalars['psnr_test']:.2f} dB")
    return " · ".join(part.replace(" dB", "&nbsp;dB").replace("PSNR ", "PSNR&nbsp;") for part in parts)


@register_view("duel")
class DuelView(QWidget):
    """Target | first network | second network, reconstructions above their errors, stats under each name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.target = ImagePanel("Target")
        self.grid.addWidget(self.target, 1, 0)
        self.legend = QLabel("Errors: dark is good (the same scale on both sides). Curves: one colour per network.")
        self.legend.setWordWrap(True)
        self.grid.addWidget(self.legend, 2, 0)
        self.verdict = QLabel("")
        """Who leads on the score that decides the duel (held-out PSNR under the generalize protocol), and by how much."""
        self.verdict.setWordWrap(True)
        self.grid.addWidget(self.verdict, 3, 0, 1, 3)
        self.hint_anchor = self.target
        """Where the window's start hint goes: over the target, never over the caption or the verdict."""
        self.sides: dict[str, dict] = {}
        self.scalars: dict[str, dict[str, float]] = {}
        self.pixels = True
        """Whether the file is an image or a video (else a sound): what the error panels' colour bars say."""

    def clear(self) -> None:
        for side in self.sides.values():
            for widget in side.values():
                self.grid.removeWidget(widget)
                widget.hide()
                widget.deleteLater()
        self.sides.clear()
        self.scalars.clear()
        self.target.reset()
        self.verdict.setText("")

    def _side(self, name: str) -> dict:
        if name not in self.sides:
            column = len(self.sides) + 1
            bar = (0.0, ERROR_RANGE / 255, "|error| (0–1 scale)") if self.pixels else (FLOOR_DB, 0.0, "dB")
            plain = network_name(name)
            side = {"label": QLabel(f"<b>{plain}</b> ({name})"), "picture": ImagePanel(f"{plain}: reconstruction"),
                    "error": ImagePanel(f"{plain}: |error|" if self.pixels else f"{plain}: residual spectrogram",
                                        colour_map="inferno", colour_bar=bar)}
            side["label"].setWordWrap(True)
            self.grid.addWidget(side["label"], 0, column)
            self.grid.addWidget(side["picture"], 1, column)
            self.grid.addWidget(side["error"], 2, column)
            self.sides[name] = side
        return self.sides[name]

    def show_snapshot(self, previews: dict, scalars: dict, final: bool = False) -> None:
        """Both sides' pictures and latest numbers; who leads (or, once `final`, after the last step, who won)."""
        target = previews.get("target")
        if target is not None and (target.dtype == np.uint8) != self.pixels:
            self.clear()  # another medium: the error panels change their scale
            self.pixels = target.dtype == np.uint8
        for name, row in split_row(scalars).items():
            self.scalars.setdefault(name, {}).update(row)
            self._side(name)["label"].setText(side_summary(name, self.scalars[name]))
        text = standing_text(standing(self.scalars), finished=final, named=network_name)
        if text:
            self.verdict.setText(f"<b>{text}</b>")
        if target is None:
            return
        self.target.set_image(picture(target))
        reference = None if target.dtype == np.uint8 else float(stft_magnitude(np.ravel(target)).max())
        for name, array in previews.items():
            if name == "target" or not isinstance(array, np.ndarray):
                continue
            side = self._side(name)
            side["picture"].set_image(picture(array))
            side["error"].set_image(error_picture(target, array, reference))
