"""Implicit neural representations: the registry of networks by name (SPEC 2.3), in the order menus list them.

Each family's module says how its networks are built from their settings (`mfn_network`, `injected_siren_network`);
the registrations below name them, and `IMPLICIT` and `COUNTERPART` are read from them.
"""
from __future__ import annotations

from engine.config import EquilibriumConfig, ModelConfig
from engine.models.inr.base import INR, INROutput
from engine.models.inr.mfn import MFN, mfn_network
from engine.models.inr.registry import INR_MODELS, Network, register_network
from engine.models.inr.siren import CLASSIC_SIREN, ClassicSiren, InjectedSiren, injected_siren_network

register_network("isiren", injected_siren_network(True, counterpart="siren-inj"))
register_network("fourier-imfn", mfn_network("fourier", True, counterpart="fourier-mfn"))
register_network("gabor-imfn", mfn_network("gabor", True, counterpart="gabor-mfn"))
register_network("siren-inj", injected_siren_network(False))
register_network("fourier-mfn", mfn_network("fourier", False))
register_network("gabor-mfn", mfn_network("gabor", False))
register_network("siren", CLASSIC_SIREN)

IMPLICIT = {name: True for name in INR_MODELS.names() if INR_MODELS.get(name).implicit}
"""Implicit models; every other registered model is explicit."""
COUNTERPART = {name: INR_MODELS.get(name).counterpart for name in IMPLICIT if INR_MODELS.get(name).counterpart}
"""Each implicit model's explicit network of the same structure."""


def build_inr(config: ModelConfig, d_in: int, d_out: int, *, input_scale: float, spectral_norm: bool,
              equilibrium: EquilibriumConfig = EquilibriumConfig()) -> INR:
    """Instantiate the configured network with resolved medium defaults, solving its equilibrium as `equilibrium`
    says."""
    return INR_MODELS.get(config.model).build(config, d_in, d_out, input_scale, spectral_norm, equilibrium)


__all__ = ["COUNTERPART", "IMPLICIT", "INR", "INR_MODELS", "INROutput", "MFN", "ClassicSiren", "InjectedSiren",
           "Network", "build_inr", "register_network"]
