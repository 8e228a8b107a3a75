"""MNIST in its IDX format (optionally gzipped): images as uint8 (N, 28, 28), labels as int64 (N,)."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from engine.signals.base import SignalError

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def _read_idx(path: Path, magic: int, dims: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(4 + 4 * dims)
            if len(header) < 4 + 4 * dims:
                raise SignalError(f"{path.name}: truncated IDX header")
            found, *shape = struct.unpack(f">I{dims}I", header)
            if found != magic:
                raise SignalError(f"{path.name}: not an IDX {'image' if dims == 3 else 'label'} file")
            data = np.frombuffer(handle.read(), dtype=np.uint8)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SignalError(f"{path.name}: not a readable IDX file ({exc})") from exc
    if data.size != int(np.prod(shape)):
        raise SignalError(f"{path.name}: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def load_mnist(images: str | Path, labels: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 from a pair of IDX files."""
    x = _read_idx(Path(images), _IMAGES_MAGIC, 3)
    y = _read_idx(Path(labels), _LABELS_MAGIC, 1).astype(np.int64)
    if len(x) != len(y):
        raise SignalError(f"{Path(images).name} has {len(x)} images but {Path(labels).name} has {len(y)} labels")
    return x, y


def mnist_split(images: np.ndarray, labels: np.ndarray, train: int = 8000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The fixed split of SPEC 2.5: the first `train` digits for training, the rest held out."""
    return {"train": (images[:train], labels[:train]), "held_out": (images[train:], labels[train:])}
