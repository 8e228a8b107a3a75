"""Keeping freed tensor memory in the process instead of handing it back to the kernel at every free (glibc).

Solver loops allocate and free the same few tens of megabytes at every iteration. By default glibc serves blocks of
more than 128 KB–32 MB (a threshold it adapts) with mmap and returns them with munmap, so every iteration pays for
page faults and for the kernel zeroing fresh pages: measured here, a 500 × 1 × 28² → 32-channel convolution took
9.6 ms instead of 1.0 ms. Raising the mmap and trim thresholds makes such blocks reusable heap memory, as tcmalloc
or jemalloc would; the resident size then stays at its peak until `release_freed_memory` is called. A long run
calls `release_now_and_then` after its evaluations: the kept heap otherwise fragments and creeps up (bench/soak.py
measured +5.9 % resident memory over 30 minutes of a preview fit, every byte of it freed memory that a trim gave
back: 513 MB before, 353 MB after, flat from 1,000 to 8,000 steps).
On other C libraries (Windows, macOS, musl) both functions do nothing.
"""
from __future__ import annotations

import ctypes
import functools
import sys
import time

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 1 << 30
"""Blocks below 1 GiB come from the heap; the heap is trimmed only past 1 GiB of free memory at its top."""


@functools.cache
def _glibc():
    """glibc, loaded once by its soname (find_library would run ldconfig in a subprocess), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if the C library took both."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) & bool(libc.mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))


RELEASE_INTERVAL_S = 60.0
"""How often, at most, a long run hands its freed memory back (each time the next step pays its page faults once)."""
_last_release = time.monotonic()


def release_now_and_then() -> bool:
    """`release_freed_memory` when RELEASE_INTERVAL_S have passed since the last time; True if it did."""
    global _last_release
    now = time.monotonic()
    if now - _last_release < RELEASE_INTERVAL_S:
        return False
    _last_release = now
    release_freed_memory()
    return True


def release_freed_memory() -> None:
    """Give the heap's free memory back to the kernel (after a run ends)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
