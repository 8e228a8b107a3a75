"""A fitted signal's network kept as a small file, and the signal rendered from it on any grid: an image at any size,
a sound at any sample rate, a video at any frame rate, a shape's surface from any marching-cubes grid (the network is
a continuous function of its coordinates).

The file is a DEQ Studio model file (`engine/model_store.py`: safetensors, no pickle) of kind `fitted-signal`: the
network's weights in half precision by default, with its settings and the signal's grid (medium, shape, channels,
rate) as metadata. `deq-studio fit` writes one beside every reconstruction; `deq-studio render` reads it.

Rendering resamples a picture's sides as a resize does: along an axis of n samples rendered as m, sample j stands at
source position (j + ½)·n/m − ½, in the coordinates the network was fitted on (source sample i at −1 + 2i/(n − 1)).
A time axis (a sound's samples, a video's frames) is resampled as a change of rate does: sample j at time j/rate' is
source position j·n/m, so the first sample stays where it was and a doubled rate keeps every source sample and adds
one halfway between each two. The same count gives back the fitted grid exactly; a larger one reaches at most half a
source sample beyond the ends (a time axis: beyond the last).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from engine.config import ConfigError, FitConfig, from_dict, to_dict
from engine.media import Signal, medium_spec
from engine.atomic_files import atomic_write_bytes
from engine.model_store import ModelFileError, load_model, model_bytes
from engine.models.inr import INR, build_inr

KIND = "fitted-signal"
NETWORK_FILE = "network.safetensors"
"""The name a fit's network file takes in its run folder."""
ADVICE = "Choose the network file a fit wrote (network.safetensors in its run folder), or the run folder."
PRECISIONS = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
"""How the weights are stored: half precision halves the file for a quantization error far below what a fit
resolves (measured in tests/engine/test_fitted_network.py)."""
MAX_RENDER_SAMPLES = 1 << 25
"""The most samples one render makes (a 5792² image): its coordinates and prediction are held in memory at once."""


def resampled_axis(n_source: int, n_target: int, step: float | None = None) -> Tensor:
    """The coordinates of `n_target` samples spread over the span of `n_source` fitted samples, as a resize does or,
    given the `step` between them in source samples (a time axis: the source rate over the render's), as a change of
    rate does (see the module's docstring); float32 (n_target,)."""
    if n_source == 1:
        return torch.zeros(n_target)
    index = torch.arange(n_target, dtype=torch.float64)
    position = index * step if step is not None else (index + 0.5) * n_source / n_target - 0.5
    return (-1.0 + 2.0 * position / (n_source - 1)).float()


def resampled_coords(source: tuple[int, ...], target: tuple[int, ...], time_step: float | None = None) -> Tensor:
    """Row-major coordinates of grid `target` over the span of the fitted grid `source`, its first axis a time axis
    sampled every `time_step` source samples when given (a sound, a video): (∏target, len(target))."""
    axes = [resampled_axis(n, m, time_step if axis == 0 else None)
            for axis, (n, m) in enumerate(zip(source, target, strict=True))]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(target))


@dataclasses.dataclass
class FittedNetwork:
    """A fitted network and the grid it was fitted on (a shape: the marching-cubes grid its surface is taken from)."""

    model: INR
    config: FitConfig
    """The fit's settings, resolved (input scale, spectral norm): what the network was built from."""
    medium: str
    shape: tuple[int, ...]
    channels: int
    rate: float | None
    source: str
    """The fitted file's name."""

    def target_shape(self, scale: float | None = None, size: int | None = None, rate: float | None = None
                     ) -> tuple[tuple[int, ...], float | None]:
        """The grid and rate of a render: `scale` times every axis the medium scales (an image's sides, a video's
        frames' sides), or `size` for the longest of them; `rate` a sound's sample rate or a video's frame rate (its
        time axis scaled to keep the duration). Nothing given: the fitted grid."""
        spec = medium_spec(self.medium)
        shape, axes = list(self.shape), spec.defaults.scale_axes
        if scale is not None or size is not None:
            if spec.float_samples:  # a sound's samples are its time axis: another rate resamples it
                raise ConfigError("a sound is rendered at another sample rate (--rate), not at another size")
            factor = scale if scale is not None else size / max(self.shape[axis] for axis in axes)
            for axis in axes:
                shape[axis] = max(1, round(self.shape[axis] * factor))
        if rate is not None:
            if self.rate is None:
                raise ConfigError("a rate is a sound's or a video's: render an image at a scale or a size")
            shape[0] = max(1, round(self.shape[0] * rate / self.rate))
        count = int(np.prod(shape))
        if count > MAX_RENDER_SAMPLES:
            raise ConfigError(f"a render of {'×'.join(map(str, shape))} is {count:,} samples, more than the "
                              f"{MAX_RENDER_SAMPLES:,} one render makes: choose a smaller size")
        return tuple(shape), (rate if rate is not None else self.rate)

    def describe(self, shape: tuple[int, ...] | None = None, rate: float | None = None) -> str:
        """A grid in words: '64×48 pixels', '16000 samples at 16000 Hz', '8 frames of 16×12 at 8 fps'."""
        shape, rate = tuple(shape or self.shape), rate if shape else self.rate
        if self.medium == "mesh":
            return f"a surface from a {shape[0]}³ grid"
        if medium_spec(self.medium).float_samples:
            return f"{shape[0]} samples at {rate:g} Hz"
        sides = f"{shape[-1]}×{shape[-2]}"
        return f"{shape[0]} frames of {sides} at {rate:g} fps" if len(shape) == 3 else f"{sides} pixels"

    def render(self, shape: tuple[int, ...] | None = None, rate: float | None = None) -> Any:
        """The signal on grid `shape` (default: the fitted one) in the medium's layout (uint8 (H, W, C) image,
        (T, H, W, C) video, float (T,) sound, a shape's (vertices, faces) by marching cubes at level 0); a sound or a
        video sampled at `rate` (default: as many samples over the fitted duration)."""
        shape = tuple(shape or self.shape)
        device = next(self.model.parameters()).device
        if self.medium == "mesh":
            from engine.media import grid_coords, marching_cubes

            self.model.eval()
            field, _ = self.model.predict(grid_coords(shape).to(device))
            return marching_cubes(field[:, 0].reshape(shape), level=0.0)
        time_step = None
        if self.rate is not None:
            time_step = self.rate / rate if rate else self.shape[0] / shape[0]
        coords = resampled_coords(self.shape, shape, time_step).to(device)
        self.model.eval()
        prediction, _ = self.model.predict(coords)
        grid = Signal(self.medium, coords, prediction, shape, rate, self.source)
        return grid.to_array(prediction)

    def write(self, path: Path, array: Any, rate: float | None) -> Path:
        """Write a render in the medium's format (PNG, WAV, MP4, PLY)."""
        spec = medium_spec(self.medium)
        if spec.write is None:
            raise ConfigError(f"a {self.medium} render cannot be written as a file")
        spec.write(Path(path), array, rate)
        return Path(path)


def render_name(network: Path, medium: str, shape: tuple[int, ...], rate: float | None) -> Path:
    """A new file beside `network` for a render, named after its grid (width × height): `network-1024x768.png`,
    `network-48000hz.wav`, `network-50fps-256x256.mp4` (a number added when that name is taken)."""
    spec = medium_spec(medium)
    if medium == "mesh":
        grid = f"{shape[0]}grid"
    elif spec.float_samples:
        grid = f"{rate:g}hz"
    else:
        grid = f"{shape[-1]}x{shape[-2]}" if rate is None else f"{rate:g}fps-{shape[-1]}x{shape[-2]}"
    suffix = Path(spec.export_name).suffix
    path, copy = network.with_name(f"{network.stem}-{grid}{suffix}"), 2
    while path.exists():
        path, copy = network.with_name(f"{network.stem}-{grid}-{copy}{suffix}"), copy + 1
    return path


def network_bytes(network: FittedNetwork, precision: str = "float16") -> bytes:
    """The small file of a fitted network (`FitTask.fitted()`), its weights in `precision`."""
    arch = {"config": to_dict(network.config), "medium": network.medium, "shape": list(network.shape),
            "channels": network.channels, "d_in": len(network.shape), "rate": network.rate,
            "source": network.source, "precision": precision}
    return model_bytes(network.model, KIND, arch, dtype=PRECISIONS[precision])


def save_network(path: Path, network: FittedNetwork, precision: str = "float16") -> Path:
    """Write `network_bytes` to `path` (atomically)."""
    data = network_bytes(network, precision)
    atomic_write_bytes(Path(path), lambda handle: handle.write(data))
    return Path(path)


def jpeg_at(picture: np.ndarray, budget: int, fmt: str = "JPEG") -> tuple[int, np.ndarray] | None:
    """`picture` (uint8 (H, W, C)) encoded by Pillow as JPEG (or WebP) at the highest quality whose file is at most
    `budget` bytes: (its bytes, the decoded picture); None when even the lowest quality is larger."""
    import io

    from PIL import Image

    best, low, high = None, 1, 100
    image = Image.fromarray(picture.squeeze(-1) if picture.shape[-1] == 1 else picture)
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, quality=quality)
        if buffer.tell() <= budget:
            size = buffer.tell()
            buffer.seek(0)
            with Image.open(buffer) as decoded:
                best = (size, np.asarray(decoded.convert(image.mode)).reshape(picture.shape))
            low = quality + 1
        else:
            high = quality - 1
    return best


def load_network(path: Path, device: torch.device | str = "cpu") -> FittedNetwork:
    """A network file written by `save_network`, rebuilt in float32 on `device`; ModelFileError names what is
    wrong with a file that is not one."""
    path = Path(path)
    kind, arch, state, _ = load_model(path, ADVICE)
    if kind != KIND:
        raise ModelFileError(f"{path.name} holds a {kind} model, not a fitted signal. {ADVICE}")
    try:
        config = from_dict(FitConfig, arch["config"])
        medium, shape = str(arch["medium"]), tuple(int(n) for n in arch["shape"])
        channels, d_in = int(arch["channels"]), int(arch["d_in"])
        rate = None if arch.get("rate") is None else float(arch["rate"])
        model = build_inr(config.model, d_in, channels, input_scale=config.model.input_scale,
                          spectral_norm=bool(config.model.spectral_norm), equilibrium=config.equilibrium)
        model.load_state_dict({name: _as_float32(value) for name, value in state.items()})
        medium_spec(medium)
    except (KeyError, TypeError, ValueError, RuntimeError, ConfigError) as exc:
        raise ModelFileError(f"{path.name} is damaged: its network does not match the settings it names. Fit the "
                             f"file again. (Details: {str(exc)[:160]})") from None
    return FittedNetwork(model.to(device).eval(), config, medium, shape, channels, rate, str(arch.get("source", "")))


def _as_float32(value: Tensor) -> Any:
    return value.float() if value.is_floating_point() else value
