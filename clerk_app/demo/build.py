"""Building the demo register: the generator's rows written in one transaction.

The app builds it at first start (50,000 residents by default), so the whole build is one
transaction with bulk inserts and a larger page cache; an interrupted first start leaves no
half-built register behind.
"""

from __future__ import annotations

import gc
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from clerk_app.demo.generator import DEMO_AS_OF, Generator, Rows
from clerk_app.demo.name_pools import Origin, german_origin
from clerk_app.errors import StoreError
from clerk_app.search_index import IndexSource, write_sorted_index
from clerk_app.store.db import Store
from clerk_app.streets import load_street_directory

PROGRESS_STEP = 1000
BATCH = 5000
BUILD_CACHE_KIB = -262144  # PRAGMA cache_size during the build: 256 MiB
# The tables the build fills: their secondary indexes are made after the rows are in.
BULK_TABLES = ("households", "persons", "former_names", "residences", "id_documents",
               "information_blocks", "relations")


@dataclass(frozen=True)
class DemoSummary:
    """What the build wrote: shown after `clerk-app demo-data` and checked by the tests."""

    persons: int
    households: int
    residences: int
    blocks: int
    streets: int

    def __str__(self) -> str:
        return (f"{self.persons} Personen, {self.households} Haushalte, "
                f"{self.residences} Wohnungen, {self.blocks} Auskunftssperren, "
                f"{self.streets} Straßen")


INSERTS = {
    "households": "INSERT INTO households (id, created_at) VALUES (?, ?)",
    "persons": (
        "INSERT INTO persons (id, version, family_name, birth_name, first_names, everyday_name, "
        "doctorate, religious_name, artist_name, birth_date, birth_place, birth_country, sex, "
        "nationalities, religion, marital_status, marital_date, marital_place, household_id, "
        "family_sf, given_sf, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    "former": "INSERT INTO former_names (person_id, kind, name, valid_until) VALUES (?, ?, ?, ?)",
    "residences": (
        "INSERT INTO residences (id, person_id, kind, street_id, street, house_number, "
        "postal_code, city, district, country, foreign_address, move_in, move_out, "
        "previous_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    "documents": (
        "INSERT INTO id_documents (id, person_id, doc_type, number, authority, issued_on, "
        "valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    "blocks": (
        "INSERT INTO information_blocks (id, person_id, kind, legal_basis, reason, since, "
        "until) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    "relations": (
        "INSERT INTO relations (id, person_id, kind, related_id, since) VALUES (?, ?, ?, ?, ?)"),
}


def build_demo_register(store: Store, residents: int = 50_000, seed: int = 91379,
                        progress: Callable[[int, int], None] | None = None, *,
                        as_of: date = DEMO_AS_OF) -> DemoSummary:
    """Fill an empty register with `residents` synthetic residents of Lörrach.

    One transaction: the register holds the whole demo or nothing (an interrupted first start
    leaves no half-built register behind). Also loads the street directory and rebuilds the
    search index. `progress(done, total)` is called every thousand residents (for a progress
    bar at first start). Same seed, same `as_of` -> the same rows, byte for byte.
    """
    if residents < 0:
        raise ValueError("residents must not be negative")
    rng = random.Random(seed)
    german = german_origin(seed)
    # A bigger page cache for the build keeps the B-trees in memory; the rows are consistent
    # by construction (tests/test_demo.py checks them), so foreign keys are not looked up row
    # by row; and the generator's millions of tuples hold no cycles for the collector to
    # look for (it ran every few hundred allocations: a fifth of the build).
    cache_size = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute(f"PRAGMA cache_size = {BUILD_CACHE_KIB}")
    store.conn.execute("PRAGMA foreign_keys = OFF")
    collecting = gc.isenabled()
    gc.disable()
    try:
        summary = _build(store, rng, german, residents, progress, as_of)
    finally:
        if collecting:
            gc.enable()
        store.conn.execute("PRAGMA foreign_keys = ON")
        store.conn.execute(f"PRAGMA cache_size = {int(cache_size)}")
    if progress:
        progress(residents, residents)
    return summary


def _build(store: Store, rng: random.Random, german: Origin, residents: int,
           progress: Callable[[int, int], None] | None, as_of: date) -> DemoSummary:
    with store.transaction() as db:
        if db.conn.execute("SELECT EXISTS (SELECT 1 FROM persons)").fetchone()[0]:
            raise StoreError(
                "Das Melderegister enthält bereits Personen; Demodaten werden nur in ein "
                "leeres Register geschrieben.",
                "demo data refused: the register already holds persons")
        streets = load_street_directory(db)
        gen = Generator(rng, streets, german, as_of)
        done, reported = 0, 0
        while done < residents:
            done += gen.household(residents - done)
            if progress and done - reported >= PROGRESS_STEP:
                reported = done
                progress(done, residents)
        gen.information_blocks(residents)
        rows = gen.rows
        summary = DemoSummary(persons=len(rows.persons), households=len(rows.households),
                              residences=len(rows.residences), blocks=len(rows.blocks),
                              streets=len(streets))
        indexes = _drop_indexes(db.conn)
        for table, data in (("households", rows.households), ("persons", rows.persons),
                            ("former", rows.former), ("residences", rows.residences),
                            ("documents", rows.documents), ("blocks", rows.blocks),
                            ("relations", rows.relations)):
            # In key order, the primary key's B-tree is appended to, not written all over.
            data.sort(key=lambda row: str(row[0]))
            for start in range(0, len(data), BATCH):
                db.conn.executemany(INSERTS[table], data[start:start + BATCH])
            if table not in INDEXED:
                data.clear()  # the rows are in the register now; keep the peak memory down
        for sql in indexes:  # one sorted pass each, instead of an insert per row
            db.conn.execute(sql)
        write_sorted_index(db, _index_sources(rows))
        del gen, rows
    return summary


# The generator's rows the search index is made from, kept until it is written.
INDEXED = ("persons", "former", "residences")
PERSON_COLUMNS = [c.strip() for c in INSERTS["persons"].split("(", 1)[1].split(")", 1)[0]
                  .split(",")]
FAMILY_SF, GIVEN_SF, BIRTH_DATE = (PERSON_COLUMNS.index(c) for c in
                                   ("family_sf", "given_sf", "birth_date"))


def _index_sources(rows: Rows) -> Iterator[IndexSource]:
    """The persons with their former names and current addresses, in the index's
    alphabetical order, from the rows in memory: the register is not read back."""
    former: dict[str, list[str]] = defaultdict(list)
    for person_id, _kind, name, _until in rows.former:
        former[str(person_id)].append(str(name))
    current: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows.residences:
        if r[12] is None:  # move_out
            current[str(r[1])].append({"street": r[4], "house_number": r[5],
                                       "postal_code": r[6], "district": r[8]})
    rows.former.clear()
    rows.residences.clear()
    persons = rows.persons
    persons.sort(key=lambda p: (p[FAMILY_SF], p[GIVEN_SF], p[BIRTH_DATE] or "", p[0]))
    for values in persons:
        person = dict(zip(PERSON_COLUMNS, values, strict=True))
        person_id = str(values[0])
        yield person, former.get(person_id, []), current.get(person_id, [])
    persons.clear()


def _drop_indexes(conn: Any) -> list[str]:
    """Drop the secondary indexes of the tables the build fills; returns their DDL."""
    marks = ",".join("?" * len(BULK_TABLES))
    found = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         f"sql IS NOT NULL AND tbl_name IN ({marks})", BULK_TABLES).fetchall()
    for name, _sql in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]
