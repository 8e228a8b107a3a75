"""A restore's damage marked where the file is shown: painted on a picture (the restore's mask: a black-and-white PNG
among the app's drawings, black where damaged, at the size of the picture file), selected on a sound's waveform (its
gap, in seconds of the file), marked on a video's frames (its lost frames). What the settings already mark is shown
there. The views only emit what was marked; this keeps the settings."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from app.drawings import save_gray_png
from engine.config import ConfigError


class RestoreControls:
    """Connects the views' damage markers to the restore's settings; `sync()` after the kind or file changes."""

    def __init__(self, window) -> None:
        self.window = window
        self.view = window.views.view("image")
        self.view.damage_painted.connect(self.use_painted_damage)
        self.audio, self.video = window.views.view("audio"), window.views.view("video")
        self.audio.gap_selected.connect(self.use_gap)
        self.video.frames_marked.connect(self.use_frames)

    @property
    def drawings_dir(self) -> Path:
        """Where painted masks are saved (the settings name the file): beside the JIIO views' drawings."""
        return self.window.jiio_controls.drawings_dir

    def marking(self) -> str | None:
        """The medium whose damage can be marked now (a restore of an opened file), else None."""
        window = self.window
        return window.session.fit_medium if window.kind == "restore" and window.path is not None else None

    def sync(self) -> None:
        """Offer marking the damage in the view of a restore's file, showing what the settings mark."""
        medium = self.marking()
        self.view.set_damage_painting(medium == "image", self.settings_damage() if medium == "image" else None)
        self.audio.set_gap_selection(medium == "audio", self.settings_span("gap") if medium == "audio" else None)
        self.video.set_frame_marking(medium == "video", self.settings_span("frames") if medium == "video" else None)

    def settings_span(self, field: str) -> tuple | None:
        """The settings' gap in seconds of the clip shown (the file's, less Audio start s), or their lost frames;
        None when none is set or it does not read."""
        from engine.config import span_of

        try:
            settings = self.window.panel.settings_of("restore")
            text = getattr(settings, field)
            if not text:
                return None
            if field == "frames":
                return span_of(text, field, int)
            offset = settings.signal.audio_start_s
            return tuple(seconds - offset for seconds in span_of(text, field, float))
        except ConfigError:
            return None

    def use_gap(self, gap: tuple[float, float] | None) -> None:
        """The selected gap (seconds of the clip shown) becomes the restore's, in seconds of the file."""
        def change(config):
            offset = config.signal.audio_start_s
            return dataclasses.replace(config, gap="" if gap is None else
                                       f"{max(gap[0], 0.0) + offset:.4f}:{gap[1] + offset:.4f}")
        if self._edit(change):
            self.window.statusBar().showMessage(
                f"The gap: {gap[1] - gap[0]:.3f} s from {gap[0]:.3f} s: press Start to fill it in" if gap else
                "No gap marked: press Select the gap", 8000)

    def use_frames(self, lost: tuple[int, int] | None) -> None:
        """The frames marked lost become the restore's."""
        if self._edit(lambda config: dataclasses.replace(config, frames="" if lost is None else f"{lost[0]}:{lost[1]}")):
            self.window.statusBar().showMessage(
                f"Frames {lost[0]}–{lost[1]} lost: press Start to fill them in" if lost else
                "No frame marked lost: press Mark lost on a frame", 8000)

    def _edit(self, change) -> bool:
        try:
            self.window.panel.edit_settings("restore", change)
        except ConfigError as exc:
            self.window.report_error(f"Settings: {exc}")
            return False
        return True

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
        if not self._edit(lambda config: dataclasses.replace(config, mask=mask)):
            return
        share = 100 * float(damage.mean())
        window.statusBar().showMessage(f"{share:.1f}% of the picture marked as damaged: press Start to restore it"
                                       if mask else "No damage marked: paint over what is missing", 8000)
