"""The engine never imports Qt: checked in a fresh interpreter."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_importing_every_engine_module_loads_no_qt() -> None:
    code = (
        "import pkgutil, importlib, sys, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6',"
        " 'pyqtgraph', 'app'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine imported Qt/app modules: {out.stdout}"
