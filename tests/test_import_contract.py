"""The layers of ARCHITECTURE.md hold: the engine never imports Qt or the app; inside the engine, lower layers never
import higher ones; the app's session model imports no Qt. Checked on the source (every import statement, lazy
ones included) and, for Qt, in a fresh interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

LAYERS = [
    ["engine.version", "engine.registry", "engine.config", "engine.device", "engine.distributed", "engine.timing",
     "engine.allocator", "engine.resources", "engine.atomic_files", "engine.checkpoint", "engine.metrics",
     "engine.model_store", "engine.interrupt"],
    ["engine.solvers"],
    ["engine.implicit"],
    ["engine.models", "engine.media", "engine.datasets"],
    ["engine.jiio", "engine.presets", "engine.solver_probe", "engine.memory", "engine.fitted_network"],
    ["engine.tasks"],
    ["engine.loop", "engine.run_directory", "engine.run_lock", "engine.errors", "engine.divergence"],
    ["engine.runs"],
    ["engine.cli_options", "engine.cli", "engine.launch"],
]
"""The engine's layers, lowest first: a module may import its own layer and the ones below, never above."""
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")


def layer_of(module: str) -> int:
    for index, names in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in names):
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement in `path` names (top level and inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


def test_every_engine_module_is_in_a_layer() -> None:
    for path in sources("engine"):
        if path.name != "__init__.py" or path.parent.name != "engine":
            layer_of(module_name(path))


@pytest.mark.parametrize("path", sources("engine"), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_engine_imports_go_down_the_layers_and_never_into_qt_or_the_app(path: Path) -> None:
    if path.name == "__init__.py" and path.parent.name == "engine":
        return
    own = layer_of(module_name(path))
    for imported in imports_of(path):
        top = imported.split(".")[0]
        assert top not in QT and top != "app", f"{path.name} imports {imported}"
        if top == "engine" and imported != "engine":
            assert layer_of(imported) <= own, f"{module_name(path)} (layer {own}) imports {imported} " \
                                              f"(layer {layer_of(imported)})"


def test_the_session_model_imports_no_qt() -> None:
    for imported in imports_of(PROJECT_ROOT / "app" / "session.py"):
        assert imported.split(".")[0] not in QT, imported


QT_FREE_APP = ("app", "app.session", "app.run_history", "app.run_phase", "app.status")
"""The window's Qt-free modules: the session and what it holds (the run history, the run's phase and its status
line)."""


def test_importing_every_engine_module_loads_no_qt() -> None:
    code = (
        "import pkgutil, importlib, sys, engine, app.session\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {QT!r})\n"
        f"bad += sorted(n for n in sys.modules if n.split('.')[0] == 'app' and n not in {QT_FREE_APP!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine or session imported Qt/app modules: {out.stdout}"
