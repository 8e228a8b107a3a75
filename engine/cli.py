"""`deq-studio <verb>`: the headless command line. Thin: parse, build, run, report.

Verbs land here as the engine grows; each prints a one-line reason and exits 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys

from engine.device import resolve_device

EXIT_BAD_INPUT = 2


def run_demo(args: argparse.Namespace) -> int:
    """Solve an iSIREN-like equilibrium with every solver, cold and warm-started, and print a table."""
    from engine.solver_probe import compare_solvers, isiren_probe

    device = resolve_device(args.device)
    layer = isiren_probe(coords=args.coords, width=args.width, device=device)
    print(f"Equilibrium of an iSIREN-like layer: {layer.inject0.shape[0]} coordinates × width {args.width}, "
          f"‖W‖₂ = 0.97, relative tolerance {args.tol:g}, on {device}.")
    print(f"{'solver':<10}{'cold iters':>12}{'cold ms':>10}{'warm iters':>12}{'warm ms':>10}")
    for row in compare_solvers(layer, tol=args.tol):
        print(f"{row['solver']:<10}{row['cold_iters']:>12}{row['cold_ms']:>10.0f}"
              f"{row['warm_iters']:>12}{row['warm_ms']:>10.0f}" + ("" if row["converged"] else "  (not converged)"))
    print("warm = after a 0.1% weight change, solved from the previous equilibrium (the amortization of (Implicit)²).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deq-studio", description="DEQ Studio: implicit layers and JIIO, headless.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    demo = verbs.add_parser("demo", help="compare the fixed-point solvers on an iSIREN-like equilibrium")
    demo.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where to run")
    demo.add_argument("--coords", type=int, default=16384, help="number of coordinates (a square grid)")
    demo.add_argument("--width", type=int, default=256, help="hidden width D")
    demo.add_argument("--tol", type=float, default=1e-4, help="relative residual tolerance")
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the verb; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        print(f"deq-studio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
