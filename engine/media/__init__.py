"""Media loaders: a file becomes a `Signal` (image, audio, video) or a `MeshSignal`; writers go back. Each medium
registers itself (`engine/media/spec.py`) at the end of its module; importing the modules here is their
registration."""
from __future__ import annotations

import os
from pathlib import Path

from engine.config import SignalConfig
from engine.media.base import (Signal, SignalError, TooLarge, generalization_split, grid_coords, missing_file,
                               regular_file)
from engine.media.spec import (MEDIA, PREVIEW_MODEL, FitDefaults, Medium, MediumSpec, medium_spec, one_of,
                               register_medium, supported_extensions)
from engine.media.image import load_image, write_image  # noqa: I001 (the registration order: menus and messages)
from engine.media.audio import load_audio, write_audio
from engine.media.video import load_video, write_video
from engine.media.mesh import MeshSignal, load_mesh, marching_cubes, write_mesh


def medium_of(path: str | Path) -> Medium:
    """The medium a file's suffix names; SignalError for anything else (saying so first when the path is there but
    no regular file: a folder, a pipe, a device such as /dev/zero, a broken link)."""
    suffix = Path(path).suffix.lower()
    for spec in MEDIA:
        if suffix in spec.extensions:
            return spec.name
    if os.path.lexists(path):
        regular_file(path)
    kind = f"{suffix} files" if suffix else "files without an extension"
    offers = [f"{spec.noun} ({' '.join(spec.extensions)})" for spec in MEDIA]
    raise SignalError(f"DEQ Studio cannot fit {kind} ({Path(path).name}). Open {', '.join(offers[:-1])} or "
                      f"{offers[-1]}.")


def load_signal(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal | MeshSignal:
    """Load any supported file (the medium from its suffix); SignalError, before anything is opened, when `path` is
    no regular file (`regular_file`)."""
    path = regular_file(path)
    return medium_spec(medium_of(path)).load(path, config)


__all__ = [
    "MEDIA", "PREVIEW_MODEL", "FitDefaults", "Medium", "MediumSpec", "MeshSignal", "Signal", "SignalError", "TooLarge",
    "generalization_split", "grid_coords", "load_audio", "load_image", "load_mesh", "load_signal", "load_video",
    "marching_cubes", "medium_of", "medium_spec", "missing_file", "one_of", "register_medium", "supported_extensions",
    "write_audio", "write_image", "write_mesh", "write_video",
]
