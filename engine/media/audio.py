"""Audio with soundfile: wav, flac, ogg, mp3; mono mixdown, amplitude ÷ max|a|, optional crop and resample."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from engine.atomic_files import atomic_path
from engine.config import FitConfig, SignalConfig
from engine.media.base import Signal, SignalError, TooLarge, grid_coords, regular_file, unreadable
from engine.media.spec import PREVIEW_MODEL, FitDefaults, MediumSpec, register_medium

NOUN = "a sound"
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
AUDIO_FORMATS = "WAV or FLAC"
"""What an unreadable sound is best saved again as."""
MAX_AUDIO_SAMPLES = 20_000_000
"""The most samples (per channel, at the file's rate) read at once: 7.5 minutes at 44.1 kHz. Each becomes a
training coordinate; the memory guard then checks the fit itself."""
BLOCK_FRAMES = 1 << 16
"""Frames read (of every channel) at a time and mixed down at once: a file of many channels never lies in memory
whole."""


def load_audio(path: str | Path, config: SignalConfig = SignalConfig()) -> Signal:
    """Read a clip as a mono waveform in [−1, 1] over t ∈ [−1, 1], mixed down BLOCK_FRAMES at a time: what is held is
    MAX_AUDIO_SAMPLES at most (and one block), however many channels the file has."""
    path = regular_file(path)
    try:
        with sf.SoundFile(str(path)) as sound:
            rate = sound.samplerate
            start = int(round(config.audio_start_s * rate))
            frames = -1 if config.audio_duration_s is None else int(round(config.audio_duration_s * rate))
            wanted = max(0, sound.frames - start) if frames < 0 else min(frames, max(0, sound.frames - start))
            if wanted > MAX_AUDIO_SAMPLES:
                raise too_long(path, wanted, rate)
            if wanted:
                sound.seek(start)
            blocks = sound.blocks(BLOCK_FRAMES, frames=wanted, dtype="float32", always_2d=True) if wanted else ()
            wave = np.concatenate([np.zeros(0, np.float32), *(block.mean(axis=1) for block in blocks)])
            portion = "" if wanted == sound.frames else \
                f"seconds {start / rate:.2f}–{(start + wanted) / rate:.2f} of the file's {sound.frames / rate:.2f}"
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise unreadable(path, NOUN, AUDIO_FORMATS, exc) from exc
    if config.audio_rate and config.audio_rate < rate:  # a cap: a file recorded at a lower rate is kept as it is
        wave = resample(wave, rate, config.audio_rate)
        rate = config.audio_rate
    if wave.size < 16:
        raise SignalError(f"{path.name} has only {wave.size} samples from the chosen start and duration: choose an "
                          f"earlier Audio start s or a longer Audio duration s.")
    if not np.isfinite(wave).all():
        raise SignalError(f"{path.name} holds samples that are not numbers (NaN or infinite): the file is damaged. "
                          f"Open another file, or save it again as {AUDIO_FORMATS}.")
    peak = float(np.abs(wave).max())
    if peak == 0.0:
        raise SignalError(f"{path.name} is silent from the chosen start for the chosen duration: there is nothing "
                          f"to learn. Choose another Audio start s, or open another file.")
    values = torch.from_numpy((wave / peak).astype(np.float32)).unsqueeze(1)
    return Signal("audio", grid_coords((wave.size,)), values, (wave.size,), float(rate), path.name, portion)


def too_long(path: Path, samples: int, rate: float) -> TooLarge:
    """The error for a clip of more samples than MAX_AUDIO_SAMPLES, offering its first part that fits."""
    fits = math.floor(MAX_AUDIO_SAMPLES / rate * 10) / 10  # seconds, to a tenth
    return TooLarge(f"{path.name} has {samples / rate / 60:.1f} minutes of sound from the chosen start ({samples:,} "
                    f"samples), more than DEQ Studio reads at once ({MAX_AUDIO_SAMPLES:,} samples, {fits:g} s at "
                    f"{rate:g} Hz). Learn a part of it: set Audio duration s to {fits:g} or less "
                    f"(--audio-duration-s {fits:g}).", {"signal.audio_duration_s": fits})


def resample(wave: np.ndarray, rate: float, new_rate: float) -> np.ndarray:
    """Band-limited resampling (polyphase filter) from `rate` to `new_rate`."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(int(new_rate), int(rate)).limit_denominator(1000)
    return resample_poly(wave, ratio.numerator, ratio.denominator).astype(np.float32)


def write_audio(path: str | Path, wave: np.ndarray, rate: float) -> None:
    """Write a float waveform in [−1, 1] as 16-bit PCM (WAV/FLAC by suffix), atomically."""
    with atomic_path(path) as temporary:
        sf.write(str(temporary), np.clip(wave, -1.0, 1.0), int(round(rate)), subtype="PCM_16")


def damaged_samples(path: Path, signal: Signal, config: Any) -> torch.Tensor:
    """The samples in `config.gap` (FROM:TO, seconds of the file), as bool (T,); the gap must lie inside the
    seconds the fit learns."""
    from engine.config import span_of

    if not config.gap:
        raise SignalError("Give the gap first: the seconds of the sound that are missing, FROM:TO (Gap in the "
                          "settings, --gap 1.2:1.5 on the command line).")
    start, end = span_of(config.gap, "gap", float)
    first = config.signal.audio_start_s
    last = first + signal.shape[0] / signal.rate
    if start < first or end > last:
        raise SignalError(f"The gap {start:g}–{end:g} s lies outside the seconds learnt, {first:.2f}–{last:.2f} "
                          f"of {Path(path).name}: choose a gap inside them (or change Audio start s and Audio "
                          f"duration s).")
    seconds = first + torch.arange(signal.shape[0], dtype=torch.float64) / signal.rate
    return (seconds >= start) & (seconds < end)


def describe_audio(signal: Signal) -> str:
    part = f", {signal.portion}" if signal.portion else ""
    seconds = signal.shape[0] / (signal.rate or 1)
    return f"{seconds:.2f} s of audio at {signal.rate:g} Hz, {signal.shape[0]} samples{part}"


REFERENCE_SAMPLES = 308_207
"""The samples of the papers' Bach clip (7 s at 44.1 kHz), for which the (Implicit)² input scale of 25000 was set: a
clip's default scale follows its samples in proportion, so that the filters start at the same frequencies per
sample (as an image's follows its side). Measured on the built-in 2 s clip at 16 kHz (32,000 samples; Gabor-iMFN of
width 64, 200 steps): at 25000 it reaches 3.7 dB SNR; at 5000, 11.6 dB; at 2600 (this rule), 18.9 dB, past 10 dB
by step 75."""
PREVIEW_RATE = 16_000
"""The quick preview's sample rate: what it gives up is every frequency above 8 kHz (speech and most melodies keep
what makes them recognisable), and a 2 s preview is then 32,000 samples whatever the file's rate."""


AUDIO = register_medium(MediumSpec(
    "audio", NOUN, AUDIO_EXTENSIONS, load_audio,
    FitDefaults(input_scale=25000.0, scale_side=REFERENCE_SAMPLES, spectral_norm=False),
    FitConfig(model=PREVIEW_MODEL, signal=SignalConfig(audio_duration_s=2.0, audio_rate=PREVIEW_RATE), lr=3e-3,
              steps=500, log_every=5, eval_every=25),
    signal_fields=frozenset({"audio_start_s", "audio_duration_s", "audio_rate"}),
    write=lambda path, wave, rate: write_audio(path, wave, rate or 44100), export_name="reconstruction.wav",
    split_axes=(0,), float_samples=True, describe=describe_audio, damage=damaged_samples, damage_field="gap"))
