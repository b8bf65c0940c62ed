"""Certificates at the counter, on a real encrypted register: what each document says, field by
field; information blocks; the fee; double submits; failures that must leave nothing behind;
the request queued for the registry office; names exactly as the register holds them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from clerk_app.errors import FormError, NotFoundError
from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.services.base import IssuedDocument, ServiceContext, ServiceResult
from clerk_app.services.certificates import certificate_warnings, parse_event_date
from clerk_app.services.runner import SERVICES
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, NOW, TODAY, add_person, count, issue

CASH = {"method": "bar", "given_cents": 1000}
BLOCK_WARNING = ("Für diese Person besteht eine Auskunftssperre (§ 51 BMG) seit 01.01.2020. "
                 "Bescheinigung nur an die betroffene Person selbst, Identität prüfen.")
ID_NUMBER = "L01X00T47"
TABLES = ("documents", "cash_journal", "outbox", "counters", "requests", "audit_log")


def doc_of(result: ServiceResult, doc_type: str) -> IssuedDocument:
    (doc,) = [d for d in result.documents if d.type == doc_type]
    return doc


def counts(store: Store) -> dict[str, int]:
    return {t: count(store, t) for t in TABLES}


def rich_person(store: Store, *, block: bool = False) -> str:
    """Anna Maria Dr. Schulz, everything of § 3 (1) filled in: history, a secondary residence,
    an ID card on record (which must never appear on a certificate)."""
    pid = add_person(store, "Schulz", "Anna Maria", "1980-03-07", street="Turmstraße",
                     number="5", block=block, former=("Meier",))
    with store.transaction() as db:
        db.execute(
            "UPDATE persons SET birth_name = 'Meier', everyday_name = 'Maria', "
            "doctorate = 'Dr.', artist_name = 'Mia Sol', birth_place = 'Kraków', "
            "birth_country = 'Polen', sex = 'w', nationalities = '[\"DEU\", \"POL\"]', "
            "religion = 'rk', marital_status = 'VH', marital_date = '2008-06-14', "
            "marital_place = 'Lörrach' WHERE id = ?", (pid,))
        db.execute("UPDATE residences SET move_in = '2015-04-01', previous_address = "
                   "'Basler Straße 3, 79540 Lörrach' WHERE person_id = ?", (pid,))
        db.execute(
            "INSERT INTO residences (id, person_id, kind, street, house_number, postal_code, "
            "city, move_in, move_out, previous_address) VALUES (?, ?, 'alleinig', "
            "'Basler Straße', '3', '79540', 'Lörrach', '2009-10-01', '2015-03-31', "
            "'Krakau, Polen')", (str(uuid.uuid4()), pid))
        db.execute(
            "INSERT INTO residences (id, person_id, kind, street, house_number, postal_code, "
            "city, move_in) VALUES (?, ?, 'neben', 'Bertoldstraße', '20', '79098', "
            "'Freiburg im Breisgau', '2021-09-15')", (str(uuid.uuid4()), pid))
        db.execute(
            "INSERT INTO id_documents (id, person_id, doc_type, number, authority, issued_on, "
            "valid_until) VALUES (?, ?, 'PA', ?, 'Stadt Lörrach', '2020-01-10', '2030-01-09')",
            (str(uuid.uuid4()), pid, ID_NUMBER))
    return pid


SIMPLE_FIELDS = (
    ("Familienname", "Schulz"),
    ("Vornamen", "Anna Maria"),
    ("Gebräuchlicher Vorname", "Maria"),
    ("Doktorgrad", "Dr."),
    ("Geburtsdatum", "07.03.1980"),
    ("Hauptwohnung", "Turmstraße 5, 79539 Lörrach, eingezogen am 01.04.2015"),
    ("Nebenwohnung", "Bertoldstraße 20, 79098 Freiburg im Breisgau, eingezogen am 15.09.2021"),
)


# --- Meldebescheinigung: content ------------------------------------------------------------

def test_simple_meldebescheinigung_shows_exactly_the_data_of_section_18_1(store: Store) -> None:
    pid = rich_person(store)
    result = issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                                 "payment": CASH})
    doc = doc_of(result, "meldebescheinigung_einfach")
    assert doc.title == "Meldebescheinigung"
    assert doc.number == "MB-SCHALTER3-2026-000001"
    assert doc.person_id == pid
    assert doc.fields == SIMPLE_FIELDS
    assert result.receipt is not None and doc.receipt_number == result.receipt.number


def test_extended_meldebescheinigung_adds_section_3_data_in_order(store: Store) -> None:
    pid = rich_person(store)
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": "erweitert", "purpose": "Vorlage beim Konsulat",
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}})
    doc = doc_of(result, "meldebescheinigung_erweitert")
    assert doc.title == "Erweiterte Meldebescheinigung"
    assert doc.fields == (
        ("Familienname", "Schulz"),
        ("Geburtsname", "Meier"),
        ("Vornamen", "Anna Maria"),
        ("Gebräuchlicher Vorname", "Maria"),
        ("Doktorgrad", "Dr."),
        ("Künstlername", "Mia Sol"),
        ("Geburtsdatum", "07.03.1980"),
        ("Geburtsort", "Kraków, Polen"),
        ("Geschlecht", "weiblich"),
        ("Staatsangehörigkeiten", "deutsch, polnisch"),
        ("Religionsgesellschaft", "römisch-katholisch"),
        ("Familienstand", "verheiratet"),
        ("Tag der Eheschließung", "14.06.2008"),
        ("Ort der Eheschließung", "Lörrach"),
        ("Hauptwohnung", "Turmstraße 5, 79539 Lörrach, eingezogen am 01.04.2015"),
        ("Nebenwohnung",
         "Bertoldstraße 20, 79098 Freiburg im Breisgau, eingezogen am 15.09.2021"),
        ("Frühere Wohnung", "Basler Straße 3, 79540 Lörrach (alleinige Wohnung, eingezogen "
                            "am 01.10.2009, ausgezogen am 31.03.2015)"),
        ("Zuzug aus", "Krakau, Polen"),
        ("Sterbedatum", "im Melderegister nicht gespeichert"),
        ("Verwendungszweck", "Vorlage beim Konsulat"),
    )
    assert result.receipt is not None and result.receipt.amount_cents == 900


def test_extended_meldebescheinigung_can_be_limited_to_chosen_sections(store: Store) -> None:
    pid = rich_person(store)
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": "erweitert", "payment": CASH,
        "sections": ["familienstand", "staatsangehoerigkeit"]})
    fields = doc_of(result, "meldebescheinigung_erweitert").fields
    assert fields == (*SIMPLE_FIELDS[:5],
                      ("Staatsangehörigkeiten", "deutsch, polnisch"),
                      ("Familienstand", "verheiratet"),
                      ("Tag der Eheschließung", "14.06.2008"),
                      ("Ort der Eheschließung", "Lörrach"),
                      *SIMPLE_FIELDS[5:])


@pytest.mark.parametrize("variant", ["einfach", "erweitert"])
def test_no_certificate_ever_shows_block_or_id_document_data(store: Store, variant: str) -> None:
    pid = rich_person(store, block=True)
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": variant, "payment": CASH, "block_acknowledged": True})
    doc = doc_of(result, f"meldebescheinigung_{variant}")
    stored = store.query("SELECT content FROM documents WHERE number = ?", (doc.number,))
    printed = [text for field in doc.fields for text in field] + [stored[0]["content"]]
    for text in printed:
        for forbidden in ("Sperre", "sperre", "§ 51", "Sperrvermerk", ID_NUMBER, "Ausweis",
                          "Stadt Lörrach", "30.01.2030", "09.01.2030", "2030"):
            assert forbidden not in text, (forbidden, text)


# --- information blocks ---------------------------------------------------------------------

def test_warnings_name_the_block_and_what_to_do(store: Store) -> None:
    blocked = add_person(store, "Wolf", "Jana", block=True)
    free = add_person(store, "Fuchs", "Jan")
    assert certificate_warnings(store, blocked, TODAY) == [BLOCK_WARNING]
    assert certificate_warnings(store, free, TODAY) == []
    with pytest.raises(NotFoundError):
        certificate_warnings(store, str(uuid.uuid4()), TODAY)


def test_expired_and_future_blocks_do_not_warn_but_a_limited_one_says_until(
        store: Store) -> None:
    pid = add_person(store, "Wolf", "Jana")
    with store.transaction() as db:
        for since, until in (("2010-01-01", "2012-12-31"), ("2027-01-01", None),
                             ("2025-02-01", "2027-01-31")):
            db.execute("INSERT INTO information_blocks (id, person_id, kind, legal_basis, "
                       "since, until) VALUES (?, ?, 'Auskunftssperre', '§ 51 BMG', ?, ?)",
                       (str(uuid.uuid4()), pid, since, until))
    assert certificate_warnings(store, pid, TODAY) == [
        "Für diese Person besteht eine Auskunftssperre (§ 51 BMG) seit 01.02.2025 bis "
        "31.01.2027. Bescheinigung nur an die betroffene Person selbst, Identität prüfen."]


def test_person_without_current_residence_is_warned_and_refused(store: Store) -> None:
    pid = add_person(store, "Weg", "Zoe")
    with store.transaction() as db:
        db.execute("UPDATE residences SET move_out = '2025-01-31' WHERE person_id = ?", (pid,))
    (warning,) = certificate_warnings(store, pid, TODAY)
    assert "keine aktuelle Wohnung" in warning
    with pytest.raises(FormError) as err:
        issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                            "payment": CASH})
    assert set(err.value.errors) == {"person_id"}
    assert counts(store) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(("service", "form"), [
    ("meldebescheinigung", {"variant": "einfach", "payment": CASH}),
    ("lebensbescheinigung", {"institution": "ZUS, Polen", "id_document_checked": True}),
    ("personenstandsurkunde_antrag", {
        "certificate": "geburt", "subject": {"names": "Jana Wolf", "date": "1964",
                                             "place": "Lörrach"},
        "entitlement": {"basis": "selbst"}, "id_document_checked": True,
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}}),
])
def test_every_certificate_is_refused_for_a_blocked_person_without_acknowledgement(
        store: Store, service: str, form: dict[str, Any]) -> None:
    pid = add_person(store, "Wolf", "Jana", block=True)
    with pytest.raises(FormError) as err:
        issue(store, service, {**form, "person_id": pid})
    assert set(err.value.errors) == {"block_acknowledged"}
    assert "Auskunftssperre (§ 51 BMG) seit 01.01.2020" in err.value.errors["block_acknowledged"]
    # The cashbook had minted a receipt number before the refusal: rolled back with the rest.
    assert counts(store) == dict.fromkeys(TABLES, 0)

    result = issue(store, service, {**form, "person_id": pid, "block_acknowledged": True})
    (entry,) = store.query("SELECT * FROM audit_log")
    assert entry["action"] == "issue" and entry["person_id"] == pid
    assert entry["clerk"] == "mmuster" and entry["workstation"] == "Schalter 3"
    number = doc_of(result, service if service != "meldebescheinigung"
                    else "meldebescheinigung_einfach").number
    assert f"Dokument {number}" in entry["detail"]
    assert ("Sperre zur Kenntnis genommen: Auskunftssperre (§ 51 BMG) seit 01.01.2020; "
            "Aushändigung nur an die betroffene Person, Identität geprüft") in entry["detail"]
    (outbox,) = store.query("SELECT payload FROM outbox")
    (ack,) = json.loads(outbox["payload"])["block_acknowledgement"]
    assert (ack["kind"], ack["since"]) == ("Auskunftssperre", "2020-01-01")


def test_audit_entry_without_block_names_document_receipt_and_purpose(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": "erweitert", "purpose": "Vorlage beim Arbeitgeber",
        "payment": CASH})
    (entry,) = store.query("SELECT * FROM audit_log")
    assert entry["action"] == "issue"
    assert entry["purpose"] == "Erweiterte Meldebescheinigung: Vorlage beim Arbeitgeber"
    assert result.receipt is not None
    assert entry["detail"] == (f"Dokument MB-SCHALTER3-2026-000001; "
                               f"Quittung {result.receipt.number}")
    assert result.changed_persons == (pid,)


# --- fees -----------------------------------------------------------------------------------

def test_cash_payment_with_change_is_booked_and_printed(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                                 "payment": CASH})
    receipt = result.receipt
    assert receipt is not None
    assert (receipt.method, receipt.amount_cents, receipt.given_cents, receipt.change_cents) == \
        ("bar", 700, 1000, 300)
    (row,) = store.query("SELECT * FROM cash_journal")
    assert (row["service"], row["method"], row["amount_cents"], row["change_cents"],
            row["receipt_number"]) == ("meldebescheinigung_einfach", "bar", 700, 300,
                                       receipt.number)
    assert doc_of(result, "meldebescheinigung_einfach").receipt_number == receipt.number
    assert doc_of(result, "quittung").person_id == pid


def test_exemption_is_booked_with_its_reason(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": "erweitert", "purpose": "Rentenantrag",
        "payment": {"exemption": "rente"}})
    receipt = result.receipt
    assert receipt is not None
    assert (receipt.method, receipt.amount_cents, receipt.exemption) == \
        ("gebuehrenfrei", 0, "rente")
    assert receipt.exemption_reason == ("Vorlage bei Rentenversicherungsträger "
                                        "(§ 64 Abs. 2 SGB X)")
    (row,) = store.query("SELECT method, amount_cents, exemption FROM cash_journal")
    assert row == {"method": "gebuehrenfrei", "amount_cents": 0, "exemption": "rente"}


def test_card_payment_for_the_civil_status_request(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "personenstandsurkunde_antrag", psa_form(pid))
    assert result.receipt is not None
    assert (result.receipt.method, result.receipt.amount_cents) == ("karte", 2400)   # two copies
    assert doc_of(result, "personenstandsurkunde_antrag").receipt_number == \
        result.receipt.number


def test_exemption_not_allowed_for_the_service_is_a_field_error(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    with pytest.raises(FormError) as err:
        issue(store, "personenstandsurkunde_antrag",
              {**psa_form(pid), "payment": {"exemption": "gemeinnuetzig"}})
    assert set(err.value.errors) == {"payment.exemption"}


def test_double_submit_issues_one_document_and_takes_one_payment(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    cid = uuid7()
    form = {"person_id": pid, "variant": "einfach", "payment": CASH}
    first = issue(store, "meldebescheinigung", form, cid)
    second = issue(store, "meldebescheinigung", form, cid)
    assert second.replayed and not first.replayed
    assert second.documents == first.documents and second.receipt == first.receipt
    assert counts(store) == {"documents": 2, "cash_journal": 1, "outbox": 1, "counters": 2,
                             "requests": 0, "audit_log": 1}
    assert store.query("SELECT series, value FROM counters ORDER BY series") == [
        {"series": "MB/2026", "value": 1}, {"series": "Q/2026", "value": 1}]


def test_failed_validation_reports_every_field_and_leaves_nothing(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    with pytest.raises(FormError) as err:
        issue(store, "meldebescheinigung", {
            "person_id": pid, "variant": "erweitert", "purpose": "x" * 201,
            "sections": ["familienstand", "ausweis"], "block_acknowleged": True,
            "payment": {"method": "bar", "given_cents": 500}})
    assert set(err.value.errors) == {"purpose", "sections", "block_acknowleged",
                                     "payment.given"}
    assert err.value.errors["purpose"] == "Verwendungszweck: zu lang (höchstens 200 Zeichen)."
    assert err.value.errors["block_acknowleged"] == "Unbekannte Angabe „block_acknowleged“."
    with pytest.raises(FormError) as err:
        issue(store, "meldebescheinigung", {"person_id": str(uuid.uuid4())})
    assert set(err.value.errors) == {"person_id", "variant"}
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_simple_form_takes_no_extended_sections(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                        "sections": [], "payment": CASH})
    with pytest.raises(FormError) as err:
        issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                            "sections": ["religion"], "payment": CASH})
    assert set(err.value.errors) == {"sections"}


# --- Lebensbescheinigung --------------------------------------------------------------------

def test_lebensbescheinigung_confirms_registration_and_appearance(store: Store) -> None:
    pid = rich_person(store)
    result = issue(store, "lebensbescheinigung", {
        "person_id": pid, "institution": "Zakład Ubezpieczeń Społecznych, Polen",
        "reference": "ZUS 123/456", "id_document_checked": True})
    doc = doc_of(result, "lebensbescheinigung")
    assert (doc.number, doc.title) == ("LB-SCHALTER3-2026-000001", "Lebensbescheinigung")
    assert doc.fields == (
        ("Familienname", "Schulz"),
        ("Geburtsname", "Meier"),
        ("Vornamen", "Anna Maria"),
        ("Gebräuchlicher Vorname", "Maria"),
        ("Doktorgrad", "Dr."),
        ("Geburtsdatum", "07.03.1980"),
        ("Geburtsort", "Kraków, Polen"),
        *SIMPLE_FIELDS[5:],
        ("Anfordernde Stelle", "Zakład Ubezpieczeń Społecznych, Polen"),
        ("Aktenzeichen der anfordernden Stelle", "ZUS 123/456"),
        ("Bestätigung", "Die genannte Person ist im Melderegister mit der angegebenen Wohnung "
                        "gemeldet. Sie hat am 25.11.2026 persönlich vorgesprochen, sich mit "
                        "einem gültigen amtlichen Ausweis ausgewiesen und ist am Leben."),
    )
    # Free of charge: no journal entry, no receipt.
    assert result.receipt is None and doc.receipt_number is None
    assert count(store, "cash_journal") == 0
    assert [d.type for d in result.documents] == ["lebensbescheinigung"]
    assert ID_NUMBER not in json.dumps([list(f) for f in doc.fields])


def test_lebensbescheinigung_needs_the_id_check_and_the_institution(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    for checked in (False, "ja", 1, None):
        with pytest.raises(FormError) as err:
            issue(store, "lebensbescheinigung", {"person_id": pid, "institution": "  ",
                                                 "id_document_checked": checked})
        assert set(err.value.errors) == {"institution", "id_document_checked"}
    assert counts(store) == dict.fromkeys(TABLES, 0)


# --- request for a civil-status certificate -------------------------------------------------

def psa_form(pid: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "person_id": pid, "certificate": "geburt",
        "subject": {"names": "Jan Fuchs", "date": "12.08.1964", "place": "Lörrach",
                    "registry_number": "G 1234/1964"},
        "entitlement": {"basis": "selbst"}, "copies": 2, "id_document_checked": True,
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}}
    form.update(changes)
    return form


def test_request_is_queued_for_the_registry_office_and_confirmed(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    cid = uuid7()
    result = issue(store, "personenstandsurkunde_antrag", psa_form(pid), cid)
    doc = doc_of(result, "personenstandsurkunde_antrag")
    number = "PSA-SCHALTER3-2026-000001"
    assert (doc.number, doc.title, doc.person_id) == \
        (number, "Antrag auf Personenstandsurkunde", pid)
    assert doc.fields == (
        ("Antragsnummer", number),
        ("Urkunde", "Geburtsurkunde"),
        ("Anzahl", "2"),
        ("Betroffene Person", "Jan Fuchs"),
        ("Geburtsdatum", "12.08.1964"),
        ("Geburtsort", "Lörrach"),
        ("Registernummer", "G 1234/1964"),
        ("Antragsteller/in", "Fuchs, Jan"),
        ("Geburtsdatum der antragstellenden Person", "12.08.1964"),
        ("Anschrift", "Hauptstraße 12, 79539 Lörrach"),
        ("Berechtigung (§ 62 PStG)", "Person, auf die sich der Eintrag bezieht"),
        ("Zustellung", "Versand per Post an die Anschrift der antragstellenden Person"),
        ("Weitergeleitet an", "Standesamt"),
        ("Hinweis", "Die Urkunde stellt das Standesamt aus. Bitte bei Rückfragen die "
                    "Antragsnummer angeben."),
    )
    (row,) = store.query("SELECT * FROM requests")
    assert (row["id"], row["command_id"], row["type"], row["person_id"], row["status"]) == \
        (number, cid, "personenstandsurkunde", pid, "queued")
    request = json.loads(row["payload"])
    assert request["certificate"] == "geburt" and request["copies"] == 2
    assert request["subject"]["date"] == "1964-08-12"
    assert result.receipt is not None and request["receipt_number"] == result.receipt.number
    (outbox,) = store.query("SELECT * FROM outbox")
    assert (outbox["command_id"], outbox["type"], outbox["status"]) == \
        (cid, "personenstandsurkunde_antrag", "pending")
    assert json.loads(outbox["payload"])["request"] == request
    (entry,) = store.query("SELECT action, purpose FROM audit_log")
    assert entry == {"action": "issue",
                     "purpose": "Antrag auf Personenstandsurkunde: Geburtsurkunde"}


@pytest.mark.parametrize("copies", [1, 2, 3])
def test_each_copy_of_a_civil_status_certificate_is_charged(store: Store, copies: int) -> None:
    """The fee schedule's fee is per copy: the journal, the receipt and the request say so."""
    pid = add_person(store, "Fuchs", "Jan")
    form = psa_form(pid, copies=copies, payment={"method": "bar", "given_cents": 5000})
    result = issue(store, "personenstandsurkunde_antrag", form, uuid7())
    total = 1200 * copies
    (row,) = store.query("SELECT service, amount_cents, given_cents, change_cents "
                         "FROM cash_journal")
    assert row == {"service": "personenstandsurkunde_antrag", "amount_cents": total,
                   "given_cents": 5000, "change_cents": 5000 - total}
    assert result.receipt is not None and result.receipt.amount_cents == total
    receipt = dict(doc_of(result, "quittung").fields)
    assert receipt["Gebühr"] == f"{total // 100},00\xa0€"
    assert receipt.get("Anzahl") == (f"{copies} × 12,00\xa0€" if copies > 1 else None)
    (request,) = store.query("SELECT payload FROM requests")
    assert json.loads(request["payload"])["fee_cents"] == total


def test_cash_given_must_cover_every_copy(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    form = psa_form(pid, copies=2, payment={"method": "bar", "given_cents": 1200})
    with pytest.raises(FormError) as raised:
        issue(store, "personenstandsurkunde_antrag", form, uuid7())
    assert raised.value.errors == {
        "payment.given": "Der gegebene Betrag (12,00\xa0€) ist kleiner als die Gebühr "
                         "(24,00\xa0€)."}


@pytest.mark.parametrize(("changes", "fields"), [
    ({"certificate": "tod"}, {"entitlement.basis"}),  # nobody requests their own death
    ({"certificate": "ehe", "entitlement": {"basis": "geschwister", "interest": "Erbe"}},
     {"entitlement.basis"}),
    ({"certificate": "tod", "entitlement": {"basis": "geschwister"}}, {"entitlement.interest"}),
    ({"entitlement": {"basis": "rechtliches_interesse"}}, {"entitlement.interest"}),
    ({"entitlement": {"basis": "nachbar"}}, {"entitlement.basis"}),
    ({"entitlement": None}, {"entitlement.basis"}),
    ({"copies": 0}, {"copies"}),
    ({"copies": 11}, {"copies"}),
    ({"copies": True}, {"copies"}),
    ({"copies": "2"}, {"copies"}),
    ({"certificate": "taufe"}, {"certificate"}),
    ({"delivery": "fax"}, {"delivery"}),
    ({"id_document_checked": False}, {"id_document_checked"}),
    ({"subject": {"names": "", "date": "31.02.1964", "place": "Lörrach"}},
     {"subject.names", "subject.date"}),
    ({"subject": {"names": "Jan", "date": "2027-01-01", "place": "Lörrach", "ort": "x"}},
     {"subject.date", "subject.ort"}),
    ({"payment": None}, {"payment.method"}),
    ({"subject": {"names": "Jan\u200bFuchs", "date": "1964", "place": "Lörrach"}},
     {"subject.names"}),
])
def test_request_validation(store: Store, changes: dict[str, Any], fields: set[str]) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    with pytest.raises(FormError) as err:
        issue(store, "personenstandsurkunde_antrag", psa_form(pid, **changes))
    assert set(err.value.errors) == fields
    assert counts(store) == dict.fromkeys(TABLES, 0)


def test_sibling_with_legitimate_interest_may_request_a_death_certificate(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "personenstandsurkunde_antrag", psa_form(
        pid, certificate="tod", delivery="abholung",
        subject={"names": "Eva Fuchs", "date": "1998", "place": "Basel"},
        entitlement={"basis": "geschwister", "interest": "Nachlassregelung"}))
    fields = dict(doc_of(result, "personenstandsurkunde_antrag").fields)
    assert (fields["Urkunde"], fields["Verstorbene Person"], fields["Sterbedatum"],
            fields["Sterbeort"]) == ("Sterbeurkunde", "Eva Fuchs", "1998", "Basel")
    assert fields["Begründetes Interesse"] == "Nachlassregelung"
    assert fields["Zustellung"] == "Abholung im Bürgerbüro"


def test_applicants_under_16_are_refused(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Lea", "2010-11-26")  # 16 tomorrow
    with pytest.raises(FormError) as err:
        issue(store, "personenstandsurkunde_antrag", psa_form(pid))
    assert set(err.value.errors) == {"person_id"}
    older = add_person(store, "Fuchs", "Tim", "2010-11-25")  # 16 today
    issue(store, "personenstandsurkunde_antrag", psa_form(older))


def test_event_dates() -> None:
    assert parse_event_date("1.2.1950", TODAY) == ("1950-02-01", "01.02.1950")
    assert parse_event_date("1950-02-01", TODAY) == ("1950-02-01", "01.02.1950")
    assert parse_event_date("1950", TODAY) == ("1950", "1950")
    for bad in ("1700", "2027", "26.11.2026", "gestern", "1950-13-01"):
        assert isinstance(parse_event_date(bad, TODAY), str), bad


# --- names, reproducibility, sync -----------------------------------------------------------

@pytest.mark.parametrize(("family", "first"), [
    ("Wróbel", "Łukasz"), ("Nguyễn", "Thị Minh Khai"), ("Ødegård", "Åse Marit")])
def test_names_with_diacritics_are_printed_unchanged(store: Store, family: str,
                                                     first: str) -> None:
    pid = add_person(store, family, first)
    mb = doc_of(issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                                    "payment": CASH}),
                "meldebescheinigung_einfach")
    lb = doc_of(issue(store, "lebensbescheinigung", {
        "person_id": pid, "institution": "NAV, Norge", "id_document_checked": True}),
        "lebensbescheinigung")
    psa = doc_of(issue(store, "personenstandsurkunde_antrag", psa_form(
        pid, subject={"names": f"{first} {family}", "date": "1964", "place": "Hà Nội"})),
        "personenstandsurkunde_antrag")
    for doc in (mb, lb):
        assert doc.fields[:2] == (("Familienname", family), ("Vornamen", first))
    psa_fields = dict(psa.fields)
    assert psa_fields["Betroffene Person"] == f"{first} {family}"
    assert psa_fields["Geburtsort"] == "Hà Nội"
    assert psa_fields["Antragsteller/in"] == f"{family}, {first}"
    stored = {json.loads(r["content"])["fields"][0][1]
              for r in store.query("SELECT content FROM documents WHERE type != 'quittung'")}
    assert stored == {family, "PSA-SCHALTER3-2026-000001"}


def test_decomposed_input_is_stored_as_nfc(store: Store) -> None:
    pid = add_person(store, "Fuchs", "Jan")
    result = issue(store, "personenstandsurkunde_antrag", psa_form(
        pid, subject={"names": "Jo\u0301zef Wro\u0301bel", "date": "1964", "place": "Łódź"}))
    assert dict(doc_of(result, "personenstandsurkunde_antrag").fields)[
        "Betroffene Person"] == "Józef Wróbel"


def test_outbox_carries_base_versions_and_the_printed_snapshot(store: Store) -> None:
    pid = rich_person(store)
    result = issue(store, "meldebescheinigung", {"person_id": pid, "variant": "einfach",
                                                 "payment": CASH})
    (row,) = store.query("SELECT payload, base_versions FROM outbox")
    versions = json.loads(row["base_versions"])
    residences = store.query("SELECT id FROM residences WHERE person_id = ? "
                             "AND move_out IS NULL", (pid,))
    assert versions == {f"persons/{pid}": 1, **{f"residences/{r['id']}": 1 for r in residences}}
    payload = json.loads(row["payload"])
    doc = doc_of(result, "meldebescheinigung_einfach")
    assert payload["document"] == {"number": doc.number, "type": doc.type, "title": doc.title,
                                   "fields": [list(f) for f in doc.fields],
                                   "receipt_number": doc.receipt_number}


def copy_person(source: Store, target: Store, pid: str) -> None:
    with target.transaction() as db:
        for table, key in (("persons", "id"), ("residences", "person_id")):
            for row in source.query(f"SELECT * FROM {table} WHERE {key} = ?",
                                    (pid,)):
                db.execute(f"INSERT INTO {table} ({', '.join(row)}) "
                           f"VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))


def test_apply_alone_reproduces_the_printed_document_elsewhere(store: Store,
                                                               tmp_path: Path) -> None:
    """What the central service does: `apply` on the stored payload, against its own register,
    where the person meanwhile changed. The archived document is still what was printed."""
    pid = rich_person(store)
    cid = uuid7()
    result = issue(store, "meldebescheinigung", {"person_id": pid, "variant": "erweitert",
                                                 "payment": CASH, "purpose": "Visum"}, cid)
    (row,) = store.query("SELECT payload FROM outbox")
    with open_store(tmp_path / "central.db", new_key(), Actor("zentral", "Server", COUNTER_ROLES),
                    create=True) as central:
        copy_person(store, central, pid)
        with central.transaction() as db:
            db.execute("UPDATE persons SET family_name = 'Neu', version = 2 WHERE id = ?",
                       (pid,))
        ctx = ServiceContext(central, cid, NOW, TODAY)
        with central.transaction():
            SERVICES["meldebescheinigung"].apply(ctx, json.loads(row["payload"]))
        assert ctx.documents == list(result.documents)
        assert ctx.receipt == result.receipt
        assert central.query("SELECT count(*) AS n FROM cash_journal") == [{"n": 1}]


def test_birth_country_code_from_an_anmeldung_prints_as_a_name(store: Store) -> None:
    """The Anmeldung stores ISO codes ('POL'); a certificate never prints the bare code."""
    pid = rich_person(store)
    with store.transaction() as db:
        db.execute("UPDATE persons SET birth_country = 'POL' WHERE id = ?", (pid,))
    result = issue(store, "meldebescheinigung", {
        "person_id": pid, "variant": "erweitert", "sections": ["geburt"],
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}})
    fields = dict(doc_of(result, "meldebescheinigung_erweitert").fields)
    assert fields["Geburtsort"] == "Kraków, Polen"
