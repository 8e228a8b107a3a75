"""One error path: every exception becomes one sentence a user can act on, and its traceback goes to a log file.

`failure_sentence(exc, context)` logs the traceback and returns the sentence: the CLI prints it on one line (the
traceback too with `--debug`); the window shows it in a dialog. Errors the engine raises for bad input
(`SignalError`, `ConfigError`, ...) already are such sentences; anything else (running out of memory, a full disk, a
bug) is described here. `log_failure` appends the full traceback to `deq-studio.log` in the platform's log folder
(`$DEQ_STUDIO_LOG_DIR` when set).
"""
from __future__ import annotations

import datetime
import errno
import json
import os
import sys
import traceback
from pathlib import Path

from engine.atomic_files import append_text

LOG_NAME = "deq-studio.log"
LOG_LIMIT_BYTES = 1 << 20
"""The log is started afresh once it outgrows this (the previous one is kept as deq-studio.log.1)."""


class UserError(Exception):
    """Raised for a problem with what the user gave; the message is the sentence to show."""


def is_user_error(exc: BaseException) -> bool:
    """Whether `exc` is about the user's input (exit code 2 in the CLI) rather than a failure of the run."""
    from engine.checkpoint import CheckpointError
    from engine.config import ConfigError
    from engine.media import SignalError
    from engine.model_store import ModelFileError
    from engine.run_directory import RunFolderError

    return isinstance(exc, (UserError, SignalError, ConfigError, CheckpointError, ModelFileError, RunFolderError,
                            FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                            json.JSONDecodeError, ValueError))


def user_message(exc: BaseException) -> str:
    """`exc` as one sentence that says what happened and what to do."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, MemoryError) or "out of memory" in text.lower() or "can't allocate memory" in text.lower():
        return ("The computer ran out of memory for these settings. Choose Quick preview, a smaller Max size, "
                "width, batch size or fewer frames, or use the CPU if the graphics card is full.")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full{_where(exc)}. Free some space, or choose a folder on another disk."
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return (f"The disk is full for DEQ Studio{_where(exc)}: a file grew past the largest this system lets it "
                f"write (a quota, or a limit on file sizes such as ulimit -f). Free some space or lift the limit, or "
                f"choose a folder on another disk.")
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return f"The disk can only be read, not written{_where(exc)}. Choose a folder on a disk you can write to."
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        name = Path(exc.filename).name if exc.filename else "a file"
        return (f"The name {name[:40]}… is longer than this disk allows. Choose a shorter file or folder name (or "
                f"--out with a shorter one).")
    if isinstance(exc, PermissionError):
        return (f"DEQ Studio is not allowed to use a file{_where(exc)}. Choose a folder you can write to (or a file "
                f"you can read).")
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)) and exc.filename:
        path = Path(exc.filename)
        if path.parent != Path(".") and not path.parent.exists():
            return f"The folder {path.parent.name} of {path.name} does not exist. Choose a folder that does."
        return f"{path.name} does not exist. Check the name and the folder."
    if isinstance(exc, IsADirectoryError) and exc.filename:
        return f"{Path(exc.filename).name} is a folder where a file is needed. Choose a file."
    if isinstance(exc, json.JSONDecodeError):
        return f"A settings file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
    if is_user_error(exc) or _is_divergence(exc):
        return text
    return (f"Something went wrong inside DEQ Studio ({type(exc).__name__}: {_first_line(exc)}). "
            f"The details are in {log_path()}; please include them when you report it.")


def _is_divergence(exc: BaseException) -> bool:
    from engine.tasks.base import DivergenceError

    return isinstance(exc, DivergenceError)


def _where(exc: OSError) -> str:
    """Where an OSError happened, as the user knows it: " (name in folder)", where the temporary of an atomic write
    (a hidden `.name.random.tmp`) is named by the file it was to become; empty when unknown."""
    if not exc.filename:
        return ""
    from engine.atomic_files import TEMPORARY

    path = Path(exc.filename)
    name = path.name[1:].split(".tmp")[0].rsplit(".", 1)[0] if TEMPORARY.match(path.name) else path.name
    folder = path.parent.name
    return f" ({name} in {folder})" if folder else f" ({name})"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else "no message"


def failure_sentence(exc: BaseException, context: str) -> str:
    """What every front end does with a failure: its traceback into the log (with `context`: the command line, or
    where in the window), and the sentence to show."""
    log_failure(exc, context)
    return user_message(exc)


def log_folder() -> Path:
    """Where the log goes: `$DEQ_STUDIO_LOG_DIR`, else the platform's folder for an application's logs."""
    if os.environ.get("DEQ_STUDIO_LOG_DIR"):
        return Path(os.environ["DEQ_STUDIO_LOG_DIR"])
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "DEQ Studio" / "Logs"
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / "DEQ Studio"
    return Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "deq-studio"


def log_path() -> Path:
    return log_folder() / LOG_NAME


def log_failure(exc: BaseException, context: str = "") -> Path | None:
    """Append `exc`'s traceback (with the time and `context`, e.g. the command line) to the log; its path, or None
    where the log cannot be written, or is a link to another file (never raises, never writes through a link)."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > LOG_LIMIT_BYTES:
            path.replace(path.with_name(LOG_NAME + ".1"))
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        append_text(path, f"--- {stamp} {context}\n{''.join(traceback.format_exception(exc))}\n")
        return path
    except (OSError, ValueError):  # no log at all rather than a failure, or a write through a link (LinkRefused)
        return None
