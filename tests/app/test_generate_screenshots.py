"""The README's pictures: resources/generate_screenshots.py makes them from short runs in the real window, and every
picture the README shows is in the repository (committed, not ignored), small and readable."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
MAX_BYTES = 150_000
"""The most a README picture may weigh."""


def pictures_linked() -> list[str]:
    """The relative paths of the pictures README.md shows (markdown images and <img> tags)."""
    text = README.read_text(encoding="utf-8")
    return re.findall(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)", text) + re.findall(r"<img\b[^>]*\bsrc=\"([^\"]+)\"", text)


def test_every_picture_the_readme_shows_is_in_the_repository() -> None:
    from resources.generate_screenshots import SHOTS

    links = pictures_linked()
    assert {f"resources/screenshots/{name}.png" for name in SHOTS} <= set(links), links
    for link in links:
        assert not re.match(r"[a-z]+:|/", link), f"{link}: not a relative path inside the project"
        assert (PROJECT_ROOT / link).is_file(), f"{link} is missing (python -m resources.generate_screenshots)"
    if shutil.which("git") and (PROJECT_ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", *links], cwd=PROJECT_ROOT,
                                 capture_output=True, text=True).stdout.split()
        assert not ignored, f"git ignores these README pictures, so they would never be committed: {ignored}"


def test_the_readmes_pictures_are_small_pngs_of_the_window() -> None:
    for link in pictures_linked():
        path = PROJECT_ROOT / link
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width <= 1280, link
            pixels = np.asarray(image.convert("RGB"))
        assert path.stat().st_size <= MAX_BYTES, f"{link}: {path.stat().st_size // 1024} KB"
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 32, f"{link} is (nearly) uniform"


def test_a_stored_picture_keeps_the_windows_colours(qapp, tmp_path) -> None:
    """Palette PNGs: beside a many-coloured picture the window's grey stays grey (not tinted, as a palette by maximum
    coverage alone tints it) and a thin red curve over a dark plot stays red."""
    from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

    from resources.generate_screenshots import save

    window = np.full((800, 1280, 3), 236, np.uint8)
    y, x = np.mgrid[0:400, 0:400] / 400
    texture = np.stack([np.sin(9 * x + 4 * y), np.cos(7 * y - 3 * x), np.sin(25 * np.hypot(x - 0.6, y - 0.4))], -1)
    noise = np.random.default_rng(0).normal(0, 8, texture.shape)
    window[100:500, 100:500] = (127.5 + 120 * texture + noise).clip(0, 255)
    window[100:500, 600:1200] = 20
    picture = QPixmap.fromImage(QImage(window.tobytes(), 1280, 800, 3 * 1280, QImage.Format.Format_RGB888))
    painter = QPainter(picture)
    painter.setPen(QPen(QColor(214, 39, 40), 2))
    painter.drawLine(620, 480, 1180, 120)
    painter.end()
    assert 0 < save(picture, tmp_path / "picture.png", 960) < 150_000
    with Image.open(tmp_path / "picture.png") as image:
        assert image.mode == "P" and image.size == (960, 600)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert np.abs(pixels[20, 20] - 236).max() <= 2 and np.abs(pixels[580, 900] - 236).max() <= 2, pixels[20, 20]
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert red[:, 450:].sum() > 300, "the thin red line lost its colour"


def test_its_command_line() -> None:
    from resources.generate_screenshots import OUT, STEPS, arguments

    args = arguments([])
    assert (args.names, args.out, args.steps) == ([], OUT, STEPS)
    assert arguments(["duel", "--steps", "3", "--width", "320"]).names == ["duel"]
    for wrong in (["no-such-picture"], ["--steps", "0"]):
        with pytest.raises(SystemExit):
            arguments(wrong)


@pytest.mark.slow
def test_the_generator_makes_three_pictures_of_trained_views(qapp, tmp_path, data_dir, monkeypatch) -> None:
    """A few steps of each run, the pictures 320 wide: three PNGs of the window whose views training drew into."""
    monkeypatch.setenv("DEQ_STUDIO_DATA", str(data_dir))
    from resources.generate_screenshots import SHOTS, WINDOW, main

    written = main(tmp_path / "shots", steps=4, width=320)
    assert [path.name for path in written] == [f"{name}.png" for name in SHOTS]
    for path in written:
        assert path.parent == tmp_path / "shots" and path.stat().st_size > 5_000, path.name
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (320, 320 * WINDOW[1] // WINDOW[0]), path.name
            pixels = np.asarray(image.convert("RGB")).astype(int)
        assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 64, path.name
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == sorted(p.name for p in written)
