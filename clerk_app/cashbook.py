"""The cash journal (Kassenbuch): taking a service's payment, and reading the journal.

Every fee taken or waived is one journal row, written in the same transaction as the service
it pays for, so a certificate is never issued without its payment or vice versa. The journal
is append-only (the schema's triggers refuse UPDATE and DELETE): a mistake is corrected by a
reversing entry, never by changing history, so that the cash audit can follow every cent. The
reversal (Storno) and the daily closing (Tagesabschluss), which freezes one workstation's day,
are counter services of their own in `clerk_app.services.cash`; they read the journal here.

The day's starting float (Wechselgeld) is recorded once per workstation and business day, at
the first cash action of the day (in its payment, `payment.float_cents`) or on its own in the
Kasse screen (`services.cash.Wechselgeld`); both write it through `record_float`. The closing
expects float + cash taken − cash refunded in the drawer. A card payment names the terminal's
receipt number (`payment.terminal_receipt`): on the receipt and in the journal.

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
    "MAX_FLOAT_CENTS",
    "MAX_GIVEN_CENTS",
    "METHODS",
    "ClosingTotals",
    "JournalEntry",
    "Total",
    "apply_payment",
    "closing_preview",
    "day_float",
    "float_to_ask",
    "is_closed",
    "journal_entry",
    "journal_for_day",
    "prepare_payment",
    "read_float",
    "read_payment",
    "record_float",
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
# Plausibility limit of a starting float (Wechselgeld): more is a typing error.
MAX_FLOAT_CENTS = 500_000
# The card terminal's receipt number (Belegnummer / Trace-Nr.) as printed on its slip.
TERMINAL_RECEIPT_MAX = 20


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
    terminal_receipt: str | None = None   # a card payment's terminal receipt number
    reason: str | None = None             # a reversal's reason (Storno)
    payment_reference: str | None = None  # a fee paid online: the provider's reference

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
    expected_cash_cents: int   # float + cash taken − cash refunded
    float_cents: int = 0       # the day's starting float (none recorded: 0)

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
        payload.update(method="karte", amount_cents=fee.cents,
                       terminal_receipt=_terminal_receipt(form))
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
    if form.value("float_cents") is not None:
        payload["float"] = read_float(ctx, form, "float_cents")
    if form.has_errors():
        return payload
    refuse_if_closed(ctx.conn, ctx.workstation, ctx.today)
    payload["receipt_number"] = ctx.number("Q")
    return payload


def _terminal_receipt(form: Section) -> str | None:
    """The card terminal's receipt number: letters, digits, '-' and '/', as on its slip."""
    number = form.text("terminal_receipt", required=True, max_length=TERMINAL_RECEIPT_MAX,
                       ask="die Belegnummer des Kartenterminals")
    if number is not None and not all(c.isascii() and (c.isalnum() or c in "-/")
                                      for c in number):
        form.error("terminal_receipt", "Die Belegnummer des Kartenterminals besteht aus "
                                       "Ziffern, Buchstaben, „-“ und „/“.")
        return None
    return number


def read_float(ctx: ServiceContext, form: Section, key: str) -> dict[str, Any] | None:
    """The day's starting float from `form[key]` (cents), checked: a whole amount, not
    implausible, not recorded for this workstation and day yet. The payload `record_float`
    writes (None: a problem, recorded at `key`)."""
    value = form.value(key)
    problem = None
    if isinstance(value, bool) or not isinstance(value, int):
        problem = "Bitte das Wechselgeld zu Tagesbeginn eingeben (0 für keines)."
    elif not 0 <= value <= MAX_FLOAT_CENTS:
        problem = (f"Das Wechselgeld ({format_cents(value)}) ist nicht plausibel; bitte "
                   "prüfen.")
    elif _day_float(ctx.conn, ctx.workstation, ctx.today) is not None:
        problem = ("Das Wechselgeld für heute ist an diesem Arbeitsplatz bereits erfasst.")
    if problem is not None:
        form.error(key, problem)
        return None
    assert isinstance(value, int)
    return {"workstation": ctx.workstation, "business_day": ctx.today.isoformat(),
            "cents": value, "clerk": ctx.clerk, "at": ctx.now.isoformat(timespec="seconds")}


def record_float(ctx: ServiceContext, payload: Mapping[str, Any]) -> None:
    """Write the starting float `read_float` checked (on the workstation and, replayed, on
    the central service)."""
    ctx.conn.execute(
        "INSERT INTO cash_floats (workstation, business_day, cents, clerk, at, command_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (payload["workstation"], payload["business_day"], int(payload["cents"]),
         payload["clerk"], payload["at"], ctx.command_id))


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
    if p.get("float"):
        record_float(ctx, p["float"])
    ctx.conn.execute(
        "INSERT INTO cash_journal (at, business_day, workstation, clerk, command_id, "
        "receipt_number, service, method, amount_cents, given_cents, change_cents, exemption, "
        "terminal_receipt, payment_reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (p["at"], p["business_day"], p["workstation"], p["clerk"], ctx.command_id, number,
         p["service"], p["method"], p["amount_cents"], p["given_cents"], p["change_cents"],
         p["exemption"], p.get("terminal_receipt"), p.get("payment_reference")))
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
        if p.get("terminal_receipt"):
            fields.append(("Kartenterminal-Beleg", str(p["terminal_receipt"])))
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


def day_float(store: Store, workstation: str, day: date) -> int | None:
    """The starting float recorded for this workstation and day, in cents (None: none yet)."""
    return _day_float(store.conn, workstation, day)


def _day_float(conn: Any, workstation: str, day: date) -> int | None:
    row = conn.execute("SELECT cents FROM cash_floats WHERE workstation = ? AND "
                       "business_day = ?", (workstation, day.isoformat())).fetchone()
    return int(row[0]) if row else None


def float_to_ask(store: Store, workstation: str, day: date) -> int | None:
    """None if the day's float is recorded; else what to offer the clerk: the float of this
    workstation's last day (the drawer usually starts with the same), or 0 the first time."""
    if day_float(store, workstation, day) is not None:
        return None
    row = store.conn.execute("SELECT cents FROM cash_floats WHERE workstation = ? AND "
                             "business_day < ? ORDER BY business_day DESC LIMIT 1",
                             (workstation, day.isoformat())).fetchone()
    return int(row[0]) if row else 0


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
    float_cents = _day_float(conn, workstation, day) or 0
    return ClosingTotals(
        workstation=workstation, business_day=day, entries=len(entries) - reversals,
        reversals=reversals, by_method=by_method, by_service=dict(sorted(by_service.items())),
        total_cents=sum(e.amount_cents for e in entries),
        expected_cash_cents=float_cents + by_method["bar"].cents, float_cents=float_cents)


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
