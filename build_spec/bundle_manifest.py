"""The bundle's manifest: a SHA-256 line per file, the Ed25519 signature over it, and the check.

    python build_spec/bundle_manifest.py write DIST/clerk-app     # writes MANIFEST.sha256
    python build_spec/bundle_manifest.py check DIST/clerk-app     # hashes only, no signature

`MANIFEST.sha256` lies in the bundle's top folder and has the format of `sha256sum`
(`<64 hex>  <path>`, paths relative to the bundle, with `/`, sorted), so that
`cd DIST/clerk-app && sha256sum -c MANIFEST.sha256` works too. It lists every file in the bundle
except itself and its signature `MANIFEST.sha256.sig` (128 hex digits: the raw Ed25519
signature over the manifest's bytes). A file that is missing, changed or not listed fails the
check: a DLL dropped beside the program is as much a tampering as a changed one. So does a
folder that holds no listed file (even an empty one), and a symbolic link that leads outside
the bundle or back above itself; the build's own links inside the bundle are followed.

Used by `build.sh`, `sign.py`, `verify.py` and `tests/test_build_spec.py`; needs only the
standard library, plus `cryptography` for the signature.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

MANIFEST_NAME = "MANIFEST.sha256"
SIGNATURE_NAME = MANIFEST_NAME + ".sig"
_SKIP = {MANIFEST_NAME, SIGNATURE_NAME}
_CHUNK = 1 << 20


class ManifestError(Exception):
    """The bundle does not match its manifest, or the signature does not hold."""


@dataclass(frozen=True)
class Entry:
    digest: str
    path: str  # relative, with "/"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Contents:
    """What lies below a bundle: files and folders, relative, "/"-separated, sorted."""
    files: list[str]
    folders: list[str]


def bundle_contents(bundle: Path) -> Contents:
    """Every file and folder below `bundle`, manifest and signature excluded.

    Symbolic links made by the build stay usable: a link to a file counts as that file (its
    target is hashed; one that points nowhere is reported as missing), and a link to a folder
    (macOS frameworks' `Versions/Current`) is walked, so its files are listed under the link's
    name. A link that leads outside the bundle, or back to a folder above it, raises
    ManifestError: an installed copy must not reach into folders the manifest cannot cover.
    """
    root = bundle.resolve()
    files: list[str] = []
    folders: list[str] = []

    def visit(folder: Path, rel: str, above: frozenset[Path]) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            path, name = Path(entry.path), f"{rel}{entry.name}"
            real = path.resolve()
            if entry.is_symlink() and not real.is_relative_to(root):
                raise ManifestError(f"{name} is a symbolic link that leads outside the bundle "
                                    f"(to {os.readlink(path)})")
            if entry.is_dir(follow_symlinks=True):
                if real in above:
                    raise ManifestError(f"{name} is a symbolic link back to a folder above it")
                folders.append(name)
                visit(path, f"{name}/", above | {real})
            elif name not in _SKIP:
                files.append(name)

    visit(bundle, "", frozenset({root}))
    return Contents(sorted(files), sorted(folders))


def bundle_files(bundle: Path) -> list[str]:
    """Every file below `bundle` (see `bundle_contents`)."""
    return bundle_contents(bundle).files


def build_manifest(bundle: Path) -> str:
    """The manifest's text for the bundle as it is now."""
    if not bundle.is_dir():
        raise ManifestError(f"{bundle} is not a folder")
    lines = []
    for rel in bundle_files(bundle):
        if not (bundle / rel).is_file():
            raise ManifestError(f"{rel} is a symbolic link that points nowhere")
        lines.append(f"{sha256_file(bundle / rel)}  {rel}\n")
    return "".join(lines)


def write_manifest(bundle: Path) -> Path:
    text = build_manifest(bundle)
    target = bundle / MANIFEST_NAME
    target.write_text(text, encoding="utf-8", newline="\n")
    (bundle / SIGNATURE_NAME).unlink(missing_ok=True)  # an old signature no longer applies
    return target


def parse_manifest(text: str) -> list[Entry]:
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel:
            raise ManifestError(f"{MANIFEST_NAME} line {number} is malformed")
        if rel.startswith("/") or ".." in rel.split("/"):
            raise ManifestError(f"{MANIFEST_NAME} line {number} names a path outside the bundle")
        entries.append(Entry(digest.lower(), rel))
    return entries


def check_files(bundle: Path, manifest_text: str) -> int:
    """Compare every file with the manifest; raise ManifestError naming the first mismatch.

    Returns the number of files checked."""
    entries = parse_manifest(manifest_text)
    listed = {e.path for e in entries}
    for entry in entries:
        path = bundle / entry.path
        if not path.is_file():
            raise ManifestError(f"missing file: {entry.path}")
        if sha256_file(path) != entry.digest:
            raise ManifestError(f"changed file: {entry.path} (SHA-256 does not match)")
    contents = bundle_contents(bundle)
    for rel in contents.files:
        if rel not in listed:
            raise ManifestError(f"unexpected file (not in the manifest): {rel}")
    # Folders exist only to hold listed files: an extra one, even empty, is a change (a
    # `sitecustomize` package or a plugin folder waiting to be filled).
    needed = {parent.as_posix() for rel in listed for parent in PurePosixPath(rel).parents}
    for rel in contents.folders:
        if rel not in needed:
            raise ManifestError(f"unexpected folder (not in the manifest): {rel}")
    return len(entries)


# --- keys and signature ---------------------------------------------------------------------

def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8, unencrypted or with $CLERK_SIGNING_KEY_PASSWORD)
    or from 64 hex digits (the raw 32-byte seed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        password = os.environ.get("CLERK_SIGNING_KEY_PASSWORD")
        key = serialization.load_pem_private_key(
            text, password=password.encode() if password else None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ManifestError("the signing key is not an Ed25519 key")
        return key
    try:
        raw = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError("the signing key is neither PEM nor 64 hex digits") from exc
    if len(raw) != 32:
        raise ManifestError("the signing key is neither PEM nor 64 hex digits")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(value: str) -> Ed25519PublicKey:
    """A public key from 64 hex digits, or from a file holding them or a PEM public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    candidate = Path(value)
    text = candidate.read_text(encoding="ascii") if candidate.is_file() else value
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ManifestError("the public key is not an Ed25519 key")
        return key
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise ManifestError("the public key is neither PEM nor 64 hex digits") from exc
    if len(raw) != 32:
        raise ManifestError("the public key is neither PEM nor 64 hex digits")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_hex(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign_bundle(bundle: Path, key: Ed25519PrivateKey) -> Path:
    """Sign the bundle's manifest, after checking that the bundle still matches it."""
    manifest = bundle / MANIFEST_NAME
    if not manifest.is_file():
        raise ManifestError(f"{manifest} does not exist: run build.sh (or `write`) first")
    data = manifest.read_bytes()
    check_files(bundle, data.decode("utf-8"))
    target = bundle / SIGNATURE_NAME
    target.write_text(key.sign(data).hex() + "\n", encoding="ascii", newline="\n")
    return target


def verify_bundle(bundle: Path, key: Ed25519PublicKey) -> int:
    """Signature first, then every file; raises ManifestError naming the first problem."""
    from cryptography.exceptions import InvalidSignature

    manifest, signature = bundle / MANIFEST_NAME, bundle / SIGNATURE_NAME
    if not manifest.is_file():
        raise ManifestError(f"missing {MANIFEST_NAME}")
    if not signature.is_file():
        raise ManifestError(f"missing {SIGNATURE_NAME}: the bundle is not signed")
    data = manifest.read_bytes()
    try:
        key.verify(bytes.fromhex(signature.read_text(encoding="ascii").strip()), data)
    except (InvalidSignature, ValueError) as exc:
        raise ManifestError(
            f"{SIGNATURE_NAME} does not match {MANIFEST_NAME} and this public key "
            f"({public_key_hex(key)[:16]}…)") from exc
    return check_files(bundle, data.decode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check a bundle's MANIFEST.sha256.")
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("bundle", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.action == "write":
            path = write_manifest(args.bundle)
            count = len(path.read_text(encoding="utf-8").splitlines())
            print(f"wrote {path} ({count} files)")
        else:
            count = check_files(args.bundle,
                                (args.bundle / MANIFEST_NAME).read_text(encoding="utf-8"))
            print(f"OK: {count} files match {MANIFEST_NAME} (signature not checked)")
    except (ManifestError, OSError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
