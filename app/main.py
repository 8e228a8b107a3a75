"""Entry point of `deq-studio`: the desktop window with no arguments, headless verbs otherwise.

    deq-studio                 the desktop application (until it lands: the headless demo, said so)
    deq-studio --demo          the headless demo: a short fit of the built-in image sample (what `make run` starts)
    deq-studio <verb> ...      headless command line (engine.cli)
"""
from __future__ import annotations

import sys

DEMO_STEPS = "150"


def demo_arguments() -> list[str]:
    """`fit` of the built-in image sample, small enough to finish in seconds on two CPU cores."""
    from engine.resources import sample_path

    # The SPEC's image scale (256) suits ~512-pixel photographs; the 128-pixel sample fits in seconds at 64.
    return ["fit", str(sample_path("image.png")), "--model", "gabor-imfn", "--width", "64", "--input-scale", "64",
            "--lr", "3e-3", "--steps", DEMO_STEPS, "--out", "runs/demo-image"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine import cli

    if not argv or argv == ["--demo"]:
        if not argv:
            print("The desktop window is not part of this build yet; running the headless demo instead.")
        return cli.main(demo_arguments())
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
