"""Wall time on a device: CUDA events on a GPU (the stream's own clock), perf_counter on CPU.

`timed` times one call (the benchmarks time every method with it, one after the other on the same device);
`IterationTrace` records a value and a time per iteration of a loop without making the host wait for the device.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor

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


class IterationTrace:
    """Per iteration, a scalar that stays on the device and the time the device reached it (since the trace began),
    recorded without waiting for the device: a GPU keeps its queue of work full. `read` waits once, at the end."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.values: list[Tensor] = []
        self.marks: list = []
        if self.cuda:
            self.start = torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.start = time.perf_counter()

    def add(self, value: Tensor) -> None:
        self.values.append(value.detach().reshape(()))
        if self.cuda:
            mark = torch.cuda.Event(enable_timing=True)
            mark.record()
            self.marks.append(mark)
        else:
            self.marks.append(time.perf_counter())

    def read(self) -> tuple[list[float], list[float]]:
        """The values and the seconds since the start, as plain lists."""
        values = torch.stack(self.values).tolist() if self.values else []
        if self.cuda:
            if self.marks:
                self.marks[-1].synchronize()
            return values, [self.start.elapsed_time(mark) / 1e3 for mark in self.marks]
        return values, [mark - self.start for mark in self.marks]
