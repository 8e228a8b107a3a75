"""Solver benchmark on an iSIREN-like equilibrium layer: iterations and milliseconds to a relative tolerance.

    z = sin(W (z + sin(U₀ x + c₀)) + b + U₁ x + c₁),   x ∈ [−1, 1]² on a 128×128 grid (16,384 coordinates),
    width 256, ‖W‖₂ = 0.97, input_scale 256; every coordinate is one sample of the batch.

Cold: solve from zero. Warm: perturb W by ‖ΔW‖ = 1e-3‖W‖ (about one Adam step early in training) and solve from
the previous equilibrium. The sine's random phases keep this layer's effective contraction well below ‖W‖, so a
second block, `near_linear`, runs the cold solves on z = tanh(A z + 0.05·inj) (4,096 coordinates) with A symmetric,
eigenvalues spread over [0, 0.97]: its Jacobian stays close to A, plain iteration is slow and acceleration pays.
Prints one JSON object; `speedup_vs_picard` compares times measured in this run.

    python bench/solvers.py [--device auto|cpu|cuda] [--coords 16384] [--width 256] [--tol 1e-4]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.device import resolve_device  # noqa: E402
from engine.solver_probe import isiren_probe  # noqa: E402
from engine.solvers import SOLVERS, solve  # noqa: E402
from engine.timing import timed  # noqa: E402


def timed_solve(name: str, f, z0: torch.Tensor, tol: float, max_iter: int, repeats: int) -> tuple[dict, torch.Tensor]:
    times, stats, z = [], None, z0
    for _ in range(repeats):
        (z, stats), ms = timed(z0.device, lambda: solve(name, f, z0, max_iter=max_iter, tol=tol, stop_mode="rel"))
        times.append(ms)
    assert stats is not None
    return {
        "iters": stats.nstep,
        "ms": round(statistics.median(times), 2),
        "max_residual": stats.max_residual,
        "converged": bool(stats.converged.all()),
    }, z


def near_linear_block(inject: torch.Tensor, args: argparse.Namespace) -> dict:
    """Cold solves of z = tanh(A z + 0.05·inject) with A symmetric, eigenvalues spread over [0, norm]."""
    gen = torch.Generator().manual_seed(2)
    q, _ = torch.linalg.qr(torch.randn(args.width, args.width, generator=gen))
    eig = torch.rand(args.width, generator=gen) * args.norm
    eig[0] = args.norm
    a = (q @ torch.diag(eig) @ q.T).to(inject.device)
    inj = 0.05 * inject
    block = {}
    for name in SOLVERS.names():
        block[name], _ = timed_solve(name, lambda z: torch.tanh(torch.addmm(inj, z, a)), torch.zeros_like(inj),
                                     args.tol, args.max_iter, 1)
    for name in SOLVERS.names():
        block[name]["speedup_vs_picard"] = round(block["picard"]["ms"] / block[name]["ms"], 2)
    return block


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--coords", type=int, default=16384)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--norm", type=float, default=0.97)
    parser.add_argument("--input-scale", type=float, default=256.0)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--perturbation", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    layer = isiren_probe(args.coords, args.width, args.norm, args.input_scale, device)
    inject0 = layer.inject0
    f, f_next = layer.map(), layer.map(layer.perturbed_weights(args.perturbation))
    z0 = torch.zeros_like(inject0)
    solve("anderson", f, z0, max_iter=3, tol=args.tol)  # warm-up (allocator, kernels)

    result: dict = {}
    warm: dict = {"perturbation_rel": args.perturbation}
    for name in SOLVERS.names():
        result[name], z_star = timed_solve(name, f, z0, args.tol, args.max_iter, args.repeats)
        warm[name], _ = timed_solve(name, f_next, z_star, args.tol, args.max_iter, args.repeats)
        warm[name]["iters_ratio_vs_cold"] = round(warm[name]["iters"] / max(1, result[name]["iters"]), 3)
    for name in SOLVERS.names():
        result[name]["speedup_vs_picard"] = round(result["picard"]["ms"] / result[name]["ms"], 2)
    result["warm"] = warm
    result["near_linear"] = near_linear_block(inject0[: args.coords // 4], args)
    result["setup"] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)",
        "coords": inject0.shape[0], "width": args.width, "spectral_norm": args.norm, "tol": args.tol,
        "stop_mode": "rel", "torch": torch.__version__,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
