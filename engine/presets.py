"""Every default that depends on the medium or the device: the rules here, each medium's numbers in its registration
(`engine/media/spec.py`).

- `resolve_fit_config` fills a fit's empty fields with the medium's defaults from the (Implicit)² protocols (SPEC 2.3)
  when the task is built: input scale, spectral normalization, learning rate, batch size, clipping, evaluation.
- `fit_preview(medium, device)` and `duel_preview` are what the window starts a fit or a duel from (a task kind's
  `preset(name, device, medium)`, engine/tasks/kinds.py): `full` is the SPEC's (the config classes' defaults);
  `preview` small enough on a CPU to show progress within seconds (each medium's own, in its registration: a
  256-pixel preview of a photograph, 2 s of audio, 16 small video frames, 50,000 mesh points per pass). `deq-studio
  fit FILE --preset preview` runs exactly what the window runs.
- `fit_fields`, `inverse_fields`, … name the fields that do nothing as a panel stands (a kind's `inapplicable`);
  the solvers and backward modes not chosen add theirs in every kind (`OptionOf` marks, engine/config/fields.py).
"""
from __future__ import annotations

import dataclasses

import torch

from engine.config import AdvTrainConfig, AttackTaskConfig, DuelConfig, FitConfig, InverseConfig, RestoreConfig
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


def duel_preview(medium: str, device: torch.device) -> DuelConfig:
    """A duel's starting settings: the fit's preview of `medium`, with the duel's own networks (at the preview's
    width) and protocol."""
    fit, duel = fit_preview(medium, device), DuelConfig()
    shared = {f.name: getattr(fit, f.name) for f in dataclasses.fields(FitConfig)}
    return DuelConfig(**{**shared, "model": dataclasses.replace(fit.model, model=duel.model.model),
                         "protocol": duel.protocol})


def fit_fields(config: FitConfig, medium: str | None) -> set[str]:
    """A fit's fields that do nothing on a file of `medium`: the other media's options (each medium's registration
    names its own), and the protocol of a medium without a held-out split (shapes)."""
    if medium not in MEDIA:
        return set()
    own, others = medium_spec(medium), [spec for spec in MEDIA if spec.name != medium]
    fields = {f"signal.{name}" for spec in others for name in spec.signal_fields - own.signal_fields}
    fields.update(name for spec in others for name in spec.fit_fields - own.fit_fields)
    if own.split_axes is None:
        fields.add("protocol")
    return fields


def restore_preview(medium: str, device: torch.device) -> RestoreConfig:
    """A restore's starting settings: the fit preview of the medium, under the generalize protocol (its scale)."""
    fit = fit_preview(medium, device)
    shared = {field.name: getattr(fit, field.name) for field in dataclasses.fields(FitConfig)}
    return RestoreConfig(**{**shared, "protocol": "generalize"})


def restore_fields(config: RestoreConfig, medium: str | None) -> set[str]:
    """A fit's inapplicable fields, its protocol (a restore learns what is left), and the other media's marks of
    damage."""
    fields = fit_fields(config, medium) | {"protocol"}
    fields.update(spec.damage_field for spec in MEDIA if spec.damage_field and spec.name != medium)
    return fields


CORRUPTION_FIELDS = {"noise": "sigma", "box": "box_size", "pixels": "pixel_fraction", "mask": "mask"}
"""The one setting each corruption of an inverse problem reads."""


def inverse_fields(config: InverseConfig, medium: str | None = None) -> set[str]:
    """The other corruptions' settings, and those of a method that is not run."""
    fields = {name for kind, name in CORRUPTION_FIELDS.items() if kind != config.corruption}
    fields.update({"jiio": ("adam_steps", "adam_lr"), "adam": ("jiio",)}.get(config.method, ()))
    return fields


def attack_fields(config: AttackTaskConfig, medium: str | None = None) -> set[str]:
    """The label of an attack without an image, and the settings of a method that is not run."""
    fields = set() if config.image else {"label"}
    fields.update({"jio": ("attack.pgd_steps", "attack.pgd_lr", "attack.pgd_gradient"),
                   "pgd": ("attack.jio",)}.get(config.method, ()))
    return fields


def adv_train_fields(config: AdvTrainConfig, medium: str | None = None) -> set[str]:
    """A classifier's attack settings when it trains on clean digits."""
    return {"attack_settings"} if config.attack == "none" else set()
