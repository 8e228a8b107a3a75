"""Several processes under torchrun (gloo on CPU): the same parameters as one process on the same global batch, a
clean stop with the last checkpoint intact when a rank dies, and resuming on another number of processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.distributed import Ranks
from tests.conftest import PROJECT_ROOT

TINY = ["--batch-size", "8", "--channels", "4", "8", "--eval-images", "16", "--attack", "none", "--log-every", "1",
        "--eval-every", "1000", "--device", "cpu"]
EXACT_SOLVES = ["--solver-tol", "1e-12"]
"""Every solve runs all its iterations: a tolerance stops a batch when its slowest sample converges, so a half batch
could stop at another iteration than the whole one."""
JOBS = {
    "adv-train": (["--steps", "3", *TINY], "classifier"),
    # One step: JIIO's 10 Anderson rounds for the latents amplify float32 rounding (1e-7) of the weights, so two
    # runs drift apart after the first step however they are split (the first step's gradients agree to 2e-6).
    "train-prior": (["--steps", "1", "--batch-size", "8", "--jiio-iterations", "10", "--log-every", "1",
                     "--eval-every", "1000", "--device", "cpu"], "decoder"),
    "meta-train": (["--steps", "2", "--tasks-per-step", "4", "--jiio-iterations", "10", "--eval-episodes", "4",
                    "--log-every", "1", "--eval-every", "1000", "--device", "cpu"], "model"),
    # A minibatch fit, its warm-start buffer gathered from both ranks (compared too).
    "fit": (["IMAGE", "--steps", "3", "--batch-size", "64", "--width", "32", "--minibatch-warm-start", "--log-every",
             "1", "--eval-every", "1000", "--device", "cpu"], "model"),
}
"""Each task that runs in several processes: a few steps of a small run, and where its checkpoint keeps the weights."""


def test_one_process_ranks_change_nothing() -> None:
    ranks = Ranks()
    batch = torch.arange(6.0)
    assert ranks.main and not ranks.distributed and ranks.share(batch) is batch and ranks.gather(batch) is batch
    assert ranks.mean({"loss": 2.0}, ("loss",)) == {"loss": 2.0} and ranks.on_any(True) and not ranks.on_any(False)
    torch.manual_seed(3)
    expected = torch.randn(4, 2)
    torch.manual_seed(3)
    assert torch.equal(ranks.randn_like(torch.empty(4, 2)), expected)


def test_a_rank_takes_its_contiguous_share_and_its_share_of_the_global_noise() -> None:
    second = Ranks(rank=1, world=2)
    assert second.share(torch.arange(8)).tolist() == [4, 5, 6, 7]
    with pytest.raises(ValueError, match="multiple of 2"):
        second.share(torch.arange(7))
    torch.manual_seed(5)
    whole = torch.randn(6, 3)
    torch.manual_seed(5)
    assert torch.equal(second.randn_like(torch.empty(3, 3)), whole[3:])


def environment(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "DEQ_STUDIO_DATA": str(data_dir), "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(PROJECT_ROOT)}


def torchrun(processes: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            "-m", "engine.cli"]


def failure(result: subprocess.CompletedProcess) -> str:
    """What a failed job said: every line of its processes that names an error or a signal (torchrun's summary at the
    end names only the exit codes), then the end of its output."""
    telling = [line for line in result.stderr.splitlines()
               if any(word in line for word in ("Error", "error", "Traceback", "terminate", "Abort", "abort", "Signal"))]
    return "\n".join(telling[-40:]) + "\n…\n" + result.stderr[-2000:]


GRADIENT_RTOL = 5e-4
"""How far the two runs' gradients (Adam's first moments) may differ, as a fraction of each tensor's largest: the
global batch is summed in another order (float32 rounding, 1e-7), which the solves amplify; measured at most 9.2e-5
(meta-train, whose 10 JIIO rounds amplify most) on AVX2 and AVX-512 at one and two threads."""
NOISE = 1e-7
"""Gradients this small are rounding noise (a structurally zero gradient comes out near 1e-8)."""
SIGNAL = 0.05
"""Elements whose gradient is at least this fraction of their tensor's largest (and above the noise) carry signal:
their relative gradient error is at most GRADIENT_RTOL / SIGNAL = 1 %."""


def trained(run: Path, key: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], float, int]:
    """The network's parameters (and buffers) after the run, Adam's running mean of each parameter's gradient (the
    optimizer numbers the parameters in the network's order), and the run's learning rate and steps."""
    from engine.runs import resume_run

    _, task, _ = resume_run(run)
    names = [name for name, _ in task.replica.model.named_parameters()]
    state = torch.load(run / "checkpoint.pt", weights_only=True)["state"]
    moments = state["optimizer"]["state"]
    lr = task.config.lr or 1e-3  # a fit's empty lr is Adam's 1e-3
    return state[key], {names[int(i)]: moments[i]["exp_avg"] for i in moments}, lr, task.step_count


def assert_same_training(a: Path, b: Path, key: str) -> None:
    """The same training up to float32 rounding: gradients within GRADIENT_RTOL of each tensor's largest, and the
    parameters as close as Adam lets them be. Adam moves each element by lr·m̂/√v̂, its gradient divided by its own
    size: a relative error ε in an element's gradient moves its step by at most 2ε·lr, so elements carrying signal
    (ε ≤ 1 %) agree within steps·2·1 %·lr, while an element whose gradient is rounding noise (a convolution's bias
    before a GroupNorm: structurally zero; a weight-norm direction nearly orthogonal to its gradient) may step
    anywhere within Adam's bound on a step, a few lr."""
    (weights_a, gradients_a, lr, steps), (weights_b, gradients_b, _, _) = trained(a, key), trained(b, key)
    signal_bound = steps * 2 * (GRADIENT_RTOL / SIGNAL) * lr
    for name, weight in weights_a.items():
        if name not in gradients_b:  # a buffer, or never trained (a few-shot model's idle fixed head)
            assert name not in gradients_a and torch.allclose(weight, weights_b[name], atol=1e-5), name
            continue
        gradient, scale = gradients_b[name], float(gradients_b[name].abs().max())
        assert float((gradients_a[name] - gradient).abs().max()) <= GRADIENT_RTOL * scale + NOISE, name
        difference = (weight - weights_b[name]).abs()
        carrying = gradient.abs() >= max(SIGNAL * scale, 100 * NOISE)
        assert float((difference * carrying).max()) <= signal_bound, name
        assert float(difference.max()) <= 3 * steps * lr, name


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(JOBS))
def test_two_processes_train_the_same_parameters_as_one_on_the_same_global_batch(kind, data_dir, tmp_path) -> None:
    env = environment(data_dir)
    flags, key = JOBS[kind]
    image = tmp_path / "waves.png"
    x = np.linspace(0, 1, 32)
    Image.fromarray((127 + 100 * np.sin(8 * x[:, None]) * np.cos(5 * x[None, :])).astype(np.uint8)).save(image)
    args = [kind, *[str(image) if flag == "IMAGE" else flag for flag in flags], *EXACT_SOLVES]
    two = subprocess.run([*torchrun(2), *args, "--out", str(tmp_path / "two")], env=env, capture_output=True,
                         text=True, timeout=600, cwd=tmp_path)
    assert two.returncode == 0, failure(two)
    assert "in 2 processes" in two.stdout
    one = subprocess.run([sys.executable, "-m", "engine.cli", *args, "--out", str(tmp_path / "one")], env=env,
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert one.returncode == 0, one.stderr[-2000:]
    assert_same_training(tmp_path / "two", tmp_path / "one", key)
    if kind == "fit":
        buffers = [torch.load(tmp_path / run / "checkpoint.pt", weights_only=True)["state"]["buffer"]
                   for run in ("two", "one")]
        assert torch.equal(buffers[0]["filled"], buffers[1]["filled"]) and buffers[0]["filled"].any()
        assert torch.allclose(buffers[0]["z"], buffers[1]["z"], atol=1e-5)
    rows = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    alone = [json.loads(line) for line in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [r["step"] for r in alone]  # rank 0 alone writes: the global batch's loss
    # The first loss is of the same weights on the same batch, summed in another order; later ones are of weights
    # that already differ within Adam's noise (above): measured 1.0e-5 apart at meta-train's second step on AVX-512.
    assert rows[0]["loss"] == pytest.approx(alone[0]["loss"], rel=1e-5)
    assert [r["loss"] for r in rows] == pytest.approx([r["loss"] for r in alone], rel=1e-4)


def rank_pids(rank: int, job: str) -> list[int]:
    """The processes of the job marked `job` (an environment variable its workers inherit) that run `rank`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if f"DEQ_TEST_JOB={job}".encode() in environ and f"RANK={rank}".encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find a rank's process")
def test_a_dead_rank_stops_the_job_with_a_message_and_the_last_checkpoint_resumes(data_dir, tmp_path) -> None:
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    env = {**environment(data_dir), "DEQ_TEST_JOB": marker}
    run = tmp_path / "run"
    job = subprocess.Popen([*torchrun(2), "adv-train", "--steps", "400", *TINY, "--checkpoint-every", "3",
                            "--out", str(run)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (not (run / "checkpoint.pt").is_file() or
                                               len((run / "metrics.jsonl").read_text().splitlines()) < 7):
            assert job.poll() is None, job.communicate()[1][-2000:]
            time.sleep(0.2)
        victims = rank_pids(1, marker)
        assert victims, "rank 1 not found"
        os.kill(victims[0], signal.SIGKILL)
        _, err = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    assert "rank" in err.lower() and ("fail" in err.lower() or "signal" in err.lower())
    state = torch.load(run / "checkpoint.pt", weights_only=True)  # intact: written atomically
    saved = int(state["state"]["step"])
    assert saved >= 3 and saved % 3 == 0
    # The run goes on in one process from its last checkpoint: nothing in it depends on how many processes wrote it.
    resumed = subprocess.run([sys.executable, "-m", "engine.cli", "resume", str(run), "--steps", str(saved + 2)],
                             env=environment(data_dir), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows][-2:] == [saved + 1, saved + 2]
