"""The packaging recipe without building it (too slow for every run): the spec and the scripts parse and run against
the manifest, every file the application reads at run time is bundled, one version everywhere, a valid desktop entry
and an icon that is the generator's output. `make package && packaging/smoke_test.sh` tests the built artifacts."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, shared_data_dir

sys.path.insert(0, str(PROJECT_ROOT / "packaging"))
import bundle_manifest as manifest  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SPEC = PROJECT_ROOT / "packaging" / "deq-studio.spec"


class Recorder:
    """Stands in for one of PyInstaller's spec classes (Analysis, PYZ, EXE, COLLECT, BUNDLE) and keeps its
    arguments."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs
        self.pure, self.scripts = [], []
        self.binaries = [("torch/test/op_test", "x", "BINARY"), ("torch/lib/libtorch_cpu.so", "x", "BINARY"),
                         ("torch/bin/torch_shm_manager", "x", "BINARY")]
        self.datas = [(f"{dest}/{Path(src).name}", src, "DATA") for src, dest in kwargs.get("datas", [])]
        self.datas.append(("PySide6/Qt/translations/qt_de.qm", "x", "DATA"))


def run_spec(monkeypatch, platform: str) -> dict[str, list[Recorder]]:
    """Execute the spec as PyInstaller would on `platform`, with recording stand-ins for its classes and hooks."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package: [package, f"{package}.main"]
    hooks.copy_metadata = lambda name: [(f"{name}.dist-info", f"{name}.dist-info")]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setattr(sys, "platform", platform)
    made: dict[str, list[Recorder]] = {}

    def recorder(kind: str):
        def make(*args, **kwargs):
            item = Recorder(*args, **kwargs)
            made.setdefault(kind, []).append(item)
            return item
        return make

    namespace = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC)}
    namespace.update({kind: recorder(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")})
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return made


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_the_spec_runs_on_every_platform_with_the_manifest(monkeypatch, platform) -> None:
    made = run_spec(monkeypatch, platform)
    analysis = made["Analysis"][0]
    entry = Path(analysis.args[0][0])
    assert entry.is_file() and entry.name == "launcher.py"
    bundled = {(Path(src).resolve(), dest) for src, dest in analysis.kwargs["datas"] if not src.endswith("dist-info")}
    for relative in manifest.resource_files():
        assert ((PROJECT_ROOT / relative).resolve(), str(relative.parent)) in bundled
    assert analysis.kwargs["module_collection_mode"] == {"engine": "pyz+py", "app": "pyz+py"}
    assert {"engine", "app"} <= set(analysis.kwargs["hiddenimports"])
    assert "dash" in analysis.kwargs["excludes"] and "torch" not in analysis.kwargs["excludes"]
    for hook in analysis.kwargs["runtime_hooks"]:
        assert Path(hook).is_file()
    kept = [dest for dest, _, _ in analysis.binaries + analysis.datas]
    assert "torch/test/op_test" not in kept and "PySide6/Qt/translations/qt_de.qm" not in kept
    assert "torch/lib/libtorch_cpu.so" in kept and "torch/bin/torch_shm_manager" in kept
    executables = made["EXE"]
    assert executables[0].kwargs["name"] == "deq-studio" and executables[0].kwargs["console"]
    icon = executables[0].kwargs["icon"]
    if platform == "linux":
        assert icon is None and "BUNDLE" not in made
    else:
        assert Path(icon).is_file() and Path(icon).suffix == {"win32": ".ico", "darwin": ".icns"}[platform]
    if platform == "win32":
        assert len(executables) == 2 and not executables[1].kwargs["console"]
    if platform == "darwin":
        assert made["BUNDLE"][0].kwargs["version"] == manifest.version()
    assert made["COLLECT"][0].kwargs["name"] == "deq-studio"


def test_the_build_script_plans_artifacts_named_by_the_one_version() -> None:
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "packaging" / "build.py"), "--plan"],
                            capture_output=True, text=True, check=True)
    plan = json.loads(result.stdout)
    from engine.version import version

    assert plan["version"] == version() == manifest.version()
    assert [Path(a).name for a in plan["artifacts"]] == [f"deq-studio-{version()}-linux-x86_64.tar.gz",
                                                        f"deq-studio_{version()}_amd64.deb"]
    assert len(plan["resources"]) == len(manifest.resource_files())


def test_the_version_is_shown_by_the_command_line_and_the_about_box(qapp) -> None:
    from app.menus import about_text
    from engine.version import version

    result = subprocess.run([sys.executable, "-m", "app.main", "--version"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, check=True)
    assert result.stdout.strip() == f"DEQ Studio {version()}"
    assert f"DEQ Studio {version()}" in about_text("CPU", "settings.conf")


@pytest.mark.parametrize("script", ["packaging/smoke_test.sh", "packaging/linux/add-to-menu.sh",
                                    "packaging/linux/postinst", "packaging/linux/postrm"])
def test_shell_scripts_parse(script) -> None:
    path = PROJECT_ROOT / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_the_desktop_entry_validates() -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils; make test installs it)")
    result = subprocess.run(["desktop-file-validate", str(PROJECT_ROOT / "resources" / "deq-studio.desktop")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout


def test_the_icon_is_the_generators_drawing(qapp) -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "resources"))
    try:
        import generate_icons
    finally:
        sys.path.remove(str(PROJECT_ROOT / "resources"))
    svg = PROJECT_ROOT / "resources" / "icons" / "deq-studio.svg"
    assert svg.read_text(encoding="utf-8") == generate_icons.icon_svg()
    ElementTree.fromstring(generate_icons.icon_svg(small=True).encode())
    from PIL import Image

    from app.application import application_icon
    from engine.resources import icon_files

    sizes = [Image.open(path).size for path in icon_files()]
    assert sizes == [(s, s) for s in generate_icons.PNG_SIZES]
    assert sorted(s.width() for s in application_icon().availableSizes()) == list(generate_icons.PNG_SIZES)
    for name in ("deq-studio.ico", "deq-studio.icns"):
        assert (PROJECT_ROOT / "resources" / "icons" / name).stat().st_size > 1000


def test_every_resource_the_engine_can_name_is_bundled() -> None:
    from engine.models.mdeq.stored import BUILT_IN, model_file
    from engine.resources import icon_files, resources_dir, sample_names, sample_path, stylesheet_path

    named = [sample_path(name) for name in sample_names()] + [model_file("", kind) for kind in BUILT_IN]
    named += icon_files() + [stylesheet_path()]
    for path in named:
        assert manifest.is_bundled(path.resolve().relative_to(resources_dir().resolve().parent)), path


RUN_EVERYTHING = textwrap.dedent("""
    import sys
    from app.main import main
    from engine.resources import sample_names, sample_path
    from engine.media import load_signal

    out = sys.argv[1]
    assert main(["--self-test"]) == 0
    for name in sample_names():
        load_signal(sample_path(name))
    assert main(["inverse", "--count", "2", "--method", "jiio", "--out", out + "/inverse"]) == 0
    assert main(["attack", "--count", "2", "--method", "jio", "--out", out + "/attack"]) == 0
    assert main(["meta-test", "--episodes", "2"]) == 0
""")
OPENED = re.compile(r'open(?:at)?\((?:AT_FDCWD|-?\d+), "((?:[^"\\]|\\.)*)",[^)]*\) = \d+')


@pytest.mark.slow
def test_every_file_the_application_reads_at_run_time_is_bundled(tmp_path) -> None:
    """Runs the self-test, opens every sample and runs inverse, attack and meta-test on the shipped models under
    strace, which sees every file opened (by Python, Qt, FFmpeg, libsndfile, Open3D or safetensors alike). Each one
    from the project tree must be in the manifest, and each dataset file among the shipped datasets."""
    data = shared_data_dir()
    if not (data / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {data} (set DEQ_STUDIO_DATA)")
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (Debian: strace; make test installs it)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen",
           "DEQ_STUDIO_DATA": str(data)}
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat", "-e", "signal=none",
                             "-o", str(log), sys.executable, "-c", RUN_EVERYTHING, str(tmp_path)],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr[-2000:]
    opened = {Path(found) for found in OPENED.findall(log.read_text(errors="replace"))}
    opened = [p.resolve() for p in opened if p.is_absolute() or (PROJECT_ROOT / p).exists()]
    root, data = PROJECT_ROOT.resolve(), data.resolve()
    from_project = [p.relative_to(root) for p in opened if p.is_relative_to(root) and p.is_file()]
    # Python modules are PyInstaller's to find; the package metadata (the version) is bundled by copy_metadata.
    read_at_run_time = [p for p in from_project if p.suffix not in (".py", ".pyc", ".pth", ".so")
                        and p.parts[0] not in (".venv", "tests")
                        and not p.parts[0].endswith((".egg-info", ".dist-info"))]
    for pattern in ("resources/samples/*", "resources/models/*.safetensors", "resources/icons/*.png",
                    "resources/style.qss"):
        assert any(p.match(pattern) for p in read_at_run_time), f"nothing matching {pattern} was read"
    missing = [str(p) for p in read_at_run_time if not manifest.is_bundled(p)]
    assert not missing, f"read at run time but not bundled: {missing}"
    datasets = [p.relative_to(data) for p in opened if p.is_relative_to(data) and p.is_file()]
    assert datasets, "the JIIO tasks read no dataset file"
    for path in datasets:
        assert path.name in manifest.DATASETS.get(path.parts[0], ()), f"{path} is read but not shipped"
