"""The memory guard: a fit's peak memory estimated from its settings (bench/memory_model.py checks the estimate
against measured peaks) and a fit that does not fit into free memory refused before anything is built or written."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import engine.memory
from engine import cli
from engine.config import FitConfig, ModelConfig
from engine.media import load_signal
from engine.memory import MemoryGuardError, check_memory, estimate_fit_memory, fit_memory
from engine.tasks.kinds import task_kind


def test_the_estimate_grows_with_what_costs_memory() -> None:
    base = FitConfig(model=ModelConfig(width=128, input_scale=256.0, spectral_norm=True), lr=1e-3)
    small = estimate_fit_memory(base, 65536, 65536, 2, 3, buffered=True)
    wide = estimate_fit_memory(dataclasses.replace(base, model=dataclasses.replace(base.model, width=256)),
                               65536, 65536, 2, 3, buffered=True)
    batched = estimate_fit_memory(dataclasses.replace(base, batch_size=4096), 65536, 65536, 2, 3, buffered=False)
    assert wide.training == 2 * small.training and wide.buffer == 2 * small.buffer
    assert batched.training == small.training / 16 and batched.buffer == 0 and batched.total < small.total


def test_a_fit_that_does_not_fit_is_refused_before_anything_is_written(data_dir, tmp_path, monkeypatch,
                                                                        capsys) -> None:
    monkeypatch.setattr(engine.memory, "free_memory", lambda device: 2e9)
    photo = data_dir / "images512" / "kodim01.png"
    out = tmp_path / "run"
    assert cli.main(["fit", str(photo), "--preset", "full", "--device", "cpu", "--out", str(out)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Fitting kodim01.png with these settings would need about" in err and "2.0 GB free" in err
    assert "--preset preview" in err and err.count("\n") == 1 and not out.exists()
    quick = task_kind("fit").preset("preview", torch.device("cpu"), "image")
    estimate = fit_memory(quick, load_signal(photo, quick.signal))
    check_memory(estimate, torch.device("cpu"), "the preview")  # the advice given fits
    with pytest.raises(MemoryGuardError, match="would need about"):
        check_memory(fit_memory(FitConfig(), load_signal(photo)), torch.device("cpu"), "the full fit")


def test_a_full_batch_too_large_is_offered_the_largest_batch_that_fits(data_dir, tmp_path, monkeypatch,
                                                                       capsys) -> None:
    from engine.config import with_paths
    from engine.memory import HEADROOM, check_fit_memory

    photo = data_dir / "images512" / "kodim01.png"
    signal, config = load_signal(photo), FitConfig()
    full = fit_memory(config, signal).total
    monkeypatch.setattr(engine.memory, "free_memory", lambda device: full / 3)
    with pytest.raises(MemoryGuardError, match=r"Train on batches of ([\d,]+) coordinates instead") as caught:
        check_fit_memory(config, signal, torch.device("cpu"), "this fit")
    batch = caught.value.smaller["batch_size"]
    offered = with_paths(config, caught.value.smaller)
    assert fit_memory(offered, signal).total <= HEADROOM * full / 3 < fit_memory(
        dataclasses.replace(config, batch_size=2 * batch), signal).total  # the largest power of two that fits
    check_fit_memory(offered, signal, torch.device("cpu"), "the offer")
    monkeypatch.setattr(engine.memory, "free_memory", lambda device: fit_memory(config, signal).data)
    with pytest.raises(MemoryGuardError, match=r"free\. Choose the Quick preview") as caught:
        check_fit_memory(config, signal, torch.device("cpu"), "this fit")  # not even the data: nothing to offer
    assert caught.value.smaller == {}
    monkeypatch.setattr(engine.memory, "free_memory", lambda device: full / 3)
    code = cli.main(["fit", str(photo), "--preset", "full", "--device", "cpu", "--out", str(tmp_path / "run")])
    assert code == cli.EXIT_BAD_INPUT and f"--batch-size {batch}" in capsys.readouterr().err


@pytest.mark.hostile
def test_a_dataset_task_that_would_not_fit_is_refused_before_its_first_step(data_dir, tmp_path, monkeypatch,
                                                                          capsys) -> None:  # MNIST: the real data
    from engine.tasks.kinds import TASKS, task_kind

    dataset_kinds = [kind for kind in TASKS if not kind.needs_file]
    assert all(kind.memory.bytes_per_state > 0 for kind in dataset_kinds)  # measured, not left at 0
    attack = task_kind("attack").memory
    small, large = attack.estimate(64, 4704), attack.estimate(6400, 4704)
    assert large.total - small.total == pytest.approx(99 * (small.total - engine.memory.FIXED_BYTES))
    monkeypatch.setattr(engine.memory, "free_memory", lambda device: small.total)
    out = tmp_path / "run"
    assert cli.main(["attack", "--count", "640", "--device", "cpu", "--out", str(out)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "This attack run (640 examples solved at once) would need about" in err and "fewer examples" in err
    assert err.count("\n") == 1 and not out.exists()
    assert cli.main(["attack", "--count", "32", "--device", "cpu", "--out", str(out)]) == 0  # the advice fits
