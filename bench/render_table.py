"""Render at another resolution, measured (#32): a photograph downsampled ×2 (Pillow, antialiased bicubic) is fitted,
the fitted network rendered at the original size (`FittedNetwork.render`, what `deq-studio render --scale 2` writes),
and scored against the original beside Pillow's bicubic upsampling of the same small picture.

    python bench/render_table.py [--images kodim01 ...] [--models fourier-imfn fourier-mfn] [--steps 500]
        [--width 256] [--threads 2] [--write PREFIX]
    python bench/render_table.py --media audio video [--width 128] [--lr 3e-3] --write PREFIX

Sounds and the video (bench/clip_fits.py): a clip at half its sample rate rendered at its own, beside scipy's
polyphase resampling and a cubic spline (SNR); the bikes video at half its frame rate rendered at its own, beside
blending neighbouring frames and repeating them (PSNR); each medium its own part of PREFIX.json.

Prints one JSON object: {"device", "threads", "steps", "width", "rows": [{"image", "model", "psnr_render",
"psnr_bicubic", "psnr_fit", "fit_s"}], "means": {model: {"psnr_render", "psnr_bicubic", "wins"}}}; `--write PREFIX`
writes PREFIX.json. Images: the real data's Kodak 256² set (`images/`, the first 8 by default); nothing here tunes on
them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clip_fits import sound_render_rows, sound_rows, video_render_rows  # noqa: E402
from bench.picture_fits import (fit_picture, finish_table, kodak_pictures, mean_of, resized,  # noqa: E402
                                table_arguments, table_row)
from engine.metrics import picture_psnr  # noqa: E402


def render_row(name: str, original: np.ndarray, model: str, width: int, steps: int) -> dict:
    """One photograph and one network: fitted at half size, rendered at full size, beside bicubic."""
    height, side = original.shape[:2]
    small = resized(original, side // 2, height // 2)
    task, seconds = fit_picture(small, model, width, steps)
    render = task.fitted().render((height, side))
    return {"image": name, "model": model, "psnr_render": round(picture_psnr(render, original), 3),
            "psnr_bicubic": round(picture_psnr(resized(small, side, height), original), 3),
            "psnr_fit": round(picture_psnr(task.reconstruction, small), 3), "fit_s": round(seconds, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = table_arguments(__doc__, ["fourier-imfn", "fourier-mfn"], 500)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3, help="sounds and the video (pictures: 1e-3)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    table = {}
    if "pictures" in args.media:
        table = picture_table(args)
    if "audio" in args.media:
        rows = sound_rows(lambda clip: sound_render_rows(clip, args.models, args.width, args.steps, args.lr))
        means = {model: {key: mean_of(rows, key, model=model) for key in ("snr_render", "snr_polyphase", "snr_cubic")}
                 for model in args.models}
        table = finish_table(args, "Bach (1 s from 1.5 s, 44.1 kHz) and a recorded voice (1.43 s, 48 kHz) at half "
                             "their rate (scipy polyphase), fitted (represent), rendered at their own rate; SNR "
                             "against the original", rows, "audio", width=args.width, lr=args.lr, means=means)
    if "video" in args.media:
        rows = []
        for row in video_render_rows(args.models, args.width, args.steps, args.lr):
            table_row(rows, row)
        keys = ("psnr_render", "psnr_linear", "psnr_repeat", "psnr_render_between", "psnr_linear_between",
                "psnr_repeat_between")
        means = {model: {key: mean_of(rows, key, model=model) for key in keys} for model in args.models}
        table = finish_table(args, "The bikes video's preview frames (96×41) at half their frame rate (every other "
                             "one), fitted (represent), rendered at the full rate (16 frames); PSNR against the "
                             "full-rate frames, all and the in-between ones", rows, "video", width=args.width,
                             lr=args.lr, means=means)
    return table


def picture_table(args) -> dict:
    rows: list[dict] = []
    for name, original in kodak_pictures(args.images):
        for model in args.models:
            table_row(rows, render_row(name, original, model, args.width, args.steps))
    means = {}
    for model in args.models:
        mine = [row for row in rows if row["model"] == model]
        means[model] = {"psnr_render": mean_of(mine, "psnr_render"), "psnr_bicubic": mean_of(mine, "psnr_bicubic"),
                        "wins": int(sum(r["psnr_render"] > r["psnr_bicubic"] for r in mine)), "of": len(mine)}
    return finish_table(args, "Kodak 256² downsampled ×2 (Pillow bicubic, antialiased), fitted (represent), "
                        "rendered at 256², PSNR against the original", rows, width=args.width, means=means)


if __name__ == "__main__":
    main()
