"""Parity of our six 1L image models with the authors' code of (Implicit)² (locuslab/ImpSq, the oracle).

For each of siren-inj, isiren, fourier-mfn, fourier-imfn, gabor-mfn, gabor-imfn, the authors' model of the image
generalization experiment (`get_summary_dict(2, 3, ..., input_scale=128.)`, built by their `get_model`) is made at a
small width, its weights are copied into ours (built as `deq-studio fit` builds it at the reference protocol:
spectral norm, input scale 128, Picard to relative 1e-3 in at most 100 iterations, Neumann order-1 backward), and both
are run on the same random coordinates in [−1, 1]² and targets:
- explicit models: the output and the gradient of the MSE loss with respect to every parameter;
- implicit models: the cold solve from z = 0 (their forward iteration, our Picard: within the solver tolerance, and
  exact once ours is given the one more application of f that theirs makes), then one amortized training step from
  the same stored z (their `skip_solver=True` with the one-step backward, ours `iterate=False`): output and
  gradients.

    python bench/authors_parity.py --authors-code PATH_TO_ImpSq_checkout [--width 16] [--coords 256] [--seed 0]

Prints one JSON object ({"width", "coords", "torch", "models": {name: {"output_max_abs", "grad_max_rel",
"cold_solve_output_max_abs", "cold_solve_z_rel", ..., "ok"}}, "all_ok"}) on stdout; exits 0 when every model is
within tolerance, else 1. The authors' modules are imported from --authors-code at run time (a sys.path entry);
nothing of theirs is copied into this project.

    python bench/authors_parity.py --authors-code PATH --time 10 --width 256 [--grid 256]

times one training step of each model instead, ours and theirs in turn with the same weights (JSON: {"models": {name:
{"ours_ms", "theirs_ms", "speedup"}}, ...}). Measured on this project's 2-core CPU at one thread, their DEQ-Fourier
step took 1472 ms in a process of its own (glibc's allocator defaults, as their script runs) and 828 ms beside ours,
where the engine's allocator setting applies to both (see ALLOCATOR_NOTE).

    python bench/authors_parity.py --authors-code PATH --train 500 --image IMAGE [--side 256] [--models ...]

trains both from the same weights, each as its own code trains, and scores the held-out pixels: ours, theirs as
their script scores it (training mode) and theirs with the spectral-norm vectors it trained with (eval mode).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.div2k_table import FAMILY, authors_key  # noqa: E402
from bench.reference_protocol import COUNTERPART, MODELS  # noqa: E402
from engine.config import BackwardConfig, EquilibriumConfig, ModelConfig, SolverConfig  # noqa: E402
from engine.models.inr import build_inr  # noqa: E402

INPUT_SCALE, SOLVER_TOL, SOLVER_MAX_ITER = 128.0, 1e-3, 100
EXACT_TOL = 1e-4
"""Output and gradients of one application from the same weights and z differ only by float32 rounding in a different
order of operations (our blocked filters and fused products): the sine arguments Ωx + φ reach ~100 rad at input scale
128, where one float32 ulp is ~1e-5, so sums ordered differently differ by ~1e-5 relative. We allow 10× that,
relative to each tensor's largest entry (an output's, a gradient's)."""
SPECTRAL_WARMUP_CALLS = 200
"""Their spectral norm (modules/utils.py) runs 5 power iterations on every call of the layer, as they never call
.eval(): a cold solve of k iterations refines σ's estimate 5(k + 1) times, ours 5 times per forward. After a few
training steps both estimates have converged; we compare in that state, reached by their own hook beforehand, and
hand their u, v to ours before each compared forward so that both start their 5 iterations from the same vectors.
(From fresh random u, v the first cold solves differed by ~1e-2 relative at width 16: a first-step-only difference.)"""
COORDINATE_COLUMNS = ("x_map.weight", ".mu")
"""Their tensors whose columns multiply the coordinates. Their pixel (r, c) is (x_c, x_r) (np.meshgrid, 'xy'), ours
(x_r, x_c) (indexing='ij'): each model is fed its own convention for the same pixels, and these columns are swapped."""
UNMAPPED = ("x_map_2.weight", "x_map_2.bias", "init_filter_in")
"""Theirs only: FourierFilter's x_map_2 is never used in its forward; init_filter_in is the constant input of their
first filter (ones for Fourier/Gabor, zeros for SIREN), which our cells build in."""


ALLOCATOR_NOTE = ("both codes run with glibc's mmap and trim thresholds raised (engine.allocator, applied to the "
                  "whole process when the engine is imported): this times the models' code alone; their script runs "
                  "with glibc's defaults")


def authors_modules(path: Path):
    """(get_model, get_summary_dict) from the authors' checkout at `path`."""
    if not (path / "modules" / "modeling_utils.py").is_file():
        sys.exit(f"no modules/modeling_utils.py under {path}: pass a checkout of locuslab/ImpSq as --authors-code")
    # Their modules/utils.py imports plyfile for its mesh export, which nothing here calls; our venv lacks it, so an
    # empty stand-in is registered when missing. Everything else they import (scipy, skimage, tqdm, configargparse)
    # is in our venv.
    if importlib.util.find_spec("plyfile") is None:
        sys.modules["plyfile"] = types.ModuleType("plyfile")
    sys.path.insert(0, str(path))
    from modules.modeling_utils import get_model, get_summary_dict
    return get_model, get_summary_dict


def name_map(model: str) -> dict[str, str]:
    """Their parameter and buffer names → ours, for a 1-layer model."""
    f = "implicit_layer.f."
    names = {"output_map.weight": "readout.weight", "output_map.bias": "readout.bias",
             f + "layers.0.z_map.weight_orig": "weights.0", f + "layers.0.z_map.bias": "biases.0",
             f + "layers.0.z_map.weight_u": "shrinks.0.u", f + "layers.0.z_map.weight_v": "shrinks.0.v"}
    family = FAMILY[model]
    ours_of = ({"init_filter.": "first.", "layers.0.filter.": "inputs.0."} if family == "siren_like"
               else {"init_filter.": "filters.0.", "layers.0.filter.": "filters.1."})
    for theirs, ours in ours_of.items():
        linear = ours + "linear." if family == "gabor" else ours
        names[f + theirs + "x_map.weight"], names[f + theirs + "x_map.bias"] = linear + "omega", linear + "phase"
        if family == "gabor":  # γ (D,) and μ (D, 2)
            names[f + theirs + "gamma"], names[f + theirs + "mu"] = ours + "gamma", ours + "mu"
    return names


def as_ours(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """Their tensor in our layout: coordinate columns (col, row) → (row, col)."""
    return tensor[:, [1, 0]] if name.endswith(COORDINATE_COLUMNS) else tensor


def tensors_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def copy_weights(theirs: torch.nn.Module, ours: torch.nn.Module, names: dict[str, str]) -> None:
    """Theirs → ours through `names`, checking that the map covers every tensor of both models."""
    their_tensors, our_tensors = tensors_of(theirs), tensors_of(ours)
    left = [n for n in their_tensors if n not in names and not n.endswith(UNMAPPED)]
    missing = set(our_tensors) - set(names.values())
    assert not left and not missing, f"unmapped: theirs {left}, ours {sorted(missing)}"
    with torch.no_grad():
        for their_name, our_name in names.items():
            our_tensors[our_name].copy_(as_ours(their_name, their_tensors[their_name]))


def sync_spectral_state(theirs: torch.nn.Module, ours: torch.nn.Module, names: dict[str, str]) -> None:
    their_tensors, our_tensors = tensors_of(theirs), tensors_of(ours)
    with torch.no_grad():
        for their_name in (n for n in names if n.endswith(("weight_u", "weight_v"))):
            our_tensors[names[their_name]].copy_(their_tensors[their_name])


def converge_spectral_state(theirs: torch.nn.Module) -> None:
    """Run their own spectral-norm hook until its power iteration has converged (see SPECTRAL_WARMUP_CALLS)."""
    for module in theirs.modules():
        for hook in module._forward_pre_hooks.values():
            if type(hook).__name__ == "SpectralNorm":
                for _ in range(SPECTRAL_WARMUP_CALLS):
                    hook.compute_weight(module, do_power_iteration=True)


def max_rel(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    """max |ours − theirs| relative to theirs' largest entry."""
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-30))


def grad_gap(theirs: torch.nn.Module, ours: torch.nn.Module, names: dict[str, str]) -> float:
    """The worst max_rel over every parameter's gradient (in our layout)."""
    their_params, our_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    worst = 0.0
    for their_name, our_name in names.items():
        if their_name not in their_params:
            continue  # a buffer
        theirs_grad, ours_grad = their_params[their_name].grad, our_params[our_name].grad
        if theirs_grad is None or ours_grad is None:
            return float("inf")
        worst = max(worst, max_rel(ours_grad, as_ours(their_name, theirs_grad)))
    return worst


def pair(model: str, width: int, seed: int, get_model, get_summary_dict, input_scale: float = INPUT_SCALE):
    """(theirs, ours, name map): their model of `model` at `width` as their script builds it, and ours as
    `deq-studio fit` builds it at the reference protocol, holding the same weights."""
    torch.manual_seed(seed)
    summary = get_summary_dict(2, 3, ["fourier", "gabor", "siren_like"], [(1, width)], input_scale=input_scale)
    theirs = get_model(summary[authors_key(model, width)]["config"])  # stays in training mode, as in their script
    converge_spectral_state(theirs)
    equilibrium = EquilibriumConfig(
        forward=SolverConfig(solver="picard", tol=SOLVER_TOL, max_iter=SOLVER_MAX_ITER, stop_mode="rel"),
        backward=BackwardConfig(mode="neumann", neumann_order=1))
    ours = build_inr(ModelConfig(model=model, width=width, layers=1, input_scale=input_scale, spectral_norm=True),
                     2, 3, input_scale=input_scale, spectral_norm=True, equilibrium=equilibrium).train()
    names = name_map(model)
    copy_weights(theirs, ours, names)
    return theirs, ours, names


def training_steps(theirs, ours, implicit: bool, x_ours: torch.Tensor, target: torch.Tensor):
    """(ours_step, theirs_step): one full-batch training step each as its own code takes it (the first of an implicit
    model from a cold solve, then amortized from the z the step before left: their `skip_solver` step with its z
    update, ours `iterate=False`), MSE, backward, Adam 1e-3. Theirs is fed the same points as (column, row)."""
    x_theirs = x_ours.flip(-1)
    optimizers = {"ours": torch.optim.Adam(ours.parameters(), 1e-3),
                  "theirs": torch.optim.Adam(theirs.parameters(), 1e-3)}
    state: dict = {"ours": None, "theirs": None}  # each side's stored z (None: solve cold)

    def ours_step() -> None:
        z = state["ours"]
        output = ours(x_ours, z, iterate=z is None) if implicit else ours(x_ours)
        state["ours"] = output.z.detach() if implicit else None
        optimizers["ours"].zero_grad()
        torch.mean((output.y - target) ** 2).backward()
        optimizers["ours"].step()

    def theirs_step() -> None:
        z = state["theirs"]
        output = theirs(x_theirs, z, skip_solver=z is not None) if implicit else theirs(x_theirs)
        state["theirs"] = output["imp_layer_output"].detach() if implicit else None
        optimizers["theirs"].zero_grad()
        torch.mean((output["output"] - target) ** 2).backward()
        optimizers["theirs"].step()

    return ours_step, theirs_step


def time_steps(model: str, width: int, side: int, steps: int, seed: int, get_model, get_summary_dict) -> dict:
    """Milliseconds per training step, ours and theirs, timed in turn in this one process: full batch over the
    training half of a (2·side)² image (a side × side grid), one amortized step for an implicit model, MSE, backward,
    Adam: what each script times as a step. The median of `steps` steps each, after 2 untimed ones (the first of
    them the cold solve)."""
    theirs, ours, _ = pair(model, width, seed, get_model, get_summary_dict)
    axis = (torch.linspace(0, 1, 2 * side) * 2 - 1)[::2]
    x_ours = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)  # our grid path sees a grid
    target = torch.rand(len(x_ours), 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    ours_step, theirs_step = training_steps(theirs, ours, model in COUNTERPART, x_ours, target)
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for index in range(steps + 2):
        for who, step in (("ours", ours_step), ("theirs", theirs_step)):
            start = time.perf_counter()
            step()
            if index >= 2:
                times[who].append(1000 * (time.perf_counter() - start))
    ours_ms, theirs_ms = (float(np.median(times[who])) for who in ("ours", "theirs"))
    return {"ours_ms": ours_ms, "theirs_ms": theirs_ms, "speedup": theirs_ms / ours_ms}


def train_alike(model: str, image: Path, side: int, steps: int, seed: int, get_model, get_summary_dict) -> dict:
    """Ours and theirs from the same weights, each trained `steps` steps as its own code trains (`training_steps`)
    on the training pixels of `image` read at `side`² (input scale 128 · side / 512), then scored on the held-out
    pixels after a solve from zero: theirs as their script scores it (in training mode: their spectral norm refines
    σ at every call inside that solve) and with the vectors it trained with (eval mode)."""
    from engine.config import SignalConfig
    from engine.media import load_image
    from engine.media.base import generalization_split
    from engine.metrics import psnr

    theirs, ours, _ = pair(model, 256, seed, get_model, get_summary_dict, INPUT_SCALE * side / 512)
    signal = load_image(image, SignalConfig(max_size=side))
    train, test = generalization_split(signal)
    x, y = signal.coords, signal.values
    ours_step, theirs_step = training_steps(theirs, ours, model in COUNTERPART, x[train], y[train])
    for _ in range(steps):
        ours_step()
    for _ in range(steps):
        theirs_step()
    report = {}
    with torch.no_grad():
        ours.eval()
        report["ours"] = psnr(ours(x).y[test], y[test])
        theirs.eval()  # first: their hook then leaves u, v as training left them
        report["theirs_eval_mode"] = psnr(theirs(x.flip(-1))["output"][test], y[test])
        theirs.train()
        report["theirs_as_their_script"] = psnr(theirs(x.flip(-1))["output"][test], y[test])
    return report


def compare(model: str, width: int, coords: int, seed: int, get_model, get_summary_dict) -> dict:
    implicit = model in COUNTERPART
    theirs, ours, names = pair(model, width, seed, get_model, get_summary_dict)

    generator = torch.Generator().manual_seed(seed)
    x_ours = torch.rand(coords, 2, generator=generator) * 2 - 1  # (row, col) of random points of the image
    x_theirs = x_ours.flip(-1)  # the same points as (col, row)
    target = torch.rand(coords, 3, generator=generator) * 2 - 1  # their targets are images mapped to [−1, 1]
    report: dict = {}
    z_stored = None
    if implicit:  # the cold solve of the first training step, then its result stored as the amortized steps' z
        sync_spectral_state(theirs, ours, names)
        with torch.no_grad():
            ours_cold = ours(x_ours)
            theirs_cold = theirs(x_theirs)
        z_stored = theirs_cold["imp_layer_output"]
        report["cold_solve_output_max_abs"] = float((ours_cold.y - theirs_cold["output"]).abs().max())
        # Both stop at the first iterate with ‖f(z) − z‖ ≤ tol ‖f(z)‖ (norms over all N × D entries); ours
        # then returns f(z), theirs f(f(z)), and f is a contraction (‖W‖ ≤ 0.97, filters bounded by 1): the two
        # results differ by at most 0.97 tol ‖f(z)‖.
        report["cold_solve_z_rel"] = float((ours_cold.z - z_stored).norm() / z_stored.norm())
        report["cold_solve_iters"] = {"ours": ours_cold.stats.nstep, "theirs": theirs_cold["forward_steps"]}
        with torch.no_grad():  # our f once more: their stopping point, which leaves float32 rounding only
            ours_further = ours(x_ours, ours_cold.z, iterate=False).y
        report["cold_solve_one_more_max_abs"] = float((ours_further - theirs_cold["output"]).abs().max())

    sync_spectral_state(theirs, ours, names)
    ours_y = ours(x_ours, z_stored, iterate=False).y if implicit else ours(x_ours).y
    theirs_y = (theirs(x_theirs, z_stored.clone(), skip_solver=True) if implicit else theirs(x_theirs))["output"]
    torch.mean((ours_y - target) ** 2).backward()
    torch.mean((theirs_y - target) ** 2).backward()  # their training loss
    scale = float(theirs_y.detach().abs().max())
    report["output_max_abs"] = float((ours_y - theirs_y).detach().abs().max())
    report["grad_max_rel"] = grad_gap(theirs, ours, names)
    report["ok"] = (report["output_max_abs"] <= EXACT_TOL * scale and report["grad_max_rel"] <= EXACT_TOL
                    and (not implicit or report["cold_solve_z_rel"] <= SOLVER_TOL
                         and report["cold_solve_one_more_max_abs"] <= EXACT_TOL * scale))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authors-code", type=Path, required=True, help="a checkout of locuslab/ImpSq")
    parser.add_argument("--width", type=int, default=16, help="hidden width of every model")
    parser.add_argument("--coords", type=int, default=256, help="random coordinates compared on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--time", type=int, default=0, metavar="STEPS",
                        help="instead: time STEPS training steps of each model, ours and theirs in turn, at --width "
                             "on the training half of a 512² image (--grid 256)")
    parser.add_argument("--grid", type=int, default=256, help="the timed grid's side")
    parser.add_argument("--train", type=int, default=0, metavar="STEPS",
                        help="instead: train both from the same weights for STEPS steps on --image at --side² and "
                             "score the held-out pixels (width 256)")
    parser.add_argument("--image", type=Path, default=None, help="the image --train fits")
    parser.add_argument("--side", type=int, default=256, help="the side --train reads the image at")
    args = parser.parse_args(argv)
    get_model, get_summary_dict = authors_modules(args.authors_code.resolve())
    if args.train:
        if args.image is None:
            sys.exit("--train needs --image")
        trained = {model: train_alike(model, args.image, args.side, args.train, args.seed, get_model,
                                      get_summary_dict) for model in args.models}
        print(json.dumps({"image": args.image.name, "side": args.side, "steps": args.train, "seed": args.seed,
                          "torch": torch.__version__, "models": trained}, indent=1))
        return 0
    if args.time:
        timed = {model: time_steps(model, args.width, args.grid, args.time, args.seed, get_model, get_summary_dict)
                 for model in args.models}
        print(json.dumps({"width": args.width, "grid": args.grid, "steps": args.time, "threads":
                          torch.get_num_threads(), "torch": torch.__version__, "allocator": ALLOCATOR_NOTE,
                          "models": timed}, indent=1))
        return 0
    models = {model: compare(model, args.width, args.coords, args.seed, get_model, get_summary_dict)
              for model in args.models}
    all_ok = all(report["ok"] for report in models.values())
    print(json.dumps({"width": args.width, "coords": args.coords, "torch": torch.__version__, "models": models,
                      "all_ok": all_ok}, indent=1))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
