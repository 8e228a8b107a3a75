"""The registry of implicit neural representations: each network registered once, with how its settings build it.

A family's module says how each of its networks is built (`mfn_network` in `engine/models/inr/mfn.py`,
`injected_siren_network` in `siren.py`); `engine/models/inr/__init__.py` registers every network, in the order menus
list them, and builds by name. The settings' choices of a network are read from this registry (`Registered`)."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from engine.config import EquilibriumConfig, ModelConfig
from engine.models.inr.base import INR
from engine.registry import Registry

Build = Callable[[ModelConfig, int, int, float, bool, EquilibriumConfig], INR]
"""(settings, input and output dimensions, input scale and spectral normalization with the medium's defaults
resolved, equilibrium) → the network."""


@dataclasses.dataclass(frozen=True)
class Network:
    """One registered network."""

    build: Build
    implicit: bool = False
    """It finds its output as a fixed point (an implicit layer)."""
    counterpart: str | None = None
    """An implicit network's explicit twin of the same structure (the (Implicit)² comparison)."""


INR_MODELS: Registry[Network] = Registry("network")
"""Every network, in the order menus list them."""


def register_network(name: str, network: Network) -> Network:
    return INR_MODELS.register(name)(network)
