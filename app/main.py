"""Entry point of `deq-studio`: the desktop window with no arguments, headless verbs otherwise.

    deq-studio                          the desktop application on the built-in image sample (headless demo
                                        instead, said so, where there is no display)
    deq-studio PATH                     the desktop application with PATH opened
    deq-studio --demo                   the headless demo: a short fit of the built-in image sample
    deq-studio --self-test [--screenshot FILE]   build the window, train 20 steps through the worker, exit 0
    deq-studio --version                the version
    deq-studio <verb> ...               headless command line (engine.cli)
"""
from __future__ import annotations

import sys
from pathlib import Path

DEMO_STEPS = "150"


def demo_arguments() -> list[str]:
    """`fit` of the built-in image sample with the window's preview settings, short enough to finish in seconds on
    two CPU cores (into a fresh folder under runs/)."""
    from engine.resources import sample_path

    return ["fit", str(sample_path("image.png")), "--preset", "preview", "--steps", DEMO_STEPS]


def run_gui(path: str | None = None, settings=None) -> int:
    """The desktop application, with `path` (or the built-in image sample) opened; `settings`: a QSettings to keep
    the window's settings in (default: the user's)."""
    from app.application import application, splash_screen

    app = application()
    splash = splash_screen()  # painted before PyTorch is imported
    from app.main_window import MainWindow
    from engine.resources import sample_path

    window = MainWindow(settings)
    window.gone.connect(app.quit)  # after quitting during a run: the hidden window's close does not end the loop
    window.show()
    splash.close()
    app.processEvents()  # the window appears first; building the task then imports more of PyTorch (~1 s)
    window.open_file(Path(path) if path else sample_path("image.png"))
    if not window.settings.value("quickstart_shown"):  # the first launch
        window.show_quickstart()
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--self-test":
        from app.self_test import self_test

        screenshot = argv[argv.index("--screenshot") + 1] if "--screenshot" in argv[:-1] else None
        return self_test(screenshot)
    if not argv or (len(argv) == 1 and Path(argv[0]).is_file()):
        from app.self_test import has_display

        if has_display():
            return run_gui(argv[0] if argv else None)  # imports PyTorch only once its splash screen is painted
        if argv:
            print(f"No display found: fitting {Path(argv[0]).name} headless with the window's settings instead.")
            argv = ["fit", argv[0], "--preset", "preview"]
        else:
            print("No display found: running the same job headless (a short fit of the built-in image sample).")
            argv = ["--demo"]
    from engine import cli

    return cli.main(demo_arguments() if argv == ["--demo"] else argv)


if __name__ == "__main__":
    sys.exit(main())
