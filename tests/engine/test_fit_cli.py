"""`deq-studio fit` and `resume` end to end: run folder contents, metrics rows, exit codes, exact resumption."""
from __future__ import annotations

import json

import numpy as np
import open3d as o3d
import pytest
import soundfile as sf
from PIL import Image

from engine import cli
from engine.checkpoint import CheckpointError, load_checkpoint
from engine.run_directory import RunDirectory
from tests.engine.media_files import malformed_media, tiny_media

FAST = ["--width", "16", "--device", "cpu", "--log-every", "5"]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tiny_media(tmp_path_factory.mktemp("cli"))


def test_fit_generalize_writes_the_run_folder(media, tmp_path) -> None:
    out = tmp_path / "run"
    code = cli.main(["fit", str(media["image"]), "--preset", "full", "--model", "fourier-imfn", "--protocol",
                     "generalize", "--steps", "12", "--out", str(out), *FAST])
    assert code == 0
    record = json.loads((out / "config.json").read_text())
    assert record["task"] == "fit" and record["config"]["model"]["model"] == "fourier-imfn"
    assert record["config"]["model"]["input_scale"] == 4.0  # 128 for 512 pixels, here 16: resolved and written down
    rows = RunDirectory(out).read_metrics()
    assert [r["step"] for r in rows] == [1, 5, 10, 12]
    for key in ("step", "time_s", "loss", "psnr_train", "psnr_test", "solver_iters", "solver_residual"):
        assert all(key in r for r in rows), key
    assert Image.open(out / "reconstruction.png").size == (16, 12)
    kind, config, state = load_checkpoint(out / "checkpoint.pt")
    assert kind == "fit" and state["step"] == 12 and config["steps"] == 12


@pytest.mark.parametrize("medium,suffix", [("audio", "wav"), ("video", "mp4"), ("mesh", "ply")])
def test_fit_writes_the_reconstruction_in_its_medium(media, tmp_path, medium, suffix) -> None:
    extra = {"video": ["--batch-size", "128"],
             "mesh": ["--batch-size", "256", "--mesh-points", "2000", "--eval-points", "4096",
                      "--mc-resolution", "24", "--mesh-target", "sdf"]}.get(medium, [])
    out = tmp_path / medium
    assert cli.main(["fit", str(media[medium]), "--steps", "3", "--out", str(out), *FAST, *extra]) == 0
    written = out / f"reconstruction.{suffix}"
    if medium == "audio":
        assert sf.info(str(written)).frames == 400
    elif medium == "mesh":
        last = RunDirectory(out).read_metrics()[-1]
        assert "iou_uniform" in last and "iou_near" in last
        if "chamfer" in last:  # a surface was found after 3 steps
            assert len(o3d.io.read_triangle_mesh(str(written)).triangles) > 0
    else:
        assert written.stat().st_size > 0


@pytest.mark.parametrize("medium", ["image", "audio", "video", "mesh"])
def test_malformed_file_exits_2_with_one_line(tmp_path, capsys, medium) -> None:
    path = malformed_media(tmp_path)[medium]
    assert cli.main(["fit", str(path), "--steps", "1", "--out", str(tmp_path / "x"), *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deq-studio: error:") and path.name in err and "\n" not in err


def test_bad_options_and_missing_files_exit_2(tmp_path, capsys) -> None:
    assert cli.main(["fit", str(tmp_path / "nope.png"), "--steps", "1"]) == 2
    assert "nope.png does not exist" in capsys.readouterr().err
    assert cli.main(["fit", str(tmp_path / "nope.png"), "--width", "0"]) == 2
    assert "width" in capsys.readouterr().err
    assert cli.main(["resume", str(tmp_path)]) == 2
    assert "config.json" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_corrupt_checkpoint_is_refused(tmp_path) -> None:
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"\x80\x04garbage")
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)


@pytest.mark.parametrize("medium", ["image", "video"])
def test_resume_matches_an_uninterrupted_run(media, tmp_path, medium) -> None:
    extra = ["--batch-size", "100"] if medium == "video" else []
    common = [str(media[medium]), "--model", "gabor-imfn", "--seed", "3", *FAST, *extra]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert cli.main(["fit", *common, "--steps", "20", "--out", str(whole)]) == 0
    assert cli.main(["fit", *common, "--steps", "10", "--out", str(split)]) == 0
    assert cli.main(["resume", str(split), "--steps", "20"]) == 0
    a, b = RunDirectory(whole).read_metrics(), RunDirectory(split).read_metrics()
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):  # exact in fact (measured on AVX2 and AVX-512, one and two threads)
        assert abs(ra["loss"] - rb["loss"]) <= 1e-5, (ra["step"], ra["loss"], rb["loss"])
    assert np.isclose(a[-1]["psnr_train"], b[-1]["psnr_train"], atol=1e-4)
