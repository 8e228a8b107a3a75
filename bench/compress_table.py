"""Keep it small, measured (#32): a photograph fitted (the `represent` protocol) by networks of a few widths, each
saved as the half-precision file `deq-studio fit` writes (`network.safetensors`), beside JPEG and WebP (Pillow) at
the same number of bytes: bits per pixel and PSNR, a rate–distortion table.

    python bench/compress_table.py [--images kodim01 ...] [--models gabor-imfn] [--widths 32 64 128] [--steps 1000]
        [--threads 2] [--write PREFIX]

The network's bytes are the whole file (its weights and the settings it is rebuilt from, about 2 KB of text), and
also the weights alone. JPEG and WebP take the highest quality whose file is no larger than the network's. Prints
one JSON object: {"device", "threads", "steps", "rows": [{"image", "model", "width", "bytes", "weight_bytes", "bpp",
"psnr", "psnr_fp32", "jpeg_bytes", "psnr_jpeg", "webp_bytes", "psnr_webp", "fit_s"}]}; `--write PREFIX` writes
PREFIX.json. Images: the real data's Kodak 256² set (`images/`, the first 8 by default).

    python bench/compress_table.py --media audio video [--widths 32 64] [--steps 1000] [--lr 3e-3] --write PREFIX

Sounds and the video (bench/clip_fits.py): Bach and a recorded voice beside Opus (libopus through PyAV, the highest
bit rate no larger than the network's file; SNR after taking away the codec's delay), the bikes preview beside H.264
(libx264, the lowest CRF no larger; PSNR); each medium its own part of PREFIX.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clip_fits import kept, sound_compress_rows, sound_rows, video_compress_rows, weight_bytes  # noqa: E402
from bench.picture_fits import fit_picture, finish_table, kodak_pictures, table_arguments, table_row  # noqa: E402
from engine.fitted_network import jpeg_at  # noqa: E402
from engine.metrics import picture_psnr  # noqa: E402


def compress_row(name: str, picture: np.ndarray, model: str, width: int, steps: int) -> dict:
    task, seconds = fit_picture(picture, model, width, steps)
    size, rendered = kept(task)
    row = {"image": name, "model": model, "width": width, "bytes": size, "weight_bytes": weight_bytes(task.model),
           "bpp": round(8 * size / (picture.shape[0] * picture.shape[1]), 3),
           "psnr": round(picture_psnr(rendered, picture), 3),
           "psnr_fp32": round(picture_psnr(task.reconstruction, picture), 3), "fit_s": round(seconds, 1)}
    for fmt in ("JPEG", "WEBP"):
        found = jpeg_at(picture, size, fmt)
        key = fmt.lower()
        row[f"{key}_bytes"] = found[0] if found else None
        row[f"psnr_{key}"] = round(picture_psnr(found[1], picture), 3) if found else None
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = table_arguments(__doc__, ["gabor-imfn"], 1000)
    parser.add_argument("--widths", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--lr", type=float, default=3e-3, help="sounds and the video (pictures: 1e-3)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    table = {}
    if "pictures" in args.media:
        rows: list[dict] = []
        for name, picture in kodak_pictures(args.images):
            for model in args.models:
                for width in args.widths:
                    table_row(rows, compress_row(name, picture, model, width, args.steps))
        table = finish_table(args, "Kodak 256², fitted (represent, full batch), saved in half precision; JPEG and "
                             "WebP at the highest quality no larger than the network's file", rows, widths=args.widths)
    if "audio" in args.media:
        rows = sound_rows(lambda clip: [row for model in args.models for row in sound_compress_rows(
            clip, model, args.widths, args.steps, args.lr)])
        table = finish_table(args, "Bach (1 s from 1.5 s, 44.1 kHz) and a recorded voice (1.43 s, 48 kHz), fitted "
                             "(represent), saved in half precision; Opus at the highest bit rate no larger than the "
                             "network's file; SNR against the clip", rows, "audio", widths=args.widths, lr=args.lr)
    if "video" in args.media:
        rows = []
        for model in args.models:
            for row in video_compress_rows(model, args.widths, args.steps, args.lr):
                table_row(rows, row)
        table = finish_table(args, "The bikes video's preview frames (16 of 96×41), fitted (represent), saved in "
                             "half precision; H.264 at the lowest CRF no larger than the network's file; PSNR "
                             "over all frames", rows, "video", widths=args.widths, lr=args.lr)
    return table


if __name__ == "__main__":
    main()
