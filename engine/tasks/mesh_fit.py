"""Fitting a 3D shape with an INR: occupancy (BCE on logits) or signed distance (L1), minibatches (SPEC 2.4).

Training points: a fixed pool of `mesh_points` points, half uniform in [−1, 1]³ and half near the surface, labelled
once by Open3D's RaycastingScene; each step draws a minibatch from the pool. Logged evaluations score IoU on 65,536
uniform and 65,536 near-surface points and extract a coarse live surface (marching cubes on a 32³ grid, about a
fifth of an evaluation's cost) and the field on the slice z = 0 with the true surface outlined; the final one scores
`eval_points` of each, extracts the surface at `mc_resolution` and measures the Chamfer distance to the true one.
"""
from __future__ import annotations

from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from engine.config import FitConfig
from engine.metrics import chamfer_distance, iou
from engine.fitted_network import NETWORK_FILE, FittedNetwork, save_network
from engine.media import MeshSignal, SignalError, grid_coords, write_mesh
from engine.media.mesh import sample_surface
from engine.tasks.base import Snapshot, Targets
from engine.presets import resolve_fit_config
from engine.tasks.inr_training import INRTask, INRTraining, solve_summary

LOGGED_EVAL_POINTS = 1 << 16
CHAMFER_POINTS = 100_000
LIVE_RESOLUTION = 32
"""Marching-cubes grid of the surface shown while training (the final export uses mc_resolution)."""
SLICE_RESOLUTION = 128
OUTLINE_RGB = (255, 140, 0)
"""The true surface's outline on the slice image."""


class MeshFitTask(INRTask):
    """Fit a mesh's occupancy or signed distance."""

    def __init__(self, config: FitConfig, mesh: MeshSignal, device: torch.device) -> None:
        self.config = resolve_fit_config(config, mesh.medium)
        self.mesh = mesh
        self.device = device
        self.sdf = self.config.mesh_target == "sdf"
        rng = np.random.default_rng(self.config.seed)
        points, _ = mesh.sample(self.config.signal.mesh_points, self.config.signal.mesh_near_sigma, rng)
        self.train_x = torch.from_numpy(points).to(device)
        self.train_y = torch.from_numpy(self._labels(points)).unsqueeze(1).to(device)
        eval_rng = np.random.default_rng(self.config.seed + 1000)
        n = self.config.eval_points
        self.eval_uniform = eval_rng.uniform(-1.0, 1.0, size=(n, 3)).astype(np.float32)
        self.eval_near = mesh.near_points(n, self.config.signal.mesh_near_sigma, eval_rng)
        self.inside_uniform = mesh.occupancy(self.eval_uniform) > 0.5
        self.inside_near = mesh.occupancy(self.eval_near) > 0.5
        self.training = INRTraining(self.config, 3, 1, len(self.train_x), device)
        self.surface: tuple[np.ndarray, np.ndarray] | None = None
        """The final (mc_resolution) reconstruction."""
        self.live_surface: tuple[np.ndarray, np.ndarray] | None = None
        """The coarse surface of the latest logged evaluation."""
        self.slice_image: np.ndarray | None = None
        self.slice_outline = self._true_outline(SLICE_RESOLUTION)

    def describe(self) -> str:
        holes = "" if self.mesh.watertight else (" — note: the shape has holes (it is not watertight), so inside and "
                                                 "outside are guessed by ray votes near them")
        return f"Fitting {self.mesh.source} ({self.mesh.describe()}) with {self.config.model.model}{holes}"

    def targets(self) -> Targets:
        return Targets("mesh", {"vertices": self.mesh.vertices, "faces": self.mesh.faces})

    def _labels(self, points: np.ndarray) -> np.ndarray:
        return self.mesh.signed_distance(points) if self.sdf else self.mesh.occupancy(points)

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        if self.sdf:
            return F.l1_loss(pred, target)
        return F.binary_cross_entropy_with_logits(pred, target)

    def _inside(self, points: np.ndarray) -> tuple[Tensor, list]:
        self.model.eval()
        pred, stats = self.model.predict(torch.from_numpy(points).to(self.device))
        return (pred[:, 0] < 0 if self.sdf else pred[:, 0] > 0).cpu(), stats

    def evaluate(self, final: bool = False) -> dict[str, float]:
        """IoU on uniform and near-surface points (all of them when final, else the first 65,536); the final
        evaluation also extracts the surface and measures the Chamfer distance."""
        n = len(self.eval_uniform) if final else min(LOGGED_EVAL_POINTS, len(self.eval_uniform))
        inside_u, stats_u = self._inside(self.eval_uniform[:n])
        inside_n, stats_n = self._inside(self.eval_near[:n])
        row = {"iou_uniform": iou(inside_u, torch.from_numpy(self.inside_uniform[:n])),
               "iou_near": iou(inside_n, torch.from_numpy(self.inside_near[:n])), **solve_summary(stats_u + stats_n)}
        self.slice_image = self._slice()
        if not final:
            try:
                self.live_surface = self.extract_surface(LIVE_RESOLUTION)
            except SignalError:  # no surface crosses the level yet
                self.live_surface = None
        if final:
            try:
                self.surface = self.extract_surface()
                row["chamfer"] = self.chamfer()
            except SignalError:
                self.surface = None
        return row

    def final_evaluation_weight(self) -> float:
        """The points the final evaluation predicts (all evaluation points, the slice, the surface at mc_resolution)
        over those of an ordinary one (the first LOGGED_EVAL_POINTS, the slice, the live surface)."""
        n = len(self.eval_uniform)
        ordinary = 2 * min(LOGGED_EVAL_POINTS, n) + SLICE_RESOLUTION ** 2 + LIVE_RESOLUTION ** 3
        return (2 * n + SLICE_RESOLUTION ** 2 + self.config.mc_resolution ** 3) / ordinary

    @staticmethod
    def _slice_points(resolution: int) -> Tensor:
        grid = grid_coords((resolution, resolution))
        return torch.cat([grid, torch.zeros(len(grid), 1)], dim=1)

    def _true_outline(self, resolution: int) -> np.ndarray:
        """Pixels of the slice z = 0 where the true shape's inside meets its outside: (R, R) bool."""
        inside = self.mesh.occupancy(self._slice_points(resolution).numpy()).reshape(resolution, resolution) > 0.5
        edge = np.zeros_like(inside)
        edge[:-1, :] |= inside[:-1, :] != inside[1:, :]
        edge[:, :-1] |= inside[:, :-1] != inside[:, 1:]
        return edge

    def _slice(self) -> np.ndarray:
        """The network's field on the plane z = 0 (occupancy probability or clipped SDF) as a uint8 RGB image, with
        the true surface outlined."""
        resolution = SLICE_RESOLUTION
        pred, _ = self.model.predict(self._slice_points(resolution).to(self.device))
        field = torch.sigmoid(pred[:, 0]) if not self.sdf else (0.5 - pred[:, 0].clamp(-0.1, 0.1) * 5)
        gray = (field.reshape(resolution, resolution).cpu().numpy() * 255).astype(np.uint8)
        image = np.repeat(gray[:, :, None], 3, axis=2)
        image[self.slice_outline] = OUTLINE_RGB
        return image

    def extract_surface(self, resolution: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Marching cubes on the network's field over an R³ grid (R = `resolution`, default mc_resolution)."""
        r = resolution or self.config.mc_resolution
        return self.fitted().render((r, r, r))

    def chamfer(self) -> float:
        """Chamfer distance between the extracted surface and the true one (normalized units)."""
        assert self.surface is not None
        rng = np.random.default_rng(0)
        ours = sample_surface(*self.surface, CHAMFER_POINTS, rng)
        truth = self.mesh.surface_points(CHAMFER_POINTS, rng)
        return chamfer_distance(ours, truth)

    def snapshot(self, scalars: dict[str, float], final: bool = False) -> Snapshot:
        previews: dict[str, np.ndarray] = {}
        if self.slice_image is not None:
            previews["slice"] = self.slice_image
        surface = self.surface if self.surface is not None else self.live_surface
        if surface is not None:
            previews["vertices"], previews["faces"] = surface
        return Snapshot(self.step_count, self.config.steps, self.train_time, dict(scalars), previews, final)

    def fitted(self) -> FittedNetwork:
        """The network as it stands, with the marching-cubes grid of its surface (rendered from any other)."""
        r = self.config.mc_resolution
        return FittedNetwork(self.model, self.config, self.mesh.medium, (r, r, r), 1, None, self.mesh.source)

    def export(self, out_dir: Path) -> Path:
        """Write the marching-cubes reconstruction as PLY, and beside it the network as a small file
        (`NETWORK_FILE`) that `deq-studio render --size R` takes the surface of from an R³ grid."""
        if self.surface is None:
            self.surface = self.extract_surface()
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "reconstruction.ply"
        write_mesh(path, *self.surface)
        save_network(out_dir / NETWORK_FILE, self.fitted())
        return path
