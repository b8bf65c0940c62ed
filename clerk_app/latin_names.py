"""A name the register refuses, in one message, with the Latin form its passport would print.

DIN 91379 admits Latin letters only in names (data type A). A citizen named "Иван" is
registered as his passport spells him in its Latin fields: "Ivan", the transliteration of
ICAO Doc 9303 Part 3, section 6, which passports of Cyrillic-writing states follow. The clerk
gets that form as a suggestion to accept (and compares it with the passport), instead of one
sentence per character with Unicode codes.

The Russian letters come from `iuliia`'s ICAO Doc 9303 schema (a maintained library of
Cyrillic transliterations; it also handles case, "Юлия" -> "Iuliia"). Doc 9303's table also
lists the letters of Ukrainian, Belarusian, Serbian and Macedonian that the Russian schema
leaves alone; they are below. Other scripts get no suggestion: Doc 9303 leaves them to the
issuing state, and a guess would look like an official form.
"""

from __future__ import annotations

import re
import unicodedata

import iuliia

from clerk_app import names
from clerk_app.names import DataType, NameProblem, ProblemKind

__all__ = ["latin_suggestion", "name_message"]

# ICAO Doc 9303 Part 3, section 6, Cyrillic letters beyond Russian's (lower case).
_OTHER_CYRILLIC: dict[str, str] = {
    "ґ": "g", "є": "ie", "і": "i", "ї": "i", "ў": "u", "ђ": "d", "ѓ": "g", "ѕ": "dz",
    "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "ќ": "k", "џ": "dz",
}
# The distinct refused characters a one-line message quotes before "…".
_QUOTED = 6
_WORD_RE = re.compile(r"\w+")


def name_message(text: str, data_type: DataType = DataType.A,
                 max_length: int = names.DEFAULT_MAX_LENGTH) -> str | None:
    """Why `text` is no acceptable name, in one line for its field (None if it is one).

    A Cyrillic name is named as such, with its Latin form; otherwise one refused character
    keeps the names module's message (character, code, position), several are quoted once
    each, without codes.
    """
    problems = names.validate(text, data_type, max_length)
    if not problems:
        return None
    suggestion = latin_suggestion(text, data_type)
    if suggestion is not None:
        return (f"Kyrillische Buchstaben sind in Namen nicht zulässig. Lateinisch wie im Pass "
                f"(ICAO 9303): {suggestion}")
    return _summary(problems)


def latin_suggestion(text: str, data_type: DataType = DataType.A) -> str | None:
    """`text` with its Cyrillic letters in the Latin form of ICAO 9303 ("Иван" -> "Ivan");
    None if it has none, if something else is refused too (a "©" has no Latin form), or if
    the result is still no valid name."""
    refused = [p for p in names.validate(text, data_type) if p.kind is ProblemKind.CHARACTER]
    if not refused or not all(_is_cyrillic_letter(p.character) for p in refused):
        return None
    latin = _WORD_RE.sub(_latin_word, _other_cyrillic(names.normalize(text)))
    return latin if names.is_valid(latin, data_type) else None


def _summary(problems: list[NameProblem]) -> str:
    if len(problems) == 1:
        return problems[0].message_de
    parts = [p.message_de for p in problems if p.kind is not ProblemKind.CHARACTER]
    shown = list(dict.fromkeys(p.character for p in problems
                               if p.kind is ProblemKind.CHARACTER and p.character.isprintable()
                               and not p.character.isspace()))
    if len(shown) == 1:
        parts.append(f"Das Zeichen „{shown[0]}“ ist in Namen nicht zulässig.")
    elif shown:
        quoted = ", ".join(f"„{c}“" for c in shown[:_QUOTED])
        more = " …" if len(shown) > _QUOTED else ""
        parts.append(f"Die Zeichen {quoted}{more} sind in Namen nicht zulässig.")
    hidden = sum(p.kind is ProblemKind.CHARACTER and p.character not in shown for p in problems)
    if hidden:
        parts.append(f"Dazu {hidden} unsichtbare Zeichen." if shown else
                     f"{hidden} unsichtbare Zeichen sind in Namen nicht zulässig.")
    return " ".join(parts)


def _latin_word(match: re.Match[str]) -> str:
    """One word in Doc 9303's Latin form; a word in capitals stays in capitals ("ЖАННА" ->
    "ZHANNA", where the schema alone gives "ZhANNA")."""
    word = match.group()
    latin = str(iuliia.ICAO_DOC_9303.translate(word))
    return latin.upper() if len(word) > 1 and word.isupper() else latin


def _is_cyrillic_letter(unit: str) -> bool:
    return all(unicodedata.name(c, "").startswith("CYRILLIC") and c.isalpha() for c in unit)


def _other_cyrillic(text: str) -> str:
    """Doc 9303's letters the Russian schema leaves alone, case kept: "Їжак" -> "Iжак"."""
    out: list[str] = []
    for index, char in enumerate(text):
        latin = _OTHER_CYRILLIC.get(char.lower())
        if latin is None:
            out.append(char)
        elif char.islower():
            out.append(latin)
        else:   # "Љубица" -> "Ljubica", "ЉУБИЦА" -> "LJUBICA"
            following = text[index + 1:index + 2]
            out.append(latin.capitalize() if following.islower() else latin.upper())
    return "".join(out)
