"""Type-ahead search: names in any order, umlauts, dates, addresses, hostile input."""

from __future__ import annotations

from datetime import date

import pytest

from clerk_app import audit
from clerk_app.blocks import blocked_family_names
from clerk_app.errors import ValidationError
from clerk_app.person_record import open_person
from clerk_app.search import MAX_QUERY_CHARS, parse_query, search
from clerk_app.search_index import reindex_all
from clerk_app.store.db import Store
from tests.factories import add_person


@pytest.fixture
def people(store: Store) -> dict[str, str]:
    return {
        "anna": add_person(store, "Müller", "Anna Maria", "1964-08-12"),
        "hans": add_person(store, "Müller-Lüdenscheidt", "Hans", "1971-01-30",
                           street="Basler Straße", number="3a"),
        "mia": add_person(store, "Schmidt", "Mia", "1990-05-01", former=("Müller",)),
        "lukasz": add_person(store, "Wróbel", "Łukasz", "1985-11-02", street="Tumringer Straße",
                             number="7"),
        "minh": add_person(store, "Nguyễn", "Thị Minh Khai", "1979-03-15", block=True),
        "ole": add_person(store, "Ødegård", "Ole", "2001-12-24"),
        "mueller": add_person(store, "Mueller", "Bernd", "1950-02-02"),
    }


def ids(store: Store, text: str) -> list[str]:
    return [h.id for h in search(store, text)]


@pytest.mark.parametrize("text", ["mueller", "Müller", "MÜLLER", "müll", "mu"])
def test_umlaut_and_case_insensitive(store: Store, people: dict[str, str], text: str) -> None:
    found = ids(store, text)
    assert people["anna"] in found and people["mueller"] in found


def test_exact_family_name_ranks_first(store: Store, people: dict[str, str]) -> None:
    found = ids(store, "mueller")
    exact = {people["anna"], people["mueller"]}
    assert set(found[:2]) == exact
    assert found.index(people["hans"]) > 1 and found.index(people["mia"]) > 1


def test_any_order_of_family_and_first_names(store: Store, people: dict[str, str]) -> None:
    assert ids(store, "anna müller") == [people["anna"]]
    assert ids(store, "Müller Anna") == [people["anna"]]
    assert ids(store, "mar mül") == [people["anna"]]


def test_double_name_parts_and_former_names(store: Store, people: dict[str, str]) -> None:
    assert ids(store, "lüdenscheidt") == [people["hans"]]
    assert people["mia"] in ids(store, "müller")


@pytest.mark.parametrize(("text", "who"), [("lukasz wrobel", "lukasz"), ("Łukasz", "lukasz"),
                                           ("nguyen minh", "minh"), ("odegard", "ole"),
                                           ("Ødegård", "ole")])
def test_din_91379_names(store: Store, people: dict[str, str], text: str, who: str) -> None:
    assert ids(store, text) == [people[who]]


@pytest.mark.parametrize("text", ["12.08.1964", "12.8.1964", "12.8.64", "müller 12.08.1964"])
def test_birth_date(store: Store, people: dict[str, str], text: str) -> None:
    assert ids(store, text) == [people["anna"]]


def test_street_and_house_number(store: Store, people: dict[str, str]) -> None:
    assert ids(store, "basler str 3a") == [people["hans"]]
    assert ids(store, "Tumringer Straße 7") == [people["lukasz"]]
    assert people["lukasz"] not in ids(store, "Tumringer Straße 9")


def test_hit_shows_address_and_block(store: Store, people: dict[str, str]) -> None:
    (hit,) = search(store, "nguyen")
    assert hit.blocked
    assert hit.address == "Hauptstraße 12, 79539 Lörrach"
    assert hit.birth_date == date(1979, 3, 15)
    (anna,) = search(store, "anna")
    assert not anna.blocked


@pytest.mark.parametrize("text", ['"foo" OR bar*', "'; DROP TABLE persons;--", "NEAR(a b)",
                                  "müller AND NOT anna", "*", '"', "a:b", "((("])
def test_fts_and_sql_syntax_is_plain_text(store: Store, people: dict[str, str],
                                          text: str) -> None:
    search(store, text)
    assert store.query("SELECT count(*) AS n FROM persons") == [{"n": len(people)}]


@pytest.mark.parametrize("text", ["", "   ", "!!!", "-"])
def test_empty_queries_find_nothing(store: Store, people: dict[str, str], text: str) -> None:
    assert ids(store, text) == []


def test_one_megabyte_query_is_refused_in_german(store: Store) -> None:
    with pytest.raises(ValidationError) as err:
        search(store, "ä" * 1_000_000)
    assert str(MAX_QUERY_CHARS) in err.value.message_de


def test_invalid_date_is_named(store: Store) -> None:
    with pytest.raises(ValidationError) as err:
        search(store, "31.02.1990")
    assert "31.02.1990" in err.value.message_de and "kein gültiges Datum" in err.value.message_de


def test_two_digit_years_are_never_in_the_future() -> None:
    today = date(2026, 11, 25)
    assert parse_query("1.1.26", today).birth_dates == (date(2026, 1, 1),)
    assert parse_query("1.1.27", today).birth_dates == (date(1927, 1, 1),)


def test_opening_a_person_is_audited(store: Store, people: dict[str, str]) -> None:
    record = open_person(store, people["anna"], "Auskunft am Schalter")
    assert record.family_name == "Müller"
    (entry,) = audit.entries_for(store, people["anna"])
    assert entry["action"] == "read" and entry["clerk"] == "mmuster"
    assert entry["purpose"] == "Auskunft am Schalter"


def test_family_prefix_before_other_names_before_address(store: Store) -> None:
    street_only = add_person(store, "Abel", "Zora", street="Mühlenweg", number="1")
    first_name = add_person(store, "Albers", "Mümtaz")
    family = add_person(store, "Mühle", "Zacharias")
    exact = add_person(store, "Mü", "Zeno")
    assert ids(store, "mü") == [exact, family, first_name, street_only]


def test_order_is_alphabetical_within_a_pass(store: Store) -> None:
    names = ["Zander", "Maier", "Meier", "Mayer", "Abt", "Meyer-Lansky", "Meyer"]
    for name in names:
        add_person(store, name, "Eva")
    found = [h.family_name for h in search(store, "eva")]
    assert found == sorted(names, key=lambda n: n.replace("-", " "))


def test_page_is_alphabetical_and_exact_family_first(store: Store) -> None:
    for i in range(12):
        add_person(store, "Mustermeier", "Erika")
        add_person(store, "Mustermann", f"Erika{'x' * i}")
    hits = search(store, "muster", limit=10)
    assert len(hits) == 10
    assert [(h.family_name, h.first_names) for h in hits] == sorted(
        (h.family_name, h.first_names) for h in hits)
    exact = search(store, "mustermann", limit=10)
    assert {h.family_name for h in exact} == {"Mustermann"}


def test_blocked_family_names_lists_only_open_ended_blocks(store: Store) -> None:
    add_person(store, "Zander", "Zora", block=True)
    add_person(store, "Adler", "Anna", block=True)
    add_person(store, "Frei", "Fritz")
    assert blocked_family_names(store) == ["Adler", "Zander"]
    assert blocked_family_names(store, limit=1) == ["Adler"]


def test_current_names_before_birth_names_with_the_birth_name_as_hint(store: Store) -> None:
    """Issue 14, defect 8: "muller" (no umlaut, no e) lists the current Müllers first; a
    person found by the birth name says so."""
    born_muller = [add_person(store, family, "Eva", former=("Müller",))
                   for family in ("Abel", "Becker")]
    current = [add_person(store, "Müller", first) for first in ("Zora", "Yvonne")]
    hits = search(store, "muller")
    assert [h.id for h in hits] == current[::-1] + born_muller
    assert [h.note for h in hits] == ["", "", "geb. Müller", "geb. Müller"]
    assert search(store, "eva mul")[0].note == "geb. Müller"
    assert search(store, "müller zora")[0].note == ""


def test_first_and_family_name_found_beyond_any_page(store: Store) -> None:
    """A first name and a family name find the person however many share either: each is
    read in a key range narrowed by the other, not from the start of a long list."""
    with store.transaction() as db:
        for i in range(400):
            for family in ("Müller", "Abel"):
                db.execute("INSERT INTO persons (id, family_name, first_names, birth_date, "
                           "family_sf, given_sf, created_at, updated_at) "
                           "VALUES (?, ?, ?, '1970-01-01', ?, ?, 'x', 'x')",
                           (f"{family}{i}", family, f"Anna Ida{i:03}", family.upper()
                            .replace("Ü", "UE"), f"ANNA IDA{i:03}"))
        reindex_all(db)
    target = add_person(store, "Müller", "Zyta")
    other = add_person(store, "Zwick", "Anna", former=("Müllerin",))
    assert ids(store, "zyta müller") == [target]
    assert ids(store, "Müller Zy") == [target]
    assert other in ids(store, "anna zwi")
    assert ids(store, "anna müllerin") == [other]
