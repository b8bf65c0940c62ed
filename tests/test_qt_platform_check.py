"""`clerk-app doctor` names a system library the window's Qt platform plugin cannot load, and
the Debian package that brings it, using the real loader (`ldd`) on a real plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clerk_app.command_line import main
from ui import qt_platform_check
from ui.qt_platform_check import advice, check_plugin, missing_libraries, plugins_dir

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("ldd"),
                                reason="the check reads Linux shared libraries with ldd")

# What `ldd libqxcb.so` says on a fresh Debian 12 without the xcb extras (trimmed).
FRESH_MACHINE = """\
\tlinux-vdso.so.1 (0x00007ffd6a7f2000)
\tlibQt6XcbQpa.so.6 => /opt/app/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f1)
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0c5b1f0000)
\tlibxcb-cursor.so.0 => not found
"""


def lone_plugin(tmp_path: Path, rename: tuple[bytes, bytes] | None = None) -> Path:
    """The installed xcb plugin copied into a plugin folder of its own, without the Qt
    libraries beside it (its RUNPATH, $ORIGIN/../../lib, finds nothing there); `rename`
    changes one library name it needs (same length) to one no machine has."""
    source = plugins_dir()
    assert source is not None
    plugin = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    data = (source / "platforms" / "libqxcb.so").read_bytes()
    if rename:
        old, new = rename
        assert len(old) == len(new) and data.count(old + b"\0") == 1
        data = data.replace(old + b"\0", new + b"\0")
    plugin.write_bytes(data)
    return plugin


def test_ldd_output_becomes_the_packages_to_install() -> None:
    missing = missing_libraries(FRESH_MACHINE)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0"]
    assert advice(missing) == ("Systempakete installieren: apt-get install libxcb-cursor0 "
                               "libxcb-icccm4 libxkbcommon-x11-0")


def test_the_installed_plugin_is_checked_with_the_real_loader() -> None:
    source = plugins_dir()
    assert source is not None
    plugin = source / "platforms" / "libqxcb.so"
    found = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                           check=False).stdout
    check = check_plugin(plugin)
    assert check.ok == ("not found" not in found)
    for library in missing_libraries(found):
        assert library in check.detail


def test_a_plugin_without_its_qt_libraries_fails_and_says_reinstall(tmp_path: Path) -> None:
    check = check_plugin(lone_plugin(tmp_path))
    assert not check.ok
    assert "libQt6XcbQpa.so.6" in check.detail and "libQt6Gui.so.6" in check.detail
    assert "gehören zu PySide6 selbst: clerk-app neu installieren" in check.detail


def test_an_unknown_missing_library_is_named(tmp_path: Path) -> None:
    check = check_plugin(lone_plugin(tmp_path, (b"libxcb-cursor.so.0", b"libxcb-kursor.so.0")))
    assert not check.ok
    assert "das Paket zu libxcb-kursor.so.0 mit apt-file search suchen" in check.detail


def test_a_missing_plugin_is_a_failure(tmp_path: Path) -> None:
    check = check_plugin(tmp_path / "libqxcb.so")
    assert not check.ok and "fehlt: clerk-app neu installieren" in check.detail


@pytest.mark.parametrize(("env", "plugin"), [("", "xcb"), ("wayland;xcb", "wayland"),
                                             ("offscreen:fontengine=freetype", "offscreen")])
def test_the_plugin_the_window_will_load_is_checked(
        env: str, plugin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", env)
    assert qt_platform_check.platform_name() == plugin


def test_doctor_shows_the_line_and_fails_on_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    main(["doctor"])
    assert "[OK] Bildschirmanbindung (Qt): libqoffscreen.so: alle Bibliotheken vorhanden" in \
        capsys.readouterr().out
    plugin = lone_plugin(tmp_path)
    monkeypatch.setattr(qt_platform_check, "plugins_dir", lambda: plugin.parent.parent)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FEHLER] Bildschirmanbindung (Qt): das Fenster kann nicht starten: libqxcb.so " \
           "fehlen" in out


def test_the_check_loads_no_qt() -> None:
    code = ("import sys\nfrom clerk_app.config import load_config\n"
            "from ui.qt_platform_check import checks\nchecks(load_config())\n"
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_readme_names_packages_the_check_knows() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("`libxcb-cursor0")
    named = readme[start + 1:readme.index("`", start + 1)].split()
    assert "libxcb-cursor0" in named and "libxkbcommon-x11-0" in named
    assert set(named) <= set(qt_platform_check.PACKAGES.values())
