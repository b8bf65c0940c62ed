"""The office seal: a compact, signed statement of what a document certifies, for its QR code.

A paper certificate can be altered with a pen or a scanner; the QR code carries what was
certified (document number and type, issue date, each person's name and birth date exactly as
printed, the issuing office) signed with the office's Ed25519 key. Anyone with the public key
checks it offline (`clerk-app verify-document`, or an app reading the QR code) and compares the
result with the paper: a changed name, date or number no longer matches the signature.

Format, chosen to keep the QR code small enough to scan from a printed page:

* the message is UTF-8 text, one value a line: version, key id, office id, document number,
  type code, issue date (JJJJMMTT), then name and birth date (as printed) of each person.
  No keys and no quoting: JSON made the QR code one or two versions larger, which costs
  scanning margin and rendering time; a line break cannot occur in a value (names and
  printed fields refuse control characters, and `seal` checks it);
* the signature (64 bytes) covers a fixed context string plus the message bytes, so a
  signature made by the office key for any other purpose can never pass as a document seal;
* signature + message are encoded in base45 (RFC 9285), whose alphabet is exactly the QR
  alphanumeric set: 5.5 bits a character instead of 8 in byte mode, about a third fewer
  modules than base64. The text starts with `PREFIX` ("DS1:"), which names format version 1.

Keys: the private key is 32 random bytes kept like the register key (see `keys`): in the OS
keyring in production (or an IT-configured file of mode 0600), in a file beside the demo
register in demo mode, never in the repository. The public key is published into the
register's `settings` table and can be set by IT as the config key `seal_public_key`; a
workstation whose key does not match the configured public key refuses to seal.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clerk_app.config import Config
from clerk_app.errors import ClerkError, KeyMissingError, KeyStoreError, NoKeyringError

if TYPE_CHECKING:
    from clerk_app.self_test import Check
    from clerk_app.store.db import Store

__all__ = [
    "PREFIX",
    "SPECIMEN_PREFIX",
    "TYPE_CODES",
    "TYPE_TITLES",
    "PublicKeys",
    "SealError",
    "SealKey",
    "SealedFacts",
    "VerifiedDocument",
    "base45_decode",
    "base45_encode",
    "demo_seal_key_path",
    "describe_de",
    "fingerprint",
    "key_id",
    "load_seal_key",
    "local_seal_check",
    "parse_public_key",
    "payload_of",
    "public_keys",
    "publish_public_key",
    "qr_modules",
    "qr_png",
    "register_public_keys",
    "seal",
    "seal_link",
    "specimen_office_id",
    "verify",
]

log = logging.getLogger(__name__)

PREFIX = "DS1:"
VERSION = 1
SIGNATURE_BYTES = 64
KEY_BYTES = 32
KEY_ID_HEX = 8
# Signed together with the message (domain separation, see the module docstring).
SIGNING_CONTEXT = b"clerk-app/document-seal/1\x00"
SETTINGS_PREFIX = "seal_public_key/"
SEPARATOR = "\n"
# A document from the demo register is a specimen: its seal names no real office but
# "MUSTER-<office>", so every verifier (the command line, the verification page, the office
# key list, which knows no such office) shows it, with no change to the seal's format.
SPECIMEN_PREFIX = "MUSTER-"
SPECIMEN_NOTICE_DE = "Dokument aus dem Demo-Register, ohne Rechtswirkung"
HEADER_VALUES = 6  # version, key id, office, number, type code, issue date
# A QR code of version 25 (117 modules) is the most a phone still reads reliably from a 3 cm
# print; a longer payload means a bug (or a household of many persons: they are capped).
MAX_PAYLOAD_CHARS = 1200

# QR mask pattern, fixed: choosing the best of the eight by their penalty scores costs 4x the
# encoding time (pure Python) and matters little here, since the signature makes the data
# look random anyway; every mask is valid QR (ISO/IEC 18004 lets the encoder choose).
QR_MASK = 4

# Document types as one to three letters in the payload (the QR code's size grows with it).
TYPE_CODES = {
    "meldebestaetigung": "MBT",
    "meldebescheinigung_einfach": "MBE",
    "meldebescheinigung_erweitert": "MBX",
    "lebensbescheinigung": "LB",
    "personenstandsurkunde_antrag": "PSA",
    "quittung": "Q",
    "storno": "ST",
    "tagesabschluss": "TA",
}
TYPE_TITLES = {
    "meldebestaetigung": "Amtliche Meldebestätigung",
    "meldebescheinigung_einfach": "Meldebescheinigung",
    "meldebescheinigung_erweitert": "Erweiterte Meldebescheinigung",
    "lebensbescheinigung": "Lebensbescheinigung",
    "personenstandsurkunde_antrag": "Antrag auf Personenstandsurkunde",
    "quittung": "Quittung",
    "storno": "Stornobeleg",
    "tagesabschluss": "Tagesabschluss",
}
_CODE_TYPES = {code: doc_type for doc_type, code in TYPE_CODES.items()}

NO_KEYRING_DE = (
    "Kein Schlüsselspeicher verfügbar: Der Schlüssel des Dienstsiegels kann nicht sicher "
    "abgelegt werden. Abhilfe: (1) einen Secret Service (z. B. GNOME Keyring oder KWallet) "
    "einrichten, oder (2) in der Konfiguration „seal_key_file“ auf eine Schlüsseldatei mit den "
    "Rechten 0600 setzen (Aufgabe der IT)."
)


class SealError(ClerkError):
    """A seal that cannot be made or does not verify; `message_de` says which, for the clerk
    or the person checking a document. No personal data in `message_en`."""


# --- base45 (RFC 9285) -----------------------------------------------------------------------

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUES = {c: i for i, c in enumerate(_B45)}


def base45_encode(data: bytes) -> str:
    """Bytes as base45 text: every two bytes become three characters of the QR alphanumeric
    set (RFC 9285)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (_B45[c], _B45[d], _B45[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (_B45[c], _B45[d])
    return "".join(out)


def base45_decode(text: str) -> bytes:
    """The inverse of `base45_encode`; ValueError for text that is not valid base45."""
    try:
        values = [_B45_VALUES[c] for c in text]
    except KeyError as exc:
        raise ValueError("not a base45 character") from exc
    if len(values) % 3 == 1:
        raise ValueError("base45 text has a dangling character")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            if n > 0xFFFF:
                raise ValueError("base45 triple out of range")
            out += n.to_bytes(2, "big")
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise ValueError("base45 pair out of range")
            out.append(n)
    return bytes(out)


# --- keys ------------------------------------------------------------------------------------

def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes_raw()


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key in groups of four hex digits: what IT compares by eye
    (doctor output, machine config, a phone call with another office)."""
    digest = hashlib.sha256(_raw_public(public)).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def key_id(public: Ed25519PublicKey) -> str:
    """The first 8 hex digits of the fingerprint: in every payload, so a verifier with several
    keys (after a key change) picks the right one and can name a foreign one."""
    return hashlib.sha256(_raw_public(public)).hexdigest()[:KEY_ID_HEX]


@dataclass(frozen=True)
class SealKey:
    """The office's private seal key (never logged, never printed)."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SealKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_hex(cls, text: str) -> SealKey:
        return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text)))

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_hex(self) -> str:
        return _raw_public(self.public).hex()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def __repr__(self) -> str:  # never the private key, not even in a traceback
        return f"SealKey(key_id={self.key_id!r})"


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key as IT writes it: 64 hex digits (what doctor prints) or base64 of the 32
    raw bytes. SealError naming the problem otherwise."""
    import base64
    import binascii

    cleaned = re.sub(r"[\s:]", "", text)
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", cleaned):
        raw = bytes.fromhex(cleaned)
    else:
        try:
            raw = base64.urlsafe_b64decode(cleaned.replace("+", "-").replace("/", "_")
                                           + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise SealError("Der öffentliche Schlüssel des Dienstsiegels hat ein ungültiges Format "
                        "(erwartet: 64 Hexadezimalziffern).",
                        "public seal key is not 32 bytes as hex or base64")
    return Ed25519PublicKey.from_public_bytes(raw)


def demo_seal_key_path(cfg: Config) -> Path:
    """The demo register's seal key, beside it (synthetic data only, like its register key)."""
    return cfg.register_path.with_suffix(".seal.key")


def load_seal_key(cfg: Config, *, create: bool) -> SealKey:
    """The office's private seal key: demo key file, IT's key file, or the OS keyring.

    With `create` a missing key is generated (and logged, without the key). KeyStoreError if
    it is missing without `create`, unreadable, or lies in a file others may read.
    """
    if cfg.is_demo:
        return _file_key(demo_seal_key_path(cfg), create=create)
    if cfg.seal_key_file:
        return _file_key(Path(cfg.seal_key_file), create=create)
    return _keyring_key(f"office-seal:{cfg.office_id}", create=create)


def _keyring_key(account: str, *, create: bool) -> SealKey:
    from clerk_app.keys import keyring_secret  # keyring only where a key is loaded

    text = keyring_secret(
        account,
        unusable=NoKeyringError(NO_KEYRING_DE, "no usable keyring backend and no seal_key_file"),
        what="der Schlüssel des Dienstsiegels",
        missing=KeyMissingError("Im Schlüsselspeicher ist kein Schlüssel für das Dienstsiegel "
                              "hinterlegt.", "no office seal key in the keyring"),
        generate=_new_private_hex if create else None)
    return _parse_private(text, "keyring")


def _new_private_hex() -> str:
    key = SealKey.generate()
    log.info("generated a new office seal key %s", key.key_id)
    return key.private.private_bytes_raw().hex()


def _file_key(path: Path, *, create: bool) -> SealKey:
    from clerk_app.keys import read_secret_file, write_secret_file

    if not path.exists():
        if not create:
            raise KeyMissingError(f"Die Schlüsseldatei des Dienstsiegels {path} fehlt.",
                                f"seal key file {path} is missing")
        text = _new_private_hex()
        write_secret_file(path, text)
        log.info("created seal key file %s", path)
        return _parse_private(text, str(path))
    return _parse_private(read_secret_file(path), str(path))


def _parse_private(text: str, origin: str) -> SealKey:
    cleaned = text.strip()
    if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise KeyStoreError(f"Der Schlüssel des Dienstsiegels ({origin}) ist ungültig.",
                            f"seal key in {origin} is not 64 hex digits")
    return SealKey.from_hex(cleaned)


def publish_public_key(store: Store, key: SealKey) -> None:
    """Write the public key into the register's settings (kept for every key ever used, so
    documents sealed before a key change still verify from the register)."""
    name = SETTINGS_PREFIX + key.key_id
    row = store.conn.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
    if row is not None and row[0] == key.public_hex:
        return
    sql = "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)"
    if store.conn.in_transaction:
        store.conn.execute(sql, (name, key.public_hex))
    else:
        with store.transaction():
            store.conn.execute(sql, (name, key.public_hex))


def register_public_keys(store: Store) -> dict[str, Ed25519PublicKey]:
    """Every public seal key the register knows, by key id."""
    rows = store.conn.execute("SELECT key, value FROM settings WHERE key LIKE ?",
                              (SETTINGS_PREFIX + "%",)).fetchall()
    keys: dict[str, Ed25519PublicKey] = {}
    for _name, value in rows:
        try:
            public = parse_public_key(str(value))
        except SealError:
            log.warning("ignored an invalid public seal key in the register's settings")
            continue
        keys[key_id(public)] = public
    return keys


def public_keys(cfg: Config, store: Store | None = None) -> dict[str, Ed25519PublicKey]:
    """The public keys to check documents with: the configured one, then the register's."""
    keys: dict[str, Ed25519PublicKey] = {}
    if cfg.seal_public_key:
        public = parse_public_key(cfg.seal_public_key)
        keys[key_id(public)] = public
    if store is not None:
        for kid, public in register_public_keys(store).items():
            keys.setdefault(kid, public)
    return keys


# --- sealing and verifying -------------------------------------------------------------------

@dataclass(frozen=True)
class SealedFacts:
    """What a seal states: exactly the values printed on the document."""

    number: str
    doc_type: str
    issued_on: date
    persons: tuple[tuple[str, str], ...]  # (name as printed, birth date as printed)
    office_id: str

    @property
    def is_specimen(self) -> bool:
        """Sealed from the demo register (`specimen_office_id`): no certificate of anyone."""
        return self.office_id.startswith(SPECIMEN_PREFIX)


def specimen_office_id(office_id: str) -> str:
    """The office a demo register's seal names: 'MUSTER-08336050'."""
    return SPECIMEN_PREFIX + office_id


@dataclass(frozen=True)
class VerifiedDocument:
    """The content of a seal whose signature checked out."""

    version: int
    key_id: str
    facts: SealedFacts

    @property
    def title(self) -> str:
        return TYPE_TITLES.get(self.facts.doc_type, self.facts.doc_type)

    def to_dict(self) -> dict[str, Any]:
        f = self.facts
        return {"valid": True, "version": self.version, "key_id": self.key_id,
                "office_id": f.office_id, "number": f.number, "type": f.doc_type,
                "title": self.title, "issued_on": f.issued_on.isoformat(),
                "persons": [{"name": n, "birth_date": b} for n, b in f.persons],
                "specimen": f.is_specimen}


def _message(facts: SealedFacts, kid: str) -> bytes:
    values = [str(VERSION), kid, facts.office_id, facts.number,
              TYPE_CODES.get(facts.doc_type, facts.doc_type),
              facts.issued_on.strftime("%Y%m%d")]
    for name, born in facts.persons:
        values += [name, born]
    if any(SEPARATOR in v for v in values):
        raise SealError("Eine Angabe des Dokuments enthält einen Zeilenumbruch und kann nicht "
                        "gesiegelt werden.", "seal value contains a line break")
    return SEPARATOR.join(values).encode("utf-8")


def seal(facts: SealedFacts, key: SealKey) -> str:
    """The QR payload text for `facts`, signed with `key`.

    Ed25519 is deterministic: the same facts and key give the same text, so a reprint carries
    the very seal of the original.
    """
    message = _message(facts, key.key_id)
    signature = key.private.sign(SIGNING_CONTEXT + message)
    text = PREFIX + base45_encode(signature + message)
    if len(text) > MAX_PAYLOAD_CHARS:
        raise SealError("Der Inhalt des Siegels ist zu lang für einen QR-Code.",
                        f"seal payload has {len(text)} characters (max {MAX_PAYLOAD_CHARS})")
    return text


_BROKEN_DE = ("Der Prüfcode ist beschädigt oder kein Siegel eines Bürgerbüros: die Angaben "
              "können nicht bestätigt werden.")
_FORGED_DE = ("Das Siegel ist ungültig: die Angaben wurden verändert oder das Siegel stammt "
              "nicht vom angegebenen Bürgerbüro. Das Dokument darf nicht als echt gelten.")


# One key, keys by key id, or any collection of keys: what `verify` checks a seal against.
PublicKeys = Ed25519PublicKey | Mapping[str, Ed25519PublicKey] | Iterable[Ed25519PublicKey]


def verify(payload_text: str, public_key: PublicKeys) -> VerifiedDocument:
    """Check a seal's signature and return what it certifies; SealError if it does not hold.

    `public_key` is one key or several (a mapping by key id, or any iterable): the payload's
    key id picks the key, so a document sealed with an unknown key is named as such rather
    than reported as forged.
    """
    text = payload_text.strip()
    if not text.startswith(PREFIX):
        raise SealError(_BROKEN_DE, "payload does not start with the seal prefix")
    try:
        blob = base45_decode(text[len(PREFIX):])
    except ValueError as exc:
        raise SealError(_BROKEN_DE, f"payload is not base45: {exc}") from exc
    signature, message = blob[:SIGNATURE_BYTES], blob[SIGNATURE_BYTES:]
    values = _parse_message(message)
    candidates = _candidates(public_key)
    kid = values[1]
    public = candidates.get(kid)
    if public is None:
        known = ", ".join(sorted(candidates)) or "keiner"
        raise SealError(
            f"Das Siegel wurde mit einem unbekannten Schlüssel (Schlüssel-ID {kid}) erstellt; "
            f"bekannt: {known}. Es kann mit diesem öffentlichen Schlüssel nicht bestätigt "
            "werden.", f"seal key id {kid} is not among the known keys ({known})")
    try:
        public.verify(signature, SIGNING_CONTEXT + message)
    except InvalidSignature as exc:
        raise SealError(_FORGED_DE, "seal signature does not verify") from exc
    return VerifiedDocument(VERSION, kid, _facts(values))


def _candidates(public_key: PublicKeys) -> dict[str, Ed25519PublicKey]:
    if isinstance(public_key, Ed25519PublicKey):
        return {key_id(public_key): public_key}
    if isinstance(public_key, Mapping):
        return {key_id(k): k for k in public_key.values()}
    return {key_id(k): k for k in public_key}


def _parse_message(message: bytes) -> list[str]:
    """The unverified message, checked for shape only (the signature is checked next)."""
    try:
        values = message.decode("utf-8").split(SEPARATOR)
    except UnicodeDecodeError as exc:
        raise SealError(_BROKEN_DE, "seal message is not UTF-8") from exc
    if values[0] != str(VERSION):
        raise SealError(_BROKEN_DE, "unsupported seal version")
    if len(values) < HEADER_VALUES or (len(values) - HEADER_VALUES) % 2:
        raise SealError(_BROKEN_DE, "seal message has a wrong number of values")
    return values


def _facts(values: list[str]) -> SealedFacts:
    _version, _kid, office, number, code, issued = values[:HEADER_VALUES]
    try:
        day = datetime.strptime(issued, "%Y%m%d").date()
    except ValueError as exc:
        # Signed, yet malformed: only a bug of the sealing side can make this.
        raise SealError(_BROKEN_DE, "signed seal message has a malformed date") from exc
    rest = values[HEADER_VALUES:]
    persons = tuple((rest[i], rest[i + 1]) for i in range(0, len(rest), 2))
    return SealedFacts(number=number, doc_type=_CODE_TYPES.get(code, code), issued_on=day,
                       persons=persons, office_id=office)


def describe_de(doc: VerifiedDocument) -> list[tuple[str, str]]:
    """What was certified, as German label/value lines (CLI, a later verification dialog)."""
    f = doc.facts
    lines = [("MUSTER", SPECIMEN_NOTICE_DE)] if f.is_specimen else []
    lines += [("Dokument", doc.title), ("Dokumentnummer", f.number),
             ("Ausgestellt am", f.issued_on.strftime("%d.%m.%Y")),
             ("Ausstellende Stelle", f.office_id)]
    for name, born in f.persons:
        lines.append(("Person", f"{name}, geboren {born}" if born else name))
    lines.append(("Schlüssel-ID", doc.key_id))
    return lines


# --- the link in the QR code -----------------------------------------------------------------

# The two characters of the base45 alphabet a URL fragment cannot carry as they are: a browser
# writes a space as %20 and leaves a % alone, so both are percent-encoded in the link.
_FRAGMENT_ESCAPES = str.maketrans({"%": "%25", " ": "%20"})


def seal_link(payload_text: str, base_url: str) -> str:
    """The QR code's text: the verification page at `base_url` with the seal in the URL
    fragment (after `#`, which a browser never sends to a server, so checking a document
    tells the city's web server nothing about it). Without a base URL, the bare seal.

    The fragment stays in the QR alphanumeric set (upper case, `%20`/`%25` for space and
    percent), so it is encoded at 5.5 bits a character; only the base URL costs 8.
    """
    if not base_url:
        return payload_text
    return f"{base_url.split('#', 1)[0]}#{payload_text.translate(_FRAGMENT_ESCAPES)}"


def payload_of(code_text: str) -> str:
    """The seal in a scanned QR code's text: the fragment of a verification link
    (percent-decoded), or the text itself when the code holds the bare seal."""
    from urllib.parse import unquote

    text = code_text.strip()
    if text.startswith(PREFIX):
        return text
    _base, hash_mark, fragment = text.partition("#")
    return unquote(fragment) if hash_mark else text


# --- QR code ---------------------------------------------------------------------------------

QR_BORDER = 4  # the standard quiet zone, in modules


def _qr_code(code_text: str) -> Any:
    """The QR code of a bare seal or of a link: a link in two segments, the URL up to `#`
    in byte mode and the fragment in alphanumeric mode (one segment in byte mode would make
    the code a third larger)."""
    import segno
    from segno import consts

    base, hash_mark, fragment = code_text.partition("#")
    if not hash_mark:
        return segno.make_qr(code_text, error="m", mask=QR_MASK)
    segments: Any = [(base + hash_mark, consts.MODE_BYTE), (fragment, consts.MODE_ALPHANUMERIC)]
    return segno.make_qr(segments, error="m", mask=QR_MASK)


def qr_png(code_text: str, *, scale: int = 4) -> bytes:
    """A seal or link (`seal_link`) as a QR code PNG: black on opaque white (PDF/A-1 forbids
    transparency), error correction M, the standard quiet zone of four modules."""
    import io

    out = io.BytesIO()
    _qr_code(code_text).save(out, kind="png", scale=scale, border=QR_BORDER,
                                dark="#000000", light="#ffffff")
    return out.getvalue()


def qr_modules(code_text: str) -> tuple[bytes, ...]:
    """A seal or link (`seal_link`) as a QR code, one row of modules (1 = dark) per bytes
    object, quiet zone included: what a renderer paints without the detour through PNG (see
    `qr_png`)."""
    matrix = _qr_code(code_text).matrix
    blank = bytes(len(matrix[0]) + 2 * QR_BORDER)
    side = bytes(QR_BORDER)
    rows = [side + bytes(row) + side for row in matrix]
    return (blank,) * QR_BORDER + tuple(rows) + (blank,) * QR_BORDER


# --- doctor ----------------------------------------------------------------------------------

def local_seal_check(cfg: Config) -> Check:
    """The doctor line for this workstation's own seal key: key id and fingerprint, and
    whether it matches the configured public key. Never creates a key, and says "created with
    the first document" only where one can be created (a locked or missing keyring cannot
    take it)."""
    from clerk_app.self_test import Check

    configured = None
    if cfg.seal_public_key:
        try:
            configured = parse_public_key(cfg.seal_public_key)
        except SealError as exc:
            return Check("document seal", False, exc.message_de + " (seal_public_key)")
    try:
        key = load_seal_key(cfg, create=False)
    except KeyMissingError as exc:
        if configured is not None:
            return Check("document seal", False,
                         f"öffentlicher Schlüssel {key_id(configured)} ist konfiguriert, aber "
                         f"dieser Arbeitsplatz hat keinen privaten Siegelschlüssel "
                         f"({exc.message_de}): Er kann Dokumente prüfen, aber nicht siegeln; "
                         "die IT muss den Schlüssel des Bürgerbüros einspielen")
        return Check("document seal", True,
                     f"noch kein Siegelschlüssel ({exc.message_de}); er wird mit dem ersten "
                     "Dokument erzeugt")
    except KeyStoreError as exc:
        return Check("document seal", False,
                     f"{exc.message_de} Ohne Siegelschlüssel kann kein Dokument gesiegelt "
                     "werden.")
    detail = (f"Schlüssel-ID {key.key_id}, öffentlicher Schlüssel {key.public_hex}, "
              f"SHA-256 {key.fingerprint}")
    if configured is not None and key_id(configured) != key.key_id:
        return Check("document seal", False,
                     f"{detail}; passt NICHT zum konfigurierten seal_public_key "
                     f"{key_id(configured)}: Dokumente werden nicht gesiegelt")
    where = "Demo-Schlüsseldatei" if cfg.is_demo else (
        "Schlüsseldatei" if cfg.seal_key_file else "Schlüsselspeicher")
    suffix = "; passt zu seal_public_key" if configured is not None else \
        "; als seal_public_key in die Maschinenkonfiguration eintragen (Prüfung ohne Netz)"
    return Check("document seal", True, f"{detail} ({where}){suffix}")
