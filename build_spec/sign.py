"""Sign a built bundle's MANIFEST.sha256 with the release engineer's Ed25519 key.

    python build_spec/sign.py build_spec/_build/dist/clerk-app --key-file /secure/release.key
    CLERK_SIGNING_KEY_FILE=/secure/release.key python build_spec/sign.py DIST/clerk-app

The private key never lies in the repository. It is read from (first found):
`--key-file PATH`, `$CLERK_SIGNING_KEY_FILE` (a path), `$CLERK_SIGNING_KEY` (the key itself, e.g.
a CI secret). Format: PEM PKCS#8 (encrypted ones take `$CLERK_SIGNING_KEY_PASSWORD`) or 64 hex
digits. The bundle is checked against its manifest before signing, so a stale manifest is
never signed. Writes `MANIFEST.sha256.sig` beside the manifest and prints the public key that
`verify.py --public-key` needs.

For a local trial run, a throwaway key pair:

    python build_spec/sign.py --generate-key /tmp/throwaway     # signing.key (0600), signing.pub

This signature covers the bundle as a whole (every file, for `verify.py` and IT's own checks).
Windows Authenticode (signtool / osslsigncode) and macOS codesign/notarisation sign the
executables and the installer for the operating system; they run before `build.sh` writes the
manifest (see docs/deployment.md), so that this manifest lists the signed files.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundle_manifest import (
    ManifestError,
    load_private_key,
    public_key_hex,
    sign_bundle,
)

KEY_FILE_ENV = "CLERK_SIGNING_KEY_FILE"
KEY_ENV = "CLERK_SIGNING_KEY"


def generate_key(folder: Path) -> tuple[Path, Path]:
    """A new key pair in `folder`: signing.key (PEM, mode 0600) and signing.pub (hex)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private, public = folder / "signing.key", folder / "signing.pub"
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_text(public_key_hex(key.public_key()) + "\n", encoding="ascii")
    return private, public


def _key_bytes(key_file: str | None) -> bytes:
    path = key_file or os.environ.get(KEY_FILE_ENV)
    if path:
        file = Path(path)
        if os.name == "posix" and file.stat().st_mode & 0o077:
            print(f"warning: {file} can be read by others (chmod 600 it)", file=sys.stderr)
        return file.read_bytes()
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("ascii")
    raise ManifestError(f"no signing key: give --key-file, or set ${KEY_FILE_ENV} or ${KEY_ENV}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign a bundle's MANIFEST.sha256 (Ed25519).")
    parser.add_argument("bundle", type=Path, nargs="?", help="the bundle folder (dist/clerk-app)")
    parser.add_argument("--key-file", help=f"private key file (else ${KEY_FILE_ENV} / ${KEY_ENV})")
    parser.add_argument("--generate-key", type=Path, metavar="FOLDER",
                        help="make a throwaway key pair in FOLDER (local test runs only)")
    args = parser.parse_args(argv)
    try:
        if args.generate_key:
            private, public = generate_key(args.generate_key)
            print(f"private key {private} (0600), public key {public}: "
                  f"{public.read_text(encoding='ascii').strip()}")
            if not args.bundle:
                return 0
            args.key_file = args.key_file or str(private)
        if not args.bundle:
            parser.error("the bundle folder is required")
        key = load_private_key(_key_bytes(args.key_file))
        target = sign_bundle(args.bundle, key)
    except (ManifestError, OSError, ValueError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"signed: {target}")
    print(f"public key (give to verify.py --public-key): {public_key_hex(key.public_key())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
