"""Entry point of `deq-studio`: the desktop window with no arguments, headless verbs otherwise.

    deq-studio                 the desktop application (until it lands: the headless demo, said so)
    deq-studio --demo          the headless demo (what `make run` starts)
    deq-studio <verb> ...      headless command line (engine.cli)
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine import cli

    if not argv or argv == ["--demo"]:
        if not argv:
            print("The desktop window is not part of this build yet; running the headless demo instead.")
        return cli.main(["demo", "--coords", "4096"])
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
