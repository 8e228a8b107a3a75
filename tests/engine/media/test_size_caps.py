"""Files too large to read at once: each loader refuses them from what it can tell before decoding (a header, a
file size, the frames so far), with a sentence naming the file and the limit, and offers the settings that read a
part or a shrunk copy (`TooLarge.smaller`); those settings then load."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

import engine.media.audio
import engine.media.image
import engine.media.mesh
import engine.media.video
from engine import cli
from engine.config import FitConfig, SignalConfig, with_paths
from engine.media import SignalError, TooLarge, load_signal


def smaller_signal_config(error: TooLarge) -> SignalConfig:
    return with_paths(FitConfig(), error.smaller).signal


def test_a_long_clip_is_refused_from_its_header_and_its_offered_part_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.audio, "MAX_AUDIO_SAMPLES", 20_000)
    clip = tmp_path / "long.wav"
    sf.write(clip, np.sin(np.arange(48_000) / 7.0).astype(np.float32), 16_000)  # 3 s
    with pytest.raises(TooLarge, match=r"long.wav has 0.1 minutes .* \(48,000 samples\), more than DEQ Studio reads "
                                       r"at once \(20,000 samples, 1.2 s at 16000 Hz\).*--audio-duration-s 1.2"
                       ) as caught:
        load_signal(clip)
    assert caught.value.smaller == {"signal.audio_duration_s": 1.2}
    assert load_signal(clip, smaller_signal_config(caught.value)).shape == (19_200,)
    assert load_signal(clip, SignalConfig(audio_start_s=2.0)).shape == (16_000,)  # what is read counts


def test_too_many_video_frames_are_offered_as_the_frames_that_fit(data_dir, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.video, "MAX_VIDEO_PIXELS", 1_000_000)
    with pytest.raises(TooLarge, match=r"bikes.mp4 has more than 6 frames of 640×272 pixels.*first 5 frames") as caught:
        load_signal(data_dir / "video" / "bikes.mp4")
    assert caught.value.smaller == {"signal.video_max_frames": 5}
    assert load_signal(data_dir / "video" / "bikes.mp4", smaller_signal_config(caught.value)).shape == (5, 272, 640)


def jpeg(path, width: int, height: int):
    pixels = (np.indices((height, width)).sum(axis=0) % 256).astype(np.uint8)
    Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(path, quality=90)
    return path


def test_a_huge_jpeg_is_offered_shrunk_and_decoded_at_a_reduced_scale(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.image, "MAX_PIXELS", 100_000)
    monkeypatch.setattr(engine.media.image, "SHRUNK_SIZE", 200)
    big = jpeg(tmp_path / "big.jpg", 1000, 800)
    with pytest.raises(TooLarge, match=r"big.jpg is 1000×800 pixels .* Open it shrunk: .*--max-size 200") as caught:
        load_signal(big)
    assert caught.value.smaller == {"signal.max_size": 200}
    assert load_signal(big, smaller_signal_config(caught.value)).shape == (160, 200)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # Pillow refuses to open it at all: a "bomb"
    assert load_signal(big, SignalConfig(max_size=200)).shape == (160, 200)
    with pytest.raises(TooLarge, match="Open it shrunk"):
        load_signal(big)


def test_a_huge_png_has_no_offer_its_decoder_cannot_skip_pixels(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.image, "MAX_PIXELS", 100_000)
    big = tmp_path / "big.png"
    Image.new("RGB", (1000, 800)).save(big)
    for config in (SignalConfig(), SignalConfig(max_size=200)):
        with pytest.raises(TooLarge, match="Shrink it in an image editor first") as caught:
            load_signal(big, config)
        assert caught.value.smaller == {}


def test_a_shape_of_too_many_triangles_is_offered_simplified(data_dir, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.mesh, "MAX_MESH_TRIANGLES", 2_000)
    monkeypatch.setattr(engine.media.mesh, "SIMPLIFIED_TRIANGLES", 1_000)
    bunny = data_dir / "meshes" / "bunny.obj"
    with pytest.raises(TooLarge, match=r"bunny.obj has 5,002 triangles, more than DEQ Studio labels at once \(2,000\)"
                                       r".*--mesh-max-triangles 1000") as caught:
        load_signal(bunny)
    assert caught.value.smaller == {"signal.mesh_max_triangles": 1_000}
    mesh = load_signal(bunny, smaller_signal_config(caught.value))
    assert len(mesh.faces) <= 1_000 and mesh.simplified_from == 5_002 and mesh.watertight
    assert "simplified from 5002" in mesh.describe()
    # normalized after the simplification (float32 scaling: measured exactly 0.9)
    assert np.abs(mesh.vertices).max() == pytest.approx(0.9, abs=1e-4)


def test_a_shape_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine.media.mesh, "MAX_MESH_BYTES", 1_000)
    shape = tmp_path / "scan.obj"
    shape.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n" * 100 + "f 1 2 3\n")
    with pytest.raises(SignalError, match=r"scan.obj is 0.0 GB, more than the 0 GB DEQ Studio reads: simplify it"):
        load_signal(shape)


def test_the_cli_names_the_flag_that_reads_a_part_and_that_flag_works(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(engine.media.audio, "MAX_AUDIO_SAMPLES", 20_000)
    clip = tmp_path / "long.wav"
    sf.write(clip, np.sin(np.arange(48_000) / 7.0).astype(np.float32), 16_000)
    common = ["--steps", "1", "--width", "16", "--device", "cpu"]
    assert cli.main(["fit", str(clip), *common, "--out", str(tmp_path / "a")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--audio-duration-s 1.2" in err
    assert cli.main(["fit", str(clip), *common, "--audio-duration-s", "1.2", "--out", str(tmp_path / "b")]) == 0
    assert not (tmp_path / "a").exists()
