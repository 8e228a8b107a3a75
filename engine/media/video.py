"""Video with PyAV (FFmpeg bundled): mp4, avi, mov, mkv, gif → frames (T, H, W, C); MP4 (H.264) writer."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
from PIL import Image

from engine.atomic_files import atomic_path
from engine.config import FitConfig, SignalConfig
from engine.media.base import Signal, SignalError, TooLarge, grid_coords, regular_file, unreadable
from engine.media.spec import PREVIEW_MODEL, FitDefaults, MediumSpec, register_medium

NOUN = "a video"
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".gif", ".webm", ".m4v")
VIDEO_FORMATS = "MP4 (H.264)"
"""What an unreadable video is best saved again as."""


MAX_VIDEO_PIXELS = 100_000_000
"""The most pixels (frames × height × width) a video is read with: each becomes a training coordinate (24 bytes
with its colour), so 100 million take 2.4 GB before a network is built. The bikes clip of the papers has 43.5
million."""


def too_long(path: Path, shape: tuple, frames: int) -> TooLarge:
    """The error for more frames than MAX_VIDEO_PIXELS holds, offering the frames that fit."""
    height, width = shape[:2]
    fits = max(1, frames - 1)
    return TooLarge(f"{path.name} has more than {frames} frames of {width}×{height} pixels, over "
                    f"{MAX_VIDEO_PIXELS // 1_000_000} million pixels in all. Learn its first {fits} frames (Video max "
                    f"frames {fits}, --video-max-frames {fits}), or keep every other frame (Video stride) or shrink "
                    f"them (Max size).", {"signal.video_max_frames": fits})


def load_video(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal:
    """Decode frames as RGB, keep every `video_stride`-th up to `video_max_frames`, downscale to `max_size`."""
    path = regular_file(path)
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SignalError(f"{path.name} holds no pictures (no video stream; is it a sound?). Open a video, "
                                  f"or open a sound file as audio.")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            pixels, portion = 0, ""
            for i, frame in enumerate(container.decode(stream)):
                if i % config.video_stride:
                    continue
                frames.append(_resized(frame.to_ndarray(format="rgb24"), config.max_size))
                pixels += frames[-1].shape[0] * frames[-1].shape[1]
                if pixels > MAX_VIDEO_PIXELS:
                    raise too_long(path, frames[-1].shape, len(frames))
                if config.video_max_frames and len(frames) >= config.video_max_frames:
                    if stream.frames > i + 1:  # a count the container states (0 where it does not)
                        portion = f"frames 1–{i + 1} of the file's {stream.frames}"
                    break
    except SignalError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise unreadable(path, NOUN, VIDEO_FORMATS, exc) from exc
    if not frames:
        raise unreadable(path, NOUN, VIDEO_FORMATS, ValueError("no frame could be decoded"))
    video = np.stack(frames).astype(np.float32) / 127.5 - 1.0  # (T, H, W, 3)
    t, h, w, c = video.shape
    values = torch.from_numpy(video.reshape(-1, c))
    return Signal("video", grid_coords((t, h, w)), values, (t, h, w), fps / config.video_stride, path.name,
                  portion)


def _resized(rgb: np.ndarray, max_size: int | None) -> np.ndarray:
    h, w = rgb.shape[:2]
    if not max_size or max(h, w) <= max_size:
        return rgb
    scale = max_size / max(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def write_video(path: str | Path, frames: np.ndarray, fps: float) -> None:
    """Write uint8 frames (T, H, W, C) as H.264 MP4 (odd sizes padded by one edge pixel for yuv420p), atomically."""
    t, h, w = frames.shape[:3]
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as temporary, av.open(str(temporary), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def damaged_frames(path: Path, signal: Signal, config: Any) -> torch.Tensor:
    """Every pixel of the frames `config.frames` names (FIRST:LAST, from 1, of the frames the fit reads), as bool
    (T·H·W,)."""
    from engine.config import span_of

    if not config.frames:
        raise SignalError("Give the lost frames first: FIRST:LAST, numbered from 1 as the frame slider shows them "
                          "(Frames in the settings, --frames 10:12 on the command line).")
    first, last = span_of(config.frames, "frames", int)
    count = signal.shape[0]
    if last > count:
        raise SignalError(f"Frames {first}–{last} lie past the end of the {count} frames read from "
                          f"{Path(path).name}: choose frames from 1 to {count}.")
    frames = torch.zeros(signal.shape, dtype=torch.bool)
    frames[first - 1 : last] = True
    return frames.reshape(-1)


def describe_video(signal: Signal) -> str:
    part = f", {signal.portion}" if signal.portion else ""
    return f"{'×'.join(str(s) for s in signal.shape)} video at {signal.rate:g} fps{part}"


REFERENCE_SIDE = 640
"""The frame side (the papers' bikes clip, 640×272) the input scale of 128 was set for: a video's default scale
follows its frames' longer side in proportion, as an image's does. Measured on the built-in 64×64 clip (the quick
preview, 200 steps): at 128 it reaches 17.1 dB; at 32, 22.6 dB; at 12.8 (this rule), 27.4 dB."""

VIDEO = register_medium(MediumSpec(
    "video", NOUN, VIDEO_EXTENSIONS, load_video,
    FitDefaults(input_scale=128.0, scale_side=REFERENCE_SIDE, scale_axes=(1, 2), batch_size=65536, grad_clip=0.1,
                eval_every=250),
    FitConfig(model=PREVIEW_MODEL, signal=SignalConfig(max_size=96, video_stride=2, video_max_frames=16), lr=3e-3,
              batch_size=16_384, steps=500, log_every=5, eval_every=50),
    signal_fields=frozenset({"max_size", "video_stride", "video_max_frames"}),
    write=lambda path, frames, rate: write_video(path, frames, rate or 25), export_name="reconstruction.mp4",
    split_axes=(1, 2), frame_scores=True, describe=describe_video, damage=damaged_frames, damage_field="frames"))
