"""The `Signal` every media loader returns, the loaders' one error type, grid coordinates and protocol splits."""
from __future__ import annotations

import dataclasses
import errno
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from engine.media.spec import Medium, medium_spec

class SignalError(Exception):
    """A file could not be turned into a signal; the message says why, for the user."""


class TooLarge(SignalError):
    """A file beyond what DEQ Studio reads at once, or a fit of it beyond the free memory. `smaller` holds the fit
    settings (dotted paths, e.g. `{"signal.audio_duration_s": 450.0}`) that read a part or a shrunk copy of it, or
    train on it in batches: the window offers them, the CLI names their flags."""

    def __init__(self, message: str, smaller: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.smaller = dict(smaller or {})


def missing_file(path: str | Path) -> SignalError:
    """The error for a file that is not there."""
    return SignalError(f"{Path(path).name} does not exist (was it moved or renamed?). Check its folder, or open "
                       f"another file.")


def regular_file(path: str | Path) -> Path:
    """`path`, when it names a regular file (through any links); else a SignalError saying what it is instead: not
    there, a folder, a link that leads nowhere or in a loop, a pipe or a device. Nothing is opened: reading a pipe
    waits for a writer, and a device such as /dev/zero never ends."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            raise SignalError(f"{path.name} is a link that leads nowhere (to {os.readlink(path)}, which does not "
                              f"exist). Open the file it was meant to lead to, or another file.") from None
        raise missing_file(path) from None
    except PermissionError:
        raise SignalError(f"DEQ Studio is not allowed to read {path.name}. Give yourself permission to read it, or "
                          f"open a copy of it.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SignalError(f"{path.name} is a link that leads in a loop (through links that point back to each "
                              f"other). Open the file it was meant to lead to, or another file.") from None
        raise SignalError(f"{path.name} cannot be opened ({exc.strerror or exc}). Check the name and the folder, or "
                          f"open another file.") from None
    if stat.S_ISDIR(mode):
        raise SignalError(f"{path.name} is a folder, not a file. Open one of the files inside it.")
    if not stat.S_ISREG(mode):
        kind = "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise SignalError(f"{path.name} is not a regular file but {kind}, which DEQ Studio does not read (it could "
                          f"wait or read forever). Save what it gives into a file, and open that file.")
    if not os.access(path, os.R_OK):
        raise SignalError(f"DEQ Studio is not allowed to read {path.name}. Give yourself permission to read it, or "
                          f"open a copy of it.")
    return path


def unreadable(path: str | Path, what: str, formats: str, exc: BaseException | None = None) -> SignalError:
    """The error for a file a library could not read: what went wrong and what to do, in a sentence, then the
    library's own words (without the path) for whoever reports it."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        return SignalError(f"{path.name} is empty (0 bytes). Open another file.")
    detail = "" if exc is None else str(exc).replace(str(path), path.name).strip(" :")
    return SignalError(f"Could not read {path.name} as {what}: the file is damaged, incomplete or not {what}. Open "
                       f"another file, or save it again as {formats}." + (f" (Details: {detail})" if detail else ""))


@dataclasses.dataclass
class Signal:
    """A sampled signal on a regular grid: coordinates in [−1, 1]^d and targets in [−1, 1].

    Attributes:
        medium: image, audio or video.
        coords: (N, d) float32 coordinates, row-major over `shape`.
        values: (N, C) float32 targets in [−1, 1].
        shape: grid shape — (H, W) image, (T,) audio, (T, H, W) video.
        rate: sample rate (audio, Hz) or frame rate (video, fps); None for images.
        source: where the signal came from (a file name, for display).
        portion: which part of the file it holds when not all of it, in words ("seconds 0.00–2.00 of the file's
            24.31"), else "".
    """

    medium: Medium
    coords: Tensor
    values: Tensor
    shape: tuple[int, ...]
    rate: float | None = None
    source: str = ""
    portion: str = ""

    @property
    def channels(self) -> int:
        return int(self.values.shape[1])

    def to_array(self, values: Tensor | np.ndarray) -> np.ndarray:
        """Values (N, C) in [−1, 1] back to the medium's layout: uint8 (*shape, C) (an image's (H, W, C), a video's
        (T, H, W, C)), or floats in the grid's shape for a medium of float samples (a waveform's (T,))."""
        v = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
        v = np.clip(v.astype(np.float32), -1.0, 1.0)
        if medium_spec(self.medium).float_samples:
            return v.reshape(self.shape if self.channels == 1 else (*self.shape, self.channels))
        return np.round((v + 1.0) * 127.5).astype(np.uint8).reshape(*self.shape, self.channels)

    def describe(self) -> str:
        """One line for status bars and logs, e.g. `256×256 gray image`."""
        spec = medium_spec(self.medium)
        if spec.describe is not None:
            return spec.describe(self)
        return f"{'×'.join(str(s) for s in self.shape)} {self.medium}"


def grid_coords(shape: tuple[int, ...]) -> Tensor:
    """Row-major coordinates of a grid, each axis spanning [−1, 1]: (∏shape, len(shape)) float32."""
    axes = [torch.linspace(-1.0, 1.0, n) if n > 1 else torch.zeros(1) for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(shape))


def generalization_split(signal: Signal) -> tuple[Tensor, Tensor]:
    """Train and held-out row indices of the generalization protocol (SPEC 2.4): along each of the medium's
    `split_axes`, train on even indices and score on odd ones. Image: train [::2, ::2], test [1::2, 1::2]; audio:
    even vs odd samples; video: the image rule in every frame."""
    axes = medium_spec(signal.medium).split_axes or ()
    index = torch.arange(int(np.prod(signal.shape))).reshape(signal.shape)
    def every_other(start: int) -> tuple[slice, ...]:
        return tuple(slice(start, None, 2) if axis in axes else slice(None) for axis in range(index.ndim))

    return index[every_other(0)].reshape(-1), index[every_other(1)].reshape(-1)
