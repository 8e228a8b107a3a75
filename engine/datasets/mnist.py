"""MNIST in its IDX format (optionally gzipped): images as uint8 (N, 28, 28), labels as int64 (N,)."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from engine.datasets.folders import existing_folder
from engine.media.base import SignalError

_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


def _read_idx(path: Path, magic: int, dims: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(4 + 4 * dims)
            if len(header) < 4 + 4 * dims:
                raise SignalError(f"{path.name} is cut short (its IDX header is incomplete): download the MNIST "
                                  f"files again, or choose another Data folder.")
            found, *shape = struct.unpack(f">I{dims}I", header)
            if found != magic:
                raise SignalError(f"{path.name} is not an MNIST {'image' if dims == 3 else 'label'} file (IDX): "
                                  f"choose the folder of the MNIST files as Data.")
            data = np.frombuffer(handle.read(), dtype=np.uint8)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SignalError(f"Could not read {path.name}: the MNIST file is damaged or incomplete. Download it again, "
                          f"or choose another Data folder. (Details: {exc})") from exc
    if data.size != int(np.prod(shape)):
        raise SignalError(f"{path.name} holds {data.size} values where its header promises {int(np.prod(shape))}: "
                          f"the file is incomplete. Download it again, or choose another Data folder.")
    return data.reshape(shape)


def load_mnist(images: str | Path, labels: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 from a pair of IDX files."""
    x = _read_idx(Path(images), _IMAGES_MAGIC, 3)
    y = _read_idx(Path(labels), _LABELS_MAGIC, 1).astype(np.int64)
    if len(x) != len(y):
        raise SignalError(f"{Path(images).name} has {len(x)} images but {Path(labels).name} has {len(y)} labels: the "
                          f"two files do not belong together. Download the MNIST files again.")
    return x, y


def mnist_split(images: np.ndarray, labels: np.ndarray, train: int = 8000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The fixed split of SPEC 2.5: the first `train` digits for training, the rest held out."""
    return {"train": (images[:train], labels[:train]), "held_out": (images[train:], labels[train:])}


def image_dataset(folder: str | Path, size: int = 28, patches_per_image: int = 200,
                  seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Training data for a generative prior, as uint8 (N, size, size) gray images with labels (−1 if none).

    A folder holding the MNIST IDX pair (t10k-… or train-…, gzipped or not) gives its digits split 8,000/2,000 (or
    80/20 when fewer); any other folder of images is cut into random `size`² gray patches, 90% for training.
    """
    folder = existing_folder(folder, "the MNIST files (or your images)")
    for prefix in ("t10k", "train"):
        images = sorted(folder.glob(f"{prefix}-images-idx3-ubyte*"))
        labels = sorted(folder.glob(f"{prefix}-labels-idx1-ubyte*"))
        if images and labels:
            x, y = load_mnist(images[0], labels[0])
            return mnist_split(x, y, train=min(8000, int(0.8 * len(x))))
    from PIL import Image, UnidentifiedImageError

    rng = np.random.default_rng(seed)
    patches = []
    for path in sorted(folder.iterdir()):
        try:
            with Image.open(path) as img:
                gray = np.asarray(img.convert("L"))
        except (UnidentifiedImageError, OSError):
            continue
        h, w = gray.shape
        if h < size or w < size:
            continue
        for _ in range(patches_per_image):
            top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
            patches.append(gray[top : top + size, left : left + size])
    if len(patches) < 10:
        raise SignalError(f"{Path(folder).name} holds no MNIST files and too few images of at least {size}×{size} "
                          f"pixels: choose the folder of the MNIST files, or one with more images, as Data.")
    x = np.stack(patches)[rng.permutation(len(patches))]
    y = -np.ones(len(x), dtype=np.int64)
    split = int(0.9 * len(x))
    return {"train": (x[:split], y[:split]), "held_out": (x[split:], y[split:])}


def default_mnist_folder(explicit: str | Path = "") -> Path:
    """The MNIST folder to use: `explicit` if given, else `$DEQ_STUDIO_DATA/mnist`, else the digits shipped in a
    packaged bundle. SignalError says where it looked when none holds the files."""
    from engine.datasets.folders import dataset_folder

    return dataset_folder("mnist", lambda folder: any(folder.glob("*-images-idx3-ubyte*")), explicit,
                          "the MNIST IDX files (t10k-images-idx3-ubyte.gz …)")


def held_out_digits(folder: str | Path = "", count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` held-out digits (uint8 (N, 28, 28)) and labels of the fixed split."""
    data = image_dataset(default_mnist_folder(folder))
    images, labels = data["held_out"]
    return images[:count], labels[:count]
