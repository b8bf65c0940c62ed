"""`clerk-app doctor`'s line for the window's system libraries (entry point
`clerk_app.doctor_checks`).

Qt loads its platform plugin (on Linux: xcb) only when the window opens. A system library it
needs that is missing (Qt 6.5 and later need libxcb-cursor0, which a fresh Linux machine
lacks) aborts the start with "could not load the Qt platform plugin" and nothing IT can act
on. This check asks the dynamic loader (`ldd`) which libraries the plugin cannot find and
names the Debian/Ubuntu package of each. It imports no Qt at all: it must work exactly where
Qt cannot load.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from clerk_app.config import Config
from clerk_app.self_test import Check

NAME = "qt platform"
# The Debian/Ubuntu package of each library the xcb platform plugin and Qt's GUI library load
# (Debian 12 and Ubuntu 22.04 names; the README lists them for a fresh machine).
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
# Libraries that come with PySide6 itself: missing means a damaged installation.
OWN_LIBRARIES = re.compile(r"^lib(Qt6|pyside6|shiboken6)")
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)


def platform_name() -> str:
    """The platform plugin the window will load: QT_QPA_PLATFORM's first choice, else xcb
    (`"wayland;xcb"` -> wayland, `"offscreen:fontengine=freetype"` -> offscreen)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    return chosen or "xcb"


def plugins_dir() -> Path | None:
    """The plugin folder of the installed PySide6, found without loading Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "Qt" / "plugins"


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries `ldd` reports as not found, each once, sorted."""
    return sorted(set(NOT_FOUND.findall(ldd_output)))


def advice(missing: list[str]) -> str:
    """What to install for the missing libraries, for IT to act on."""
    packages = sorted({PACKAGES[lib] for lib in missing if lib in PACKAGES})
    own = [lib for lib in missing if OWN_LIBRARIES.match(lib)]
    unknown = [lib for lib in missing if lib not in PACKAGES and lib not in own]
    parts = []
    if packages:
        parts.append(f"Systempakete installieren: apt-get install {' '.join(packages)}")
    if own:
        parts.append(f"{', '.join(own)} gehören zu PySide6 selbst: clerk-app neu installieren")
    if unknown:
        parts.append(f"das Paket zu {', '.join(unknown)} mit apt-file search suchen")
    return "; ".join(parts)


def check_plugin(plugin: Path) -> Check:
    """Whether the dynamic loader finds every library `plugin` needs."""
    if not plugin.is_file():
        return Check(NAME, False, f"Qt-Plattform-Plugin {plugin} fehlt: clerk-app neu installieren")
    ldd = shutil.which("ldd")
    if ldd is None:
        return Check(NAME, True, f"{plugin.name}: ldd fehlt, Bibliotheken nicht geprüft",
                     warning=True)
    result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30,
                            check=False)
    missing = missing_libraries(result.stdout)
    if missing:
        return Check(NAME, False, f"das Fenster kann nicht starten: {plugin.name} fehlen "
                                  f"{', '.join(missing)}; {advice(missing)}")
    if result.returncode != 0:
        return Check(NAME, False, f"ldd kann {plugin} nicht lesen: {result.stderr.strip()}")
    return Check(NAME, True, f"{plugin.name}: alle Bibliotheken vorhanden")


def checks(cfg: Config) -> list[Check]:
    """The doctor's line (on Linux; Windows and macOS builds carry their platform libraries)."""
    if not sys.platform.startswith("linux"):
        return []
    plugins = plugins_dir()
    if plugins is None:
        return [Check(NAME, False, "PySide6 ist nicht installiert: clerk-app neu installieren")]
    return [check_plugin(plugins / "platforms" / f"libq{platform_name()}.so")]
