"""The street directory: the packaged file, its copy in the register, house-number checks and
the street type-ahead, on a real encrypted register."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from clerk_app import names
from clerk_app.keys import new_key
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.streets import (
    HouseNumber,
    Segment,
    Street,
    find_streets,
    load_street_directory,
    parse_directory,
    parse_house_number,
    read_directory,
    segment_for,
    street_by_id,
    valid_house_number,
)
from tests.factories import load_streets

DISTRICTS = ("Stadtmitte", "Stetten", "Tumringen", "Tüllingen", "Haagen", "Hauingen", "Brombach")
POSTAL_CODES = {"79539", "79540", "79541"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[Street]]]:
    """A register with the directory loaded (module-wide: the tests only read)."""
    path = tmp_path_factory.mktemp("streets") / "r.db"
    with open_store(path, new_key(), Actor("test", "ws"), create=True) as store:
        yield store, load_streets(store)


def _street(store: Store, name: str, district: str) -> Street:
    found = [s for s in find_streets(store, name) if s.district == district and s.name == name]
    assert len(found) == 1, (name, district)
    return found[0]


# --- the file ---------------------------------------------------------------------------------

def test_directory_covers_every_district_with_a_realistic_number_of_streets() -> None:
    streets = read_directory()
    per_district = Counter(s.district for s in streets)
    assert set(per_district) == set(DISTRICTS)
    assert all(25 <= n <= 60 for n in per_district.values()), per_district


def test_directory_keys_unique_and_names_repeat_across_districts() -> None:
    streets = read_directory()
    assert len({s.key for s in streets}) == len(streets)
    hauptstrassen = [s for s in streets if s.name == "Hauptstraße"]
    assert len({s.district for s in hauptstrassen}) >= 2
    assert len({s.key for s in hauptstrassen}) == len(hauptstrassen)
    names_found = {s.name for s in streets}
    for expected in ("Hauptstraße", "Basler Straße", "Tumringer Straße", "Am Alten Markt"):
        assert expected in names_found


def test_directory_segments_are_consistent() -> None:
    for street in read_directory():
        assert street.segments, street.key
        for seg in street.segments:
            assert 1 <= seg.from_no <= seg.to_no
            assert seg.postal_code in POSTAL_CODES
            numbers = seg.numbers()
            assert len(numbers) > 0
            assert all(seg.contains(n) for n in numbers)
            if seg.parity == "odd":
                assert all(n % 2 == 1 for n in numbers)
            if seg.parity == "even":
                assert all(n % 2 == 0 for n in numbers)


def test_street_names_are_din_91379_text() -> None:
    for street in read_directory():
        assert names.is_valid(street.name), street.name
        assert names.normalize(street.name) == street.name


def test_broken_directory_entries_are_named() -> None:
    good = {"key": "X-1", "name": "Weg", "district": "Stetten",
            "segments": [{"from": 1, "to": 9, "parity": "all", "postal_code": "79540"}]}
    with pytest.raises(ValueError, match="duplicate key X-1"):
        parse_directory({"streets": [good, good]})
    bad_parity = {**good, "segments": [{"from": 1, "to": 9, "parity": "ungerade",
                                        "postal_code": "79540"}]}
    with pytest.raises(ValueError, match="X-1"):
        parse_directory({"streets": [bad_parity]})
    bad_range = {**good, "segments": [{"from": 9, "to": 1, "postal_code": "79540"}]}
    with pytest.raises(ValueError, match="X-1"):
        parse_directory({"streets": [bad_range]})


# --- house numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("12", HouseNumber(12)),
    ("12a", HouseNumber(12, "a")),
    ("12 b", HouseNumber(12, "b")),
    ("12B", HouseNumber(12, "b")),
    (" 7 ", HouseNumber(7)),
    ("12/1", HouseNumber(12, "/1")),
    ("", None), ("0", None), ("012", None), ("a12", None), ("12ab", None), ("12-14", None),
    ("12345", None),
])
def test_parse_house_number(text: str, expected: HouseNumber | None) -> None:
    assert parse_house_number(text) == expected


def test_house_number_stored_form() -> None:
    assert str(parse_house_number("12 B")) == "12b"
    assert str(parse_house_number("3")) == "3"


def test_segment_parity() -> None:
    odd = Segment(1, 9, "odd", "79539")
    even = Segment(2, 10, "even", "79539")
    every = Segment(3, 5, "all", "79539")
    assert odd.contains(9) and not odd.contains(8) and not odd.contains(11)
    assert even.contains(2) and not even.contains(3)
    assert list(every.numbers()) == [3, 4, 5]
    assert list(Segment(2, 9, "odd", "79539").numbers()) == [3, 5, 7, 9]


# --- in the register --------------------------------------------------------------------------

def test_load_writes_streets_and_segments(loaded: tuple[Store, list[Street]]) -> None:
    store, stored = loaded
    directory = read_directory()
    assert len(stored) == len(directory)
    assert all(s.id is not None for s in stored)
    assert store.query("SELECT count(*) AS n FROM streets")[0]["n"] == len(directory)
    segments = sum(len(s.segments) for s in directory)
    assert store.query("SELECT count(*) AS n FROM street_segments")[0]["n"] == segments
    for row in store.query("SELECT name, name_sf FROM streets"):
        assert row["name_sf"] == names.search_form(row["name"])


def test_load_is_idempotent_and_keeps_ids(tmp_path: Path) -> None:
    with open_store(tmp_path / "r.db", new_key(), Actor("test", "ws"), create=True) as store:
        with store.transaction() as db:
            first = {s.key: s.id for s in load_street_directory(db)}
        with store.transaction() as db:
            second = {s.key: s.id for s in load_street_directory(db)}
        assert first == second
        assert store.query("SELECT count(*) AS n FROM streets")[0]["n"] == len(first)
        segments = sum(len(s.segments) for s in read_directory())
        assert store.query("SELECT count(*) AS n FROM street_segments")[0]["n"] == segments


def test_street_by_id_round_trip(loaded: tuple[Store, list[Street]]) -> None:
    store, stored = loaded
    for street in stored[:20]:
        assert street.id is not None
        assert street_by_id(store, street.id) == street
    assert street_by_id(store, 999_999) is None


def test_valid_house_number_checks_range_and_parity(loaded: tuple[Store, list[Street]]) -> None:
    store, stored = loaded
    # A street with separate odd and even runs of different lengths.
    street = next(s for s in stored
                  if {g.parity for g in s.segments} >= {"odd", "even"}
                  and max(g.to_no for g in s.segments if g.parity == "odd")
                  != max(g.to_no for g in s.segments if g.parity == "even"))
    assert street.id is not None
    odd_top = max(g.to_no for g in street.segments if g.parity == "odd")
    even_top = max(g.to_no for g in street.segments if g.parity == "even")
    assert valid_house_number(store, street.id, str(odd_top))
    assert valid_house_number(store, street.id, str(even_top))
    assert valid_house_number(store, street.id, f"{odd_top} b")
    assert valid_house_number(store, street.id, f"{odd_top}a")
    if odd_top > even_top:
        assert not valid_house_number(store, street.id, str(even_top + 2))
        assert valid_house_number(store, street.id, str(even_top + 1))
    else:
        assert not valid_house_number(store, street.id, str(odd_top + 2))
        assert valid_house_number(store, street.id, str(odd_top + 1))
    top = max(odd_top, even_top)
    assert not valid_house_number(store, street.id, str(top + 3))
    assert not valid_house_number(store, street.id, "0")
    assert not valid_house_number(store, street.id, "zwölf")
    assert not valid_house_number(store, 999_999, "1")
    # The same check through the sqlite-utils Database, as inside a transaction.
    assert valid_house_number(store.db, street.id, str(odd_top))


def test_every_directory_number_validates_in_the_register(
        loaded: tuple[Store, list[Street]]) -> None:
    store, stored = loaded
    for street in stored[::7]:
        assert street.id is not None
        for seg in street.segments:
            for n in (seg.numbers()[0], seg.numbers()[-1]):
                assert valid_house_number(store, street.id, str(n))
                assert segment_for(store, street.id, str(n)) is not None


def test_postal_code_follows_the_segment(loaded: tuple[Store, list[Street]]) -> None:
    store, stored = loaded
    street = next(s for s in stored if len({g.postal_code for g in s.segments}) > 1)
    assert street.id is not None
    for seg in street.segments:
        number = str(seg.numbers()[0])
        assert street.postal_code_for(number) == seg.postal_code
        found = segment_for(store, street.id, number)
        assert found is not None and found.postal_code == seg.postal_code


# --- type-ahead -------------------------------------------------------------------------------

def test_find_streets_by_prefix_lists_every_district(loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    hits = find_streets(store, "haupt")
    assert {s.name for s in hits} == {"Hauptstraße"}
    assert len({s.district for s in hits}) == len(hits) >= 2
    assert all(s.segments for s in hits)


def test_find_streets_narrows_by_district(loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    hits = find_streets(store, "haupt brombach")
    assert [(s.name, s.district) for s in hits] == [("Hauptstraße", "Brombach")]


def test_find_streets_uses_the_search_form(loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    for text in ("Tüllinger", "tuellinger", "TUELLINGER"):
        found = {s.name for s in find_streets(store, text)}
        assert "Obertüllinger Straße" in found
        assert "Tüllinger Höhe" in found


def test_find_streets_reads_str_abbreviation_and_ignores_numbers(
        loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    assert [s.name for s in find_streets(store, "Basler Str. 12")] == ["Basler Straße"]
    assert [s.name for s in find_streets(store, "basler strasse")] == ["Basler Straße"]


def test_find_streets_orders_name_prefix_first(loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    hits = [s.name for s in find_streets(store, "markt")]
    assert hits[0] == "Marktplatz"
    assert "Am Alten Markt" in hits


def test_find_streets_nothing_for_empty_or_unknown(loaded: tuple[Store, list[Street]]) -> None:
    store, _ = loaded
    assert find_streets(store, "") == []
    assert find_streets(store, "  12 ") == []
    assert find_streets(store, "Champs-Élysées") == []
    assert len(find_streets(store, "strasse", limit=5)) == 5
