"""The mesh view: the software renderer offscreen, the OpenGL one under Xvfb, and a mesh sample in the window."""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PySide6")

from app.views.mesh_view import MeshView, SoftwareMeshCanvas  # noqa: E402
from bench.shared_data import PROJECT_ROOT  # noqa: E402




def tetrahedron() -> tuple[np.ndarray, np.ndarray]:
    vertices = np.array([[0.5, 0.5, 0.5], [-0.5, -0.5, 0.5], [-0.5, 0.5, -0.5], [0.5, -0.5, -0.5]], np.float32)
    faces = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]], np.int32)
    return vertices, faces


def test_software_renderer_draws_and_rotates(qtbot) -> None:
    canvas = SoftwareMeshCanvas()
    qtbot.addWidget(canvas)
    canvas.set_mesh(*tetrahedron())
    first = canvas.render_image(160, 160)
    lit = sum(first.pixelColor(x, y).red() > 40 for x in range(0, 160, 4) for y in range(0, 160, 4))
    assert lit > 100  # the shape covers a good part of the picture
    canvas.rotate(1.0, 0.3)
    second = canvas.render_image(160, 160)
    assert first != second


def test_mesh_view_falls_back_offscreen(qtbot) -> None:
    view = MeshView()
    qtbot.addWidget(view)
    assert view.renderer == "software"
    view.set_target(*tetrahedron())
    assert view.title.text().startswith("Target mesh (4 triangles") and "first evaluation" in view.title.text()
    assert len(view.canvas.vertices) == 4
    view.show_previews({"slice": np.zeros((32, 32, 3), np.uint8), "vertices": tetrahedron()[0] * 0.5,
                        "faces": tetrahedron()[1]})
    assert view.reconstruction is not None and view.title.text().startswith("Target | reconstruction (4 | 4")
    assert len(view.canvas.vertices) == 8 and np.abs(view.canvas.vertices).max() <= 1.1
    view.set_showing("reconstruction")
    assert view.title.text().startswith("Reconstruction (4 triangles") and len(view.canvas.vertices) == 4
    view.set_showing("target")
    assert view.title.text().startswith("Target mesh") and "first evaluation" not in view.title.text()


@pytest.mark.slow
def test_mesh_sample_opens_and_trains_in_the_window(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from engine.resources import sample_path

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.forms["fit"].set_config(dataclasses.replace(window.forms["fit"].config(), steps=2, log_every=1,
                                                       eval_every=2, batch_size=4096, mc_resolution=32,
                                                       eval_points=4096))
    assert window.open_file(sample_path("mesh.ply"))
    assert window.views.currentWidget() is window.views.view("mesh")
    with qtbot.waitSignal(window.controller.finished, timeout=120_000) as done:
        window.start()
    assert done.args == [True] and not window.errors
    qtbot.waitUntil(lambda: window.views.view("mesh").slice_panel.image is not None, timeout=5_000)


@pytest.mark.gl
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs xvfb-run (Debian: xvfb xauth)")
def test_opengl_view_renders_under_xvfb(tmp_path) -> None:
    script = tmp_path / "gl_probe.py"
    script.write_text(
        "import sys, numpy as np\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.views.mesh_view import MeshView\n"
        "app = QApplication([])\n"
        "view = MeshView(software=False)\n"
        "view.resize(400, 300); view.show()\n"
        "v = np.array([[0.5,0.5,0.5],[-0.5,-0.5,0.5],[-0.5,0.5,-0.5],[0.5,-0.5,-0.5]], np.float32)\n"
        "f = np.array([[0,1,2],[0,3,1],[0,2,3],[1,3,2]], np.int32)\n"
        "view.set_target(v, f)\n"
        "for _ in range(20): app.processEvents()\n"
        "image = view.canvas.view.grabFramebuffer()\n"
        "colors = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}\n"
        "print('renderer', view.renderer, 'colors', len(colors))\n"
        "sys.exit(0 if view.renderer == 'opengl' and len(colors) > 2 else 3)\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("DEQ_STUDIO_SOFTWARE_3D", None)
    result = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, str(script)],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
