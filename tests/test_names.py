"""DIN 91379 names: tested against every character and sequence of the official lists.

The lists (String.Latin+ 1.3, CC BY 4.0) are shipped in tests/data/din91379 (see its SOURCE.md),
so every test runs on a fresh clone. Expected results come from the lists themselves, never from
the implementation's own table.
"""

from __future__ import annotations

import importlib.util
import re
import time
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clerk_app.names import (
    MAX_PROBLEMS,
    DataType,
    NameProblem,
    ProblemKind,
    is_valid,
    normalize,
    search_form,
    search_tokens,
    validate,
)

REPO = Path(__file__).resolve().parents[1]
LISTS = REPO / "tests" / "data" / "din91379"
LIST_FILE = LISTS / "latin_list_1.3.txt"
SEARCH_FILE = LISTS / "latin_list_search_form_1.3.txt"
GENERATOR = REPO / "build_spec" / "gen_din91379_table.py"

A, B, C, D, E = DataType.A, DataType.B, DataType.C, DataType.D, DataType.E
# Which types accept each group, straight from the standard's definition of the data types.
ACCEPTED_BY = {
    "bll": {A, B, C, D, E},
    "bnlreq": {A, B, C, D, E},
    "bnl": {B, C, D, E},
    "bnlopt": {C, D, E},
    "bnlnot": {C, E},
    "gl": {D, E},
    "cl": {E},
    "enl": {D, E},
}

REAL_NAMES = [
    "Łukasz Wróbel",
    "Nguyễn Thị Minh Khai",
    "Ødegård",
    "Çağlar Öztürk",
    "Dvořák",
    "O'Brien",
    "Müller-Lüdenscheidt",
    "Ñúñez",
]


@dataclass(frozen=True)
class Entry:
    group: str
    kind: str  # "char" or "seq"
    unit: str  # built from the code point column (the glyph column has U+FFFD for controls)
    code_points: str  # "U+0041 U+030B"
    search_form: str | None = None


def _read(path: Path) -> list[Entry]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        fields = line.split("; ")
        cps = fields[2].split()
        entries.append(Entry(
            group=fields[0],
            kind=fields[1],
            unit="".join(chr(int(cp, 16)) for cp in cps),
            code_points=" ".join(f"U+{cp.upper()}" for cp in cps),
            search_form=fields[6] if len(fields) > 6 else None,
        ))
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return _read(LIST_FILE)


@pytest.fixture(scope="module")
def search_entries() -> list[Entry]:
    return _read(SEARCH_FILE)


def _in(entries: list[Entry], *groups: str) -> list[Entry]:
    return [e for e in entries if e.group in groups]


def _visible_count(unit: str) -> int:
    """Characters as the clerk counts them: combining marks do not count on their own."""
    return sum(1 for c in unit if not unicodedata.category(c).startswith("M"))


# --- every entry of the lists, per data type -------------------------------------------------


def test_lists_have_the_expected_groups(entries: list[Entry]) -> None:
    groups = {e.group for e in entries}
    assert groups == set(ACCEPTED_BY) | {"dc"}
    assert len(_in(entries, "bll")) > 600  # a truncated copy would make the tests below vacuous


@pytest.mark.parametrize("group", sorted(ACCEPTED_BY))
def test_every_entry_accepted_exactly_by_its_data_types(entries: list[Entry], group: str) -> None:
    """Each character/sequence, between two letters, is valid for the types that include its
    group; for the others it is the one problem, at position 2, named by its code points."""
    wrong: list[object] = []
    for entry in _in(entries, group):
        text = f"x{entry.unit}x"
        for data_type in DataType:
            problems = validate(text, data_type)
            if data_type in ACCEPTED_BY[group]:
                if problems:
                    wrong.append((entry.code_points, data_type.value, "rejected"))
            elif [(p.kind, p.position, p.character, p.code_points) for p in problems] != [
                (ProblemKind.CHARACTER, 2, entry.unit, entry.code_points)
            ]:
                wrong.append((entry.code_points, data_type.value, problems))
            if is_valid(text, data_type) != (data_type in ACCEPTED_BY[group]):
                wrong.append((entry.code_points, data_type.value, "is_valid disagrees"))
    assert wrong == []


def test_every_latin_letter_and_sequence_valid_alone(entries: list[Entry]) -> None:
    assert [e.code_points for e in _in(entries, "bll") if validate(e.unit)] == []


def test_lone_combining_marks_rejected_with_position(entries: list[Entry]) -> None:
    marks = _in(entries, "dc")
    assert len(marks) >= 20
    wrong: list[object] = []
    for mark in marks:
        for text, position in ((f"{mark.unit}ab", 1), (f"ab {mark.unit}c", 4),
                               (f"ab-{mark.unit}", 4)):
            assert unicodedata.normalize("NFC", text) == text  # nothing to compose with
            for data_type in DataType:  # also E: a mark needs a letter to sit on
                found = [(p.position, p.character, p.code_points)
                         for p in validate(text, data_type)]
                if found != [(position, mark.unit, mark.code_points)]:
                    wrong.append((mark.code_points, text.encode("unicode_escape"), found))
    assert wrong == []


def test_combining_mark_on_letter_only_where_listed(entries: list[Entry]) -> None:
    """Base letter + mark: valid for A only as a listed character/sequence (after NFC);
    for E also as an unlisted combination, since E includes the combining diacritics."""
    listed = {e.unit for e in _in(entries, "bll")}
    checked_unlisted = 0
    wrong: list[object] = []
    for mark in _in(entries, "dc"):
        for base in "QqXxLn":
            unit = unicodedata.normalize("NFC", base + mark.unit)
            text = f"a{unit}b"
            problems_a = [(p.position, p.character) for p in validate(text, A)]
            problems_e = validate(text, E)
            if unit in listed:
                if problems_a or problems_e:
                    wrong.append((base, mark.code_points, "listed but rejected"))
            else:
                checked_unlisted += 1
                if problems_a != [(2, unit)]:
                    wrong.append((base, mark.code_points, problems_a))
                if len(unit) == 2 and problems_e:  # letter + listed mark: fine for E
                    wrong.append((base, mark.code_points, "E rejects", problems_e))
    assert checked_unlisted > 50
    assert wrong == []


def test_unlisted_sequence_reported_as_one_character(entries: list[Entry]) -> None:
    listed = {e.unit for e in entries}
    unit = "X\u0303"  # X with combining tilde: no precomposed form, not a listed sequence
    assert unit not in listed
    [problem] = validate(f"Ma{unit}ine")
    assert (problem.position, problem.character, problem.code_points) == (
        3, unit, "U+0058 U+0303")
    assert problem.message_de == (
        f"Zeichen „{unit}“ (U+0058 U+0303) an Position 3 ist in Namen nicht zulässig.")


def test_sequence_counts_as_the_characters_a_clerk_sees(entries: list[Entry]) -> None:
    """"©" after any listed sequence is reported just after it, marks not counted."""
    wrong: list[object] = []
    for seq in [e for e in entries if e.kind == "seq"]:
        expected = _visible_count(seq.unit) + 1
        found = [(p.position, p.character) for p in validate(f"{seq.unit}©")]
        if found != [(expected, "©")]:
            wrong.append((seq.code_points, found))
    assert wrong == []


def test_nfd_input_of_every_precomposed_letter(entries: list[Entry]) -> None:
    wrong: list[object] = []
    decomposed = 0
    for entry in _in(entries, "bll", "bnlreq"):
        nfd = unicodedata.normalize("NFD", entry.unit)
        decomposed += nfd != entry.unit
        if normalize(f"x{nfd}x") != f"x{entry.unit}x":
            wrong.append((entry.code_points, "normalize"))
        if validate(f"x{nfd}x"):
            wrong.append((entry.code_points, "validate"))
        if search_form(nfd) != search_form(entry.unit):
            wrong.append((entry.code_points, "search_form"))
    assert decomposed > 400
    assert wrong == []


# --- search form -----------------------------------------------------------------------------


def test_search_form_of_every_listed_letter(search_entries: list[Entry]) -> None:
    """The list's search form, whatever the case of the input."""
    with_form = [e for e in search_entries if e.search_form]
    assert len(with_form) > 600
    wrong: list[object] = []
    for entry in with_form:
        for variant in (entry.unit, entry.unit.lower(), entry.unit.upper()):
            if search_form(variant) != entry.search_form:
                wrong.append((entry.code_points, variant, search_form(variant),
                              entry.search_form))
        # Inside a word as well (sequences must win over their base letter).
        if search_form(f"b{entry.unit}b") != f"B{entry.search_form}B":
            wrong.append((entry.code_points, "in a word", search_form(f"b{entry.unit}b")))
    assert wrong == []


def test_search_form_examples() -> None:
    assert search_form("müller") == search_form("MÜLLER") == search_form("mueller") == "MUELLER"
    assert search_form("Straße") == search_form("STRASSE") == "STRASSE"
    assert search_tokens("Müller-Lüdenscheidt") == ["MUELLER", "LUEDENSCHEIDT"]
    assert search_tokens("O'Brien") == search_tokens("O’Brien") == ["O", "BRIEN"]
    assert search_form("  Hauptstraße   12a ") == "HAUPTSTRASSE 12A"
    assert search_form("Müller, Anna (geb. Schulz)") == "MUELLER ANNA GEB SCHULZ"
    assert search_form("Col·lell") == "COLLELL"  # the middle dot is part of the word
    assert search_form("Αθήνα Иван Müller ©") == "MUELLER"
    assert search_form("") == "" and search_tokens("  ") == []
    assert search_form("X\u0303avier") == "XAVIER"  # unlisted mark: the base letter counts


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names(name: str) -> None:
    assert validate(name) == []
    assert is_valid(name)
    assert re.fullmatch(r"[A-Z]+( [A-Z]+)*", search_form(name))
    assert search_form(name.upper()) == search_form(name.lower()) == search_form(name)


# --- problems and messages -------------------------------------------------------------------


def test_position_reporting() -> None:
    expected = NameProblem(
        ProblemKind.CHARACTER, 4, "©", "U+00A9",
        "Zeichen „©“ (U+00A9) an Position 4 ist in Namen nicht zulässig.",
        "character U+00A9 at position 4 not allowed in DIN 91379 data type A",
    )
    assert validate("Mül©ler") == [expected]
    assert validate(unicodedata.normalize("NFD", "Mül©ler")) == [expected]
    assert validate("  Mül©ler ") == [expected]  # positions count in the normalised name
    assert [p.position for p in validate("M©ü©l")] == [2, 4]
    assert [p.position for p in validate("MX\u0303l©")] == [2, 4]  # X̃ is not listed


def test_english_message_never_contains_the_name() -> None:
    name = "Zyxwåv©qj\u00a0k"
    problems = validate(name)
    assert [p.character for p in problems] == ["©", "\u00a0"]
    for problem in problems:
        assert "Zyx" not in problem.message_en and problem.character not in problem.message_en
        assert problem.code_points in problem.message_en
        assert str(problem.position) in problem.message_en
    assert "„©“" in problems[0].message_de


def test_invisible_characters_named_by_code_point_only() -> None:
    for char in ("\u200b", "\t", "\u00a0", "\ufeff", "\ud800"):
        [problem] = validate(f"Anna{char}Maria")
        assert problem.position == 5
        assert problem.code_points == f"U+{ord(char):04X}"
        assert char not in problem.message_de and problem.code_points in problem.message_de


def test_lone_mark_shown_on_dotted_circle() -> None:
    [problem] = validate("\u0301Anna")
    assert problem.character == "\u0301"
    assert "„\u25cc\u0301“" in problem.message_de


@pytest.mark.parametrize("text", ["", " ", "   \t\n ", "\u3000"])
def test_empty_name(text: str) -> None:
    assert validate(text) == [NameProblem(
        ProblemKind.EMPTY, None, "", "", "Der Name darf nicht leer sein.", "name is empty")]
    assert not is_valid(text)


def test_length_limit() -> None:
    assert validate("a" * 200) == []
    [problem] = validate("a" * 201)
    assert problem.kind is ProblemKind.TOO_LONG and problem.position == 201
    assert problem.message_de == "Der Name ist zu lang (höchstens 200 Zeichen)."
    assert problem.message_en == "name too long: 201 characters, maximum 200"
    assert [p.kind for p in validate("abcd", max_length=3)] == [ProblemKind.TOO_LONG]
    assert validate("abcd", max_length=3)[0].message_de == (
        "Der Name ist zu lang (höchstens 3 Zeichen).")
    assert validate("\u0301" * 201)[0].kind is ProblemKind.TOO_LONG  # lone marks count, too


def test_length_limit_counts_a_sequence_as_one_character(entries: list[Entry]) -> None:
    seq = next(e.unit for e in entries if e.kind == "seq" and _visible_count(e.unit) == 1)
    assert validate(seq * 200) == []
    assert [p.kind for p in validate(seq * 201)] == [ProblemKind.TOO_LONG]


def test_problems_are_capped() -> None:
    problems = validate("©" * 50)
    assert len(problems) == MAX_PROBLEMS
    assert [p.position for p in problems] == list(range(1, MAX_PROBLEMS + 1))
    assert len(validate("©" * 50, max_problems=3)) == 3


def test_one_megabyte_is_quick() -> None:
    for text in ("Müller " * 150_000, "©" * 1_000_000, "a\u0308\u0301" * 350_000,
                 "\u0301" * 1_000_000, "x" * 1_000_000 + "©"):
        start = time.perf_counter()
        problems = validate(text)
        assert time.perf_counter() - start < 1.0
        assert problems[0].kind is ProblemKind.TOO_LONG
        assert problems[0].message_de == "Der Name ist zu lang (höchstens 200 Zeichen)."
        assert 1 <= len(problems) <= MAX_PROBLEMS
        start = time.perf_counter()
        search_form(text)
        assert time.perf_counter() - start < 2.0


def test_typical_names_take_well_under_a_millisecond() -> None:
    validate("warm-up")
    search_form("warm-up")
    start = time.perf_counter()
    for _ in range(200):
        for name in REAL_NAMES:
            validate(name)
            search_form(name)
    per_call = (time.perf_counter() - start) / (200 * len(REAL_NAMES) * 2)
    assert per_call < 0.001


def test_normalize() -> None:
    assert normalize("  Anna   Maria  ") == "Anna Maria"
    assert normalize("Mu\u0308ller") == "Müller"
    assert normalize("\tAnna\u00a0 Maria\n") == "Anna\u00a0 Maria"  # only U+0020 runs collapse
    assert normalize("   ") == ""


def test_data_type_accepts_plain_strings() -> None:
    assert DataType("B") is DataType.B
    assert validate("Müller & Söhne", "B") == []  # type: ignore[arg-type]
    assert validate("Müller & Söhne", DataType.A)[0].character == "&"


# --- the packaged table ----------------------------------------------------------------------


def test_packaged_table_matches_the_official_lists() -> None:
    """Fails while clerk_app/data/din91379.json is stale: run build_spec/gen_din91379_table.py."""
    spec = importlib.util.spec_from_file_location("gen_din91379_table", GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    packaged = resources.files("clerk_app").joinpath("data", "din91379.json")
    assert generator.render(generator.build_table(LISTS)) == packaged.read_text(encoding="utf-8")


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_crashes_and_positions_are_in_range(text: str) -> None:
    name = normalize(text)
    for data_type in DataType:
        problems = validate(text, data_type)
        assert validate(unicodedata.normalize("NFD", text), data_type) == problems
        assert len(problems) <= MAX_PROBLEMS
        for problem in problems:
            if problem.kind is ProblemKind.CHARACTER:
                assert problem.position is not None and 1 <= problem.position <= len(name)
                assert problem.character and problem.character in name
    form = search_form(text)
    assert re.fullmatch(r"([A-Z0-9]+( [A-Z0-9]+)*)?", form)
    assert search_form(form) == form
    assert search_tokens(text) == (form.split(" ") if form else [])
