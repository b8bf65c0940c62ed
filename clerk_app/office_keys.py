"""Office seal keys with a life cycle: the signed list the centre publishes, and the key a
workstation received to seal with.

One seal key per office, held by the central service (`sync.server.office_keys`), each valid
from a moment and, once rotated, until one; a revoked key makes every document sealed on or
after the day of its revocation invalid (a seal carries its issue day, not the hour, so the
day of the revocation counts against the document). Documents sealed before a rotation stay
valid: the old key stays in the list with its period.

The centre publishes all keys as one JSON document signed with its list key (Ed25519):
`{"format", "list", "signature", "signer"}` where `list` is the JSON text of
`{"issued_at", "keys": [...]}` exactly as signed, so a browser verifies the same bytes
without re-serialising (the verification page does, with WebCrypto). `signer` is informative
only: a verifier trusts the list key it pinned (IT's config, or the one received at
enrolment), never the one a list names.

On a workstation the key to seal with and the last list received live in the register's
settings: the register is encrypted with the register key (SQLCipher, key in the OS keyring),
so the seal key is kept as safely as the register key keeps the register.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clerk_app.seal import (
    SPECIMEN_PREFIX,
    SealError,
    SealKey,
    VerifiedDocument,
    key_id,
    parse_public_key,
)

if TYPE_CHECKING:
    from clerk_app.store.db import Store

__all__ = [
    "LIST_FORMAT",
    "KeyList",
    "OfficeKey",
    "issued_seal_key",
    "key_problem",
    "pinned_list_key",
    "read_list",
    "sign_list",
    "store_issued_key",
    "store_list",
    "stored_list",
]

LIST_FORMAT = "clerk-app/office-key-list/1"
LIST_CONTEXT = b"clerk-app/office-key-list/1\x00"
SEAL_KEY_SETTING = "office_keys/seal_key"
LIST_SETTING = "office_keys/list"
LIST_KEY_SETTING = "office_keys/list_public_key"

_BAD_LIST_DE = ("Die Schlüsselliste des Bürgerbüros ist beschädigt oder nicht von der Zentrale "
                "unterschrieben; sie wird nicht verwendet.")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d.%m.%Y")


@dataclass(frozen=True)
class OfficeKey:
    """One office's public seal key with its validity and, if so, its revocation."""

    key_id: str
    office_id: str
    office_name: str
    public_key: str  # 64 hex digits
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "office_id": self.office_id,
                "office_name": self.office_name, "public_key": self.public_key,
                "valid_from": _iso(self.valid_from), "valid_until": _iso(self.valid_until),
                "revoked_at": _iso(self.revoked_at)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OfficeKey:
        public = parse_public_key(str(data["public_key"]))
        if key_id(public) != data["key_id"]:
            raise ValueError("key id does not match the public key")
        valid_from = _moment(str(data["valid_from"]))
        assert valid_from is not None
        return cls(str(data["key_id"]), str(data["office_id"]), str(data["office_name"]),
                   str(data["public_key"]).lower(), valid_from,
                   _moment(data.get("valid_until")), _moment(data.get("revoked_at")))

    @property
    def public(self) -> Ed25519PublicKey:
        return parse_public_key(self.public_key)

    def problem_on(self, day: date) -> str | None:
        """Why a seal dated `day` by this key is not valid (German), or None if it is."""
        if self.revoked_at is not None and day >= self.revoked_at.astimezone(UTC).date():
            return (f"Der Siegelschlüssel {self.key_id} des Bürgerbüros wurde am "
                    f"{_day(self.revoked_at)} widerrufen: Siegel ab diesem Tag sind ungültig.")
        if day < self.valid_from.astimezone(UTC).date():
            return (f"Das Dokument ist auf einen Tag vor der Gültigkeit des Siegelschlüssels "
                    f"{self.key_id} (ab {_day(self.valid_from)}) datiert.")
        if self.valid_until is not None and day > self.valid_until.astimezone(UTC).date():
            return (f"Der Siegelschlüssel {self.key_id} galt nur bis "
                    f"{_day(self.valid_until)}; das Dokument ist später datiert.")
        return None


@dataclass(frozen=True)
class KeyList:
    """The centre's published keys, as read from a list whose signature held."""

    issued_at: datetime
    keys: tuple[OfficeKey, ...]

    def find(self, kid: str) -> OfficeKey | None:
        return next((k for k in self.keys if k.key_id == kid), None)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {k.key_id: k.public for k in self.keys}


def sign_list(keys: list[OfficeKey], signer: Ed25519PrivateKey,
              issued_at: datetime | None = None) -> str:
    """The published list: JSON text, its signature over exactly that text."""
    inner = json.dumps({"issued_at": _iso(issued_at or datetime.now(UTC)),
                        "keys": [k.to_dict() for k in keys]}, ensure_ascii=False,
                       sort_keys=True, separators=(",", ":"))
    signature = signer.sign(LIST_CONTEXT + inner.encode("utf-8"))
    signer_hex = signer.public_key().public_bytes_raw().hex()
    return json.dumps({"format": LIST_FORMAT, "list": inner, "signer": signer_hex,
                       "signature": base64.b64encode(signature).decode("ascii")},
                      ensure_ascii=False, indent=1)


def read_list(text: str, trusted: Ed25519PublicKey) -> KeyList:
    """The list in `text` if `trusted` signed it; SealError otherwise."""
    try:
        outer = json.loads(text)
        inner_text = str(outer["list"])
        signature = base64.b64decode(str(outer["signature"]), validate=True)
        if outer.get("format") != LIST_FORMAT:
            raise ValueError("unknown list format")
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError(_BAD_LIST_DE, f"office key list is malformed: {exc}") from exc
    try:
        trusted.verify(signature, LIST_CONTEXT + inner_text.encode("utf-8"))
    except InvalidSignature as exc:
        raise SealError(_BAD_LIST_DE, "office key list signature does not verify") from exc
    try:
        inner = json.loads(inner_text)
        issued = _moment(str(inner["issued_at"]))
        keys = tuple(OfficeKey.from_dict(k) for k in inner["keys"])
    except (ValueError, KeyError, TypeError, SealError) as exc:
        raise SealError(_BAD_LIST_DE, f"signed office key list is malformed: {exc}") from exc
    assert issued is not None
    return KeyList(issued, keys)


def key_problem(document: VerifiedDocument, keys: KeyList | None) -> str | None:
    """What the published list says against a seal that verified: a revoked key, a date
    outside the key's validity, or a key of another office. None if nothing (also when the
    key is not in the list: a demo or IT-configured key has no life cycle)."""
    if keys is None:
        return None
    entry = keys.find(document.key_id)
    if entry is None:
        return None
    # A specimen (demo register) names "MUSTER-<office>": still that office's key.
    if entry.office_id != document.facts.office_id.removeprefix(SPECIMEN_PREFIX):
        return (f"Der Siegelschlüssel {entry.key_id} gehört der Dienststelle {entry.office_id}, "
                f"das Siegel nennt {document.facts.office_id}.")
    return entry.problem_on(document.facts.issued_on)


# --- on the workstation ----------------------------------------------------------------------

def _setting(store: Store, name: str) -> str | None:
    row = store.conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
    return str(row[0]) if row is not None and row[0] is not None else None


def _set(store: Store, name: str, value: str) -> None:
    store.conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                       (name, value))


def store_issued_key(store: Store, key: OfficeKey, private_hex: str) -> None:
    """Keep the seal key the centre issued to this workstation's office (replacing an older
    one after a rotation), in the encrypted register."""
    sealer = SealKey.from_hex(private_hex)
    if sealer.key_id != key.key_id:
        raise SealError("Die Zentrale hat einen unstimmigen Siegelschlüssel geschickt.",
                        "issued private key does not match its key id")
    with store.transaction():
        _set(store, SEAL_KEY_SETTING, json.dumps({**key.to_dict(), "private_key": private_hex}))


def issued_seal_key(store: Store) -> tuple[SealKey, OfficeKey] | None:
    """The seal key the centre issued to this workstation, if any."""
    text = _setting(store, SEAL_KEY_SETTING)
    if text is None:
        return None
    data = json.loads(text)
    return SealKey.from_hex(str(data["private_key"])), OfficeKey.from_dict(data)


def store_list(store: Store, text: str, trusted: Ed25519PublicKey | None) -> KeyList:
    """Check and keep the centre's key list. The list key is pinned the first time (at
    enrolment, over TLS with the device token) unless `trusted` is given (IT's config); a
    list signed by another key afterwards is refused (SealError)."""
    pinned = _setting(store, LIST_KEY_SETTING)
    if trusted is None:
        trusted = parse_public_key(pinned) if pinned else parse_public_key(
            str(json.loads(text).get("signer", "")))
    keys = read_list(text, trusted)
    with store.transaction():
        _set(store, LIST_SETTING, text)
        _set(store, LIST_KEY_SETTING, trusted.public_bytes_raw().hex())  # IT's key wins
    return keys


def pinned_list_key(store: Store) -> Ed25519PublicKey | None:
    """The centre's list key as pinned at the first list received, if any."""
    pinned = _setting(store, LIST_KEY_SETTING)
    return parse_public_key(pinned) if pinned else None


def stored_list(store: Store) -> KeyList | None:
    """The last key list received, checked again against the pinned list key."""
    text, pinned = _setting(store, LIST_SETTING), pinned_list_key(store)
    if text is None or pinned is None:
        return None
    return read_list(text, pinned)
