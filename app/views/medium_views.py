"""The views of a fitted file, one per medium: the task's targets go to the view of their medium, and each new
reconstruction (or mesh preview) to the view on screen."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QStackedWidget, QWidget

from app.views.audio_view import AudioView
from app.views.image_view import ImageView
from app.views.mesh_view import MeshView
from app.views.video_view import VideoView
from engine.tasks.base import Targets


class MediumViews:
    """Image, audio, video and mesh views in `stack` (the mesh view is made on first use: it may create an OpenGL
    context)."""

    def __init__(self, stack: QStackedWidget) -> None:
        self.stack = stack
        self.image, self.audio, self.video = ImageView(), AudioView(), VideoView()
        self.mesh: MeshView | None = None
        for view in (self.image, self.audio, self.video):
            stack.addWidget(view)
        self._shown: np.ndarray | None = None

    def show_targets(self, targets: Targets) -> QWidget | None:
        """Put the ground truth into its medium's view and bring that view up; None when there is no medium."""
        signal = targets.arrays.get("signal")
        if targets.medium == "image":
            self.image.set_target(signal)
            view: QWidget = self.image
        elif targets.medium == "audio":
            self.audio.set_target(signal, targets.rate or 1.0)
            view = self.audio
        elif targets.medium == "video":
            self.video.set_target(signal, targets.rate)
            view = self.video
        elif targets.medium == "mesh":
            if self.mesh is None:
                self.mesh = MeshView()
                self.stack.addWidget(self.mesh)
            self.mesh.set_target(targets.arrays["vertices"], targets.arrays["faces"])
            view = self.mesh
        else:
            return None
        self._shown = None
        self.stack.setCurrentWidget(view)
        return view

    def show_previews(self, previews: dict[str, np.ndarray]) -> None:
        """The reconstruction in the view on screen, redrawn only when an evaluation made a new one; a mesh's slice
        and surface."""
        current = self.stack.currentWidget()
        reconstruction = previews.get("reconstruction")
        if current in (self.image, self.audio, self.video):
            if reconstruction is not None and reconstruction is not self._shown:
                current.set_reconstruction(reconstruction)
                self._shown = reconstruction
        elif self.mesh is not None and current is self.mesh:
            self.mesh.show_previews(previews)
