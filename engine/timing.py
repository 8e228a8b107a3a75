"""Wall time of one call on a device: CUDA events on a GPU (the stream's own clock), perf_counter on CPU.

The benchmarks time every method with this, one after the other on the same device.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")


def timed(device: torch.device, fn: Callable[[], T]) -> tuple[T, float]:
    """fn() and its wall time in milliseconds; on CUDA from an event recorded after all queued work to one
    recorded after fn's last kernel."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        result = fn()
        end.record()
        end.synchronize()
        return result, start.elapsed_time(end)
    begin = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - begin) * 1e3
