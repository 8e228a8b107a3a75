"""Implicit neural representations: the registry of networks by name (SPEC 2.3)."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from engine.config import EquilibriumConfig, ModelConfig
from engine.models.inr.base import INR, INROutput
from engine.models.inr.mfn import MFN
from engine.models.inr.siren import ClassicSiren, InjectedSiren
from engine.registry import Registry

InrFactory = Callable[..., INR]
INR_MODELS: Registry[InrFactory] = Registry("model")

IMPLICIT = {"isiren": True, "fourier-imfn": True, "gabor-imfn": True}
"""Implicit models; every other registered model is explicit."""

INR_MODELS.register("isiren")(partial(InjectedSiren, implicit=True))
INR_MODELS.register("fourier-imfn")(partial(MFN, filter_kind="fourier", implicit=True))
INR_MODELS.register("gabor-imfn")(partial(MFN, filter_kind="gabor", implicit=True))
INR_MODELS.register("siren-inj")(partial(InjectedSiren, implicit=False))
INR_MODELS.register("fourier-mfn")(partial(MFN, filter_kind="fourier", implicit=False))
INR_MODELS.register("gabor-mfn")(partial(MFN, filter_kind="gabor", implicit=False))
INR_MODELS.register("siren")(ClassicSiren)

COUNTERPART = {"isiren": "siren-inj", "fourier-imfn": "fourier-mfn", "gabor-imfn": "gabor-mfn"}
"""Each implicit model's explicit network of the same structure."""


def build_inr(config: ModelConfig, d_in: int, d_out: int, *, input_scale: float, spectral_norm: bool,
              equilibrium: EquilibriumConfig = EquilibriumConfig()) -> INR:
    """Instantiate the configured network with resolved medium defaults, solving its equilibrium as `equilibrium`
    says."""
    factory = INR_MODELS.get(config.model)
    if config.model == "siren":
        return factory(d_in, d_out, config.width, config.layers, equilibrium=equilibrium)
    kwargs: dict = {"input_scale": input_scale, "spectral_norm": spectral_norm, "equilibrium": equilibrium}
    if "mfn" in config.model:
        kwargs["gabor_alpha"] = config.gabor_alpha
    return factory(d_in, d_out, config.width, config.layers, **kwargs)


__all__ = ["COUNTERPART", "IMPLICIT", "INR", "INR_MODELS", "INROutput", "build_inr"]
