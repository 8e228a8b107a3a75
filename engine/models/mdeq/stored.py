"""Trained MDEQ-lite models from disk (safetensors, never pickle): the user's files or the built-in MNIST ones."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from engine.config import ConfigError, EquilibriumConfig, SolverConfig, from_dict
from engine.model_store import ModelFileError, load_into, load_model
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM, MDEQClassifier
from engine.models.mdeq.decoder import DECODER_EQUILIBRIUM, MDEQDecoder
from engine.models.mdeq.film import FewShotClassifier

BUILT_IN = {"mdeq-decoder": "mnist-prior.safetensors", "mdeq-classifier": "mnist-classifier.safetensors",
            "few-shot-classifier": "omniglot-few-shot.safetensors"}


MODEL_NAMES = {"mdeq-decoder": "generative prior", "mdeq-classifier": "digit classifier",
               "few-shot-classifier": "few-shot classifier"}
"""Each stored model kind as the window names it."""


def model_file(path: str | Path, kind: str) -> Path:
    """`path`, or the built-in model of this kind when `path` is empty."""
    if path:
        return Path(path)
    from engine.resources import resources_dir

    return resources_dir() / "models" / BUILT_IN[kind]


ARCH_LIMITS = {"latent": (1, 4096), "image_size": (8, 512), "classes": (2, 1000), "ways": (2, 1000),
               "context": (1, 4096)}
"""The sizes a stored model may declare (a damaged or crafted file could ask for hundreds of gigabytes)."""
ARCH_KEYS = {"mdeq-decoder": ("latent", "channels", "image_size"),
             "mdeq-classifier": ("channels", "image_size", "classes"),
             "few-shot-classifier": ("channels", "image_size", "ways", "context")}
MAX_CHANNELS = 1024


def _read(path: str | Path, kind: str) -> tuple[dict, dict, dict]:
    """The architecture, weights and extra tensors of a stored model of `kind`, checked before anything is built:
    the kind, the declared sizes, and that every weight is a finite number."""
    file = model_file(path, kind)
    found, arch, state, extra = load_model(file)
    if found != kind:
        holds, needed = MODEL_NAMES.get(found, found), MODEL_NAMES.get(kind, kind)
        raise ModelFileError(f"{file.name} holds a {holds} ({found}), where a {needed} is needed: choose a "
                             f"{needed} file, or leave the field empty for the built-in one.")
    damaged = (f"{file.name} is damaged ({{}}): choose another model file, or leave the field empty for the built-in "
               f"one.")
    if not isinstance(arch, dict) or any(key not in arch for key in ARCH_KEYS[kind]):
        raise ModelFileError(damaged.format("its description of the network is incomplete"))
    for key, (low, high) in ARCH_LIMITS.items():
        if key in arch and not (isinstance(arch[key], int) and low <= arch[key] <= high):
            raise ModelFileError(damaged.format(f"it declares {key} {arch[key]!r}, outside {low}–{high}"))
    channels = arch["channels"]
    if not (isinstance(channels, list) and 1 <= len(channels) <= 4
            and all(isinstance(c, int) and 1 <= c <= MAX_CHANNELS for c in channels)):
        raise ModelFileError(damaged.format(f"it declares channels {channels!r}"))
    if not all(torch.isfinite(tensor).all() for tensor in [*state.values(), *extra.values()]
               if tensor.is_floating_point()):
        raise ModelFileError(damaged.format("some of its weights are not numbers (NaN or infinite)"))
    return arch, state, extra


def _built(file_name: str, build):
    """`build()`, with a file whose weights do not fit its own description reported as damaged."""
    try:
        return build()
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{file_name} is damaged (its weights do not fit the network it describes: "
                             f"{str(exc).splitlines()[0][:160]}): choose another model file, or leave the field "
                             f"empty for the built-in one.") from None


def stored_equilibrium(arch: dict, default: EquilibriumConfig, solver: SolverConfig | None) -> EquilibriumConfig:
    """`default` with the forward solver `solver`, else the one the model was trained with (recorded in its file)."""
    if solver is None and "solver" in arch:
        try:
            solver = from_dict(SolverConfig, arch["solver"])
        except ConfigError as exc:
            raise ModelFileError(f"bad solver settings in the model file: {exc}") from None
    return default if solver is None else dataclasses.replace(default, forward=solver)


def load_decoder(path: str | Path = "", device: torch.device | str = "cpu") -> tuple[MDEQDecoder, dict]:
    """A generative decoder in eval mode with frozen weights, and its extra tensors (latent mixture)."""
    arch, state, extra = _read(path, "mdeq-decoder")
    decoder = _built(model_file(path, "mdeq-decoder").name, lambda: load_into(
        MDEQDecoder(arch["latent"], tuple(arch["channels"]), arch["image_size"],
                    equilibrium=stored_equilibrium(arch, DECODER_EQUILIBRIUM, None)), state, device))
    decoder.eval().requires_grad_(False)
    return decoder, {k: v.to(device) for k, v in extra.items()}


def load_classifier(path: str | Path = "", device: torch.device | str = "cpu",
                    solver: SolverConfig | None = None) -> MDEQClassifier:
    """A classifier in eval mode with frozen weights, solving with `solver` (default: the one it was trained
    with)."""
    arch, state, _ = _read(path, "mdeq-classifier")
    classifier = _built(model_file(path, "mdeq-classifier").name, lambda: load_into(
        MDEQClassifier(tuple(arch["channels"]), arch["image_size"], 1, arch["classes"],
                       contractive=bool(arch.get("contractive", False)), head=arch.get("head", "mean"),
                       equilibrium=stored_equilibrium(arch, CLASSIFIER_EQUILIBRIUM, solver)), state, device))
    return classifier.eval().requires_grad_(False)


def load_few_shot(path: str | Path = "", device: torch.device | str = "cpu") -> tuple[FewShotClassifier, dict]:
    """A meta-trained few-shot classifier in eval mode with frozen weights, and its description (ways, context, the
    inner solve it was trained with)."""
    arch, state, _ = _read(path, "few-shot-classifier")
    model = _built(model_file(path, "few-shot-classifier").name, lambda: load_into(
        FewShotClassifier(tuple(arch["channels"]), arch["ways"], arch["context"], arch["image_size"],
                          stored_equilibrium(arch, CLASSIFIER_EQUILIBRIUM, None), bool(arch.get("readout", False))),
        state, device))
    return model.eval().requires_grad_(False), arch
