"""Media loaders: a file becomes a `Signal` (image, audio, video) or a `MeshSignal`; writers go back."""
from __future__ import annotations

import os
from pathlib import Path

from engine.config import SignalConfig
from engine.media.audio import AUDIO_EXTENSIONS, load_audio, write_audio
from engine.media.base import (MEDIUM_NOUNS, Medium, Signal, SignalError, TooLarge, generalization_split, grid_coords,
                               missing_file, regular_file)
from engine.media.image import IMAGE_EXTENSIONS, load_image, write_image
from engine.media.mesh import MESH_EXTENSIONS, MeshSignal, load_mesh, marching_cubes, write_mesh
from engine.media.video import VIDEO_EXTENSIONS, load_video, write_video

SUPPORTED_EXTENSIONS = IMAGE_EXTENSIONS + AUDIO_EXTENSIONS + VIDEO_EXTENSIONS + MESH_EXTENSIONS
EXTENSIONS = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "video": VIDEO_EXTENSIONS, "mesh": MESH_EXTENSIONS}
"""Each medium's file suffixes, in the order messages offer them."""


def medium_of(path: str | Path) -> Medium:
    """The medium a file's suffix names; SignalError for anything else (saying so first when the path is there but
    no regular file: a folder, a pipe, a device such as /dev/zero, a broken link)."""
    suffix = Path(path).suffix.lower()
    for medium, extensions in EXTENSIONS.items():
        if suffix in extensions:
            return medium  # type: ignore[return-value]
    if os.path.lexists(path):
        regular_file(path)
    kind = f"{suffix} files" if suffix else "files without an extension"
    offers = [f"{MEDIUM_NOUNS[medium]} ({' '.join(extensions)})" for medium, extensions in EXTENSIONS.items()]
    raise SignalError(f"DEQ Studio cannot fit {kind} ({Path(path).name}). Open {', '.join(offers[:-1])} or "
                      f"{offers[-1]}.")


def load_signal(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal | MeshSignal:
    """Load any supported file (the medium from its suffix); SignalError, before anything is opened, when `path` is
    no regular file (`regular_file`)."""
    path = regular_file(path)
    medium = medium_of(path)
    if medium == "image":
        return load_image(path, config)
    if medium == "audio":
        return load_audio(path, config)
    if medium == "video":
        return load_video(path, config)
    return load_mesh(path, config)


__all__ = [
    "MeshSignal", "Signal", "SignalError", "SUPPORTED_EXTENSIONS", "TooLarge", "generalization_split", "grid_coords",
    "load_audio", "load_image", "load_mesh", "load_signal", "load_video", "marching_cubes", "medium_of",
    "write_audio", "write_image", "write_mesh", "write_video",
]
