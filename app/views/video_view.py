"""The video view: target | reconstruction frames side by side with a frame scrubber and Play.

Frames arrive as uint8 (T, H, W, C); the reconstruction appears at evaluations (video re-solves are costly).

For a restore the view offers "Mark lost" (`set_frame_marking`): the frame shown is lost, and marking another
extends the lost stretch to it; `frames_marked` says which (FIRST, LAST from 1), None when cleared.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from app.views.image_view import ImageView
from app.views.registry import ReconstructionPreviews, register_view
from engine.tasks.base import Targets


@register_view("video")
class VideoView(ReconstructionPreviews, QWidget):
    """An ImageView on one frame, a slider over frames and a play button."""

    frames_marked = Signal(object)
    """(first, last), numbered from 1, after frames are marked lost; None when cleared."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frames = ImageView()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.show_frame)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the frames (the training run is paused with Run ▸ Pause)")
        self.frame_label = QLabel("frame –")
        self.frame_label.setMinimumWidth(150)
        self.play_button.toggled.connect(self._play)
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.slider.setValue((self.slider.value() + 1) % max(1, self.count)))
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.frame_label)
        self.mark_lost = QPushButton("Mark lost")
        self.mark_lost.setToolTip("This frame is lost (a restore fills it in); marking another frame extends the "
                                  "lost stretch to it")
        self.mark_lost.clicked.connect(self._mark_lost)
        self.clear_lost = QPushButton("Clear lost")
        self.clear_lost.clicked.connect(lambda: self._set_lost(None))
        self.lost: tuple[int, int] | None = None
        """The frames marked lost, (first, last) from 1."""
        for widget in (self.mark_lost, self.clear_lost):
            controls.addWidget(widget)
            widget.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.frames, 1)
        layout.addLayout(controls)
        self.hint_anchor = self.frames.canvas
        """Where the window's start hint goes: over the frames, clear of the sliders and Play."""
        self.target: np.ndarray | None = None
        self.reconstruction: np.ndarray | None = None
        self.count, self.fps = 0, 25.0

    def show_target(self, targets: Targets) -> None:
        self.set_target(targets.arrays["signal"], targets.rate)

    def set_target(self, frames: np.ndarray, fps: float | None) -> None:
        self.target, self.reconstruction = frames, None
        self.count, self.fps = len(frames), fps or 25.0
        self.slider.setRange(0, max(0, self.count - 1))
        self.frames.set_target(frames[0])
        self.show_frame(self.slider.value())

    def set_reconstruction(self, frames: np.ndarray) -> None:
        self.reconstruction = frames
        self.show_frame(self.slider.value())

    def show_frame(self, index: int) -> None:
        if self.target is None:
            return
        index = min(index, self.count - 1)
        lost = self.lost is not None and self.lost[0] <= index + 1 <= self.lost[1] and self.mark_lost.isVisibleTo(self)
        self.frame_label.setText(f"frame {index + 1} / {self.count}" + (" · lost" if lost else ""))
        self.frames.target = self.target[index]
        self.frames.items[0].setImage(self.target[index], levels=(0, 255))
        if self.reconstruction is not None and len(self.reconstruction) == self.count:
            self.frames.set_reconstruction(self.reconstruction[index])

    def set_frame_marking(self, available: bool, lost: tuple[int, int] | None = None) -> None:
        """Offer marking lost frames (a restore of a video) with `lost` marked, or take the offer away."""
        for widget in (self.mark_lost, self.clear_lost):
            widget.setVisible(available)
        self.lost = lost if available else None
        self.show_frame(self.slider.value())

    def _mark_lost(self) -> None:
        frame = self.slider.value() + 1
        first, last = self.lost or (frame, frame)
        self._set_lost((min(first, frame), max(last, frame)))

    def _set_lost(self, lost: tuple[int, int] | None) -> None:
        self.lost = lost
        self.show_frame(self.slider.value())
        self.frames_marked.emit(lost)

    def _play(self, on: bool) -> None:
        self.play_button.setText("Stop playback" if on else "Play")
        if on:
            self.timer.start(int(1000 / self.fps))
        else:
            self.timer.stop()
