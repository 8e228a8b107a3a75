"""The media registry: each kind of file DEQ Studio fits (image, sound, video, 3D shape), registered once.

A `MediumSpec` says everything the rest of the program needs to know about a medium: its noun and file suffixes, how
a file is read and a reconstruction written, which `SignalConfig` fields it reads, the defaults a fit's empty
fields take on it (`FitDefaults`, the (Implicit)² protocols), the window's quick preview, how its held-out samples
are chosen and which view shows it. `medium_of`, `load_signal`, a fit's export, the presets, the memory model, the
window and the CLI all read `MEDIA`; each medium registers itself at the end of its module (`engine/media/image.py`
…), and `engine/media/__init__.py` imports the modules.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import FitConfig, ModelConfig
from engine.registry import Registry

Medium = str
"""A registered medium's name ("image", "audio", "video", "mesh", …)."""

PREVIEW_MODEL = ModelConfig(model="gabor-imfn", width=64)
"""The network of every medium's quick preview on a CPU: a narrow Gabor-iMFN."""


@dataclasses.dataclass(frozen=True)
class FitDefaults:
    """What a fit's empty fields become on a medium (SPEC 2.3; `engine.presets.resolve_fit_config`)."""

    input_scale: float
    """The filters' input scale (representing the whole signal)."""
    generalize_input_scale: float | None = None
    """The input scale under the generalize protocol, when it differs."""
    scale_side: int | None = None
    """The signal's longer side the scale was set for: a signal of another size gets it in proportion (an image's
    side, a sound's samples, a video frame's side)."""
    scale_axes: tuple[int, ...] = (0,)
    """The grid axes whose longest is that side (a video's height and width, not its frames)."""
    halve_siren_scale: bool = True
    """Halve the scale of the SIREN-like networks (`engine.presets.SIREN_LIKE`)."""
    spectral_norm: bool = True
    """Spectral normalization of the implicit networks."""
    lr: float = 1e-3
    """Adam's learning rate."""
    batch_size: int | None = None
    """Points per step (None: all of them)."""
    grad_clip: float | None = None
    """Gradient clipping (None: none)."""
    eval_every: int | None = None
    """Steps between evaluations (None: at every logged row)."""


@dataclasses.dataclass(frozen=True)
class MediumSpec:
    """One medium, as every part of DEQ Studio knows it."""

    name: Medium
    """Its name: a run's `Targets.medium`, the window's view, the CLI's preview lines."""
    noun: str
    """One file of it in a sentence ("an image")."""
    extensions: tuple[str, ...]
    """Its file suffixes (lower case, with the dot), in the order messages offer them."""
    load: Callable[[Path, Any], Any]
    """(regular file, SignalConfig) → Signal (or MeshSignal); SignalError / TooLarge on a bad file."""
    defaults: FitDefaults
    """A fit's defaults on it."""
    preview: FitConfig
    """The window's quick preview of a fit on a CPU (`engine.presets.fit_preview`)."""
    signal_fields: frozenset[str] = frozenset()
    """The `SignalConfig` fields its loader reads (the others do nothing on it)."""
    fit_fields: frozenset[str] = frozenset()
    """`FitConfig` fields only this medium reads (a shape's marching-cubes resolution)."""
    write: Callable[[Path, np.ndarray, float | None], None] | None = None
    """(path, reconstruction as `Signal.to_array` gives it, rate) → the file; None when its task writes its own."""
    export_name: str = ""
    """The file name of an exported reconstruction ("reconstruction.png")."""
    split_axes: tuple[int, ...] | None = (0,)
    """The grid axes along which the generalize protocol alternates training and held-out samples (train at even
    indices, score at odd ones); None: no generalize protocol."""
    frame_scores: bool = False
    """Evaluations also score each frame (the grid's first axis): their mean and spread."""
    float_samples: bool = False
    """Reconstructions stay floats in [−1, 1] (a waveform), not 8-bit values."""
    describe: Callable[[Any], str] | None = None
    """(Signal) → one line for status bars ("256×256 RGB image"); None: its grid and name."""
    view: str = ""
    """The window's view of it (a registered view name; empty: its own name)."""
    damage: Callable[[Path, Any, Any], Any] | None = None
    """(the file, its Signal, RestoreConfig) → bool (N,): the samples a restore fills in, read from the setting
    `damage_field` names; SignalError / ConfigError saying what is wrong with it. None: it is not restored."""
    damage_field: str = ""
    """The RestoreConfig field that marks the damage on a file of this medium (mask, gap, frames)."""

    @property
    def view_name(self) -> str:
        return self.view or self.name


MEDIA: Registry[MediumSpec] = Registry("medium")
"""Every medium, in the order menus and messages offer them."""


def register_medium(spec: MediumSpec) -> MediumSpec:
    """Register `spec` under its name (ValueError when taken or when one of its suffixes already is)."""
    taken = {extension for other in MEDIA for extension in other.extensions}
    clash = sorted(taken & set(spec.extensions))
    if clash:
        raise ValueError(f"medium {spec.name!r}: {', '.join(clash)} already belong to another medium")
    return MEDIA.register(spec.name)(spec)


def medium_spec(name: Medium) -> MediumSpec:
    """The registered medium `name` (KeyError naming the known ones)."""
    return MEDIA.get(name)


def one_of(media) -> str:
    """`media` (in registration order) as a sentence offers them: "an image, a sound or a video"."""
    nouns = [spec.noun for spec in MEDIA if spec.name in media]
    return nouns[0] if len(nouns) == 1 else f"{', '.join(nouns[:-1])} or {nouns[-1]}"


def supported_extensions() -> tuple[str, ...]:
    """Every registered medium's suffixes."""
    return tuple(extension for spec in MEDIA for extension in spec.extensions)
