"""A name outside DIN 91379 gets one message for its field and, for Cyrillic, the Latin form
its passport prints (ICAO Doc 9303 Part 3, section 6)."""

from __future__ import annotations

import pytest

from clerk_app.latin_names import latin_suggestion, name_message
from clerk_app.names import validate


@pytest.mark.parametrize(("name", "latin"), [
    ("Иван", "Ivan"),
    ("Юлия Щеглова", "Iuliia Shcheglova"),     # the examples of Russian passports
    ("Наталья", "Natalia"),                    # ь is left out
    ("Подъячев", "Podieiachev"),               # ъ is IE
    ("Ёлкин", "Elkin"),
    ("ЖАННА", "ZHANNA"),                       # capitals stay capitals
    ("Müller-Иванова", "Müller-Ivanova"),      # Latin letters stay as they are
    ("Їжак", "Izhak"),                         # Ukrainian
    ("Љубица", "Ljubitsa"),                    # Serbian: Doc 9303's letters beyond Russian
    ("Ўладзімір", "Uladzimir"),                # Belarusian
])
def test_cyrillic_names_get_the_passports_latin_form(name: str, latin: str) -> None:
    assert latin_suggestion(name) == latin
    assert validate(latin) == [], "the suggestion is a valid DIN 91379 name"


@pytest.mark.parametrize("name", [
    "Ivan",            # valid: nothing to suggest
    "Mül©ler",         # © has no Latin form
    "Иван©",           # one refused character without a Latin form spoils the suggestion
    "Ολγα",            # Greek: Doc 9303 leaves other scripts to the issuing state
    "محمد",
])
def test_no_suggestion_without_a_doc_9303_latin_form(name: str) -> None:
    assert latin_suggestion(name) is None


def test_one_line_per_field_without_unicode_codes() -> None:
    message = name_message("Иван")
    assert message == ("Kyrillische Buchstaben sind in Namen nicht zulässig. Lateinisch wie "
                       "im Pass (ICAO 9303): Ivan")
    assert name_message("Ολγα") == \
        "Die Zeichen „Ο“, „λ“, „γ“, „α“ sind in Namen nicht zulässig."


def test_a_long_cyrillic_name_is_still_one_short_line() -> None:
    message = name_message("Александр Владимирович Щербаков-Ивановский")
    assert message is not None
    assert message.count("nicht zulässig") == 1
    assert message.endswith("Aleksandr Vladimirovich Shcherbakov-Ivanovskii")


def test_many_refused_characters_are_quoted_once_each_up_to_six() -> None:
    assert name_message("Ολγα Παπαδοπουλου") == (
        "Die Zeichen „Ο“, „λ“, „γ“, „α“, „Π“, „π“ … sind in Namen nicht zulässig.")


def test_a_single_refused_character_keeps_its_position() -> None:
    assert name_message("Mül©ler") == \
        "Zeichen „©“ (U+00A9) an Position 4 ist in Namen nicht zulässig."
    assert name_message("Müller") is None


def test_invisible_characters_are_counted_not_quoted() -> None:
    assert name_message("Ab\u200bc\u200bd") == \
        "2 unsichtbare Zeichen sind in Namen nicht zulässig."
