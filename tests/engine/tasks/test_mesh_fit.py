"""A mesh fit shows its reconstruction while it trains: every logged evaluation extracts a coarse surface, and the
slice of the field outlines the true surface; the export still uses the full marching-cubes resolution."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from engine.loop import run
from engine.presets import fit_preview
from engine.resources import sample_path
from engine.tasks import build_fit_task
from engine.tasks.mesh_fit import LIVE_RESOLUTION, OUTLINE_RGB


def test_logged_evaluations_carry_a_coarse_surface_and_an_outlined_slice(tmp_path) -> None:
    config = fit_preview("mesh", torch.device("cpu"))
    config = dataclasses.replace(config, steps=6, log_every=3, eval_every=3, batch_size=2048, eval_points=4096,
                                 mc_resolution=40, signal=dataclasses.replace(config.signal, mesh_points=10_000))
    task = build_fit_task(sample_path("mesh.ply"), config, torch.device("cpu"))
    resolutions: list[int | None] = []
    extract = task.extract_surface
    task.extract_surface = lambda resolution=None: resolutions.append(resolution) or extract(resolution)
    snapshots = list(run(task, config.steps, log_every=3, eval_every=3))
    assert [snap.step for snap in snapshots] == [1, 3, 6]
    assert resolutions == [LIVE_RESOLUTION, LIVE_RESOLUTION, None]  # coarse while training, mc_resolution at the end
    first = snapshots[0].previews
    assert first["faces"].shape[1] == 3 and len(first["faces"]) > 0
    assert np.abs(first["vertices"]).max() <= 1.0 + 1e-6  # interpolated between grid points in [−1, 1]: rounding
    outline = np.all(first["slice"] == OUTLINE_RGB, axis=2)
    assert first["slice"].shape == (128, 128, 3) and 0 < outline.mean() < 0.2
    assert (outline == task.slice_outline).all()  # exactly the true shape's boundary, nothing else orange
    final = snapshots[-1]
    assert final.final and final.previews["vertices"] is task.surface[0]
    assert task.export(tmp_path).stat().st_size > 0
    # the network file beside it gives back the same surface from the same grid, and a finer one from a finer grid
    from engine import cli
    from engine.fitted_network import load_network

    network = load_network(tmp_path / "network.safetensors")
    assert network.medium == "mesh" and network.shape == (40, 40, 40)
    vertices, faces = network.render()
    assert abs(len(faces) - len(task.surface[1])) <= 0.02 * len(faces)  # half-precision weights: a few triangles
    assert cli.main(["render", str(tmp_path), "--size", "72"]) == 0
    fine = tmp_path / "network-72grid.ply"
    assert fine.is_file() and fine.stat().st_size > (tmp_path / "reconstruction.ply").stat().st_size


def test_a_shape_with_holes_is_fitted_and_says_so(tmp_path) -> None:
    corners = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    quads = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5)]  # a box without its x = 1 side
    lines = [f"v {x} {y} {z}" for x, y, z in corners]
    lines += [f"f {a} {b} {c}\nf {a} {c} {d}" for a, b, c, d in quads]
    (tmp_path / "open-box.obj").write_text("\n".join(lines) + "\n")
    config = fit_preview("mesh", torch.device("cpu"))
    config = dataclasses.replace(config, eval_points=4096, mc_resolution=32,
                                 signal=dataclasses.replace(config.signal, mesh_points=5_000))
    task = build_fit_task(tmp_path / "open-box.obj", config, torch.device("cpu"))
    assert not task.mesh.watertight and "has holes" in task.describe()
    closed = build_fit_task(sample_path("mesh.ply"), config, torch.device("cpu"))
    assert closed.mesh.watertight and "holes" not in closed.describe()
