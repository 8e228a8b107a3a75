"""What goes into DEQ Studio's bundle besides the Python modules PyInstaller finds itself, and what stays out.

Read by the PyInstaller spec (`deq-studio.spec`), by the build script (`build.py`) and by the tests, so that the
list of files the application reads at run time is written once. Plain Python, no PyInstaller import.
"""
from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "deq-studio"
"""The executable, the bundle folder, the .deb package and the desktop entry are all called this."""
TITLE = "DEQ Studio"

RESOURCE_PATTERNS = (
    "resources/samples/*",
    "resources/models/*.safetensors",
    "resources/models/README.md",
    "resources/icons/deq-studio-*.png",
    "resources/icons/deq-studio.svg",
    "resources/style.qss",
    "resources/quickstart/*.jpg",
    "resources/deq-studio.desktop",
)
"""Files of the source tree that the application reads at run time, as globs relative to the project root. Each is
bundled at the same relative path (under the bundle's internal folder), where `engine.resources` finds it."""

DATASETS = {"mnist": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
            "omniglot": ("images_background_small1.zip", "images_background_small2.zip")}
"""Datasets shipped in the bundle (from the data folder, never from the repository) so that the JIIO race, the
attack, both trainings on digits and few-shot learning work out of the box: the 10,000 MNIST test digits (1.6 MB)
and Omniglot's two small background sets (2.8 MB)."""
DATASET_NOTICES = {"mnist": "packaging/MNIST-NOTICE.md", "omniglot": "packaging/OMNIGLOT-NOTICE.md"}
"""Each shipped dataset's origin and licence, bundled beside its files."""

SOURCE_PACKAGES = ("engine", "app")
"""Collected as bytecode and as source: the settings' explanations (tooltips, --help) are read from the source of
the config dataclasses."""

EXCLUDES = (
    # Open3D's Plotly/Dash web viewer and the notebook stack it imports (the bundle registers a stand-in module
    # for open3d.visualization.draw_plotly: packaging/hooks/rthook_open3d.py).
    "dash", "plotly", "_plotly_utils", "werkzeug", "flask", "IPython", "ipywidgets", "ipykernel", "jupyter_core",
    "jupyterlab_widgets", "widgetsnbextension", "nbformat", "comm", "traitlets", "jedi", "parso", "pygments",
    "prompt_toolkit", "stack_data", "matplotlib", "matplotlib_inline", "pandas", "narwhals", "retrying", "requests",
    "pydantic", "pydantic_core",
    # Tk and the test tools.
    "tkinter", "_tkinter", "pytest", "_pytest", "hypothesis", "pytestqt",
    # Optional backends of the science stack that DEQ Studio never calls.
    "torch.utils.tensorboard", "tensorboard", "cupy", "dask", "tensorflow", "jax",
)
"""Modules left out of the bundle: nothing the application runs imports them."""

DROPPED = (
    "torch/test/*", "torch/bin/*", "torch/include/*", "torch/share/*",
    "torch/lib/libtorchbind_test.so", "torch/lib/libjitbackend_test.so", "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
    "PySide6/Qt/translations/*",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "libatk-1.0.so.*", "libcairo.so.*", "libcairo-gobject.so.*",
    "libgdk_pixbuf-2.0.so.*", "libpango-1.0.so.*", "libpangocairo-1.0.so.*", "libpangoft2-1.0.so.*",
    "libharfbuzz.so.*", "libgraphite2.so.*", "libthai.so.*", "libdatrie.so.*", "libfribidi.so.*", "libpixman-1.so.*",
    "libXrender.so.*", "libXext.so.*", "libjpeg.so.62",
)
"""Files PyInstaller's hooks collect that the application never opens, as globs of their place in the bundle:
PyTorch's C++ test programs and headers (~135 MB), Qt's translations (the window is in English), and Qt's GTK 3
theme plugin with the libraries only it links (copies of Debian's GTK stack next to another system's GTK make
crashes; without the plugin Qt draws its own dialogs)."""
KEPT = ("torch/bin/torch_shm_manager",)
"""Exceptions to DROPPED: torch's shared-memory manager serves torch.multiprocessing."""

RUNTIME_HOOKS = ("packaging/hooks/rthook_open3d.py", "packaging/hooks/rthook_portaudio.py")


def is_dropped(destination: str) -> bool:
    """Whether a file PyInstaller collected (by its place in the bundle) is left out."""
    from fnmatch import fnmatchcase

    destination = destination.replace("\\", "/")
    return (any(fnmatchcase(destination, pattern) for pattern in DROPPED)
            and not any(fnmatchcase(destination, pattern) for pattern in KEPT))


def version(root: Path = ROOT) -> str:
    """The project's version, from pyproject.toml (the one place it is written)."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if not found:
        raise ValueError("pyproject.toml declares no version")
    return found.group(1)


def resource_files(root: Path = ROOT) -> list[Path]:
    """Every file matched by RESOURCE_PATTERNS, relative to `root`; ValueError names a pattern matching nothing."""
    files = []
    for pattern in RESOURCE_PATTERNS:
        matched = sorted(root.glob(pattern))
        if not matched:
            raise ValueError(f"nothing matches {pattern} (run resources/generate_samples.py and "
                             "resources/generate_icons.py?)")
        files += [p.relative_to(root) for p in matched]
    return files


def is_bundled(relative: Path | str) -> bool:
    """Whether a project-relative path is one of the resource files the bundle carries."""
    relative = Path(relative)
    return any(relative.match(pattern) and len(relative.parts) == len(Path(pattern).parts)
               for pattern in RESOURCE_PATTERNS)


def data_folder() -> Path | None:
    """The real-data folder the datasets are taken from: $DEQ_STUDIO_DATA, else ../shared/data beside the project."""
    for candidate in (os.environ.get("DEQ_STUDIO_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def dataset_files() -> list[tuple[Path, str]]:
    """(source file, folder inside the bundle) for every shipped dataset file found; empty where there is no data
    folder (the build then warns: the bundle works, but the JIIO tasks need --data)."""
    folder = data_folder()
    found = []
    for name, files in DATASETS.items():
        sources = [folder / name / file for file in files] if folder else []
        if sources and all(source.is_file() for source in sources):
            found += [(source, f"resources/datasets/{name}") for source in sources]
            found.append((ROOT / DATASET_NOTICES[name], f"resources/datasets/{name}"))
    return found


def data_entries(root: Path = ROOT) -> list[tuple[str, str]]:
    """PyInstaller `datas`: (source file, destination folder) for the resources and the datasets."""
    entries = [(str(root / rel), str(rel.parent)) for rel in resource_files(root)]
    return entries + [(str(source), dest) for source, dest in dataset_files()]


def platform_tag() -> str:
    """`linux-x86_64`, `windows-amd64`, `macos-arm64`, … for artifact names."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"


def artifact_names(version_: str | None = None, variant: str = "") -> dict[str, str]:
    """File names of the artifacts `make package` writes into dist/, and the Debian package's name; `variant` is ""
    for the CPU build of PyTorch or "cuda"."""
    version_ = version_ or version()
    name = f"{NAME}-{variant}" if variant else NAME
    return {"tarball": f"{name}-{version_}-{platform_tag()}.tar.gz",
            "deb": f"{name}_{version_}_amd64.deb",
            "package": name,
            "bundle": f"{name}-{version_}"}
