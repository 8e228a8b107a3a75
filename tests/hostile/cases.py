"""Hostile inputs, generated from the real files of the data folder: truncations at random offsets, bit flips, wrong
extensions, huge declared sizes, degenerate media, bad run folders, model files and checkpoints.

Each maker writes one case into a folder and returns its path. Everything is seeded, so a failing case has a
stable id to rerun (`pytest -m hostile -k <id>`).
"""
from __future__ import annotations

import json
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.shared_data import shared_data_dir
from tests.engine import media_files

SOURCES = {"image": "images/kodim05.png", "audio": "audio/gt_bach.wav", "video": "video/bikes.mp4",
           "mesh": "meshes/bunny.obj"}
"""The real file each medium's cases start from."""
CUTS = 8
"""Truncations (and, separately, bit-flipped copies) per medium."""
OTHER = {"image": ".wav", "audio": ".png", "video": ".obj", "mesh": ".mp4"}
"""A wrong extension for each medium's bytes."""

Maker = Callable[[Path], Path]


def source(medium: str) -> bytes:
    return (shared_data_dir() / SOURCES[medium]).read_bytes()


def truncated(medium: str, index: int) -> Maker:
    def make(folder: Path) -> Path:
        data = source(medium)
        cut = int(np.random.default_rng(index).integers(1, len(data)))
        path = folder / Path(SOURCES[medium]).name
        path.write_bytes(data[:cut])
        return path
    return make


def bit_flipped(medium: str, index: int) -> Maker:
    def make(folder: Path) -> Path:
        data = bytearray(source(medium))
        rng = np.random.default_rng(100 + index)
        for position in rng.integers(0, len(data), size=1 + index * 4):
            data[position] ^= 1 << int(rng.integers(0, 8))
        path = folder / Path(SOURCES[medium]).name
        path.write_bytes(bytes(data))
        return path
    return make


def wrong_extension(medium: str) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / f"renamed{OTHER[medium]}"
        path.write_bytes(source(medium))
        return path
    return make


def written(name: str, content: bytes | str) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path
    return make


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring `width`×`height` with almost no pixel data (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def wav_declaring(frames: int) -> bytes:
    """A 16-bit mono WAV whose header declares `frames` frames and holds eight."""
    data = np.zeros(8, np.int16).tobytes()
    size = frames * 2
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000,
                                                                                  2, 16)
            + b"data" + struct.pack("<I", size) + data)


def tiny_wav(samples: int, value: float = 0.5) -> Maker:
    def make(folder: Path) -> Path:
        import soundfile as sf

        path = folder / f"short{samples}.wav"
        sf.write(path, np.full(samples, value, np.float32), 16000)
        return path
    return make


def one_frame_video(folder: Path) -> Path:
    from engine.media import write_video

    path = folder / "one.mp4"
    write_video(path, np.full((1, 16, 16, 3), 128, np.uint8), 25.0)
    return path


def image_of_mode(mode: str) -> Maker:
    return lambda folder: media_files.image_of_mode(mode, folder)


MESHES = {
    "empty": "",
    "one-vertex": "v 0 0 0\n",
    "single-point": "v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n",
    "nan-vertex": "v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n",
    "face-out-of-range": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n",
    "flat-triangle": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n",
    "text": "this is not a mesh\n",
}

LOADER_CASES: dict[str, Maker] = {}
for _medium in SOURCES:
    for _i in range(CUTS):
        LOADER_CASES[f"{_medium}-truncated-{_i}"] = truncated(_medium, _i)
        LOADER_CASES[f"{_medium}-bitflip-{_i}"] = bit_flipped(_medium, _i)
    LOADER_CASES[f"{_medium}-wrong-extension"] = wrong_extension(_medium)
    LOADER_CASES[f"{_medium}-empty"] = written(f"empty{Path(SOURCES[_medium]).suffix}", b"")
    LOADER_CASES[f"{_medium}-text"] = written(f"text{Path(SOURCES[_medium]).suffix}", "hello, world\n" * 20)
for _size in ((20000, 20000), (9000, 9000), (1, 1), (1, 100000)):
    LOADER_CASES[f"image-declares-{_size[0]}x{_size[1]}"] = written("declared.png", png_declaring(*_size))
LOADER_CASES["audio-declares-2e9-frames"] = written("declared.wav", wav_declaring(2_000_000_000))
for _samples in (1, 15, 16):
    LOADER_CASES[f"audio-{_samples}-samples"] = tiny_wav(_samples)
LOADER_CASES["audio-silent"] = tiny_wav(1000, 0.0)
LOADER_CASES["video-one-frame"] = one_frame_video
for _mode in media_files.PILLOW_MODES:
    LOADER_CASES[f"image-mode-{_mode}"] = image_of_mode(_mode)
for _name, _text in MESHES.items():
    LOADER_CASES[f"mesh-{_name}"] = written(f"{_name}.obj", _text)
LOADER_CASES["no-extension"] = written("README", "text")
LOADER_CASES["unknown-extension"] = written("notes.xyz", "text")


class Exploit:
    """Unpickling this would create a file: a checkpoint must never run it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def pickled_exploit(folder: Path) -> bytes:
    return pickle.dumps({"format": "deq-studio-checkpoint", "state": Exploit(folder / "PWNED")})


RUN_RECORDS = {
    "not-json": "{not json",
    "empty": "",
    "array": "[1, 2, 3]",
    "no-task": json.dumps({"config": {}}),
    "no-config": json.dumps({"task": "fit", "input": "x.png"}),
    "unknown-task": json.dumps({"task": "teleport", "config": {}}),
    "steps-true": None,  # filled from a real run: "steps": true
    "unknown-option": None,
    "input-missing": None,
    "input-not-text": None,
    "lr-infinite": None,
    "nested-100000-deep": "[" * 100_000 + "]" * 100_000,
    "run-id-not-text": None,
    "config-2-gb": None,  # a sparse file of 2 GB: refused by its size, never read
}
"""config.json variants of a run folder (None: the real record, edited as the name says)."""

CHECKPOINTS = ("empty", "random-bytes", "truncated", "pickled-exploit", "other-width", "json", "config-json-a-number",
               "another-runs", "buffer-of-another-shape", "weights-as-integers", "state-a-list")
"""checkpoint.pt variants of a run folder."""

MODEL_FILES = ("empty", "random-bytes", "truncated", "header-too-long", "not-a-model", "wrong-kind", "huge-channels",
               "nan-weights", "integers-for-floats", "no-arch", "no-kind", "arch-not-json", "arch-nested-deep",
               "trailing-bytes", "huge-sparse", "a-folder")
"""Classifier model files given to `attack --classifier`."""
