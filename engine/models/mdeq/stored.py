"""Trained MDEQ-lite models from disk (safetensors, never pickle): the user's files or the built-in MNIST ones."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from engine.config import ConfigError, EquilibriumConfig, SolverConfig, from_dict
from engine.model_store import ModelFileError, load_into, load_model
from engine.models.mdeq.classifier import CLASSIFIER_EQUILIBRIUM, MDEQClassifier
from engine.models.mdeq.decoder import DECODER_EQUILIBRIUM, MDEQDecoder

BUILT_IN = {"mdeq-decoder": "mnist-prior.safetensors", "mdeq-classifier": "mnist-classifier.safetensors"}


MODEL_NAMES = {"mdeq-decoder": "generative prior", "mdeq-classifier": "digit classifier"}
"""Each stored model kind as the window names it."""


def model_file(path: str | Path, kind: str) -> Path:
    """`path`, or the built-in model of this kind when `path` is empty."""
    if path:
        return Path(path)
    from engine.resources import resources_dir

    return resources_dir() / "models" / BUILT_IN[kind]


def _read(path: str | Path, kind: str) -> tuple[dict, dict, dict]:
    found, arch, state, extra = load_model(model_file(path, kind))
    if found != kind:
        holds, needed = MODEL_NAMES.get(found, found), MODEL_NAMES.get(kind, kind)
        raise ModelFileError(f"{Path(path).name} holds a {holds} ({found}), where a {needed} is needed: choose a "
                             f"{needed} file, or leave the field empty for the built-in one.")
    return arch, state, extra


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
    decoder = MDEQDecoder(arch["latent"], tuple(arch["channels"]), arch["image_size"],
                          equilibrium=stored_equilibrium(arch, DECODER_EQUILIBRIUM, None))
    load_into(decoder, state, device).eval().requires_grad_(False)
    return decoder, {k: v.to(device) for k, v in extra.items()}


def load_classifier(path: str | Path = "", device: torch.device | str = "cpu",
                    solver: SolverConfig | None = None) -> MDEQClassifier:
    """A classifier in eval mode with frozen weights, solving with `solver` (default: the one it was trained
    with)."""
    arch, state, _ = _read(path, "mdeq-classifier")
    classifier = MDEQClassifier(tuple(arch["channels"]), arch["image_size"], 1, arch["classes"],
                                contractive=bool(arch.get("contractive", False)), head=arch.get("head", "mean"),
                                equilibrium=stored_equilibrium(arch, CLASSIFIER_EQUILIBRIUM, solver))
    return load_into(classifier, state, device).eval().requires_grad_(False)
