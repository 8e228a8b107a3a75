"""One writer per run folder: a process that trains, resumes or re-saves a run holds the folder's lock, and a second
one is refused at once with a sentence, instead of both appending the same steps to metrics.jsonl.

The lock is an advisory lock (flock; on Windows a byte-range lock) on `.lock` in the run folder, which holds the
holder's process id. The system drops it when the process ends, however it ends, so a killed run never leaves its
folder locked; the file itself is removed when the lock is released.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from engine.run_directory import RunFolderError

LOCK = ".lock"


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[None]:
    """Hold `folder`'s lock for the block; RunFolderError when another process holds it."""
    path = Path(folder) / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        if not _try_lock(fd):
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise RunFolderError(f"Another DEQ Studio process{f' (number {holder})' if holder.isdigit() else ''} is "
                                 f"writing the run in {Path(folder).name}. Wait for it to finish, or stop it, then try "
                                 f"again.")
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder removed the file between our open and our lock: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still holding it: whoever opened this file before will find it gone
        os.close(fd)


def _try_lock(fd: int) -> bool:
    """Take the lock on the open file `fd` without waiting; whether it was free."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (the previous holder may have removed it)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except OSError:
        return False
