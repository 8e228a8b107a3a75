"""Meshes with Open3D: obj, ply, stl, off, gltf/glb → a shape normalized into [−1, 1]³ with exact labels.

Labels come from Open3D's RaycastingScene: occupancy (`compute_occupancy`) and signed distance
(`compute_signed_distance`), both with an odd number of ray samples so that small holes do not flip the sign.
Points are drawn uniformly in the box and near the surface (surface samples + N(0, σ²) offsets). Reconstruction by
marching cubes (scikit-image) on a grid of the network's output, written back as PLY/OBJ.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import mmap
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote

import numpy as np
from torch import Tensor

from engine.atomic_files import atomic_path
from engine.config import FitConfig, SignalConfig
from engine.media.base import SignalError, TooLarge, regular_file, unreadable
from engine.media.spec import PREVIEW_MODEL, FitDefaults, MediumSpec, register_medium

NOUN = "a 3D shape"
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
HEADER_BYTES = 1 << 20
"""The most bytes of a PLY, OFF or STL file read to learn what its header declares."""
PLY_SIZES = {"char": 1, "int8": 1, "uchar": 1, "uint8": 1, "short": 2, "int16": 2, "ushort": 2, "uint16": 2,
             "int": 4, "int32": 4, "uint": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}
"""Bytes of each PLY property type in a binary file."""
FLAT = 1e-6
"""The thickness below which a normalized shape (longest half-side EXTENT) is flat, or a line when it is that thin
across too; and the area below which it has none."""


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
    centre to the origin, longest half-side to 0.9. Before reading, the file (with the files a glTF names) must fit
    MAX_MESH_BYTES and its header must not declare more than it holds (`declared`); a shape without area or volume
    is refused."""
    path = regular_file(path)
    size = path.stat().st_size + _referenced_bytes(path)
    if size > MAX_MESH_BYTES:
        raise SignalError(f"{path.name} is {size / 1e9:.1f} GB, more than the "
                          f"{MAX_MESH_BYTES / 1e9:.0f} GB DEQ Studio reads: simplify it in a 3D editor first (to "
                          f"{SIMPLIFIED_TRIANGLES:,} triangles, say), or open another file.")
    header = declared(path)
    if header is not None and header.least_bytes > size:
        raise damaged(path, f"its header declares {header.contents}, more than its {size:,} bytes can hold")
    o3d = open3d_module()
    try:
        mesh = o3d.io.read_triangle_mesh(str(path), enable_post_processing=False, print_progress=False)
    except (RuntimeError, OSError, ValueError) as exc:
        raise unreadable(path, NOUN, MESH_FORMATS, exc) from exc
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.triangles, dtype=np.int64)
    if len(faces) == 0 or len(vertices) < 3:
        raise unreadable(path, NOUN, MESH_FORMATS, ValueError("no triangle could be read"))
    if header is not None and len(faces) < header.faces:  # each face of n corners reads as n − 2 triangles
        raise damaged(path, f"its header declares {header.contents}, but only {_many(len(faces), 'triangle')} could "
                            f"be read")
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
    _check_solid(path, normalized, faces)
    return MeshSignal(normalized.astype(np.float32), faces.astype(np.int32), path.name, simplified_from=simplified_from,
                      watertight=_closed(faces))


def damaged(path: Path, what: str) -> SignalError:
    """The error for a shape file that contradicts itself (`what`: how)."""
    return SignalError(f"{path.name} is damaged: {what} (was it cut short while being copied or saved?). Open "
                       f"another file, or save it again as {MESH_FORMATS}.")


@dataclasses.dataclass(frozen=True)
class Declared:
    """What a shape file's header says it holds, and the fewest bytes that takes."""

    contents: str
    """For the user, e.g. "1,000 corners and 2,000 faces"."""
    faces: int
    """Faces (each read as one triangle or more)."""
    least_bytes: int


def declared(path: Path) -> Declared | None:
    """What the header of a PLY, OFF or binary STL file declares, read from its first HEADER_BYTES (Open3D would
    allocate that much before reading a byte more); None for other files and headers not understood (Open3D then
    judges them)."""
    with open(path, "rb") as file:
        head = file.read(HEADER_BYTES)
    suffix = path.suffix.lower()
    if suffix == ".ply":
        return _ply_declared(head)
    if suffix == ".off":
        return _off_declared(head)
    if suffix == ".stl":
        return _stl_declared(head, path.stat().st_size)
    return None


def _ply_declared(head: bytes) -> Declared | None:
    """A PLY header's elements: in binary each property takes its type's bytes, in ASCII at least a digit and a
    space; a list at least its count, and a face's list of corners at least three of them."""
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        return None
    binary, counts, least, name = None, {}, 0, None
    for line in head[:end].decode("ascii", "replace").splitlines():
        words = line.split()
        if words[:1] == ["format"] and len(words) > 1:
            binary = words[1] != "ascii"
        elif words[:1] == ["element"]:
            if len(words) != 3 or not words[2].isdigit() or binary is None:
                return None
            name, counts[words[1]] = words[1], int(words[2])
        elif words[:1] == ["property"] and name is not None:
            corners = 3 if name == "face" and words[-1] in ("vertex_indices", "vertex_index") else 0
            if len(words) == 5 and words[1] == "list" and words[2] in PLY_SIZES and words[3] in PLY_SIZES:
                entry = PLY_SIZES[words[2]] + corners * PLY_SIZES[words[3]] if binary else 2 + 2 * corners
            elif len(words) == 3 and words[1] in PLY_SIZES:
                entry = PLY_SIZES[words[1]] if binary else 2
            else:
                return None
            least += counts[name] * entry
    faces = counts.get("face", 0)
    return Declared(f"{_many(counts.get('vertex', 0), 'corner')} and {_many(faces, 'face')}", faces,
                    end + len("end_header") + least - (0 if binary else 1))


def _off_declared(head: bytes) -> Declared | None:
    """An OFF header's counts: each corner takes at least three digits and spaces, each face four (a count and three
    corners)."""
    words: list[str] = []
    for line in head.decode("ascii", "replace").splitlines():
        words += line.split("#")[0].split()
        if len(words) >= 4:
            break
    if len(words) < 4 or words[0] not in ("OFF", "COFF", "NOFF", "CNOFF") or not all(w.isdigit() for w in words[1:4]):
        return None
    corners, faces = int(words[1]), int(words[2])
    return Declared(f"{_many(corners, 'corner')} and {_many(faces, 'face')}", faces, 6 * corners + 8 * faces - 1)


def _stl_declared(head: bytes, size: int) -> Declared | None:
    """A binary STL's triangle count (after its 80-byte header): 50 bytes each. An ASCII STL (it starts with "solid")
    declares nothing, unless its size happens to be just what a binary one of that count takes."""
    if len(head) < 84:
        return None
    count = int.from_bytes(head[80:84], "little")
    if head.lstrip().startswith(b"solid") and 84 + 50 * count != size:
        return None
    return Declared(_many(count, "triangle"), count, 84 + 50 * count)


def _many(count: int, thing: str) -> str:
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


def _referenced_bytes(path: Path) -> int:
    """The bytes of the files a glTF shape names by "uri" (its buffers and images, read whole beside it); 0 for other
    files. SignalError when one is not a regular file: a pipe would keep the reader waiting forever. (A missing one
    is left to the reader: a missing texture does not keep the shape from loading.)"""
    if path.suffix.lower() not in (".gltf", ".glb") or path.stat().st_size == 0:
        return 0
    total = 0
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        text = data[20:20 + int.from_bytes(data[12:16], "little")] if data[:4] == b"glTF" else data  # .glb: its JSON
        for match in re.finditer(rb'"uri"\s*:\s*("(?:[^"\\]|\\.)*")', text):
            try:
                uri = json.loads(match.group(1))
            except ValueError:
                continue
            if uri.startswith("data:"):
                continue
            try:
                mode = os.stat(path.parent / unquote(uri))
            except OSError:
                continue
            if not stat.S_ISREG(mode.st_mode):
                raise SignalError(f"{path.name} names {uri} as a part of it, which is not a regular file (a folder, "
                                  f"a pipe or a device). Open another file.")
            total += mode.st_size
    return total


def _check_solid(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Refuse a shape without area (its corners on one line, or every triangle's corners in a row: no surface to
    sample) or without volume (all corners in one plane: nothing is inside it, so neither occupancy nor a signed
    distance has a surface to learn). `vertices` are normalized (longest half-side EXTENT)."""
    used = vertices[np.unique(faces)]
    centred = used - used.mean(axis=0)
    axes = np.linalg.eigh(centred.T @ centred)[1]  # the directions the corners spread along, least first
    spread = np.abs(centred @ axes).max(axis=0)
    corners = vertices.astype(np.float32)[faces]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1).sum()
    if spread[1] < FLAT or not area > FLAT:
        raise SignalError(f"{path.name} has no area: the corners of its triangles lie on a line, so there is no "
                          f"surface to learn. Open another file.")
    if spread[0] < FLAT:
        raise SignalError(f"{path.name} is flat (all its corners lie in one plane): it encloses no volume, so there "
                          f"is no inside to learn. Open a solid shape, or give this one thickness in a 3D editor "
                          f"(extrude or solidify it).")


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
    """Write a triangle mesh (PLY or OBJ by suffix), atomically."""
    o3d = open3d_module()
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices.astype(np.float64)),
                                     o3d.utility.Vector3iVector(faces.astype(np.int32)))
    mesh.compute_vertex_normals()
    with atomic_path(path) as temporary:
        if not o3d.io.write_triangle_mesh(str(temporary), mesh, write_ascii=False):
            raise OSError(f"could not write {Path(path).name}")


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


MESH_INPUT_SCALE = 32.0
MESH_LR = 2e-3
"""Mesh defaults. The paper's 256 and 5e-4 (SPEC 2.3) barely move the BCE loss in 1,500 steps of 50k points on
the bunny here (IoU 0.12 uniform after 200 steps, explicit Gabor-MFN alike); 32 and 2e-3 reach IoU 0.97 uniform
in 400 steps at width 64. Both stay options (--input-scale, --lr)."""

MESH = register_medium(MediumSpec(
    "mesh", NOUN, MESH_EXTENSIONS, load_mesh,
    FitDefaults(input_scale=MESH_INPUT_SCALE, lr=MESH_LR, batch_size=50000, eval_every=250, scale_axes=(0, 1, 2)),
    FitConfig(model=PREVIEW_MODEL, signal=SignalConfig(mesh_points=50_000), batch_size=8192, steps=500, log_every=5,
              eval_every=100, eval_points=1 << 16, mc_resolution=64),
    signal_fields=frozenset({"mesh_points", "mesh_near_sigma", "mesh_max_triangles"}),
    fit_fields=frozenset({"mesh_target", "eval_points", "mc_resolution"}), split_axes=None,
    write=lambda path, surface, rate: write_mesh(path, *surface), export_name="reconstruction.ply"))
