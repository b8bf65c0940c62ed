"""Reading the forms the services receive: one reader, so that every service means the same by
"missing", "invalid" and "unknown", and reports it the same way.

Forms arrive as JSON-like dicts (from the UI, the command line or a test). `Section` reads
them field by field and *collects* problems under the field's path ("persons.0.family_name",
"payment.given") instead of stopping at the first: the clerk sees every problem next to its
field at once, and `raise_errors` turns them into one `FormError`.

Messages are short ("Bitte ausfüllen.") because the UI shows them next to the field's label.
Where a message must also make sense on its own (the certificates list them in one line), the
readers take the field's wording: `noun` names it ("Verwendungszweck: zu lang …"), `ask` is
what the clerk is asked for ("Bitte den Verwendungszweck angeben.").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from clerk_app import latin_names, names, rules
from clerk_app.errors import FormError
from clerk_app.names import DataType

__all__ = [
    "INVALID_CHOICE",
    "INVALID_DATE",
    "INVALID_VALUE",
    "MAX_TEXT",
    "REQUIRED",
    "Section",
    "country_name_de",
]

MAX_TEXT = 200  # free text; longer input is pasted by mistake, and does not fit a printed line
# What the register's INTEGER column (SQLite: 64 bits) holds; a larger number is no record id.
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1
# Control and format characters, and lone surrogates (JSON's "\ud800" decodes to one, and no
# UTF-8 text, so no register column, can hold it): never part of what a clerk typed.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})

REQUIRED = "Bitte ausfüllen."
INVALID_DATE = "Kein gültiges Datum (TT.MM.JJJJ)."
NO_SUCH_DAY = "Diesen Tag gibt es nicht ({text})."
INVALID_CHOICE = "Bitte einen der vorgesehenen Werte wählen."
INVALID_VALUE = "Ungültige Angabe."
_CONTROL = "unsichtbares Steuerzeichen; bitte neu eingeben."

# Codes in common use that ISO 3166 has not (yet) assigned.
EXTRA_COUNTRIES = {"XKX": "Kosovo"}
# Babel's alias table also holds withdrawn and private-use codes: not valid in new records.
_NOT_ISO3 = frozenset({"ASC", "BUR", "CPT", "DDR", "DGA", "FXX", "QUU", "TAA", "TMP", "XAA",
                       "XBB", "XKK", "YMD", "ZAR", "ZZZ"})


@cache
def _countries() -> Mapping[str, str]:
    """ISO 3166-1 alpha-3 code -> German country name, from Babel's CLDR data (a dependency
    already, for dates and money): the official list, without a file of our own to maintain."""
    from babel import Locale  # deferred: only forms with a country field need it
    from babel.core import get_global

    german = Locale("de").territories
    table = {code: german[alpha2[0]]
             for code, alpha2 in get_global("territory_aliases").items()
             if len(code) == 3 and code.isalpha() and code not in _NOT_ISO3
             and len(alpha2) == 1 and alpha2[0] in german}
    return {**table, **EXTRA_COUNTRIES}


def country_name_de(code: str) -> str | None:
    """'CHE' -> 'Schweiz'; None for anything that is not an ISO 3166-1 alpha-3 country code."""
    return _countries().get(code)


def _has_invisible(text: str) -> bool:
    return any(unicodedata.category(c) in _INVISIBLE for c in text)


def _asked(ask: str | None) -> str:
    return f"Bitte {ask} angeben." if ask else REQUIRED


def _about(noun: str | None, problem: str, plain: str) -> str:
    """'Noun: problem' for a field named in its message; `plain` next to a labelled field."""
    return f"{noun}: {problem}" if noun else plain


@dataclass
class Section:
    """One (nested) part of a submitted form, with the error dict shared by the whole form.

    Every reader returns None (and records why under the field's path) when a value is missing
    or invalid, so `prepare` can read all fields and then raise one `FormError`.
    """

    data: Mapping[str, Any]
    prefix: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def root(cls, form: Mapping[str, Any], *, allowed: Set[str] | None = None) -> Section:
        """The whole form; with `allowed`, any other key is refused (see `_known`)."""
        if not isinstance(form, Mapping):
            raise FormError({"": INVALID_VALUE})
        return cls(form)._known(allowed)

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def error(self, key: str, message: str) -> None:
        """Record a problem; the first one found for a field is the one shown."""
        self.errors.setdefault(self.path(key), message)

    def has_errors(self) -> bool:
        """Whether anything in this part of the form (or below it) was refused."""
        return any(path.startswith(self.prefix) for path in self.errors)

    def raise_errors(self) -> None:
        if self.errors:
            raise FormError(dict(self.errors))

    def _known(self, allowed: Set[str] | None) -> Section:
        """Refuse keys outside `allowed`: a misspelt key would silently drop what the clerk
        entered (or a confirmation)."""
        if allowed is not None:
            for key in sorted(set(self.data) - allowed):
                self.error(key, f"Unbekannte Angabe „{key}“.")
        return self

    def value(self, key: str, *, required: bool = False, missing: str = REQUIRED) -> Any:
        """The raw value, or None if it is left out, null or blank (then, if `required`,
        `missing` is recorded). Every reader starts here, so that "not filled in" means the
        same for every field of every form."""
        value = self.data.get(key)
        if isinstance(value, str) and not value.strip():
            value = None
        if value is None and required:
            self.error(key, missing)
        return value

    def _string(self, key: str, required: bool, max_length: int, noun: str | None = None,
                ask: str | None = None) -> str | None:
        value = self.value(key, required=required, missing=_asked(ask))
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(key, _about(noun, "bitte als Text angeben.", INVALID_VALUE))
            return None
        text = names.normalize(value)
        if len(text) > max_length:   # refused, never cut: the clerk must see what is lost
            self.error(key, _about(noun, f"zu lang (höchstens {max_length} Zeichen).",
                                   f"Zu lang: {len(text)} Zeichen, höchstens {max_length} "
                                   "Zeichen möglich."))
            return None
        return text

    def text(self, key: str, *, required: bool = False, max_length: int = MAX_TEXT,
             noun: str | None = None, ask: str | None = None) -> str | None:
        """Free text, NFC-normalised with surrounding space removed (`names.normalize`: the
        same text typed on two keyboards is one text). Control and format characters are
        refused: they would be printed invisibly, or break the line (lone surrogates too: they
        cannot even be stored)."""
        text = self._string(key, required, max_length, noun, ask)
        if text is not None and _has_invisible(text):
            self.error(key, _about(noun, f"enthält ein {_CONTROL}", f"Enthält ein {_CONTROL}"))
            return None
        return text

    def name(self, key: str, *, required: bool = False, data_type: DataType = DataType.A,
             ) -> str | None:
        """A name (or place, or address) checked against DIN 91379: one message for the field
        (`latin_names.name_message`: the character and its position, or the characters, and
        the passport's Latin form of a Cyrillic name)."""
        text = self._string(key, required, names.DEFAULT_MAX_LENGTH)
        if text is None:
            return None
        problem = latin_names.name_message(text, data_type)
        if problem is not None:
            self.error(key, problem)
            return None
        return text

    def date(self, key: str, *, required: bool = False) -> date | None:
        """An ISO or TT.MM.JJJJ string (JSON forms), or a `date` (Python callers)."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        parsed = rules.parse_date_text(value) if isinstance(value, str) else None
        if parsed is None:
            written_as_date = isinstance(value, str) and rules.is_date_text(value)
            self.error(key, NO_SUCH_DAY.format(text=value.strip()) if written_as_date
                       else INVALID_DATE)
        return parsed

    def choice(self, key: str, choices: Mapping[str, str], *, required: bool = False,
               ask: str | None = None) -> str | None:
        """One of the keys of `choices`; `ask` ("die Urkunde") names the choice in messages."""
        value = self.value(key, required=required,
                           missing=f"Bitte {ask} wählen." if ask else REQUIRED)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            self.error(key, f"Unbekannte Auswahl „{value}“ für {ask}." if ask
                       else INVALID_CHOICE)
            return None
        return value

    def country(self, key: str, *, required: bool = False) -> str | None:
        """An ISO 3166-1 alpha-3 code ('CHE'); lower case is accepted and stored upper case."""
        value = self.value(key, required=required)
        if value is None:
            return None
        code = value.strip().upper() if isinstance(value, str) else ""
        if country_name_de(code) is None:
            self.error(key, "Bitte den Staat als ISO-Code mit drei Buchstaben angeben "
                            "(z. B. CHE für die Schweiz).")
            return None
        return code

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self.value(key, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.error(key, INVALID_VALUE)
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(key, INVALID_VALUE)
            return None
        if not MIN_INTEGER <= number <= MAX_INTEGER:
            self.error(key, INVALID_VALUE)
            return None
        return number

    def flag(self, key: str) -> bool:
        """A box the clerk may tick. Only JSON true counts; anything but true, false or
        nothing is refused rather than read as either ("yes" and 1 are not answers)."""
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(key, "Bitte nur ankreuzen oder nicht ankreuzen (ja/nein).")
            return False
        return value

    def confirmed(self, key: str, message: str) -> bool:
        """A box the clerk must tick ("presented", "id_document_checked"): unless it is JSON
        true, `message` says what the confirmation is for."""
        if self.data.get(key) is not True:
            self.error(key, message)
            return False
        return True

    def strings(self, key: str, *, max_length: int = MAX_TEXT) -> list[str] | None:
        """A list of short texts (codes, names), each NFC-normalised and trimmed; refused as a
        whole if one is not text, too long, or holds an invisible character."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, INVALID_VALUE)
            return None
        texts = [names.normalize(v) for v in value]
        if any(len(t) > max_length for t in texts):
            self.error(key, f"Höchstens {max_length} Zeichen je Angabe.")
            return None
        if any(_has_invisible(t) for t in texts):
            self.error(key, f"Enthält ein {_CONTROL}")
            return None
        return texts

    def section(self, key: str, *, required: bool = False, allowed: Set[str] | None = None,
                ask: str | None = None) -> Section | None:
        """A sub-form ("address": {...}), its errors under "address.…"; with `allowed`, any
        other key in it is refused."""
        value = self.value(key, required=required, missing=_asked(ask))
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error(key, INVALID_VALUE)
            return None
        return self._part(key, value, allowed)

    def group(self, key: str, *, allowed: Set[str] | None = None) -> Section | None:
        """A sub-form whose fields the form always shows (the payment, the entitlement): left
        out, it reads as all its fields left empty, so each required one is asked for at its
        own field. None only for a value that is not a sub-form (recorded)."""
        if self.value(key) is None:
            return self._part(key, {}, None)
        return self.section(key, allowed=allowed)

    def sections(self, key: str, *, ask: str | None = None) -> list[Section]:
        """A required, non-empty list of sub-forms ("persons": [{...}, {...}])."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            self.error(key, _asked(ask))
            return []
        found: list[Section] = []
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                found.append(self._part(f"{key}.{index}", item, None))
            else:
                self.error(f"{key}.{index}", INVALID_VALUE)
        return found

    def _part(self, key: str, data: Mapping[str, Any], allowed: Set[str] | None) -> Section:
        return Section(data, f"{self.path(key)}.", self.errors)._known(allowed)
