"""Settings kept between sessions: each task kind's settings dataclass as JSON under `forms/<kind>` in QSettings.

An entry that no longer reads (edited by hand, or a field that changed meaning) is skipped: that kind keeps its
starting settings, and the others still come back.
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings

from engine.config import ConfigError, from_dict, to_dict


def save_kind_settings(settings: QSettings, kinds: dict[str, Any]) -> None:
    """Store every kind's settings (`Session.settings`: by kind name)."""
    for name, config in kinds.items():
        settings.setValue(f"forms/{name}", json.dumps(to_dict(config)))


def stored_kind_settings(stored: dict[str, str], classes: dict[str, type]) -> dict[str, Any]:
    """The readable settings among `stored` (JSON text by kind name, as app/kept_settings.py read them), as the
    dataclasses `classes` names for each kind."""
    readable = {}
    for name, cls in classes.items():
        text = stored.get(name)
        if not text:
            continue
        try:
            readable[name] = from_dict(cls, json.loads(text))
        except (ConfigError, ValueError, TypeError, KeyError, RecursionError):
            continue
    return readable
