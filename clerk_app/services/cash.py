"""The cash desk's own counter services: the day's starting float (Wechselgeld), reversing a
receipt (Storno) and closing the day (Tagesabschluss).

Both are commands like every other service: prepared and applied in one transaction on the
workstation, replayed by the central service from the same payload. What must be the same on
both ends (document numbers, the business day, workstation and clerk, the closing's totals) is
fixed in `prepare` and travels in the payload; `apply` only writes what the payload says, so
the central service books the same entry days later. Neither ever UPDATEs or DELETEs journal or
closing rows: a reversal is a negative entry pointing at the original, which stays.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from clerk_app import clerks
from clerk_app.cashbook import (
    METHODS,
    ClosingTotals,
    JournalEntry,
    Total,
    closing_preview,
    is_closed,
    journal_entry,
    last_round,
    read_float,
    record_float,
    refuse_if_closed,
    service_name,
)
from clerk_app.errors import FormError, NotFoundError
from clerk_app.fees import format_cents
from clerk_app.form_reading import Section
from clerk_app.services.base import IssuedDocument, Receipt, ServiceContext
from clerk_app.store.rows import fetch_dicts

# Plausibility limit of a counted drawer: a larger number is a typing error (an extra zero).
MAX_COUNTED_CENTS = 10_000_000


class Wechselgeld:
    """Record the day's starting float of this workstation (once a day; the first cash
    payment of the day may bring it instead, see `cashbook.read_payment`)."""

    type = "wechselgeld"
    permission = clerks.PAYMENT

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        payload = read_float(ctx, f, "float_cents")
        f.raise_errors()
        refuse_if_closed(ctx.conn, ctx.workstation, ctx.today)
        assert payload is not None
        return payload

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        record_float(ctx, payload)
        ctx.notices.append(f"Wechselgeld {format_cents(int(payload['cents']))} für den "
                           f"{date.fromisoformat(payload['business_day']):%d.%m.%Y} erfasst.")


class Storno:
    """Reverse a receipt: a negative entry that points at the original, which stays."""

    type = "storno"
    permission = clerks.CASH_STORNO

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        number = f.text("receipt_number", required=True, max_length=40,
                        ask="die Nummer der Quittung")
        reason = f.text("reason", required=True, ask="den Grund der Stornierung")
        f.raise_errors()
        assert number is not None and reason is not None
        number = number.upper()
        original = _original(ctx.conn, number)
        if is_closed(ctx.store, original.workstation, original.business_day):
            raise FormError({"receipt_number": (
                f"Die Quittung {number} gehört zum Tagesabschluss vom "
                f"{original.business_day:%d.%m.%Y} ({original.workstation}), der bereits "
                "erfolgt ist; sie kann nicht mehr storniert werden.")})
        refuse_if_closed(ctx.conn, ctx.workstation, ctx.today)
        person = ctx.conn.execute("SELECT person_id FROM documents WHERE number = ?",
                                  (number,)).fetchone()
        return {"receipt_number": number, "reason": reason,
                "person_id": person[0] if person else None,
                "document_number": ctx.number("ST"), "business_day": ctx.today.isoformat(),
                "workstation": ctx.workstation, "clerk": ctx.clerk,
                "at": ctx.now.isoformat(timespec="seconds")}

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        number = payload["receipt_number"]
        # Found again by number, not by id: ids differ between workstation and central service.
        found = fetch_dicts(ctx.conn, "SELECT * FROM cash_journal WHERE receipt_number = ? "
                                      "AND reverses IS NULL", (number,))
        if not found:
            raise NotFoundError(f"Die Quittung {number} ist im Kassenbuch nicht vorhanden.",
                                "receipt to reverse not found")
        original = journal_entry(found[0])
        ctx.conn.execute(
            "INSERT INTO cash_journal (at, business_day, workstation, clerk, command_id, "
            "receipt_number, service, method, amount_cents, exemption, reverses, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (payload["at"], payload["business_day"], payload["workstation"], payload["clerk"],
             ctx.command_id, number, original.service, original.method,
             -original.amount_cents, original.exemption, original.id, payload["reason"]))
        ctx.receipt = Receipt(number=number, service=original.service, method=original.method,
                              amount_cents=-original.amount_cents, exemption=original.exemption)
        ctx.issue_document(IssuedDocument(
            number=payload["document_number"], type="storno", title="Stornobeleg",
            person_id=payload["person_id"], receipt_number=number, fields=(
                ("Stornierte Quittung", number),
                ("Quittung vom", f"{original.business_day:%d.%m.%Y}"),
                ("Dienstleistung", service_name(original.service)),
                ("Zahlungsart", METHODS[original.method]),
                ("Erstattet", format_cents(original.amount_cents)),
                ("Grund", payload["reason"]),
                ("Kasse", payload["workstation"]))))


def _original(conn: Any, number: str) -> JournalEntry:
    """The entry a storno form names, or a FormError saying why it cannot be reversed."""
    rows = [journal_entry(r) for r in fetch_dicts(conn, "SELECT * FROM cash_journal "
                                                 "WHERE receipt_number = ? ORDER BY id",
                                           (number,))]
    original = next((e for e in rows if not e.is_reversal), None)
    reversal = next((e for e in rows if e.is_reversal), None)
    if original is None:
        is_storno = conn.execute("SELECT 1 FROM documents WHERE number = ? AND type = 'storno'",
                                 (number,)).fetchone()
        raise FormError({"receipt_number": (
            f"{number} ist ein Stornobeleg; eine Stornierung kann nicht storniert werden."
            if is_storno else f"Die Quittung {number} ist im Kassenbuch nicht vorhanden.")})
    if reversal is not None:
        raise FormError({"receipt_number": (
            f"Die Quittung {number} wurde bereits am {reversal.business_day:%d.%m.%Y} "
            "storniert.")})
    return original


class Tagesabschluss:
    """Close one workstation's business day: totals, counted cash, difference; then no more
    entries for that day. A difference is recorded, not refused: the count is a fact."""

    type = "tagesabschluss"
    permission = clerks.CASH_CLOSE_DAY

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        counted = form.get("counted_cash_cents")
        if isinstance(counted, bool) or not isinstance(counted, int):
            errors["counted_cash_cents"] = "Bitte den gezählten Bargeldbestand eingeben."
        elif not 0 <= counted <= MAX_COUNTED_CENTS:
            errors["counted_cash_cents"] = (f"Der gezählte Bestand ({format_cents(counted)}) "
                                            "ist nicht plausibel; bitte prüfen.")
        day = ctx.today
        raw_day = form.get("business_day")
        if raw_day:
            try:
                day = date.fromisoformat(str(raw_day))
            except ValueError:
                errors["business_day"] = f"„{raw_day}“ ist kein gültiges Datum (JJJJ-MM-TT)."
            else:
                if day > ctx.today:
                    errors["business_day"] = ("Ein Tagesabschluss für einen künftigen Tag ist "
                                              "nicht möglich.")
        if errors:
            raise FormError(errors)
        refuse_if_closed(ctx.conn, ctx.workstation, day)
        totals = closing_preview(ctx.store, ctx.workstation, day)
        assert isinstance(counted, int)
        reason, confirmed_by = _difference_confirmed(ctx, form,
                                                     counted - totals.expected_cash_cents)
        return {"workstation": ctx.workstation, "business_day": day.isoformat(),
                "clerk": ctx.clerk, "at": ctx.now.isoformat(timespec="seconds"),
                "counted_cash_cents": counted, "totals": totals.to_dict(),
                "round": last_round(ctx.conn, ctx.workstation, day) + 1,
                "difference_reason": reason, "confirmed_by": confirmed_by,
                "document_number": ctx.number("TA")}

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        totals = ClosingTotals.from_dict(payload["totals"])
        counted = int(payload["counted_cash_cents"])
        difference = counted - totals.expected_cash_cents
        last = ctx.conn.execute(
            "SELECT coalesce(max(id), 0) FROM cash_journal WHERE workstation = ? "
            "AND business_day = ?", (payload["workstation"], payload["business_day"])).fetchone()
        reason, confirmed_by = payload.get("difference_reason"), payload.get("confirmed_by")
        ctx.conn.execute(
            "INSERT INTO closings (workstation, business_day, round, clerk, at, last_entry_id, "
            "totals, expected_cash_cents, counted_cash_cents, difference_cents, "
            "difference_reason, confirmed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (payload["workstation"], payload["business_day"], int(payload.get("round", 1)),
             payload["clerk"], payload["at"], int(last[0]),
             json.dumps(payload["totals"], ensure_ascii=False), totals.expected_cash_cents,
             counted, difference, reason, confirmed_by))
        fields = _closing_fields(totals, counted, difference)
        if reason:
            fields += (("Grund der Differenz", str(reason)),
                       ("Bestätigt von (Teamleitung)", str(confirmed_by)))
        ctx.issue_document(IssuedDocument(
            number=payload["document_number"], type="tagesabschluss", title="Tagesabschluss",
            person_id=None, fields=fields))
        if difference:
            ctx.notices.append(f"Kassendifferenz {format_cents(difference)} festgehalten "
                               f"(Soll {format_cents(totals.expected_cash_cents)}, "
                               f"gezählt {format_cents(counted)}).")


def _difference_confirmed(ctx: ServiceContext, form: dict[str, Any],
                          difference: int) -> tuple[str | None, str | None]:
    """A cash difference is recorded only with its reason and a second clerk's confirmation
    (Teamleitung, four eyes); (reason, confirming clerk), or (None, None) without one."""
    if not difference:
        return None, None
    from clerk_app.login import confirm_second_clerk

    reason = str(form.get("difference_reason") or "").strip()
    if not reason:
        raise FormError({"difference_reason": (
            f"Kassendifferenz {format_cents(difference)}: bitte den Grund angeben.")})
    confirmer = confirm_second_clerk(ctx.store, str(form.get("confirm_login") or ""),
                                     str(form.get("confirm_password") or ""),
                                     clerks.CASH_CONFIRM_DIFFERENCE)
    return reason[:500], confirmer.clerk


def _closing_fields(totals: ClosingTotals, counted: int,
                    difference: int) -> tuple[tuple[str, str], ...]:
    def line(total: Total) -> str:
        storno = f" (Stornierungen: {total.reversals})" if total.reversals else ""
        return f"{total.count} × – {format_cents(total.cents)}{storno}"

    fields = [("Kasse", totals.workstation),
              ("Geschäftstag", f"{totals.business_day:%d.%m.%Y}"),
              ("Buchungen", str(totals.entries)), ("Stornierungen", str(totals.reversals))]
    fields += [(METHODS[m], line(t)) for m, t in totals.by_method.items()]
    fields += [(service_name(s), line(t)) for s, t in totals.by_service.items()]
    fields += [("Summe", format_cents(totals.total_cents)),
               ("Wechselgeld", format_cents(totals.float_cents)),
               ("Bargeld Soll", format_cents(totals.expected_cash_cents)),
               ("Bargeld gezählt", format_cents(counted)),
               ("Differenz", format_cents(difference))]
    return tuple(fields)



class TagesabschlussAufheben:
    """Reopen a closed day (Teamleitung only, with the reason): bookings are possible again
    and the day is closed anew in a further round. The closing stays as it was."""

    type = "tagesabschluss_aufheben"
    permission = clerks.CASH_REOPEN_DAY

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        reason = f.text("reason", required=True, ask="den Grund für das Wiederöffnen")
        raw_day = f.text("business_day")
        f.raise_errors()
        try:
            day = date.fromisoformat(raw_day) if raw_day else ctx.today
        except ValueError as exc:
            raise FormError({"business_day": f"„{raw_day}“ ist kein gültiges Datum "
                                             "(JJJJ-MM-TT)."}) from exc
        if not is_closed(ctx.store, ctx.workstation, day):
            raise FormError({"business_day": f"Der {day:%d.%m.%Y} ist an diesem Arbeitsplatz "
                                             "nicht abgeschlossen."})
        return {"workstation": ctx.workstation, "business_day": day.isoformat(),
                "closing_round": last_round(ctx.conn, ctx.workstation, day),
                "reason": reason, "clerk": ctx.clerk,
                "at": ctx.now.isoformat(timespec="seconds")}

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        ctx.conn.execute(
            "INSERT INTO day_reopenings (workstation, business_day, closing_round, clerk, at, "
            "reason, command_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (payload["workstation"], payload["business_day"], int(payload["closing_round"]),
             payload["clerk"], payload["at"], payload["reason"], ctx.command_id))
        day = date.fromisoformat(payload["business_day"])
        ctx.notices.append(f"Tagesabschluss vom {day:%d.%m.%Y} wieder geöffnet.")
