"""The city's street directory: which streets exist, and which house numbers each one has.

Why a directory at all: an address in the register must be one the city knows. A typing error
in the street or a house number the street does not have ("Hauptstraße 400") is caught at the
counter, not months later when a letter comes back; and the postal code follows from street and
number, so the clerk never types it.

The directory is a data file that IT maintains (`resources/streets.json`: streets with a stable
key, their district and their house-number segments). `load_street_directory` copies it into
the register's tables `streets` and `street_segments`, so that queries, the search index and the
sync all see the same streets, and residences can refer to a street by id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, cast

from clerk_app.names import search_form
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

if TYPE_CHECKING:
    import sqlite_utils

__all__ = [
    "DIRECTORY_FILE",
    "HouseNumber",
    "Parity",
    "Segment",
    "Street",
    "find_streets",
    "load_street_directory",
    "parse_house_number",
    "read_directory",
    "segment_for",
    "store_street_directory",
    "street_by_id",
    "valid_house_number",
]

DIRECTORY_PACKAGE = "resources"
DIRECTORY_FILE = "streets.json"
PARITIES = ("all", "odd", "even")
Parity = Literal["all", "odd", "even"]
# What the clerk may type: "12", "12a", "12 b", "12A", and the Baden-Württemberg style "12/1"
# (a building behind no. 12). No leading zero, at most four digits.
_HOUSE_NUMBER_RE = re.compile(r"\s*([1-9]\d{0,3})\s*(?:([A-Za-z])|/\s*([1-9]\d{0,2}))?\s*")
_POSTAL_CODE_RE = re.compile(r"\d{5}")
# "Basler Str. 5" is how half the city writes it: the abbreviation searches as the full word.
_STR_ABBREVIATION_RE = re.compile(r"(?i)(str)\.")
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class HouseNumber:
    """A parsed house number: the numeric part decides which segment (and postal code) applies;
    the suffix ("a" of "12a", "/1" of "12/1") only tells buildings on the same plot apart."""

    number: int
    suffix: str = ""

    def __str__(self) -> str:
        """The stored form: "12", "12a", "12/1" (lower-case letter, no space)."""
        return f"{self.number}{self.suffix}"


@dataclass(frozen=True)
class Segment:
    """A run of house numbers of one street with one postal code.

    Streets are described in runs because a long street crosses a postal-code border, and the
    odd side of a street often goes further than the even side.
    """

    from_no: int
    to_no: int
    parity: Parity
    postal_code: str

    def contains(self, number: int) -> bool:
        if not self.from_no <= number <= self.to_no:
            return False
        if self.parity == "odd":
            return number % 2 == 1
        if self.parity == "even":
            return number % 2 == 0
        return True

    def numbers(self) -> range:
        """All house numbers of the run (what the demo generator draws addresses from)."""
        if self.parity == "all":
            return range(self.from_no, self.to_no + 1)
        first = self.from_no + (self.from_no % 2 != (1 if self.parity == "odd" else 0))
        return range(first, self.to_no + 1, 2)


@dataclass(frozen=True)
class Street:
    """One street of the directory, with its house-number segments.

    `key` is the directory's stable key (it survives a renamed street and tells apart a
    "Hauptstraße" in Brombach from one in Haagen); `id` is the row id in the register, `None`
    for a street read from the file but not yet stored.
    """

    key: str
    name: str
    district: str
    segments: tuple[Segment, ...]
    id: int | None = None

    @property
    def label(self) -> str:
        """"Hauptstraße (Brombach)": names repeat across districts, so the district is shown."""
        return f"{self.name} ({self.district})"

    def segment_for(self, house_number: str | HouseNumber) -> Segment | None:
        """The segment holding this house number, or None if the street has no such number."""
        parsed = (house_number if isinstance(house_number, HouseNumber)
                  else parse_house_number(house_number))
        if parsed is None:
            return None
        return next((s for s in self.segments if s.contains(parsed.number)), None)

    def postal_code_for(self, house_number: str | HouseNumber) -> str | None:
        segment = self.segment_for(house_number)
        return segment.postal_code if segment else None


def parse_house_number(text: str) -> HouseNumber | None:
    """'12' / '12a' / '12 b' / '12/1' -> HouseNumber; None for anything else ('', '0', 'x')."""
    match = _HOUSE_NUMBER_RE.fullmatch(text)
    if not match:
        return None
    number, letter, sub = match.groups()
    suffix = letter.lower() if letter else (f"/{sub}" if sub else "")
    return HouseNumber(int(number), suffix)


# --- the directory file ----------------------------------------------------------------------

@cache
def read_directory() -> tuple[Street, ...]:
    """The directory as packaged (read once; via importlib.resources, so it is found in a wheel
    and a frozen build as well as in the checkout). Raises ValueError naming a broken entry."""
    text = resources.files(DIRECTORY_PACKAGE).joinpath(DIRECTORY_FILE).read_text(
        encoding="utf-8")
    return parse_directory(json.loads(text))


def parse_directory(data: dict[str, Any]) -> tuple[Street, ...]:
    """Check and convert the JSON document; IT edits it by hand, so errors name the street."""
    streets: list[Street] = []
    keys: set[str] = set()
    for entry in data["streets"]:
        key = str(entry["key"])
        if key in keys:
            raise ValueError(f"street directory: duplicate key {key}")
        keys.add(key)
        segments = tuple(_segment(key, s) for s in entry["segments"])
        if not segments:
            raise ValueError(f"street directory: street {key} has no house-number segment")
        streets.append(Street(key=key, name=str(entry["name"]).strip(),
                              district=str(entry["district"]).strip(), segments=segments))
    return tuple(streets)


def _segment(key: str, raw: dict[str, Any]) -> Segment:
    from_no, to_no = int(raw["from"]), int(raw["to"])
    parity = str(raw.get("parity", "all"))
    postal_code = str(raw["postal_code"])
    if not 1 <= from_no <= to_no:
        raise ValueError(f"street directory: street {key} has the segment {from_no}-{to_no}")
    if parity not in PARITIES:
        raise ValueError(f"street directory: street {key} has the parity {parity!r}")
    if not _POSTAL_CODE_RE.fullmatch(postal_code):
        raise ValueError(f"street directory: street {key} has the postal code {postal_code!r}")
    return Segment(from_no, to_no, cast(Parity, parity), postal_code)


# --- the directory in the register -----------------------------------------------------------

def store_street_directory(store: Store) -> list[Street]:
    """`load_street_directory` in a transaction of its own (a fresh register's directory)."""
    with store.transaction() as db:
        return load_street_directory(db)


def load_street_directory(db: sqlite_utils.Database,
                          streets: tuple[Street, ...] | None = None) -> list[Street]:
    """Write the directory into `streets` / `street_segments`; returns the stored streets.

    Call inside the caller's transaction. Idempotent and keyed by the directory key: a street
    already in the register keeps its id (residences point at it), its name, district and
    segments are updated; new streets are added. Streets that left the file stay in the
    register, because old residences still refer to them.
    """
    streets = read_directory() if streets is None else streets
    conn = db.conn
    existing = {key: sid for key, sid in conn.execute("SELECT key, id FROM streets")}
    stored: list[Street] = []
    new_rows: list[tuple[str, str, str, str]] = []
    for street in streets:
        row = (street.name, search_form(street.name), street.district, street.key)
        if street.key in existing:
            conn.execute("UPDATE streets SET name = ?, name_sf = ?, district = ? WHERE key = ?",
                         row)
        else:
            new_rows.append(row)
    if new_rows:
        conn.executemany("INSERT INTO streets (name, name_sf, district, key) VALUES (?, ?, ?, ?)",
                         new_rows)
    ids = {key: sid for key, sid in conn.execute("SELECT key, id FROM streets")}
    conn.executemany("DELETE FROM street_segments WHERE street_id = ?",
                     [(ids[s.key],) for s in streets if s.key in existing])
    conn.executemany(
        "INSERT INTO street_segments (street_id, from_no, to_no, parity, postal_code) "
        "VALUES (?, ?, ?, ?, ?)",
        [(ids[s.key], g.from_no, g.to_no, g.parity, g.postal_code)
         for s in streets for g in s.segments])
    for street in streets:
        stored.append(Street(street.key, street.name, street.district, street.segments,
                             ids[street.key]))
    return stored


def _database(store_or_db: Store | sqlite_utils.Database) -> sqlite_utils.Database:
    return store_or_db.db if isinstance(store_or_db, Store) else store_or_db


def _streets_with_segments(db: sqlite_utils.Database, rows: list[dict[str, Any]],
                           ) -> list[Street]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    segments: dict[int, list[Segment]] = {i: [] for i in ids}
    for s in fetch_dicts(db.conn, f"SELECT * FROM street_segments WHERE street_id IN ({marks}) "
                                  "ORDER BY street_id, id", ids):
        segments[s["street_id"]].append(
            Segment(s["from_no"], s["to_no"], s["parity"], s["postal_code"]))
    return [Street(r["key"], r["name"], r["district"], tuple(segments[r["id"]]), r["id"])
            for r in rows]


def street_by_id(store_or_db: Store | sqlite_utils.Database, street_id: int) -> Street | None:
    db = _database(store_or_db)
    rows = fetch_dicts(db.conn, "SELECT * FROM streets WHERE id = ?", (street_id,))
    found = _streets_with_segments(db, rows)
    return found[0] if found else None


def segment_for(store_or_db: Store | sqlite_utils.Database, street_id: int,
                house_number: str) -> Segment | None:
    """The segment of a stored street that holds `house_number` (and so its postal code)."""
    street = street_by_id(store_or_db, street_id)
    return street.segment_for(house_number) if street else None


def valid_house_number(store_or_db: Store | sqlite_utils.Database, street_id: int,
                       house_number: str) -> bool:
    """True if the street has this number: the numeric part must lie in one of the street's
    segments with the right parity ('12 b' on a street of 1-30 is valid, '13' on an
    even-only run is not). Unknown street ids are never valid."""
    parsed = parse_house_number(house_number)
    if parsed is None:
        return False
    db = _database(store_or_db)
    row = db.conn.execute(
        "SELECT 1 FROM street_segments WHERE street_id = ? AND ? BETWEEN from_no AND to_no "
        "AND (parity = 'all' OR (parity = 'odd') = (? % 2 = 1)) LIMIT 1",
        (street_id, parsed.number, parsed.number)).fetchone()
    return row is not None


def find_streets(store_or_db: Store | sqlite_utils.Database, text: str,
                 limit: int = DEFAULT_LIMIT) -> list[Street]:
    """Streets for the address field's type-ahead: every word typed must occur in the street
    name or the district ("haupt brom" -> Hauptstraße in Brombach).

    Matching uses the DIN 91379 search form, so "Tuellinger", "Tüllinger" and "TULLINGER"
    find the same street, and "Str." is read as "Straße". A word may match inside a compound
    ("markt" finds "Am Alten Markt" and "Marktplatz"), since German street names glue words
    together. Numbers are ignored, so "Hauptstr. 12" still finds the street. Ordered: names
    starting with the first word first, then by name and district. The directory has a few
    hundred streets, so it is filtered in Python rather than with an index.
    """
    words = [w for w in search_form(_STR_ABBREVIATION_RE.sub(r"\1asse", text)).split()
             if not w.isdigit()]
    if not words:
        return []
    db = _database(store_or_db)
    hits = []
    for row in fetch_dicts(db.conn, "SELECT id, key, name, name_sf, district FROM streets"):
        haystack = f"{row['name_sf']} {_district_sf(row['district'])}"
        if all(w in haystack for w in words):
            hits.append(row)
    hits.sort(key=lambda r: (not r["name_sf"].startswith(words[0]), r["name_sf"],
                             r["district"]))
    return _streets_with_segments(db, hits[:limit])


@cache
def _district_sf(district: str) -> str:
    return search_form(district)
