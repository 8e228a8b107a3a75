"""Media loaders and writers: real files, round trips, protocol splits, clear errors on bad files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config import SignalConfig
from engine.media import (
    MeshSignal,
    SignalError,
    generalization_split,
    load_signal,
    marching_cubes,
    medium_of,
)
from tests.engine.media_files import malformed_media, tiny_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tiny_media(tmp_path_factory.mktemp("media"))


def test_image_loads_in_range_with_row_major_coordinates(media) -> None:
    sig = load_signal(media["image"])
    assert sig.medium == "image" and sig.shape == (12, 16) and sig.channels == 3
    assert sig.coords.shape == (192, 2) and sig.values.shape == (192, 3)
    assert sig.values.min() >= -1 and sig.values.max() <= 1
    assert torch.equal(sig.coords[0], torch.tensor([-1.0, -1.0])) and torch.equal(sig.coords[-1], torch.ones(2))
    back = sig.to_array(sig.values)
    assert back.dtype == np.uint8 and back.shape == (12, 16, 3)
    assert back[0, 1, 0] == 15 and back[1, 0, 1] == 20  # x along columns, y along rows


def test_audio_is_mono_and_peak_normalized(media) -> None:
    sig = load_signal(media["audio"])
    assert sig.medium == "audio" and sig.shape == (400,) and sig.rate == 8000
    assert abs(float(sig.values.abs().max()) - 1.0) < 1e-6  # float32 division by the peak: measured exactly 1
    crop = load_signal(media["audio"], SignalConfig(audio_start_s=0.01, audio_duration_s=0.02))
    assert crop.shape == (160,)
    assert sig.portion == "" and crop.portion == "seconds 0.01–0.03 of the file's 0.05"  # said where it shows
    assert crop.describe() == "0.02 s of audio at 8000 Hz, 160 samples, seconds 0.01–0.03 of the file's 0.05"
    resampled = load_signal(media["audio"], SignalConfig(audio_rate=4000))
    assert resampled.shape == (200,) and resampled.rate == 4000
    kept = load_signal(media["audio"], SignalConfig(audio_rate=16000))  # a cap: never resampled up
    assert kept.shape == (400,) and kept.rate == 8000


def test_video_round_trips_through_mp4(media) -> None:
    sig = load_signal(media["video"])
    assert sig.medium == "video" and sig.shape == (4, 12, 16) and sig.rate == 4
    strided = load_signal(media["video"], SignalConfig(video_stride=2, max_size=8))
    assert strided.shape[0] == 2 and max(strided.shape[1:]) == 8 and strided.rate == 2
    first = load_signal(media["video"], SignalConfig(video_max_frames=3))
    assert first.shape[0] == 3 and sig.portion == "" and first.portion == "frames 1–3 of the file's 4"


def test_mesh_is_normalized_and_labelled(media) -> None:
    mesh = load_signal(media["mesh"])
    assert isinstance(mesh, MeshSignal)
    assert np.abs(mesh.vertices).max() == pytest.approx(0.9, abs=1e-5)  # float32 scaling: measured exactly 0.9
    # the torus: its tube centre is inside, the hole's centre is outside
    tube = np.array([[0.6 * 0.9 / 0.85, 0.0, 0.0]], dtype=np.float32)
    hole = np.zeros((1, 3), dtype=np.float32)
    assert mesh.occupancy(tube)[0] == 1.0 and mesh.occupancy(hole)[0] == 0.0
    assert mesh.signed_distance(tube)[0] < 0 < mesh.signed_distance(hole)[0]  # measured −0.26 and 0.37
    points, near = mesh.sample(2000, 0.01, np.random.default_rng(0))
    assert points.shape == (2000, 3) and near.sum() == 1000 and np.abs(points).max() <= 1.0


def test_marching_cubes_of_a_sphere_field() -> None:
    r = 32
    axis = np.linspace(-1, 1, r)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    verts, faces = marching_cubes(np.sqrt(x**2 + y**2 + z**2) - 0.5)
    radii = np.linalg.norm(verts, axis=1)
    assert len(faces) > 100 and np.abs(radii - 0.5).max() < 0.03  # a grid step is 0.065; measured 9e-4
    with pytest.raises(SignalError, match="does not cross"):
        marching_cubes(np.ones((8, 8, 8)))


@pytest.mark.parametrize("quickly", [False, True])
def test_simplify_keeps_a_closed_surface_in_fewer_triangles(quickly) -> None:
    from engine.media.mesh import simplify, simplify_quickly

    r = 48
    axis = np.linspace(-1, 1, r)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    verts, faces = marching_cubes(np.sqrt(x**2 + y**2 + z**2) - 0.6)
    simplify = simplify_quickly if quickly else simplify
    small_v, small_f = simplify(verts, faces, 1000)
    assert len(faces) > 5000 and 500 <= len(small_f) <= 1000
    assert np.abs(np.linalg.norm(small_v, axis=1) - 0.6).max() < 0.05  # still the sphere (measured 2.6e-3 off)
    edges = np.sort(np.concatenate([small_f[:, [0, 1]], small_f[:, [1, 2]], small_f[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert (counts == 2).all()  # every edge shared by two triangles: no holes
    same_v, same_f = simplify(verts, faces, len(faces))
    assert same_f is faces and same_v is verts


@pytest.mark.parametrize("medium", ["image", "audio", "video"])
def test_generalization_split_is_disjoint_and_a_quarter_or_half(media, medium) -> None:
    sig = load_signal(media[medium])
    train, test = generalization_split(sig)
    assert len(set(train.tolist()) & set(test.tolist())) == 0
    fraction = 0.5 if medium == "audio" else 0.25
    assert len(train) == pytest.approx(fraction * len(sig.coords), rel=0.1)
    if medium == "image":  # train is [::2, ::2]: the first pixel of every other row and column
        assert train[:3].tolist() == [0, 2, 4] and test[0].item() == 16 + 1


@pytest.mark.parametrize("medium", ["image", "audio", "video", "mesh"])
def test_malformed_files_raise_one_clear_error(tmp_path, medium) -> None:
    path = malformed_media(tmp_path)[medium]
    with pytest.raises(SignalError) as info:
        load_signal(path)
    says_what_to_do(str(info.value), path.name)
    path.write_bytes(b"")
    with pytest.raises(SignalError, match=r"broken\.\w+ is empty \(0 bytes\)\. Open another file\."):
        load_signal(path)


def says_what_to_do(message: str, name: str) -> None:
    """A loader's message is sentences for a user: the file's name, what to do, no Python in front."""
    head = message.split(" (Details:")[0]
    assert name in head and ("Open another file" in head or "open another file" in head), message
    assert not any(word in head for word in ("Error", "Errno", "Exception", "Traceback", "/")), message
    assert head.rstrip().endswith("."), message


def test_unknown_suffix_and_missing_file(tmp_path) -> None:
    with pytest.raises(SignalError, match=r"cannot fit \.txt files \(notes\.txt\)\. Open an image \(\.png"):
        medium_of("notes.txt")
    with pytest.raises(SignalError) as info:
        load_signal(tmp_path / "missing.png")
    says_what_to_do(str(info.value), "missing.png")
    assert "does not exist" in str(info.value) and str(tmp_path) not in str(info.value)


def test_real_data_loads(data_dir) -> None:
    image = load_signal(data_dir / "images" / "kodim02.png")
    assert image.shape == (256, 256) and image.channels == 1
    audio = load_signal(data_dir / "audio" / "gt_bach.wav", SignalConfig(audio_duration_s=0.5))
    assert audio.rate == 44100 and audio.shape == (22050,)
    video = load_signal(data_dir / "video" / "bikes.mp4", SignalConfig(max_size=64, video_max_frames=3))
    assert video.shape[0] == 3 and max(video.shape[1:]) == 64
    bunny = load_signal(data_dir / "meshes" / "bunny.obj")
    assert isinstance(bunny, MeshSignal) and len(bunny.faces) == 5002
