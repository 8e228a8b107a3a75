"""Peak memory of real fits against `engine.memory`'s estimate, printed as JSON.

    python bench/memory_model.py            # every case: measured, estimated, ratio
    python bench/memory_model.py --fit      # also the least-squares coefficients over the calibration cases

Each case runs in a fresh process: load the file, note the resident memory, build the fit, take two training steps
and one evaluation, and report the peak resident memory (ru_maxrss) above the noted one. Calibration cases fit the
coefficients; check cases (other media, sizes and widths) test them: the estimate should be within ±30 %.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shared_data import shared_data_dir, use_shared_data  # noqa: E402

DATA = shared_data_dir()
CASES = {
    # name: (role, file, options)
    "image256-w64": ("calibrate", "images/kodim05.png", {"model": {"width": 64}}),
    "image256-w256": ("calibrate", "images/kodim05.png", {"model": {"width": 256}}),
    "image512-w128": ("calibrate", "images512/kodim05.png", {"model": {"width": 128}}),
    "image512-w128-no-buffer": ("calibrate", "images512/kodim05.png", {"model": {"width": 128}, "amortize": False}),
    "audio3s-w128": ("calibrate", "audio/gt_bach.wav", {"model": {"width": 128}, "signal": {"audio_duration_s": 3.0}}),
    "mesh-w128": ("calibrate", "meshes/bunny.obj", {"model": {"width": 128}, "signal": {"mesh_points": 100000},
                                                     "eval_points": 65536, "mc_resolution": 64}),
    "image256-w256-generalize": ("calibrate", "images/kodim05.png", {"model": {"width": 256},
                                                                     "protocol": "generalize"}),
    "image256-w128-generalize": ("check", "images/kodim02.png", {"model": {"width": 128}, "protocol": "generalize"}),
    "image512-w256": ("check", "images512/kodim01.png", {"model": {"width": 256}}),
    "image256-w64-layers4": ("calibrate", "images/kodim03.png", {"model": {"width": 64, "layers": 4}}),
    "audio1s-w128-layers4": ("check", "audio/gt_bach.wav", {"model": {"width": 128, "layers": 4},
                                                            "signal": {"audio_duration_s": 1.0}}),
    "audio1s-w256": ("check", "audio/gt_bach.wav", {"model": {"width": 256}, "signal": {"audio_duration_s": 1.0}}),
    "video-w128": ("check", "video/bikes.mp4", {"model": {"width": 128},
                                                "signal": {"max_size": 96, "video_max_frames": 12}}),
    "mesh-w256": ("check", "meshes/torusknot.obj", {"model": {"width": 256}, "signal": {"mesh_points": 60000},
                                                    "batch_size": 30000, "eval_points": 65536,
                                                    "mc_resolution": 64}),
}


def merged(base: dict, changes: dict) -> dict:
    for key, value in changes.items():
        base[key] = merged(base[key], value) if isinstance(value, dict) else value
    return base


def measure_one(file: str, options: dict) -> dict:
    """In this process: the peak resident memory of building the fit and running 2 steps and one evaluation."""
    import resource

    import psutil
    import torch

    from engine.config import FitConfig, from_dict, to_dict
    from engine.media import load_signal
    from engine.memory import fit_memory
    from engine.tasks.kinds import build_fit_task

    torch.set_num_threads(2)
    config = from_dict(FitConfig, merged(to_dict(FitConfig(device="cpu")), options))
    signal = load_signal(DATA / file, config.signal)
    estimate = fit_memory(config, signal)
    del signal
    before = psutil.Process().memory_info().rss
    task = build_fit_task(DATA / file, config, torch.device("cpu"))
    for _ in range(2):
        task.step()
    task.evaluate()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    parts = {k: getattr(estimate, k) for k in ("training", "buffer", "evaluation", "data", "fixed")}
    return {"measured": peak - before, "estimate": estimate.total, "parts": parts,
            "units": unit_counts(config, task)}


def unit_counts(config, task) -> dict:
    """The products the model's coefficients multiply, read from the built task."""
    from engine.memory import EVAL_CHUNK

    width, layers = task.config.model.width, task.config.model.layers
    n_train = len(task.train_x)
    batch = min(n_train, task.config.batch_size or n_train)
    n_eval = len(task.coords) if hasattr(task, "coords") else EVAL_CHUNK
    chunk = min(n_eval, EVAL_CHUNK)
    return {"train": batch * width, "train_layers": batch * width * (layers - 1), "eval": chunk * width,
            "eval_filters": chunk * width * (layers + 1), "batch_over_chunk": min(1.0, batch / chunk),
            "buffer": n_train * width if task.training.buffer.z is not None else 0}


def main() -> None:
    use_shared_data()
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        role, file, options = CASES[sys.argv[2]]
        print(json.dumps(measure_one(file, options)))
        return
    results = {}
    for name, (role, _, _) in CASES.items():
        out = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["role"], row["ratio"] = role, row["estimate"] / row["measured"]
        results[name] = row
        print(f"{name:28s} {role:9s} measured {row['measured'] / 1e6:8.0f} MB  estimate "
              f"{row['estimate'] / 1e6:8.0f} MB  ratio {row['ratio']:.2f}", file=sys.stderr, flush=True)
    summary = {"cases": results,
               "worst_check_ratio": max((abs(r["ratio"] - 1) for r in results.values() if r["role"] == "check"),
                                        default=None)}
    if "--fit" in sys.argv:
        summary["fitted"] = fit_coefficients(results)
    print(json.dumps(summary, indent=2))


def fit_coefficients(results: dict) -> dict:
    """The coefficients that minimize the squared log-ratios of estimate to measurement over the calibration cases
    (each case weighs the same), with the model's own form: training T = a·train + l·train_layers, evaluation
    E = e·eval + f·eval_filters, peak = fixed + data + 4·buffer + T + E − min(T, E)·batch_over_chunk."""
    import numpy as np
    from scipy.optimize import minimize

    from engine.memory import FIXED_BYTES

    rows = [r for r in results.values() if r["role"] == "calibrate"]

    def estimate(row: dict, a: float, layer: float, e: float, f: float) -> float:
        units = row["units"]
        training = a * units["train"] + layer * units["train_layers"]
        evaluation = e * units["eval"] + f * units["eval_filters"]
        return (FIXED_BYTES + row["parts"]["data"] + 4.0 * units["buffer"] + training + evaluation
                - min(training, evaluation) * units["batch_over_chunk"])

    def loss(coefficients: np.ndarray) -> float:
        if coefficients.min() < 0:
            return 1e9
        return sum(np.log(estimate(r, *coefficients) / r["measured"]) ** 2 for r in rows)

    fitted = minimize(loss, np.array([90.0, 10.0, 20.0, 10.0]), method="Nelder-Mead", options={"maxiter": 4000}).x
    return dict(zip(("train_bytes_per_unit", "layer_bytes_per_unit", "eval_bytes_per_unit", "filter_bytes_per_unit"),
                    map(float, fitted)))


if __name__ == "__main__":
    main()
