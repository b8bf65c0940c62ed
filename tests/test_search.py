"""Type-ahead search: names in any order, umlauts, dates, addresses, hostile input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from clerk_app import audit, names
from clerk_app.blocks import blocked_family_names
from clerk_app.errors import ValidationError
from clerk_app.keys import new_key
from clerk_app.person_record import open_person
from clerk_app.search import MAX_QUERY_CHARS, parse_query, search
from clerk_app.search_index import reindex_all
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, add_person


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


# --- a place alone: a postcode or a district (issue 16) ---------------------------------------

PLACE_PERSONS = """
SELECT p.id FROM persons p JOIN person_search_keys k ON k.person_id = p.id
 WHERE EXISTS (SELECT 1 FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL
                  AND {where})
 ORDER BY k.key LIMIT ?
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A demo register of 3,000 residents: seven districts, three postcodes."""
    from clerk_app.demo.build import build_demo_register

    with open_store(tmp_path_factory.mktemp("town") / "r.db", new_key(),
                    Actor("mmuster", "Schalter 3", COUNTER_ROLES), create=True) as s:
        build_demo_register(s, 3000, seed=16)
        yield s


def _first_page(store: Store, where: str, arg: str, limit: int = 50) -> list[str]:
    """The first persons in display order (the keys of a fresh index are alphabetical)."""
    return [r[0] for r in store.conn.execute(PLACE_PERSONS.format(where=where), (arg, limit))]


@pytest.mark.parametrize("postcode", ["79539", "79540", "79541"])
def test_a_postcode_alone_finds_its_residents_in_display_order(town: Store,
                                                               postcode: str) -> None:
    expected = _first_page(town, "r.postal_code = ?", postcode)
    assert len(expected) == 50
    assert sorted(ids(town, postcode)) == sorted(expected)
    assert ids(town, f" {postcode} ") == ids(town, postcode)


@pytest.mark.parametrize("typed", ["Brombach", "brombach", "Bromb", "Tüllingen", "tuellingen",
                                   "Stetten", "hauingen"])
def test_a_district_alone_or_its_start_finds_its_residents(town: Store, typed: str) -> None:
    district = next(d for (d,) in town.conn.execute("SELECT DISTINCT district FROM streets")
                    if names.search_form(d).startswith(names.search_form(typed)))
    found = ids(town, typed)
    assert len(found) == 50, typed
    # Streets with a word that starts the same ("Brombacher Straße") come first, then the
    # district's residents in display order.
    word = names.search_form(typed).lower()
    on_street = [pid for pid in found if any(
        token.startswith(word) for (street,) in town.conn.execute(
            "SELECT street FROM residences WHERE person_id = ? AND move_out IS NULL", (pid,))
        for token in names.search_form(street).lower().split())]
    rest = [pid for pid in found if pid not in on_street]
    expected = [pid for pid in _first_page(town, "r.district = ?", district, 200)
                if pid not in on_street]
    assert sorted(rest) == sorted(expected[:len(rest)]), typed


def test_a_place_with_a_name_finds_those_living_there(town: Store) -> None:
    family = town.conn.execute(
        "SELECT p.family_name FROM persons p JOIN residences r ON r.person_id = p.id "
        "WHERE r.move_out IS NULL AND r.district = 'Haagen' GROUP BY p.family_name "
        "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    living_there = {r[0] for r in town.conn.execute(
        "SELECT p.id FROM persons p JOIN residences r ON r.person_id = p.id WHERE "
        "r.move_out IS NULL AND r.district = 'Haagen' AND p.family_name = ?", (family,))}
    found = ids(town, f"Haagen {family}")
    assert living_there <= set(found)
    name = names.search_form(family).lower()
    for pid in found:   # the others: that name (a birth name too), an address word such as
        words = town.conn.execute(  # "Haagener Straße"
            "SELECT words FROM person_search_keys WHERE person_id = ?", (pid,)).fetchone()[0]
        assert "|a haagen" in words and f" {name}|" in words


def test_a_place_nobody_lives_in_finds_nobody_within_a_bounded_read(town: Store) -> None:
    assert ids(town, "12345") == []
    assert ids(town, "7953") == []     # a postcode's start is no place: nobody, no scan
    assert ids(town, "Zzyzxq") == []
