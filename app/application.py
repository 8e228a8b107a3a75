"""The QApplication as DEQ Studio sets it up: its name and version, the icon of every window, the desktop entry it
belongs to and the stylesheet. The window, the self-test and the tests' screenshots all start from here."""
from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from engine.resources import ICON_NAME, icon_files, stylesheet_path
from engine.version import version


def application_icon() -> QIcon:
    """The application icon at every size shipped (empty where the icon files are missing)."""
    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


def application() -> QApplication:
    """The process's QApplication (made on first call), named, versioned, with the icon and the stylesheet."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DEQ Studio")
    app.setApplicationVersion(version())
    app.setDesktopFileName(ICON_NAME)  # matches deq-studio.desktop: docks and task bars show its icon
    app.setWindowIcon(application_icon())
    try:
        app.setStyleSheet(stylesheet_path().read_text(encoding="utf-8"))
    except OSError:
        pass  # the platform's look: still a working window
    return app
