"""The cash journal (Kassenbuch): taking a service's payment, and reading the journal.

Every fee taken or waived is one journal row, written in the same transaction as the service
it pays for, so a certificate is never issued without its payment or vice versa. The journal
is append-only (the schema's triggers refuse UPDATE and DELETE): a mistake is corrected by a
reversing entry, never by changing history, so that the cash audit can follow every cent. The
reversal (Storno) and the daily closing (Tagesabschluss), which freezes one workstation's day,
are counter services of their own in `clerk_app.services.cash`; they read the journal here.

What must be the same on the workstation and the central service (receipt numbers, amounts,
the business day, workstation and clerk) is fixed when a command is prepared and travels in
its payload; `apply` only writes what the payload says, so the central service books the same
entry days later. This module never UPDATEs or DELETEs journal or closing rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from clerk_app.errors import ConfigError, ValidationError
from clerk_app.fees import fee_for, fee_schedule, format_cents
from clerk_app.form_reading import Section
from clerk_app.services.base import IssuedDocument, Receipt, ServiceContext
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

__all__ = [
    "MAX_GIVEN_CENTS",
    "METHODS",
    "ClosingTotals",
    "JournalEntry",
    "Total",
    "apply_payment",
    "closing_preview",
    "is_closed",
    "journal_entry",
    "journal_for_day",
    "prepare_payment",
    "read_payment",
    "refuse_if_closed",
    "service_name",
]

# Payment methods as stored in the journal, with the wording on receipts and closings.
METHODS = {"bar": "Barzahlung", "karte": "Kartenzahlung", "gebuehrenfrei": "Gebührenfrei",
           "online": "online bezahlt"}
# A payment provider's reference of a fee paid online (what the portal sends with the request).
ONLINE_REFERENCE = re.compile(r"^[A-Za-z0-9-]{6,40}$")
# Plausibility limit of the cash handed over: more is a typing error (an extra zero), not money.
MAX_GIVEN_CENTS = 100_000


@dataclass(frozen=True)
class JournalEntry:
    """One row of the cash journal; a reversal has a negative amount and `reverses` set."""

    id: int
    at: str
    business_day: date
    workstation: str
    clerk: str
    command_id: str
    receipt_number: str
    service: str
    method: str
    amount_cents: int
    given_cents: int | None
    change_cents: int | None
    exemption: str | None
    reverses: int | None
    payment_reference: str | None = None

    @property
    def is_reversal(self) -> bool:
        return self.reverses is not None


@dataclass(frozen=True)
class Total:
    """Entries of one payment method or service: payments, reversals, net amount."""

    count: int = 0
    reversals: int = 0
    cents: int = 0

    def plus(self, entry: JournalEntry) -> Total:
        return Total(self.count + (not entry.is_reversal), self.reversals + entry.is_reversal,
                     self.cents + entry.amount_cents)


@dataclass(frozen=True)
class ClosingTotals:
    """What one workstation's journal says for one day (reversals netted in)."""

    workstation: str
    business_day: date
    entries: int
    reversals: int
    by_method: dict[str, Total]
    by_service: dict[str, Total]
    total_cents: int
    expected_cash_cents: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "business_day": self.business_day.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClosingTotals:
        return cls(**{**data, "business_day": date.fromisoformat(data["business_day"]),
                      "by_method": {k: Total(**v) for k, v in data["by_method"].items()},
                      "by_service": {k: Total(**v) for k, v in data["by_service"].items()}})


# --- payments: called by the services that charge a fee --------------------------------------

def prepare_payment(ctx: ServiceContext, service_code: str,
                    payment_form: Mapping[str, Any] | None) -> dict[str, Any]:
    """`read_payment` for a service whose form is only the payment: its problems raised as
    one FormError (keyed `payment.…`)."""
    form = Section(payment_form or {}, "payment.")
    payment = read_payment(ctx, service_code, form)
    form.raise_errors()
    return payment


def read_payment(ctx: ServiceContext, service_code: str, form: Section,
                 copies: int = 1) -> dict[str, Any]:
    """Check what the clerk chose and fix the payment: amount, change, receipt number.

    `form` is the service form's payment part: `{"method": "bar", "given_cents": 1000}`,
    `{"method": "karte"}` or `{"exemption": "rente"}`; for a free service `{}`. Problems are
    recorded in it at `method`, `given` or `exemption`, so that they join the service's own;
    a closed day is no field error and raises ValidationError. Returns the JSON-able payload
    for `apply_payment`; the fee is frozen into it, so a later change of the schedule does not
    change a payment already taken. Only a valid payment gets a receipt number. `copies`:
    the schedule's fee is per copy (`Fee.times`).
    """
    fee = fee_for(service_code).times(copies)
    payload: dict[str, Any] = {
        "service": fee.code, "service_name": fee.name, "fee_cents": fee.cents,
        "copies": fee.copies, "unit_cents": fee.unit_cents,
        "method": None, "amount_cents": 0, "given_cents": None, "change_cents": None,
        "exemption": None, "exemption_reason": None, "exemption_legal_basis": None,
        "receipt_number": None, "payment_reference": None,
        "business_day": ctx.today.isoformat(),
        "workstation": ctx.workstation, "clerk": ctx.clerk,
        "at": ctx.now.isoformat(timespec="seconds"),
    }
    method = form.value("method")
    exemption_code = form.value("exemption")
    if exemption_code is not None:
        exemption = fee.exemption(str(exemption_code))
        if exemption is None:
            form.error("exemption", _exemption_problem(fee.name, str(exemption_code)))
        else:
            payload.update(method="gebuehrenfrei", exemption=exemption.code,
                           exemption_reason=exemption.reason,
                           exemption_legal_basis=exemption.legal_basis)
        if method not in (None, "gebuehrenfrei"):
            form.error("method", "Bei einer Gebührenbefreiung wird nichts gezahlt: bitte "
                                 "Zahlungsart oder Befreiung abwählen.")
    elif fee.cents == 0:
        return payload  # free of charge: no journal entry, no receipt
    elif method == "karte":
        payload.update(method="karte", amount_cents=fee.cents)
    elif method == "online":
        _read_online(form, fee.cents, payload)
    elif method == "bar":
        given = _given_cents(form, fee.cents)
        if given is not None:
            payload.update(method="bar", amount_cents=fee.cents, given_cents=given,
                           change_cents=given - fee.cents)
    else:
        form.error("method", "Bitte die Zahlungsart wählen (bar oder Karte)."
                   if method is None else f"Unbekannte Zahlungsart „{method}“.")
    if form.has_errors():
        return payload
    refuse_if_closed(ctx.conn, ctx.workstation, ctx.today)
    payload["receipt_number"] = ctx.number("Q")
    return payload


def _read_online(form: Section, fee_cents: int, payload: dict[str, Any]) -> None:
    """A fee paid at the portal (an online application): the provider's reference, and the
    amount paid, which must be the fee."""
    reference = form.value("reference")
    paid = form.value("paid_cents")
    if not isinstance(reference, str) or not ONLINE_REFERENCE.match(reference):
        form.error("method", "Die Zahlungsreferenz der Online-Zahlung fehlt oder ist ungültig.")
    elif paid != fee_cents:
        form.error("method", f"Online wurden {format_cents(paid if isinstance(paid, int) else 0)}"
                             f" bezahlt, die Gebühr beträgt {format_cents(fee_cents)}: bitte "
                             "klären, bevor der Antrag erledigt wird.")
    else:
        payload.update(method="online", amount_cents=fee_cents, payment_reference=reference)


def apply_payment(ctx: ServiceContext, payment_payload: Mapping[str, Any],
                  person_id: str | None = None) -> Receipt | None:
    """Book the prepared payment: journal entry, receipt document, `ctx.receipt`.

    Returns None (and writes nothing) for a free service without an exemption. `person_id`
    is whom the receipt document is filed under (None for no one).
    """
    p = payment_payload
    number = p.get("receipt_number")
    if number is None:
        return None
    ctx.conn.execute(
        "INSERT INTO cash_journal (at, business_day, workstation, clerk, command_id, "
        "receipt_number, service, method, amount_cents, given_cents, change_cents, exemption, "
        "payment_reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (p["at"], p["business_day"], p["workstation"], p["clerk"], ctx.command_id, number,
         p["service"], p["method"], p["amount_cents"], p["given_cents"], p["change_cents"],
         p["exemption"], p.get("payment_reference")))
    exemption_text = (f"{p['exemption_reason']} ({p['exemption_legal_basis']})"
                      if p["exemption"] else None)
    receipt = Receipt(number=number, service=p["service"], method=p["method"],
                      amount_cents=p["amount_cents"], given_cents=p["given_cents"],
                      change_cents=p["change_cents"], exemption=p["exemption"],
                      exemption_reason=exemption_text)
    fields = [("Dienstleistung", p["service_name"])]
    copies = p.get("copies", 1)   # payloads queued before copies were charged have none
    if copies > 1:
        fields.append(("Anzahl", f"{copies} × {format_cents(p['unit_cents'])}"))
    fields += [("Gebühr", format_cents(p["fee_cents"])), ("Zahlungsart", METHODS[p["method"]])]
    if p["method"] == "bar":
        fields += [("Gegeben", format_cents(p["given_cents"])),
                   ("Rückgeld", format_cents(p["change_cents"]))]
    elif p["method"] == "karte":
        fields.append(("Bezahlt", format_cents(p["amount_cents"])))
    elif p["method"] == "online":
        fields += [("Bezahlt", format_cents(p["amount_cents"])),
                   ("Zahlungsreferenz", str(p["payment_reference"]))]
    else:
        fields.append(("Gebührenfrei", str(exemption_text)))
    fields.append(("Kasse", p["workstation"]))
    ctx.issue_document(IssuedDocument(number=number, type="quittung", title="Quittung",
                                      person_id=person_id, fields=tuple(fields),
                                      receipt_number=number))
    ctx.receipt = receipt
    return receipt


def _given_cents(form: Section, fee_cents: int) -> int | None:
    """The cash handed over, in cents; None if that is missing or implausible (recorded at
    `given`, where the UI shows the amount field)."""
    value = form.value("given_cents")
    if value is None:
        problem = "Bitte den gegebenen Betrag eingeben."
    elif isinstance(value, bool) or not isinstance(value, int):
        problem = "Der gegebene Betrag muss ein Betrag in Cent (ganze Zahl) sein."
    elif value < 0:
        problem = "Der gegebene Betrag darf nicht negativ sein."
    elif value > MAX_GIVEN_CENTS:
        problem = (f"Der gegebene Betrag ({format_cents(value)}) ist unplausibel hoch; "
                   "bitte prüfen.")
    elif value < fee_cents:
        problem = (f"Der gegebene Betrag ({format_cents(value)}) ist kleiner als die Gebühr "
                   f"({format_cents(fee_cents)}).")
    else:
        return value
    form.error("given", problem)
    return None


def _exemption_problem(service_name: str, code: str) -> str:
    if code not in fee_schedule().exemptions:
        return f"Unbekannte Gebührenbefreiung „{code}“."
    reason = fee_schedule().exemptions[code].reason
    return f"Die Befreiung „{reason}“ gilt nicht für die Dienstleistung {service_name}."


# --- reading the journal ---------------------------------------------------------------------

def journal_for_day(store: Store, workstation: str, day: date) -> list[JournalEntry]:
    """One workstation's entries of one business day, in booking order (reversals included)."""
    return _entries(store.conn, workstation, day)


def closing_preview(store: Store, workstation: str, day: date) -> ClosingTotals:
    """What the daily closing would record now, without writing anything."""
    return _totals(store.conn, workstation, day)


def is_closed(store: Store, workstation: str, day: date) -> bool:
    """Whether the daily closing of this workstation and day is done."""
    return _closed(store.conn, workstation, day)


def _entries(conn: Any, workstation: str, day: date) -> list[JournalEntry]:
    rows = fetch_dicts(conn, "SELECT * FROM cash_journal WHERE workstation = ? "
                             "AND business_day = ? ORDER BY id", (workstation, day.isoformat()))
    return [journal_entry(row) for row in rows]


def journal_entry(row: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(**{**row, "business_day": date.fromisoformat(row["business_day"])})


def _totals(conn: Any, workstation: str, day: date) -> ClosingTotals:
    entries = _entries(conn, workstation, day)
    by_method = {method: Total() for method in METHODS}
    by_service: dict[str, Total] = {}
    for entry in entries:
        by_method[entry.method] = by_method[entry.method].plus(entry)
        by_service[entry.service] = by_service.get(entry.service, Total()).plus(entry)
    reversals = sum(e.is_reversal for e in entries)
    return ClosingTotals(
        workstation=workstation, business_day=day, entries=len(entries) - reversals,
        reversals=reversals, by_method=by_method, by_service=dict(sorted(by_service.items())),
        total_cents=sum(e.amount_cents for e in entries),
        expected_cash_cents=by_method["bar"].cents)


def _closed(conn: Any, workstation: str, day: date) -> bool:
    """A closing of the day that Teamleitung has not reopened."""
    return conn.execute(
        "SELECT 1 FROM closings c WHERE workstation = ? AND business_day = ? AND NOT EXISTS "
        "(SELECT 1 FROM day_reopenings r WHERE r.workstation = c.workstation AND "
        "r.business_day = c.business_day AND r.closing_round = c.round)",
        (workstation, day.isoformat())).fetchone() is not None


def last_round(conn: Any, workstation: str, day: date) -> int:
    """How many times the day was closed (0: never)."""
    return int(conn.execute("SELECT coalesce(max(round), 0) FROM closings WHERE "
                            "workstation = ? AND business_day = ?",
                            (workstation, day.isoformat())).fetchone()[0])


def refuse_if_closed(conn: Any, workstation: str, day: date) -> None:
    if _closed(conn, workstation, day):
        raise ValidationError(
            f"Der Tagesabschluss für den {day:%d.%m.%Y} ist bereits erfolgt. An diesem "
            "Arbeitsplatz kann für diesen Tag nichts mehr gebucht werden.",
            "daily closing of this workstation and day is already done")


def service_name(code: str) -> str:
    try:
        return fee_for(code).name
    except ConfigError:  # a service since removed from the schedule: its code still says it
        return code
