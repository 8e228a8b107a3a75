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
import sys
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
        if dataclasses.is_dataclass(klass):
            docs.update(_attribute_docs_of_module(klass.__module__).get(klass.__qualname__, {}))
    return docs


@functools.cache
def _attribute_docs_of_module(module: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings of every class in a module, by class qualified name: the module's source is parsed once
    (not once per class, as inspect.getsource would)."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (OSError, TypeError, KeyError, SyntaxError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.ClassDef):
                continue
            name = prefix + node.name
            docs = found.setdefault(name, {})
            for field, nxt in zip(node.body, node.body[1:]):
                if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                        and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                        and isinstance(nxt.value.value, str)):
                    docs[field.target.id] = inspect.cleandoc(nxt.value.value)
            visit(node.body, name + ".")

    visit(tree.body, "")
    return found


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


# The JIIO configs live in their own module and belong to this namespace too.
from engine.jiio_config import (  # noqa: E402
    AdvTrainConfig, AttackConfig, AttackTaskConfig, InverseConfig, JIIOConfig, PriorConfig,
)

__all__ = [
    "AdvTrainConfig", "AttackConfig", "AttackTaskConfig", "BackwardConfig", "ConfigError", "FitConfig",
    "InverseConfig", "JIIOConfig", "ModelConfig", "PriorConfig", "SignalConfig", "SolverConfig", "check_choices",
    "field_choices", "field_docs", "field_types", "from_dict", "require", "to_dict",
]
