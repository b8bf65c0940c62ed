"""Reading the machine-readable zone (MRZ) of passports and ID cards (ICAO Doc 9303).

The counter's handheld scanner reads the MRZ optically and *types* it into the search field
like a keyboard. So the text arrives with whatever line separators the scanner is configured
for (newline, CR, CRLF or none at all), sometimes with trailing spaces, sometimes in lower
case. `parse` accepts all of that; `looks_like_mrz` lets the search field decide on every
keystroke whether to treat the input as an MRZ instead of a name search.

Two kinds of failure are kept apart on purpose:

* Text that is not an MRZ at all (wrong length, wrong characters) raises `MrzFormatError`:
  there is nothing to show but "scan again".
* An MRZ whose check digits or dates do not add up is still returned, with `problems`
  naming each failed check in German (for the clerk, who can compare with the card) and in
  English (for the log, without personal data). A misread digit is then a quick fix at the
  counter rather than a mysterious "invalid input".

Supported layouts: TD1 (ID cards, 3 × 30), TD2 (2 × 36) and TD3 (passports, 2 × 44).
Visas (MRV-A/MRV-B) share the TD3/TD2 sizes but not their check digits and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from clerk_app.errors import ClerkError

__all__ = [
    "MrzField",
    "MrzFormatError",
    "MrzKind",
    "MrzProblem",
    "MrzResult",
    "ProblemKind",
    "Sex",
    "check_digit",
    "looks_like_mrz",
    "parse",
]

MrzKind = Literal["TD1", "TD2", "TD3"]
Sex = Literal["M", "F", "X"]

# Total characters per layout (line breaks removed) -> (kind, line width).
_LAYOUTS: dict[int, tuple[MrzKind, int]] = {90: ("TD1", 30), 72: ("TD2", 36), 88: ("TD3", 44)}

# Anything longer cannot be an MRZ even with generous separators and trailing spaces. Checked
# first so that a megabyte pasted into the search field costs nothing per keystroke.
_MAX_INPUT_LENGTH = 400

# ASCII only on purpose: str.upper() would turn "ß" into "SS" or "ſ" into "S" and so
# smuggle non-MRZ text into a valid-looking zone.
_LINE_RE = re.compile(r"[A-Za-z0-9<]+")
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_TRAILING_BLANKS = " \t"

_WEIGHTS = (7, 3, 1)
_CHAR_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    **{chr(ord("A") + i): 10 + i for i in range(26)},
    "<": 0,
}

_SEX_CODES: dict[str, Sex] = {"M": "M", "F": "F", "X": "X", "<": "X"}

_NOT_MRZ_DE = "Die Eingabe ist keine lesbare maschinenlesbare Zone (MRZ)."
_NOT_MRZ_EN = "Input is not a readable machine-readable zone (MRZ)."
_VISA_DE = "Visa-MRZ werden nicht unterstützt; bitte Pass oder Ausweis scannen."
_VISA_EN = "Visa MRZ (MRV) is not supported."


class MrzFormatError(ClerkError, ValueError):
    """The text is not an MRZ at all, so there is no field to blame.

    A `ClerkError` so the UI shows `message_de` like every other expected failure, and a
    `ValueError` because it is, after all, a bad value passed to `parse`. Neither message
    contains the input: it may hold personal data.
    """

    def __init__(self, message_de: str = _NOT_MRZ_DE, message_en: str = _NOT_MRZ_EN) -> None:
        super().__init__(message_de, message_en)


class MrzField(StrEnum):
    """The part of the MRZ a problem belongs to, so the UI can highlight it."""

    DOCUMENT_NUMBER = "document_number"
    BIRTH_DATE = "birth_date"
    EXPIRY_DATE = "expiry_date"
    PERSONAL_NUMBER = "personal_number"
    """TD3 optional data / personal number: the only optional field with its own check digit."""
    COMPOSITE = "composite"
    SEX = "sex"
    NAME = "name"
    ISSUING_STATE = "issuing_state"
    NATIONALITY = "nationality"


class ProblemKind(StrEnum):
    """Whether a check digit disagrees or a field's content itself is impossible."""

    CHECK_DIGIT = "check_digit"
    INVALID_VALUE = "invalid_value"


@dataclass(frozen=True)
class MrzProblem:
    """One failed check, worded for the clerk (German) and for the log (English).

    `read` and `expected` carry the check digits for check-digit problems so the UI can
    point at the exact character; `message_en` leaves them out and never contains personal
    data, so it can go to log files as is.
    """

    field: MrzField
    kind: ProblemKind
    message_de: str
    message_en: str
    read: str | None = None
    expected: int | None = None


@dataclass(frozen=True)
class MrzResult:
    """Everything read from one MRZ, plus what did not check out.

    Fields are as printed in the zone, with '<' fillers removed: names are the MRZ
    transliteration (upper case A–Z, "Ü" appears as "UE", "ß" as "SS"), state codes are
    ICAO codes ("D" for Germany, not "DEU"). Dates that cannot be read are `None` and, if
    they are wrong rather than merely unknown, come with a problem.

    `repr` shows no personal data, so a result that ends up in a log line does no harm.
    """

    kind: MrzKind
    document_code: str
    """Document code without fillers: "P" (passport), "ID" (German ID card), "I", "AR", ..."""
    issuing_state: str
    document_number: str = field(repr=False)
    surname: str = field(repr=False)
    """Primary identifier; parts joined by single '<' become spaces ("VON DER HEIDE")."""
    given_names: tuple[str, ...] = field(repr=False)
    nationality: str = field(repr=False)
    birth_date: date | None = field(repr=False)
    """`None` if unknown on the document (filled with '<') or invalid (then see `problems`)."""
    sex: Sex | None = field(repr=False)
    """M, F, or X (also for '<', unspecified); `None` only for an impossible character."""
    expiry_date: date | None = field(repr=False)
    optional_data: str = field(repr=False)
    """TD1/TD2 optional data (after any document-number overflow), TD3 personal number."""
    optional_data_2: str = field(repr=False)
    """TD1's second optional data field (line 2); empty for TD2/TD3."""
    name_possibly_truncated: bool = field(repr=False)
    """The name field ends in a letter: ICAO's sign that the name may have been cut off,
    so a register search should treat the last name part as a prefix."""
    lines: tuple[str, ...] = field(repr=False)
    """The normalised zone (upper case, one string per line), for showing where a problem is."""
    problems: tuple[MrzProblem, ...] = ()

    @property
    def is_valid(self) -> bool:
        """True when every check digit matches and every field is readable."""
        return not self.problems


def check_digit(data: str) -> int:
    """ICAO 9303 check digit: weights 7, 3, 1 repeating; 0–9, A–Z = 10–35, '<' = 0; mod 10.

    Raises `ValueError` for characters outside the MRZ alphabet (including lower case), since
    a digit computed over such text would be meaningless.
    """
    total = 0
    for index, char in enumerate(data):
        value = _CHAR_VALUES.get(char)
        if value is None:
            raise ValueError(f"character {char!r} is not allowed in an MRZ")
        total += value * _WEIGHTS[index % 3]
    return total % 10


def looks_like_mrz(text: str) -> bool:
    """Cheap test whether the search field holds an MRZ rather than a name or date search.

    Called on every keystroke, so it looks only at the shape: MRZ characters and line breaks,
    a length that fits TD1/TD2/TD3, and the '<<' every MRZ has between the name parts. It
    never raises. True does not promise that `parse` succeeds (a visa, say, still fails), it
    only means the input should go to `parse` instead of the name search.
    """
    lines = _split_lines(text)
    return lines is not None and any("<<" in line for line in lines[1])


def parse(text: str, *, today: date | None = None) -> MrzResult:
    """Read an MRZ as typed by the scanner.

    `today` anchors the two-digit birth year (the latest century that does not put the birth
    in the future); it defaults to `date.today()` and is a parameter so tests stay stable.

    Raises `MrzFormatError` if the text is not an MRZ; check digit failures and impossible
    field values are reported in `MrzResult.problems` instead, because the clerk can fix them.
    """
    split = _split_lines(text)
    if split is None:
        raise MrzFormatError()
    kind, lines = split
    first = lines[0][0]
    if first == "V":
        raise MrzFormatError(_VISA_DE, _VISA_EN)
    if not ("A" <= first <= "Z"):
        raise MrzFormatError()
    return _Reader(kind, lines, today or date.today()).read()


def _split_lines(text: object) -> tuple[MrzKind, tuple[str, ...]] | None:
    """Normalise scanner input into the layout's lines, or None if it cannot be an MRZ.

    Line breaks are accepted anywhere a layout line ends, so separated, concatenated and
    partly concatenated input all work; a break in the middle of a line is rejected because
    it means a character was lost or added.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT_LENGTH:
        return None
    pieces = [piece.strip(_TRAILING_BLANKS) for piece in _LINE_BREAK_RE.split(text)]
    pieces = [piece for piece in pieces if piece]
    if not pieces or not all(_LINE_RE.fullmatch(piece) for piece in pieces):
        return None
    layout = _LAYOUTS.get(sum(len(piece) for piece in pieces))
    if layout is None:
        return None
    kind, width = layout
    if any(len(piece) % width for piece in pieces):
        return None
    zone = "".join(pieces).upper()
    return kind, tuple(zone[start:start + width] for start in range(0, len(zone), width))


class _Reader:
    """Reads one normalised zone; collects problems instead of stopping at the first one."""

    def __init__(self, kind: MrzKind, lines: tuple[str, ...], today: date) -> None:
        self.kind = kind
        self.lines = lines
        self.today = today
        self.problems: list[MrzProblem] = []

    def read(self) -> MrzResult:
        kind, lines = self.kind, self.lines
        if kind == "TD1":
            line1, line2, line3 = lines
            doc_field, doc_cd, optional = line1[5:14], line1[14], line1[15:30]
            birth, birth_cd, sex = line2[0:6], line2[6], line2[7]
            expiry, expiry_cd = line2[8:14], line2[14]
            nationality, optional_2 = line2[15:18], line2[18:29]
            composite_data = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
            composite_cd = line2[29]
            names = line3
            personal_cd: str | None = None
        else:
            line1, line2 = lines
            names = line1[5:]
            doc_field, doc_cd, nationality = line2[0:9], line2[9], line2[10:13]
            birth, birth_cd, sex = line2[13:19], line2[19], line2[20]
            expiry, expiry_cd = line2[21:27], line2[27]
            optional_2 = ""
            if kind == "TD2":
                optional, personal_cd, composite_cd = line2[28:35], None, line2[35]
                composite_data = line2[0:10] + line2[13:20] + line2[21:35]
            else:
                optional, personal_cd, composite_cd = line2[28:42], line2[42], line2[43]
                composite_data = line2[0:10] + line2[13:20] + line2[21:43]

        # TD3 has no overflow: its document number field is the full nine characters.
        document_number, doc_cd, doc_data, optional = _document_number(
            doc_field, doc_cd, optional, allow_overflow=kind != "TD3"
        )
        fields_ok = self._check(MrzField.DOCUMENT_NUMBER, doc_data, doc_cd)
        fields_ok &= self._check(MrzField.BIRTH_DATE, birth, birth_cd)
        fields_ok &= self._check(MrzField.EXPIRY_DATE, expiry, expiry_cd)
        if personal_cd is not None:
            fields_ok &= self._check(
                MrzField.PERSONAL_NUMBER, optional, personal_cd, empty_may_be_filler=True
            )
        # Any failed field check also breaks the composite check, since the composite covers
        # those fields. Naming it too would send the clerk looking in two places for one typo,
        # so the composite only speaks when it is the sole witness of an error.
        if fields_ok:
            self._check(MrzField.COMPOSITE, composite_data, composite_cd)

        surname, given_names, truncated = self._names(names)
        return MrzResult(
            kind=kind,
            document_code=lines[0][0:2].strip("<"),
            issuing_state=self._state(MrzField.ISSUING_STATE, lines[0][2:5]),
            document_number=document_number,
            surname=surname,
            given_names=given_names,
            nationality=self._state(MrzField.NATIONALITY, nationality),
            birth_date=self._birth_date(birth),
            sex=self._sex(sex),
            expiry_date=self._expiry_date(expiry),
            optional_data=optional.strip("<"),
            optional_data_2=optional_2.strip("<"),
            name_possibly_truncated=truncated,
            lines=lines,
            problems=tuple(self.problems),
        )

    def _check(
        self, where: MrzField, data: str, read: str, *, empty_may_be_filler: bool = False
    ) -> bool:
        expected = check_digit(data)
        if read == str(expected):
            return True
        # ICAO allows '<' instead of 0 for the TD3 personal number check when it is empty.
        if empty_may_be_filler and read == "<" and not data.strip("<"):
            return True
        label_de, label_en = _CHECK_LABELS[where]
        self.problems.append(
            MrzProblem(
                field=where,
                kind=ProblemKind.CHECK_DIGIT,
                message_de=f"{label_de} ist falsch (gelesen {read}, erwartet {expected}).",
                message_en=f"{label_en} does not match.",
                read=read,
                expected=expected,
            )
        )
        return False

    def _invalid(self, where: MrzField, message_de: str, message_en: str) -> None:
        self.problems.append(MrzProblem(where, ProblemKind.INVALID_VALUE, message_de, message_en))

    def _names(self, zone: str) -> tuple[str, tuple[str, ...], bool]:
        if not all(char == "<" or "A" <= char <= "Z" for char in zone):
            self._invalid(
                MrzField.NAME,
                "Der Name enthält Zeichen, die in der MRZ nicht vorkommen dürfen.",
                "Name field contains characters other than A-Z and '<'.",
            )
        primary, _, secondary = zone.rstrip("<").partition("<<")
        surname = " ".join(part for part in primary.split("<") if part)
        given_names = tuple(part for part in secondary.split("<") if part)
        return surname, given_names, zone[-1] != "<"

    def _state(self, where: MrzField, code: str) -> str:
        stripped = code.strip("<")
        if not stripped.isalpha():
            if where is MrzField.ISSUING_STATE:
                texts = ("Der ausstellende Staat", "Issuing state")
            else:
                texts = ("Die Staatsangehörigkeit", "Nationality")
            self._invalid(
                where,
                f"{texts[0]} ist kein gültiger Ländercode.",
                f"{texts[1]} is not a valid country code.",
            )
        return stripped

    def _sex(self, char: str) -> Sex | None:
        sex = _SEX_CODES.get(char)
        if sex is not None:
            return sex
        self._invalid(
            MrzField.SEX,
            "Die Angabe zum Geschlecht ist ungültig (erlaubt sind M, F und <).",
            "Sex field holds an invalid character.",
        )
        return None

    def _birth_date(self, raw: str) -> date | None:
        # ICAO fills unknown parts of a birth date with '<'; that is a fact about the person,
        # not a reading error, so it yields None without a problem.
        if "<" in raw and all(char == "<" or char.isdigit() for char in raw):
            return None
        if raw.isdigit():
            year, month, day = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
            # The latest century in which the birthday is not after today.
            year += self.today.year - self.today.year % 100
            if (year, month, day) > (self.today.year, self.today.month, self.today.day):
                year -= 100
            try:
                return date(year, month, day)
            except ValueError:
                pass
        self._invalid(
            MrzField.BIRTH_DATE,
            "Das Geburtsdatum ist kein gültiges Datum.",
            "Date of birth is not a valid date.",
        )
        return None

    def _expiry_date(self, raw: str) -> date | None:
        if raw.isdigit():
            # Documents still in use expire this century; no century guessing needed.
            try:
                return date(2000 + int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
            except ValueError:
                pass
        self._invalid(
            MrzField.EXPIRY_DATE,
            "Das Ablaufdatum ist kein gültiges Datum.",
            "Date of expiry is not a valid date.",
        )
        return None


_CHECK_LABELS: dict[MrzField, tuple[str, str]] = {
    MrzField.DOCUMENT_NUMBER: ("Prüfziffer der Dokumentnummer", "Document number check digit"),
    MrzField.BIRTH_DATE: ("Prüfziffer des Geburtsdatums", "Date of birth check digit"),
    MrzField.EXPIRY_DATE: ("Prüfziffer des Ablaufdatums", "Date of expiry check digit"),
    MrzField.PERSONAL_NUMBER: (
        "Prüfziffer der persönlichen Nummer",
        "Personal number check digit",
    ),
    MrzField.COMPOSITE: ("Gesamtprüfziffer", "Composite check digit"),
}


def _document_number(
    principal: str, check: str, optional: str, *, allow_overflow: bool
) -> tuple[str, str, str, str]:
    """Resolve ICAO's overflow rule for document numbers longer than nine characters.

    TD1/TD2: the first nine characters sit in the number field, its check digit position
    holds '<', and the rest follows at the start of the optional data, then the check digit
    over the whole number, then '<'. Returns (number, check digit char, checked data,
    remaining optional data).
    """
    if allow_overflow and check == "<" and "<" not in principal and optional[:1] not in ("", "<"):
        end = optional.find("<")
        if end == -1:
            end = len(optional)
        number = principal + optional[: end - 1]
        return number, optional[end - 1], number, optional[end:]
    return principal.rstrip("<"), check, principal, optional
