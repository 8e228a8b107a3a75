"""Omniglot read straight from its zips (or an extracted folder): drawings as 28×28 uint8, strokes bright on black.

Every character is a class drawn by 20 people. `load_omniglot` reads the "images_background*" zips (or a folder of
alphabet/character/*.png), shrinks each 105×105 drawing to 28×28 (an area average, so thin strokes stay gray
rather than vanish) and inverts it (ink = 255, as MNIST). `split_characters` and `split_alphabets` divide the
characters into meta-train and meta-test deterministically; `EpisodeSampler` draws N-way K-shot tasks from one
side only.
"""
from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from engine.datasets.folders import existing_folder
from engine.media.base import SignalError

SIZE = 28
"""The side the drawings are shrunk to (the usual few-shot Omniglot size)."""


@dataclasses.dataclass(frozen=True)
class Omniglot:
    """Drawings (N, 28, 28) uint8, each one's character index (N,) into `characters` ("Alphabet/characterNN") and
    each character's alphabet index into `alphabets`."""

    images: np.ndarray
    labels: np.ndarray
    characters: tuple[str, ...]
    character_alphabet: np.ndarray
    alphabets: tuple[str, ...]

    def images_of(self, character: int) -> np.ndarray:
        return self.images[self.labels == character]


def _drawing(data: bytes, name: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            gray = img.convert("L").resize((SIZE, SIZE), Image.Resampling.BOX)
    except (UnidentifiedImageError, OSError) as exc:
        raise SignalError(f"{name} is not a readable image: the Omniglot archive is damaged. Download it again, or "
                          f"choose another Data folder. (Details: {exc})") from exc
    return 255 - np.asarray(gray, dtype=np.uint8)


def _entries(folder: Path):
    """(alphabet, character, name, bytes) of every drawing in the zips or alphabet folders under `folder`."""
    zips = sorted(folder.glob("*.zip"))
    for archive in zips:
        try:
            with zipfile.ZipFile(archive) as handle:
                for info in handle.infolist():
                    path = PurePosixPath(info.filename)
                    if path.suffix.lower() == ".png" and len(path.parts) >= 3:
                        yield path.parts[-3], path.parts[-2], path.name, handle.read(info)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SignalError(f"{archive.name} is not a readable zip: download the Omniglot archive again, or "
                              f"choose another Data folder. (Details: {exc})") from exc
    if not zips:
        for path in sorted(folder.glob("*/*/*.png")):
            yield path.parts[-3], path.parts[-2], path.name, path.read_bytes()


def load_omniglot(folder: str | Path) -> Omniglot:
    """Every drawing in the Omniglot zips (or alphabet folders) of `folder`, in a fixed order, each once."""
    folder = existing_folder(folder, "the Omniglot zips (images_background*.zip)")
    drawings: dict[str, list[np.ndarray]] = {}
    seen: set[str] = set()
    for alphabet, character, name, data in _entries(folder):
        key = f"{alphabet}/{character}"
        if f"{key}/{name}" in seen:  # the two "small" background sets share Greek and Latin, file for file
            continue
        seen.add(f"{key}/{name}")
        drawings.setdefault(key, []).append(_drawing(data, name))
    if len(drawings) < 5:
        raise SignalError(f"{folder.name} holds {len(drawings)} Omniglot characters: few-shot tasks need at least 5. "
                          f"Choose the folder of the Omniglot zips (images_background*.zip) as Data.")
    characters = tuple(sorted(drawings))
    alphabets = tuple(sorted({c.split("/")[0] for c in characters}))
    images = np.stack([d for c in characters for d in drawings[c]])
    labels = np.concatenate([np.full(len(drawings[c]), i, dtype=np.int64) for i, c in enumerate(characters)])
    character_alphabet = np.array([alphabets.index(c.split("/")[0]) for c in characters], dtype=np.int64)
    return Omniglot(images, labels, characters, character_alphabet, alphabets)


def default_omniglot_folder(explicit: str | Path = "") -> Path:
    """`explicit` if given, else `$DEQ_STUDIO_DATA/omniglot`, else the drawings shipped in a packaged bundle;
    SignalError says where it looked when none holds them."""
    from engine.datasets.folders import dataset_folder

    return dataset_folder("omniglot", lambda folder: any(folder.glob("*.zip")) or any(folder.glob("*/*/*.png")),
                          explicit, "the Omniglot zips (images_background*.zip)")


def split_characters(data: Omniglot, test_fraction: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(meta-train, meta-test) character indices: a fixed random `test_fraction` of the characters of every
    alphabet held out, so both sides see every alphabet but never the same character."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for alphabet in range(len(data.alphabets)):
        members = rng.permutation(np.flatnonzero(data.character_alphabet == alphabet))
        held = max(1, round(test_fraction * len(members)))
        test.extend(members[:held])
        train.extend(members[held:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))


def split_alphabets(data: Omniglot, test_alphabets: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(meta-train, meta-test) character indices with whole alphabets held out: a harder test, new scripts."""
    held = np.random.default_rng(seed).permutation(len(data.alphabets))[:test_alphabets]
    is_test = np.isin(data.character_alphabet, held)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


@dataclasses.dataclass(frozen=True)
class Episode:
    """An N-way K-shot task: support and query drawings as float32 (·, 1, 28, 28) in [0, 1], labels 0 … N − 1, and
    the classes drawn (character index, quarter turns)."""

    support: np.ndarray
    support_labels: np.ndarray
    query: np.ndarray
    query_labels: np.ndarray
    classes: tuple[tuple[int, int], ...]


class EpisodeSampler:
    """Draws N-way K-shot episodes from the characters `pool` only; with `rotations`, a character turned by 90°,
    180° or 270° is a class of its own (the usual meta-training augmentation)."""

    def __init__(self, data: Omniglot, pool: np.ndarray, ways: int, shots: int, queries: int = 5,
                 rotations: bool = False) -> None:
        self.data, self.pool = data, np.asarray(pool, dtype=np.int64)
        self.ways, self.shots, self.queries, self.rotations = ways, shots, queries, rotations
        self.by_character = {int(c): np.flatnonzero(data.labels == c) for c in self.pool}
        if len(self.pool) * (4 if rotations else 1) < ways:
            raise SignalError(f"{ways}-way tasks need {ways} characters; this split holds {len(self.pool)}.")
        fewest = min(len(rows) for rows in self.by_character.values())
        if fewest < shots + queries:
            raise SignalError(f"{shots}-shot tasks with {queries} queries need {shots + queries} drawings of each "
                              f"character; some have {fewest}.")

    def sample(self, rng: np.random.Generator) -> Episode:
        turns = 4 if self.rotations else 1
        picks = rng.choice(len(self.pool) * turns, size=self.ways, replace=False)
        support, query, classes = [], [], []
        for pick in picks:
            character, turn = int(self.pool[pick // turns]), int(pick % turns)
            rows = rng.choice(self.by_character[character], size=self.shots + self.queries, replace=False)
            drawings = np.rot90(self.data.images[rows], k=turn, axes=(1, 2))
            support.append(drawings[: self.shots])
            query.append(drawings[self.shots :])
            classes.append((character, turn))
        labels = np.arange(self.ways, dtype=np.int64)

        def stacked(parts: list[np.ndarray]) -> np.ndarray:
            return (np.concatenate(parts)[:, None].astype(np.float32) / 255.0).copy()

        return Episode(stacked(support), np.repeat(labels, self.shots), stacked(query), np.repeat(labels, self.queries),
                       tuple(classes))
