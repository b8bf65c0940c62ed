"""The date rules of registration law (§ 17 BMG), as pure functions of dates.

Kept apart from the services so that they can be tested over thousands of random dates and
reused by the UI to warn while the clerk types, without a register. Every function takes
`today` explicitly: the counter's business day, never the clock read here.

Messages are German (shown next to the field) and say what to do or what was recorded.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

__all__ = [
    "ABMELDUNG_ADVANCE_DAYS",
    "DEADLINE_DAYS",
    "EARLIEST_BIRTH_DATE",
    "RegistrationKind",
    "birth_date_problem",
    "days_since",
    "format_date",
    "is_date_text",
    "is_late",
    "late_notice",
    "move_in_problem",
    "move_out_problem",
    "parse_date_text",
]

RegistrationKind = Literal["anmeldung", "ummeldung", "abmeldung"]

# § 17 (1) and (2) BMG: register within two weeks after moving in (or out). Day 14 after the
# move is still in time, day 15 is late.
DEADLINE_DAYS = 14
# § 17 (2) BMG: an Abmeldung is possible at the earliest one week before moving out.
ABMELDUNG_ADVANCE_DAYS = 7
# Older birth dates in a register of living residents are typing errors ("1890" for "1980").
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

_GERMAN_DATE_RE = re.compile(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*")
_ISO_DATE_RE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})\s*")

# What the late notice calls the event and which paragraph sets its deadline.
_LATE_WORDING: dict[str, tuple[str, str, str]] = {
    "anmeldung": ("Anmeldung", "Einzug", "§ 17 Abs. 1 BMG"),
    "ummeldung": ("Ummeldung", "Umzug", "§ 17 Abs. 1 BMG"),
    "abmeldung": ("Abmeldung", "Auszug", "§ 17 Abs. 2 BMG"),
}


def format_date(day: date | None) -> str:
    """TT.MM.JJJJ, as German documents print dates; "" for an unknown date."""
    return day.strftime("%d.%m.%Y") if day else ""


def parse_date_text(text: str) -> date | None:
    """A date from a form: ISO ("2026-11-03", what the UI's date widgets give) or German
    ("03.11.2026", what a clerk types at the command line). None if it is neither or does
    not exist (31.02.)."""
    match = _ISO_DATE_RE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _GERMAN_DATE_RE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_date_text(text: str) -> bool:
    """Written as `parse_date_text` reads dates, whether or not the day exists ("31.02.2020"):
    a form then says the day does not exist, not that the format is wrong."""
    return bool(_ISO_DATE_RE.fullmatch(text) or _GERMAN_DATE_RE.fullmatch(text))


def days_since(day: date, today: date) -> int:
    """Whole days from `day` to `today` (negative for a day in the future)."""
    return (today - day).days


def is_late(move_date: date, today: date) -> bool:
    """True if the two-week deadline of § 17 BMG has passed: more than 14 days ago."""
    return days_since(move_date, today) > DEADLINE_DAYS


def late_notice(kind: RegistrationKind, move_date: date, today: date) -> str | None:
    """The notice recorded for a late registration, or None if it is in time.

    A late registration is an administrative offence (§ 54 BMG), not a reason to refuse it:
    the register must be right, so the service registers and records the lateness.
    """
    if not is_late(move_date, today):
        return None
    event, moved, paragraph = _LATE_WORDING[kind]
    days = days_since(move_date, today)
    return (f"Verspätete {event} ({moved} vor {days} Tagen, Frist 2 Wochen, {paragraph}) "
            "– vermerkt.")


def move_in_problem(move_in: date, today: date) -> str | None:
    """Why a move-in date cannot be registered, or None.

    § 17 (1) asks for registration *after* moving in: a dwelling not yet moved into cannot be
    registered, so a future date is refused (the citizen comes back after the move).
    """
    if move_in > today:
        return "Einzugsdatum liegt nach heute – Anmeldung erst nach dem Einzug möglich."
    return None


def move_out_problem(move_out: date, today: date) -> str | None:
    """Why a move-out date cannot be registered, or None (§ 17 (2): earliest one week before)."""
    if days_since(move_out, today) < -ABMELDUNG_ADVANCE_DAYS:
        return ("Auszugsdatum liegt mehr als eine Woche in der Zukunft – Abmeldung frühestens "
                "eine Woche vor dem Auszug (§ 17 Abs. 2 BMG).")
    return None


def birth_date_problem(birth_date: date, today: date) -> str | None:
    """Why a birth date is implausible, or None: not in the future, not before 1900."""
    if birth_date > today:
        return "Das Geburtsdatum liegt in der Zukunft."
    if birth_date < EARLIEST_BIRTH_DATE:
        return f"Geburtsdatum liegt vor dem {format_date(EARLIEST_BIRTH_DATE)} – bitte prüfen."
    return None

