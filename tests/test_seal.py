"""The office seal: payload round trip, tamper detection, key storage like the register key."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from clerk_app.config import Config
from clerk_app.errors import KeyStoreError
from clerk_app.keys import KEYRING_SERVICE
from clerk_app.office_seal import office_seal, seal_check
from clerk_app.seal import (
    PREFIX,
    SETTINGS_PREFIX,
    SIGNATURE_BYTES,
    SealedFacts,
    SealError,
    SealKey,
    base45_decode,
    base45_encode,
    demo_seal_key_path,
    describe_de,
    key_id,
    load_seal_key,
    parse_public_key,
    public_keys,
    qr_modules,
    register_public_keys,
    seal,
    verify,
)
from clerk_app.store.db import Store
from tests.factories import memory_keyring

FACTS = SealedFacts(
    number="MBT-SCHALTER3-2026-000001", doc_type="meldebestaetigung",
    issued_on=date(2026, 11, 25),
    persons=(("Dr. Wróbel, Łukasz Tomasz", "29.02.1984"),
             ("Nguyễn, Thị Minh Khai", "03.10.1987"),
             ("Ødegård, Ingrid Sofie", "01.12.1959")),
    office_id="08336050")


@pytest.fixture
def key() -> SealKey:
    return SealKey.generate()


def reseal_blob(text: str, change: bytes, to: bytes) -> str:
    """The payload with its message changed but the old signature kept (a forger's try)."""
    blob = base45_decode(text[len(PREFIX):])
    signature, message = blob[:SIGNATURE_BYTES], blob[SIGNATURE_BYTES:]
    assert change in message
    return PREFIX + base45_encode(signature + message.replace(change, to, 1))


# --- base45 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "encoded"), [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"),
                                              (b"base-45", "UJCLQE7W581"), (b"", "")])
def test_base45_matches_rfc_9285(raw: bytes, encoded: str) -> None:
    assert base45_encode(raw) == encoded
    assert base45_decode(encoded) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "ab", "ZZZZ"])
def test_base45_refuses_invalid_text(bad: str) -> None:
    with pytest.raises(ValueError):
        base45_decode(bad)


@given(st.binary(max_size=300))
def test_base45_round_trip(data: bytes) -> None:
    assert base45_decode(base45_encode(data)) == data


# --- sealing and verifying -------------------------------------------------------------------

def test_round_trip_gives_back_exactly_what_was_sealed(key: SealKey) -> None:
    text = seal(FACTS, key)
    assert text.startswith(PREFIX)
    verified = verify(text, key.public)
    assert verified.facts == FACTS
    assert verified.key_id == key.key_id
    assert verified.title == "Amtliche Meldebestätigung"
    assert describe_de(verified) == [
        ("Dokument", "Amtliche Meldebestätigung"),
        ("Dokumentnummer", "MBT-SCHALTER3-2026-000001"),
        ("Ausgestellt am", "25.11.2026"),
        ("Ausstellende Stelle", "08336050"),
        ("Person", "Dr. Wróbel, Łukasz Tomasz, geboren 29.02.1984"),
        ("Person", "Nguyễn, Thị Minh Khai, geboren 03.10.1987"),
        ("Person", "Ødegård, Ingrid Sofie, geboren 01.12.1959"),
        ("Schlüssel-ID", key.key_id),
    ]


def test_the_payload_is_qr_alphanumeric_and_small(key: SealKey) -> None:
    text = seal(FACTS, key)
    code = segno.make_qr(text, error="m")
    assert code.mode == "alphanumeric"
    assert code.version <= 12  # three persons still scan from a 3 cm print
    single = seal(replace(FACTS, persons=FACTS.persons[:1]), key)
    assert segno.make_qr(single, error="m").version <= 9


def test_sealing_is_deterministic(key: SealKey) -> None:
    """A reprint carries the original's seal, byte for byte."""
    assert seal(FACTS, key) == seal(FACTS, key)


@pytest.mark.parametrize("position", [len(PREFIX), len(PREFIX) + 40, len(PREFIX) + 100, -5, -1])
def test_changing_one_character_of_the_payload_fails(key: SealKey, position: int) -> None:
    text = seal(FACTS, key)
    index = position % len(text)
    changed = text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]
    with pytest.raises(SealError):
        verify(changed, key.public)


@pytest.mark.parametrize(("old", "new"), [
    (b"MBT-SCHALTER3-2026-000001", b"MBT-SCHALTER3-2026-000002"),
    ("Wróbel".encode(), b"Wrobel"),
    (b"29.02.1984", b"28.02.1984"),
    (b"20261125", b"20261124"),
    (b"08336050", b"08336051"),
])
def test_changing_a_sealed_value_without_the_key_fails(key: SealKey, old: bytes,
                                                       new: bytes) -> None:
    forged = reseal_blob(seal(FACTS, key), old, new)
    with pytest.raises(SealError) as err:
        verify(forged, key.public)
    assert "ungültig" in err.value.message_de


def test_another_key_is_named_not_taken_for_a_forgery(key: SealKey) -> None:
    other = SealKey.generate()
    with pytest.raises(SealError) as err:
        verify(seal(FACTS, other), key.public)
    assert other.key_id in err.value.message_de and "unbekannten Schlüssel" in \
        err.value.message_de
    # Several keys (after a key change): the payload's key id picks the right one.
    assert verify(seal(FACTS, other), [key.public, other.public]).key_id == other.key_id


@pytest.mark.parametrize("text", ["", "hello", "DS1:", "DS1:@@@", "DS2:" + "A" * 120,
                                  PREFIX + base45_encode(b"\x00" * 80)])
def test_garbage_is_refused_with_a_german_message(key: SealKey, text: str) -> None:
    with pytest.raises(SealError) as err:
        verify(text, key.public)
    assert err.value.message_de


def test_a_line_break_cannot_be_smuggled_into_a_value(key: SealKey) -> None:
    with pytest.raises(SealError):
        seal(replace(FACTS, persons=(("Mustermann\n01.01.1970", "x"),)), key)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(st.characters(blacklist_categories=("Cc", "Cs")),
                                  max_size=40),
                          st.text(alphabet="0123456789.", max_size=10)), max_size=3))
def test_any_printable_names_round_trip(persons: list[tuple[str, str]]) -> None:
    key = SealKey.generate()
    facts = replace(FACTS, persons=tuple(persons))
    assert verify(seal(facts, key), key.public).facts == facts


def test_qr_modules_are_the_payload_with_a_quiet_zone(key: SealKey) -> None:
    text = seal(FACTS, key)
    rows = qr_modules(text)
    code = segno.make_qr(text, error="m", mask=4)
    assert len(rows) == len(code.matrix) + 8 and all(len(r) == len(rows) for r in rows)
    assert [bytes(r[4:-4]) for r in rows[4:-4]] == [bytes(r) for r in code.matrix]
    assert not any(rows[0]) and not any(r[0] for r in rows)


# --- keys ------------------------------------------------------------------------------------

def test_public_key_formats(key: SealKey) -> None:
    import base64

    raw = bytes.fromhex(key.public_hex)
    for text in (key.public_hex, key.public_hex.upper(), base64.b64encode(raw).decode(),
                 " ".join(key.public_hex[i:i + 4] for i in range(0, 64, 4))):
        assert key_id(parse_public_key(text)) == key.key_id
    with pytest.raises(SealError):
        parse_public_key("abc")


def test_the_private_key_never_shows_in_repr(key: SealKey) -> None:
    secret = key.private.private_bytes_raw().hex()
    assert secret not in repr(key) and key.key_id in repr(key)


def test_demo_seal_key_lies_beside_the_demo_register_with_mode_0600(demo_cfg: Config) -> None:
    key = load_seal_key(demo_cfg, create=True)
    path = demo_seal_key_path(demo_cfg)
    assert path.parent == demo_cfg.register_path.parent and path.name == "demo-register.seal.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_seal_key(demo_cfg, create=False).key_id == key.key_id


def test_missing_key_is_not_created_unless_asked(demo_cfg: Config) -> None:
    with pytest.raises(KeyStoreError):
        load_seal_key(demo_cfg, create=False)
    assert not demo_seal_key_path(demo_cfg).exists()


def test_production_seal_key_goes_into_the_keyring_never_a_file(demo_cfg: Config) -> None:
    with memory_keyring() as backend:
        cfg = replace(demo_cfg, mode="production")
        key = load_seal_key(cfg, create=True)
        assert load_seal_key(cfg, create=False).key_id == key.key_id
        assert list(backend.items) == [(KEYRING_SERVICE, f"office-seal:{cfg.office_id}")]
        assert not list(Path(cfg.data_dir).glob("*.key"))


def test_production_seal_key_file_must_be_private(demo_cfg: Config, tmp_path: Path) -> None:
    path = tmp_path / "seal.key"
    cfg = replace(demo_cfg, mode="production", seal_key_file=str(path))
    key = load_seal_key(cfg, create=True)
    path.chmod(0o644)
    with pytest.raises(KeyStoreError) as err:
        load_seal_key(cfg, create=False)
    assert "0600" in err.value.message_de
    path.chmod(0o600)
    assert load_seal_key(cfg, create=False).key_id == key.key_id
    path.write_text("not a key\n", encoding="ascii")
    with pytest.raises(KeyStoreError):
        load_seal_key(cfg, create=False)


def test_office_seal_publishes_the_public_key_in_the_register(demo_cfg: Config,
                                                              store: Store) -> None:
    key = office_seal(demo_cfg, store)
    (row,) = store.query("SELECT key, value FROM settings WHERE key LIKE 'seal_public_key/%'")
    assert row == {"key": SETTINGS_PREFIX + key.key_id, "value": key.public_hex}
    assert list(register_public_keys(store)) == [key.key_id]
    assert office_seal(demo_cfg, store).key_id == key.key_id  # published once
    assert len(store.query("SELECT * FROM settings")) == 1
    assert list(public_keys(demo_cfg, store)) == [key.key_id]


def test_a_key_not_matching_the_configured_public_key_refuses_to_seal(
        demo_cfg: Config, store: Store) -> None:
    other = SealKey.generate()
    cfg = replace(demo_cfg, seal_public_key=other.public_hex)
    with pytest.raises(SealError) as err:
        office_seal(cfg, store)
    assert "passt nicht" in err.value.message_de
    assert store.query("SELECT * FROM settings") == []


def test_doctor_line_shows_the_fingerprint_and_a_mismatch(demo_cfg: Config) -> None:
    first = seal_check(demo_cfg)
    assert first.ok and "mit dem ersten Dokument erzeugt" in first.detail
    key = load_seal_key(demo_cfg, create=True)
    check = seal_check(demo_cfg)
    assert check.ok and key.key_id in check.detail and key.fingerprint in check.detail
    assert seal_check(replace(demo_cfg, seal_public_key=key.public_hex)).ok
    mismatch = seal_check(replace(demo_cfg, seal_public_key=SealKey.generate().public_hex))
    assert not mismatch.ok and "passt NICHT" in mismatch.detail
    assert key.private.private_bytes_raw().hex() not in check.detail
