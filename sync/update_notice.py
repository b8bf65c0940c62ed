"""Signed update notices: the central service says which release is current, the release key
vouches for it, the workstation only tells (doctor, status bar) and never installs anything.

As Electrum signs its version notices, the notice is signed offline by the release engineer
with the release key (the Ed25519 key that signs the bundle's manifest,
`build_spec/update_notice.py`); the central service only publishes the file
(`clerk-app central serve --update-notice FILE`, at `/update-notice.json`, outside the
versioned API so that a workstation too old for the protocol still learns that it is). A
notice without a valid signature by the key in `update_public_key` (machine configuration) is
ignored and logged: whoever controls the network or the central service cannot make clerks
call IT for a release that does not exist, nor point them at a download of their own.

The document: `{"notice": {"version", "manifest_sha256", "url", "published"}, "signature":
"<128 hex>"}`, the signature over the notice's canonical JSON (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from clerk_app import __version__
from sync.protocol import UPDATE_NOTICE_MAX_BYTES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from clerk_app.config import Config
    from clerk_app.store.db import Store
    from sync.client import CentralClient

log = logging.getLogger(__name__)

SETTING = "update.notice"   # the last verified notice, for the status bar and the doctor
_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"\d+(\.\d+){0,3}")


class UpdateNoticeError(Exception):
    """The notice is unsigned, wrongly signed or malformed: it must be ignored."""


@dataclass(frozen=True)
class UpdateNotice:
    version: str          # the release, e.g. "0.2.0"
    manifest_sha256: str  # SHA-256 of the release bundle's MANIFEST.sha256
    url: str              # where IT gets the installers (HTTPS)
    published: str        # ISO date

    def due(self, current: str = __version__) -> bool:
        """Is this release newer than the running one?"""
        return _version_key(self.version) > _version_key(current)

    def text_de(self) -> str:
        return (f"Update auf Version {self.version} verfügbar (installiert: {__version__}); "
                "die IT installiert es.")


def _version_key(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def canonical(notice: UpdateNotice) -> bytes:
    return json.dumps(asdict(notice), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign_notice(notice: UpdateNotice, key: Ed25519PrivateKey) -> str:
    """The published document (JSON text) for `notice`, signed with the release key."""
    document = {"notice": asdict(notice), "signature": key.sign(canonical(notice)).hex()}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _notice(fields: Any) -> UpdateNotice:
    if not isinstance(fields, dict) or set(fields) != {"version", "manifest_sha256", "url",
                                                      "published"}:
        raise UpdateNoticeError("the notice must have exactly version, manifest_sha256, url, "
                                "published")
    if not all(isinstance(v, str) for v in fields.values()):
        raise UpdateNoticeError("every field of the notice must be a string")
    notice = UpdateNotice(**fields)
    if not _VERSION.fullmatch(notice.version):
        raise UpdateNoticeError(f"version {notice.version[:40]!r} is not like 1.2.3")
    if not _HEX64.fullmatch(notice.manifest_sha256):
        raise UpdateNoticeError("manifest_sha256 is not 64 lower-case hex digits")
    if not notice.url.startswith("https://") or len(notice.url) > 500:
        raise UpdateNoticeError("url must be an https:// address")
    return notice


def verify_notice(raw: bytes, public_key_hex: str) -> UpdateNotice:
    """The notice in `raw` if the key signed exactly it; UpdateNoticeError otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not public_key_hex:
        raise UpdateNoticeError("no update_public_key configured: notices cannot be checked")
    if len(raw) > UPDATE_NOTICE_MAX_BYTES:
        raise UpdateNoticeError(f"the notice is larger than {UPDATE_NOTICE_MAX_BYTES} bytes")
    try:
        document = json.loads(raw)
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    except ValueError as exc:  # JSON or hex
        raise UpdateNoticeError(f"unreadable notice or key: {type(exc).__name__}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("signature"), str):
        raise UpdateNoticeError("the notice is not signed")
    notice = _notice(document.get("notice"))
    try:
        key.verify(bytes.fromhex(document["signature"]), canonical(notice))
    except (InvalidSignature, ValueError) as exc:
        raise UpdateNoticeError("the signature does not match the notice and the release "
                                "key") from exc
    return notice


def record(store: Store, raw: bytes | None, public_key_hex: str) -> UpdateNotice | None:
    """Check what the central service published and keep the verified notice (or none) in the
    register's settings; a bad notice is logged and leaves the last good one in place."""
    if raw is None:
        _keep(store, None)
        return None
    try:
        notice = verify_notice(raw, public_key_hex)
    except UpdateNoticeError as exc:
        log.warning("update notice ignored: %s", exc)
        return None
    _keep(store, json.dumps(asdict(notice)))
    if notice.due():
        log.info("update due: release %s published %s (running %s)", notice.version,
                 notice.published, __version__)
    return notice


def _keep(store: Store, text: str | None) -> None:
    """Write only a change: the check runs at every sync, and a write takes the register's
    write lock that the counter's services need."""
    from sync.state import get_setting, set_setting

    if get_setting(store, SETTING) != text:
        with store.transaction():
            set_setting(store, SETTING, text)


def stored(store: Store) -> UpdateNotice | None:
    """The last verified notice (read cheaply: the status bar at start, the doctor)."""
    from sync.state import get_setting

    text = get_setting(store, SETTING)
    return UpdateNotice(**json.loads(text)) if text else None


def check_at_sync(cfg: Config, store: Store, client: CentralClient) -> UpdateNotice | None:
    """After a sync: fetch, verify and keep the notice; the due update, if any. Never fails
    the sync: an unreachable notice is checked again at the next one."""
    from clerk_app.errors import ClerkError

    try:
        raw = client.update_notice()
    except ClerkError as exc:
        log.info("update notice not checked: %s", exc.message_en)
        return None
    notice = record(store, raw, cfg.update_public_key)
    return notice if notice is not None and notice.due() else None
