"""The type-ahead search's cost does not grow with the register (issue 16).

Timing is no test (machines are noisy; the figures are in benchmarks/): instead SQLite counts
the virtual-machine instructions a search executes, on a register and on one six times as
large with the same kinds of names. Every step of a search reads a bounded range of the term
index, so the count stays (almost) the same; a scan of all matches would grow sixfold. (A
birth date with a name reads the persons born that day up to the page: some thirty a day in
a register of a million, thousands in these registers of six dates, so it is left out.)
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clerk_app.clerks import Actor
from clerk_app.keys import new_key
from clerk_app.names import search_form
from clerk_app.search import search
from clerk_app.search_index import reindex_all
from clerk_app.store.db import Store, open_store
from tests.factories import COUNTER_ROLES

FAMILIES = ("Müller", "Mustermann", "Muster", "Becker", "Schmidt-Müller", "Abel")
FIRST = ("Anna", "Anna Maria", "Zora", "Hans", "Mia", "Ida")
STREETS = ("Hauptstraße", "Mühlenweg", "Basler Straße")
QUERIES = ("mu", "mü", "müller", "muller", "anna müller", "müller zora", "anna mu",
           "hauptstraße 12", "12.08.1961", "zora", "mühlenweg", "79539", "stadtmitte",
           "stadtmitte anna")
SMALL, LARGE = 2_000, 12_000
GROWTH = 1.25  # what the count may grow by from SMALL to LARGE: a page's rows vary


def build(folder: Path, residents: int) -> Store:
    store = open_store(folder / f"r{residents}.db", new_key(),
                       Actor("mmuster", "test", COUNTER_ROLES), create=True)
    combos = itertools.cycle(itertools.product(FAMILIES, FIRST, STREETS))
    persons, residences = [], []
    for n in range(residents):
        family, first, street = next(combos)
        pid = str(uuid.UUID(int=n))
        born = f"19{60 + n % 3}-08-12"  # every page is full in both registers
        persons.append((pid, family, first, born, search_form(family), search_form(first)))
        residences.append((str(uuid.UUID(int=10**9 + n)), pid, street, str(10 + n % 7)))
    with store.transaction() as db:
        db.conn.execute("INSERT INTO streets (name, name_sf, district, key) "
                        "VALUES ('Hauptstraße', 'HAUPTSTRASSE', 'Stadtmitte', 'hauptstrasse')")
        db.conn.executemany(
            "INSERT INTO persons (id, family_name, first_names, birth_date, family_sf, "
            "given_sf, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'x', 'x')", persons)
        db.conn.executemany(
            "INSERT INTO residences (id, person_id, kind, street, house_number, postal_code, "
            "city, district, move_in) VALUES (?, ?, 'haupt', ?, ?, '79539', 'Lörrach', "
            "'Stadtmitte', '2010-01-01')", residences)
        reindex_all(db)
    return store


def instructions(store: Store, text: str) -> int:
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    store.conn.set_progress_handler(tick, 10)
    try:
        hits = search(store, text)
    finally:
        store.conn.set_progress_handler(None, 0)
    assert hits, text
    return count


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    folder = tmp_path_factory.mktemp("scale")
    small, large = build(folder, SMALL), build(folder, LARGE)
    yield small, large
    small.close()
    large.close()


@pytest.mark.parametrize("text", QUERIES)
def test_search_cost_does_not_grow_with_the_register(registers: tuple[Store, Store],
                                                     text: str) -> None:
    small, large = registers
    assert instructions(large, text) <= GROWTH * instructions(small, text)


def test_the_count_would_see_a_scan(registers: tuple[Store, Store]) -> None:
    """The measure can fail: a query that reads every Müller grows with the register."""
    small, large = registers
    scan = "SELECT count(*) FROM search_terms WHERE term >= 'f mu' AND term < 'f mu{'"
    counts = []
    for store in (small, large):
        ticks = [0]
        store.conn.set_progress_handler(lambda t=ticks: t.__setitem__(0, t[0] + 1) or 0, 10)
        store.conn.execute(scan).fetchone()
        store.conn.set_progress_handler(None, 0)
        counts.append(ticks[0])
    assert counts[1] > 3 * counts[0]
