"""Restore, measured (#32): photographs nobody tuned on, damaged by generated masks (strokes, boxes, half the pixels
at random), restored by DEQ Studio's `restore` task (an implicit network and its explicit counterpart) beside
scikit-image's biharmonic inpainting, scored by PSNR inside the damaged region against the original.

    python bench/restore_table.py [--images kodim01 ...] [--masks strokes boxes pixels] [--models fourier-imfn
        fourier-mfn] [--steps 300] [--width 128] [--threads 2] [--write PREFIX]
    python bench/restore_table.py --media audio [--gaps-ms 0.5 2 10] [--steps 300] --write PREFIX
    python bench/restore_table.py --media video [--frames 8:8 6:7 10:12] [--steps 500] --write PREFIX

Sounds and the video (bench/clip_fits.py): a gap in Bach and in a recorded voice beside linear and cubic
interpolation (SNR in the gap), lost frames of the bikes video beside linear blending and a repeated frame; each
medium its own part of PREFIX.json ("audio", "video").

Prints one JSON object: {"device", "threads", "steps", "width", "rows": [{"image", "mask", "missing", "model",
"psnr", "psnr_biharmonic", "fit_s", "biharmonic_s"}], "means": {mask: {model: psnr, "biharmonic": psnr}}};
`--write PREFIX` writes PREFIX.json. Images: the real data's Kodak 256² set (`images/`, the first 8 by default).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clip_fits import sound_restore_rows, sound_rows, video_restore_rows  # noqa: E402
from bench.picture_fits import finish_table, kodak_pictures, mean_of, table_arguments, table_row  # noqa: E402
from engine.config import ModelConfig, RestoreConfig  # noqa: E402
from engine.media import write_image  # noqa: E402
from engine.metrics import picture_psnr  # noqa: E402
from engine.tasks.kinds import task_kind  # noqa: E402

MASKS = ("strokes", "boxes", "pixels")


def damage(kind: str, height: int, width: int, seed: int) -> np.ndarray:
    """A bool (H, W) mask, True where missing: five thick strokes, three boxes (each a tenth of the side or so), or
    half the pixels at random."""
    rng = np.random.default_rng(seed)
    if kind == "pixels":
        return rng.random((height, width)) < 0.5
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(5 if kind == "strokes" else 3):
        if kind == "strokes":
            points = [tuple(int(v) for v in rng.integers(0, [width, height])) for _ in range(2)]
            draw.line(points, fill=255, width=max(2, width // 40))
        else:
            x, y = rng.integers(0, [width - width // 8, height - height // 8])
            draw.rectangle([int(x), int(y), int(x) + width // 8, int(y) + height // 8], fill=255)
    return np.asarray(mask) > 127


def biharmonic(picture: np.ndarray, missing: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    filled = inpaint_biharmonic(picture.astype(np.float64) / 255, missing, channel_axis=-1)
    return np.clip(np.round(filled * 255), 0, 255).astype(np.uint8)


def restore_rows(name: str, picture: np.ndarray, mask: str, models: list[str], width: int, steps: int,
                 seed: int, input_scale: float | None = None) -> list[dict]:
    missing = damage(mask, *picture.shape[:2], seed)
    start = time.perf_counter()
    classical = biharmonic(picture, missing)
    classical_s = time.perf_counter() - start
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        photo, mask_path = Path(folder) / "photo.png", Path(folder) / "mask.png"
        write_image(photo, picture)
        write_image(mask_path, np.where(missing, 0, 255).astype(np.uint8))
        for model in models:
            config = RestoreConfig(model=ModelConfig(model=model, width=width, input_scale=input_scale), steps=steps,
                                   log_every=steps,
                                   lr=3e-3, device="cpu", mask=str(mask_path))
            task = task_kind("restore").build(config, photo, torch.device("cpu"))
            start = time.perf_counter()
            for _ in range(steps):
                task.step()
            seconds = time.perf_counter() - start
            task.evaluate(final=True)
            rows.append({"image": name, "mask": mask, "missing": round(float(missing.mean()), 4), "model": model,
                         "psnr": round(picture_psnr(task.reconstruction[missing], picture[missing]), 3),
                         "psnr_biharmonic": round(picture_psnr(classical[missing], picture[missing]), 3),
                         "fit_s": round(seconds, 1), "biharmonic_s": round(classical_s, 2)})
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = table_arguments(__doc__, ["fourier-imfn", "fourier-mfn"], 300)
    parser.add_argument("--masks", nargs="+", choices=MASKS, default=list(MASKS))
    parser.add_argument("--gaps-ms", nargs="+", type=float, default=[0.5, 2.0, 10.0], help="audio: gap lengths")
    parser.add_argument("--frames", nargs="+", default=["8:8", "6:7", "10:12"], help="video: frames lost, FIRST:LAST")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--input-scale", type=float, default=None, help="the filters' input scale (default: the "
                        "restore's own for the picture's size)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    table = {}
    if "pictures" in args.media:
        table = picture_table(args)
    if "audio" in args.media:
        rows = sound_rows(lambda clip: [row for gap_ms in args.gaps_ms for row in sound_restore_rows(
            clip, gap_ms, args.models, args.width, args.steps, args.lr)])
        means = {f"{gap_ms:g} ms": {**{model: mean_of(rows, "snr", gap_ms=gap_ms, model=model)
                                       for model in args.models},
                                    **{method: mean_of(rows, f"snr_{method}", gap_ms=gap_ms)
                                       for method in ("linear", "cubic")}} for gap_ms in args.gaps_ms}
        table = finish_table(args, "Bach (1 s from 1.5 s, 44.1 kHz) and a recorded voice (1.43 s, 48 kHz) with one "
                             "gap each, in a loud stretch; SNR inside the gap against the file, beside linear "
                             "interpolation and a cubic spline through 64 samples each side", rows, "audio",
                             width=args.width, lr=args.lr, means=means)
    if "video" in args.media:
        rows = []
        for frames in args.frames:
            for row in video_restore_rows(*map(int, frames.split(":")), args.models, args.width, args.steps, args.lr):
                table_row(rows, row)
        means = {frames: {**{model: mean_of(rows, "psnr", frames=frames, model=model) for model in args.models},
                          **{method: mean_of(rows, f"psnr_{method}", frames=frames)
                             for method in ("linear", "repeat")}} for frames in args.frames}
        table = finish_table(args, "The bikes video as the preview reads it (16 frames of 96×41, every other of the "
                             "first 32) with frames lost; PSNR over the lost frames, beside blending the nearest "
                             "kept frames linearly and repeating the last kept one", rows, "video",
                             width=args.width, lr=args.lr, means=means)
    return table


def picture_table(args) -> dict:
    rows: list[dict] = []
    for index, (name, picture) in enumerate(kodak_pictures(args.images)):
        for mask in args.masks:
            for row in restore_rows(name, picture, mask, args.models, args.width, args.steps, index, args.input_scale):
                table_row(rows, row)
    means = {mask: {**{model: mean_of(rows, "psnr", mask=mask, model=model) for model in args.models},
                    "biharmonic": mean_of(rows, "psnr_biharmonic", mask=mask)} for mask in args.masks}
    return finish_table(args, "Kodak 256² with generated masks (5 strokes, 3 boxes, 50% of the pixels); PSNR inside "
                        "the damaged region against the original", rows, width=args.width, means=means)


if __name__ == "__main__":
    main()
