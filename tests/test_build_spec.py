"""The release manifest, its signature and the check (build_spec/), on a small fake bundle.

PyInstaller itself is not run here (too slow): `bash build_spec/build.sh` does that.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BUILD_SPEC = Path(__file__).resolve().parent.parent / "build_spec"
sys.path.insert(0, str(BUILD_SPEC))

import bundle_manifest as bm  # noqa: E402
import sign  # noqa: E402
import verify  # noqa: E402


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "clerk-app"
    (root / "_internal" / "resources").mkdir(parents=True)
    (root / "clerk-app").write_bytes(b"\x7fELF fake program")
    (root / "_internal" / "resources" / "fees.toml").write_text("[fees]\n", encoding="utf-8")
    (root / "_internal" / "libQt6Core.so.6").write_bytes(os.urandom(3000))
    bm.write_manifest(root)
    return root


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return sign.generate_key(tmp_path / "keys")


def test_manifest_lists_every_file_in_sha256sum_format(bundle: Path) -> None:
    lines = (bundle / bm.MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "_internal/libQt6Core.so.6", "_internal/resources/fees.toml", "clerk-app"]
    digest = hashlib.sha256((bundle / "clerk-app").read_bytes()).hexdigest()
    assert f"{digest}  clerk-app" in lines


def test_sign_then_verify(bundle: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert sign.main([str(bundle), "--key-file", str(private)]) == 0
    assert bm.verify_bundle(bundle, bm.load_public_key(str(public))) == 3
    assert verify.main([str(bundle), "--public-key", str(public), "--no-run"]) == 0


def test_throwaway_key_is_private(keys: tuple[Path, Path]) -> None:
    private, public = keys
    if os.name == "posix":
        assert private.stat().st_mode & 0o777 == 0o600
    assert len(public.read_text(encoding="ascii").strip()) == 64


@pytest.mark.parametrize("tamper, problem", [
    (lambda b: (b / "_internal/resources/fees.toml").write_text("x", encoding="utf-8"),
     "changed file: _internal/resources/fees.toml"),
    (lambda b: (b / "_internal/libQt6Core.so.6").unlink(),
     "missing file: _internal/libQt6Core.so.6"),
    (lambda b: (b / "_internal/evil.dll").write_bytes(b"MZ"),
     "unexpected file (not in the manifest): _internal/evil.dll"),
])
def test_tampering_is_named(bundle: Path, keys: tuple[Path, Path], tamper, problem: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    private, public = keys
    bm.sign_bundle(bundle, bm.load_private_key(private.read_bytes()))
    tamper(bundle)
    with pytest.raises(bm.ManifestError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        bm.verify_bundle(bundle, bm.load_public_key(str(public)))
    assert verify.main([str(bundle), "--public-key", str(public), "--no-run"]) == 1
    assert problem in capsys.readouterr().err


def test_changed_manifest_or_other_key_fails_the_signature(bundle: Path, keys: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    private, public = keys
    bm.sign_bundle(bundle, bm.load_private_key(private.read_bytes()))
    _, other_public = sign.generate_key(tmp_path / "other")
    with pytest.raises(bm.ManifestError, match="does not match"):
        bm.verify_bundle(bundle, bm.load_public_key(str(other_public)))
    # a re-hashed manifest after changing a file does not carry the signature over
    (bundle / "clerk-app").write_bytes(b"patched")
    text = bm.build_manifest(bundle)
    (bundle / bm.MANIFEST_NAME).write_text(text, encoding="utf-8", newline="\n")
    with pytest.raises(bm.ManifestError, match="does not match"):
        bm.verify_bundle(bundle, bm.load_public_key(str(public)))


def test_unsigned_bundle_fails(bundle: Path, keys: tuple[Path, Path]) -> None:
    with pytest.raises(bm.ManifestError, match="not signed"):
        bm.verify_bundle(bundle, bm.load_public_key(str(keys[1])))


def test_stale_manifest_is_not_signed(bundle: Path, keys: tuple[Path, Path]) -> None:
    (bundle / "clerk-app").write_bytes(b"rebuilt after the manifest")
    with pytest.raises(bm.ManifestError, match="changed file: clerk-app"):
        bm.sign_bundle(bundle, bm.load_private_key(keys[0].read_bytes()))
    assert not (bundle / bm.SIGNATURE_NAME).exists()


def test_key_from_environment_as_hex(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    monkeypatch.delenv(sign.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(sign.KEY_ENV, raw.hex())
    assert sign.main([str(bundle)]) == 0
    assert bm.verify_bundle(bundle, bm.load_public_key(bm.public_key_hex(key.public_key()))) == 3


def test_no_key_is_an_error(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sign.KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(sign.KEY_ENV, raising=False)
    assert sign.main([str(bundle)]) == 1
    assert verify.main([str(bundle)]) == 2 or os.environ.get(verify.PUBLIC_KEY_ENV)


def test_manifest_paths_must_stay_inside(tmp_path: Path) -> None:
    with pytest.raises(bm.ManifestError, match="outside"):
        bm.parse_manifest(f"{'0' * 64}  ../etc/passwd\n")
    with pytest.raises(bm.ManifestError, match="malformed"):
        bm.parse_manifest("nonsense\n")


# --- links and folders: only what the manifest names may be in the bundle ---------------------

def _signed(bundle: Path, keys: tuple[Path, Path]) -> bm.Ed25519PublicKey:
    bm.sign_bundle(bundle, bm.load_private_key(keys[0].read_bytes()))
    return bm.load_public_key(str(keys[1]))


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX rights here")
def test_added_link_to_a_folder_outside_is_refused(bundle: Path, keys: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    public = _signed(bundle, keys)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "evil.so").write_bytes(b"\x7fELF")
    (bundle / "_internal" / "plugins").symlink_to(outside, target_is_directory=True)
    with pytest.raises(bm.ManifestError, match=r"_internal/plugins.*outside the bundle"):
        bm.verify_bundle(bundle, public)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX rights here")
def test_added_link_to_an_empty_folder_outside_is_refused(bundle: Path, keys: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    public = _signed(bundle, keys)
    (tmp_path / "empty").mkdir()
    (bundle / "platforms").symlink_to(tmp_path / "empty", target_is_directory=True)
    with pytest.raises(bm.ManifestError, match=r"platforms.*outside the bundle"):
        bm.verify_bundle(bundle, public)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX rights here")
def test_link_to_a_file_outside_is_refused_even_with_the_same_content(
        bundle: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    public = _signed(bundle, keys)
    copy = tmp_path / "fees.toml"
    copy.write_bytes((bundle / "_internal/resources/fees.toml").read_bytes())
    (bundle / "_internal/resources/fees.toml").unlink()
    (bundle / "_internal/resources/fees.toml").symlink_to(copy)
    with pytest.raises(bm.ManifestError, match=r"fees\.toml.*outside the bundle"):
        bm.verify_bundle(bundle, public)


def test_extra_empty_folder_is_refused(bundle: Path, keys: tuple[Path, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    public = _signed(bundle, keys)
    (bundle / "_internal" / "sitecustomize").mkdir()
    with pytest.raises(bm.ManifestError,
                       match=r"unexpected folder \(not in the manifest\): _internal/sitecustomize"):
        bm.verify_bundle(bundle, public)
    assert verify.main([str(bundle), "--public-key", str(keys[1]), "--no-run"]) == 1
    assert "_internal/sitecustomize" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX rights here")
def test_links_inside_the_bundle_made_by_the_build_still_verify(tmp_path: Path,
                                                                keys: tuple[Path, Path]) -> None:
    """PyInstaller links top-level library names to PySide6/Qt/lib (Linux) and macOS
    frameworks link Versions/Current: such links, listed when the manifest was written, stay
    valid; the same link added afterwards is refused."""
    root = tmp_path / "clerk-app"
    lib = root / "_internal" / "PySide6" / "Qt" / "lib"
    lib.mkdir(parents=True)
    (lib / "libQt6Core.so.6").write_bytes(b"qt core")
    (root / "_internal" / "libQt6Core.so.6").symlink_to("PySide6/Qt/lib/libQt6Core.so.6")
    framework = root / "_internal" / "QtGui.framework"
    (framework / "Versions" / "A").mkdir(parents=True)
    (framework / "Versions" / "A" / "QtGui").write_bytes(b"qt gui")
    (framework / "Versions" / "Current").symlink_to("A", target_is_directory=True)
    bm.write_manifest(root)
    public = _signed(root, keys)
    listed = (root / bm.MANIFEST_NAME).read_text(encoding="utf-8")
    assert "_internal/QtGui.framework/Versions/Current/QtGui" in listed
    assert bm.verify_bundle(root, public) == 4
    (root / "_internal" / "QtCore").symlink_to("PySide6/Qt/lib", target_is_directory=True)
    with pytest.raises(bm.ManifestError, match=r"unexpected file .*_internal/QtCore/"):
        bm.verify_bundle(root, public)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX rights here")
def test_a_link_loop_inside_is_refused_not_followed_forever(bundle: Path,
                                                            keys: tuple[Path, Path]) -> None:
    public = _signed(bundle, keys)
    (bundle / "_internal" / "loop").symlink_to("..", target_is_directory=True)
    with pytest.raises(bm.ManifestError, match="_internal/loop"):
        bm.verify_bundle(bundle, public)


def test_manifest_of_a_bundle_with_a_link_outside_is_not_written(tmp_path: Path) -> None:
    root = tmp_path / "clerk-app"
    root.mkdir()
    (root / "clerk-app").write_bytes(b"program")
    if os.name == "posix":
        (root / "lib").symlink_to(tmp_path, target_is_directory=True)
        with pytest.raises(bm.ManifestError, match="outside the bundle"):
            bm.write_manifest(root)


# --- installers: the Debian package's layout, the scripts' refusals ----------------------------

@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian)")
def test_debian_package_layout(bundle: Path, tmp_path: Path) -> None:
    """The package of a (fake) bundle: /opt/clerk-app with the manifest, a launcher on PATH,
    the desktop entry and icon, the machine file as a conffile, the system libraries as
    dependencies; the version from the bundled dist-info plus the Debian revision."""
    import make_deb

    meta = bundle / "_internal" / "clerk_app-1.2.3.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: clerk-app\nVersion: 1.2.3\n",
                                   encoding="utf-8")
    bm.write_manifest(bundle)
    deb = make_deb.build_package(bundle, tmp_path / "out", revision=4, compression="gzip")
    assert deb.name.startswith("clerk-app_1.2.3-4_")

    def dpkg_deb(option: str, *fields: str) -> str:
        return subprocess.run(["dpkg-deb", option, str(deb), *fields], check=True,
                              capture_output=True, text=True).stdout

    fields = dpkg_deb("--field")
    assert "Version: 1.2.3-4" in fields
    depends = dpkg_deb("--field", "Depends")
    for lib in ("libcups2", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0", "libgl1"):
        assert lib in depends
    listing = dpkg_deb("--contents")
    for path in ("./opt/clerk-app/clerk-app", "./opt/clerk-app/MANIFEST.sha256",
                 "./usr/bin/clerk-app", "./usr/share/applications/clerk-app.desktop",
                 "./usr/share/icons/hicolor/scalable/apps/clerk-app.svg",
                 "./etc/xdg/clerk-app/config.toml"):
        assert path in listing, path
    assert "root/root" in listing and "rwxr-xr-x root/root" in listing
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "--control", str(deb), str(control)], check=True)
    assert (control / "conffiles").read_text(encoding="utf-8") == \
        "/etc/xdg/clerk-app/config.toml\n"
    # the same bundle packaged again gives the same bytes (reproducible)
    again = make_deb.build_package(bundle, tmp_path / "again", revision=4, compression="gzip")
    assert again.read_bytes() == deb.read_bytes()


def test_shipped_machine_config_is_valid_and_sets_nothing(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from clerk_app.config import Config, load_config

    monkeypatch.setenv("CLERK_APP_MACHINE_CONFIG", str(BUILD_SPEC / "linux" / "config.toml"))
    cfg = load_config()
    assert not cfg.warnings
    assert cfg.mode == Config().mode == "demo"


def test_apt_repository_needs_a_key_from_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_APT_")}
    proc = subprocess.run(["bash", str(BUILD_SPEC / "apt_repo.sh"), str(tmp_path / "repo"),
                           str(tmp_path / "x.deb")], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "CLERK_APT_SIGNING_KEY" in proc.stderr
    assert not (tmp_path / "repo").exists()


def test_macos_signing_script_dry_run(tmp_path: Path) -> None:
    """codesign (hardened runtime) before notarisation, stapling after, then the signed pkg;
    nothing runs without the identities set."""
    script = str(BUILD_SPEC / "macos" / "sign_and_notarize.sh")
    env = {**os.environ, "CLERK_CODESIGN_IDENTITY": "Developer ID Application: Test (T1)",
           "CLERK_INSTALLER_IDENTITY": "Developer ID Installer: Test (T1)",
           "CLERK_NOTARY_PROFILE": "clerk-notary"}
    out = subprocess.run(["bash", script, "--dry-run", str(tmp_path), "1.2.3"], check=True,
                         capture_output=True, text=True, env=env).stdout
    steps = [line.split()[1] + " " + line.split()[2] for line in out.splitlines()
             if line.startswith("+ ")]
    assert steps.index("codesign --force") < steps.index("xcrun notarytool") \
        < steps.index("xcrun stapler") < steps.index("pkgbuild --component")
    assert "--options runtime" in out and "clerk-app-1.2.3.pkg" in out
    bare = {k: v for k, v in env.items() if not k.startswith("CLERK_")}
    proc = subprocess.run(["bash", script, "--dry-run", str(tmp_path), "1.2.3"],
                          capture_output=True, text=True, env=bare)
    assert proc.returncode != 0 and "CLERK_CODESIGN_IDENTITY" in proc.stderr
