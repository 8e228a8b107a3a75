"""The numerics-sensitive tests under every CPU kernel set PyTorch can pick and at one and two threads: a test's
tolerance must hold whichever kernels (AVX2 or AVX-512 differ in the last bits) and however many threads sum a
reduction. Prints JSON: the machine, and for each (ATEN_CPU_CAPABILITY, OMP_NUM_THREADS) cell the kernels PyTorch
really used, the tests passed and failed, the failures' ids and the seconds it took.

    python bench/numerics_matrix.py                 the numerics-sensitive modules (NUMERIC_TESTS), slow ones included
    python bench/numerics_matrix.py --all           the whole suite, as `make test` runs it
    python bench/numerics_matrix.py -k distributed  only tests matching a pytest -k expression
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPABILITIES = ("default", "avx2", "avx512")
THREADS = (1, 2)
NUMERIC_TESTS = ("tests/engine/solvers", "tests/engine/implicit", "tests/engine/jiio", "tests/engine/models",
                 "tests/engine/tasks", "tests/engine/test_distributed.py", "tests/engine/test_divergence.py",
                 "tests/engine/test_loop.py", "tests/engine/test_fit_cli.py", "tests/engine/media")
"""The modules whose assertions compare floating-point results: solvers against closed forms, backward modes against
finite differences, JIIO against gradient descent, trained tasks against their references, one process against
two."""


def kernels(env: dict[str, str]) -> str:
    """The kernel set PyTorch picks under `env` (a capability the CPU lacks falls back to one it has)."""
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_cell(capability: str, threads: int, targets: list[str], extra: list[str]) -> dict:
    env = {**os.environ, "ATEN_CPU_CAPABILITY": capability, "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "QT_QPA_PLATFORM": "offscreen"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *extra, *targets],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)}
    return {"capability": capability, "threads": threads, "kernels": kernels(env),
            "passed": counts.get("passed", 0), "failed": counts.get("failed", 0) + counts.get("error", 0)
            + counts.get("errors", 0), "skipped": counts.get("skipped", 0),
            "failures": re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M),
            "seconds": round(time.monotonic() - start, 1), "exit": done.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="the whole suite instead of the numerics-sensitive modules")
    parser.add_argument("-k", default="", help="only tests matching this pytest -k expression")
    args = parser.parse_args()
    targets = ["tests"] if args.all else list(NUMERIC_TESTS)
    extra = ["-k", args.k] if args.k else []
    import torch

    cells = []
    for capability in CAPABILITIES:
        for threads in THREADS:
            cells.append(run_cell(capability, threads, targets, extra))
            print(json.dumps(cells[-1]), file=sys.stderr, flush=True)  # progress, a cell at a time
    report = {"machine": {"cpu": cpu_name(), "torch": torch.__version__,
                          "best_kernels": torch.backends.cpu.get_cpu_capability(), "cores": os.cpu_count()},
              "targets": targets, "cells": cells, "all_passed": all(cell["exit"] == 0 for cell in cells)}
    print(json.dumps(report, indent=1))
    return 0 if report["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
