"""Wrap a built (and signed) bundle into a Debian package with dpkg-deb.

    python build_spec/make_deb.py build_spec/_build/dist/clerk-app --out build_spec/_build/deb
    python build_spec/make_deb.py DIST/clerk-app --revision 2     # same bundle, new package

What the package installs:

  /opt/clerk-app/                       the bundle as built, MANIFEST.sha256 and .sig included
                                        (`verify.py --no-run /opt/clerk-app` checks it later)
  /usr/bin/clerk-app                    a launcher (exec /opt/clerk-app/clerk-app)
  /usr/share/applications/clerk-app.desktop, /usr/share/icons/hicolor/scalable/apps/clerk-app.svg
  /etc/xdg/clerk-app/config.toml        the machine-wide configuration, a conffile: dpkg never
                                        overwrites a file IT has changed
  /usr/share/doc/clerk-app/             copyright, the SBOM (`clerk-app.cdx.json` beside the
                                        bundle, if built), configuration.md

Depends: the system libraries the bundle leaves to the system (glibc, OpenGL/EGL, libxcb and
the two xcb helpers the Qt xcb platform plugin links but PyInstaller did not find) and those a
desktop must share with its own services (CUPS for printing, D-Bus, fontconfig).
`tests/test_installers.py` checks after installing that no bundled library misses one.

Reproducible: every file's time is set to $SOURCE_DATE_EPOCH (else the manifest's), owners
are root (--root-owner-group), modes are normalised, and dpkg-deb takes its archive times
from SOURCE_DATE_EPOCH as well. The package version is the app's version (from the bundled
dist-info) plus a Debian revision, so a repackaged bundle gets a new package version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from email.parser import Parser
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINUX = HERE / "linux"
PACKAGE = "clerk-app"
PREFIX = "opt/clerk-app"
CONFFILE = "etc/xdg/clerk-app/config.toml"
DEPENDS = (
    "libc6 (>= 2.36)", "libgl1", "libegl1", "libxcb1", "libxcb-icccm4", "libxcb-keysyms1",
    "libxcb-cursor0", "libxkbcommon-x11-0", "libx11-xcb1", "libfontconfig1", "libdbus-1-3",
    "libcups2",
)
DESCRIPTION = """\
Arbeitsplatz für die Sachbearbeitung im Bürgerbüro
 Melderegister (Anmeldung, Ummeldung, Abmeldung), Bescheinigungen, Gebühren und
 Kasse, offline-fähig mit verschlüsseltem lokalem Register und Abgleich mit dem
 zentralen Dienst. Self-test for IT: clerk-app doctor."""


class PackageError(Exception):
    """The bundle or the tools are not what a package can be made from."""


def app_version(bundle: Path) -> str:
    """The app's version from the bundled dist-info (the one `clerk-app --version` prints)."""
    found = sorted((bundle / "_internal").glob("clerk_app-*.dist-info/METADATA"))
    if not found:
        raise PackageError(f"{bundle} holds no clerk_app-*.dist-info: not a clerk-app bundle")
    version = Parser().parsestr(found[0].read_text(encoding="utf-8"))["Version"]
    if not version:
        raise PackageError(f"{found[0]} names no version")
    return version


def _architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _normalise(root: Path, epoch: int) -> None:
    """Modes 0755/0644 by the owner's execute bit, one time for everything (links too)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            if not path.is_symlink():
                executable = path.is_dir() or path.stat().st_mode & stat.S_IXUSR
                path.chmod(0o755 if executable else 0o644)
            os.utime(path, (epoch, epoch), follow_symlinks=False)
    os.utime(root, (epoch, epoch))


def _installed_size_kib(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        if Path(folder).relative_to(root).parts[:1] == ("DEBIAN",):
            continue
        total += sum(os.lstat(Path(folder, name)).st_size for name in files)
    return (total + 1023) // 1024


def _copy(src: Path, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def stage(bundle: Path, root: Path, version: str, architecture: str,
          maintainer: str) -> None:
    """Lay out the package's tree and DEBIAN/ control files in `root`."""
    shutil.copytree(bundle, root / PREFIX, symlinks=True)
    _copy(LINUX / "launcher.sh", root / "usr/bin/clerk-app", 0o755)
    _copy(LINUX / "clerk-app.desktop", root / "usr/share/applications/clerk-app.desktop")
    _copy(LINUX / "clerk-app.svg", root / "usr/share/icons/hicolor/scalable/apps/clerk-app.svg")
    _copy(LINUX / "config.toml", root / CONFFILE)
    doc = root / "usr/share/doc" / PACKAGE
    _copy(HERE.parent / "docs" / "configuration.md", doc / "configuration.md")
    (doc / "copyright").write_text(
        "clerk-app: Arbeitsplatz Bürgerbüro\nLicense: EUPL-1.2\n"
        "Third-party components: see clerk-app.cdx.json (CycloneDX SBOM) in this folder.\n",
        encoding="utf-8")
    sbom = bundle.parent / f"{bundle.name}.cdx.json"
    if sbom.is_file():
        _copy(sbom, doc / "clerk-app.cdx.json")
    control = root / "DEBIAN"
    control.mkdir()
    (control / "conffiles").write_text(f"/{CONFFILE}\n", encoding="utf-8")
    fields = {
        "Package": PACKAGE,
        "Version": version,
        "Architecture": architecture,
        "Maintainer": maintainer,
        "Installed-Size": str(_installed_size_kib(root)),
        "Depends": ", ".join(DEPENDS),
        "Section": "misc",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }
    (control / "control").write_text(
        "".join(f"{key}: {value}\n" for key, value in fields.items()), encoding="utf-8")


def build_package(bundle: Path, out: Path, revision: int = 1, version: str | None = None,
                  maintainer: str = "Bürgerbüro IT <it@buergerbuero.invalid>",
                  compression: str = "xz") -> Path:
    """Build `clerk-app_<version>-<revision>_<arch>.deb` in `out`; returns its path."""
    if shutil.which("dpkg-deb") is None:
        raise PackageError("dpkg-deb is missing (Debian package dpkg)")
    if not (bundle / "clerk-app").is_file():
        raise PackageError(f"{bundle} is not a Linux clerk-app bundle (no clerk-app program)")
    full_version = f"{version or app_version(bundle)}-{revision}"
    architecture = _architecture()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH")
                or (bundle / "MANIFEST.sha256").stat().st_mtime)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PACKAGE}_{full_version}_{architecture}.deb"
    with tempfile.TemporaryDirectory(prefix="clerk-deb-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        stage(bundle, root, full_version, architecture, maintainer)
        _normalise(root, epoch)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
        subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build",
                        str(root), str(target)], check=True, env=env, stdout=subprocess.DEVNULL)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the clerk-app Debian package.")
    parser.add_argument("bundle", type=Path, help="the built bundle (dist/clerk-app)")
    parser.add_argument("--out", type=Path, default=HERE / "_build" / "deb")
    parser.add_argument("--revision", type=int, default=1,
                        help="Debian revision: raise it to repackage the same app version")
    parser.add_argument("--version", help="app version (default: from the bundle)")
    parser.add_argument("--maintainer", default="Bürgerbüro IT <it@buergerbuero.invalid>")
    args = parser.parse_args(argv)
    try:
        target = build_package(args.bundle, args.out, args.revision, args.version,
                               args.maintainer)
    except (PackageError, OSError, subprocess.CalledProcessError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"{target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
