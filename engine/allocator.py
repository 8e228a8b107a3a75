"""Keeping freed tensor memory in the process instead of handing it back to the kernel at every free (glibc).

Solver loops allocate and free the same few tens of megabytes at every iteration. By default glibc serves blocks of
more than 128 KB–32 MB (a threshold it adapts) with mmap and returns them with munmap, so every iteration pays for
page faults and for the kernel zeroing fresh pages: measured here, a 500 × 1 × 28² → 32-channel convolution took
9.6 ms instead of 1.0 ms. Raising the mmap and trim thresholds makes such blocks reusable heap memory, as tcmalloc
or jemalloc would; the resident size then stays at its peak until `release_freed_memory` is called. A long run
calls `release_when_grown` after its evaluations: the kept heap otherwise fragments and creeps up (bench/soak.py
measured +5.9 % resident memory over 30 minutes of a preview fit, every byte of it freed memory that a trim gave
back: 513 MB before, 353 MB after, flat from 1,000 to 8,000 steps).
On other C libraries (Windows, macOS, musl) both functions do nothing.
"""
from __future__ import annotations

import ctypes
import functools
import sys

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


GROWTH_BEFORE_RELEASE = 0.03
"""How much resident memory may grow over its working level before a long run hands freed memory back. A release
is not free: every page given back costs a page fault when it is used again (about 3 ms per MB measured here), so a
fit whose working set is gigabytes would lose seconds to each; releasing only on growth keeps that rare."""
_baseline: list[float | None] = [None]
"""The working level: resident memory at the first call, and again at the first call after each release."""


def resident_bytes() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss)


def release_when_grown() -> bool:
    """`release_freed_memory` when resident memory has grown GROWTH_BEFORE_RELEASE over its working level (called
    after an evaluation, the largest temporaries); True if it did."""
    rss = resident_bytes()
    if _baseline[0] is None:
        _baseline[0] = rss
        return False
    if rss <= _baseline[0] * (1.0 + GROWTH_BEFORE_RELEASE):
        return False
    release_freed_memory()
    _baseline[0] = None  # the next call, back at the working peak, sets it again
    return True


def release_freed_memory() -> None:
    """Give the heap's free memory back to the kernel (after a run ends)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
