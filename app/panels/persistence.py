"""Panel settings kept between sessions: each config form's dataclass as JSON under `forms/<key>` in QSettings.

An entry that no longer reads (edited by hand, or a field that changed meaning) is skipped: that panel keeps its
defaults, and the others still come back.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from app.panels.config_form import ConfigForm
from engine.config import ConfigError, from_dict, to_dict


def save_forms(settings: QSettings, forms: dict[str, ConfigForm]) -> None:
    """Store every form whose entries are valid (an invalid one keeps its last stored settings)."""
    for key, form in forms.items():
        try:
            settings.setValue(f"forms/{key}", json.dumps(to_dict(form.config())))
        except ConfigError:
            continue


def restore_forms(stored: dict[str, str], forms: dict[str, ConfigForm]) -> None:
    """Show the stored settings (JSON text by form key, as app/kept_settings.py read them) in every form that has
    readable ones."""
    for key, form in forms.items():
        text = stored.get(key)
        if not text:
            continue
        try:
            form.set_config(from_dict(form.cls, json.loads(text)))
        except (ConfigError, ValueError, TypeError, KeyError, RecursionError):
            continue
