"""Keeps the full-text index (`person_fts`) in step with the register.

The index holds DIN 91379 search forms (Müller -> MUELLER), so a clerk who types "mueller",
"Müller" or "MULLER"... finds the same person; it is written by the core in the same
transaction as the register change it mirrors, never by a trigger, because the search form is
computed in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils
from anyascii import anyascii

from clerk_app.names import search_form
from clerk_app.store.db import fetch_dicts

BORN_PREFIX = "d"


def born_token(iso_date: str) -> str:
    """'1964-08-12' -> 'd19640812': one token that cannot collide with a house number."""
    return BORN_PREFIX + iso_date.replace("-", "")


def _sf(*parts: str | None) -> str:
    return " ".join(search_form(p) for p in parts if p).lower()


def _names_sf(*parts: str | None) -> str:
    """Search forms of names, plus their plain-ASCII fold where that differs.

    The DIN 91379 form maps Ø to OE and å to AA; a clerk who never saw the name written types
    "odegard". Indexing both means "Ødegård", "oedegaard" and "odegard" all find the person.
    """
    din = _sf(*parts)
    plain = search_form(anyascii(" ".join(p for p in parts if p))).lower()
    extra = [t for t in dict.fromkeys(plain.split()) if t not in set(din.split())]
    return " ".join([din, *extra])


def index_row(person: Mapping[str, Any], former: Iterable[str],
              addresses: Iterable[Mapping[str, Any]]) -> tuple[str, str, str]:
    """The (names, born, address) columns of one person's index entry."""
    names = _names_sf(person["family_name"], person["birth_name"], person["first_names"],
                person["religious_name"], person["artist_name"], *former)
    born = born_token(person["birth_date"]) if person["birth_date"] else ""
    address = " ".join(
        _sf(a["street"], a["house_number"], a["postal_code"], a["district"]) for a in addresses)
    return names, born, address


PERSON_COLUMNS = "rowid, id, family_name, birth_name, first_names, religious_name, " \
                 "artist_name, birth_date"
CURRENT_ADDRESSES = ("SELECT person_id, street, house_number, postal_code, district "
                     "FROM residences WHERE move_out IS NULL")


def reindex_person(db: sqlite_utils.Database, person_id: str) -> None:
    """Rewrite one person's index entry; call inside the transaction that changed the person."""
    found = fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons WHERE id = ?",
                        (person_id,))
    if not found:
        return
    person = found[0]
    former = [r[0] for r in db.conn.execute(
        "SELECT name FROM former_names WHERE person_id = ?", (person_id,))]
    addresses = fetch_dicts(db.conn, CURRENT_ADDRESSES + " AND person_id = ?", (person_id,))
    db.conn.execute("DELETE FROM person_fts WHERE rowid = ?", (person["rowid"],))
    db.conn.execute("INSERT INTO person_fts(rowid, names, born, address) VALUES (?, ?, ?, ?)",
                    (person["rowid"], *index_row(person, former, addresses)))


def reindex_all(db: sqlite_utils.Database) -> int:
    """Rebuild the whole index (migration, bulk import); returns the number of persons."""
    former: dict[str, list[str]] = defaultdict(list)
    for pid, name in db.conn.execute("SELECT person_id, name FROM former_names"):
        former[pid].append(name)
    addresses: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in fetch_dicts(db.conn, CURRENT_ADDRESSES, ()):
        addresses[a["person_id"]].append(a)
    db.conn.execute("DELETE FROM person_fts")
    persons = fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons", ())
    db.conn.executemany(
        "INSERT INTO person_fts(rowid, names, born, address) VALUES (?, ?, ?, ?)",
        ((p["rowid"], *index_row(p, former[p["id"]], addresses[p["id"]])) for p in persons))
    return len(persons)

