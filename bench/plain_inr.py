"""The yardstick for a training step: SIREN and Fourier-MFN written the plain way a paper's reader would (one
`nn.Module` of `nn.Linear` and `torch.sin`, full batch, Adam, no solver machinery, no metrics in the loop), timed in
the same process and on the same device as DEQ Studio's own step for the same network, size and data.

    python bench/plain_inr.py [--device cpu|cuda] [--sizes 65536 262144] [--layers 1 4] [--width 256]

For each network, coordinate count N (a square RGB picture of N pixels) and layer count it prints one row:
the plain script's ms per step, ours as the app runs it (`fit --preset full --protocol represent`), ours with the
plain script's arithmetic (no spectral normalization), and the ratios ours ÷ plain. Prints one JSON object:
{"device", "threads", "rows": [{"model", "n", "layers", "width", "plain_ms", "ours_ms", "ours_matched_ms",
"ratio", "ratio_matched"}]}. The same seed and picture for both; a few warm-up steps, then the median of the timed
ones (the device synchronized around each).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import cli  # noqa: E402
from engine.tasks.kinds import task_kind  # noqa: E402

WARM_UP, TIMED = 2, 5
PLAIN = ("siren", "fourier-mfn")
"""Our explicit networks the plain scripts write again: classic SIREN and Fourier-MFN."""
IMPLICIT = {"siren": "isiren", "fourier-mfn": "fourier-imfn"}
"""The implicit network each is set beside: its amortized step (one cell application from the stored fixed points,
the truncated Neumann gradient) against the plain explicit step."""


class PlainSiren(nn.Module):
    """sin(30 (W x + b)) through the first and `layers` hidden layers, then a linear readout."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, width), *(nn.Linear(width, width) for _ in range(layers))])
        self.out = nn.Linear(width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.sin(30.0 * layer(x))
        return self.out(x)


class PlainFourierMFN(nn.Module):
    """A multiplicative filter network: z = sin(Ω₀ x + φ₀), then z = (W z + b) ⊙ sin(Ωᵢ x + φᵢ) for each layer."""

    def __init__(self, width: int, layers: int, scale: float = 128.0) -> None:
        super().__init__()
        self.filters = nn.ModuleList([nn.Linear(2, width) for _ in range(layers + 1)])
        for f in self.filters:
            nn.init.uniform_(f.weight, -scale / (layers + 1) ** 0.5, scale / (layers + 1) ** 0.5)
            nn.init.uniform_(f.bias, -np.pi, np.pi)
        self.linears = nn.ModuleList([nn.Linear(width, width) for _ in range(layers)])
        self.out = nn.Linear(width, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.sin(self.filters[0](x))
        for linear, f in zip(self.linears, self.filters[1:]):
            z = linear(z) * torch.sin(f(x))
        return self.out(z)


def picture(n: int) -> np.ndarray:
    """A smooth square RGB picture of n pixels (uint8)."""
    side = int(round(n ** 0.5))
    y, x = np.mgrid[0:side, 0:side] / side
    channels = [np.sin(6 * x + 3 * y), np.cos(5 * x * y + 2 * x), np.sin(9 * y) * np.cos(4 * x)]
    return ((np.stack(channels, axis=-1) + 1) * 127.5).astype(np.uint8)


def timed(step, sync) -> float:
    """The median ms of TIMED calls of `step` after WARM_UP."""
    for _ in range(WARM_UP):
        step()
    sync()
    times = []
    for _ in range(TIMED):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def plain_ms(model: str, pixels: np.ndarray, layers: int, width: int, device: torch.device, sync) -> float:
    torch.manual_seed(0)
    side = pixels.shape[0]
    axis = torch.linspace(-1, 1, side)
    coords = torch.stack(torch.meshgrid(axis, axis, indexing="ij")[::-1], dim=-1).reshape(-1, 2).to(device)
    target = torch.from_numpy(pixels.reshape(-1, 3)).float().div(127.5).sub(1).to(device)
    net = (PlainSiren(width, layers) if model == "siren" else PlainFourierMFN(width, layers)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step() -> None:
        loss = (net(coords) - target).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return timed(step, sync)


def ours_ms(model: str, path: Path, layers: int, width: int, device: torch.device, sync, matched: bool) -> float:
    flags = ["fit", str(path), "--preset", "full", "--protocol", "represent", "--model", model, "--layers",
             str(layers), "--width", str(width), "--device", device.type, "--max-size", "65536"]
    if matched:
        flags.append("--no-spectral-norm")
    kind = task_kind("fit")
    config, file = cli.settings(kind, cli.build_parser().parse_args(flags))
    task = kind.build(config, file, device)
    return timed(task.step, sync)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="coordinate counts (default: 65536 and 262144 on a GPU, 65536 on a CPU)")
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 4], choices=[1, 4])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--models", nargs="+", default=list(PLAIN), choices=list(PLAIN))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sizes = args.sizes or ([65_536, 262_144] if device.type == "cuda" else [65_536])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            pixels = picture(n)
            path = Path(folder) / f"picture-{n}.png"
            from PIL import Image

            Image.fromarray(pixels).save(path)
            for model in args.models:
                for layers in args.layers:
                    plain = plain_ms(model, pixels, layers, args.width, device, sync)
                    ours = ours_ms(model, path, layers, args.width, device, sync, matched=False)
                    matched = ours_ms(model, path, layers, args.width, device, sync, matched=True)
                    implicit = ours_ms(IMPLICIT[model], path, layers, args.width, device, sync, matched=False)
                    row = {"model": model, "n": pixels.shape[0] ** 2, "layers": layers, "width": args.width,
                           "plain_ms": round(plain, 2), "ours_ms": round(ours, 2), "ours_matched_ms": round(matched, 2),
                           "implicit": IMPLICIT[model], "implicit_ms": round(implicit, 2),
                           "ratio": round(ours / plain, 3), "ratio_matched": round(matched / plain, 3),
                           "ratio_implicit": round(implicit / plain, 3)}
                    print(row, file=sys.stderr, flush=True)
                    rows.append(row)
    result = {"device": str(device), "threads": torch.get_num_threads(), "rows": rows}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
