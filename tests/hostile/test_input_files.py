"""Input files that looked fine to the loaders and were not: photos turned sideways by their EXIF tag, float pixels
that are not numbers, shape files whose headers declare more than they hold, shapes without area or volume, and
paths that name no regular file (a folder, a pipe, a device, a broken or looping link).

Each is refused with one sentence naming the file (or loads as a viewer shows it), by `load_signal` and by
`deq-studio fit`, and nothing is read before the loader knows it may: a pipe is never opened, a lying header never
allocates.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine.media.mesh
from engine import cli
from engine.config import SignalConfig
from engine.media import MeshSignal, SignalError, load_signal, medium_of, write_mesh
from tests.hostile.test_hostile import says_one_thing

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(120)]
TETRA_VERTICES = "0 0 0\n1 0 0\n0 1 0\n0 0 1\n"
TETRA_FACES = "3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
"""A closed tetrahedron, as the lines of a PLY or OFF body."""


def refused(path: Path, config: SignalConfig = SignalConfig()) -> str:
    """The sentence `load_signal` refuses `path` with (one line, naming the file)."""
    with pytest.raises(SignalError) as caught:
        load_signal(path, config)
    says_one_thing(str(caught.value))
    assert path.name in str(caught.value), str(caught.value)
    return str(caught.value)


def fit_refuses(path: Path, tmp_path: Path, capsys) -> str:
    """`deq-studio fit path` exits 2 with one error line and writes no run folder; that line."""
    out = tmp_path / "run"
    code = cli.main(["fit", str(path), "--steps", "1", "--preset", "preview", "--device", "cpu", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT, err
    says_one_thing(err)
    assert err.startswith("deq-studio: error:") and path.name in err, err
    assert not out.exists()
    return err


# ---- 1. EXIF orientation ---------------------------------------------------------------------------------------------
ROTATIONS = {3: 2, 6: -1, 8: 1}
"""EXIF Orientation → quarter turns (np.rot90's k) that show the stored pixels upright."""


@pytest.fixture(scope="module")
def photo(data_dir) -> np.ndarray:
    """A non-square crop of a real photo (96 wide, 64 high)."""
    return np.asarray(Image.open(data_dir / "images" / "kodim05.png").convert("RGB"))[100:164, 200:296]


@pytest.mark.parametrize("orientation", sorted(ROTATIONS))
@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_a_photo_with_an_exif_orientation_loads_as_a_viewer_shows_it(orientation, suffix, photo, tmp_path) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"sideways{suffix}"
    Image.fromarray(photo).save(path, exif=exif, **({"quality": 95} if suffix == ".jpg" else
                                                    {"lossless": True} if suffix == ".webp" else {}))
    stored = photo if suffix != ".jpg" else np.asarray(Image.open(path).convert("RGB"))  # the JPEG's own pixels
    upright = np.rot90(stored, ROTATIONS[orientation])
    signal = load_signal(path)
    assert signal.shape == upright.shape[:2]
    np.testing.assert_array_equal(signal.to_array(signal.values), upright)


# ---- 2. float pixels that are not numbers ----------------------------------------------------------------------------
def float_gray(photo: np.ndarray) -> np.ndarray:
    return (photo.mean(axis=2) / 255.0).astype(np.float32)


def pfm(path: Path, pixels: np.ndarray) -> None:
    """A gray Portable Float Map (Pillow reads it whatever its suffix)."""
    height, width = pixels.shape
    path.write_bytes(f"Pf\n{width} {height}\n-1.0\n".encode() + pixels[::-1].astype("<f4").tobytes())


def fits(path: Path, pixels: np.ndarray) -> None:
    """A 32-bit float FITS image (Pillow reads it whatever its suffix)."""
    height, width = pixels.shape
    cards = ["SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
             f"NAXIS1  = {width:>20}", f"NAXIS2  = {height:>20}", "END"]
    data = pixels.astype(">f4").tobytes()
    path.write_bytes("".join(card.ljust(80) for card in cards).ljust(2880).encode() + data
                     + b"\0" * (-len(data) % 2880))


FLOAT_WRITERS = {"tiff": lambda path, pixels: Image.fromarray(pixels, mode="F").save(path), "pfm": pfm, "fits": fits}


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("kind", sorted(FLOAT_WRITERS))
def test_float_pixels_that_are_not_numbers_are_refused(kind, bad, photo, tmp_path, capsys) -> None:
    pixels = float_gray(photo)
    path = tmp_path / f"depth-{kind}.tif"
    FLOAT_WRITERS[kind](path, pixels)
    assert load_signal(path).shape == pixels.shape  # finite, it loads
    pixels[10:20, 30:40] = float(bad)
    FLOAT_WRITERS[kind](path, pixels)
    assert "not numbers (NaN or infinite" in refused(path)
    fit_refuses(path, tmp_path, capsys)


# ---- 3. shape files whose headers declare more than they hold --------------------------------------------------------
def ply(kind: str, vertices: int, faces: int) -> bytes:
    header = (f"ply\nformat {kind} 1.0\nelement vertex {vertices}\nproperty float x\nproperty float y\n"
              f"property float z\nelement face {faces}\nproperty list uchar int vertex_indices\nend_header\n").encode()
    if kind == "ascii":
        return header + (TETRA_VERTICES + TETRA_FACES).encode()
    order = "<" if kind == "binary_little_endian" else ">"
    rows = [[int(n) for n in line.split()] for line in TETRA_FACES.splitlines()]
    body = np.array(TETRA_VERTICES.split(), np.float32).astype(f"{order}f4").tobytes()
    return header + body + b"".join(bytes([3]) + np.array(row[1:], f"{order}i4").tobytes() for row in rows)


def binary_stl(triangles: int) -> bytes:
    tetra = np.array(TETRA_VERTICES.split(), np.float32).reshape(4, 3)
    faces = [[int(n) for n in line.split()[1:]] for line in TETRA_FACES.splitlines()]
    records = b"".join(np.zeros(3, "<f4").tobytes() + tetra[face].astype("<f4").tobytes() + b"\0\0" for face in faces)
    return b"\0" * 80 + struct.pack("<I", triangles) + records


LYING_HEADERS = {
    "ascii-ply-1e9-corners.ply": ply("ascii", 10**9, 4),
    "binary-ply-1e9-corners.ply": ply("binary_little_endian", 10**9, 4),
    "ascii-ply-1e9-faces.ply": ply("ascii", 4, 10**9),
    "binary-ply-1e9-faces.ply": ply("binary_big_endian", 4, 10**9),
    "binary-ply-one-corner-more.ply": ply("binary_little_endian", 5, 4),  # Open3D crashed the process on it
    "ascii-ply-one-face-more.ply": ply("ascii", 4, 5),
    "off-1e9-corners.off": f"OFF\n{10**9} 4 0\n{TETRA_VERTICES}{TETRA_FACES}".encode(),
    "off-1e9-faces.off": f"OFF\n4 {10**9} 0\n{TETRA_VERTICES}{TETRA_FACES}".encode(),
    "stl-1e9-triangles.stl": binary_stl(10**9),
}


def test_the_honest_versions_of_these_files_load(tmp_path) -> None:
    honest = {"a.ply": ply("ascii", 4, 4), "b.ply": ply("binary_little_endian", 4, 4),
              "c.ply": ply("binary_big_endian", 4, 4), "d.off": f"OFF\n4 4 0\n{TETRA_VERTICES}{TETRA_FACES}".encode(),
              "e.stl": binary_stl(4)}
    for name, content in honest.items():
        (tmp_path / name).write_bytes(content)
        mesh = load_signal(tmp_path / name)
        assert isinstance(mesh, MeshSignal) and len(mesh.faces) == 4 and mesh.watertight, name


@pytest.mark.parametrize("name", sorted(LYING_HEADERS))
def test_a_header_that_declares_more_than_the_file_holds_is_refused_before_reading(name, tmp_path,
                                                                                    monkeypatch) -> None:
    path = tmp_path / name
    path.write_bytes(LYING_HEADERS[name])

    class Unread:
        class io:
            @staticmethod
            def read_triangle_mesh(*args, **kwargs):
                raise AssertionError("the file was read despite its header")

    monkeypatch.setattr(engine.media.mesh, "open3d_module", lambda: Unread)
    message = refused(path)
    assert "is damaged: its header declares" in message and "more than its" in message, message


@pytest.mark.parametrize("name", ["more-faces.off", "more-faces.ply"])
def test_a_header_that_declares_a_few_faces_more_than_the_file_holds_is_refused(name, tmp_path) -> None:
    """Too few faces missing to tell from the size: Open3D reads what there is, and the count read is too small."""
    wide = "".join(f"{float(n):.6f}{' ' if i % 3 < 2 else chr(10)}" for i, n in enumerate(TETRA_VERTICES.split()))
    head = ("OFF\n4 6 0\n" if name.endswith(".off") else
            ply("ascii", 4, 6).decode().split("end_header")[0] + "end_header\n")
    path = tmp_path / name
    path.write_text(head + wide + TETRA_FACES)
    assert "declares 4 corners and 6 faces, but only 4 triangles could be read" in refused(path)


@pytest.fixture(scope="module")
def bunny(data_dir) -> tuple[np.ndarray, np.ndarray]:
    mesh = load_signal(data_dir / "meshes" / "bunny.obj")
    return mesh.vertices, mesh.faces


def ascii_ply(vertices: np.ndarray, faces: np.ndarray) -> str:
    return (f"ply\nformat ascii 1.0\nelement vertex {len(vertices)}\nproperty float x\nproperty float y\n"
            f"property float z\nelement face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
            + "".join(f"{x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in vertices)
            + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces))


@pytest.mark.parametrize("kept", [0.3, 0.75, 0.95, 0.999])
@pytest.mark.parametrize("kind", ["binary", "ascii"])
def test_a_shape_file_cut_short_is_refused_not_loaded_in_part(kind, kept, bunny, tmp_path) -> None:
    whole = tmp_path / "whole.ply"
    if kind == "binary":
        write_mesh(whole, *bunny)
    else:
        whole.write_text(ascii_ply(*bunny))
    data = whole.read_bytes()
    cut = tmp_path / "cut.ply"
    cut.write_bytes(data[:int(len(data) * kept)])
    assert "damaged" in refused(cut)


@pytest.mark.parametrize("face", ["1 2 9", "0 1 2", "1 2 -9"])
def test_an_obj_whose_faces_name_missing_corners_is_refused(face, tmp_path) -> None:
    path = tmp_path / "dangling.obj"
    path.write_text(f"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf {face}\n")
    assert "damaged" in refused(path)


def test_the_bunny_loads_from_every_shape_format(bunny, tmp_path) -> None:
    """No header check refuses an honest file: the real bunny written as each format loads whole."""
    vertices, faces = bunny
    write_mesh(tmp_path / "bunny.ply", vertices, faces)
    (tmp_path / "ascii.ply").write_text(ascii_ply(vertices, faces))
    (tmp_path / "bunny.off").write_text(f"OFF\n{len(vertices)} {len(faces)} 0\n"
                                        + "".join(f"{x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in vertices)
                                        + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces))
    corners = vertices[faces].astype("<f4")
    (tmp_path / "bunny.stl").write_bytes(b"\0" * 80 + struct.pack("<I", len(faces)) + b"".join(
        np.zeros(3, "<f4").tobytes() + triangle.tobytes() + b"\0\0" for triangle in corners))
    (tmp_path / "ascii.stl").write_text("solid bunny\n" + "".join(
        " facet normal 0 0 0\n  outer loop\n" + "".join(f"   vertex {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in t)
        + "  endloop\n endfacet\n" for t in corners) + "endsolid bunny\n")
    for name in ("bunny.ply", "ascii.ply", "bunny.off", "bunny.stl", "ascii.stl"):
        mesh = load_signal(tmp_path / name)
        assert len(mesh.faces) == len(faces) and mesh.watertight, name


# ---- 4. shapes without area or volume --------------------------------------------------------------------------------
def tilted(points: np.ndarray) -> np.ndarray:
    """`points` turned about a skew axis (so that a plane or line is no coordinate plane)."""
    a, b = 0.7, 0.4
    turn_z = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    turn_x = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return points @ (turn_x @ turn_z).T + np.array([3.0, -2.0, 5.0])


def obj(vertices: np.ndarray, faces: list[tuple[int, int, int]]) -> str:
    return "".join(f"v {x:.17g} {y:.17g} {z:.17g}\n" for x, y, z in vertices) + "".join(
        f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in faces)


LINE = np.outer(np.arange(6.0), [1.0, 1.0, 1.0])
DISC = np.concatenate([[[0.0, 0.0, 0.0]], np.stack([np.cos(t := np.linspace(0, 2 * np.pi, 12, endpoint=False)),
                                                    np.sin(t), np.zeros(12)], axis=1)])
FLAT_SHAPES = {
    "collinear": (LINE, [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 2, 5)], "has no area"),
    "collinear-tilted": (tilted(LINE * 0.1), [(0, 1, 2), (1, 3, 5), (0, 4, 5)], "has no area"),
    "triangles-with-repeated-corners": (np.array(TETRA_VERTICES.split(), float).reshape(4, 3),
                                        [(0, 0, 1), (1, 2, 2), (3, 3, 3)], "has no area"),
    "square": (np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]), [(0, 1, 2), (0, 2, 3)], "is flat"),
    "disc-tilted-both-sides": (tilted(DISC), [(0, i, i % 12 + 1) for i in range(1, 13)]
                               + [(0, i % 12 + 1, i) for i in range(1, 13)], "is flat"),
}


@pytest.mark.parametrize("name", sorted(FLAT_SHAPES))
def test_a_shape_without_area_or_volume_is_refused(name, tmp_path, capsys) -> None:
    vertices, faces, says = FLAT_SHAPES[name]
    path = tmp_path / f"{name}.obj"
    path.write_text(obj(vertices, faces))
    assert says in refused(path)
    assert "Probabilities" not in fit_refuses(path, tmp_path, capsys)


def test_a_thin_solid_still_loads(tmp_path) -> None:
    path = tmp_path / "thin.obj"
    path.write_text(obj(tilted(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0.3, 0.3, 1e-3]])),
                        [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]))
    mesh = load_signal(path)
    assert np.isfinite(mesh.surface_points(100, np.random.default_rng(0))).all()


# ---- 5. paths that name no regular file ------------------------------------------------------------------------------
def folder(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


def fifo(tmp_path: Path, name: str) -> Path:
    os.mkfifo(tmp_path / name)
    return tmp_path / name


def link(tmp_path: Path, name: str, target: str) -> Path:
    (tmp_path / name).symlink_to(target)
    return tmp_path / name


def loop(tmp_path: Path, name: str) -> Path:
    link(tmp_path, "other" + Path(name).suffix, name)
    return link(tmp_path, name, "other" + Path(name).suffix)


NOT_FILES = {
    "folder-photo.png": (lambda tmp: folder(tmp, "photo.png"), "is a folder, not a file"),
    "folder-photos": (lambda tmp: folder(tmp, "photos"), "is a folder, not a file"),
    "fifo.png": (lambda tmp: fifo(tmp, "fifo.png"), "is not a regular file but a pipe"),
    "fifo.wav": (lambda tmp: fifo(tmp, "stream.wav"), "is not a regular file but a pipe"),
    "fifo.obj": (lambda tmp: fifo(tmp, "stream.obj"), "is not a regular file but a pipe"),
    "dev-zero": (lambda tmp: Path("/dev/zero"), "is not a regular file but a device"),
    "link-to-dev-zero.wav": (lambda tmp: link(tmp, "zeros.wav", "/dev/zero"), "is not a regular file but a device"),
    "link-loop.png": (lambda tmp: loop(tmp, "a.png"), "is a link that leads in a loop"),
    "link-loop.mp4": (lambda tmp: loop(tmp, "a.mp4"), "is a link that leads in a loop"),
    "link-to-nothing.png": (lambda tmp: link(tmp, "gone.png", "moved.png"), "is a link that leads nowhere"),
}


@pytest.mark.timeout(30)  # opening a pipe for reading would wait here for a writer that never comes
@pytest.mark.parametrize("case", sorted(NOT_FILES))
def test_a_path_that_is_no_regular_file_says_what_it_is(case, tmp_path, capsys) -> None:
    if case == "dev-zero" and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    make, says = NOT_FILES[case]
    path = make(tmp_path)
    assert says in refused(path)
    assert says in fit_refuses(path, tmp_path, capsys)
    if not Path(path).suffix:
        with pytest.raises(SignalError, match=says):  # the suffix is not what is wrong with it
            medium_of(path)


def gltf(path: Path, uri: str) -> Path:
    """A glTF tetrahedron whose buffer is the file `uri` names."""
    vertices = np.array(TETRA_VERTICES.split(), np.float32)
    indices = np.array([int(n) for line in TETRA_FACES.splitlines() for n in line.split()[1:]], np.uint32)
    path.write_text(json.dumps({
        "asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"uri": uri, "byteLength": vertices.nbytes + indices.nbytes}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": vertices.nbytes},
                        {"buffer": 0, "byteOffset": vertices.nbytes, "byteLength": indices.nbytes}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0],
                       "max": [1, 1, 1]},
                      {"bufferView": 1, "componentType": 5125, "count": len(indices), "type": "SCALAR"}]}))
    (path.parent / "tetra.bin").write_bytes(vertices.tobytes() + indices.tobytes())
    return path


@pytest.mark.timeout(30)
@pytest.mark.parametrize("uri, says", [("stream.bin", "which is not a regular file"),
                                       ("zeros.bin", "which is not a regular file"),
                                       ("missing.bin", "")])
def test_a_gltf_whose_buffer_is_no_regular_file_is_refused_before_reading(uri, says, tmp_path) -> None:
    os.mkfifo(tmp_path / "stream.bin")
    (tmp_path / "zeros.bin").symlink_to("/dev/zero")
    assert says in refused(gltf(tmp_path / "shape.gltf", uri))


def test_a_gltf_counts_the_files_it_names_against_the_size_limit(tmp_path, monkeypatch) -> None:
    path = gltf(tmp_path / "shape.gltf", "tetra.bin")
    assert len(load_signal(path).faces) == 4
    monkeypatch.setattr(engine.media.mesh, "MAX_MESH_BYTES", path.stat().st_size + 10)
    assert "more than the" in refused(path)


# ---- 6. reads bounded before they start ------------------------------------------------------------------------------
def test_a_sound_of_many_channels_is_mixed_down_a_block_at_a_time(tmp_path, monkeypatch) -> None:
    """Only MAX_AUDIO_SAMPLES are read however many channels a file has (each block is mixed down as it comes)."""
    import soundfile as sf

    import engine.media.audio

    monkeypatch.setattr(engine.media.audio, "BLOCK_FRAMES", 1000)
    t = np.arange(5000) / 8000
    channels = np.stack([np.sin(2 * np.pi * (100 + 10 * c) * t) for c in range(200)], axis=1).astype(np.float32)
    path = tmp_path / "many.wav"
    sf.write(path, channels / 2, 8000, subtype="FLOAT")
    mono = channels.mean(axis=1)
    signal = load_signal(path, SignalConfig(audio_start_s=0.05))
    np.testing.assert_allclose(signal.values[:, 0].numpy(), mono[400:] / np.abs(mono[400:]).max(), atol=1e-5)
