"""The JIIO views' controls wired to the settings: the race's noise slider and mask painter, the attack's ε slider
and digit canvas. The views only emit what the user chose; this puts it into the inverse and attack panels (for
their next run), saves drawings, reads the drawn digit with the classifier and starts an attack on it."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from app.drawings import save_gray_png
from app.views.attack_view import confidence_text
from engine.config import ConfigError
from engine.models.mdeq.digit_reader import DigitReader


class JIIOControls:
    """Connects `window`'s race and attack controls; `sync()` moves the sliders to the panels' values."""

    def __init__(self, window) -> None:
        self.window = window
        self.drawings_dir = Path(platformdirs.user_data_dir("deq-studio")) / "drawings"
        """Where painted masks and drawn digits are saved (the settings name the files)."""
        self.shown_mask: str | None = None
        """The mask file the race's painter shows."""
        self.digit_reader = DigitReader()
        race, attack = window.views.view("race").controls, window.views.view("attack").controls
        race.sigma_changed.connect(lambda sigma: self.update("inverse", sigma=sigma, corruption="noise"))
        race.mask_painted.connect(self.use_painted_mask)
        attack.epsilon_changed.connect(self.set_epsilon)
        attack.digit_drawn.connect(self.classify_drawing)
        attack.attack_digit.connect(self.attack_drawing)

    def sync(self) -> None:
        """The sliders show the settings' σ and ε (which may have been typed in the panel), and the painter the mask
        the settings use (a mask painted in an earlier session is shown again, not a blank canvas)."""
        panel = self.window.panel
        try:
            inverse = panel.settings_of("inverse")
            self.window.views.view("race").controls.sigma.show_value(inverse.sigma)
            self.window.views.view("attack").controls.epsilon.show_value(panel.settings_of("attack").attack.epsilon)
        except ConfigError:
            return  # an entry being typed; the panel marks it
        if inverse.corruption == "mask" and inverse.mask and inverse.mask != self.shown_mask:
            self.show_mask(Path(inverse.mask))

    def show_mask(self, path: Path) -> None:
        """Put the mask file at `path` on the painter (a 28×28 grey PNG; one that cannot be read leaves it as it is:
        the run itself says what is wrong with it)."""
        from PIL import Image

        from engine.media import SignalError
        from engine.media.image import read_gray_image

        painter = self.window.views.view("race").controls.painter
        try:
            pixels = read_gray_image(path, painter.pixels.shape, Image.NEAREST)  # as the run reads it (read_mask)
        except SignalError:
            return
        painter.set_pixels(pixels)
        self.shown_mask = str(path)

    def edit(self, kind: str, change: Callable[[Any], Any]) -> None:
        """Apply `change` to a panel's settings (they take effect with its next run)."""
        try:
            self.window.panel.edit_settings(kind, change)
        except ConfigError as exc:
            self.window.report_error(f"Settings: {exc}")

    def update(self, kind: str, **changes) -> None:
        self.edit(kind, lambda config: dataclasses.replace(config, **changes))

    def set_epsilon(self, epsilon: float) -> None:
        self.edit("attack", lambda config: dataclasses.replace(
            config, attack=dataclasses.replace(config.attack, epsilon=epsilon)))

    def _save(self, pixels: np.ndarray, name: str) -> Path | None:
        try:
            return save_gray_png(pixels, self.drawings_dir / name)
        except OSError as exc:
            self.window.report_error(f"Could not save the drawing: {exc}")
            return None

    def use_painted_mask(self, pixels: np.ndarray) -> None:
        """The inverse task restores the digits with the painted mask (dark = missing)."""
        missing = int((pixels < 128).sum())
        if not missing:
            self.window.report_error("The mask is empty: paint the pixels to hide first.")
            return
        path = self._save(pixels, "mask.png")
        if path is not None:
            self.shown_mask = str(path)
            self.update("inverse", corruption="mask", mask=str(path))
            self.window.statusBar().showMessage(f"Inpainting with the painted mask ({missing} pixels missing); "
                                                "press Start", 8000)

    def classify_drawing(self, pixels: np.ndarray) -> np.ndarray | None:
        """The classifier's class probabilities for the drawn digit, shown under the canvas."""
        from engine.model_store import ModelFileError

        label = self.window.views.view("attack").controls.prediction
        if pixels.max() == 0:
            label.setText("The classifier's guess appears here.")
            return None
        try:
            probabilities = self.digit_reader.probabilities(pixels, self.window.panel.settings_of("attack").classifier)
        except (ConfigError, ModelFileError, OSError, ValueError) as exc:
            self.window.report_error(f"Could not classify the drawing: {exc}")
            return None
        label.setText(f"Classifier: {confidence_text(probabilities)}")
        return probabilities

    def attack_drawing(self, pixels: np.ndarray) -> None:
        """Run the attack on the drawn digit (labelled with the classifier's guess)."""
        if pixels.max() == 0:
            self.window.report_error("Draw a digit first.")
            return
        path = self._save(pixels, "digit.png")
        if path is None:
            return
        if self.window.kind != "attack":
            self.window.set_kind("attack")
        try:
            before = self.window.panel.settings_of("attack")
        except ConfigError as exc:
            self.window.report_error(f"Settings: {exc}")
            return
        self.update("attack", image=str(path), label=None)
        self.window.start()
        self.update("attack", image=before.image, label=before.label)  # the next Start attacks the digits again
