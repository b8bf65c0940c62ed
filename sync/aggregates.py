"""The unit the central register and the workstations exchange: a person with everything that
belongs to them (an aggregate), and households.

A person's aggregate is the person row with their dwellings, former names, ID documents,
information blocks and relations (each relation is a row on both persons' sides). The
central service keeps one JSON document per aggregate, numbered by the
change sequence; a workstation replaces a person's rows as a whole when a newer aggregate
arrives. Whole aggregates (not single rows) because every counter service changes a person as
a whole (a move closes one dwelling and opens another, and the search index reads all of it),
and because a person with unsynced local work is held back as a whole.

Both ends build aggregates with the same functions from the same schema, so their canonical
JSON (and its hash, compared after each sync) is identical wherever the content is.

Local integer ids (former names) are not part of an aggregate: they differ per register.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlcipher3

from clerk_app.search_index import reindex_person
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

PERSON = "person"
HOUSEHOLD = "household"
KINDS = (HOUSEHOLD, PERSON)  # households first: persons point at them

# Child tables of a person, with the columns that are local to one register (left out).
CHILDREN: dict[str, tuple[str, ...]] = {
    "residences": (),
    "former_names": ("id",),
    "id_documents": (),
    "information_blocks": (),
    "relations": (),
}
CHUNK = 500  # ids per IN (...) query: well under SQLite's parameter limit

Aggregate = dict[str, Any]


def canonical(data: Mapping[str, Any]) -> str:
    """The one JSON form of an aggregate: sorted keys, no spaces, UTF-8 text as is."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def hash32(data: Mapping[str, Any]) -> int:
    """A 32-bit content hash: summed over a register it gives an order-independent checksum
    that fits a 64-bit integer sum on both SQLite and PostgreSQL."""
    return hash32_of(canonical(data))


def hash32_of(text: str) -> int:
    """`hash32` of an aggregate given in its `canonical` form."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _in(count: int) -> str:
    return ",".join("?" * count)


def _sorted_children(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Children in one order on both ends (their ids where they have one, else content)."""
    return sorted(rows, key=lambda r: str(r.get("id")) if "id" in r else canonical(r))


def read_persons(conn: sqlcipher3.Connection, person_ids: Sequence[str]) -> dict[str, Aggregate]:
    """The aggregates of these persons as the register holds them (missing ids are absent)."""
    found: dict[str, Aggregate] = {}
    for chunk in _chunks(list(dict.fromkeys(person_ids))):
        rows = fetch_dicts(conn, f"SELECT * FROM persons WHERE id IN ({_in(len(chunk))})",
                           tuple(chunk))
        _attach_children(conn, rows, found, f"person_id IN ({_in(len(chunk))})", tuple(chunk))
    return found


def read_all_persons(conn: sqlcipher3.Connection) -> dict[str, Aggregate]:
    """Every person's aggregate, read table by table (a bulk export, not 100,000 queries)."""
    found: dict[str, Aggregate] = {}
    rows = fetch_dicts(conn, "SELECT * FROM persons")
    _attach_children(conn, rows, found, "1", ())
    return found


def iter_all_persons(conn: sqlcipher3.Connection) -> Iterator[Aggregate]:
    """Every person's aggregate, a page of ids at a time: a million residents are never in
    memory at once (the integrity check after each sync reads them all)."""
    after = ""
    while ids := [r[0] for r in conn.execute(
            "SELECT id FROM persons WHERE id > ? ORDER BY id LIMIT ?", (after, CHUNK))]:
        yield from read_persons(conn, ids).values()
        after = ids[-1]


def iter_all_households(conn: sqlcipher3.Connection) -> Iterator[Aggregate]:
    """Every household, a page at a time (see `iter_all_persons`)."""
    after = ""
    while rows := fetch_dicts(conn, "SELECT * FROM households WHERE id > ? ORDER BY id "
                                    "LIMIT ?", (after, CHUNK)):
        yield from rows
        after = rows[-1]["id"]


def _attach_children(conn: sqlcipher3.Connection, persons: list[dict[str, Any]],
                     into: dict[str, Aggregate], where: str, params: tuple[str, ...]) -> None:
    for person in persons:
        into[person["id"]] = {"person": person, **{t: [] for t in CHILDREN}}
    for table, local_columns in CHILDREN.items():
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in fetch_dicts(conn, f"SELECT * FROM {table} WHERE {where}", params):
            for column in local_columns:
                row.pop(column)
            grouped[row["person_id"]].append(row)
        for person_id, rows in grouped.items():
            if person_id in into:
                into[person_id][table] = _sorted_children(rows)


def read_households(conn: sqlcipher3.Connection,
                    household_ids: Sequence[str] | None = None) -> dict[str, Aggregate]:
    """Households by id (all of them with None)."""
    if household_ids is None:
        return {r["id"]: r for r in fetch_dicts(conn, "SELECT * FROM households")}
    found: dict[str, Aggregate] = {}
    for chunk in _chunks(list(dict.fromkeys(household_ids))):
        for row in fetch_dicts(conn, f"SELECT * FROM households WHERE id IN "
                                     f"({_in(len(chunk))})", tuple(chunk)):
            found[row["id"]] = row
    return found


def _insert(conn: sqlcipher3.Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_in(len(columns))})",
        [tuple(r[c] for c in columns) for r in rows])


def write_person(store: Store, data: Aggregate, *, reindex: bool = True) -> None:
    """Replace a person's rows with the aggregate, in the caller's transaction."""
    person = data["person"]
    person_id = person["id"]
    conn = store.conn
    for table in CHILDREN:
        conn.execute(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
    columns = list(person)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    conn.execute(f"INSERT INTO persons ({', '.join(columns)}) VALUES ({_in(len(columns))}) "
                 f"ON CONFLICT(id) DO UPDATE SET {updates}", tuple(person.values()))
    for table in CHILDREN:
        _insert(conn, table, data.get(table) or [])
    if reindex:
        reindex_person(store.db, person_id)


def write_persons_bulk(store: Store, aggregates: Sequence[Aggregate]) -> None:
    """Insert persons the register does not hold yet (bootstrap into an empty register): one
    statement per table, no per-person index update (the caller indexes them in bulk)."""
    conn = store.conn
    _insert(conn, "persons", [a["person"] for a in aggregates])
    for table in CHILDREN:
        _insert(conn, table, [row for a in aggregates for row in a.get(table) or []])


def delete_person(store: Store, person_id: str) -> None:
    """A central deletion (tombstone): the person's register rows and index entry go.

    Documents already issued to the person stay: they record what was handed out.
    """
    conn = store.conn
    for table in CHILDREN:
        conn.execute(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
    conn.execute("DELETE FROM persons WHERE id = ?", (person_id,))
    reindex_person(store.db, person_id)


def write_household(store: Store, data: Aggregate) -> None:
    store.conn.execute("INSERT INTO households (id, created_at) VALUES (?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET created_at = excluded.created_at",
                       (data["id"], data["created_at"]))


def delete_household(store: Store, household_id: str) -> None:
    store.conn.execute("UPDATE persons SET household_id = NULL WHERE household_id = ?",
                       (household_id,))
    store.conn.execute("DELETE FROM households WHERE id = ?", (household_id,))


def apply_change(store: Store, kind: str, record_id: str, data: Aggregate | None) -> None:
    """Write one central change (None = tombstone) in the caller's transaction."""
    if kind == PERSON:
        if data is None:
            delete_person(store, record_id)
        else:
            write_person(store, data)
    elif kind == HOUSEHOLD:
        if data is None:
            delete_household(store, record_id)
        else:
            write_household(store, data)
    else:
        raise ValueError(f"unknown aggregate kind {kind!r}")


def versions_of(data: Aggregate) -> dict[str, int]:
    """The record versions inside a person's aggregate, keyed as commands' base versions are
    ('persons/<id>', 'residences/<id>')."""
    person = data["person"]
    found = {f"persons/{person['id']}": int(person["version"])}
    for residence in data.get("residences") or []:
        found[f"residences/{residence['id']}"] = int(residence["version"])
    return found


def checksum(items: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(count, sum of hash32) over aggregates: what both ends compare after a sync."""
    count = total = 0
    for item in items:
        count += 1
        total += hash32(item)
    return count, total
