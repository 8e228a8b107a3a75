"""Writing files so that nobody ever finds half of one, and no write follows a link out of its folder.

Every file DEQ Studio writes (run files, checkpoints, exports, models, CSVs, snapshots) is first written under a
temporary name beside it (`.<name>.<random>.tmp<suffix>`: hidden, and ending in the target's suffix so that writers
that choose the format by the name, Pillow, soundfile, PyAV, Open3D, Qt, write the right one), flushed to the disk and
then renamed into place: a process killed mid-write leaves the previous file (or none) and an orphan temporary that
`remove_temporaries` deletes when the folder is next opened. A rename replaces a link at the target's name rather
than writing through it, and `append_text` refuses to append through one.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp(\.[^.]+)?$")
"""The names of the temporaries this module makes."""


class LinkRefused(ValueError):
    """A write would have followed a symbolic link; the message says which file and what to do."""


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new, empty temporary file beside `path` (same folder, hence the same disk) with the permissions a plain
    open() would give; its descriptor and path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, Path(tmp)


def _replace(tmp: Path, path: Path) -> None:
    """Move the finished temporary into place, and make the rename itself durable where the system allows."""
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # not every file system (or system) lets a folder be opened and synced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def atomic_write_bytes(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(file_object)` on a temporary file beside `path` (its folder made if missing), then move it into
    place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write text (UTF-8) atomically."""
    atomic_write_bytes(path, lambda handle: handle.write(text.encode("utf-8")))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """For writers that take a file name: yields a temporary name beside `path` (with its suffix; the folder must
    exist) to write; when the block ends without an error the file is synced and renamed to `path`, else deleted."""
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_text(path: str | Path, text: str) -> None:
    """Append `text` (UTF-8) to `path`, creating it; never through a symbolic link (LinkRefused)."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise LinkRefused(f"{path.name} in {path.parent.name} is a link to another file: DEQ Studio does not "
                              f"write through links. Remove the link (or move the folder) and try again.") from None
        raise
    with os.fdopen(fd, "ab") as handle:
        handle.write(text.encode("utf-8"))


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporaries of writes that a killed process left in `folder`; returns what was removed."""
    removed = []
    for orphan in Path(folder).glob(".*.tmp*"):
        if TEMPORARY.match(orphan.name) and orphan.is_file() and not orphan.is_symlink():
            orphan.unlink(missing_ok=True)
            removed.append(orphan)
    return removed
