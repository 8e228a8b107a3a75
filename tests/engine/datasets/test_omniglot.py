"""Omniglot: read from its zips or folders, split by character or alphabet, episodes from one side of a split only."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from engine.datasets.omniglot import EpisodeSampler, load_omniglot, split_alphabets, split_characters
from engine.media.base import SignalError


def drawn_folder(root, alphabets: int = 2, characters: int = 4, drawers: int = 7):
    """Alphabet/character/NN.png drawings: black strokes on white, 105² as Omniglot's."""
    rng = np.random.default_rng(0)
    for a in range(alphabets):
        for c in range(characters):
            folder = root / f"Script{a}" / f"character{c + 1:02d}"
            folder.mkdir(parents=True)
            for d in range(drawers):
                pixels = np.full((105, 105), 255, np.uint8)
                top, left = rng.integers(10, 60, size=2)
                pixels[top : top + 30, left : left + 8] = 0
                Image.fromarray(pixels).convert("1").save(folder / f"{a}{c}_{d:02d}.png")
    return root


def test_a_folder_of_drawings_loads_shrunk_inverted_and_labelled(tmp_path) -> None:
    data = load_omniglot(drawn_folder(tmp_path))
    assert data.images.shape == (2 * 4 * 7, 28, 28) and data.images.dtype == np.uint8
    assert data.characters[0] == "Script0/character01" and data.alphabets == ("Script0", "Script1")
    assert np.bincount(data.labels).tolist() == [7] * 8
    assert data.images.mean() < 60 and data.images.max() > 200  # ink bright on black, as MNIST


def test_zips_load_like_their_folder_and_shared_files_count_once(tmp_path) -> None:
    folder = drawn_folder(tmp_path / "plain")
    for name in ("images_background_small1.zip", "images_background_small2.zip"):  # both hold the same files
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for path in sorted(folder.rglob("*.png")):
                archive.write(path, f"{name[:-4]}/{path.relative_to(folder)}")
    zipped, plain = load_omniglot(tmp_path), load_omniglot(folder)
    assert zipped.characters == plain.characters and np.array_equal(zipped.images, plain.images)


def test_bad_folders_and_archives_give_clear_errors(tmp_path) -> None:
    with pytest.raises(SignalError, match="does not exist"):
        load_omniglot(tmp_path / "missing")
    with pytest.raises(SignalError, match="0 Omniglot characters"):
        load_omniglot(tmp_path)
    (tmp_path / "images_background.zip").write_bytes(b"not a zip at all")
    with pytest.raises(SignalError, match="not a readable zip"):
        load_omniglot(tmp_path)


def test_character_split_is_fixed_disjoint_and_covers_every_alphabet(data_dir) -> None:
    data = load_omniglot(data_dir / "omniglot")
    assert len(data.characters) == 242 and len(data.images) == 242 * 20  # the shared Greek and Latin once
    train, test = split_characters(data)
    assert not set(train) & set(test) and len(train) + len(test) == len(data.characters)
    assert set(data.character_alphabet[train]) == set(data.character_alphabet[test]) == set(range(8))
    again = split_characters(data)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    by_train, by_test = split_alphabets(data)
    assert not set(data.character_alphabet[by_train]) & set(data.character_alphabet[by_test])


@pytest.mark.parametrize("rotations", [False, True])
def test_episodes_draw_only_from_their_pool(tmp_path, rotations) -> None:
    data = load_omniglot(drawn_folder(tmp_path))
    train, test = split_characters(data, test_fraction=0.5)
    sampler = EpisodeSampler(data, test, ways=3, shots=2, queries=4, rotations=rotations)
    rng = np.random.default_rng(1)
    for _ in range(20):
        episode = sampler.sample(rng)
        assert {c for c, _ in episode.classes} <= set(test.tolist())
        assert episode.support.shape == (6, 1, 28, 28) and episode.query.shape == (12, 1, 28, 28)
        assert episode.support_labels.tolist() == [0, 0, 1, 1, 2, 2] and episode.query_labels.tolist()[:4] == [0] * 4
        assert 0.0 <= episode.support.min() and episode.support.max() <= 1.0
        assert len(set(episode.classes)) == 3
    first, second = (EpisodeSampler(data, test, 3, 2, 4).sample(np.random.default_rng(7)) for _ in range(2))
    assert np.array_equal(first.support, second.support) and first.classes == second.classes
    with pytest.raises(SignalError, match="need 10 drawings"):
        EpisodeSampler(data, test, ways=3, shots=5, queries=5)
