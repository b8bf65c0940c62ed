"""Keeps the full-text index (`person_fts`) in step with the register.

The index holds DIN 91379 search forms (Müller -> MUELLER), so a clerk who types "mueller",
"Müller" or "MULLER"... finds the same person; it is written by the core in the same
transaction as the register change it mirrors, never by a trigger, because the search form is
computed in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from anyascii import anyascii

from clerk_app.errors import StoreError
from clerk_app.names import search_form
from clerk_app.store.rows import fetch_dicts

if TYPE_CHECKING:
    import sqlite_utils

BORN_PREFIX = "d"
ID_CHUNK = 500  # ids in one `IN (…)`: well below SQLite's limit on bound parameters


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


PERSON_COLUMNS = "id, family_name, birth_name, first_names, religious_name, artist_name, " \
                 "birth_date, family_sf, given_sf"
CURRENT_ADDRESSES = ("SELECT person_id, street, house_number, postal_code, district "
                     "FROM residences WHERE move_out IS NULL")

# Order keys: the first letters of the family and first names' search forms, in base 28
# (end of name < space < A..Z), followed by a slot number for persons with the same letters.
# Keys sort like (family_sf, given_sf) up to those letters: close enough for a type-ahead list,
# and exact family names are ranked first by the search anyway.
KEY_BASE = 28
FAMILY_LETTERS = 7
GIVEN_LETTERS = 3
SLOT_BITS = 14
SLOTS = 1 << SLOT_BITS
GIVEN_SPAN: int = KEY_BASE ** GIVEN_LETTERS


def _letters(text: str, count: int) -> int:
    value = 0
    for i in range(count):
        char = text[i] if i < len(text) else ""
        digit = 0 if not char else (ord(char) - ord("A") + 2 if "A" <= char <= "Z" else 1)
        value = value * KEY_BASE + digit
    return value


def order_key(family_sf: str, given_sf: str) -> int:
    """The first key of the slot range of persons with these search forms."""
    prefix = _letters(family_sf, FAMILY_LETTERS) * GIVEN_SPAN
    return (prefix + _letters(given_sf, GIVEN_LETTERS)) << SLOT_BITS


def family_key_range(word: str, *, prefix: bool = False) -> tuple[int, int]:
    """Keys of every person whose family name's search form may equal (or, with `prefix`,
    start with) `word`; the caller filters the range by the family name itself."""
    low = order_key(word, "")
    if not prefix or len(word) >= FAMILY_LETTERS:
        return low, low + (GIVEN_SPAN << SLOT_BITS)
    step: int = KEY_BASE ** (FAMILY_LETTERS - len(word)) * GIVEN_SPAN << SLOT_BITS
    return low, low + step


def _free_key(conn: Any, base: int) -> int:
    top = conn.execute("SELECT max(key) FROM person_search_keys WHERE key >= ? AND key < ?",
                       (base, base + SLOTS)).fetchone()[0]
    if top is None:
        return base
    if top + 1 < base + SLOTS:
        return int(top) + 1
    used = {r[0] for r in conn.execute(
        "SELECT key FROM person_search_keys WHERE key >= ? AND key < ?", (base, base + SLOTS))}
    free = next((k for k in range(base, base + SLOTS) if k not in used), None)
    if free is None:
        raise StoreError("Der Suchindex ist für diesen Namen voll. Bitte die IT verständigen.",
                         f"no free search key slot at {base}")
    return free


def reindex_person(db: sqlite_utils.Database, person_id: str) -> None:
    """Rewrite one person's index entry; call inside the transaction that changed the person."""
    found = fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons WHERE id = ?",
                        (person_id,))
    old = db.conn.execute("SELECT key FROM person_search_keys WHERE person_id = ?",
                          (person_id,)).fetchone()
    if old is not None:
        db.conn.execute("DELETE FROM person_fts WHERE rowid = ?", (old[0],))
    if not found:
        db.conn.execute("DELETE FROM person_search_keys WHERE person_id = ?", (person_id,))
        return
    person = found[0]
    former = [r[0] for r in db.conn.execute(
        "SELECT name FROM former_names WHERE person_id = ?", (person_id,))]
    addresses = fetch_dicts(db.conn, CURRENT_ADDRESSES + " AND person_id = ?", (person_id,))
    base = order_key(person["family_sf"], person["given_sf"])
    if old is not None and base <= old[0] < base + SLOTS:
        key = int(old[0])
    else:
        db.conn.execute("DELETE FROM person_search_keys WHERE person_id = ?", (person_id,))
        key = _free_key(db.conn, base)
        db.conn.execute("INSERT INTO person_search_keys (key, person_id) VALUES (?, ?)",
                        (key, person_id))
    db.conn.execute("INSERT INTO person_fts(rowid, names, born, address) VALUES (?, ?, ?, ?)",
                    (key, *index_row(person, former, addresses)))


@dataclass(frozen=True)
class IndexEntry:
    """One person's index entry, computed before the write transaction that stores it."""

    person_id: str
    base: int           # the first key of the person's key range
    columns: tuple[str, str, str]  # names, born, address


def index_entries(persons: Iterable[Mapping[str, Any]], former: Mapping[str, list[str]],
                  addresses: Mapping[str, list[Mapping[str, Any]]]) -> list[IndexEntry]:
    """The entries of these persons (rows of `persons`; former names and current addresses by
    person id), in alphabetical order: plain computation, no database, so a bulk load does it
    before it takes the write lock."""
    ordered = sorted(persons, key=lambda p: (p["family_sf"], p["given_sf"],
                                             p["birth_date"] or "", p["id"]))
    return [IndexEntry(p["id"], order_key(p["family_sf"], p["given_sf"]),
                       index_row(p, former.get(p["id"], []), addresses.get(p["id"], [])))
            for p in ordered]


def aggregate_entries(aggregates: Iterable[Mapping[str, Any]]) -> list[IndexEntry]:
    """`index_entries` of person aggregates as the sync carries them (the person's row and its
    child tables' rows)."""
    persons = list(aggregates)
    return index_entries(
        [a["person"] for a in persons],
        {a["person"]["id"]: [f["name"] for f in a.get("former_names") or []] for a in persons},
        {a["person"]["id"]: [r for r in a.get("residences") or [] if r["move_out"] is None]
         for a in persons})


def add_entries(db: sqlite_utils.Database, entries: Iterable[IndexEntry]) -> None:
    """Store entries of persons not indexed yet, in the caller's transaction: each gets the
    next free key of its range (after those already there)."""
    rows = []
    for entry in entries:
        key = _free_key(db.conn, entry.base)
        db.conn.execute("INSERT INTO person_search_keys (key, person_id) VALUES (?, ?)",
                        (key, entry.person_id))
        rows.append((key, *entry.columns))
    db.conn.executemany("INSERT INTO person_fts(rowid, names, born, address) "
                        "VALUES (?, ?, ?, ?)", rows)


def index_new_persons(db: sqlite_utils.Database, person_ids: Sequence[str]) -> int:
    """Index persons of the register that have no entry yet, in the caller's transaction."""
    former: dict[str, list[str]] = defaultdict(list)
    addresses: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    persons: list[dict[str, Any]] = []
    for start in range(0, len(person_ids), ID_CHUNK):
        chunk = list(person_ids[start:start + ID_CHUNK])
        marks = ",".join("?" * len(chunk))
        persons += fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons "
                                        f"WHERE id IN ({marks})", chunk)
        for pid, name in db.conn.execute(
                f"SELECT person_id, name FROM former_names WHERE person_id IN ({marks})", chunk):
            former[pid].append(name)
        for a in fetch_dicts(db.conn, f"{CURRENT_ADDRESSES} AND person_id IN ({marks})", chunk):
            addresses[a["person_id"]].append(a)
    add_entries(db, index_entries(persons, former, addresses))
    return len(persons)


def reindex_all(db: sqlite_utils.Database) -> int:
    """Rebuild the whole index (migration, bulk import); returns the number of persons.

    Persons are keyed in full alphabetical order (family, first names, birth date), so the
    slots within one key range follow that order too.
    """
    former: dict[str, list[str]] = defaultdict(list)
    for pid, name in db.conn.execute("SELECT person_id, name FROM former_names"):
        former[pid].append(name)
    addresses: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in fetch_dicts(db.conn, CURRENT_ADDRESSES, ()):
        addresses[a["person_id"]].append(a)
    db.conn.execute("DELETE FROM person_fts")
    db.conn.execute("DELETE FROM person_search_keys")
    persons = fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons "
                                   "ORDER BY family_sf, given_sf, birth_date, id", ())
    keys: list[int] = []
    used: dict[int, int] = defaultdict(int)
    for p in persons:
        base = order_key(p["family_sf"], p["given_sf"])
        if used[base] >= SLOTS:
            raise StoreError("Der Suchindex ist für einen Namen voll. Bitte die IT verständigen.",
                             f"more than {SLOTS} persons share search key {base}")
        keys.append(base + used[base])
        used[base] += 1
    db.conn.executemany("INSERT INTO person_search_keys (key, person_id) VALUES (?, ?)",
                        ((k, p["id"]) for k, p in zip(keys, persons, strict=True)))
    db.conn.executemany(
        "INSERT INTO person_fts(rowid, names, born, address) VALUES (?, ?, ?, ?)",
        ((k, *index_row(p, former[p["id"]], addresses[p["id"]]))
         for k, p in zip(keys, persons, strict=True)))
    return len(persons)
