"""What clerks type, read as values: dates as written at a German counter, countries by code
or German name.

Pure functions (no Qt): the dialogs' fields use them to tidy and check what was typed, and a
service reading a form can use the same reading.
"""

from __future__ import annotations

import itertools
import re
import string
from datetime import date
from functools import cache

from clerk_app.form_reading import country_name_de

__all__ = ["country_code", "country_table", "is_date_shaped", "parse_date_input"]

_DOTTED_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})")
_DIGITS_RE = re.compile(r"(\d{2})(\d{2})(\d{2}|\d{4})")
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_date_input(text: str, today: date, *, future_years: int = 10) -> date | None:
    """A date as clerks type it: '12.08.1964', '12.8.64', '12081964', '120864', '1964-08-12'.

    A two-digit year is the latest year ending in it that is at most `future_years` after
    today ('64' -> 1964; '26' -> 2026; with future_years=0 '30' -> 1930, right for birth dates).
    None if the text is no date or the date does not exist (31.02.).
    """
    text = text.strip()
    match = _DOTTED_RE.fullmatch(text) or _DIGITS_RE.fullmatch(text)
    if match:
        day, month, year_text = int(match[1]), int(match[2]), match[3]
    else:
        match = _ISO_RE.fullmatch(text)
        if not match:
            return None
        year_text, month, day = match[1], int(match[2]), int(match[3])
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000
        if year > today.year + future_years:
            year -= 100
    try:
        return date(year, month, day)
    except ValueError:
        return None


def is_date_shaped(text: str) -> bool:
    """Typed like a date ('31.02.2020'), whether or not that day exists: so a field can say
    "no such day" rather than "wrong format"."""
    text = text.strip()
    return any(pattern.fullmatch(text) for pattern in (_DOTTED_RE, _DIGITS_RE, _ISO_RE))


@cache
def country_table() -> tuple[tuple[str, str], ...]:
    """(ISO alpha-3 code, German name) of every country the core accepts, by name."""
    codes = ("".join(p) for p in itertools.product(string.ascii_uppercase, repeat=3))
    found = [(code, name) for code in codes if (name := country_name_de(code))]
    return tuple(sorted(found, key=lambda item: item[1].casefold()))


def country_code(text: str) -> str | None:
    """The ISO alpha-3 code a clerk means: 'che' or 'CHE' (a code), 'Schweiz' (the German
    name), 'Österr' (the start of exactly one name, at least three letters); None otherwise."""
    text = text.strip()
    if not text:
        return None
    table = dict(country_table())
    if text.upper() in table:
        return text.upper()
    wanted = text.casefold()
    exact = [code for code, name in table.items() if name.casefold() == wanted]
    if exact:
        return exact[0]
    starts = [code for code, name in table.items() if name.casefold().startswith(wanted)]
    return starts[0] if len(wanted) >= 3 and len(starts) == 1 else None
