"""Sounds and a video for the restore and render tables (#32), beside the classical tools a user would reach for:
two real clips (the papers' Bach from the real data; a recorded voice saying "Front center", from Debian's alsa-utils
package, fetched with `apt-get download` when it is not installed) and the real data's bikes video, each fitted by
DEQ Studio's own tasks in this process.

Sounds are scored as SNR (dB: the clip's energy over the error's, inside the region scored), pictures and videos as
PSNR over 8-bit values. Every fit uses the settings a user gets (`RestoreConfig`, `FitConfig`) but the model, width,
steps and learning rate given.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.shared_data import shared_data_dir  # noqa: E402
from engine.config import FitConfig, ModelConfig, RestoreConfig, SignalConfig  # noqa: E402
from engine.media import load_signal  # noqa: E402
from engine.media.audio import resample  # noqa: E402
from engine.metrics import picture_psnr  # noqa: E402
from engine.tasks.kinds import task_kind  # noqa: E402

SPEECH = "usr/share/sounds/alsa/Front_Center.wav"
"""A man's voice saying "Front center" (48 kHz, 1.43 s), as Debian's alsa-utils installs it."""
VIDEO_FRAMES = SignalConfig(max_size=96, video_stride=2, video_max_frames=16)
"""The bikes video as the window's preview reads it: 16 frames (every other one of the first 32, 12.5 fps) of 96×41."""


def speech_clip(folder: Path) -> Path:
    """The recorded voice: installed, else taken from alsa-utils' package (downloaded into `folder`, not installed)."""
    installed = Path("/") / SPEECH
    if installed.is_file():
        return installed
    subprocess.run(["apt-get", "download", "alsa-utils"], cwd=folder, check=True, capture_output=True)
    package = next(folder.glob("alsa-utils_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(package), str(folder / "alsa-utils")], check=True)
    return folder / "alsa-utils" / SPEECH


def sound_clips(folder: Path) -> list[dict]:
    """The two clips: name, file, the seconds learnt (start, duration) and where in them the gaps go (a second of
    the file, in a loud stretch: Bach's continuous melody; the voice's "o" of "front")."""
    return [{"name": "bach", "path": shared_data_dir() / "audio" / "gt_bach.wav", "start": 1.5, "duration": 1.0,
             "gap_at": 2.0},
            {"name": "speech", "path": speech_clip(folder), "start": 0.0, "duration": None, "gap_at": 0.2}]


def sound_rows(make_rows) -> list[dict]:
    """The rows `make_rows(clip)` gives for each sound clip, shown on stderr as they come."""
    from bench.picture_fits import table_row

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        for clip in sound_clips(Path(folder)):
            for row in make_rows(clip):
                table_row(rows, row)
    return rows


def snr(estimate: np.ndarray, truth: np.ndarray) -> float:
    """10·log10(Σ truth² / Σ (estimate − truth)²), in dB."""
    error = float(np.sum((np.asarray(estimate, np.float64) - truth) ** 2))
    return 10 * np.log10(float(np.sum(np.asarray(truth, np.float64) ** 2)) / max(error, 1e-30))


def fitted(kind: str, config: FitConfig, path: Path) -> tuple[object, float]:
    """`path` fitted by the task kind `kind` under `config` for `config.steps` steps: the task (evaluated, its
    reconstruction made) and the seconds the steps took."""
    task = task_kind(kind).build(config, path, torch.device(config.device))
    start = time.perf_counter()
    for _ in range(config.steps):
        task.step()
    seconds = time.perf_counter() - start
    task.evaluate(final=True)
    return task, seconds


def model_config(model: str, width: int) -> ModelConfig:
    return ModelConfig(model=model, width=width)


def interpolated_gap(wave: np.ndarray, missing: np.ndarray, method: str, context: int = 64) -> np.ndarray:
    """The gap filled from the samples around it: "linear" (a straight line between its two neighbours) or "cubic"
    (a cubic spline through `context` samples on each side)."""
    from scipy.interpolate import CubicSpline

    index = np.flatnonzero(missing)
    first, last = index[0], index[-1]
    filled = wave.copy()
    if method == "linear":
        filled[index] = np.interp(index, [first - 1, last + 1], wave[[first - 1, last + 1]])
        return filled
    known = np.r_[max(0, first - context):first, last + 1:min(wave.size, last + 1 + context)]
    filled[index] = CubicSpline(known, wave[known])(index)
    return filled


def sound_restore_rows(clip: dict, gap_ms: float, models: list[str], width: int, steps: int, lr: float) -> list[dict]:
    """One gap of `gap_ms` in `clip`, restored by each model beside linear and cubic interpolation: SNR in the gap."""
    start_gap = clip["gap_at"]
    gap = f"{start_gap:.6f}:{start_gap + gap_ms / 1000:.6f}"
    signal_config = SignalConfig(audio_start_s=clip["start"], audio_duration_s=clip["duration"])
    original = load_signal(clip["path"], signal_config)
    wave = original.values[:, 0].numpy().astype(np.float64)
    rows = []
    for model in models:
        config = RestoreConfig(model=model_config(model, width), signal=signal_config, steps=steps, log_every=steps,
                               lr=lr, device="cpu", gap=gap)
        task, seconds = fitted("restore", config, clip["path"])
        missing = task.missing.numpy()
        network = task.fitted().render()  # the fitted grid: the network's own values where nothing is missing too
        rows.append({"clip": clip["name"], "gap_ms": gap_ms, "samples": int(missing.sum()), "model": model,
                     "snr": round(snr(np.asarray(task.reconstruction)[missing], wave[missing]), 3),
                     "snr_known": round(snr(network[~missing], wave[~missing]), 3),
                     **{f"snr_{method}": round(snr(interpolated_gap(wave, missing, method)[missing], wave[missing]), 3)
                        for method in ("linear", "cubic")},
                     "fit_s": round(seconds, 1)})
    return rows


def sound_render_rows(clip: dict, models: list[str], width: int, steps: int, lr: float) -> list[dict]:
    """The clip at half its sample rate (scipy's polyphase filter) fitted (represent) and rendered at its own rate,
    beside polyphase and cubic upsampling of the same half-rate clip: SNR over the clip against the original."""
    original = load_signal(clip["path"], SignalConfig(audio_start_s=clip["start"], audio_duration_s=clip["duration"]))
    wave, rate = original.values[:, 0].numpy().astype(np.float64), float(original.rate)
    half = resample(wave.astype(np.float32), rate, rate / 2).astype(np.float64)
    peak = float(np.abs(half).max())  # the loader scales a clip to its peak: undone below
    times = np.arange(wave.size) / rate
    from scipy.interpolate import CubicSpline

    cubic = CubicSpline(np.arange(half.size) * 2 / rate, half)(times)
    polyphase = resample(half.astype(np.float32), rate / 2, rate)[:wave.size].astype(np.float64)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{clip['name']}-half.wav"
        sf.write(str(path), half.astype(np.float32), int(rate / 2), subtype="FLOAT")
        for model in models:
            config = FitConfig(model=model_config(model, width), protocol="represent", steps=steps, log_every=steps,
                               lr=lr, device="cpu")
            task, seconds = fitted("fit", config, path)
            network = task.fitted()
            shape, _ = network.target_shape(rate=rate)
            render = network.render(shape, rate)[:wave.size] * peak
            rows.append({"clip": clip["name"], "model": model, "samples": int(wave.size), "rate": rate,
                         "snr_render": round(snr(render, wave[:render.size]), 3),
                         "snr_polyphase": round(snr(polyphase, wave), 3), "snr_cubic": round(snr(cubic, wave), 3),
                         "snr_fit": round(snr(np.asarray(task.reconstruction) * peak, half), 3),
                         "fit_s": round(seconds, 1)})
    return rows


def bikes() -> Path:
    return shared_data_dir() / "video" / "bikes.mp4"


def video_frames(config: SignalConfig = VIDEO_FRAMES) -> np.ndarray:
    """The bikes video's frames as the fits read them: uint8 (T, H, W, 3)."""
    signal = load_signal(bikes(), config)
    return signal.to_array(signal.values)


def interpolated_frames(frames: np.ndarray, missing: list[int]) -> dict[str, np.ndarray]:
    """Lost frames filled from the nearest kept ones: "linear" (blended by time), "repeat" (the last kept frame
    shown again, as a player does)."""
    kept = [t for t in range(len(frames)) if t not in missing]
    flat = frames.reshape(len(frames), -1).astype(np.float64)
    linear, repeat = frames.copy(), frames.copy()
    for t in missing:
        before = max((k for k in kept if k < t), default=None)
        after = min((k for k in kept if k > t), default=None)
        if before is None or after is None:
            nearest = before if after is None else after
            linear[t] = repeat[t] = frames[nearest]
            continue
        weight = (t - before) / (after - before)
        blend = (1 - weight) * flat[before] + weight * flat[after]
        linear[t] = np.clip(np.round(blend), 0, 255).astype(np.uint8).reshape(frames.shape[1:])
        repeat[t] = frames[before]
    return {"linear": linear, "repeat": repeat}


def video_restore_rows(first: int, last: int, models: list[str], width: int, steps: int, lr: float) -> list[dict]:
    """Frames FIRST..LAST (from 1) of the bikes preview lost, restored by each model beside linear blending and a
    repeated frame: PSNR over the lost frames."""
    frames = video_frames()
    lost = list(range(first - 1, last))
    classical = interpolated_frames(frames, lost)
    rows = []
    for model in models:
        config = RestoreConfig(model=model_config(model, width), signal=VIDEO_FRAMES, steps=steps, log_every=steps,
                               lr=lr, device="cpu", frames=f"{first}:{last}")
        task, seconds = fitted("restore", config, bikes())
        restored = np.asarray(task.reconstruction)
        rows.append({"frames": f"{first}:{last}", "lost": len(lost), "model": model,
                     "psnr": round(picture_psnr(restored[lost], frames[lost]), 3),
                     **{f"psnr_{name}": round(picture_psnr(filled[lost], frames[lost]), 3)
                        for name, filled in classical.items()},
                     "fit_s": round(seconds, 1)})
    return rows


def video_render_rows(models: list[str], width: int, steps: int, lr: float) -> list[dict]:
    """The bikes preview at half its frame rate (every other frame) fitted (represent) and rendered at its full
    rate, beside linear blending and repeated frames: PSNR over all frames against the full-rate clip (the frames
    the half-rate clip holds included; the last one lies past it for every method)."""
    full = video_frames()
    half_config = SignalConfig(max_size=VIDEO_FRAMES.max_size, video_stride=2 * VIDEO_FRAMES.video_stride,
                               video_max_frames=VIDEO_FRAMES.video_max_frames // 2)
    half = video_frames(half_config)
    spread = np.zeros_like(full)
    spread[0::2] = half
    classical = interpolated_frames(spread, list(range(1, len(full), 2)))
    between = list(range(1, len(full), 2))
    rows = []
    for model in models:
        config = FitConfig(model=model_config(model, width), signal=half_config, protocol="represent", steps=steps,
                           log_every=steps, lr=lr, device="cpu")
        task, seconds = fitted("fit", config, bikes())
        network = task.fitted()
        shape, rate = network.target_shape(rate=2 * network.rate)
        render = network.render(shape, rate)
        rows.append({"model": model, "frames": len(full), "psnr_render": round(picture_psnr(render, full), 3),
                     "psnr_render_between": round(picture_psnr(render[between], full[between]), 3),
                     **{f"psnr_{name}": round(picture_psnr(filled, full), 3) for name, filled in classical.items()},
                     **{f"psnr_{name}_between": round(picture_psnr(filled[between], full[between]), 3)
                        for name, filled in classical.items()},
                     "psnr_fit": round(picture_psnr(np.asarray(task.reconstruction), half), 3),
                     "fit_s": round(seconds, 1)})
    return rows


def _largest_within(budget: int, low: int, high: int, encode) -> tuple[int, object] | None:
    """Binary search for the largest setting in [low, high] whose `encode(setting)` → (bytes, decoded) is at most
    `budget` bytes (the size grows with the setting): that (bytes, decoded), None when even `low` is larger."""
    best = None
    while low <= high:
        middle = (low + high) // 2
        size, decoded = encode(middle)
        if size <= budget:
            best, low = (size, decoded), middle + 1
        else:
            high = middle - 1
    return best


def aligned(decoded: np.ndarray, wave: np.ndarray, reach: int = 2048) -> np.ndarray:
    """`decoded` shifted by the lag (within ±`reach` samples) that best matches `wave`, cut or padded to its length:
    a codec's start delay taken away, as generously as possible."""
    n = wave.size
    padded = np.concatenate([np.zeros(reach), decoded, np.zeros(n + reach)])
    lags = range(-reach, reach + 1)
    best = max(lags, key=lambda lag: float(np.dot(padded[reach + lag:reach + lag + n], wave)))
    return padded[reach + best:reach + best + n]


def opus_at(wave: np.ndarray, rate: float, budget: int, folder: Path) -> tuple[int, np.ndarray] | None:
    """`wave` encoded by libopus (Ogg, at 48 kHz, FFmpeg through PyAV) at the highest bit rate (kb/s) whose file is
    at most `budget` bytes: (its bytes, the decoded wave at `rate`, aligned); None when even 6 kb/s is larger."""
    import av

    at_48k = resample(wave.astype(np.float32), rate, 48_000)

    def encode(kbps: int) -> tuple[int, np.ndarray]:
        path = folder / f"opus-{kbps}.ogg"
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream("libopus", rate=48_000, layout="mono")
            stream.bit_rate = 1000 * kbps
            frame = av.AudioFrame.from_ndarray(np.clip(at_48k, -1, 1)[None, :].astype(np.float32), format="flt",
                                               layout="mono")
            frame.sample_rate = 48_000
            for packet in stream.encode(frame):
                container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with av.open(str(path)) as container:
            decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
        back = resample(decoded.astype(np.float32), 48_000, rate).astype(np.float64)
        return path.stat().st_size, aligned(back, wave)

    return _largest_within(budget, 6, 256, encode)


def h264_at(frames: np.ndarray, fps: float, budget: int, folder: Path) -> tuple[int, np.ndarray] | None:
    """uint8 frames (T, H, W, 3) encoded by libx264 (MP4, yuv420p, odd sides padded) at the lowest CRF whose file is
    at most `budget` bytes: (its bytes, the decoded frames); None when even CRF 51 is larger."""
    import av
    from fractions import Fraction

    t, h, w = frames.shape[:3]
    padded = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")

    def encode(quality: int) -> tuple[int, np.ndarray]:
        path = folder / f"h264-{quality}.mp4"
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height = padded.shape[2], padded.shape[1]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(51 - quality)}
            for frame in padded:
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with av.open(str(path)) as container:
            decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
        return path.stat().st_size, decoded[:t, :h, :w]

    return _largest_within(budget, 0, 51, encode)


def weight_bytes(model) -> int:
    """The bytes of a model's floating-point weights in half precision."""
    return sum(2 * value.numel() for value in model.state_dict().values() if value.is_floating_point())


def kept(task) -> tuple[int, object]:
    """The fitted network saved as `deq-studio fit` keeps it (network.safetensors, half precision) and rendered back
    from that file on its fitted grid: (the file's bytes, the render)."""
    from engine.fitted_network import load_network, save_network

    with tempfile.TemporaryDirectory() as folder:
        path = save_network(Path(folder) / "network.safetensors", task.fitted())
        return path.stat().st_size, load_network(path).render()


def sound_compress_rows(clip: dict, model: str, widths: list[int], steps: int, lr: float) -> list[dict]:
    """The clip fitted (represent) by `model` at each width and kept as its network file, beside Opus at the same
    bytes: kb/s and SNR."""
    signal_config = SignalConfig(audio_start_s=clip["start"], audio_duration_s=clip["duration"])
    original = load_signal(clip["path"], signal_config)
    wave, rate = original.values[:, 0].numpy().astype(np.float64), float(original.rate)
    seconds_long = wave.size / rate
    rows = []
    for width in widths:
        config = FitConfig(model=model_config(model, width), signal=signal_config, protocol="represent", steps=steps,
                           log_every=steps, lr=lr, device="cpu")
        task, seconds = fitted("fit", config, clip["path"])
        size, render = kept(task)
        row = {"clip": clip["name"], "model": model, "width": width, "bytes": size, "weight_bytes":
               weight_bytes(task.model), "kbps": round(8 * size / seconds_long / 1000, 2),
               "snr": round(snr(render, wave), 3), "fit_s": round(seconds, 1)}
        with tempfile.TemporaryDirectory() as folder:
            found = opus_at(wave, rate, size, Path(folder))
        row["opus_bytes"] = found[0] if found else None
        row["snr_opus"] = round(snr(found[1], wave), 3) if found else None
        rows.append(row)
    return rows


def video_compress_rows(model: str, widths: list[int], steps: int, lr: float) -> list[dict]:
    """The bikes preview fitted (represent) by `model` at each width and kept as its network file, beside H.264 at
    the same bytes: bits per pixel and PSNR."""
    frames = video_frames()
    rows = []
    for width in widths:
        config = FitConfig(model=model_config(model, width), signal=VIDEO_FRAMES, protocol="represent", steps=steps,
                           log_every=steps, lr=lr, device="cpu")
        task, seconds = fitted("fit", config, bikes())
        size, render = kept(task)
        row = {"model": model, "width": width, "bytes": size, "weight_bytes": weight_bytes(task.model),
               "bpp": round(8 * size / frames[..., 0].size, 3), "psnr": round(picture_psnr(render, frames), 3),
               "fit_s": round(seconds, 1)}
        with tempfile.TemporaryDirectory() as folder:
            found = h264_at(frames, task.signal.rate or 12.5, size, Path(folder))
        row["h264_bytes"] = found[0] if found else None
        row["psnr_h264"] = round(picture_psnr(found[1], frames), 3) if found else None
        rows.append(row)
    return rows
