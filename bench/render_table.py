"""Render at another resolution, measured (#32): a photograph downsampled ×2 (Pillow, antialiased bicubic) is fitted,
the fitted network rendered at the original size (`FittedNetwork.render`, what `deq-studio render --scale 2` writes),
and scored against the original beside Pillow's bicubic upsampling of the same small picture.

    python bench/render_table.py [--images kodim01 ...] [--models fourier-imfn fourier-mfn] [--steps 500]
        [--width 256] [--threads 2] [--write PREFIX]

Prints one JSON object: {"device", "threads", "steps", "width", "rows": [{"image", "model", "psnr_render",
"psnr_bicubic", "psnr_fit", "fit_s"}], "means": {model: {"psnr_render", "psnr_bicubic", "wins"}}}; `--write PREFIX`
writes PREFIX.json. Images: the real data's Kodak 256² set (`images/`, the first 8 by default); nothing here tunes on
them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.picture_fits import fit_picture, picture_psnr, read_rgb, resized  # noqa: E402
from bench.shared_data import shared_data_dir  # noqa: E402


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="+", default=None, help="names in the real data's images/ (default: 8)")
    parser.add_argument("--models", nargs="+", default=["fourier-imfn", "fourier-mfn"])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", default="", help="also write PREFIX.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = shared_data_dir() / "images"
    names = args.images or sorted(path.stem for path in folder.glob("*.png"))[:8]
    rows = []
    for name in names:
        original = read_rgb(folder / f"{name}.png")
        for model in args.models:
            rows.append(render_row(name, original, model, args.width, args.steps))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    means = {}
    for model in args.models:
        mine = [row for row in rows if row["model"] == model]
        means[model] = {"psnr_render": round(float(np.mean([r["psnr_render"] for r in mine])), 3),
                        "psnr_bicubic": round(float(np.mean([r["psnr_bicubic"] for r in mine])), 3),
                        "wins": int(sum(r["psnr_render"] > r["psnr_bicubic"] for r in mine)), "of": len(mine)}
    table = {"device": "cpu", "threads": args.threads, "steps": args.steps, "width": args.width,
             "protocol": "Kodak 256² downsampled ×2 (Pillow bicubic, antialiased), fitted (represent), rendered "
                         "at 256², PSNR against the original", "rows": rows, "means": means}
    print(json.dumps(table, indent=1))
    if args.write:
        Path(f"{args.write}.json").write_text(json.dumps(table, indent=1) + "\n")
    return table


if __name__ == "__main__":
    main()
