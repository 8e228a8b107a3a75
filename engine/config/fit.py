"""Fitting a signal with an implicit neural representation: the network, how a file is read, the run (SPEC 2.3–2.6)."""
from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from engine.config.equilibrium import BackwardConfig, EquilibriumConfig, SolverConfig
from engine.config.fields import (DEVICE, EVERY, MASK_FILE, SEED, STEPS, ConfigError, Range, Registered,
                                  check_fields, require)

INRName = Annotated[str, Registered("network")]
"""A network's name: one of those `engine.models.inr` registers (`register_network`)."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which implicit neural representation to fit (SPEC 2.3)."""

    model: INRName = "gabor-imfn"
    """The kind of network. The implicit ones (isiren, fourier-imfn, gabor-imfn) find their output as the point where a
    layer stops changing; gabor-imfn is usually the sharpest. Their explicit counterparts (siren-inj, fourier-mfn,
    gabor-mfn) and classic siren are the baselines."""
    layers: Literal[1, 4] = 1
    """How many layers repeat inside the loop: 1 (the papers' usual) or 4. Explicit networks: hidden layers after the
    first filter."""
    width: Annotated[int, Range(1, 8192)] = 256
    """How many numbers each layer carries: wider learns more detail and is slower (the hidden width D)."""
    input_scale: float | None = None
    """How fine the detail the network starts with can be: higher suits sharp, fast-changing signals; empty picks the
    medium's default. The defaults: image 256, or 128 to generalize, for a 512-pixel image and in proportion to its
    longer side; audio 25000 for the papers' 7 s clip at 44.1 kHz and in proportion to a clip's samples; video 128
    for 640-pixel frames and in proportion to their longer side; mesh 32; halved for isiren and siren-inj on media other than images (the frequency scale of the filter
    initialization)."""
    spectral_norm: bool | None = None
    """Keep every layer gentle enough that the loop is sure to have an answer; auto = on for implicit networks except on
    audio. It caps ‖W‖₂ at 0.97."""
    gabor_alpha: float = 3.0
    """Gabor networks only: how narrow the filters start; larger values give narrower ones on average. It is the shape α
    of the Gamma(α/(L+1), 1) prior on the envelope widths γ (2α for the first filter, as the (Implicit)² release)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.input_scale is None or self.input_scale > 0, "input_scale must be > 0")
        require(self.gabor_alpha > 0, "gabor_alpha must be > 0")


@dataclasses.dataclass(frozen=True)
class SignalConfig:
    """How a file becomes training data (SPEC 2.4). Options for other media are ignored."""

    max_size: Annotated[int, Range(4, 65_536)] | None = None
    """Images and videos: shrink so that the longer side is at most this many pixels (faster); empty = keep the full
    size."""
    audio_start_s: float = 0.0
    """Audio: where in the file to start, in seconds."""
    audio_duration_s: float | None = None
    """Audio: how many seconds to learn; empty = to the end."""
    audio_rate: Annotated[int, Range(100, 1_000_000)] | None = None
    """Audio: keep at most this many samples per second (Hz), resampling a file recorded at a higher rate; fewer is
    faster and drops the frequencies above half of it; empty = keep the file's rate."""
    video_stride: Annotated[int, Range(1, 10_000)] = 1
    """Video: keep every n-th frame (2 = every other frame)."""
    video_max_frames: Annotated[int, Range(1, 1_000_000)] | None = None
    """Video: keep at most this many frames (after skipping); empty = all."""
    mesh_points: Annotated[int, Range(1000, 100_000_000)] = 250_000
    """Shapes: how many points are drawn around the shape each pass, half anywhere in its box and half near its surface;
    fewer is faster."""
    mesh_near_sigma: float = 0.01
    """Shapes: how far from the surface the near points may lie: the standard deviation of their offsets (the box has
    half-width 1)."""
    mesh_max_triangles: Annotated[int, Range(100, 1_000_000_000)] | None = None
    """Shapes: simplify a shape of more triangles than this before fitting (its form is kept, fine detail merged);
    empty = keep every triangle."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.audio_start_s >= 0, "audio_start_s must be ≥ 0")
        require(self.audio_duration_s is None or self.audio_duration_s > 0, "audio_duration_s must be > 0")
        require(0 < self.mesh_near_sigma < 1, "mesh_near_sigma must be in (0, 1)")


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """Fitting a signal with an implicit neural representation (SPEC 2.3, 2.4, 2.6). Empty fields take the
    medium's defaults from the (Implicit)² protocols when the task is built."""

    model: ModelConfig = ModelConfig()
    """The network that learns the file."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=100, tol=1e-3)
    """How an implicit network finds its answer (the forward fixed-point solver)."""
    backward: BackwardConfig = BackwardConfig()
    """How an implicit network learns through its answer (the backward mode)."""
    signal: SignalConfig = SignalConfig()
    """How the file is read."""
    protocol: Literal["represent", "generalize"] = "represent"
    """represent: learn every pixel or sample and see how well the file is reproduced; generalize: learn every other one
    and score on the rest (how well the network fills in what it never saw)."""
    mesh_target: Literal["occupancy", "sdf"] = "occupancy"
    """Shapes: learn inside or outside (occupancy, a BCE loss) or the distance to the surface (sdf, an L1 loss)."""
    steps: STEPS = 1000
    """How many training steps: more is sharper and takes longer."""
    lr: float | None = None
    """How big each learning step is: too large and the curves jump, too small and learning crawls; empty = 1e-3 (2e-3
    for shapes). It is Adam's learning rate."""
    batch_size: Annotated[int, Range(1, 1 << 30)] | None = None
    """How many points each step learns from; empty = all of them for images and audio, 65,536 for video, 50,000 for
    shapes."""
    grad_clip: float | None = None
    """Limit every gradient element to ± this value to keep training steady; empty = 0.1 for video, none otherwise."""
    amortize: bool = True
    """Reuse the previous step's answer instead of solving again: much faster, and as accurate once training settles.
    Used when every step learns from all points: f is applied once at the stored equilibrium (the (Implicit)²
    amortization)."""
    minibatch_warm_start: bool = False
    """When each step learns from a subset of points: start each solve from those points' previous answer instead of
    from zero."""
    log_every: EVERY = 25
    """Add a point to the curves every this many steps."""
    eval_every: EVERY | None = None
    """Check the quality from scratch every this many steps (the answer is found again from zero); empty = every curve
    point for images and audio, every 250 steps for video and shapes."""
    eval_points: Annotated[int, Range(1024, 1 << 30)] = 1 << 20
    """Shapes: how many points score the final overlap (IoU), each of uniform and near-surface points; the curve points
    use 65,536."""
    mc_resolution: Annotated[int, Range(16, 512)] = 128
    """Shapes: how detailed the exported surface is (the marching-cubes grid per side); higher is finer and slower."""
    seed: SEED = 0
    """A number that fixes the random start: the same seed gives the same run."""
    device: DEVICE = "auto"
    """Where it runs: auto uses the graphics card (CUDA) when there is one."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.lr is None or self.lr > 0, "lr must be > 0")
        require(self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0")

    @property
    def equilibrium(self) -> EquilibriumConfig:
        """The forward solver and backward mode as the model is built with them."""
        return EquilibriumConfig(self.solver, self.backward)


@dataclasses.dataclass(frozen=True)
class DuelConfig(FitConfig):
    """Two networks fit the same file side by side, step for step, with the same data and seed: the first is `model`,
    the second `rival`; every other setting is shared (each takes its own medium defaults where a field is empty)."""

    model: ModelConfig = ModelConfig(model="fourier-imfn")
    """The first network (default: Fourier-iMFN, the implicit network that leads its explicit counterpart by the most
    on the (Implicit)² paper's images: +2.8 dB held out on one of them, where Gabor leads by 0.2 dB)."""
    protocol: Literal["represent", "generalize"] = "generalize"
    """represent: learn every pixel or sample and see how well the file is reproduced; generalize (a duel's default):
    learn every other one and score on the rest, where an implicit network shows what it is good at."""
    rival: INRName = "fourier-mfn"
    """The second network, trained beside the first on the same points from the same seed (default: the explicit
    counterpart of the default Fourier-iMFN, at the same width)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.rival != self.model.model, f"pick two different networks (both are {self.rival})")

    def fit_of(self, model: str) -> FitConfig:
        """The plain fit settings of one side of the duel."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(FitConfig)}
        return FitConfig(**{**shared, "model": dataclasses.replace(self.model, model=model)})


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Render a fitted network (the network.safetensors a fit writes in its run folder) on another grid: an image
    at any size, a sound at any sample rate, a video at any frame rate, a shape's surface from any marching-cubes
    grid. The network is a continuous function, so it fills in between the samples it was fitted on."""

    scale: Annotated[float, Range(0.01, 64.0)] | None = None
    """Every side times this (an image's, a video's frames'): 2 renders twice as wide and twice as tall."""
    size: Annotated[int, Range(1, 65536)] | None = None
    """The longest side in pixels (the other follows, keeping the shape), or a shape's marching-cubes grid (points
    per side); instead of scale."""
    rate: Annotated[float, Range(1.0, 1_000_000.0)] | None = None
    """A sound's sample rate (Hz) or a video's frame rate (fps); the duration stays."""
    out: str = ""
    """Where to write the render (PNG, WAV, MP4 or PLY, by the medium); empty: beside the network file, named after
    the size or rate."""
    device: DEVICE = "auto"
    """Where the network runs."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.scale is None or self.size is None, "give a scale or a size, not both")


@dataclasses.dataclass(frozen=True)
class RestoreConfig(FitConfig):
    """Restore a damaged file: the network learns what is left and fills in what is missing (a picture's damaged
    pixels, a sound's gap, a video's lost frames); the restored file keeps every sample that was not missing."""

    mask: MASK_FILE = ""
    """A picture's damage: a black-and-white image of the picture's size (any image editor makes one), black where
    the picture is damaged."""
    protocol: Literal["represent", "generalize"] = "generalize"
    """Fixed: a restore predicts samples it never saw, as the generalize protocol does, and takes that protocol's
    defaults (its lower input scale: on Kodak 256² it restored strokes 2.0 dB and half the pixels 0.5 dB better,
    bench/restore_table.py)."""
    gap: str = ""
    """A sound's missing stretch, in seconds of the file: FROM:TO (1.2:1.5 is the 0.3 s from 1.2 s on)."""
    frames: str = ""
    """A video's lost frames, numbered from 1 as the window's frame slider shows them: FIRST:LAST (10:12 is three
    frames)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gap:
            start, end = span_of(self.gap, "gap", float)
            require(0 <= start < end, f"gap {self.gap}: FROM must be at least 0 and before TO (seconds, FROM:TO)")
        if self.frames:
            first, last = span_of(self.frames, "frames", int)
            require(1 <= first <= last, f"frames {self.frames}: FIRST must be at least 1 and at most LAST (FIRST:LAST)")


def span_of(text: str, name: str, number: type) -> tuple:
    """'1.2:1.5' → (1.2, 1.5) as `number`s; ConfigError naming `name` when it does not read so."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        return number(parts[0]), number(parts[1])
    except ValueError:
        raise ConfigError(f"{name} {text!r} does not read as two {'numbers' if number is float else 'whole numbers'} "
                          f"joined by a colon, such as {'1.2:1.5' if number is float else '10:12'}") from None
