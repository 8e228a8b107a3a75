"""Status-bar text about the machine: memory in use by this process and, on CUDA, by the device."""
from __future__ import annotations

import torch


def process_memory_bytes() -> int | None:
    """Resident memory of this process, or None where it cannot be read."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        return int(psutil.Process().memory_info().rss)
    except (psutil.Error, OSError):
        return None


def memory_text(device: torch.device) -> str:
    """'RAM 1.2 GB' and, on CUDA, '· GPU 0.8 GB' (allocated by tensors)."""
    parts = []
    rss = process_memory_bytes()
    if rss is not None:
        parts.append(f"RAM {rss / 2**30:.1f} GB")
    if device.type == "cuda":
        parts.append(f"GPU {torch.cuda.memory_allocated(device) / 2**30:.1f} GB")
    return " · ".join(parts) or "memory n/a"
