"""A restore's damage painted on the picture: what the image view's painter marks becomes the restore's mask (a
black-and-white PNG among the app's drawings, black where damaged, at the size of the picture file), and a mask
chosen in the settings is shown on the picture. The view only emits what was painted; this keeps the settings."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from app.drawings import save_gray_png
from engine.config import ConfigError


class RestoreControls:
    """Connects the image view's damage painter to the restore's settings; `sync()` after the kind or file changes."""

    def __init__(self, window) -> None:
        self.window = window
        self.view = window.views.view("image")
        self.view.damage_painted.connect(self.use_painted_damage)

    @property
    def drawings_dir(self) -> Path:
        """Where painted masks are saved (the settings name the file): beside the JIIO views' drawings."""
        return self.window.jiio_controls.drawings_dir

    def painting(self) -> bool:
        """Whether the damage can be painted now: a restore of an opened picture."""
        window = self.window
        return window.kind == "restore" and window.path is not None and window.session.fit_medium == "image"

    def sync(self) -> None:
        """Offer the painter for a restore of a picture, showing the damage the settings' mask marks."""
        available = self.painting()
        self.view.set_damage_painting(available, self.settings_damage() if available else None)

    def settings_damage(self) -> np.ndarray | None:
        """The settings' mask as damage on the picture shown (True where black), as the restore reads it; None when
        no mask is set or it cannot be read at the picture's size (Start then says what is wrong with it)."""
        from engine.media import SignalError
        from engine.media.image import decoded, read_gray_image

        target = self.view.target
        try:
            mask = self.window.panel.settings_of("restore").mask
            if not mask or target is None or decoded(Path(mask)).size != decoded(self.window.path).size:
                return None
            return read_gray_image(mask, target.shape[:2], Image.NEAREST) < 128
        except (ConfigError, SignalError, OSError):
            return None

    def use_painted_damage(self, damage: np.ndarray) -> None:
        """The painted damage becomes the restore's mask: saved at the picture file's size (the picture may be read
        smaller), named after the picture; an empty one clears the setting."""
        from engine.media import SignalError
        from engine.media.image import decoded

        window = self.window
        mask = ""
        if damage.any():
            try:
                width, height = decoded(window.path).size
                pixels = Image.fromarray(np.where(damage, 0, 255).astype(np.uint8)).resize((width, height),
                                                                                           Image.NEAREST)
                mask = str(save_gray_png(np.asarray(pixels), self.drawings_dir / f"damage-{window.path.stem}.png"))
            except (OSError, SignalError) as exc:
                window.report_error(f"Could not save the painted damage: {exc}")
                return
        try:
            window.panel.edit_settings("restore", lambda config: dataclasses.replace(config, mask=mask))
        except ConfigError as exc:
            window.report_error(f"Settings: {exc}")
            return
        share = 100 * float(damage.mean())
        window.statusBar().showMessage(f"{share:.1f}% of the picture marked as damaged: press Start to restore it"
                                       if mask else "No damage marked: paint over what is missing", 8000)
