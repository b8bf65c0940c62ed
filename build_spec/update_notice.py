"""Write the signed update notice for a release, for the central service to publish.

    python build_spec/update_notice.py DIST/clerk-app --url https://updates.stadt.example/0.2.0/ \
        --key-file /secure/clerk-release.key -o notice.json
    clerk-app central serve ... --update-notice notice.json     # on the central server

Version and manifest hash come from the signed bundle itself (its dist-info and
MANIFEST.sha256, which must be signed already), the signature from the release key (the
Ed25519 key of sign.py: --key-file, $CLERK_SIGNING_KEY_FILE or $CLERK_SIGNING_KEY). Run it on
the release machine; the central service never holds the key. Workstations verify the notice
with `update_public_key` (the key's public half) and only tell IT and the clerk.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # sync.update_notice

from bundle_manifest import (
    MANIFEST_NAME,
    ManifestError,
    load_private_key,
    public_key_hex,
    sha256_file,
)
from make_deb import PackageError, app_version
from sign import KEY_ENV, KEY_FILE_ENV

from sync.update_notice import UpdateNotice, UpdateNoticeError, sign_notice, verify_notice


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a signed clerk-app update notice.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--url", required=True, help="where IT gets this release (https://)")
    parser.add_argument("--key-file", type=Path, default=os.environ.get(KEY_FILE_ENV))
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.key_file:
            key = load_private_key(Path(args.key_file).read_bytes())
        elif os.environ.get(KEY_ENV):
            key = load_private_key(os.environ[KEY_ENV].encode())
        else:
            raise ManifestError(f"no release key: --key-file, ${KEY_FILE_ENV} or ${KEY_ENV}")
        if not (args.bundle / f"{MANIFEST_NAME}.sig").is_file():
            raise ManifestError(f"{args.bundle} is not signed: run sign.py first")
        notice = UpdateNotice(version=app_version(args.bundle),
                              manifest_sha256=sha256_file(args.bundle / MANIFEST_NAME),
                              url=args.url, published=datetime.date.today().isoformat())
        text = sign_notice(notice, key)
        verify_notice(text.encode(), public_key_hex(key.public_key()))  # refuses a bad url
    except (ManifestError, PackageError, UpdateNoticeError, OSError, ValueError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: release {notice.version}, manifest {notice.manifest_sha256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
