"""Tests for clerk_app.mrz: ICAO 9303 specimens, every check digit, scanner quirks, properties.

The specimens are the ICAO Doc 9303 examples (Anna Maria Eriksson, Utopia) and the German ID
card specimen (Erika Mustermann). Their check digits were recomputed by hand for these tests
and all match the printed specimens.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clerk_app.errors import ClerkError
from clerk_app.mrz import (
    MrzField,
    MrzFormatError,
    MrzProblem,
    MrzResult,
    ProblemKind,
    check_digit,
    looks_like_mrz,
    parse,
)

TODAY = date(2025, 6, 1)

ICAO_TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
ICAO_TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)
ICAO_TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
GERMAN_ID = (
    "IDD<<T220001293<<<<<<<<<<<<<<<",
    "6408125<2010315D<<<<<<<<<<<<<4",
    "MUSTERMANN<<ERIKA<<<<<<<<<<<<<",
)
SPECIMENS = {"icao_td1": ICAO_TD1, "icao_td2": ICAO_TD2, "icao_td3": ICAO_TD3, "de_id": GERMAN_ID}

NOT_MRZ_DE = "Die Eingabe ist keine lesbare maschinenlesbare Zone (MRZ)."
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = LETTERS + "0123456789"


def _parse(lines: tuple[str, ...] | list[str], sep: str = "\n") -> MrzResult:
    return parse(sep.join(lines), today=TODAY)


def _set(lines: tuple[str, ...], line: int, pos: int, char: str) -> tuple[str, ...]:
    changed = list(lines)
    changed[line] = changed[line][:pos] + char + changed[line][pos + 1:]
    return tuple(changed)


def _pad(text: str, width: int) -> str:
    assert len(text) <= width, (text, width)
    return text + "<" * (width - len(text))


# --- Builders: assemble a valid MRZ from fields, computing every check digit. -----------------


def build_td1(
    *, code: str = "ID", state: str = "D", number: str, birth: str, sex: str, expiry: str,
    nationality: str = "D", optional: str = "", optional_2: str = "", names: str,
) -> tuple[str, str, str]:
    if len(number) > 9:  # ICAO overflow: '<' in the check position, rest in optional data.
        head = number[:9] + "<"
        optional = number[9:] + str(check_digit(number)) + "<" + optional
    else:
        head = _pad(number, 9) + str(check_digit(_pad(number, 9)))
    line1 = _pad(code, 2) + _pad(state, 3) + head + _pad(optional, 15)
    birth_part = birth + str(check_digit(birth))
    expiry_part = expiry + str(check_digit(expiry))
    optional_2 = _pad(optional_2, 11)
    composite = check_digit(line1[5:30] + birth_part + expiry_part + optional_2)
    line2 = birth_part + sex + expiry_part + _pad(nationality, 3) + optional_2 + str(composite)
    return line1, line2, _pad(names, 30)


def build_td2(
    *, code: str = "I", state: str = "UTO", number: str, birth: str, sex: str, expiry: str,
    nationality: str = "UTO", optional: str = "", names: str,
) -> tuple[str, str]:
    if len(number) > 9:
        head = number[:9] + "<"
        optional = number[9:] + str(check_digit(number)) + "<" + optional
    else:
        head = _pad(number, 9) + str(check_digit(_pad(number, 9)))
    line1 = _pad(code, 2) + _pad(state, 3) + _pad(names, 31)
    birth_part = birth + str(check_digit(birth))
    expiry_part = expiry + str(check_digit(expiry))
    optional = _pad(optional, 7)
    composite = check_digit(head + birth_part + expiry_part + optional)
    line2 = head + _pad(nationality, 3) + birth_part + sex + expiry_part + optional
    return line1, line2 + str(composite)


def build_td3(
    *, code: str = "P", state: str = "UTO", number: str, birth: str, sex: str, expiry: str,
    nationality: str = "UTO", personal: str = "", personal_cd: str | None = None, names: str,
) -> tuple[str, str]:
    head = _pad(number, 9) + str(check_digit(_pad(number, 9)))
    line1 = _pad(code, 2) + _pad(state, 3) + _pad(names, 39)
    birth_part = birth + str(check_digit(birth))
    expiry_part = expiry + str(check_digit(expiry))
    personal = _pad(personal, 14)
    personal_part = personal + (personal_cd or str(check_digit(personal)))
    composite = check_digit(head + birth_part + expiry_part + personal_part)
    line2 = head + _pad(nationality, 3) + birth_part + sex + expiry_part + personal_part
    return line1, line2 + str(composite)


# --- Check digits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "digit"),
    [
        ("D23145890", 7),
        ("L898902C3", 6),
        ("T22000129", 3),
        ("740812", 2),
        ("640812", 5),
        ("201031", 5),
        ("ZE184226B<<<<<", 1),
        ("<<<<<<<<<<<<<<", 0),
        ("", 0),
    ],
)
def test_check_digit_matches_specimens(data: str, digit: int) -> None:
    assert check_digit(data) == digit


@pytest.mark.parametrize("data", ["abc", "12 3", "Ü", "12-3"])
def test_check_digit_rejects_characters_outside_the_mrz_alphabet(data: str) -> None:
    with pytest.raises(ValueError):
        check_digit(data)


# --- Specimens ---------------------------------------------------------------------------------


def test_icao_td1_specimen() -> None:
    result = _parse(ICAO_TD1)
    assert result.problems == ()
    assert result.is_valid
    assert (result.kind, result.document_code, result.issuing_state) == ("TD1", "I", "UTO")
    assert result.document_number == "D23145890"
    assert (result.surname, result.given_names) == ("ERIKSSON", ("ANNA", "MARIA"))
    assert result.nationality == "UTO"
    assert result.birth_date == date(1974, 8, 12)
    assert result.sex == "F"
    assert result.expiry_date == date(2012, 4, 15)
    assert (result.optional_data, result.optional_data_2) == ("", "")
    assert not result.name_possibly_truncated
    assert result.lines == ICAO_TD1


def test_icao_td2_specimen() -> None:
    result = _parse(ICAO_TD2)
    assert result.problems == ()
    assert (result.kind, result.document_code, result.document_number) == ("TD2", "I", "D23145890")
    assert (result.surname, result.given_names) == ("ERIKSSON", ("ANNA", "MARIA"))
    assert (result.birth_date, result.expiry_date) == (date(1974, 8, 12), date(2012, 4, 15))


def test_icao_td3_specimen() -> None:
    result = _parse(ICAO_TD3)
    assert result.problems == ()
    assert (result.kind, result.document_code, result.issuing_state) == ("TD3", "P", "UTO")
    assert result.document_number == "L898902C3"
    assert (result.surname, result.given_names) == ("ERIKSSON", ("ANNA", "MARIA"))
    assert result.nationality == "UTO"
    assert result.birth_date == date(1974, 8, 12)
    assert result.sex == "F"
    assert result.expiry_date == date(2012, 4, 15)
    assert result.optional_data == "ZE184226B"
    assert result.optional_data_2 == ""


def test_german_id_card_specimen() -> None:
    result = _parse(GERMAN_ID)
    assert result.problems == ()
    assert (result.kind, result.document_code, result.issuing_state) == ("TD1", "ID", "D")
    assert result.document_number == "T22000129"
    assert (result.surname, result.given_names) == ("MUSTERMANN", ("ERIKA",))
    assert result.nationality == "D"
    assert result.birth_date == date(1964, 8, 12)
    assert result.sex == "X"  # '<' on the German card
    assert result.expiry_date == date(2020, 10, 31)


# --- Every check digit -------------------------------------------------------------------------

CHECK_POSITIONS = [
    ("icao_td1", 0, 14, MrzField.DOCUMENT_NUMBER),
    ("icao_td1", 1, 6, MrzField.BIRTH_DATE),
    ("icao_td1", 1, 14, MrzField.EXPIRY_DATE),
    ("icao_td1", 1, 29, MrzField.COMPOSITE),
    ("de_id", 0, 14, MrzField.DOCUMENT_NUMBER),
    ("de_id", 1, 6, MrzField.BIRTH_DATE),
    ("de_id", 1, 14, MrzField.EXPIRY_DATE),
    ("de_id", 1, 29, MrzField.COMPOSITE),
    ("icao_td2", 1, 9, MrzField.DOCUMENT_NUMBER),
    ("icao_td2", 1, 19, MrzField.BIRTH_DATE),
    ("icao_td2", 1, 27, MrzField.EXPIRY_DATE),
    ("icao_td2", 1, 35, MrzField.COMPOSITE),
    ("icao_td3", 1, 9, MrzField.DOCUMENT_NUMBER),
    ("icao_td3", 1, 19, MrzField.BIRTH_DATE),
    ("icao_td3", 1, 27, MrzField.EXPIRY_DATE),
    ("icao_td3", 1, 42, MrzField.PERSONAL_NUMBER),
    ("icao_td3", 1, 43, MrzField.COMPOSITE),
]


@pytest.mark.parametrize(("specimen", "line", "pos", "where"), CHECK_POSITIONS)
@pytest.mark.parametrize("shift", range(1, 10))
def test_each_wrong_check_digit_yields_exactly_its_problem(
    specimen: str, line: int, pos: int, where: MrzField, shift: int
) -> None:
    lines = SPECIMENS[specimen]
    right = int(lines[line][pos])
    wrong = str((right + shift) % 10)
    result = _parse(_set(lines, line, pos, wrong))
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.field, problem.kind) == (where, ProblemKind.CHECK_DIGIT)
    assert (problem.read, problem.expected) == (wrong, right)
    assert f"(gelesen {wrong}, erwartet {right})." in problem.message_de
    assert not result.is_valid
    # The rest of the zone is still read, so the UI can show it next to the problem.
    assert result.surname


@pytest.mark.parametrize(
    ("where", "label"),
    [
        (MrzField.DOCUMENT_NUMBER, "Prüfziffer der Dokumentnummer"),
        (MrzField.BIRTH_DATE, "Prüfziffer des Geburtsdatums"),
        (MrzField.EXPIRY_DATE, "Prüfziffer des Ablaufdatums"),
        (MrzField.PERSONAL_NUMBER, "Prüfziffer der persönlichen Nummer"),
        (MrzField.COMPOSITE, "Gesamtprüfziffer"),
    ],
)
def test_check_digit_messages_name_the_field_in_german(where: MrzField, label: str) -> None:
    line, pos = next((ln, p) for s, ln, p, w in CHECK_POSITIONS if s == "icao_td3" and w == where)
    right = int(ICAO_TD3[line][pos])
    wrong = str((right + 1) % 10)
    (problem,) = _parse(_set(ICAO_TD3, line, pos, wrong)).problems
    assert problem.message_de == f"{label} ist falsch (gelesen {wrong}, erwartet {right})."


def test_document_number_message_exactly_as_specified() -> None:
    (problem,) = _parse(_set(GERMAN_ID, 0, 14, "7")).problems
    assert problem.message_de == "Prüfziffer der Dokumentnummer ist falsch (gelesen 7, erwartet 3)."
    assert problem.message_en == "Document number check digit does not match."


def test_misread_field_character_blames_the_field_not_the_composite() -> None:
    # One wrong character in the document number breaks both its own and the composite check;
    # only the field is named.
    (problem,) = _parse(_set(GERMAN_ID, 0, 6, "3")).problems
    assert problem.field is MrzField.DOCUMENT_NUMBER


def test_error_only_the_composite_covers_is_reported_as_composite() -> None:
    # TD1 optional data has no check digit of its own; only the composite notices a change.
    (problem,) = _parse(_set(ICAO_TD1, 0, 20, "1")).problems
    assert (problem.field, problem.kind) == (MrzField.COMPOSITE, ProblemKind.CHECK_DIGIT)


def test_letter_in_check_digit_position_is_a_problem_not_a_crash() -> None:
    (problem,) = _parse(_set(ICAO_TD3, 1, 19, "O")).problems
    assert (problem.field, problem.read, problem.expected) == (MrzField.BIRTH_DATE, "O", 2)


def test_english_messages_carry_no_personal_data() -> None:
    lines = _set(_set(GERMAN_ID, 0, 14, "7"), 1, 2, "1")  # doc number cd + birth month 18
    result = _parse(lines)
    assert result.problems
    for problem in result.problems:
        for secret in ("T22000129", "MUSTERMANN", "ERIKA", "6418", "641812", "7", "3"):
            assert secret not in problem.message_en


# --- Document number overflow (TD1/TD2) --------------------------------------------------------


def test_td1_document_number_overflow() -> None:
    lines = build_td1(number="D23145890123", birth="740812", sex="F", expiry="120415",
                      optional="XY7", names="ERIKSSON<<ANNA")
    assert lines[0][14] == "<"
    result = _parse(lines)
    assert result.problems == ()
    assert result.document_number == "D23145890123"
    assert result.optional_data == "XY7"


def test_td1_document_number_overflow_with_wrong_check_digit() -> None:
    lines = build_td1(number="D23145890123", birth="740812", sex="F", expiry="120415",
                      names="ERIKSSON<<ANNA")
    pos = 15 + 3  # after the three overflowing characters
    right = int(lines[0][pos])
    wrong = str((right + 1) % 10)
    (problem,) = _parse(_set(lines, 0, pos, wrong)).problems
    assert (problem.field, problem.read, problem.expected) == (
        MrzField.DOCUMENT_NUMBER, wrong, right)


def test_td1_overflow_filling_the_whole_optional_field() -> None:
    number = "ABCDEFGHI" + "JKLMNOPQRSTUV"  # 22 characters: 9 + 13 + check digit + '<'
    lines = build_td1(number=number, birth="740812", sex="F", expiry="120415", names="A<<B")
    result = _parse(lines)
    assert result.problems == ()
    assert result.document_number == number


def test_td2_document_number_overflow() -> None:
    lines = build_td2(number="D2314589012", birth="740812", sex="F", expiry="120415",
                      names="ERIKSSON<<ANNA")
    result = _parse(lines)
    assert result.problems == ()
    assert result.document_number == "D2314589012"


def test_missing_document_number_check_digit_without_overflow_is_a_problem() -> None:
    lines = _set(GERMAN_ID, 0, 14, "<")
    problems = _parse(lines).problems
    assert [(p.field, p.kind, p.read, p.expected) for p in problems] == [
        (MrzField.DOCUMENT_NUMBER, ProblemKind.CHECK_DIGIT, "<", 3)
    ]


# --- TD3 personal number -----------------------------------------------------------------------


@pytest.mark.parametrize("filler", ["<", "0"])
def test_empty_personal_number_check_may_be_filler_or_zero(filler: str) -> None:
    lines = build_td3(number="L898902C3", birth="740812", sex="F", expiry="120415",
                      personal_cd=filler, names="ERIKSSON<<ANNA<MARIA")
    result = _parse(lines)
    assert result.problems == ()
    assert result.optional_data == ""


def test_filled_personal_number_needs_a_real_check_digit() -> None:
    (problem,) = _parse(_set(ICAO_TD3, 1, 42, "<")).problems
    assert (problem.field, problem.read, problem.expected) == (MrzField.PERSONAL_NUMBER, "<", 1)


# --- Scanner input quirks ----------------------------------------------------------------------


@pytest.mark.parametrize("specimen", SPECIMENS)
@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r", "", " \n", "  \r\n", "\n\n"])
def test_separators_and_trailing_spaces(specimen: str, sep: str) -> None:
    lines = SPECIMENS[specimen]
    text = sep.join(lines) + sep
    assert looks_like_mrz(text)
    result = parse(text, today=TODAY)
    assert result.lines == lines
    assert result.problems == ()


@pytest.mark.parametrize("specimen", SPECIMENS)
def test_lowercase_is_accepted(specimen: str) -> None:
    lines = SPECIMENS[specimen]
    text = "\n".join(lines).lower()
    assert looks_like_mrz(text)
    result = parse(text, today=TODAY)
    assert result == _parse(lines)


def test_partly_concatenated_td1() -> None:
    text = ICAO_TD1[0] + ICAO_TD1[1] + "\r\n" + ICAO_TD1[2] + "   \n"
    assert _parse([text]).lines == ICAO_TD1


# --- Not an MRZ at all -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\r\n",
        "Müller",
        "\n".join(ICAO_TD1)[:-1],  # one character missing
        "\n".join(ICAO_TD1) + "<",  # one character too many
        ICAO_TD1[0][:20] + "\n" + ICAO_TD1[0][20:] + ICAO_TD1[1] + ICAO_TD1[2],  # mid-line break
        "\n".join((ICAO_TD1[0], ICAO_TD1[1][:10] + " " + ICAO_TD1[1][11:], ICAO_TD1[2])),
        "\n".join((ICAO_TD3[0], ICAO_TD3[1][:-1] + "ü")),
        "\n".join((ICAO_TD3[0], ICAO_TD3[1][:-1] + "ſ")),  # upper() would make this an 'S'
        "\n".join(ICAO_TD1[:2]),  # TD1 without its name line
        "1" + "\n".join(ICAO_TD1)[1:],  # document code must start with a letter
        "<" + "\n".join(ICAO_TD3)[1:],
        "x" * 1_000_000,
        "I<UTO" * 200_000,
        "\u2028".join(ICAO_TD1),
    ],
)
def test_not_an_mrz_raises_format_error(text: str) -> None:
    with pytest.raises(MrzFormatError) as caught:
        parse(text, today=TODAY)
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, ClerkError)
    assert error.message_de == NOT_MRZ_DE
    assert error.message_en
    assert str(error) == error.message_en


def test_visa_is_refused_with_its_own_message() -> None:
    with pytest.raises(MrzFormatError) as caught:
        _parse(("V" + ICAO_TD3[0][1:], ICAO_TD3[1]))
    assert "Visa" in caught.value.message_de


def test_non_string_input_is_a_format_error() -> None:
    with pytest.raises(MrzFormatError):
        parse(None, today=TODAY)  # type: ignore[arg-type]
    assert looks_like_mrz(None) is False  # type: ignore[arg-type]


# --- Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "today", "expected"),
    [
        ("640812", date(2025, 6, 1), date(1964, 8, 12)),
        ("200101", date(2025, 6, 1), date(2020, 1, 1)),
        ("250601", date(2025, 6, 1), date(2025, 6, 1)),  # born today
        ("250602", date(2025, 6, 1), date(1925, 6, 2)),  # tomorrow would be in the future
        ("000229", date(2025, 6, 1), date(2000, 2, 29)),
        ("991231", date(2099, 12, 31), date(2099, 12, 31)),
        ("991231", date(2100, 1, 1), date(2099, 12, 31)),
        ("050101", date(2104, 6, 1), date(2105 - 100, 1, 1)),
    ],
)
def test_two_digit_birth_year_is_never_in_the_future(
    birth: str, today: date, expected: date
) -> None:
    lines = build_td1(number="T22000129", birth=birth, sex="<", expiry="301031",
                      names="MUSTERMANN<<ERIKA")
    result = parse("\n".join(lines), today=today)
    assert result.problems == ()
    assert result.birth_date == expected


def test_birth_date_defaults_to_real_today() -> None:
    assert parse("\n".join(GERMAN_ID)).birth_date == date(1964, 8, 12)


@pytest.mark.parametrize(("expiry", "expected"), [("310315", date(2031, 3, 15)),
                                                   ("991231", date(2099, 12, 31)),
                                                   ("000101", date(2000, 1, 1))])
def test_two_digit_expiry_year_is_this_century(expiry: str, expected: date) -> None:
    lines = build_td3(number="L898902C3", birth="740812", sex="F", expiry=expiry, names="A<<B")
    assert _parse(lines).expiry_date == expected


@pytest.mark.parametrize(
    ("birth", "expiry", "where"),
    [
        ("641312", "301031", MrzField.BIRTH_DATE),  # month 13
        ("640832", "301031", MrzField.BIRTH_DATE),  # day 32
        ("640000", "301031", MrzField.BIRTH_DATE),
        ("6408A2", "301031", MrzField.BIRTH_DATE),
        ("640812", "300230", MrzField.EXPIRY_DATE),  # 30 February
        ("640812", "<<<<<<", MrzField.EXPIRY_DATE),
        ("640812", "3O1031", MrzField.EXPIRY_DATE),
    ],
)
def test_impossible_dates_are_problems(birth: str, expiry: str, where: MrzField) -> None:
    lines = build_td1(number="T22000129", birth=birth, sex="<", expiry=expiry,
                      names="MUSTERMANN<<ERIKA")
    result = _parse(lines)
    assert [(p.field, p.kind) for p in result.problems] == [(where, ProblemKind.INVALID_VALUE)]
    assert getattr(result, where.value) is None


@pytest.mark.parametrize("birth", ["64<<<<", "6408<<", "<<<<<<"])
def test_unknown_birth_date_parts_are_not_a_problem(birth: str) -> None:
    lines = build_td3(number="L898902C3", birth=birth, sex="M", expiry="301031", names="A<<B")
    result = _parse(lines)
    assert result.problems == ()
    assert result.birth_date is None


# --- Names, sex, codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "surname", "given"),
    [
        ("MUSTERMANN<<ERIKA<MARIA", "MUSTERMANN", ("ERIKA", "MARIA")),
        ("VON<DER<HEIDE<<KLAUS", "VON DER HEIDE", ("KLAUS",)),
        ("MUELLER<LUEDENSCHEIDT<<HANS<O", "MUELLER LUEDENSCHEIDT", ("HANS", "O")),
        ("ERIKSSON", "ERIKSSON", ()),
        ("<<ANNA", "", ("ANNA",)),
    ],
)
def test_names(names: str, surname: str, given: tuple[str, ...]) -> None:
    lines = build_td1(number="T22000129", birth="640812", sex="<", expiry="301031", names=names)
    result = _parse(lines)
    assert (result.surname, result.given_names) == (surname, given)
    assert not result.name_possibly_truncated


def test_name_filling_the_whole_field_may_be_truncated() -> None:
    names = "SCHNEIDERHAHNENKAMP<<FRIEDERI"
    names += "K" * (30 - len(names))
    lines = build_td1(number="T22000129", birth="640812", sex="<", expiry="301031", names=names)
    result = _parse(lines)
    assert result.name_possibly_truncated
    assert result.surname == "SCHNEIDERHAHNENKAMP"


def test_digit_in_name_is_a_problem() -> None:
    (problem,) = _parse(_set(GERMAN_ID, 2, 3, "5")).problems
    assert (problem.field, problem.kind) == (MrzField.NAME, ProblemKind.INVALID_VALUE)


@pytest.mark.parametrize(("char", "sex"), [("M", "M"), ("F", "F"), ("X", "X"), ("<", "X")])
def test_sex(char: str, sex: str) -> None:
    assert _parse(_set(ICAO_TD3, 1, 20, char)).sex == sex  # not covered by any check digit


def test_impossible_sex_is_a_problem() -> None:
    result = _parse(_set(ICAO_TD3, 1, 20, "Q"))
    assert result.sex is None
    assert [(p.field, p.kind) for p in result.problems] == [
        (MrzField.SEX, ProblemKind.INVALID_VALUE)]


def test_digits_in_country_codes_are_problems() -> None:
    result = _parse(_set(_set(ICAO_TD1, 0, 3, "7"), 1, 16, "7"))
    assert [p.field for p in result.problems] == [MrzField.ISSUING_STATE, MrzField.NATIONALITY]


def test_repr_shows_no_personal_data() -> None:
    result = _parse(_set(GERMAN_ID, 0, 14, "7"))
    text = repr(result)
    for secret in ("T22000129", "MUSTERMANN", "ERIKA", "1964", "640812"):
        assert secret not in text
    assert "TD1" in text


def test_result_is_frozen() -> None:
    result = _parse(GERMAN_ID)
    with pytest.raises(AttributeError):
        result.surname = "X"  # type: ignore[misc]
    assert hash(result) == hash(replace(result))


# --- looks_like_mrz ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Müller",
        "mueller anna",
        "12.08.1964",
        "Hauptstr 12",
        "Hauptstraße 12, 12345 Berlin",
        "T22000129",
        "",
        " ",
        "<<",
        "MUSTERMANN<<ERIKA",
        "a" * 90,  # right length, but no '<<'
        "x" * 1_000_000,
        "\n".join(ICAO_TD1)[:-1],
        "\n".join(ICAO_TD1)[:45],  # half-typed scan
    ],
)
def test_looks_like_mrz_is_false_for_ordinary_searches(text: str) -> None:
    assert looks_like_mrz(text) is False


def test_looks_like_mrz_is_fast() -> None:
    text = "\r\n".join(GERMAN_ID)
    garbage = "Müller " * 150_000
    start = time.perf_counter()
    for _ in range(2_000):
        assert looks_like_mrz(text)
        assert not looks_like_mrz(garbage)
    assert time.perf_counter() - start < 2.0  # well under 1 ms per keystroke


# --- Properties --------------------------------------------------------------------------------

name_parts = st.lists(st.text(LETTERS, min_size=1, max_size=10), min_size=1, max_size=3)
given_parts = st.lists(st.text(LETTERS, min_size=1, max_size=10), max_size=3)
states = st.one_of(st.just("D"), st.text(LETTERS, min_size=1, max_size=3))
births = st.dates(min_value=TODAY - timedelta(days=36_524), max_value=TODAY)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
sex_chars = st.sampled_from("MFX<")
short_numbers = st.text(ALNUM, min_size=1, max_size=9)


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _names_field(surname: list[str], given: list[str], width: int) -> str:
    names = "<".join(surname) + ("<<" + "<".join(given) if given else "")
    assume(len(names) <= width)
    return names


def _assert_round_trip(
    result: MrzResult, *, state: str, number: str, surname: list[str], given: list[str],
    nationality: str, birth: date, sex: str, expiry: date, width: int, names: str,
) -> None:
    assert result.problems == (), result.problems
    assert result.issuing_state == state
    assert result.document_number == number
    assert result.surname == " ".join(surname)
    assert result.given_names == tuple(given)
    assert result.nationality == nationality
    assert result.birth_date == birth
    assert result.sex == ("X" if sex == "<" else sex)
    assert result.expiry_date == expiry
    assert result.name_possibly_truncated == (len(names) == width)


@settings(max_examples=300)
@given(
    data=st.data(), code=st.sampled_from(["ID", "I", "A", "C", "AR", "IR"]), state=states,
    nationality=states, surname=name_parts, given_names=given_parts, birth=births,
    sex=sex_chars, expiry=expiries, optional_2=st.text(ALNUM, max_size=11),
    sep=st.sampled_from(["\n", "\r\n", "", "\r"]), lower=st.booleans(),
)
def test_property_td1_round_trip(
    data: st.DataObject, code: str, state: str, nationality: str, surname: list[str],
    given_names: list[str], birth: date, sex: str, expiry: date, optional_2: str, sep: str,
    lower: bool,
) -> None:
    number = data.draw(st.text(ALNUM, min_size=1, max_size=22), label="number")
    room = 15 - (len(number) - 9 + 2 if len(number) > 9 else 0)
    optional = data.draw(st.text(ALNUM, max_size=room), label="optional")
    names = _names_field(surname, given_names, 30)
    lines = build_td1(code=code, state=state, number=number, birth=_yymmdd(birth), sex=sex,
                      expiry=_yymmdd(expiry), nationality=nationality, optional=optional,
                      optional_2=optional_2, names=names)
    text = sep.join(lines)
    text = text.lower() if lower else text
    assert looks_like_mrz(text)
    result = parse(text, today=TODAY)
    assert (result.kind, result.document_code) == ("TD1", code)
    assert (result.optional_data, result.optional_data_2) == (optional, optional_2)
    _assert_round_trip(result, state=state, number=number, surname=surname, given=given_names,
                       nationality=nationality, birth=birth, sex=sex, expiry=expiry,
                       width=30, names=names)


@settings(max_examples=200)
@given(
    data=st.data(), state=states, nationality=states, surname=name_parts,
    given_names=given_parts, birth=births, sex=sex_chars, expiry=expiries,
)
def test_property_td2_round_trip(
    data: st.DataObject, state: str, nationality: str, surname: list[str],
    given_names: list[str], birth: date, sex: str, expiry: date,
) -> None:
    number = data.draw(st.text(ALNUM, min_size=1, max_size=14), label="number")
    room = 7 - (len(number) - 9 + 2 if len(number) > 9 else 0)
    optional = data.draw(st.text(ALNUM, max_size=room), label="optional")
    names = _names_field(surname, given_names, 31)
    lines = build_td2(state=state, number=number, birth=_yymmdd(birth), sex=sex,
                      expiry=_yymmdd(expiry), nationality=nationality, optional=optional,
                      names=names)
    result = _parse(lines)
    assert result.kind == "TD2"
    assert result.optional_data == optional
    _assert_round_trip(result, state=state, number=number, surname=surname, given=given_names,
                       nationality=nationality, birth=birth, sex=sex, expiry=expiry,
                       width=31, names=names)


@settings(max_examples=300)
@given(
    code=st.sampled_from(["P", "PP", "PD"]), state=states, nationality=states,
    number=short_numbers, surname=name_parts, given_names=given_parts, birth=births,
    sex=sex_chars, expiry=expiries, personal=st.text(ALNUM, max_size=14),
    empty_cd=st.sampled_from(["<", "0"]), sep=st.sampled_from(["\n", "\r\n", "", " \r"]),
    lower=st.booleans(),
)
def test_property_td3_round_trip(
    code: str, state: str, nationality: str, number: str, surname: list[str],
    given_names: list[str], birth: date, sex: str, expiry: date, personal: str,
    empty_cd: str, sep: str, lower: bool,
) -> None:
    names = _names_field(surname, given_names, 39)
    lines = build_td3(code=code, state=state, number=number, birth=_yymmdd(birth), sex=sex,
                      expiry=_yymmdd(expiry), nationality=nationality, personal=personal,
                      personal_cd=None if personal else empty_cd, names=names)
    text = sep.join(lines)
    text = text.lower() if lower else text
    assert looks_like_mrz(text)
    result = parse(text, today=TODAY)
    assert (result.kind, result.document_code, result.optional_data) == ("TD3", code, personal)
    _assert_round_trip(result, state=state, number=number, surname=surname, given=given_names,
                       nationality=nationality, birth=birth, sex=sex, expiry=expiry,
                       width=39, names=names)


def _parse_or_format_error(text: str) -> MrzResult | None:
    """Parse, accepting only MrzFormatError as failure; check the result's shape."""
    assert isinstance(looks_like_mrz(text), bool)
    try:
        result = parse(text, today=TODAY)
    except MrzFormatError as error:
        assert error.message_de and error.message_en
        return None
    assert all(isinstance(p, MrzProblem) and p.message_de and p.message_en
               for p in result.problems)
    assert result.is_valid == (not result.problems)
    return result


@given(st.text(max_size=400))
def test_property_random_text_only_raises_format_error(text: str) -> None:
    _parse_or_format_error(text)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([72, 88, 90]).flatmap(
        lambda n: st.text(ALNUM + ALNUM.lower() + "<<<<<<<<<<", min_size=n, max_size=n)
    )
)
def test_property_random_zone_shaped_text_only_raises_format_error(text: str) -> None:
    _parse_or_format_error(text)


@settings(max_examples=500)
@given(
    specimen=st.sampled_from(sorted(SPECIMENS)), data=st.data(),
    char=st.sampled_from(ALNUM + "<"),
)
def test_property_mutated_specimen_never_crashes(
    specimen: str, data: st.DataObject, char: str
) -> None:
    lines = SPECIMENS[specimen]
    line = data.draw(st.integers(0, len(lines) - 1), label="line")
    pos = data.draw(st.integers(0, len(lines[line]) - 1), label="pos")
    _parse_or_format_error("\n".join(_set(lines, line, pos, char)))
