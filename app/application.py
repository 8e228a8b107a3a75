"""The QApplication as DEQ Studio sets it up: its name and version, the icon of every window, the desktop entry it
belongs to and the stylesheet. The window, the self-test and the tests' screenshots all start from here."""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QLabel, QWidget

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



def splash_screen() -> QWidget:
    """The icon and "Starting DEQ Studio…" in a frameless window, painted at once while PyTorch and the window load;
    the caller closes it once the window shows. (Not QSplashScreen: its show() waits up to a second for the window
    manager to report the window exposed.)"""
    splash = QLabel()
    splash.setWindowFlags(Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    splash.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    splash.setObjectName("splash")
    splash.setAlignment(Qt.AlignmentFlag.AlignCenter)
    splash.setText(f"<img src=\"{icon_files()[-1] if icon_files() else ''}\" width=160 height=160><br>"
                   f"Starting DEQ Studio {version()}…")
    splash.setContentsMargins(32, 24, 32, 24)
    splash.adjustSize()
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        splash.move(screen.availableGeometry().center() - splash.rect().center())
    splash.show()
    splash.repaint()
    QApplication.processEvents()
    return splash
