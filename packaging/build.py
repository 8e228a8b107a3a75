"""Build DEQ Studio's bundle and installers (what `make package` runs, in the packaging virtualenv).

    python packaging/build.py            # the PyInstaller bundle, then on Linux the .tar.gz and the .deb, in dist/
    python packaging/build.py --plan     # print what would be built (JSON) and build nothing
    python packaging/build.py --reuse    # keep the bundle already in build/ and remake the archives only

On Windows and macOS only the bundle is made here; packaging/README.md gives the installer steps. A JSON summary
(sizes in MB, seconds per step) is printed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_manifest as manifest  # noqa: E402

ROOT = manifest.ROOT
BUILD = ROOT / "build" / "package"
DIST = ROOT / "dist"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DEB_DEPENDS = "libc6 (>= 2.36), libgl1, libegl1, libxcb1, libdrm2, libfontconfig1"
"""What the bundle takes from the system (its libraries' NEEDED entries that resolve outside it): the C library
(the libraries copied from the build system ask for glibc 2.36), the OpenGL drivers, X11's connection library and
the fonts."""
DEB_RECOMMENDS = "libwayland-client0, libwayland-cursor0, libwayland-egl1"
"""Qt's Wayland platform plugin links these; without them the window uses X11 (XWayland)."""


def torch_variant() -> str:
    """"cuda" when the PyTorch being bundled is a CUDA build, "" for the CPU build."""
    import torch

    return "cuda" if torch.version.cuda else ""


def plan() -> dict:
    version = manifest.version()
    names = manifest.artifact_names(version, torch_variant())
    return {"version": version, "bundle": str(BUILD / "dist" / manifest.NAME),
            "artifacts": [str(DIST / names[key]) for key in ("tarball", "deb")] if sys.platform == "linux" else [],
            "resources": [str(p) for p in manifest.resource_files()],
            "datasets": [str(source) for source, _ in manifest.dataset_files()]}


def build_bundle() -> Path:
    """PyInstaller onedir bundle in build/package/dist/deq-studio."""
    if not manifest.dataset_files():
        print("warning: no MNIST files found (set DEQ_STUDIO_DATA or put the data folder at ../shared/data); the "
              "bundle's JIIO tasks will need --data", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(BUILD / "dist"), "--workpath", str(BUILD / "work"),
                    str(ROOT / "packaging" / "deq-studio.spec")], check=True)
    return BUILD / "dist" / manifest.NAME


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def make_tarball(bundle: Path, target: Path, top: str) -> Path:
    """The bundle as `top/…` in a .tar.gz, with a short README beside the executable."""
    def normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=normalize)
        tar.add(ROOT / "packaging" / "linux" / "README.txt", arcname=f"{top}/README.txt", filter=normalize)
        tar.add(ROOT / "packaging" / "linux" / "add-to-menu.sh", arcname=f"{top}/add-to-menu.sh", filter=normalize)
        tar.add(ROOT / "packaging" / "LICENSE.txt", arcname=f"{top}/LICENSE.txt", filter=normalize)
    partial.replace(target)
    return target


def make_deb(bundle: Path, target: Path, version: str, variant: str) -> Path:
    """A Debian package: the bundle in /opt/deq-studio, /usr/bin/deq-studio, the desktop entry and the icons."""
    stage = BUILD / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    opt = stage / "opt" / manifest.NAME
    shutil.copytree(bundle, opt, symlinks=True, copy_function=link_or_copy)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / manifest.NAME).symlink_to(f"/opt/{manifest.NAME}/{manifest.NAME}")
    share = stage / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / f"{manifest.NAME}.desktop", share / "applications")
    icons = ROOT / "resources" / "icons"
    for size in ICON_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(icons / f"{manifest.NAME}-{size}.png", folder / f"{manifest.NAME}.png")
    (share / "icons" / "hicolor" / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(icons / f"{manifest.NAME}.svg", share / "icons" / "hicolor" / "scalable" / "apps")
    (share / "doc" / manifest.NAME).mkdir(parents=True)
    (share / "doc" / manifest.NAME / "copyright").write_text(debian_copyright(), encoding="utf-8")

    control = stage / "DEBIAN"
    control.mkdir()
    text = (ROOT / "packaging" / "linux" / "control").read_text(encoding="utf-8")
    package = manifest.artifact_names(version, variant)["package"]
    # the CUDA and CPU packages install the same files: one replaces the other
    relations = "".join(f"{field}: {manifest.NAME}\n" for field in ("Provides", "Conflicts", "Replaces")) if variant \
        else ""
    text = text.format(package=package, version=version, installed_size=folder_size(stage) // 1024,
                       depends=DEB_DEPENDS, recommends=DEB_RECOMMENDS, relations=relations,
                       torch_build="with CUDA" if variant else "for the CPU")
    (control / "control").write_text(text, encoding="utf-8")
    for script in ("postinst", "postrm"):
        shutil.copy2(ROOT / "packaging" / "linux" / script, control / script)
        (control / script).chmod(0o755)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(stage), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return target


def debian_copyright() -> str:
    """packaging/LICENSE.txt in Debian's machine-readable copyright format."""
    licence = (ROOT / "packaging" / "LICENSE.txt").read_text(encoding="utf-8").strip().splitlines()
    body = "\n".join(f" {line}" if line.strip() else " ." for line in licence)
    return ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
            f"Upstream-Name: {manifest.TITLE}\n\nFiles: *\nCopyright: DEQ Studio developers\nLicense: MIT\n{body}\n")


def link_or_copy(source: str, destination: str) -> None:
    """Hard links where the file system allows them (the bundle is ~1 GB), copies elsewhere."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", action="store_true", help="print what would be built and build nothing")
    parser.add_argument("--reuse", action="store_true", help="keep the bundle in build/ and remake the archives")
    args = parser.parse_args(argv)
    if args.plan:
        print(json.dumps(plan(), indent=2))
        return 0
    version, variant = manifest.version(), torch_variant()
    names = manifest.artifact_names(version, variant)
    seconds: dict[str, float] = {}
    sizes_mb: dict[str, float] = {}

    def timed(step: str, make, *arguments) -> Path:
        start = time.perf_counter()
        made = make(*arguments)
        seconds[step] = round(time.perf_counter() - start, 1)
        sizes_mb[str(made.relative_to(ROOT))] = round((folder_size(made) if made.is_dir() else made.stat().st_size)
                                                      / 2**20, 1)
        return made

    bundle = timed("bundle", (lambda: BUILD / "dist" / manifest.NAME) if args.reuse else build_bundle)
    if not any((bundle / name).exists() for name in (manifest.NAME, f"{manifest.NAME}.exe")):
        raise SystemExit(f"no bundle at {bundle}")
    if sys.platform == "linux":
        timed("tarball", make_tarball, bundle, DIST / names["tarball"], names["bundle"])
        if shutil.which("dpkg-deb"):
            timed("deb", make_deb, bundle, DIST / names["deb"], version, variant)
        else:
            print("warning: dpkg-deb not found: no .deb", file=sys.stderr)
    print(json.dumps({"version": version, "torch": variant or "cpu", "sizes_mb": sizes_mb, "seconds": seconds},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
