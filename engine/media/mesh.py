"""Meshes with Open3D: obj, ply, stl, off, gltf/glb → a shape normalized into [−1, 1]³ with exact labels.

Labels come from Open3D's RaycastingScene: occupancy (`compute_occupancy`) and signed distance
(`compute_signed_distance`), both with an odd number of ray samples so that small holes do not flip the sign.
Points are drawn uniformly in the box and near the surface (surface samples + N(0, σ²) offsets). Reconstruction by
marching cubes (scikit-image) on a grid of the network's output, written back as PLY/OBJ.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
from torch import Tensor

from engine.config import SignalConfig
from engine.media.base import SignalError, TooLarge, missing_file, unreadable

MESH_EXTENSIONS = (".obj", ".ply", ".stl", ".off", ".gltf", ".glb")
MESH_FORMATS = "OBJ, PLY or STL"
"""What an unreadable shape is best saved again as."""
RAY_SAMPLES = 3
"""Rays per query point for occupancy and sign (odd: majority vote)."""
EXTENT = 0.9
"""The shape's longest half-side after normalization: a margin inside [−1, 1]³ keeps the surface closed."""
MAX_MESH_BYTES = 1_000_000_000
"""The largest shape file read (1 GB, some 20 million triangles): reading takes several times its size."""
MAX_MESH_TRIANGLES = 2_000_000
"""The most triangles a shape is labelled with (its ray-casting structure grows with them); a larger one is offered
simplified to SIMPLIFIED_TRIANGLES (`mesh_max_triangles`)."""
SIMPLIFIED_TRIANGLES = 500_000


@functools.cache
def open3d_module():
    """Open3D, imported on first use: its import takes ~0.6 s that every start of the window would otherwise pay."""
    import open3d as o3d

    return o3d


@dataclasses.dataclass
class MeshSignal:
    """A normalized triangle mesh and its labeling scene."""

    vertices: np.ndarray  # (V, 3) float32, inside [−0.9, 0.9]³
    faces: np.ndarray  # (F, 3) int32
    source: str = ""
    medium: str = "mesh"
    simplified_from: int | None = None
    """The file's triangle count when it was simplified to fewer (`mesh_max_triangles`)."""
    watertight: bool = True
    """Whether every edge is shared by exactly two triangles; with holes, inside and outside are only guessed (by a
    majority of ray votes), so the fit says so."""

    def __post_init__(self) -> None:
        o3d = open3d_module()
        self._scene = o3d.t.geometry.RaycastingScene()
        mesh = o3d.t.geometry.TriangleMesh()
        mesh.vertex.positions = o3d.core.Tensor(self.vertices.astype(np.float32))
        mesh.triangle.indices = o3d.core.Tensor(self.faces.astype(np.int32))
        self._scene.add_triangles(mesh)

    def describe(self) -> str:
        simplified = "" if self.simplified_from is None else f", simplified from {self.simplified_from}"
        return f"mesh with {len(self.vertices)} vertices, {len(self.faces)} triangles{simplified}"

    def occupancy(self, points: np.ndarray) -> np.ndarray:
        """1.0 inside, 0.0 outside, for points (n, 3)."""
        o3d = open3d_module()
        query = o3d.core.Tensor(points.astype(np.float32))
        return self._scene.compute_occupancy(query, nsamples=RAY_SAMPLES).numpy().astype(np.float32)

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Signed distance (negative inside) for points (n, 3)."""
        o3d = open3d_module()
        query = o3d.core.Tensor(points.astype(np.float32))
        return self._scene.compute_signed_distance(query, nsamples=RAY_SAMPLES).numpy().astype(np.float32)

    def surface_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points uniformly on the surface."""
        return sample_surface(self.vertices, self.faces, n, rng)

    def sample(self, n: int, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n//2 uniform points in [−1, 1]³ and n − n//2 near-surface points, shuffled: (points, is_near)."""
        uniform = rng.uniform(-1.0, 1.0, size=(n // 2, 3)).astype(np.float32)
        near = self.near_points(n - n // 2, sigma, rng)
        points = np.concatenate([uniform, near])
        is_near = np.concatenate([np.zeros(len(uniform), bool), np.ones(len(near), bool)])
        order = rng.permutation(n)
        return points[order], is_near[order]

    def near_points(self, n: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
        """n surface samples displaced by N(0, σ²) noise, clipped to the box."""
        pts = self.surface_points(n, rng) + rng.normal(0.0, sigma, size=(n, 3)).astype(np.float32)
        return np.clip(pts, -1.0, 1.0)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniformly on a triangle mesh (area-weighted triangles, uniform barycentric coordinates)."""
    tri = vertices[faces]  # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    pick = rng.choice(len(tri), size=n, p=area / area.sum())
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    w = np.stack([1 - s, s * (1 - r2), s * r2], axis=1)[:, :, None]
    return (tri[pick] * w).sum(axis=1).astype(np.float32)


def load_mesh(path: str | Path, config: SignalConfig = SignalConfig()) -> MeshSignal:
    """Read a triangle mesh, simplified to `mesh_max_triangles` when it has more, and normalize it: bounding-box
    centre to the origin, longest half-side to 0.9."""
    path = Path(path)
    if not path.is_file():
        raise missing_file(path)
    if path.stat().st_size > MAX_MESH_BYTES:
        raise SignalError(f"{path.name} is {path.stat().st_size / 1e9:.1f} GB, more than the "
                          f"{MAX_MESH_BYTES / 1e9:.0f} GB DEQ Studio reads: simplify it in a 3D editor first (to "
                          f"{SIMPLIFIED_TRIANGLES:,} triangles, say), or open another file.")
    o3d = open3d_module()
    try:
        mesh = o3d.io.read_triangle_mesh(str(path), enable_post_processing=False, print_progress=False)
    except (RuntimeError, OSError, ValueError) as exc:
        raise unreadable(path, "a 3D shape", MESH_FORMATS, exc) from exc
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.triangles, dtype=np.int64)
    if len(faces) == 0 or len(vertices) < 3:
        raise unreadable(path, "a 3D shape", MESH_FORMATS, ValueError("no triangle could be read"))
    if not np.isfinite(vertices).all():
        raise SignalError(f"{path.name} has corners whose coordinates are not numbers (NaN or infinite): the file is "
                          f"damaged. Repair it in a 3D editor, or open another file.")
    if faces.max() >= len(vertices):
        raise SignalError(f"{path.name} has triangles that refer to corners it does not hold: the file is damaged. "
                          f"Repair it in a 3D editor, or open another file.")
    simplified_from = None
    if config.mesh_max_triangles is not None and len(faces) > config.mesh_max_triangles:
        simplified_from = len(faces)
        vertices, faces = simplify(vertices, faces, config.mesh_max_triangles)
        vertices = vertices.astype(np.float64)
    if len(faces) > MAX_MESH_TRIANGLES:
        raise TooLarge(f"{path.name} has {len(faces):,} triangles, more than DEQ Studio labels at once "
                       f"({MAX_MESH_TRIANGLES:,}). Fit a simplified copy: set Mesh max triangles to "
                       f"{SIMPLIFIED_TRIANGLES} (--mesh-max-triangles {SIMPLIFIED_TRIANGLES}); its form is kept.",
                       {"signal.mesh_max_triangles": SIMPLIFIED_TRIANGLES})
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    half = float((hi - lo).max()) / 2.0
    if half <= 0:
        raise SignalError(f"{path.name} is a single point (all its corners coincide): there is no shape to learn. "
                          f"Open another file.")
    normalized = (vertices - (lo + hi) / 2.0) * (EXTENT / half)
    return MeshSignal(normalized.astype(np.float32), faces.astype(np.int32), path.name, simplified_from=simplified_from,
                      watertight=_closed(faces))


def _closed(faces: np.ndarray) -> bool:
    """Whether every edge is shared by exactly two triangles (Open3D's `is_watertight` also tests every pair of
    triangles for intersections: minutes on a million triangles)."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64), axis=1)
    keys = np.sort(edges[:, 0] * (int(faces.max()) + 1) + edges[:, 1])  # one number per undirected edge
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1], [True]]))
    return bool((np.diff(starts) == 2).all())


def marching_cubes(field: Tensor | np.ndarray, level: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Surface of a scalar field sampled on an R³ grid over [−1, 1]³ at `level`: (vertices (V, 3), faces (F, 3))."""
    from skimage import measure

    volume = field.detach().cpu().numpy() if isinstance(field, Tensor) else np.asarray(field)
    r = volume.shape[0]
    if not (volume.min() < level < volume.max()):
        raise SignalError("the network's field does not cross the surface level anywhere yet: no surface to extract")
    verts, faces, _, _ = measure.marching_cubes(volume.astype(np.float32), level=level, spacing=(2.0 / (r - 1),) * 3)
    return (verts - 1.0).astype(np.float32), faces.astype(np.int32)


def write_mesh(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Write a triangle mesh (PLY or OBJ by suffix)."""
    o3d = open3d_module()
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices.astype(np.float64)),
                                     o3d.utility.Vector3iVector(faces.astype(np.int32)))
    mesh.compute_vertex_normals()
    if not o3d.io.write_triangle_mesh(str(path), mesh, write_ascii=False):
        raise OSError(f"could not write {path}")


def simplify(vertices: np.ndarray, faces: np.ndarray, target_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """The mesh with at most `target_faces` triangles by quadric decimation (Open3D), closed where it was closed;
    unchanged when already small enough."""
    if len(faces) <= target_faces:
        return vertices, faces
    o3d = open3d_module()
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(np.asarray(vertices, np.float64)),
                                     o3d.utility.Vector3iVector(np.asarray(faces, np.int32)))
    small = mesh.simplify_quadric_decimation(target_number_of_triangles=int(target_faces))
    return np.asarray(small.vertices, np.float32), np.asarray(small.triangles, np.int64)


def simplify_quickly(vertices: np.ndarray, faces: np.ndarray, target_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """A copy with at most `target_faces` triangles fast enough to make while a window waits: vertex clustering
    (linear time) to about twice the target, then `simplify` of that. On 640,000 triangles to 10,000: under a second
    where `simplify` alone takes several (Open3D holds Python's lock throughout, so neither can run beside the
    window); the copy is coarser in fine detail, and as closed as `simplify`'s."""
    if len(faces) <= target_faces:
        return vertices, faces
    points = np.asarray(vertices, np.float64)
    corners = points[faces]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1).sum()
    if not np.isfinite(area) or area <= 0:
        return simplify(vertices, faces, target_faces)
    o3d = open3d_module()
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(points), o3d.utility.Vector3iVector(
        np.asarray(faces, np.int32)))
    # a cell of side h holds about 2 triangles per h² of surface: 2 × target triangles for area / target per cell
    coarse = mesh.simplify_vertex_clustering(voxel_size=float(np.sqrt(area / target_faces)))
    return simplify(np.asarray(coarse.vertices), np.asarray(coarse.triangles, np.int64), target_faces)
