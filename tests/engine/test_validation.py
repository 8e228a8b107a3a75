"""Validation at the boundary: one set of checks for the CLI, config.json and the window's forms (types, finiteness,
choices, cross-field checks after every field is set); images of every Pillow mode read correctly (16-bit scaled,
not clipped); oversized images refused from their header, before anything is decoded."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.config import (ConfigError, FitConfig, InverseConfig, ModelConfig, SolverConfig, from_dict,
                           to_dict)
from engine.media import SignalError, load_signal
from tests.engine.media_files import PILLOW_MODES, image_of_mode


@pytest.mark.parametrize("bad", [{"steps": True}, {"steps": 2.5}, {"steps": "10"}, {"lr": float("inf")},
                                 {"lr": float("nan")}, {"protocol": "memorize"}, {"amortize": 1},
                                 {"model": {"input_scale": float("inf")}}, {"model": {"gabor_alpha": float("inf")}},
                                 {"signal": {"audio_start_s": float("inf")}}, {"model": {"layers": True}}])
def test_config_files_with_wrong_types_or_non_finite_numbers_are_refused(bad) -> None:
    values = to_dict(FitConfig())
    for key, value in bad.items():
        if isinstance(value, dict):
            values[key].update(value)
        else:
            values[key] = value
    with pytest.raises(ConfigError) as info:
        from_dict(FitConfig, values)
    field = next(iter(bad.values())) if not isinstance(next(iter(bad.values())), dict) else None
    assert str(info.value) and (field is None or next(iter(bad)) in str(info.value))


def test_the_same_checks_hold_for_configs_made_in_code() -> None:
    with pytest.raises(ConfigError, match="tol must be a finite number"):
        SolverConfig(tol=float("inf"))
    with pytest.raises(ConfigError, match="width must be a whole number"):
        ModelConfig(width=True)  # type: ignore[arg-type]
    assert SolverConfig(tol=1).tol == 1  # a whole number is a number


@pytest.mark.parametrize("flags", [["--input-scale", "inf"], ["--gabor-alpha", "nan"], ["--lr", "inf"],
                                   ["--audio-start-s", "inf"], ["--log-every", "0"], ["--steps", "-1"]])
def test_cli_options_are_checked_before_anything_runs(flags, tmp_path, capsys) -> None:
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    assert cli.main(["fit", str(image), "--out", str(tmp_path / "run"), *flags]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flags[0].strip("-").replace("-", "_") in err
    assert not (tmp_path / "run").exists()


def test_cross_field_checks_see_every_option(tmp_path) -> None:
    from engine.tasks.kinds import task_kind

    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(mask)
    kind = task_kind("inverse")
    args = cli.build_parser().parse_args(["inverse", "--corruption", "mask", "--mask", str(mask)])
    config, _ = cli.settings(kind, args)
    assert isinstance(config, InverseConfig) and config.corruption == "mask" and config.mask == str(mask)
    with pytest.raises(ConfigError, match="needs --mask"):
        cli.settings(kind, cli.build_parser().parse_args(["inverse", "--corruption", "mask"]))


@pytest.mark.parametrize("mode", PILLOW_MODES)
def test_every_pillow_mode_reads_within_range(mode, tmp_path) -> None:
    values = load_signal(image_of_mode(mode, tmp_path)).values
    assert values.min() >= -1 and values.max() <= 1 and values.std() > 0.2, mode  # spread out, not clipped


def test_sixteen_bit_gray_is_scaled_not_clipped(tmp_path) -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    values = load_signal(tmp_path / "ramp.png").values[:, 0].numpy()
    expected = ramp.reshape(-1) / 65535.0 * 2 - 1
    assert np.abs(values - expected).max() < 1e-4  # was: everything above 255 read as white


def png_header_only(path, width: int, height: int) -> None:
    """A PNG that declares `width`×`height` and holds no pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(20000, 20000), (9000, 9000)])
def test_oversized_images_are_refused_from_their_header(size, tmp_path) -> None:
    path = tmp_path / "bomb.png"
    png_header_only(path, *size)
    with pytest.raises(SignalError, match=rf"bomb.png is {size[0]}×{size[1]} pixels .* Shrink it"):
        load_signal(path)


def stored_classifier(path, arch_changes=None, weights=None):
    from engine.model_store import save_model
    from tests.engine.tasks.test_inverse_attack import tiny_classifier

    model = tiny_classifier()
    arch = {"channels": [8, 16], "image_size": 28, "classes": 2, **(arch_changes or {})}
    if weights is not None:
        weights(model)
    return save_model(path, model, "mdeq-classifier", arch)


@pytest.mark.parametrize("case, expected", [
    ({"arch_changes": {"channels": [60000, 60000]}}, "declares channels"),
    ({"arch_changes": {"image_size": 10 ** 6}}, "declares image_size"),
    ({"arch_changes": {"classes": "ten"}}, "declares classes"),
    ({"arch_changes": {"channels": [16, 32]}}, "weights do not fit"),
    ({"weights": lambda model: next(model.parameters()).data.fill_(float("nan"))}, "not numbers"),
])
def test_damaged_model_files_are_refused_before_they_are_used(case, expected, tmp_path) -> None:
    from engine.model_store import ModelFileError
    from engine.models.mdeq.stored import load_classifier

    path = stored_classifier(tmp_path / "classifier.safetensors", **case)
    with pytest.raises(ModelFileError, match=f"classifier.safetensors is damaged .*{expected}"):
        load_classifier(path)


def test_a_checkpoint_that_does_not_fit_its_settings_is_a_sentence(tmp_path, capsys) -> None:
    import json

    image = tmp_path / "x.png"
    Image.fromarray((np.random.default_rng(0).random((12, 16)) * 255).astype(np.uint8)).save(image)
    out = tmp_path / "run"
    assert cli.main(["fit", str(image), "--steps", "2", "--width", "16", "--device", "cpu", "--out", str(out)]) == 0
    record = json.loads((out / "config.json").read_text())
    record["config"]["model"]["width"] = 24  # edited by hand: the checkpoint's weights are 16 wide
    (out / "config.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert cli.main(["resume", str(out), "--steps", "4"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "checkpoint.pt in run does not fit the run's settings" in err and err.count("\n") == 1
    (out / "config.json").write_text('{"task": "fit"}')
    assert cli.main(["resume", str(out)]) == cli.EXIT_BAD_INPUT
    assert "is not a DEQ Studio run record" in capsys.readouterr().err
