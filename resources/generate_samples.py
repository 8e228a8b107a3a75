"""Generate DEQ Studio's built-in samples (no third-party data): an image, an audio clip, a video and a mesh.

    python resources/generate_samples.py        # writes resources/samples/{image.png,audio.wav,video.mp4,mesh.ply}

Everything is synthesized from formulas with a fixed seed, so the files are reproducible.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.media import write_audio, write_image, write_mesh, write_video  # noqa: E402

OUT = ROOT / "resources" / "samples"


def make_image(size: int = 128) -> np.ndarray:
    """A colourful test card: soft gradients, rings, a checker patch and sharp edges (uint8 RGB), colours kept in
    the middle of the range so that a fit shows progress within the first hundred steps."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    r = 0.5 + 0.5 * np.sin(2 * np.pi * (x + 0.3 * y))
    g = 0.5 + 0.5 * np.cos(2 * np.pi * (1.5 * y - 0.2 * x))
    b = 0.5 + 0.5 * np.sin(6 * np.pi * np.hypot(x - 0.65, y - 0.35))
    img = np.stack([r, g, b], axis=-1)
    disc = np.hypot(x - 0.3, y - 0.7) < 0.18
    img[disc] = [0.95, 0.85, 0.2]
    checker = ((np.floor(x * 8) + np.floor(y * 8)) % 2 == 0) & (x > 0.6) & (y > 0.6)
    img[checker] = 0.1
    return ((0.2 + 0.6 * img) * 255).round().astype(np.uint8)


def make_audio(rate: int = 16000, seconds: float = 2.0) -> np.ndarray:
    """A chord (A3, C#4, E4) with vibrato and a plucked envelope, then a short rising chirp."""
    t = np.arange(int(rate * seconds)) / rate
    vibrato = 1 + 0.004 * np.sin(2 * np.pi * 5 * t)
    chord = sum(np.sin(2 * np.pi * f * vibrato * t) / (i + 1) for i, f in enumerate((220.0, 277.18, 329.63)))
    envelope = np.exp(-2.5 * (t % 0.5)) * (t < 1.5)
    chirp = np.sin(2 * np.pi * (400 * t + 900 * (t - 1.5) ** 2)) * (t >= 1.5) * np.exp(-6 * (t - 1.5).clip(0))
    wave = chord * envelope + 0.6 * chirp
    return (0.9 * wave / np.abs(wave).max()).astype(np.float32)


def make_video(frames: int = 16, size: int = 64) -> np.ndarray:
    """A ball crossing a drifting gradient background (uint8 (T, H, W, 3))."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    out = []
    for k in range(frames):
        phase = k / frames
        bg = np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (x + phase)), 0.3 + 0.3 * y,
                       0.5 + 0.4 * np.cos(2 * np.pi * (y - phase))], axis=-1)
        cx, cy = 0.15 + 0.7 * phase, 0.5 + 0.25 * np.sin(2 * np.pi * phase)
        bg[np.hypot(x - cx, y - cy) < 0.12] = [1.0, 0.9, 0.1]
        out.append((bg * 255).round().astype(np.uint8))
    return np.stack(out)


def make_mesh() -> tuple[np.ndarray, np.ndarray]:
    """A torus (radii 0.6 and 0.25) as a closed triangle mesh."""
    n_major, n_minor = 48, 24
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, n_major, endpoint=False),
                       np.linspace(0, 2 * np.pi, n_minor, endpoint=False), indexing="ij")
    big, small = 0.6, 0.25
    verts = np.stack([(big + small * np.cos(v)) * np.cos(u), (big + small * np.cos(v)) * np.sin(u),
                      small * np.sin(v)], axis=-1).reshape(-1, 3)
    faces = []
    for i in range(n_major):
        for j in range(n_minor):
            a, b = i * n_minor + j, ((i + 1) % n_major) * n_minor + j
            c, d = ((i + 1) % n_major) * n_minor + (j + 1) % n_minor, i * n_minor + (j + 1) % n_minor
            faces += [(a, b, c), (a, c, d)]
    return verts.astype(np.float32), np.asarray(faces, dtype=np.int32)


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "image.png", out / "audio.wav", out / "video.mp4", out / "mesh.ply"]
    write_image(paths[0], make_image())
    write_audio(paths[1], make_audio(), 16000)
    write_video(paths[2], make_video(), 8)
    write_mesh(paths[3], *make_mesh())
    return paths


if __name__ == "__main__":
    for path in main():
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
