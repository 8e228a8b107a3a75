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
    assert np.abs(first["vertices"]).max() <= 1.0 + 1e-6
    outline = np.all(first["slice"] == OUTLINE_RGB, axis=2)
    assert first["slice"].shape == (128, 128, 3) and 0 < outline.mean() < 0.2
    assert (outline == task.slice_outline).all()  # exactly the true shape's boundary, nothing else orange
    final = snapshots[-1]
    assert final.final and final.previews["vertices"] is task.surface[0]
    assert task.export(tmp_path).stat().st_size > 0
