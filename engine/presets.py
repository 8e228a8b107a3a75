"""Every default that depends on the medium or the device: the rules here, each medium's numbers in its registration
(`engine/media/spec.py`).

- `resolve_fit_config` fills a fit's empty fields with the medium's defaults from the (Implicit)² protocols (SPEC 2.3)
  when the task is built: input scale, spectral normalization, learning rate, batch size, clipping, evaluation.
- `preset(kind, name, device, medium)` gives the starting settings of a task kind: `full` is the SPEC's (the config
  classes' defaults); `preview` is what the window starts from, small enough on a CPU to show progress within seconds
  (each medium's own, in its registration: a 256-pixel preview of a photograph, 2 s of audio, 16 small video
  frames, 50,000 mesh points per pass; short MNIST runs). `deq-studio fit FILE --preset preview` runs exactly what
  the window runs.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch

from engine.config import (AdvTrainConfig, AttackTaskConfig, BackwardConfig, DuelConfig, FitConfig, InverseConfig,
                           MetaTrainConfig, PriorConfig, SolverConfig)
from engine.media.spec import MEDIA, medium_spec
from engine.models.inr import IMPLICIT


PRESETS: tuple[str, ...] = ("full", "preview")

SIREN_LIKE = ("isiren", "siren-inj")
"""Models whose default input scale is halved on media other than images, unlike the (Implicit)² release (which
leaves the halving commented out): the sine of a sum of injections doubles their frequency content. It was measured
on 256² Kodak images (generalization, width 128, 300 steps: iSIREN at 128 trailed SIREN-inj by 1.0 dB, at 64 the
two were within ±0.1 dB), where the image rule (IMAGE_SIDE, engine/media/image.py) now gives 64 to every model."""


def resolve_fit_config(config: FitConfig, medium: str, side: int | None = None) -> FitConfig:
    """Fill every empty field with the medium's default (its registration's `FitDefaults`, from the (Implicit)²
    protocols, SPEC 2.3); an image's input scale follows its longer `side` (IMAGE_SIDE; other media ignore it)."""
    defaults = medium_spec(medium).defaults
    model = config.model
    if model.input_scale is None:
        scale = defaults.input_scale
        if config.protocol == "generalize" and defaults.generalize_input_scale is not None:
            scale = defaults.generalize_input_scale
        if defaults.scale_side is not None:
            scale *= (side or defaults.scale_side) / defaults.scale_side
        if defaults.halve_siren_scale and model.model in SIREN_LIKE:
            scale /= 2  # measured on images (SIREN_LIKE); the release keeps the medium's scale
        model = dataclasses.replace(model, input_scale=scale)
    if model.spectral_norm is None:
        model = dataclasses.replace(model, spectral_norm=defaults.spectral_norm and model.model in IMPLICIT)
    return dataclasses.replace(
        config,
        model=model,
        lr=config.lr if config.lr is not None else defaults.lr,
        batch_size=config.batch_size if config.batch_size is not None else defaults.batch_size,
        grad_clip=config.grad_clip if config.grad_clip is not None else defaults.grad_clip,
        eval_every=config.eval_every if config.eval_every is not None else (defaults.eval_every or config.log_every),
    )


def fit_preview(medium: str, device: torch.device) -> FitConfig:
    """The window's starting settings of a fit of `medium` on `device`: on CUDA the SPEC's, with a 2,000-step run;
    on a CPU the medium's quick preview (a narrow Gabor-iMFN on a reduced signal)."""
    if device.type == "cuda":
        return FitConfig(steps=2000, log_every=10, eval_every=None)
    return medium_spec(medium).preview


PREVIEWS: dict[type, Any] = {
    PriorConfig: PriorConfig(steps=200, eval_every=50, log_every=5),
    InverseConfig: InverseConfig(count=16),
    AttackTaskConfig: AttackTaskConfig(count=64),
    AdvTrainConfig: AdvTrainConfig(steps=300, log_every=5, eval_every=100, eval_images=200),
    MetaTrainConfig: MetaTrainConfig(steps=300, jiio=dataclasses.replace(MetaTrainConfig().jiio, iterations=40),
                                     eval_episodes=50, log_every=5, eval_every=100),
}
"""The preview settings of the dataset tasks (the same on every device): a few minutes of training, 16 restorations,
64 attacked digits, few-shot tasks with a 40-round inner JIIO solve."""


def preset(config_class: type, name: str, device: torch.device, medium: str | None = None) -> Any:
    """Starting settings of a task whose config is `config_class`: `full` (the SPEC's) or `preview`; fits need the
    file's `medium` for a preview. ValueError for an unknown preset name."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    if name == "full":
        return config_class()
    if config_class is FitConfig:
        return fit_preview(medium or "image", device)
    if config_class is DuelConfig:  # the fit's preview, with the duel's own networks (at its width) and protocol
        fit, duel = fit_preview(medium or "image", device), DuelConfig()
        shared = {f.name: getattr(fit, f.name) for f in dataclasses.fields(FitConfig)}
        return DuelConfig(**{**shared, "model": dataclasses.replace(fit.model, model=duel.model.model),
                             "protocol": duel.protocol})
    return PREVIEWS[config_class]


CORRUPTION_FIELDS = {"noise": "sigma", "box": "box_size", "pixels": "pixel_fraction", "mask": "mask"}
"""The one setting each corruption of an inverse problem reads."""


def inapplicable_fields(config: Any, medium: str | None = None) -> frozenset[str]:
    """Dotted fields of `config` that do nothing as it stands: a fit's options for other media than the file's
    (and the mesh-only settings, or the protocol for meshes); the other corruptions' settings of an inverse problem;
    the label of an attack without an image, and the settings of a method that is not run; a classifier's attack
    settings when it trains on clean digits; and, in every task, the settings of the solvers and backward modes
    that are not chosen."""
    return frozenset(_task_fields(config, medium) | unchosen_solver_fields(config))


def _task_fields(config: Any, medium: str | None) -> set[str]:
    if isinstance(config, FitConfig):
        if medium not in MEDIA:
            return set()
        own, others = medium_spec(medium), [spec for spec in MEDIA if spec.name != medium]
        fields = {f"signal.{name}" for spec in others for name in spec.signal_fields - own.signal_fields}
        fields.update(name for spec in others for name in spec.fit_fields - own.fit_fields)
        if own.split_axes is None:
            fields.add("protocol")
        return fields
    if isinstance(config, InverseConfig):
        fields = {name for kind, name in CORRUPTION_FIELDS.items() if kind != config.corruption}
        fields.update({"jiio": ("adam_steps", "adam_lr"), "adam": ("jiio",)}.get(config.method, ()))
        return fields
    if isinstance(config, AttackTaskConfig):
        fields = set() if config.image else {"label"}
        fields.update({"jio": ("attack.pgd_steps", "attack.pgd_lr", "attack.pgd_gradient"),
                       "pgd": ("attack.jio",)}.get(config.method, ()))
        return fields
    if isinstance(config, AdvTrainConfig) and config.attack == "none":
        return {"attack_settings"}
    return set()


SOLVER_ONLY = {"damping": "picard", "anderson_memory": "anderson", "anderson_lam": "anderson",
               "anderson_beta": "anderson", "broyden_memory": "broyden"}
"""The SolverConfig fields only one solver reads."""


def unchosen_solver_fields(config: Any, prefix: str = "") -> set[str]:
    """Dotted fields, anywhere in `config`, of the solvers and backward modes not chosen (Broyden's memory under
    Anderson, the Neumann order in exact mode, the adjoint solver unless exact)."""
    fields: set[str] = set()
    if isinstance(config, SolverConfig):
        fields |= {prefix + name for name, solver in SOLVER_ONLY.items() if solver != config.solver}
    if isinstance(config, BackwardConfig):
        fields |= {prefix + "neumann_order"} if config.mode != "neumann" else set()
        fields |= {prefix + "adjoint", prefix + "warm_start_adjoint"} if config.mode != "exact" else set()
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            fields |= unchosen_solver_fields(value, f"{prefix}{field.name}.")
    return fields
