"""The settings file the window keeps between sessions, read in one place before anything is restored.

`open_kept` reads every value the window restores and checks its type. A file the window cannot read (not in its
format, or a value of the wrong type or shape: edited by hand, written by another program) is set aside: renamed
beside itself (`<name>.unreadable-<date>-<time>`, never deleted), and the window starts with its defaults on a
fresh file in its place, so the next start is clean too. Well-typed values the window cannot use (an unknown task
kind, a panel's entry that no longer reads as its settings) are no reason to set the file aside: the window skips
them as it restores.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

RENAMED_KINDS = {"prior": "train-prior"}
"""Task kinds an earlier version kept settings under another name."""


@dataclasses.dataclass(frozen=True)
class Kept:
    """What the last session left: the window's geometry and dock layout, each panel's settings (JSON text by form
    key), the fit panel's medium and the task kind; None or empty where nothing was kept."""

    geometry: QByteArray | None = None
    window_state: QByteArray | None = None
    forms: dict[str, str] = dataclasses.field(default_factory=dict)
    fit_medium: str | None = None
    kind: str | None = None


class UnreadableSettings(Exception):
    """The settings file holds something the window cannot read; the message says what."""


def typed(settings: QSettings, key: str, types: type | tuple[type, ...]):
    """The value of `key` (None when absent); UnreadableSettings when it cannot be read or is not of `types`."""
    try:
        value = settings.value(key)
    except Exception:  # noqa: BLE001 — a value Qt cannot hand over is as unreadable as one of the wrong type
        raise UnreadableSettings(f"its entry {key!r} cannot be read") from None
    if value is not None and not isinstance(value, types):
        raise UnreadableSettings(f"its entry {key!r} is not what DEQ Studio writes there")
    return value


def read_kept(settings: QSettings) -> Kept:
    """Every value of `settings` the window restores or reads later (recent files, the last folder), checked for
    its type; UnreadableSettings when one has the wrong type or the file is not a settings file."""
    if settings.status() == QSettings.Status.FormatError:
        raise UnreadableSettings("it is not in the format of a settings file")
    recent = typed(settings, "recent", (str, list))
    if isinstance(recent, list) and not all(isinstance(entry, str) for entry in recent):
        raise UnreadableSettings("its entry 'recent' is not a list of files")
    typed(settings, "last_dir", str)
    forms = {key.removeprefix("forms/"): typed(settings, key, str) for key in settings.allKeys()
             if key.startswith("forms/")}
    kind = typed(settings, "kind", str)
    for old, new in RENAMED_KINDS.items():  # settings kept by an earlier version
        if old in forms:
            forms.setdefault(new, forms.pop(old))
        kind = new if kind == old else kind
    return Kept(geometry=typed(settings, "geometry", QByteArray),
                window_state=typed(settings, "window_state", QByteArray),
                forms=forms, fit_medium=typed(settings, "fit_medium", str), kind=kind)


def open_kept(settings: QSettings) -> tuple[QSettings, Kept, str | None]:
    """`settings` and what they keep; for a file that cannot be read, fresh settings in its place (the file set
    aside), nothing kept, and the sentence that tells the user so (else None)."""
    try:
        return settings, read_kept(settings), None
    except UnreadableSettings as exc:
        reason = str(exc)
    path = settings.fileName()
    fresh, aside = set_aside(settings)
    if aside is None:
        return fresh, Kept(), (f"The settings file {path} could not be read ({reason}) nor moved aside, so DEQ "
                               f"Studio starts with its default settings and leaves that file as it is.")
    return fresh, Kept(), (f"Started with the default settings: the settings file could not be read and was kept as "
                           f"{aside} ({reason}).")


def set_aside(settings: QSettings) -> tuple[QSettings, Path | None]:
    """Rename the file of `settings` beside itself and return fresh, empty settings on its path with where the old
    file went; when it cannot be moved, settings in a temporary folder for this session and None."""
    settings.sync()  # changes not yet written go into the old file, never into the fresh one
    path = Path(settings.fileName())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside, n = path.with_name(f"{path.name}.unreadable-{stamp}"), 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.unreadable-{stamp}-{n}")
    try:
        path.rename(aside)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="deq-studio-settings-"))
        return QSettings(str(folder / path.name), QSettings.Format.IniFormat), None
    if settings.organizationName():  # the user's own settings: the same place, found the same way next time
        return QSettings(settings.format(), settings.scope(), settings.organizationName(),
                         settings.applicationName()), aside
    return QSettings(str(path), settings.format()), aside
