"""Keeps the search index (`search_terms`, `person_search_keys`) in step with the register.

The index holds DIN 91379 search forms (Müller -> MUELLER), so a clerk who types "mueller",
"Müller" or "MULLER"... finds the same person; it is written by the core in the same
transaction as the register change it mirrors, never by a trigger, because the search form is
computed in Python.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from anyascii import anyascii

from clerk_app.errors import StoreError
from clerk_app.names import search_form
from clerk_app.store.rows import fetch_dicts

if TYPE_CHECKING:
    import sqlite_utils

ID_CHUNK = 500  # ids in one `IN (…)`: well below SQLite's limit on bound parameters

# The fields of a term: the current family name, every other name (first names, birth name,
# former, religious and artist names), the current addresses, the birth date. A term is the
# field's letter, a space and one search-form token ("f mueller"); tokens are [a-z0-9], so a
# prefix range of a field is [f"{field} {prefix}", f"{field} {prefix}{{") and a space in
# `person_search_keys.words` stands only before a token.
FAMILY, NAMES, ADDRESS, BORN = "f", "n", "a", "d"
# A house number with a street's token ("s 12 hauptstrasse"): a street of thousands of
# residents and a number are one narrow range, as a family and a first name are by key.
HOUSE = "s"
TERM_END = "{"  # sorts after every character a token holds


def born_token(iso_date: str) -> str:
    """'1964-08-12' -> '19640812'."""
    return iso_date.replace("-", "")


@lru_cache(maxsize=1 << 16)
def _part_tokens(part: str) -> tuple[str, ...]:
    """Names, streets and numbers repeat (a million residents have some ten thousand distinct
    ones): each is reduced to its search form once, not once per resident."""
    return tuple(search_form(part).lower().split())


@lru_cache(maxsize=1 << 16)
def _plain_tokens(part: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_part_tokens(part) + _part_tokens(anyascii(part))))


def _tokens(*parts: str | None) -> list[str]:
    return [t for p in parts if p for t in _part_tokens(p)]


def name_tokens(*parts: str | None) -> list[str]:
    """Search forms of names, plus their plain-ASCII fold where that differs.

    The DIN 91379 form maps Ø to OE and å to AA; a clerk who never saw the name written types
    "odegard". Indexing both means "Ødegård", "oedegaard" and "odegard" all find the person.
    """
    return list(dict.fromkeys(t for p in parts if p for t in _plain_tokens(p)))


@dataclass(frozen=True)
class IndexRow:
    """One person's index: its terms (a row of `search_terms` each), and joined with them as
    `words` ("|f mueller|n anna|…|a 79539|") what is only `checked`: the other words of a
    query are checked against `words` without reading the register. Postcodes, districts and
    house numbers are only checked: each is shared by tens of thousands of residents, a range
    no search would read (a house number is a term with its street, `HOUSE`)."""

    terms: tuple[str, ...]
    checked: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        return "|" + "|".join(self.terms + self.checked) + "|"

    @staticmethod
    def of_words(words: str) -> tuple[str, ...]:
        return tuple(t for t in words.split("|") if t)


def index_row(person: Mapping[str, Any], former: Iterable[str],
              addresses: Iterable[Mapping[str, Any]]) -> IndexRow:
    """The terms of one person: a family token is not repeated as another name (a birth name
    equal to the family name is no second term)."""
    family = name_tokens(person["family_name"])
    others = [t for t in name_tokens(person["birth_name"], person["first_names"],
                                     person["religious_name"], person["artist_name"], *former)
              if t not in family]
    addresses = list(addresses)
    streets = list(dict.fromkeys(t for a in addresses for t in _tokens(a["street"])))
    checked = [t for t in dict.fromkeys(t for a in addresses for t in _tokens(
        a["house_number"], a["postal_code"], a["district"])) if t not in streets]
    houses = list(dict.fromkeys(f"{HOUSE} {number} {street}" for a in addresses
                                for number in _tokens(a["house_number"])
                                for street in _tokens(a["street"])))
    terms = [f"{FAMILY} {t}" for t in family] + [f"{NAMES} {t}" for t in others] + \
        [f"{ADDRESS} {t}" for t in streets] + houses
    if person["birth_date"]:
        terms.append(f"{BORN} {born_token(person['birth_date'])}")
    return IndexRow(tuple(terms), tuple(f"{ADDRESS} {t}" for t in checked))


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


def key_range(family: str, *, family_prefix: bool = False,
              given: str = "") -> tuple[int, int]:
    """Keys of every person whose family name's search form may equal (or, with
    `family_prefix`, start with) `family`, and whose first names' may start with `given`: one
    contiguous range, a superset (keys hold the first letters only) for the caller to filter.
    Both in upper case, as `order_key` takes them."""
    if family_prefix and len(family) < FAMILY_LETTERS:
        cells = KEY_BASE ** (FAMILY_LETTERS - len(family)) * GIVEN_SPAN
    elif given:
        cells = KEY_BASE ** max(GIVEN_LETTERS - len(given), 0)
    else:
        cells = GIVEN_SPAN
    low = order_key(family, "" if family_prefix else given)
    return low, low + (cells << SLOT_BITS)


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


def _store(conn: Any, key: int, person_id: str, row: IndexRow) -> None:
    conn.execute("INSERT INTO person_search_keys (key, person_id, words) VALUES (?, ?, ?)",
                 (key, person_id, row.words))
    conn.executemany("INSERT INTO search_terms (term, key) VALUES (?, ?)",
                     [(term, key) for term in row.terms])


def _drop(conn: Any, person_id: str) -> None:
    old = conn.execute("SELECT key, words FROM person_search_keys WHERE person_id = ?",
                       (person_id,)).fetchone()
    if old is not None:
        conn.executemany("DELETE FROM search_terms WHERE term = ? AND key = ?",
                         [(term, old[0]) for term in IndexRow.of_words(old[1])])
        conn.execute("DELETE FROM person_search_keys WHERE key = ?", (old[0],))


def reindex_person(db: sqlite_utils.Database, person_id: str) -> None:
    """Rewrite one person's index entry; call inside the transaction that changed the person."""
    found = fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons WHERE id = ?",
                        (person_id,))
    _drop(db.conn, person_id)
    if not found:
        return
    person = found[0]
    former = [r[0] for r in db.conn.execute(
        "SELECT name FROM former_names WHERE person_id = ?", (person_id,))]
    addresses = fetch_dicts(db.conn, CURRENT_ADDRESSES + " AND person_id = ?", (person_id,))
    key = _free_key(db.conn, order_key(person["family_sf"], person["given_sf"]))
    _store(db.conn, key, person_id, index_row(person, former, addresses))


@dataclass(frozen=True)
class IndexEntry:
    """One person's index entry, computed before the write transaction that stores it."""

    person_id: str
    base: int           # the first key of the person's key range
    row: IndexRow


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


def add_entries(db: sqlite_utils.Database, entries: Iterable[IndexEntry]) -> None:
    """Store entries of persons not indexed yet, in the caller's transaction: each gets the
    next free key of its range (after those already there)."""
    for entry in entries:
        _store(db.conn, _free_key(db.conn, entry.base), entry.person_id, entry.row)


def index_new_persons(db: sqlite_utils.Database, person_ids: Sequence[str]) -> int:
    """Index those of these persons that have no entry yet, in the caller's transaction (the
    ids may have been read before it: one indexed meanwhile is left as it is)."""
    former: dict[str, list[str]] = defaultdict(list)
    addresses: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    persons: list[dict[str, Any]] = []
    for start in range(0, len(person_ids), ID_CHUNK):
        chunk = list(person_ids[start:start + ID_CHUNK])
        marks = ",".join("?" * len(chunk))
        persons += fetch_dicts(db.conn, f"SELECT {PERSON_COLUMNS} FROM persons WHERE id IN "
                                        f"({marks}) AND id NOT IN (SELECT person_id FROM "
                                        "person_search_keys)", chunk)
        for pid, name in db.conn.execute(
                f"SELECT person_id, name FROM former_names WHERE person_id IN ({marks})", chunk):
            former[pid].append(name)
        for a in fetch_dicts(db.conn, f"{CURRENT_ADDRESSES} AND person_id IN ({marks})", chunk):
            addresses[a["person_id"]].append(a)
    add_entries(db, index_entries(persons, former, addresses))
    return len(persons)


# Every person with what its index needs, in alphabetical order, read as one stream: the
# former names and current addresses as JSON arrays, so no table is held in memory.
ALL_PERSONS_SQL = f"""
SELECT {PERSON_COLUMNS},
       (SELECT json_group_array(name) FROM former_names f WHERE f.person_id = p.id) AS former,
       (SELECT json_group_array(json_object('street', street, 'house_number', house_number,
                                            'postal_code', postal_code, 'district', district))
          FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL) AS addresses
  FROM persons p ORDER BY family_sf, given_sf, birth_date, id
"""


# What the index of one person is made from: its row of `persons` (at least the columns of
# `PERSON_COLUMNS`), its former names and its current addresses.
IndexSource = tuple[Mapping[str, Any], Sequence[str], Sequence[Mapping[str, Any]]]


def reindex_all(db: sqlite_utils.Database) -> int:
    """Rebuild the whole index (migration, bulk import); returns the number of persons.

    The persons are streamed from the register in alphabetical order (family, first names,
    birth date) and written by `write_sorted_index`.
    """
    conn = db.conn
    conn.execute("DELETE FROM search_terms")
    conn.execute("DELETE FROM person_search_keys")

    def persons() -> Iterator[IndexSource]:
        # Read on the first pull, after the writer made its temporary table (a schema change
        # aborts a statement under way).
        cursor = conn.cursor()
        cursor.execute(ALL_PERSONS_SQL)
        names = [c[0] for c in cursor.description]
        while batch := cursor.fetchmany(ID_CHUNK * 10):
            for values in batch:
                p = dict(zip(names, values, strict=True))
                yield p, json.loads(p["former"]), json.loads(p["addresses"])

    return write_sorted_index(db, persons())


def write_sorted_index(db: sqlite_utils.Database, persons: Iterable[IndexSource]) -> int:
    """Index persons given in full alphabetical order (family, first names, birth date, id)
    into an empty index; returns their number. A bulk load (the demo build) hands over what
    it holds in memory instead of reading the register back.

    Slots within one key range follow that order too. The terms are collected in a temporary
    table and written sorted: the index B-tree is filled from left to right instead of at
    random places (a million residents: ten million terms).
    """
    conn = db.conn
    conn.execute("CREATE TEMP TABLE new_terms (term TEXT NOT NULL, key INTEGER NOT NULL)")
    used: dict[int, int] = defaultdict(int)
    count = 0
    stream = iter(persons)
    while batch := list(itertools.islice(stream, ID_CHUNK * 10)):
        keys, terms = [], []
        for p, former, addresses in batch:
            base = order_key(p["family_sf"], p["given_sf"])
            if used[base] >= SLOTS:
                raise StoreError("Der Suchindex ist für einen Namen voll. Bitte die IT "
                                 "verständigen.", f"more than {SLOTS} persons share key {base}")
            key = base + used[base]
            used[base] += 1
            row = index_row(p, former, addresses)
            keys.append((key, p["id"], row.words))
            terms += [(term, key) for term in row.terms]
        conn.executemany("INSERT INTO person_search_keys (key, person_id, words) "
                         "VALUES (?, ?, ?)", keys)
        conn.executemany("INSERT INTO temp.new_terms (term, key) VALUES (?, ?)", terms)
        count += len(batch)
    conn.execute("INSERT INTO search_terms (term, key) "
                 "SELECT term, key FROM temp.new_terms ORDER BY term, key")
    conn.execute("DROP TABLE temp.new_terms")
    return count
