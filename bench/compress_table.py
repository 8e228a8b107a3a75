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
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.picture_fits import fit_picture, finish_table, kodak_pictures, table_arguments, table_row  # noqa: E402
from engine.fitted_network import jpeg_at, load_network, save_network  # noqa: E402
from engine.metrics import picture_psnr  # noqa: E402


def compress_row(name: str, picture: np.ndarray, model: str, width: int, steps: int) -> dict:
    task, seconds = fit_picture(picture, model, width, steps)
    with tempfile.TemporaryDirectory() as folder:
        path = save_network(Path(folder) / "network.safetensors", task.fitted())
        size = path.stat().st_size
        rendered = load_network(path).render()
    weights = sum(2 * value.numel() for value in task.model.state_dict().values() if value.is_floating_point())
    row = {"image": name, "model": model, "width": width, "bytes": size, "weight_bytes": weights,
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
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    for name, picture in kodak_pictures(args.images):
        for model in args.models:
            for width in args.widths:
                table_row(rows, compress_row(name, picture, model, width, args.steps))
    return finish_table(args, "Kodak 256², fitted (represent, full batch), saved in half precision; JPEG and WebP "
                        "at the highest quality no larger than the network's file", rows, widths=args.widths)


if __name__ == "__main__":
    main()
