"""Choosing and naming the compute device."""
from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """`auto` → CUDA when available, else CPU; asking for CUDA without one is a user error (ValueError)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """`NVIDIA H100 80GB HBM3` or `CPU (2 threads)`."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"
