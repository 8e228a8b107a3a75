"""Frozen dataclass configs and the machinery that turns them into JSON, CLI options and GUI forms.

Every config field carries an attribute docstring (a string literal right under the field). `field_docs` reads
those docstrings; the GUI shows them as tooltips and the CLI as `--help` text. `Literal[...]` annotations give
the valid choices. Configs round-trip through plain JSON dicts with `to_dict` / `from_dict`.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
import typing
from typing import Any, Literal, TypeVar

C = TypeVar("C")


class ConfigError(ValueError):
    """A config value is invalid; the message is meant for the user."""


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass, by field name (empty where the source is unavailable)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
        for node, nxt in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """Resolved type annotations of a dataclass's fields."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def field_choices(cls: type, name: str) -> tuple[Any, ...] | None:
    """The allowed values of a `Literal[...]` field, else None."""
    tp = field_types(cls)[name]
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def check_choices(config: Any) -> None:
    """Raise ConfigError if any Literal-typed field of `config` holds a value outside its choices."""
    for f in dataclasses.fields(config):
        choices = field_choices(type(config), f.name)
        value = getattr(config, f.name)
        if choices is not None and value not in choices:
            raise ConfigError(f"{type(config).__name__}.{f.name} = {value!r}; choose one of {list(choices)}")


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless `condition` holds."""
    if not condition:
        raise ConfigError(message)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass."""
    return dataclasses.asdict(config)


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build `cls` from a dict made by `to_dict`, recursing into nested configs; unknown keys are an error."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    types = field_types(cls)
    unknown = set(data) - set(types)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown option(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        tp = types[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = from_dict(tp, value)
        elif tp is float and isinstance(value, int) and not isinstance(value, bool):
            kwargs[name] = float(value)
        elif tp in (int, float, str, bool) and not isinstance(value, tp):
            raise ConfigError(f"{cls.__name__}.{name}: expected {tp.__name__}, got {value!r}")
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


SolverName = Literal["picard", "anderson", "broyden"]


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    """How a fixed point z* = f(z*) is found (SPEC 2.1)."""

    solver: SolverName = "anderson"
    """Fixed-point solver: damped Picard iteration, Anderson acceleration or limited-memory Broyden."""
    max_iter: int = 100
    """Most solver iterations per solve; the lowest-residual iterate is kept if tol is not reached."""
    tol: float = 1e-3
    """Stop when every sample's residual is below this value."""
    stop_mode: Literal["rel", "abs"] = "rel"
    """Residual measure: rel = ‖f(z)−z‖/‖f(z)‖ per sample, abs = ‖f(z)−z‖ per sample."""
    damping: float = 1.0
    """Picard damping τ in z ← (1−τ)z + τf(z); 1 is plain forward iteration."""
    anderson_memory: int = 5
    """Anderson: number of past iterates mixed."""
    anderson_lam: float = 1e-4
    """Anderson: Tikhonov regularization of the small least-squares solve, relative to its scale."""
    anderson_beta: float = 1.0
    """Anderson: mixing β between f-values (1) and iterates (0)."""
    broyden_memory: int = 30
    """Broyden: number of rank-one updates kept (limited memory)."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.max_iter >= 0, "max_iter must be ≥ 0")
        require(self.tol > 0, "tol must be > 0")
        require(0 < self.damping <= 1, "damping must be in (0, 1]")
        require(self.anderson_memory >= 1, "anderson_memory must be ≥ 1")
        require(self.anderson_lam >= 0, "anderson_lam must be ≥ 0")
        require(0 < self.anderson_beta <= 1, "anderson_beta must be in (0, 1]")
        require(self.broyden_memory >= 1, "broyden_memory must be ≥ 1")

    def options(self) -> dict[str, Any]:
        """Keyword options of the chosen solver function."""
        if self.solver == "picard":
            return {"damping": self.damping}
        if self.solver == "anderson":
            return {"memory": self.anderson_memory, "lam": self.anderson_lam, "beta": self.anderson_beta}
        return {"memory": self.broyden_memory}


@dataclasses.dataclass(frozen=True)
class BackwardConfig:
    """How gradients pass through the equilibrium (SPEC 2.2)."""

    mode: Literal["exact", "neumann", "jfb"] = "neumann"
    """exact: solve the adjoint u = Jᵀu + g; neumann: u ≈ Σ_{i≤T}(Jᵀ)ⁱg; jfb: u = g (Jacobian-free)."""
    neumann_order: int = 1
    """T, the number of Neumann terms past the identity (1 is the (Implicit)² "one step" default)."""
    adjoint: SolverConfig = SolverConfig(solver="anderson", max_iter=50, tol=1e-6)
    """Solver for the exact adjoint u = Jᵀu + g."""
    warm_start_adjoint: bool = True
    """Start the exact adjoint solve from the previous step's solution where one is kept."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.neumann_order >= 0, "neumann_order must be ≥ 0")


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


@dataclasses.dataclass(frozen=True)
class JIIOConfig:
    """Joint inference and input optimization: one augmented fixed point over (z, μ, x) (SPEC 2.5)."""

    iterations: int = 40
    """K, the fixed budget of augmented iterations (Anderson steps)."""
    eta_z: float = 0.8
    """Damping of the state update z ← z + η_z (f(z, x) − z)."""
    eta_mu: float = 0.6
    """Damping of the adjoint update μ ← μ + η_μ (∂ℓ/∂z + Jᵀμ − μ)."""
    alpha: tuple[float, float] = (0.03, 0.01)
    """Input step sizes (α₁, α₂); α₂ takes over at iteration max(50, ⌊5K/8⌋)."""
    normalized: bool = False
    """Normalize each sample's input step to unit L2 norm (attacks)."""
    projection: Literal["none", "l2"] = "none"
    """Constraint on the optimized input: none (latents) or an L2 ball of radius epsilon (perturbations)."""
    epsilon: float = 1.0
    """Radius of the L2 ball."""
    box: bool = False
    """Also keep base + δ inside [0, 1] (attacks on images in [0, 1])."""
    anderson_memory: int = 10
    """Anderson memory on the concatenated per-sample state (10–40)."""
    anderson_lam: float = 1e-4
    """Anderson regularization."""
    select: Literal["residual", "loss"] = "residual"
    """Iterate each sample returns: its lowest-residual one, or its lowest-loss one among those with a residual
    within 1.3× its lowest (after 10 iterations; the JIIO reference's rule for attacks)."""
    loss_reduction: Literal["sum", "mean"] = "sum"
    """How a sample's loss sums its elements; the step sizes are tuned to this scale."""
    loss_weight: float = 1.0
    """Multiplier of the loss (e.g. −10 × cross-entropy for attacks is weight 10 on the attack loss)."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.iterations >= 1, "iterations must be ≥ 1")
        require(0 < self.eta_z <= 1 and 0 < self.eta_mu <= 1, "eta_z and eta_mu must be in (0, 1]")
        require(len(self.alpha) == 2 and min(self.alpha) > 0, "alpha must be two positive step sizes")
        require(self.epsilon > 0, "epsilon must be > 0")
        require(self.anderson_memory >= 1, "anderson_memory must be ≥ 1")

    def step_size(self, k: int) -> float:
        """α_k: α₁ before iteration max(50, ⌊5K/8⌋), α₂ from it on (k counted from 0)."""
        return self.alpha[0] if k < max(50, (5 * self.iterations) // 8) else self.alpha[1]


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """Training a generative MDEQ-lite decoder whose latents are found by JIIO (SPEC 2.5)."""

    data: str = ""
    """Folder with the MNIST IDX files, or a folder of images cut into 28×28 gray patches."""
    latent: int = 64
    """Latent size k."""
    channels: tuple[int, ...] = (24, 48)
    """Channels of each resolution branch (2 to 4 branches)."""
    steps: int = 1000
    """Weight updates."""
    batch_size: int = 64
    """Images per update."""
    lr: float = 1e-3
    """Adam learning rate of the decoder weights."""
    jiio: JIIOConfig = JIIOConfig(iterations=20, alpha=(0.3, 0.1))
    """How each batch's latents are found (from zero)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=30, tol=1e-3)
    """Forward and adjoint solver of the decoder's equilibrium."""
    gmm_components: int = 10
    """Gaussian-mixture components fitted to the optimized latents for sampling."""
    log_every: int = 25
    """Write a metrics row every this many steps."""
    eval_every: int = 100
    """Score held-out reconstructions every this many steps."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.latent >= 1 and self.steps >= 0 and self.batch_size >= 1, "latent, steps, batch_size ≥ 1")
        require(1 <= len(self.channels) <= 4 and min(self.channels) >= 1, "channels: 1 to 4 positive numbers")
        require(self.lr > 0, "lr must be > 0")
        require(self.gmm_components >= 1, "gmm_components must be ≥ 1")


@dataclasses.dataclass(frozen=True)
class AttackConfig:
    """Attacking a DEQ classifier inside an L2 ball (SPEC 2.5): JIO (one augmented fixed point) or PGD."""

    method: Literal["jio", "pgd"] = "jio"
    """jio: joint input optimization with the equilibrium and its adjoint; pgd: projected gradient steps, each
    with a full forward and adjoint solve."""
    epsilon: float = 1.0
    """L2 radius of the perturbation."""
    jio: JIIOConfig = JIIOConfig(iterations=80, alpha=(0.6, 0.2), normalized=True, projection="l2", box=True,
                                 anderson_memory=10, select="loss", loss_weight=10.0)
    """JIO settings: K = 80, normalized steps, α = (0.6, 0.2), Anderson memory 10, best-loss selection,
    loss −10 × cross-entropy."""
    pgd_steps: int = 20
    """PGD iterations."""
    pgd_lr: float = 0.6
    """PGD step size (normalized steps)."""
    pgd_gradient: Literal["exact", "neumann"] = "exact"
    """PGD's input gradient: exact implicit gradient (an adjoint solve with the forward solver's settings) or the
    classifier's cheaper 3-term Neumann series."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.epsilon > 0 and self.pgd_steps >= 1 and self.pgd_lr > 0, "epsilon, pgd_steps, pgd_lr > 0")


@dataclasses.dataclass(frozen=True)
class InverseConfig:
    """Restoring corrupted images with a trained generative prior: JIIO against Adam over the latent (SPEC 2.5)."""

    prior: str = ""
    """Prior model file (.safetensors written by train-prior); empty = the built-in MNIST prior."""
    data: str = ""
    """Folder with the MNIST IDX files whose held-out digits are corrupted; empty = $DEQ_STUDIO_DATA/mnist or the
    shared data folder beside the project."""
    image: str = ""
    """Restore this image file instead (made gray and resized to the prior's size)."""
    count: int = 64
    """Held-out digits restored together (one batch)."""
    corruption: Literal["noise", "box", "pixels", "mask"] = "noise"
    """noise: Gaussian noise; box: a missing square; pixels: missing random pixels; mask: a painted mask image."""
    sigma: float = 0.2
    """noise: standard deviation on the [−1, 1] pixel scale (the JIIO paper uses 0.2 and 0.4)."""
    box_size: int = 20
    """box: side of the missing square, in pixels."""
    pixel_fraction: float = 0.5
    """pixels: fraction of the pixels that are missing."""
    mask: str = ""
    """mask: an image whose dark pixels are missing."""
    method: Literal["jiio", "adam", "both"] = "both"
    """Which optimizer restores the images; both runs them one after the other on the same data and times each."""
    jiio: JIIOConfig = JIIOConfig(iterations=40, alpha=(0.3, 0.1))
    """JIIO settings (latent from zero, summed squared error)."""
    adam_steps: int = 40
    """Adam baseline: steps, each a full forward solve and an adjoint solve."""
    adam_lr: float = 1.0
    """Adam baseline: learning rate on the latent (1.0 was the best of 0.1 / 0.3 / 1 / 3 in bench/jiio_vs_adam.py)."""
    seed: int = 0
    """Random seed (which digits, the noise and the masks)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.count >= 1, "count must be ≥ 1")
        require(self.sigma >= 0, "sigma must be ≥ 0")
        require(self.box_size >= 1, "box_size must be ≥ 1")
        require(0 <= self.pixel_fraction < 1, "pixel_fraction must be in [0, 1)")
        require(self.corruption != "mask" or bool(self.mask), "corruption mask needs --mask FILE")
        require(self.adam_steps >= 1 and self.adam_lr > 0, "adam_steps ≥ 1 and adam_lr > 0")


@dataclasses.dataclass(frozen=True)
class AttackTaskConfig:
    """Attacking a trained DEQ classifier on held-out digits with JIO and PGD, scored by re-solving from zero."""

    classifier: str = ""
    """Classifier model file (.safetensors written by adv-train); empty = the built-in MNIST classifier."""
    data: str = ""
    """Folder with the MNIST IDX files whose held-out digits are attacked; empty = $DEQ_STUDIO_DATA/mnist or the
    shared data folder beside the project."""
    count: int = 500
    """Held-out digits attacked."""
    method: Literal["jio", "pgd", "both"] = "both"
    """Which attack; both runs them one after the other on the same digits and times each."""
    attack: AttackConfig = AttackConfig()
    """Budgets and step sizes of the attacks."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.count >= 1, "count must be ≥ 1")


@dataclasses.dataclass(frozen=True)
class AdvTrainConfig:
    """Training an MDEQ-lite classifier, optionally on adversarial examples (SPEC 2.5 `adv-train`)."""

    data: str = ""
    """Folder with the MNIST IDX files; empty = $DEQ_STUDIO_DATA/mnist or the shared data folder beside the
    project."""
    init: str = ""
    """Start from this classifier's weights (.safetensors from adv-train), e.g. adversarial fine-tuning of a clean
    model; its channels replace the channels option."""
    channels: tuple[int, ...] = (16, 32)
    """Channels of each resolution branch."""
    attack: Literal["none", "pgd", "jio"] = "none"
    """Train on clean images, or on PGD or JIO adversarial examples."""
    attack_settings: AttackConfig = AttackConfig()
    """The attack used during training (its budgets may be smaller than at test time)."""
    steps: int = 1000
    """Weight updates."""
    batch_size: int = 64
    """Images per update."""
    lr: float = 1e-3
    """Adam learning rate."""
    jacobian_reg: float = 1.0
    """Weight of the Jacobian penalty ‖∂f/∂z‖²_F / n at the equilibrium (keeps the solves short and convergent)."""
    solver: SolverConfig = SolverConfig(solver="anderson", max_iter=20, tol=1e-3)
    """Forward solver of the classifier's equilibrium (also used to score attacks)."""
    eval_images: int = 500
    """Held-out images scored at evaluation (clean; and under attack at the end)."""
    log_every: int = 25
    """Write a metrics row every this many steps."""
    eval_every: int = 250
    """Score held-out accuracy every this many steps."""
    seed: int = 0
    """Random seed."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto = CUDA when available."""

    def __post_init__(self) -> None:
        check_choices(self)
        require(self.steps >= 0 and self.batch_size >= 1 and self.lr > 0, "steps ≥ 0, batch_size ≥ 1, lr > 0")
        require(self.jacobian_reg >= 0, "jacobian_reg must be ≥ 0")
        require(1 <= len(self.channels) <= 4, "channels: 1 to 4 branches")
