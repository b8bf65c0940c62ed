"""Malformed forms against every registered service, on a real encrypted register.

The rule under test: bad input gets a clear German message (a `ClerkError`), never a crash,
and a refused service writes nothing (no outbox row, no counter step, no document, no journal
entry, no person, dwelling, registration, request or audit entry).

Each service starts from a form that succeeds (checked by `test_base_form_succeeds`), and
hypothesis then replaces, removes or adds fields anywhere in it with JSON-like junk: None,
bools, huge and negative numbers, floats, empty, blank, very long, invisible and right-to-left
text, lists and nested dicts. Every example runs on its own copy of one prepared register, so
an accepted form never changes what the next example sees.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clerk_app.errors import ClerkError, FormError
from clerk_app.form_reading import Section
from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.services.runner import SERVICES, run_service
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.streets import find_streets
from tests.factories import COUNTER_ROLES, add_person, load_streets

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
ACTOR = Actor("mmuster", "Schalter 3", COUNTER_ROLES)

# What a refused service must leave as it was.
TABLES = ("outbox", "counters", "documents", "cash_journal", "closings", "registrations",
          "persons", "residences", "households", "id_documents", "former_names", "audit_log",
          "requests", "day_reopenings", "relations")


# --- the prepared register ---------------------------------------------------------------------

@dataclass(frozen=True)
class Register:
    """A prepared register file (copied for each example) and what its forms refer to."""

    path: Path
    key: str
    adult: str          # Anna Müller, Hauptstraße 12, no block
    blocked: str        # with an Auskunftssperre
    minor: str          # born 2015: too young for a civil-status certificate
    street_id: int      # Hauptstraße, Stadtmitte
    other_street_id: int
    receipt: str        # a paid receipt of today, to reverse
    couple: tuple[str, str]   # Weber, Hans and Grete: one household, Turmstraße 5


def _street(store: Store, name: str) -> int:
    found = [s for s in find_streets(store, name) if s.name == name and s.district == "Stadtmitte"]
    assert found and found[0].id is not None
    return found[0].id


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    key = new_key()
    with open_store(path, key, ACTOR, create=True) as store:
        load_streets(store)
        adult = add_person(store, "Müller", "Anna")
        blocked = add_person(store, "Schmidt", "Berta", "1970-02-03", block=True)
        minor = add_person(store, "Klein", "Carla", "2015-05-05", number="3")
        couple = (add_person(store, "Weber", "Hans", street="Turmstraße", number="5"),
                  add_person(store, "Weber", "Grete", street="Turmstraße", number="5"))
        with store.transaction() as db:
            db.execute("INSERT INTO households (id, created_at) VALUES ('weber', 'x')")
            db.execute("UPDATE persons SET household_id = 'weber' WHERE id IN (?, ?)", couple)
        result = _run(store, "meldebescheinigung", {
            "person_id": adult, "variant": "einfach",
            "payment": {"method": "bar", "given_cents": 1000}})
        assert result.receipt is not None
        # Yesterday closed: a day Teamleitung may reopen.
        _run(store, "tagesabschluss", {"counted_cash_cents": 0, "business_day": _day(1)})
        return Register(path, key, adult, blocked, minor, _street(store, "Hauptstraße"),
                        _street(store, "Am Alten Markt"), result.receipt.number, couple)


_copies = itertools.count()


@contextmanager
def fresh_store(reg: Register) -> Iterator[Store]:
    """A copy of the prepared register, for one example."""
    path = reg.path.with_name(f"copy{next(_copies)}.db")
    shutil.copyfile(reg.path, path)
    try:
        with open_store(path, reg.key, ACTOR) as store:
            yield store
    finally:
        path.unlink(missing_ok=True)


def _run(store: Store, service: str, form: dict[str, Any]) -> Any:
    return run_service(store, service, form, uuid7(), now=lambda: NOW, today=TODAY)


def snapshot(store: Store) -> dict[str, object]:
    """Row counts of the tables a service writes, and the counters' values."""
    counts: dict[str, object] = {
        t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    counts["counters/values"] = store.conn.execute(
        "SELECT group_concat(series || '=' || value, ';') FROM "
        "(SELECT series, value FROM counters ORDER BY series)").fetchone()[0]
    return counts


# --- the forms that succeed, and where they can be spoilt --------------------------------------

def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _landlord() -> dict[str, Any]:
    return {"presented": True, "self_declaration": False,
            "landlord_name": "Wohnbau Lörrach GmbH",
            "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}


def base_form(reg: Register, service: str) -> dict[str, Any]:
    """A form of `service` that is accepted on the prepared register."""
    forms: dict[str, dict[str, Any]] = {
        "meldebescheinigung": {
            "person_id": reg.adult, "variant": "erweitert", "purpose": "Rentenantrag",
            "sections": ["namen", "geburt"],
            "payment": {"method": "bar", "given_cents": 2000}},
        "meldebescheinigung_haushalt": {
            "person_id": reg.couple[0], "members": [reg.couple[1]], "variant": "einfach",
            "payment": {"method": "bar", "given_cents": 2000}},
        "lebensbescheinigung": {
            "person_id": reg.adult, "institution": "Deutsche Rentenversicherung",
            "reference": "12 345678 A 901", "id_document_checked": True},
        "personenstandsurkunde_antrag": {
            "person_id": reg.adult, "certificate": "geburt",
            "subject": {"names": "Anna Müller", "date": "12.08.1964", "place": "Lörrach",
                        "registry_number": "G 123/1964"},
            "entitlement": {"basis": "selbst"}, "copies": 2, "delivery": "post",
            "id_document_checked": True,
            "payment": {"method": "karte", "terminal_receipt": "T-4711"}},
        "anmeldung": {
            "persons": [{
                "family_name": "Yılmaz", "first_names": "Deniz Ece", "everyday_name": "Ece",
                "birth_date": "1991-04-02", "birth_place": "İzmir", "birth_country": "TUR",
                "sex": "w", "nationalities": ["TUR", "DEU"], "religion": "--",
                "marital_status": "LD", "doctorate": "Dr.",
                "id_document": {"doc_type": "RP", "number": "C01X00T47",
                                "authority": "Stadt Köln", "issued_on": "2020-01-02",
                                "valid_until": "2030-01-01"}}],
            "address": {"street_id": reg.other_street_id, "house_number": "5"},
            "kind": "alleinig", "move_in": _day(3),
            "previous_address": {"address": "Musterweg 1, 10115 Berlin", "country": "DEU"},
            "landlord": _landlord()},
        "ummeldung": {
            "persons": [{"person_id": reg.adult}],
            "address": {"street_id": reg.other_street_id, "house_number": "7"},
            "kind": "haupt", "move_in": _day(2), "landlord": _landlord()},
        "abmeldung": {
            "persons": [{"person_id": reg.adult}], "reason": "ausland", "move_out": _day(1),
            "country": "CHE", "foreign_address": "Bahnhofstrasse 1, 8001 Zürich"},
        "wechselgeld": {"float_cents": 15_000},
        "storno": {"receipt_number": reg.receipt, "reason": "Doppelt kassiert"},
        "tagesabschluss": {"counted_cash_cents": 700, "business_day": TODAY.isoformat()},
        "tagesabschluss_aufheben": {"reason": "Kartenzahlung nachbuchen",
                                    "business_day": _day(1)},
    }
    return forms[service]


PAYMENT = ("payment", "payment.method", "payment.given_cents", "payment.exemption",
           "payment.terminal_receipt", "payment.float_cents")
ACK = ("block_acknowledged",)
PERSON_FIELDS = ("family_name", "first_names", "everyday_name", "birth_date", "birth_place",
                 "birth_country", "sex", "nationalities", "religion", "marital_status",
                 "birth_name", "doctorate", "religious_name", "artist_name", "marital_date",
                 "marital_place", "duplicate_checked", "person_id", "residence_id",
                 "id_document", "id_document.doc_type", "id_document.number",
                 "id_document.authority", "id_document.issued_on", "id_document.valid_until",
                 "relations", "relations.0", "relations.0.kind", "relations.0.person",
                 "relations.0.person_id")
LANDLORD = ("landlord", "landlord.presented", "landlord.self_declaration",
            "landlord.landlord_name", "landlord.owner_name", "landlord.landlord_address",
            "landlord.move_in", "landlord.persons")
ADDRESS = ("address", "address.street_id", "address.house_number")
PERSONS = ("persons", "persons.0", *(f"persons.0.{k}" for k in PERSON_FIELDS),
           "persons.1", "persons.1.person_id")

# Every field each service reads (dotted paths into the form; "persons.0" is a list item).
PATHS: dict[str, tuple[str, ...]] = {
    "meldebescheinigung": ("person_id", "variant", "purpose", "sections", *PAYMENT, *ACK),
    "meldebescheinigung_haushalt": ("person_id", "members", "members.0", "variant", "purpose",
                                    "sections", *PAYMENT, *ACK),
    "lebensbescheinigung": ("person_id", "institution", "reference", "id_document_checked",
                            *PAYMENT, *ACK),
    "personenstandsurkunde_antrag": (
        "person_id", "certificate", "subject", "subject.names", "subject.date",
        "subject.place", "subject.registry_number", "entitlement", "entitlement.basis",
        "entitlement.interest", "copies", "delivery", "id_document_checked", *PAYMENT, *ACK),
    "anmeldung": (*PERSONS, *ADDRESS, "kind", "move_in", "previous_address",
                  "previous_address.address", "previous_address.country",
                  "previous_address.last_domestic_address", *LANDLORD, "minors_confirmed"),
    "ummeldung": (*PERSONS, *ADDRESS, "kind", "move_in", *LANDLORD, "minors_confirmed"),
    "abmeldung": (*PERSONS, "reason", "move_out", "country", "foreign_address",
                  "minors_confirmed"),
    "wechselgeld": ("float_cents",),
    "storno": ("receipt_number", "reason"),
    "tagesabschluss": ("counted_cash_cents", "business_day"),
    "tagesabschluss_aufheben": ("reason", "business_day"),
}


def services() -> list[str]:
    """The registered services of the application (not the tests' own)."""
    return sorted(t for t, s in SERVICES.items()
                  if type(s).__module__.startswith("clerk_app."))


# --- junk ---------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from([
    "", " ", "\t\n ", "x" * 1000, "ü" * 201, "\x00", "a\x07b", "Anna\nMüller", "\u200b",
    "\u202eniaM\u202c", "שלום", "مرحبا", "e\u0301\u0301\u0301", "\ufeff", "\ud800", "🙂",
    "١٢", "１２", "-1", "0", "1e3", "NaN", "Infinity", "true", "null", "[]", "{}", "0x10",
    "12a", "99999999999999999999999", "2026-02-30", "2026-11-25", "25.11.2026", "31.12.9999",
    "0001-01-01", "9999-12-31", "1800", "ß", "DEU", "che", "XXA", "ZZZ", "bar", "karte",
    "gebuehrenfrei", "rente", "einfach", "erweitert", "geburt", "ehe", "tod", "selbst",
    "geschwister", "abholung", "alleinig", "neben", "ausland", "inland", "nebenwohnung",
    "Q-SCHALTER3-2026-000001", "ST-SCHALTER3-2026-000001", "MB-SCHALTER3-2026-000001",
])
HUGE = st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30),
                        100_000, 100_001, 10_000_001, -1, 0, 1, 11])
# Characters that must never get through: invisible, direction-changing, lone surrogates
# (JSON's "\ud800" decodes to one), combining marks on nothing.
NASTY_CHARS = st.sampled_from(["\x00", "\x07", "\n", "\r", "\t", "\u200b", "\u202e",
                               "\u2066", "\ufeff", "\u0301", "\ud800", "\udfff", "\u00a0",
                               "\u2028", " ", "ß", "ı"])
NASTY_TEXT = st.lists(NASTY_CHARS | st.characters(), min_size=1, max_size=12).map("".join)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), HUGE, st.floats(), ODD_TEXT,
                    NASTY_TEXT, st.text(max_size=40))
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["", "x", "method", "person_id", "street_id", "names", "0"])
        | st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
DELETE = object()
UNKNOWN_KEYS = st.sampled_from(["", " ", "Person_ID", "payment ", "ünbekannt", "\x00",
                                "__class__", "0"]) | NASTY_TEXT | st.text(max_size=12)


def values_for(reg: Register) -> st.SearchStrategy[Any]:
    """Junk, and sometimes a value that means something in the prepared register."""
    meaningful = st.sampled_from([reg.adult, reg.blocked, reg.minor, *reg.couple, reg.receipt,
                                  reg.street_id, reg.other_street_id, str(reg.street_id),
                                  reg.adult.upper(), f" {reg.adult} ", [{"person_id": reg.adult}],
                                  {"person_id": reg.adult}])
    return st.one_of(SCALARS, JUNK, meaningful, st.just(DELETE))


def spoil(form: Any, path: str, value: Any) -> None:
    """Set (or delete) the field at the dotted `path`, if its parent is still a container."""
    *parents, last = path.split(".")
    node = form
    for part in parents:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return
    if isinstance(node, dict):
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and last.isdigit():
        index = int(last)
        if value is DELETE:
            if index < len(node):
                del node[index]
        elif index < len(node):
            node[index] = value
        else:
            node.append(value)


@st.composite
def spoilt_forms(draw: st.DrawFn, reg: Register, service: str) -> dict[str, Any]:
    form = base_form(reg, service)
    values = values_for(reg)
    changes = draw(st.lists(st.tuples(st.sampled_from(PATHS[service]), values),
                            min_size=1, max_size=4))
    for path, value in changes:
        spoil(form, path, value)
    extra = draw(st.dictionaries(UNKNOWN_KEYS, JUNK, max_size=2)
                 if draw(st.integers(0, 9)) == 0 else st.just({}))
    form.update(extra)
    return form


# --- the properties -----------------------------------------------------------------------------

def test_every_service_has_a_form_to_spoil() -> None:
    assert set(services()) == set(PATHS)


@pytest.mark.parametrize("service", services())
def test_base_form_succeeds(register: Register, service: str) -> None:
    """The forms the fuzzing starts from pass, so the junk reaches every check behind them."""
    with fresh_store(register) as store:
        result = _run(store, service, base_form(register, service))
        assert result.type == service and not result.replayed


def refused_or_done(reg: Register, service: str, form: dict[str, Any]) -> None:
    with fresh_store(reg) as store:
        before = snapshot(store)
        try:
            _run(store, service, form)
        except ClerkError as exc:
            assert exc.message_de.strip()
            if isinstance(exc, FormError):
                assert exc.errors and all(m.strip() for m in exc.errors.values())
            assert not store.conn.in_transaction
            assert snapshot(store) == before


@pytest.mark.parametrize("service", services())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_spoilt_form_is_refused_with_a_message_or_done(register: Register, service: str,
                                                       data: st.DataObject) -> None:
    refused_or_done(register, service, data.draw(spoilt_forms(register, service)))


@pytest.mark.parametrize("service", services())
@settings(max_examples=40, deadline=None)
@given(form=st.dictionaries(UNKNOWN_KEYS | st.sampled_from(["persons", "payment", "person_id"]),
                            JUNK, max_size=4))
def test_any_dict_is_refused_with_a_message_or_done(register: Register, service: str,
                                                    form: dict[str, Any]) -> None:
    refused_or_done(register, service, form)


def test_section_reads_junk_without_crashing() -> None:
    """Every reader of `Section` on the same junk: a value or a recorded problem."""
    @settings(max_examples=150, deadline=None)
    @given(value=JUNK)
    def check(value: Any) -> None:
        f = Section({"k": value})
        f.text("k"), f.name("k"), f.date("k"), f.choice("k", {"a": "A"}), f.country("k")
        f.integer("k"), f.flag("k"), f.confirmed("k", "Bitte bestätigen."), f.strings("k")
        f.section("k"), f.group("k"), f.sections("k")
        assert all(isinstance(m, str) and m for m in f.errors.values())

    check()


# --- what the fuzzing found, kept as plain cases --------------------------------------------------

@pytest.mark.parametrize(("service", "changes", "field"), [
    # a street id beyond SQLite's 64 bits crashed the lookup (OverflowError)
    ("anmeldung", {"address.street_id": 2**64}, "address.street_id"),
    ("anmeldung", {"address.street_id": "99999999999999999999999"}, "address.street_id"),
    # a lone surrogate (JSON "\ud800") passed the text check and crashed the write or the query
    ("lebensbescheinigung", {"reference": "a\ud800"}, "reference"),
    ("lebensbescheinigung", {"person_id": "\ud800"}, "person_id"),
    ("meldebescheinigung", {"purpose": "\udfffRente"}, "purpose"),
    ("storno", {"reason": "a\ud800"}, "reason"),
    ("storno", {"receipt_number": "Q-\ud800"}, "receipt_number"),
    ("anmeldung", {"landlord.persons": ["Anna\ud800"]}, "landlord.persons"),
    # the storno took any value as its reason ("['x']"), of any length, with control characters
    ("storno", {"reason": ["x"]}, "reason"),
    ("storno", {"reason": "x" * 1000}, "reason"),
    ("storno", {"reason": "Doppelt\x00kassiert"}, "reason"),
    ("anmeldung", {"landlord.persons": ["Anna\nMüller"]}, "landlord.persons"),
    ("anmeldung", {"landlord.persons": ["x" * 1000]}, "landlord.persons"),
    # an amount beyond 28 digits crashed its own error message (decimal.InvalidOperation)
    ("tagesabschluss", {"counted_cash_cents": 10**31}, "counted_cash_cents"),
    ("meldebescheinigung", {"payment.given_cents": 10**30}, "payment.given"),
])
def test_found_by_fuzzing(register: Register, service: str, changes: dict[str, Any],
                          field: str) -> None:
    form = base_form(register, service)
    for path, value in changes.items():
        spoil(form, path, value)
    with fresh_store(register) as store:
        before = snapshot(store)
        with pytest.raises(FormError) as refused:
            _run(store, service, form)
        assert set(refused.value.errors) == {field}
        assert snapshot(store) == before


def test_format_cents_is_exact_for_any_amount() -> None:
    from clerk_app.fees import format_cents

    assert format_cents(10**31).startswith("100.000.000.000.000.000.000.000.000.000,00")
    assert format_cents(-(2**64)) == "-184.467.440.737.095.516,16\xa0€"


def test_a_household_certificate_counts_the_days_float_once(register: Register) -> None:
    """Found by fuzzing: the float given with a household's fee was booked with every
    member's receipt, and the second entry for the drawer's day crashed the service."""
    form = base_form(register, "meldebescheinigung_haushalt")
    spoil(form, "payment.float_cents", 0)
    with fresh_store(register) as store:
        result = _run(store, "meldebescheinigung_haushalt", form)
        floats = store.conn.execute("SELECT count(*) FROM cash_floats").fetchone()[0]
    assert len(result.documents) >= 2 and floats == 1
