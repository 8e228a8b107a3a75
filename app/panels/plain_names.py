"""The names a person who does not program reads in the settings panel: plain words for the fields and choices whose
own names are the papers' vocabulary (which stays in the tooltips, the Advanced drawer's paths and the CLI)."""
from __future__ import annotations

from typing import Any

NETWORKS = {
    "isiren": "Sine network — implicit (iSIREN)",
    "fourier-imfn": "Fourier network — implicit (Fourier-iMFN)",
    "gabor-imfn": "Gabor network — implicit (Gabor-iMFN)",
    "siren-inj": "Sine network — explicit (SIREN with injection)",
    "fourier-mfn": "Fourier network — explicit (Fourier-MFN)",
    "gabor-mfn": "Gabor network — explicit (Gabor-MFN)",
    "siren": "Classic sine network — explicit (SIREN)",
}
"""The networks: what they are built from, whether they find their output as an equilibrium, the paper's name."""

GROUP_NAMES = {"model": "Network", "signal": "How the file is read", "solver": "Solver", "backward": "Gradient"}
"""Groups of settings (nested configs) by field name."""

FIELD_NAMES = {
    "model": "Kind",
    "rival": "Second network",
    "protocol": "Goal",
    "mesh_target": "Learn the shape as",
    "mc_resolution": "Surface detail",
    "sigma": "Noise level",
    "pixel_fraction": "Share of pixels missing",
    "epsilon": "Attack strength",
    "ways": "Classes per task",
    "shots": "Examples per class",
    "inner": "How each task is learned",
    "corruption": "Damage",
}
"""Fields whose own name says little to a newcomer (each keeps its name as its CLI flag)."""

CHOICE_NAMES: dict[str, dict[Any, str]] = {
    "model": NETWORKS,
    "rival": NETWORKS,
    "protocol": {"represent": "Reproduce the file", "generalize": "Fill in every other pixel or sample"},
    "mesh_target": {"occupancy": "Inside or outside (occupancy)", "sdf": "Distance to the surface (SDF)"},
    "corruption": {"noise": "Noise", "box": "A missing box", "pixels": "Missing pixels", "mask": "A painted mask"},
    "method": {"jiio": "JIIO (one joint solve)", "adam": "Adam (gradient descent)", "jio": "JIO (one joint solve)",
               "pgd": "PGD (projected gradient steps)", "both": "Both, side by side"},
    "attack": {"none": "Clean digits", "pgd": "Digits attacked by PGD", "jio": "Digits attacked by JIO"},
    "inner": {"jiio": "JIIO (one joint solve)", "gd": "Gradient steps"},
    "split": {"characters": "Unseen characters", "alphabets": "Unseen alphabets"},
}
"""Choices by field name: what each value reads as in its list."""


def network_name(name: str) -> str:
    """A network in a sentence: "Fourier network — implicit" for fourier-imfn (its list name without the paper's)."""
    return NETWORKS.get(name, name).split(" (")[0]


def group_name(name: str) -> str:
    """The title of the group of settings in field `name`."""
    return GROUP_NAMES.get(name) or name.replace("_", " ").capitalize()


def field_name(name: str) -> str:
    """The row label of field `name`."""
    return FIELD_NAMES.get(name) or name.replace("_", " ").capitalize()


def choice_name(field: str, value: Any) -> str:
    """How `value` of field `field` reads in its list."""
    return CHOICE_NAMES.get(field, {}).get(value, str(value))
