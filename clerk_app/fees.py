"""The city's fee schedule (Gebührenverzeichnis) and how money is shown.

Fees are data (`resources/fees.toml`), not code: the city changes its fee statute more often
than the program is released, and IT must be able to follow without a developer. The file is
edited by hand, so it is checked strictly on loading and every error names the entry; an
unknown key is an error too, so that a typo is never silently ignored.

Money is integer cents everywhere (no float ever holds an amount); only `format_cents` turns
cents into text, German style, so that screen, receipt and daily closing always agree.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel.numbers import format_currency

from clerk_app.errors import ConfigError
from clerk_app.toml_entries import EntryChecks

__all__ = [
    "FEES_FILE",
    "MAX_FEE_CENTS",
    "Exemption",
    "Fee",
    "FeeSchedule",
    "fee_for",
    "fee_schedule",
    "format_cents",
    "parse_cents",
    "parse_schedule",
    "read_schedule",
]

FEES_PACKAGE = "resources"
FEES_FILE = "fees.toml"
# No counter service costs anywhere near this; a larger number is a typo (euro written as cents
# twice, an extra zero), not a fee.
MAX_FEE_CENTS = 100_000
_CODE_RE = re.compile(r"[a-z0-9_]+")
_AMOUNT_RE = re.compile(r"\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?\s*(?:€|EUR)?\s*",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Exemption:
    """A reason not to charge the fee; reason and legal basis are printed on the receipt."""

    code: str
    reason: str
    legal_basis: str


@dataclass(frozen=True)
class Fee:
    """The fee of one counter service and the exemptions the clerk may choose for it."""

    code: str
    name: str
    cents: int
    exemptions: tuple[Exemption, ...] = ()
    copies: int = 1
    """How many copies `cents` pays for (the schedule's fee is for one)."""

    @property
    def unit_cents(self) -> int:
        """The fee of one copy, as in the schedule."""
        return self.cents // self.copies

    def times(self, copies: int) -> Fee:
        """The fee for `copies` copies of one document: a civil-status certificate costs its
        fee per copy, so two copies charge twice."""
        return replace(self, cents=self.unit_cents * copies, copies=copies)

    def exemption(self, code: str) -> Exemption | None:
        """The exemption `code` if it applies to this service, else None."""
        return next((e for e in self.exemptions if e.code == code), None)


@dataclass(frozen=True)
class FeeSchedule:
    """The whole schedule: fees by service code, and every exemption the file defines."""

    fees: Mapping[str, Fee]
    exemptions: Mapping[str, Exemption]

    def fee_for(self, code: str) -> Fee:
        fee = self.fees.get(code)
        if fee is None:
            raise ConfigError(
                f"Für die Dienstleistung „{code}“ ist im Gebührenverzeichnis ({FEES_FILE}) "
                "keine Gebühr eingetragen. Bitte die IT verständigen.",
                f"fee schedule has no entry for service {code!r}")
        return fee


# --- reading and checking the file -----------------------------------------------------------

@cache
def fee_schedule() -> FeeSchedule:
    """The packaged schedule, read and checked once per process (via importlib.resources, so it
    is found in a wheel and a frozen build as well as in the checkout)."""
    return read_schedule(resources.files(FEES_PACKAGE).joinpath(FEES_FILE)
                         .read_text(encoding="utf-8"))


def fee_for(code: str) -> Fee:
    """The fee of the service `code`; ConfigError if the schedule has no entry for it."""
    return fee_schedule().fee_for(code)


def read_schedule(text: str) -> FeeSchedule:
    """Parse and check the TOML text of a schedule (ConfigError naming the problem)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error("", f"die Datei ist kein gültiges TOML ({exc})",
                     f"not valid TOML ({exc})") from exc
    return parse_schedule(data)


def parse_schedule(data: Mapping[str, Any]) -> FeeSchedule:
    """Check and convert the parsed file; every error names the table and entry it is in."""
    _CHECKS.only_keys("", data, {"exemptions", "fees"})
    exemptions = {code: _exemption(code, raw)
                  for code, raw in _CHECKS.table("exemptions", data.get("exemptions", {})).items()}
    fees = {code: _fee(code, raw, exemptions)
            for code, raw in _CHECKS.table("fees", data.get("fees", {})).items()}
    if not fees:
        raise _error("", "es ist keine einzige Gebühr eingetragen ([fees.…])",
                     "no fee entries ([fees.*])")
    return FeeSchedule(fees, exemptions)


def _exemption(code: str, raw: Any) -> Exemption:
    where = f"exemptions.{code}"
    _check_code(where, code)
    entry = _CHECKS.table(where, raw)
    _CHECKS.only_keys(where, entry, {"reason", "legal_basis"})
    return Exemption(code, _CHECKS.text(where, entry, "reason"),
                     _CHECKS.text(where, entry, "legal_basis"))


def _fee(code: str, raw: Any, exemptions: Mapping[str, Exemption]) -> Fee:
    where = f"fees.{code}"
    _check_code(where, code)
    entry = _CHECKS.table(where, raw)
    _CHECKS.only_keys(where, entry, {"name", "cents", "exemptions"})
    cents = entry.get("cents")
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise _error(where, "„cents“ muss die Gebühr in Cent als ganze Zahl sein "
                            "(z. B. 700 für 7,00 €)", "cents must be an integer")
    if not 0 <= cents <= MAX_FEE_CENTS:
        raise _error(where, f"„cents“ = {cents} liegt nicht zwischen 0 und {MAX_FEE_CENTS}",
                     f"cents {cents} out of range")
    codes = entry.get("exemptions", [])
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise _error(where, "„exemptions“ muss eine Liste von Befreiungs-Codes sein",
                     "exemptions must be a list of codes")
    if len(set(codes)) != len(codes):
        raise _error(where, "eine Befreiung ist doppelt aufgeführt", "duplicate exemption")
    for ex_code in codes:
        if ex_code not in exemptions:
            raise _error(where, f"die Befreiung „{ex_code}“ ist unter [exemptions] nicht "
                                "definiert", f"undefined exemption {ex_code!r}")
    return Fee(code, _CHECKS.text(where, entry, "name"), cents, tuple(exemptions[c] for c in codes))


def _check_code(where: str, code: str) -> None:
    if not _CODE_RE.fullmatch(code):
        raise _error(where, "der Code darf nur Kleinbuchstaben, Ziffern und „_“ enthalten",
                     "invalid code")


def _error(where: str, problem_de: str, problem_en: str) -> ConfigError:
    entry_de = f", Eintrag [{where}]" if where else ""
    entry_en = f" entry [{where}]" if where else ""
    return ConfigError(f"Gebührenverzeichnis ({FEES_FILE}){entry_de}: {problem_de}.",
                       f"fee schedule{entry_en}: {problem_en}")


_CHECKS = EntryChecks(_error)


# --- money as text ---------------------------------------------------------------------------

@lru_cache(maxsize=1024)  # babel takes ~0.1 ms a call; a day's amounts are a few fees
def format_cents(cents: int) -> str:
    """'7,00 €', '1.234,50 €', '-2,00 €' (babel, de_DE; a no-break space before the euro sign,
    so the amount never wraps away from it). Decimal, not float: exact for any amount, with
    as many digits as it takes (an implausible amount is echoed in its error message)."""
    with localcontext() as context:
        context.prec = max(context.prec, cents.bit_length() // 3 + 4)  # 2**10 > 10**3
        return str(format_currency(Decimal(cents) / 100, "EUR", locale="de_DE"))


def parse_cents(text: str) -> int:
    """What a clerk types into an amount field -> cents: '10' -> 1000, '7,5' -> 750,
    '1.234,50 €' -> 123450. ValueError for anything else (negative amounts included)."""
    match = _AMOUNT_RE.fullmatch(text)
    if not match:
        raise ValueError(f"not an amount: {text!r}")
    euros, cents = match.groups()
    return int(euros.replace(".", "")) * 100 + int((cents or "0").ljust(2, "0"))
