"""Names by DIN 91379 (String.Latin+ 1.3): normalisation, validation and the search form.

German registers must accept exactly the characters of DIN 91379 — no fewer (a citizen's name
is written as in the passport, "Nguyễn", "Dvořák", "Ødegård"), and no more (every authority
that receives the record has to be able to store and print it). The standard defines which
characters and sequences each *data type* allows (see `DataType`) and a *search form* that maps
every Latin letter to A-Z ("Müller" and "Mueller" both search as "MUELLER").

Details that matter here:

* Text is compared in Unicode NFC, as the standard requires. "ü" typed as u + U+0308 is the
  same name as the precomposed "ü".
* Some letters exist only as a *sequence* of a base letter and combining marks (e.g. "L̥",
  "K͟H"); those are accepted as units. A combining mark that is not part of a listed sequence —
  alone, or on a letter where that combination is not listed — is rejected.
* Positions in problems count characters the way a clerk sees them on screen: a combining mark
  attached to a letter does not count on its own, so "Mül©ler" reports "©" at position 4
  whether "ü" arrived precomposed or decomposed.

The character data come from the official lists (CC-BY 4.0, "DIN-91379-Characters-and-
Sequences"), reduced by `build_spec/gen_din91379_table.py` to `clerk_app/data/din91379.json`,
which is read once, on first use: importing this module stays cheap for the app's cold start.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "MAX_PROBLEMS",
    "DataType",
    "NameProblem",
    "ProblemKind",
    "is_valid",
    "normalize",
    "search_form",
    "search_tokens",
    "validate",
]

DEFAULT_MAX_LENGTH = 200
# A clerk fixes a name from the first few messages; a pasted document must not produce
# thousands of them (or take long to produce them).
MAX_PROBLEMS = 10

_DATA_PACKAGE = "clerk_app"
_DATA_FILE = ("data", "din91379.json")


class DataType(StrEnum):
    """The DIN 91379 data types: which groups of the lists a field accepts.

    A is for names of natural persons — what the register uses for family and first names.
    The wider types exist for other fields (company names, free text, data exchange).
    """

    A = "A"  # Latin letters + non-letters N1: names of natural persons
    B = "B"  # A + non-letters N2: names of legal persons, products, ...
    C = "C"  # B + non-letters N3 and N4: other text
    D = "D"  # Latin letters + N1 + N2 + N3 + Greek letters + non-letters E1
    E = "E"  # everything in the lists, including Cyrillic and free combining diacritics


_GROUPS: Mapping[DataType, tuple[str, ...]] = {
    DataType.A: ("bll", "bnlreq"),
    DataType.B: ("bll", "bnlreq", "bnl"),
    DataType.C: ("bll", "bnlreq", "bnl", "bnlopt", "bnlnot"),
    DataType.D: ("bll", "bnlreq", "bnl", "bnlopt", "gl", "enl"),
    DataType.E: ("bll", "bnlreq", "bnl", "bnlopt", "bnlnot", "dc", "gl", "cl", "enl"),
}


class ProblemKind(StrEnum):
    """What is wrong, for code that reacts differently (e.g. which field to highlight)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CHARACTER = "character"


@dataclass(frozen=True)
class NameProblem:
    """One reason a name is rejected.

    `message_de` is shown to the clerk and may quote the offending character; `message_en` goes
    to logs and therefore names only code points and positions, never the name (personal data).
    """

    kind: ProblemKind
    # 1-based, counted as the clerk sees characters (a letter with its combining marks is one);
    # for TOO_LONG the first position beyond the limit; None for EMPTY.
    position: int | None
    # The offending character or sequence as it stands in the normalised name ("" if none).
    character: str
    # "U+00A9", or "U+0058 U+0303" for a letter with an unlisted combining mark ("" if none).
    code_points: str
    message_de: str
    message_en: str


# Combining marks that attach to a preceding letter (the Latin-relevant blocks; every mark in
# the lists is in U+0300-U+036F). Marks from other blocks stand alone and are rejected.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_MARK_RE = re.compile(f"[{_MARKS}]")
# `[^\W\d_]` is "a letter" in Python's re (word characters minus digits and underscore).
_LETTER = r"[^\W\d_]"
# One unit as a clerk sees it: a letter with its combining marks, or any single character.
_UNIT_RE = re.compile(f"{_LETTER}[{_MARKS}]*|.", re.DOTALL)
_LETTER_CLUSTER_RE = re.compile(f"{_LETTER}[{_MARKS}]*")
_ATTACHED_MARKS_RE = re.compile(f"(?<={_LETTER})[{_MARKS}]+")
_SPACE_RUN_RE = re.compile(" {2,}")
_NOT_SEARCH_RE = re.compile("[^A-Z0-9 ]+")

# Search form: these become token separators. Whitespace, dashes, apostrophes and quotes
# (including the modifier letters the standard lists as apostrophes, ʹ ʺ ʾ ʿ ˈ ˌ, and U+02BC,
# which it does not list but keyboards produce), and the punctuation that separates words in
# lists ("Müller, Anna", "Schmidt/Meyer", "(geb. Schulz)"). All other punctuation — ". · ‡ ~" —
# is dropped, so "Col·lell" searches as "COLLELL" and "J.R." as "JR".
_SEPARATORS = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
    "'\"`\u00b4\u02b9\u02ba\u02bb\u02bc\u02bd\u02be\u02bf\u02c8\u02cc"
    "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033\u00ab\u00bb\u2039\u203a"
    ",;:/\\()[]{}<>&+_|"
)


@dataclass(frozen=True)
class _Table:
    chars: Mapping[str, str]  # group -> all single characters of that group
    sequences: Mapping[str, tuple[str, ...]]  # group -> listed sequences
    search_forms: Mapping[str, str]  # Latin letter or sequence -> A-Z search form


@cache
def _table() -> _Table:
    """The packaged table, parsed once. Read via importlib.resources so it works from a wheel
    or a frozen build as well as from the checkout."""
    from importlib import resources  # deferred: not needed until the first name is checked

    raw = json.loads(
        resources.files(_DATA_PACKAGE).joinpath(*_DATA_FILE).read_text(encoding="utf-8")
    )
    return _Table(
        chars=dict(raw["chars"]),
        sequences={group: tuple(seqs) for group, seqs in raw["sequences"].items()},
        search_forms=dict(raw["search_forms"]),
    )


def _char_class(chars: str) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]" if chars else "(?!)"


@cache
def _valid_run_re(data_type: DataType) -> re.Pattern[str]:
    """A pattern matching a maximal run of allowed units for one data type.

    Scanning valid stretches inside the regex engine keeps validation linear and fast even for
    a megabyte of pasted text; Python code runs only at the (few, capped) problems. Each
    alternative consumes exactly one unit as `_UNIT_RE` segments the text, so the position
    bookkeeping in `validate` agrees with the problem reports.
    """
    table = _table()
    groups = _GROUPS[data_type]
    chars = "".join(table.chars.get(group, "") for group in groups)
    marks = table.chars.get("dc", "")  # never valid alone, only on a letter (type E)
    letters = "".join(c for c in chars if re.fullmatch(_LETTER, c))
    others = "".join(c for c in chars if not re.fullmatch(_LETTER, c) and c not in marks)
    sequences = sorted(
        (seq for group in groups for seq in table.sequences.get(group, ())),
        key=len,
        reverse=True,
    )
    no_mark = f"(?![{_MARKS}])"
    # A run of plain letters in one step (the common case); the look-ahead gives back a letter
    # that carries a combining mark, so that one is matched as a sequence or not at all.
    alternatives = [f"{_char_class(letters)}+{no_mark}", f"{_char_class(others)}+"]
    if "dc" in groups:
        # Data type E: any allowed letter may carry any of the listed combining diacritics.
        alternatives.append(f"{_char_class(letters)}{_char_class(marks)}+{no_mark}")
    if sequences:
        alternatives.append(
            "(?:" + "|".join(re.escape(seq) for seq in sequences) + f"){no_mark}"
        )
    return re.compile("(?:" + "|".join(alternatives) + ")+")


def normalize(text: str) -> str:
    """NFC, without surrounding whitespace, internal runs of spaces collapsed to one.

    NFC because the standard compares NFC text and because the same name typed on different
    keyboards must be stored identically. Only U+0020 runs are collapsed: tabs, line breaks
    and no-break spaces inside a name are reported by `validate`, not silently changed.
    """
    return _SPACE_RUN_RE.sub(" ", unicodedata.normalize("NFC", text).strip())


def _code_points(unit: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in unit)


def _visible(unit: str) -> bool:
    """False for characters a message could not show (controls, invisible spaces, lone
    surrogates, unassigned code points): those are named by code point only."""
    return not any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs") for c in unit
    )


def _character_problem(unit: str, position: int, data_type: DataType) -> NameProblem:
    code_points = _code_points(unit)
    if _visible(unit):
        # A lone combining mark is drawn on a dotted circle, as in Unicode charts; otherwise
        # it would sit on the opening quotation mark.
        shown = "\u25cc" + unit if unicodedata.category(unit[0]).startswith("M") else unit
        message_de = (
            f"Zeichen „{shown}“ ({code_points}) an Position {position} "
            "ist in Namen nicht zulässig."
        )
    else:
        message_de = (
            f"Unsichtbares Zeichen ({code_points}) an Position {position} "
            "ist in Namen nicht zulässig."
        )
    message_en = (
        f"character {code_points} at position {position} "
        f"not allowed in DIN 91379 data type {data_type.value}"
    )
    return NameProblem(ProblemKind.CHARACTER, position, unit, code_points, message_de, message_en)


def validate(
    text: str,
    data_type: DataType = DataType.A,
    max_length: int = DEFAULT_MAX_LENGTH,
    *,
    max_problems: int = MAX_PROBLEMS,
) -> list[NameProblem]:
    """Why `text` is not an acceptable name of `data_type`; an empty list means it is.

    The text is checked in its `normalize`d form, which is also the form to store. At most
    `max_problems` problems are reported (the length problem first), so a pasted document
    costs milliseconds and produces a readable list.
    """
    data_type = DataType(data_type)
    name = normalize(text)
    if not name:
        return [
            NameProblem(
                ProblemKind.EMPTY, None, "", "",
                "Der Name darf nicht leer sein.", "name is empty",
            )
        ]

    problems: list[NameProblem] = []
    if len(name) > max_length:  # cheap pre-check: the visible length is never larger
        length = len(name) - sum(map(len, _ATTACHED_MARKS_RE.findall(name)))
        if length > max_length:
            problems.append(
                NameProblem(
                    ProblemKind.TOO_LONG, max_length + 1, "", "",
                    f"Der Name ist zu lang (höchstens {max_length} Zeichen).",
                    f"name too long: {length} characters, maximum {max_length}",
                )
            )

    valid_run = _valid_run_re(data_type)
    index, attached_marks, end = 0, 0, len(name)
    while index < end and len(problems) < max_problems:
        run = valid_run.match(name, index)
        if run:
            # Inside a valid run every combining mark belongs to a letter or sequence.
            attached_marks += len(_MARK_RE.findall(name, index, run.end()))
            index = run.end()
            continue
        unit_match = _UNIT_RE.match(name, index)
        if unit_match is None:  # cannot happen: "." with DOTALL matches any character
            break
        unit = unit_match.group()
        problems.append(_character_problem(unit, index - attached_marks + 1, data_type))
        attached_marks += len(unit) - 1
        index = unit_match.end()
    return problems[:max_problems]


def is_valid(
    text: str, data_type: DataType = DataType.A, max_length: int = DEFAULT_MAX_LENGTH
) -> bool:
    """True if `validate` finds nothing to object to."""
    return not validate(text, data_type, max_length, max_problems=1)


@dataclass(frozen=True)
class _SearchTables:
    translate: Mapping[int, str]  # single character -> search form, or " " for separators
    clusters: re.Pattern[str]  # listed sequences, and letters carrying combining marks
    units: Mapping[str, str]  # letter or sequence -> search form, case variants included


@cache
def _search_tables() -> _SearchTables:
    """Lookup structures for `search_form`, derived once from the list's search forms.

    The list gives some letters in one case only (e.g. "ȧ" but not "Ȧ"); their other case is
    added so upper- and lower-case input always search alike.
    """
    forms = _table().search_forms
    units = dict(forms)
    for unit, form in forms.items():
        for variant in (unit.upper(), unit.lower()):
            variant = unicodedata.normalize("NFC", variant)
            # Only variants that are still one letter ("ß".upper() is "SS", two letters).
            if _LETTER_CLUSTER_RE.fullmatch(variant):
                units.setdefault(variant, form)
    translate: dict[int, str] = {ord(c): " " for c in _SEPARATORS}
    for unit, form in units.items():
        if len(unit) == 1:
            translate[ord(unit)] = form
    sequences = sorted((u for u in units if len(u) > 1), key=len, reverse=True)
    clusters = re.compile(
        "|".join([*(re.escape(seq) for seq in sequences), f"{_LETTER}[{_MARKS}]+"])
    )
    return _SearchTables(translate, clusters, units)


def _cluster_form(match: re.Match[str]) -> str:
    """Search form of a sequence, or of a letter with marks that form no listed sequence
    (then the letter alone counts: "X̃" searches as "X")."""
    units = _search_tables().units
    cluster = match.group()
    return units.get(cluster) or units.get(cluster[0], "")


def search_form(text: str) -> str:
    """The DIN 91379 search form: upper-case A-Z and 0-9, words separated by single spaces.

    Every Latin letter or sequence of the lists becomes the A-Z form the list gives ("Ä" ->
    "AE", "ß" -> "SS", "Ø" -> "OE", "Ł" -> "L"); typing the replacement ("Mueller") therefore
    finds the original ("Müller"). Hyphens, apostrophes and spaces separate words; other
    punctuation is dropped; ASCII digits are kept; everything else (Greek, Cyrillic, symbols)
    is dropped. Case never matters.
    """
    tables = _search_tables()
    name = tables.clusters.sub(_cluster_form, normalize(text))
    name = _NOT_SEARCH_RE.sub("", name.translate(tables.translate))
    return " ".join(name.split())


def search_tokens(text: str) -> list[str]:
    """The words of `search_form(text)`, e.g. ["MUELLER", "LUEDENSCHEIDT"]; [] for no words."""
    return search_form(text).split()
