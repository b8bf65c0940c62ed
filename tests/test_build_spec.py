"""The release manifest, its signature and the check (build_spec/), on a small fake bundle.

PyInstaller itself is not run here (too slow): `bash build_spec/build.sh` does that.
"""

from __future__ import annotations

import hashlib
import os
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
