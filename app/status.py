"""Status-bar text: a run's progress (step, rate, ETA, memory, quality) and the memory in use by this process and, on
CUDA, by the device."""
from __future__ import annotations

import torch

from engine.device import device_name


def status_bar_parts(bar, device_label: str):
    """Put into the window's status `bar`: the phase line (stretching), the line that says what a fit's network
    weighs after a run (beside JPEG at that size for a picture), and the progress bar. Returns the three."""
    from PySide6.QtWidgets import QLabel, QProgressBar

    status, kept, progress = QLabel(f"{device_label} · Ready"), QLabel(), QProgressBar()
    kept.setObjectName("kept-network")
    progress.setMaximumWidth(220)
    bar.addWidget(status, 1)
    bar.addPermanentWidget(kept)
    bar.addPermanentWidget(progress)
    return status, kept, progress


def device_label(device: torch.device) -> str:
    """'CPU (2 threads)' with the threads the engine trains on (the worker's, not the GUI thread's), or the GPU."""
    if device.type == "cuda":
        return device_name(device)
    from app.worker import ENGINE_THREADS

    return f"CPU ({ENGINE_THREADS} thread{'s' if ENGINE_THREADS != 1 else ''})"


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


QUALITY_TEXT = (("psnr_train", "PSNR {:.2f} dB"), ("accuracy_clean", "clean accuracy {:.1%}"),
                ("iou_uniform", "IoU {:.3f}"))
"""The first of these a snapshot has is shown as its quality."""

ATTACKS = ("jio", "pgd")
"""The attacks whose `accuracy_<attack>` a snapshot may hold: the accuracy left under attack."""


def quality_text(scalars: dict[str, float]) -> str:
    """' · PSNR 24.10 dB', or ' · clean accuracy 99.0% · under attack 3.0%' (the strongest attack's), or ''."""
    quality = next((" · " + text.format(scalars[key]) for key, text in QUALITY_TEXT if key in scalars), "")
    attacked = [scalars[f"accuracy_{name}"] for name in ATTACKS if f"accuracy_{name}" in scalars]
    return quality + (f" · under attack {min(attacked):.1%}" if attacked else "")


def progress_text(device: str, phase: str, step: int, total: int, rate: float, memory: str,
                  scalars: dict[str, float], eta: float | None = None) -> str:
    """'CPU (2 threads) · Training · step 40/500 · 21.3 steps/s · ETA 22 s · RAM 0.6 GB · PSNR 24.10 dB' (rate in
    steps per second; no rate or ETA once the run is not training)."""
    quality = quality_text(scalars)
    if phase not in ("Training", "Evaluating"):
        return f"{device} · {phase} · step {step}/{total} · {memory}{quality}"
    if eta is None:
        eta = (total - step) / rate if rate > 0 else float("nan")
    eta_text = f"ETA {eta:.0f} s" if eta == eta else "ETA …"
    return f"{device} · {phase} · step {step}/{total} · {rate:.1f} steps/s · {eta_text} · {memory}{quality}"
