"""Payments, receipts, reversals and the daily closing, on a real encrypted register.

A small test-only service (`test_gebuehr`) charges the fee of any service code through the real
framework (`run_service`: one transaction, outbox row, idempotency), the way the certificate
and registration services do.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from clerk_app.cashbook import (
    ClosingTotals,
    Total,
    apply_payment,
    closing_preview,
    is_closed,
    journal_for_day,
    prepare_payment,
)
from clerk_app.clerks import PermissionDenied
from clerk_app.errors import FormError, ValidationError
from clerk_app.keys import new_key
from clerk_app.login import OnlineAccount, log_in
from clerk_app.services.base import ServiceContext, ServiceResult
from clerk_app.services.runner import SERVICES, run_service
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, add_person, count, make_cfg

DAY = date(2026, 11, 25)
WS = "Schalter 3"

# A card payment as the dialog sends it: with the terminal's receipt number.
CARD = {"method": "karte", "terminal_receipt": "T-4711"}


class _Gebuehr:
    """Test-only service: nothing but the fee of `form['service']`."""

    type = "test_gebuehr"
    permission = "payment"

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        return {"person_id": form.get("person_id"),
                "payment": prepare_payment(ctx, form["service"], form.get("payment"))}

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        apply_payment(ctx, payload["payment"], payload["person_id"])


@pytest.fixture(autouse=True)
def _test_service() -> Iterator[None]:
    SERVICES["test_gebuehr"] = _Gebuehr()
    yield
    SERVICES.pop("test_gebuehr")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def pay(store: Store, payment: dict[str, Any], service: str = "meldebescheinigung_einfach", *,
        person_id: str | None = None, command_id: str | None = None,
        day: date = DAY) -> ServiceResult:
    return run_service(store, "test_gebuehr",
                       {"service": service, "payment": payment, "person_id": person_id},
                       command_id or str(uuid.uuid4()), now=lambda: _at(day), today=day)


def run(store: Store, service: str, form: dict[str, Any], day: date = DAY) -> ServiceResult:
    return run_service(store, service, form, str(uuid.uuid4()), now=lambda: _at(day),
                       today=day)


TEAM_PASSWORD = "Zwei Augen sehen mehr als eins"


def cache_login(store: Store, login: str, roles: tuple[str, ...],
                password: str = TEAM_PASSWORD) -> None:
    """`login` logged in at this workstation before (its verifier is cached here)."""
    def centre(_cfg: Any, name: str, _pw: str, _new: str | None = None) -> OnlineAccount:
        return OnlineAccount(name, name.title(), roles, "token")

    log_in(make_cfg(Path("unused"), central_url="https://z.example"), store, login, password,
           online=centre)


def confirmed_difference(store: Store, reason: str) -> dict[str, str]:
    """The form fields of a cash difference confirmed by Teamleitung (tleitung)."""
    cache_login(store, "tleitung", ("teamleitung",))
    return {"difference_reason": reason, "confirm_login": "tleitung",
            "confirm_password": TEAM_PASSWORD}


def nbsp(text: str) -> str:
    """Expected texts are written with a plain space before '€'; babel uses a no-break space."""
    return text.replace(" €", "\xa0€")


# --- payments --------------------------------------------------------------------------------

def test_cash_payment_computes_change_and_issues_receipt(store: Store) -> None:
    pid = add_person(store, "Müller", "Anna")
    result = pay(store, {"method": "bar", "given_cents": 1000}, person_id=pid)

    receipt = result.receipt
    assert receipt is not None
    assert receipt.number == "Q-SCHALTER3-2026-000001"
    assert (receipt.method, receipt.amount_cents, receipt.given_cents, receipt.change_cents) == (
        "bar", 700, 1000, 300)
    [entry] = journal_for_day(store, WS, DAY)
    assert (entry.receipt_number, entry.service, entry.method, entry.amount_cents,
            entry.given_cents, entry.change_cents) == (
        receipt.number, "meldebescheinigung_einfach", "bar", 700, 1000, 300)
    assert (entry.business_day, entry.workstation, entry.clerk, entry.command_id) == (
        DAY, WS, "mmuster", result.command_id)
    [doc] = result.documents
    assert (doc.type, doc.title, doc.number, doc.receipt_number, doc.person_id) == (
        "quittung", "Quittung", receipt.number, receipt.number, pid)
    fields = dict(doc.fields)
    assert fields["Gebühr"] == nbsp("7,00 €")
    assert fields["Zahlungsart"] == "Barzahlung"
    assert fields["Gegeben"] == nbsp("10,00 €")
    assert fields["Rückgeld"] == nbsp("3,00 €")
    stored = store.query("SELECT person_id, receipt_number FROM documents")
    assert stored == [{"person_id": pid, "receipt_number": receipt.number}]
    payload = json.loads(store.conn.execute("SELECT payload FROM outbox").fetchone()[0])
    assert payload["payment"]["receipt_number"] == receipt.number
    assert payload["payment"]["change_cents"] == 300


def test_exact_cash_gives_no_change_and_numbers_run_on(store: Store) -> None:
    first = pay(store, {"method": "bar", "given_cents": 900}, "meldebescheinigung_erweitert")
    second = pay(store, {"method": "bar", "given_cents": 5000}, "personenstandsurkunde_antrag")
    assert first.receipt is not None and second.receipt is not None
    assert first.receipt.change_cents == 0
    assert second.receipt.change_cents == 3800
    assert second.receipt.number == "Q-SCHALTER3-2026-000002"


def test_card_payment(store: Store) -> None:
    result = pay(store, CARD, "zweitschrift")
    assert result.receipt is not None
    assert (result.receipt.method, result.receipt.amount_cents, result.receipt.given_cents,
            result.receipt.change_cents) == ("karte", 300, None, None)
    fields = dict(result.documents[0].fields)
    assert fields["Zahlungsart"] == "Kartenzahlung"
    assert fields["Bezahlt"] == nbsp("3,00 €")
    assert "Rückgeld" not in fields


def test_exemption_with_reason_and_legal_basis_on_the_receipt(store: Store) -> None:
    result = pay(store, {"exemption": "rente"})
    receipt = result.receipt
    assert receipt is not None
    assert (receipt.method, receipt.amount_cents, receipt.exemption) == (
        "gebuehrenfrei", 0, "rente")
    assert receipt.exemption_reason == ("Vorlage bei Rentenversicherungsträger "
                                        "(§ 64 Abs. 2 SGB X)")
    fields = dict(result.documents[0].fields)
    assert fields["Zahlungsart"] == "Gebührenfrei"
    assert fields["Gebührenfrei"] == receipt.exemption_reason
    [entry] = journal_for_day(store, WS, DAY)
    assert (entry.method, entry.amount_cents, entry.exemption) == ("gebuehrenfrei", 0, "rente")


@pytest.mark.parametrize(("service", "payment", "field", "message"), [
    ("meldebescheinigung_einfach", {"method": "bar", "given_cents": 500}, "payment.given",
     "Der gegebene Betrag (5,00 €) ist kleiner als die Gebühr (7,00 €)."),
    ("meldebescheinigung_einfach", {"method": "bar"}, "payment.given",
     "Bitte den gegebenen Betrag eingeben."),
    ("meldebescheinigung_einfach", {"method": "bar", "given_cents": -100}, "payment.given",
     "Der gegebene Betrag darf nicht negativ sein."),
    ("meldebescheinigung_einfach", {"method": "bar", "given_cents": 5_000_000}, "payment.given",
     "Der gegebene Betrag (50.000,00 €) ist unplausibel hoch; bitte prüfen."),
    ("meldebescheinigung_einfach", {"method": "bar", "given_cents": "10,00"}, "payment.given",
     "Der gegebene Betrag muss ein Betrag in Cent (ganze Zahl) sein."),
    ("meldebescheinigung_einfach", {"method": "bar", "given_cents": True}, "payment.given",
     "Der gegebene Betrag muss ein Betrag in Cent (ganze Zahl) sein."),
    ("meldebescheinigung_einfach", {}, "payment.method",
     "Bitte die Zahlungsart wählen (bar oder Karte)."),
    ("meldebescheinigung_einfach", {"method": "scheck"}, "payment.method",
     "Unbekannte Zahlungsart „scheck“."),
    ("meldebescheinigung_einfach", {"exemption": "studium"}, "payment.exemption",
     "Unbekannte Gebührenbefreiung „studium“."),
    ("zweitschrift", {"exemption": "rente"}, "payment.exemption",
     "Die Befreiung „Vorlage bei Rentenversicherungsträger“ gilt nicht für die "
     "Dienstleistung Zweitschrift."),
    ("meldebescheinigung_einfach", {"exemption": "rente", "method": "bar", "given_cents": 700},
     "payment.method", "Bei einer Gebührenbefreiung wird nichts gezahlt: bitte Zahlungsart "
     "oder Befreiung abwählen."),
])
def test_bad_payment_is_refused_next_to_the_field_and_nothing_is_written(
        store: Store, service: str, payment: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(FormError) as info:
        pay(store, payment, service)
    assert info.value.errors == {field: nbsp(message)}
    assert count(store, "cash_journal") == count(store, "outbox") == count(store, "documents") == 0
    assert pay(store, CARD).receipt.number.endswith("-000001")  # type: ignore[union-attr]


def test_free_service_writes_no_journal_entry_and_no_receipt(store: Store) -> None:
    result = pay(store, {}, "lebensbescheinigung")
    also = pay(store, {"method": "bar", "given_cents": 500}, "anmeldung")
    assert result.receipt is None and also.receipt is None
    assert result.documents == () and also.documents == ()
    assert count(store, "cash_journal") == count(store, "documents") == 0
    assert count(store, "outbox") == 2


def test_double_submit_books_once_and_returns_the_same_receipt(store: Store) -> None:
    command = str(uuid.uuid4())
    first = pay(store, {"method": "bar", "given_cents": 2000}, command_id=command)
    second = pay(store, {"method": "bar", "given_cents": 2000}, command_id=command)
    assert second.replayed and not first.replayed
    assert second.receipt == first.receipt
    assert second.documents == first.documents
    assert count(store, "cash_journal") == 1
    assert count(store, "documents") == 1


# --- reversal --------------------------------------------------------------------------------

def test_storno_appends_a_negative_entry_and_the_original_stays(store: Store) -> None:
    pid = add_person(store, "Şahin", "Elif")
    paid = pay(store, {"method": "bar", "given_cents": 1000}, person_id=pid)
    assert paid.receipt is not None
    number = paid.receipt.number
    result = run(store, "storno", {"receipt_number": f" {number.lower()} ",
                                   "reason": "Falsche Bescheinigung gewählt"})

    original, reversal = journal_for_day(store, WS, DAY)
    assert (original.amount_cents, original.given_cents, original.reverses) == (700, 1000, None)
    assert (reversal.receipt_number, reversal.amount_cents, reversal.method,
            reversal.reverses) == (number, -700, "bar", original.id)
    assert reversal.is_reversal and not original.is_reversal
    assert result.receipt is not None and result.receipt.amount_cents == -700
    [doc] = result.documents
    assert (doc.type, doc.number, doc.receipt_number, doc.person_id) == (
        "storno", "ST-SCHALTER3-2026-000001", number, pid)
    fields = dict(doc.fields)
    assert fields["Erstattet"] == nbsp("7,00 €")
    assert fields["Grund"] == "Falsche Bescheinigung gewählt"


def test_storno_refusals(store: Store) -> None:
    paid = pay(store, CARD)
    assert paid.receipt is not None
    number = paid.receipt.number
    with pytest.raises(FormError) as info:
        run(store, "storno", {"receipt_number": number, "reason": " "})
    assert info.value.errors == {"reason": "Bitte den Grund der Stornierung angeben."}
    with pytest.raises(FormError) as info:
        run(store, "storno", {"receipt_number": "Q-SCHALTER3-2026-999999", "reason": "x"})
    assert info.value.errors == {
        "receipt_number": "Die Quittung Q-SCHALTER3-2026-999999 ist im Kassenbuch nicht "
                          "vorhanden."}

    storno = run(store, "storno", {"receipt_number": number, "reason": "Doppelt kassiert"})
    with pytest.raises(FormError) as info:
        run(store, "storno", {"receipt_number": number, "reason": "nochmal"})
    assert info.value.errors == {
        "receipt_number": f"Die Quittung {number} wurde bereits am 25.11.2026 storniert."}
    with pytest.raises(FormError) as info:
        run(store, "storno", {"receipt_number": storno.documents[0].number, "reason": "zurück"})
    assert "eine Stornierung kann nicht storniert werden" in info.value.errors["receipt_number"]
    assert count(store, "cash_journal") == 2


def test_the_schema_itself_allows_one_reversal_per_receipt(store: Store) -> None:
    pay(store, CARD)
    run(store, "storno", {"receipt_number": "Q-SCHALTER3-2026-000001", "reason": "x"})
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute(
            "INSERT INTO cash_journal (at, business_day, workstation, clerk, command_id, "
            "receipt_number, service, method, amount_cents, reverses) "
            "SELECT at, business_day, workstation, clerk, 'c', receipt_number, service, method,"
            " amount_cents, reverses FROM cash_journal WHERE reverses IS NOT NULL")


def test_paid_online_is_booked_with_its_reference_and_not_as_cash(store: Store) -> None:
    result = pay(store, {"method": "online", "reference": "PAY-2026-42", "paid_cents": 700})
    assert result.receipt is not None and result.receipt.method == "online"
    rows = store.query("SELECT method, amount_cents, given_cents, payment_reference FROM "
                       "cash_journal")
    assert rows == [{"method": "online", "amount_cents": 700, "given_cents": None,
                     "payment_reference": "PAY-2026-42"}]
    totals = closing_preview(store, WS, DAY)
    assert totals.by_method["online"] == Total(1, 0, 700) and totals.expected_cash_cents == 0


@pytest.mark.parametrize("payment", [
    {"method": "online", "paid_cents": 700},                                   # no reference
    {"method": "online", "reference": "x; DROP", "paid_cents": 700},          # not a reference
    {"method": "online", "reference": "PAY-2026-42", "paid_cents": 500},      # not the fee
])
def test_online_payment_problems_are_field_errors(store: Store, payment: dict[str, Any]) -> None:
    with pytest.raises(FormError) as info:
        pay(store, payment)
    assert "payment.method" in info.value.errors
    assert store.query("SELECT * FROM cash_journal") == []


# --- daily closing ---------------------------------------------------------------------------

def _a_day_of_business(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 1000})                       # +7,00 bar
    pay(store, {"method": "bar", "given_cents": 900}, "meldebescheinigung_erweitert")
    pay(store, CARD, "personenstandsurkunde_antrag")         # +12,00 Karte
    pay(store, {"exemption": "rente"})                                      # 0, gebührenfrei
    pay(store, {}, "anmeldung")                                             # no entry
    run(store, "storno", {"receipt_number": "Q-SCHALTER3-2026-000002", "reason": "Irrtum"})
    pay(store, {"method": "bar", "given_cents": 1000}, day=date(2026, 11, 24))  # other day


def test_closing_totals_per_method_and_per_service(store: Store) -> None:
    _a_day_of_business(store)
    totals = closing_preview(store, WS, DAY)
    assert (totals.entries, totals.reversals) == (4, 1)
    assert totals.by_method == {"bar": Total(2, 1, 700), "karte": Total(1, 0, 1200),
                                "gebuehrenfrei": Total(1, 0, 0), "online": Total(0, 0, 0)}
    assert totals.by_service == {"meldebescheinigung_einfach": Total(2, 0, 700),
                                 "meldebescheinigung_erweitert": Total(1, 1, 0),
                                 "personenstandsurkunde_antrag": Total(1, 0, 1200)}
    assert (totals.expected_cash_cents, totals.total_cents) == (700, 1900)
    assert count(store, "closings") == 0  # a preview writes nothing
    assert ClosingTotals.from_dict(totals.to_dict()) == totals


def test_closing_records_the_difference_and_issues_a_document(store: Store) -> None:
    _a_day_of_business(store)
    preview = closing_preview(store, WS, DAY)
    result = run(store, "tagesabschluss", {"counted_cash_cents": 600, **confirmed_difference(
        store, "Wechselgeld falsch herausgegeben")})

    [row] = store.query("SELECT * FROM closings")
    last_id = max(e.id for e in journal_for_day(store, WS, DAY))
    assert (row["workstation"], row["business_day"], row["clerk"], row["last_entry_id"]) == (
        WS, "2026-11-25", "mmuster", last_id)
    assert (row["expected_cash_cents"], row["counted_cash_cents"], row["difference_cents"]) == (
        700, 600, -100)
    assert ClosingTotals.from_dict(json.loads(row["totals"])) == preview
    [doc] = result.documents
    assert (doc.type, doc.title, doc.number, doc.person_id) == (
        "tagesabschluss", "Tagesabschluss", "TA-SCHALTER3-2026-000001", None)
    fields = dict(doc.fields)
    assert fields["Geschäftstag"] == "25.11.2026"
    assert fields["Barzahlung"] == nbsp("2 × – 7,00 € (Stornierungen: 1)")
    assert fields["Kartenzahlung"] == nbsp("1 × – 12,00 €")
    assert fields["Antrag auf Personenstandsurkunde"] == nbsp("1 × – 12,00 €")
    assert fields["Bargeld Soll"] == nbsp("7,00 €")
    assert fields["Differenz"] == nbsp("-1,00 €")
    assert result.notices == (nbsp("Kassendifferenz -1,00 € festgehalten (Soll 7,00 €, "
                                   "gezählt 6,00 €)."),)
    assert is_closed(store, WS, DAY)


def test_second_closing_and_payments_after_closing_are_refused(store: Store) -> None:
    paid = pay(store, {"method": "bar", "given_cents": 700})
    assert paid.receipt is not None
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    closed = "Der Tagesabschluss für den 25.11.2026 ist bereits erfolgt."

    with pytest.raises(ValidationError) as info:
        run(store, "tagesabschluss", {"counted_cash_cents": 700, "business_day": "2026-11-25"})
    assert info.value.message_de.startswith(closed)
    for payment in (CARD, {"exemption": "rente"}):
        with pytest.raises(ValidationError) as info:
            pay(store, payment)
        assert info.value.message_de.startswith(closed)
    with pytest.raises(FormError) as info:
        run(store, "storno", {"receipt_number": paid.receipt.number, "reason": "x"})
    assert "Tagesabschluss vom 25.11.2026" in info.value.errors["receipt_number"]

    assert pay(store, {}, "anmeldung").receipt is None  # nothing to book: still possible
    assert pay(store, CARD, day=date(2026, 11, 26)).receipt is not None
    assert count(store, "cash_journal") == 2
    assert count(store, "closings") == 1


def test_closing_an_earlier_day_and_form_errors(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 700}, day=date(2026, 11, 24))
    run(store, "tagesabschluss", {"counted_cash_cents": 700, "business_day": "2026-11-24"})
    assert is_closed(store, WS, date(2026, 11, 24)) and not is_closed(store, WS, DAY)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"counted_cash_cents": 0, "business_day": "2026-11-26"}, "business_day"),
        ({"counted_cash_cents": 0, "business_day": "25.11.2026"}, "business_day"),
        ({}, "counted_cash_cents"),
        ({"counted_cash_cents": -5}, "counted_cash_cents")]
    for form, field in cases:
        with pytest.raises(FormError) as info:
            run(store, "tagesabschluss", form)
        assert set(info.value.errors) == {field}


def test_closing_counts_only_its_own_workstation(tmp_path: Path) -> None:
    path, key = tmp_path / "shared.db", new_key()
    with open_store(path, key, Actor("mmuster", WS, COUNTER_ROLES), create=True) as one, \
            open_store(path, key, Actor("eschmidt", "Schalter 5", COUNTER_ROLES)) as five:
        pay(one, {"method": "bar", "given_cents": 700})
        other = pay(five, {"method": "bar", "given_cents": 900}, "meldebescheinigung_erweitert")
        assert other.receipt is not None and other.receipt.number.startswith("Q-SCHALTER5-")
        run(one, "tagesabschluss", {"counted_cash_cents": 700})
        assert closing_preview(five, "Schalter 5", DAY).expected_cash_cents == 900
        assert pay(five, CARD).receipt is not None  # Schalter 5 is still open
        [row] = one.query("SELECT expected_cash_cents, difference_cents FROM closings")
        assert row == {"expected_cash_cents": 700, "difference_cents": 0}


# --- append-only -----------------------------------------------------------------------------

def test_triggers_block_update_and_delete(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 1000})
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    for sql in ("UPDATE cash_journal SET amount_cents = 0",
                "DELETE FROM cash_journal"):
        with pytest.raises(sqlcipher3.DatabaseError, match="cash journal is append-only"):
            store.conn.execute(sql)
    for sql in ("UPDATE closings SET difference_cents = 0", "DELETE FROM closings"):
        with pytest.raises(sqlcipher3.DatabaseError, match="closings are final"):
            store.conn.execute(sql)
    assert journal_for_day(store, WS, DAY)[0].amount_cents == 700


def test_the_cashbook_never_updates_or_deletes(store: Store) -> None:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    _a_day_of_business(store)
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    store.conn.set_trace_callback(None)
    touching = [s for s in statements if re.search(r"\b(cash_journal|closings)\b", s)]
    assert any(s.lstrip().upper().startswith("INSERT") for s in touching)
    assert not [s for s in touching if re.match(r"\s*(UPDATE|DELETE)\b", s, re.IGNORECASE)]


# --- four eyes on a cash difference, reopening a closed day ------------------------------------

def test_a_cash_difference_needs_its_reason_and_a_second_clerk_with_teamleitung(
        store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 700})
    cache_login(store, "tleitung", ("teamleitung",))
    cache_login(store, "kollege", ("sachbearbeitung",))
    short = {"counted_cash_cents": 650}
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "difference_reason"),
        ({"difference_reason": "Rückgeld"}, "confirm_login"),
        ({"difference_reason": "Rückgeld", "confirm_login": "mmuster",
          "confirm_password": TEAM_PASSWORD}, "confirm_login"),          # not a second person
        ({"difference_reason": "Rückgeld", "confirm_login": "kollege",
          "confirm_password": TEAM_PASSWORD}, "confirm_login"),          # no Teamleitung
        ({"difference_reason": "Rückgeld", "confirm_login": "tleitung",
          "confirm_password": "geraten"}, "confirm_password")]
    for extra, field in cases:
        with pytest.raises(FormError) as info:
            run(store, "tagesabschluss", {**short, **extra})
        assert field in info.value.errors, (extra, info.value.errors)
    assert count(store, "closings") == 0
    result = run(store, "tagesabschluss", {**short, "difference_reason": "Rückgeld",
                                           "confirm_login": "TLeitung",
                                           "confirm_password": TEAM_PASSWORD})
    [row] = store.query("SELECT difference_cents, difference_reason, confirmed_by, round "
                        "FROM closings")
    assert row == {"difference_cents": -50, "difference_reason": "Rückgeld",
                   "confirmed_by": "tleitung", "round": 1}
    fields = dict(result.documents[0].fields)
    assert fields["Grund der Differenz"] == "Rückgeld"
    assert fields["Bestätigt von (Teamleitung)"] == "tleitung"
    outbox = json.loads(store.query("SELECT payload FROM outbox WHERE type = 'tagesabschluss'"
                                    )[0]["payload"])
    assert TEAM_PASSWORD not in json.dumps(outbox), "the password never leaves the form"


def test_no_difference_needs_no_confirmation(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 700})
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    assert store.query("SELECT confirmed_by FROM closings") == [{"confirmed_by": None}]


def test_only_teamleitung_reopens_a_closed_day_with_a_reason(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 700})
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    counter = Store(store.conn, store.path, Actor("kasse1", WS, ("kasse", "sachbearbeitung")))
    with pytest.raises(PermissionDenied):
        run(counter, "tagesabschluss_aufheben", {"reason": "Nachbuchung"})
    with pytest.raises(FormError) as info:
        run(store, "tagesabschluss_aufheben", {})
    assert "reason" in info.value.errors
    result = run(store, "tagesabschluss_aufheben", {"reason": "Karte nachbuchen"})
    assert not is_closed(store, WS, DAY) and result.notices
    [row] = store.query("SELECT clerk, reason, closing_round FROM day_reopenings")
    assert row == {"clerk": "mmuster", "reason": "Karte nachbuchen", "closing_round": 1}
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("DELETE FROM day_reopenings")
    # Bookings again, then the day is closed anew in a second round.
    assert pay(store, CARD).receipt is not None
    run(store, "tagesabschluss", {"counted_cash_cents": 700})
    assert is_closed(store, WS, DAY)
    assert [r["round"] for r in store.query("SELECT round FROM closings ORDER BY id")] == [1, 2]
    with pytest.raises(FormError):
        run(store, "tagesabschluss_aufheben", {"reason": "x", "business_day": "2026-11-20"})


# --- the cash desk's day: starting float, terminal receipt, Storno reason ---------------------

def test_the_starting_float_is_counted_into_the_expected_cash(store: Store) -> None:
    """Expected cash = float + cash receipts − cash refunds; the float comes once a day,
    with the first cash payment or on its own (Kasse screen)."""
    paid = pay(store, {"method": "bar", "given_cents": 1000, "float_cents": 15_000})   # +7,00
    assert paid.receipt is not None
    pay(store, {"method": "bar", "given_cents": 900}, "meldebescheinigung_erweitert")  # +9,00
    run(store, "storno", {"receipt_number": "Q-SCHALTER3-2026-000002", "reason": "Irrtum"})
    totals = closing_preview(store, WS, DAY)
    assert (totals.float_cents, totals.expected_cash_cents) == (15_000, 15_700)
    with pytest.raises(FormError) as again:   # once per day and workstation
        run(store, "wechselgeld", {"float_cents": 10_000})
    assert again.value.errors == {"float_cents": "Das Wechselgeld für heute ist an diesem "
                                                 "Arbeitsplatz bereits erfasst."}
    with pytest.raises(FormError) as twice:
        pay(store, {"method": "bar", "given_cents": 700, "float_cents": 100})
    assert "bereits erfasst" in twice.value.errors["payment.float_cents"]
    result = run(store, "tagesabschluss", {"counted_cash_cents": 15_700})
    fields = dict(result.documents[0].fields)
    assert fields["Wechselgeld"] == nbsp("150,00 €")
    assert fields["Bargeld Soll"] == nbsp("157,00 €") and fields["Differenz"] == nbsp("0,00 €")
    tomorrow = date(2026, 11, 26)
    assert closing_preview(store, WS, tomorrow).float_cents == 0, "per day"
    run(store, "wechselgeld", {"float_cents": 20_000}, day=tomorrow)
    assert closing_preview(store, WS, tomorrow).expected_cash_cents == 20_000
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("UPDATE cash_floats SET cents = 0")


@pytest.mark.parametrize(("value", "problem"), [
    (None, "Bitte das Wechselgeld zu Tagesbeginn eingeben (0 für keines)."),
    ("100", "Bitte das Wechselgeld zu Tagesbeginn eingeben (0 für keines)."),
    (-1, "nicht plausibel"), (500_001, "nicht plausibel"),
])
def test_an_implausible_float_is_refused(store: Store, value: Any, problem: str) -> None:
    with pytest.raises(FormError) as refused:
        run(store, "wechselgeld", {"float_cents": value})
    assert problem in refused.value.errors["float_cents"]
    assert count(store, "cash_floats") == 0


def test_a_card_payment_records_the_terminal_receipt(store: Store) -> None:
    with pytest.raises(FormError) as missing:
        pay(store, {"method": "karte"})
    assert missing.value.errors == {
        "payment.terminal_receipt": "Bitte die Belegnummer des Kartenterminals angeben."}
    with pytest.raises(FormError) as odd:
        pay(store, {"method": "karte", "terminal_receipt": "12 34"})
    assert "Belegnummer" in odd.value.errors["payment.terminal_receipt"]
    result = pay(store, {"method": "karte", "terminal_receipt": "004711"})
    [entry] = journal_for_day(store, WS, DAY)
    assert (entry.method, entry.terminal_receipt) == ("karte", "004711")
    receipt = next(d for d in result.documents if d.type == "quittung")
    assert dict(receipt.fields)["Kartenterminal-Beleg"] == "004711"


def test_the_storno_reason_is_in_the_journal(store: Store) -> None:
    pay(store, {"method": "bar", "given_cents": 700})
    run(store, "storno", {"receipt_number": "Q-SCHALTER3-2026-000001",
                          "reason": "falsche Dienstleistung gewählt"})
    original, reversal = journal_for_day(store, WS, DAY)
    assert (original.reason, reversal.reason) == (None, "falsche Dienstleistung gewählt")
