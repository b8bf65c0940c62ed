"""How dates and codes look on screen: German date format TT.MM.JJJJ everywhere."""

from __future__ import annotations

from datetime import date

from ui.i18n import tr

NO_VALUE = "—"


def fmt_date(value: date | None) -> str:
    """'12.08.1964'; a dash for an unknown date."""
    if value is None:
        return NO_VALUE
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def fmt_age(born: date | None, day: date) -> str:
    """'61 Jahre'; empty for an unknown birth date."""
    years = age_on(born, day)
    if years is None:
        return ""
    return tr("1 Jahr") if years == 1 else tr("{n} Jahre").format(n=years)


def fmt_int(value: int) -> str:
    """'50.000' in German, '50,000' in English."""
    from ui.i18n import language

    text = f"{value:,}"
    return text if language() == "en" else text.replace(",", ".")
