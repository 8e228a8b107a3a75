"""Stopping inside a long step: a baseline's hundreds of iterations (Adam over the latent, PGD) or a final
evaluation can take a minute, longer than a person waits after pressing Stop.

`engine.loop.run` installs the stop question for the thread that runs a step (`interruptible`); the long inner loops
ask it every iteration (`check`) and raise `Interrupted`, which the loop takes as a stop. A step that is interrupted
changes nothing (a task mutates its state only after its solves), so the task stays as it was before that step and a
later run does the step again from its start.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Interrupted(Exception):
    """A stop was asked for inside a step; the step was abandoned."""


_local = threading.local()


@contextmanager
def interruptible(stop_requested: Callable[[], bool] | None) -> Iterator[None]:
    """While inside, `check()` on this thread raises Interrupted once `stop_requested()` is true."""
    previous = getattr(_local, "stop_requested", None)
    _local.stop_requested = stop_requested
    try:
        yield
    finally:
        _local.stop_requested = previous


def check() -> None:
    """Raise Interrupted if a stop was asked for on this thread's run (nothing outside `interruptible`)."""
    stop_requested = getattr(_local, "stop_requested", None)
    if stop_requested is not None and stop_requested():
        raise Interrupted("stopped inside a step")
