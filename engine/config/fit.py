"""Fitting a signal with an implicit neural representation: the network, how a file is read, the run (SPEC 2.3–2.6)."""
from __future__ import annotations

import dataclasses
from typing import Literal

from engine.config.equilibrium import BackwardConfig, EquilibriumConfig, SolverConfig
from engine.config.fields import check_choices, require

INRName = Literal["isiren", "fourier-imfn", "gabor-imfn", "siren-inj", "fourier-mfn", "gabor-mfn", "siren"]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which implicit neural representation to fit (SPEC 2.3)."""

    model: INRName = "gabor-imfn"
    """Network: implicit iSIREN / Fourier-iMFN / Gabor-iMFN, their explicit counterparts, or classic SIREN."""
    layers: Literal[1, 4] = 1
    """Layers inside the equilibrium (explicit networks: hidden layers after the first filter)."""
    width: int = 256
    """Hidden width D."""
    input_scale: float | None = None
    """Frequency scale of the filter initialization; empty = the medium's default (image 256, or 128 to
    generalize; audio 25000; video 128; mesh 32; halved for iSIREN and SIREN-inj)."""
    spectral_norm: bool | None = None
    """Cap ‖W‖₂ at 0.97 so the fixed point provably exists; empty = on for implicit models except on audio."""
    gabor_alpha: float = 3.0
    """Gabor filters: shape α of the Gamma(α/(L+1), 1) prior on the envelope widths γ."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(1 <= self.width <= 8192, "width must be between 1 and 8192")
        require(self.input_scale is None or self.input_scale > 0, "input_scale must be > 0")
        require(self.gabor_alpha > 0, "gabor_alpha must be > 0")


@dataclasses.dataclass(frozen=True)
class SignalConfig:
    """How a file becomes training data (SPEC 2.4). Options for other media are ignored."""

    max_size: int | None = None
    """Image and video: downscale so that the longer side is at most this many pixels; empty = keep."""
    audio_start_s: float = 0.0
    """Audio: start of the crop, in seconds."""
    audio_duration_s: float | None = None
    """Audio: length of the crop, in seconds; empty = to the end."""
    audio_rate: int | None = None
    """Audio: resample to this rate (Hz); empty = keep the file's rate."""
    video_stride: int = 1
    """Video: keep every n-th frame."""
    video_max_frames: int | None = None
    """Video: keep at most this many frames (after the stride); empty = all."""
    mesh_points: int = 250_000
    """Mesh: training points drawn per pass over the shape (half uniform in the box, half near the surface)."""
    mesh_near_sigma: float = 0.01
    """Mesh: standard deviation of the offsets of near-surface points (box half-width 1)."""

    def __post_init__(self) -> None:
        require(self.max_size is None or self.max_size >= 4, "max_size must be ≥ 4")
        require(self.audio_start_s >= 0, "audio_start_s must be ≥ 0")
        require(self.audio_duration_s is None or self.audio_duration_s > 0, "audio_duration_s must be > 0")
        require(self.audio_rate is None or self.audio_rate >= 100, "audio_rate must be ≥ 100 Hz")
        require(self.video_stride >= 1, "video_stride must be ≥ 1")
        require(self.video_max_frames is None or self.video_max_frames >= 1, "video_max_frames must be ≥ 1")
        require(self.mesh_points >= 1000, "mesh_points must be ≥ 1000")
        require(0 < self.mesh_near_sigma < 1, "mesh_near_sigma must be in (0, 1)")


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """Fitting a signal with an implicit neural representation (SPEC 2.3, 2.4, 2.6). Empty fields take the
    medium's defaults from the (Implicit)² protocols when the task is built."""

    model: ModelConfig = ModelConfig()
    """The network."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=100, tol=1e-3)
    """Forward fixed-point solver (implicit models)."""
    backward: BackwardConfig = BackwardConfig()
    """Backward mode (implicit models)."""
    signal: SignalConfig = SignalConfig()
    """How the file is read."""
    protocol: Literal["represent", "generalize"] = "represent"
    """represent: fit every sample; generalize: train on every other sample, score on the rest."""
    mesh_target: Literal["occupancy", "sdf"] = "occupancy"
    """Meshes: learn inside/outside (BCE) or the signed distance (L1)."""
    steps: int = 1000
    """Training steps."""
    lr: float | None = None
    """Adam learning rate; empty = 1e-3 (meshes 2e-3)."""
    batch_size: int | None = None
    """Coordinates per step; empty = all of them for images and audio, 65,536 for video, 50,000 for meshes."""
    grad_clip: float | None = None
    """Clip every gradient element to ±this value; empty = 0.1 for video, none otherwise."""
    amortize: bool = True
    """Full-batch signals: apply f once at the stored equilibrium each step instead of solving (SPEC 2.2)."""
    minibatch_warm_start: bool = False
    """Minibatch signals: solve from the stored equilibrium of the sampled coordinates instead of from zero."""
    log_every: int = 25
    """Write a metrics row every this many steps."""
    eval_every: int | None = None
    """Re-solve from zero and score every this many steps; empty = every logged step for images and audio,
    every 250 steps for video and meshes."""
    eval_points: int = 1 << 20
    """Meshes: uniform and near-surface points each for the final IoU (logged rows use 65,536)."""
    mc_resolution: int = 128
    """Meshes: marching-cubes grid resolution of the exported reconstruction."""
    seed: int = 0
    """Random seed (initialization and sampling)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.steps >= 0, "steps must be ≥ 0")
        require(self.lr is None or self.lr > 0, "lr must be > 0")
        require(self.batch_size is None or self.batch_size >= 1, "batch_size must be ≥ 1")
        require(self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0")
        require(self.log_every >= 1, "log_every must be ≥ 1")
        require(self.eval_every is None or self.eval_every >= 1, "eval_every must be ≥ 1")
        require(self.eval_points >= 1024, "eval_points must be ≥ 1024")
        require(16 <= self.mc_resolution <= 512, "mc_resolution must be between 16 and 512")

    @property
    def equilibrium(self) -> EquilibriumConfig:
        """The forward solver and backward mode as the model is built with them."""
        return EquilibriumConfig(self.solver, self.backward)
