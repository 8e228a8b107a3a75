"""A fitted network as a small file and rendered on any grid: a smooth image fitted at 32² and rendered at 64²
against the function itself, the half-precision file against the full one, sounds and videos at other rates, the
`render` verb, and the sentences for what cannot be rendered."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from engine import cli
from engine.config import ConfigError, FitConfig, ModelConfig
from engine.fitted_network import load_network, resampled_axis, resampled_coords, save_network
from engine.media import load_signal, write_image
from engine.metrics import psnr
from engine.model_store import ModelFileError, save_model
from engine.tasks.fit import NETWORK_FILE, FitTask
from tests.engine.media_files import tiny_media

FAST = ["--width", "16", "--device", "cpu", "--log-every", "5"]


def smooth(n: int) -> np.ndarray:
    """A smooth RGB picture sampled at the centres of n × n pixels over [0, 1]²."""
    centres = (np.arange(n) + 0.5) / n
    y, x = np.meshgrid(centres, centres, indexing="ij")
    channels = [np.sin(2 * np.pi * x) * np.cos(np.pi * y), np.cos(2 * np.pi * (x + y)), np.sin(np.pi * x * y)]
    return np.round((np.stack(channels, axis=-1) * 0.45 + 0.5) * 255).astype(np.uint8)


def test_the_resampled_grid_is_the_fitted_one_at_the_same_count_and_a_resize_at_another() -> None:
    assert torch.allclose(resampled_axis(5, 5), torch.linspace(-1, 1, 5), atol=1e-7)
    twice = resampled_axis(4, 8)  # each source sample i at −1 + 2i/3 lies halfway between render samples 2i, 2i+1
    assert torch.allclose((twice[0::2] + twice[1::2]) / 2, torch.linspace(-1, 1, 4), atol=1e-6)
    assert resampled_coords((3, 4), (6, 2)).shape == (12, 2) and torch.equal(resampled_axis(1, 3), torch.zeros(3))


def test_a_time_axis_is_resampled_as_a_change_of_rate_keeping_every_source_sample() -> None:
    """A sound or a video at twice its rate keeps each fitted sample (every other one) and adds one halfway; at half
    its rate it keeps every other one; its pictures' sides are still resized."""
    source = torch.linspace(-1, 1, 5)
    twice = resampled_axis(5, 10, step=0.5)
    assert torch.allclose(twice[0::2], source, atol=1e-6)
    assert torch.allclose(twice[1::2][:-1], (source[:-1] + source[1:]) / 2, atol=1e-6)
    assert torch.allclose(resampled_axis(9, 5, step=2.0), torch.linspace(-1, 1, 9)[0::2], atol=1e-6)
    grid = resampled_coords((4, 3, 3), (8, 6, 6), time_step=0.5).reshape(8, 6, 6, 3)
    assert torch.allclose(grid[0::2, 0, 0, 0], torch.linspace(-1, 1, 4), atol=1e-6)
    assert torch.allclose(grid[0, :, 0, 1], resampled_axis(3, 6), atol=1e-7)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Fourier-MFN fitted to the smooth picture at 32² (represent, 400 steps)."""
    folder = tmp_path_factory.mktemp("smooth")
    write_image(folder / "smooth.png", smooth(32))
    config = FitConfig(model=ModelConfig(model="fourier-mfn", width=64), steps=400, log_every=400, lr=3e-3,
                       device="cpu")
    signal = load_signal(folder / "smooth.png", config.signal)
    task = FitTask(config, signal, torch.device("cpu"))
    for _ in range(config.steps):
        task.step()
    task.evaluate(final=True)
    return task, folder


def test_a_smooth_picture_rendered_at_twice_its_size_matches_the_function(fitted) -> None:
    """Rendered at 64² from its 32² fit, the picture is the function sampled at 64² pixel centres to 48.2 dB (the
    fit's own file 48.6 dB): a continuous function, not a blow-up of pixels (nearest neighbour: 29.9 dB). Bicubic
    resampling of the 32² file does better on a picture this smooth (50.5 dB); bound 40 dB and 4 dB of bicubic."""
    task, folder = fitted
    network = load_network(save_network(folder / "full.safetensors", task.fitted(),
                                        precision="float32"))

    def scaled(array) -> torch.Tensor:
        return torch.from_numpy(np.asarray(array).astype(np.float32) / 127.5 - 1)

    truth = scaled(smooth(64))
    render = psnr(scaled(network.render((64, 64))), truth)
    nearest = psnr(scaled(Image.fromarray(smooth(32)).resize((64, 64), Image.NEAREST)), truth)
    bicubic = psnr(scaled(Image.fromarray(smooth(32)).resize((64, 64), Image.BICUBIC)), truth)
    assert render > 40 and render > nearest + 10 and render > bicubic - 4
    assert np.array_equal(network.render(), task.reconstruction)  # its own grid: the fit's reconstruction


def test_the_half_precision_file_is_half_the_size_and_renders_within_its_rounding(fitted) -> None:
    task, folder = fitted
    full = save_network(folder / "f32.safetensors", task.fitted(), precision="float32")
    half = save_network(folder / "f16.safetensors", task.fitted())
    assert half.stat().st_size < 0.56 * full.stat().st_size
    a, b = load_network(full).render((48, 48)).astype(int), load_network(half).render((48, 48)).astype(int)
    assert np.abs(a - b).max() <= 2 and np.abs(a - b).mean() < 0.2  # measured 1 level at most, 0.03 on average


def test_a_sound_at_another_rate_and_a_video_at_another_frame_rate(tmp_path) -> None:
    media = tiny_media(tmp_path)
    for medium, rate in (("audio", 16000.0), ("video", 8.0)):
        out = tmp_path / medium
        assert cli.main(["fit", str(media[medium]), "--steps", "3", "--out", str(out), *FAST]) == 0
        network = load_network(out / NETWORK_FILE)
        shape, new_rate = network.target_shape(rate=rate)
        assert new_rate == rate and shape[0] == round(network.shape[0] * rate / network.rate)
        assert cli.main(["render", str(out), "--rate", f"{rate:g}"]) == 0
    heard, sample_rate = sf.read(tmp_path / "audio" / "network-16000hz.wav")
    assert sample_rate == 16000 and len(heard) == round(400 * 16000 / 8000)
    assert (tmp_path / "video" / "network-8fps-16x12.mp4").stat().st_size > 0
    with pytest.raises(ConfigError, match="sample rate"):
        load_network(tmp_path / "audio" / NETWORK_FILE).target_shape(scale=2.0)


def test_the_render_verb_writes_a_new_file_and_never_replaces_one(tmp_path, capsys) -> None:
    media = tiny_media(tmp_path)
    run = tmp_path / "run"
    assert cli.main(["fit", str(media["image"]), "--steps", "3", "--out", str(run), *FAST]) == 0
    assert cli.main(["render", str(run), "--scale", "2"]) == 0
    assert cli.main(["render", str(run / NETWORK_FILE), "--scale", "2"]) == 0  # the name taken: another
    assert Image.open(run / "network-32x24.png").size == (32, 24) and (run / "network-32x24-2.png").is_file()
    assert cli.main(["render", str(run), "--size", "40", "--out", str(tmp_path / "big.png")]) == 0
    assert Image.open(tmp_path / "big.png").size == (40, 30)
    before = (tmp_path / "big.png").read_bytes()
    assert cli.main(["render", str(run), "--scale", "3", "--out", str(tmp_path / "big.png")]) == cli.EXIT_BAD_INPUT
    assert "already exists" in capsys.readouterr().err and (tmp_path / "big.png").read_bytes() == before


@pytest.mark.parametrize("case", ["rate-of-an-image", "scale-and-size", "too-large", "not-a-network", "missing",
                                  "another-kind"])
def test_what_cannot_be_rendered_is_said_in_one_sentence(case, tmp_path, capsys) -> None:
    media = tiny_media(tmp_path)
    run = tmp_path / "run"
    assert cli.main(["fit", str(media["image"]), "--steps", "2", "--out", str(run), *FAST]) == 0
    capsys.readouterr()
    other = tmp_path / "prior.safetensors"
    save_model(other, torch.nn.Linear(2, 2), "prior", {})
    argv = {"rate-of-an-image": [str(run), "--rate", "30"], "scale-and-size": [str(run), "--scale", "2", "--size", "9"],
            "too-large": [str(run), "--size", "60000"], "not-a-network": [str(run / "config.json")],
            "missing": [str(tmp_path / "gone.safetensors")], "another-kind": [str(other)]}[case]
    assert cli.main(["render", *argv]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    expected = {"rate-of-an-image": "render an image at a scale or a size", "scale-and-size": "not both",
                "too-large": "choose a smaller size", "not-a-network": "network.safetensors",
                "missing": "does not exist", "another-kind": "holds a prior model"}[case]
    assert expected in err
    assert sorted(p.name for p in run.iterdir() if p.suffix == ".png") == ["reconstruction.png"]


def test_a_damaged_network_file_is_refused(fitted, tmp_path) -> None:
    task, _ = fitted
    path = save_network(tmp_path / "n.safetensors", task.fitted())
    wrong = dataclasses.replace(task.config, model=dataclasses.replace(task.config.model, width=32))
    save_network(tmp_path / "wrong.safetensors", dataclasses.replace(task.fitted(), config=wrong))
    with pytest.raises(ModelFileError, match="does not match"):
        load_network(tmp_path / "wrong.safetensors")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="damaged or incomplete"):
        load_network(path)


def test_the_render_compression_and_restore_tables_run_on_real_photographs(capsys) -> None:
    """bench/render_table.py, compress_table.py and restore_table.py on one Kodak picture, a few steps: every row has
    its scores and the classical tool's beside them (the tables' own numbers are in bench/results)."""
    from bench import compress_table, render_table, restore_table
    from bench.shared_data import shared_data_dir

    if not (shared_data_dir() / "images" / "kodim01.png").is_file():
        pytest.skip("needs the real data (../shared/data/images)")
    rendered = render_table.main(["--images", "kodim01", "--models", "fourier-mfn", "--steps", "2", "--width", "16"])
    row = rendered["rows"][0]
    assert row["psnr_bicubic"] > 20 and 0 < row["psnr_render"] < row["psnr_bicubic"] + 20
    compressed = compress_table.main(["--images", "kodim01", "--widths", "16", "--steps", "2"])
    row = compressed["rows"][0]
    assert row["weight_bytes"] < row["bytes"] and row["jpeg_bytes"] <= row["bytes"] and row["psnr_jpeg"] > 20
    assert abs(row["psnr"] - row["psnr_fp32"]) < 0.1  # half precision costs nothing a few steps in
    restored = restore_table.main(["--images", "kodim01", "--models", "fourier-mfn", "--masks", "boxes", "pixels",
                                   "--steps", "2", "--width", "16"])
    assert [row["mask"] for row in restored["rows"]] == ["boxes", "pixels"]
    assert 0.45 < restored["rows"][1]["missing"] < 0.55 and restored["rows"][1]["psnr_biharmonic"] > 20
    capsys.readouterr()


def test_the_classical_tools_beside_the_sound_and_video_rows_are_exact_where_they_must_be() -> None:
    """bench/clip_fits.py's baselines: a straight line's gap filled linearly and a cubic's by the spline, to rounding;
    a frame lost from a steady fade blended exactly; the SNR of an estimate off by a tenth of the signal is 20 dB."""
    from bench.clip_fits import interpolated_frames, interpolated_gap, snr

    t = np.arange(400, dtype=np.float64)
    missing = (t >= 150) & (t < 190)
    line, cubic = 0.002 * t - 0.3, 1e-7 * (t - 200) ** 3 - 2e-5 * (t - 100) ** 2
    assert np.abs(interpolated_gap(line, missing, "linear") - line).max() < 1e-12
    assert np.abs(interpolated_gap(cubic, missing, "cubic") - cubic).max() < 1e-9
    assert snr(1.1 * cubic, cubic) == pytest.approx(20.0)
    fade = np.stack([np.full((3, 4, 3), 10 * k, np.uint8) for k in range(6)])
    filled = interpolated_frames(fade, [2, 3])
    assert np.array_equal(filled["linear"], fade) and np.array_equal(filled["repeat"][3], fade[1])


def test_the_restore_and_render_tables_run_on_a_real_sound_and_the_real_video(tmp_path) -> None:
    """The sound and video rows of bench/restore_table.py and render_table.py, a few steps: scores beside the classical
    tools', and the parts written into one table beside the pictures' part."""
    from bench import compress_table, render_table, restore_table
    from bench.clip_fits import bikes, sound_render_rows, sound_restore_rows
    from bench.shared_data import shared_data_dir

    bach = shared_data_dir() / "audio" / "gt_bach.wav"
    if not bach.is_file() or not bikes().is_file():
        pytest.skip("needs the real data (../shared/data/audio, video)")
    clip = {"name": "bach", "path": bach, "start": 1.5, "duration": 0.25, "gap_at": 1.6}
    restored = sound_restore_rows(clip, 0.5, ["fourier-mfn"], 16, 2, 3e-3)[0]
    assert restored["samples"] in (22, 23) and restored["snr_linear"] > restored["snr_cubic"] - 30
    rendered = sound_render_rows(clip, ["fourier-mfn"], 16, 2, 3e-3)[0]
    assert rendered["samples"] == 11025 and rendered["snr_polyphase"] > 25 and rendered["snr_render"] < 25
    prefix = str(tmp_path / "table")
    common = ["--models", "fourier-mfn", "--steps", "2", "--width", "16", "--write", prefix]
    restore_table.main(["--images", "kodim01", "--masks", "boxes"] + common)
    video = restore_table.main(["--media", "video", "--frames", "2:3"] + common)
    assert video["rows"][0]["lost"] == 2 and video["rows"][0]["psnr_linear"] > 15
    table = json.loads((tmp_path / "table.json").read_text())
    assert table["rows"][0]["mask"] == "boxes" and table["video"]["rows"] == video["rows"]
    small = compress_table.main(["--media", "video", "--widths", "16", "--steps", "2", "--write", prefix])["rows"][0]
    assert small["h264_bytes"] <= small["bytes"] and small["psnr_h264"] > small["psnr"]  # 2 steps: H.264 far ahead
    frames = render_table.main(["--media", "video"] + common)["rows"][0]
    assert frames["frames"] == 16 and frames["psnr_linear"] > frames["psnr_linear_between"]
    table = json.loads((tmp_path / "table.json").read_text())
    assert set(table) >= {"rows", "video"} and table["video"]["rows"][0]["psnr_render"] == frames["psnr_render"]


def test_the_codecs_beside_the_network_files_keep_to_the_budget(tmp_path) -> None:
    """Opus and H.264 (PyAV's FFmpeg) at the most that fits a byte budget: under it, faithful when it is generous
    (a two-tone sound at 12 KB a second, 40 dB and more), None when even their lowest setting is larger."""
    from bench.clip_fits import h264_at, opus_at, snr

    t = np.arange(44_100) / 44_100
    wave = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1300 * t)
    size, decoded = opus_at(wave, 44_100.0, 12_000, tmp_path)
    assert size <= 12_000 and decoded.shape == wave.shape and snr(decoded, wave) > 30
    assert opus_at(wave, 44_100.0, 200, tmp_path) is None
    frames = np.stack([np.full((9, 16, 3), 8 * k, np.uint8) for k in range(8)])  # odd height: padded, then cut
    size, decoded = h264_at(frames, 12.5, 4000, tmp_path)
    assert size <= 4000 and decoded.shape == frames.shape and np.abs(decoded.astype(int) - frames).max() <= 3
    assert h264_at(frames, 12.5, 100, tmp_path) is None
