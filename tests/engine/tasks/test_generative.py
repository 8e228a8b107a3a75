"""Generative training with JIIO latents: the loop runs, weights move, μ*-warm-started adjoints, safe model files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config import JIIOConfig, PriorConfig, SolverConfig
from engine.model_store import ModelFileError, load_model
from engine.models.mdeq import MDEQDecoder
from engine.datasets.mnist import image_dataset, load_mnist
from engine.tasks.generative import GenerativeTrainTask


def blobs(n: int, size: int = 12, seed: int = 0) -> np.ndarray:
    """Gray images of one bright disc each."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    out = []
    for _ in range(n):
        cy, cx, r = rng.uniform(3, size - 3, 2).tolist() + [rng.uniform(2, 4)]
        out.append(((np.hypot(y - cy, x - cx) < r) * 255).astype(np.uint8))
    return np.stack(out)


def tiny_config(**kw) -> PriorConfig:
    return PriorConfig(latent=8, channels=(8, 16), steps=4, batch_size=8, jiio=JIIOConfig(iterations=6, alpha=(0.05, 0.02)),
                       solver=SolverConfig(solver="anderson", max_iter=20, tol=1e-3), gmm_components=2, device="cpu",
                       **kw)


def test_training_steps_update_the_decoder_and_record_latents(tmp_path) -> None:
    task = GenerativeTrainTask(tiny_config(), blobs(40), blobs(10, seed=1), torch.device("cpu"))
    before = [p.detach().clone() for p in task.decoder.parameters()]
    rows = [task.step() for _ in range(4)]
    assert all(np.isfinite(r["loss"]) and r["jiio_ms"] > 0 for r in rows)
    assert all("adjoint_iters" in r for r in rows)
    assert any(not torch.equal(a, b) for a, b in zip(before, task.decoder.parameters()))
    assert int(task.seen.sum()) > 0
    scores = task.evaluate()
    assert "psnr_held_out" in scores and task.previews["held_out"].dtype == np.uint8
    written = task.export(tmp_path)
    kind, arch, state, extra = load_model(written)
    assert kind == "mdeq-decoder" and arch["latent"] == 8 and (tmp_path / "samples.png").is_file()
    again = MDEQDecoder(arch["latent"], tuple(arch["channels"]), arch["image_size"])
    again.load_state_dict(state)
    # the weights' float32 sum: measured 6e-8 off
    assert extra["gmm_means"].shape[1] == 8 and extra["gmm_weights"].sum().item() == pytest.approx(1.0, abs=1e-5)


def test_stored_mixture_draws_have_its_moments() -> None:
    from engine.tasks.generative import sample_mixture

    weights = torch.tensor([0.25, 0.75])
    means = torch.tensor([[4.0, 0.0], [-1.0, 2.0]])
    covariances = torch.stack([torch.eye(2) * 0.25, torch.tensor([[1.0, 0.5], [0.5, 1.0]])])
    draws = sample_mixture({"gmm_weights": weights, "gmm_means": means, "gmm_covariances": covariances}, 40_000,
                           torch.Generator().manual_seed(0))
    expected_mean = weights @ means
    # Sampling error: the mean of 40,000 draws of standard deviation 2.3 errs by 0.012 (rms), the covariance by 0.03;
    # over 200 seeds at most 0.034 and 0.073, at seed 0 0.006 and 0.014 (the same draws on every kernel and thread
    # count).
    assert torch.allclose(draws.mean(0), expected_mean, atol=0.05)
    second = covariances[1] + torch.outer(means[1] - expected_mean, means[1] - expected_mean)
    first = covariances[0] + torch.outer(means[0] - expected_mean, means[0] - expected_mean)
    assert torch.allclose(torch.cov(draws.T), 0.25 * first + 0.75 * second, atol=0.1)


def test_adjoint_scale_turns_jiio_loss_into_the_batch_mean() -> None:
    task = GenerativeTrainTask(tiny_config(), blobs(20), blobs(4), torch.device("cpu"))
    images = task.train_images[:8]
    assert task.adjoint_scale(images) == pytest.approx(1.0 / (8 * 144))


def test_model_files_refuse_garbage(tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ModelFileError):
        load_model(bad)


def test_mnist_and_image_folders_become_datasets(data_dir, tmp_path) -> None:
    x, y = load_mnist(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz", data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and y.max() == 9
    split = image_dataset(data_dir / "mnist")
    assert len(split["train"][0]) == 8000 and len(split["held_out"][0]) == 2000
    patches = image_dataset(data_dir / "images", patches_per_image=5)
    assert patches["train"][0].shape[1:] == (28, 28) and len(patches["train"][0]) == 45


def test_train_prior_verb_writes_a_run_and_resumes(tmp_path) -> None:
    from PIL import Image

    from engine import cli
    from engine.run_directory import RunDirectory

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((40, 40)) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    out = tmp_path / "prior"
    small = ["--data", str(folder), "--latent", "8", "--channels", "8", "16", "--batch-size", "8",
             "--jiio-iterations", "6", "--solver-max-iter", "10", "--gmm-components", "2", "--log-every", "1",
             "--eval-every", "3", "--device", "cpu", "--out", str(out)]
    assert cli.main(["train-prior", *small, "--steps", "3"]) == 0
    assert (out / "prior.safetensors").is_file() and (out / "samples.png").is_file()
    assert cli.main(["resume", str(out), "--steps", "4"]) == 0
    rows = RunDirectory(out).read_metrics()
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and "psnr_held_out" in rows[2]
    missing = ["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "never")]
    assert cli.main(["train-prior", "--steps", "1", "--device", "cpu", *missing]) == cli.EXIT_BAD_INPUT
