"""The mesh view: the shape in 3D (OpenGL, or a software renderer where OpenGL is missing) beside the network's
field on the slice z = 0 (occupancy probability or signed distance).

The 3D panel shows the target, the reconstruction (a coarse marching-cubes surface at every logged evaluation, the
full-resolution one at the end) or both side by side, as the Show box says; the slice outlines the true surface in
orange. Drag to rotate. The software renderer is a painter's-algorithm flat shader
on QPainter: slower than OpenGL, but it works on any platform, offscreen included.
"""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPolygonF
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.views.race_view import ImagePanel, room_for_two_lines
from app.views.registry import register_view
from engine.tasks.base import Targets

MAX_SOFTWARE_FACES = 10_000
SHOW = {"both": "Target and reconstruction", "reconstruction": "Reconstruction", "target": "Target"}
"""What the 3D panel can show."""


def side_by_side(left: tuple[np.ndarray, np.ndarray], right: tuple[np.ndarray, np.ndarray], gap: float = 0.25
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Two meshes in [−1, 1]³ as one, `left` moved left of the origin and `right` to its right, scaled to fit
    where one mesh fits."""
    (lv, lf), (rv, rf) = left, right
    shift = 1.0 + gap / 2
    vertices = np.concatenate([lv - [shift, 0, 0], rv + [shift, 0, 0]]) / ((shift + 1.0) / 1.1)
    faces = np.concatenate([np.asarray(lf, np.int64), np.asarray(rf, np.int64) + len(lv)])
    return vertices.astype(np.float32), faces


def upright(vertices: np.ndarray) -> np.ndarray:
    """Vertices with y up (as meshes are stored) in a z-up world (pyqtgraph's OpenGL view): (x, y, z) ↦ (x, −z, y),
    a rotation, so the mesh's front (+z) faces a camera on the −y side."""
    vertices = np.asarray(vertices, np.float32)
    return np.stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]], axis=1)


LIGHT = np.array([0.3, 0.5, 0.8]) / np.linalg.norm([0.3, 0.5, 0.8])


def opengl_available() -> bool:
    """A real OpenGL context can be made here (not on the offscreen platform, not when told to avoid it)."""
    if os.environ.get("DEQ_STUDIO_SOFTWARE_3D") or os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    try:
        import pyqtgraph.opengl  # noqa: F401
    except ImportError:
        return False
    return True


def rotation(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    about_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    about_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return about_x @ about_y


class SoftwareMeshCanvas(QWidget):
    """Flat-shaded triangles drawn back to front with QPainter; drag to rotate."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.vertices = np.zeros((0, 3), np.float32)
        self.faces = np.zeros((0, 3), np.int64)
        self.yaw, self.pitch = 0.6, -0.4
        self._drag: QPointF | None = None

    def set_mesh(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        from engine.media.mesh import simplify_quickly

        # no holes, and fast enough for the window's thread (the target may have 500,000 triangles)
        vertices, faces = simplify_quickly(vertices, np.asarray(faces, np.int64), MAX_SOFTWARE_FACES)
        self.vertices, self.faces = np.asarray(vertices, np.float32), faces
        self.update()

    def render_image(self, width: int, height: int) -> QImage:
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("#202020"))
        painter = QPainter(image)
        self._paint(painter, width, height)
        painter.end()
        return image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        self._paint(painter, self.width(), self.height())
        painter.end()

    def _paint(self, painter: QPainter, width: int, height: int) -> None:
        if not len(self.faces):
            return
        points = self.vertices @ rotation(self.yaw, self.pitch).T  # (V, 3), camera looks along −z
        tri = points[self.faces]  # (F, 3, 3)
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        shade = np.clip(np.abs(normals @ LIGHT), 0.15, 1.0)
        order = np.argsort(tri[:, :, 2].mean(axis=1))  # far (small z) first
        scale = 0.5 * min(width, height) / 1.0
        cx, cy = width / 2, height / 2
        painter.setPen(Qt.PenStyle.NoPen)
        for index in order:
            level = int(60 + 180 * shade[index])
            painter.setBrush(QColor(level, int(level * 0.85), int(level * 0.6)))
            corners = tri[index]
            painter.drawPolygon(QPolygonF([QPointF(cx + scale * x, cy - scale * y) for x, y, _ in corners]))

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self._drag = event.position()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.rotate(delta.x() * 0.01, delta.y() * 0.01)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self._drag = None

    def rotate(self, d_yaw: float, d_pitch: float) -> None:
        self.yaw += d_yaw
        self.pitch = float(np.clip(self.pitch + d_pitch, -1.5, 1.5))
        self.update()


class OpenGLMeshCanvas(QWidget):
    """pyqtgraph's GLViewWidget with one shaded GLMeshItem (orbit with the mouse)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph.opengl as gl

        self.gl = gl
        self.view = gl.GLViewWidget()
        # pyqtgraph's z is up: meshes (y up) are turned to stand (`upright`) and seen from the front, their +x to
        # the right (so the target, moved to −x, is on the left as the title says)
        self.view.setCameraPosition(distance=3.4, elevation=15, azimuth=-90)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.item = None

    def set_mesh(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        if self.item is not None:
            self.view.removeItem(self.item)
        data = self.gl.MeshData(vertexes=upright(vertices), faces=np.asarray(faces, np.int32))
        self.item = self.gl.GLMeshItem(meshdata=data, smooth=False, shader="shaded", color=(0.9, 0.75, 0.5, 1.0))
        self.view.addItem(self.item)

    def render_image(self, width: int, height: int) -> QImage:
        return self.view.grabFramebuffer().scaled(width, height)


@register_view("mesh")
class MeshView(QWidget):
    """3D shape | field slice; `software` forces the fallback renderer."""

    def __init__(self, software: bool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        use_gl = opengl_available() if software is None else not software
        self.canvas = OpenGLMeshCanvas() if use_gl else SoftwareMeshCanvas()
        self.renderer = "opengl" if use_gl else "software"
        self.title = QLabel("Target mesh")
        self.show_box = QComboBox()
        for key, text in SHOW.items():
            self.show_box.addItem(text, key)
        self.show_box.setToolTip("What the 3D panel shows (the reconstruction appears at the first evaluation)")
        self.show_box.currentIndexChanged.connect(lambda _: self._render())
        self.slice_panel = ImagePanel("Field on the slice z = 0 (true surface in orange)", colour_map="CET-L1",
                                      colour_bar=(0.0, 1.0, "inside (white) · outside (black)"))
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(QLabel("Show"))
        header.addWidget(self.show_box)
        self.title.setWordWrap(True)  # a long title wraps; it never widens the window
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        room_for_two_lines(self.title)
        room_for_two_lines(self.slice_panel.title)
        layout = QGridLayout(self)
        layout.addLayout(header, 0, 0)
        layout.addWidget(self.canvas, 1, 0)
        layout.addWidget(self.slice_panel, 0, 1, 2, 1)
        layout.setRowStretch(1, 1)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 2)
        self.target = None
        self.reconstruction = None

    def show_target(self, targets: Targets) -> None:
        self.set_target(targets.arrays["vertices"], targets.arrays["faces"])

    def set_target(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        self.target, self.reconstruction = (vertices, faces), None
        self._render()

    def set_showing(self, key: str) -> None:
        """Show the target, the reconstruction or both (keys of SHOW)."""
        self.show_box.setCurrentIndex(self.show_box.findData(key))

    def _render(self) -> None:
        """The 3D panel as the Show box says; the target alone until there is a reconstruction."""
        if self.target is None:
            return
        key = self.show_box.currentData()
        target, reconstruction = self.target, self.reconstruction
        if reconstruction is None or key == "target":
            mesh, what = target, f"Target mesh ({len(target[1])} triangles"
        elif key == "reconstruction":
            mesh, what = reconstruction, f"Reconstruction ({len(reconstruction[1])} triangles"
        else:
            mesh = side_by_side(target, reconstruction)
            what = f"Target | reconstruction ({len(target[1])} | {len(reconstruction[1])} triangles"
        if reconstruction is None and key != "target":
            what += "; the reconstruction appears at the first evaluation"
        self.title.setText(f"{what}, {self.renderer} view)")
        self.canvas.set_mesh(*mesh)

    def show_previews(self, previews: dict) -> None:
        """The slice and the marching-cubes mesh of a snapshot; unchanged arrays (same objects) are not redrawn."""
        if "slice" in previews and previews["slice"] is not self.slice_panel.image:
            self.slice_panel.set_image(previews["slice"])
        if "vertices" in previews and "faces" in previews and (
                self.reconstruction is None or previews["vertices"] is not self.reconstruction[0]):
            self.reconstruction = (previews["vertices"], previews["faces"])
            self._render()
