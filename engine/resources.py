"""Finding the project's resources (built-in samples, models, icons, stylesheet) from a source checkout, an install
or a bundle. Every file the application reads at run time is found through this module."""
from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder: inside a PyInstaller bundle, beside the source tree, or installed under
    `<prefix>/share/deq-studio/resources`."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    candidates.append(Path(sys.prefix) / "share" / "deq-studio" / "resources")
    for path in candidates:
        if (path / "samples").is_dir():
            return path
    raise FileNotFoundError("DEQ Studio's resources folder was not found (looked in: "
                            + ", ".join(str(p) for p in candidates) + ")")


def sample_path(name: str) -> Path:
    """A built-in sample by file name, e.g. `image.png`."""
    path = resources_dir() / "samples" / name
    if not path.is_file():
        raise FileNotFoundError(f"built-in sample {name!r} is missing from {path.parent}")
    return path


def sample_names() -> list[str]:
    """File names of the built-in samples."""
    return sorted(p.name for p in (resources_dir() / "samples").iterdir() if p.is_file() and p.suffix != ".md")


ICON_NAME = "deq-studio"


def icon_files() -> list[Path]:
    """The application icon's PNG sizes (made by resources/generate_icons.py), smallest first."""
    folder = resources_dir() / "icons"
    return sorted(folder.glob(f"{ICON_NAME}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def stylesheet_path() -> Path:
    """The application's Qt stylesheet."""
    return resources_dir() / "style.qss"


def bundled_dataset(name: str) -> Path | None:
    """A dataset folder shipped inside a packaged bundle (e.g. `mnist`), or None where there is none (a source
    checkout reads its data from outside the project)."""
    path = resources_dir() / "datasets" / name
    return path if path.is_dir() else None
