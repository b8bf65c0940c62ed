"""Type-ahead search over the register: by name, birth date, street and house number.

The clerk types free text; each word must match the start of a name or address word, in any
order ("anna müller", "müller anna", "mueller", "hauptstr 12"), and a date such as
"12.08.1964" (or "12.8.64") matches the birth date. What the clerk types is never handed to
FTS5 as syntax: words are reduced to their DIN 91379 search form (A-Z, 0-9) and quoted, so
quotes, operators or SQL typed into the field are just ignored characters.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from clerk_app import audit, clerks, names
from clerk_app.errors import ValidationError
from clerk_app.models import PersonHit, parse_date
from clerk_app.search_index import (
    ADDRESS,
    BORN,
    FAMILY,
    HOUSE,
    NAMES,
    TERM_END,
    IndexRow,
    born_token,
    key_range,
    name_tokens,
)
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

MAX_QUERY_CHARS = 200
DEFAULT_LIMIT = 50
DATE_RE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?![\d.])")


@dataclass(frozen=True)
class SearchQuery:
    """What the clerk typed, understood: name/address words and birth dates."""

    words: tuple[str, ...]
    birth_dates: tuple[date, ...]

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.birth_dates


def parse_query(text: str, today: date | None = None) -> SearchQuery:
    """Split the clerk's input into words and dates; a wrong date is named, not guessed."""
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(
            f"Der Suchbegriff ist zu lang (höchstens {MAX_QUERY_CHARS} Zeichen).",
            f"search text too long ({len(text)} characters)", field="search")
    today = today or date.today()
    dates: list[date] = []
    for match in DATE_RE.finditer(text):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if 2000 + year <= today.year else 1900
        try:
            dates.append(date(year, month, day))
        except ValueError as exc:
            raise ValidationError(
                f"„{match.group(0)}“ ist kein gültiges Datum (TT.MM.JJJJ).",
                "search text holds an invalid date", field="search") from exc
    rest = DATE_RE.sub(" ", text)
    return SearchQuery(tuple(names.search_tokens(rest)), tuple(dates))


# One step of a search: the persons of one term range in display order (term, then order
# key), at most `cap` index rows read, each checked against the query's other words in the
# person's joined terms (`instr` of " word": the start of a token, see `search_index`). The
# range is a co-routine that hands its rows over in its order and stops with the page: no
# ORDER BY outside it, which would read all `cap` rows first to sort them.
STEP_SQL = """
SELECT k.person_id, k.words FROM (
  SELECT key, term FROM search_terms
   WHERE {terms} AND key >= :key_low AND key < :key_high
   ORDER BY term, key LIMIT :cap) t
  JOIN person_search_keys k ON k.key = t.key
 WHERE {checks} LIMIT :limit
"""
# A place (a postcode, a district) is no term: each is shared by a third or a seventh of the
# register. A query of a place reads the persons in display order, checking each one's joined
# terms, and stops at a page or after `PLACE_CAP` persons.
PLACE_SQL = """
SELECT k.person_id, k.words FROM (
  SELECT person_id, words FROM person_search_keys ORDER BY key LIMIT :cap) k
 WHERE {checks} LIMIT :limit
"""
# What a result line shows, for the page of ids alone.
HITS_SQL = """
SELECT p.id, p.family_name, p.first_names, p.doctorate, p.birth_date, p.family_sf, p.given_sf,
       p.birth_name, p.religious_name, p.artist_name,
       (SELECT r.street || ' ' || r.house_number || ', ' || r.postal_code || ' ' || r.city
          FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL
         ORDER BY r.kind = 'neben', r.move_in DESC LIMIT 1) AS address,
       EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id
                  AND b.since <= :today AND (b.until IS NULL OR b.until >= :today)) AS blocked
  FROM json_each(:ids) j JOIN persons p ON p.id = j.value
"""
# The former names of the hits found by another name than their current one (for the hint).
FORMER_SQL = """
SELECT f.person_id, f.kind, f.name FROM json_each(:ids) j
  JOIN former_names f ON f.person_id = j.value ORDER BY f.rowid
"""
BIRTH_NAME = "Geburtsname"  # the kind of a former name that is the birth name
PAIR_WORDS = 3      # words tried in pairs (first + family name) with a narrowed key range
SCAN_CAP = 150      # index rows one unnarrowed step of a query of several words reads at most
# A narrow range (one birth date, a family and first name, a house): its rows are checked
# against the other words until a page is found, but never more than these.
NARROW_CAP = 3000
PLACE_CAP = 3000    # persons a query of a place reads at most (a district: about 350 a page)
POSTCODE_RE = re.compile(r"\d{5}")  # a German postcode, typed in full
ALL_KEYS = (0, (1 << 63) - 1)
ADDRESS_MARK = f"|{ADDRESS} "  # an address token's start in the joined terms
EXACT, PREFIX = "term = :low", "term >= :low AND term < :high"  # a key range seeks in EXACT


@dataclass
class _Collector:
    """The persons found so far, in the order of the steps that found them, up to `limit`,
    with their joined terms (`IndexRow.words`)."""

    store: Store
    limit: int
    found: dict[str, str]

    @property
    def full(self) -> bool:
        return len(self.found) >= self.limit

    def _run(self, sql: str, params: dict[str, object]) -> None:
        for pid, joined in self.store.conn.execute(sql, params):
            if not self.full:
                self.found.setdefault(pid, joined)

    @staticmethod
    def _checks(others: list[str], params: dict[str, object]) -> str:
        params.update({f"o{i}": o for i, o in enumerate(others)})
        return " AND ".join(f"instr(k.words, :o{i}) > 0" for i in range(len(others))) or "1"

    def step(self, term: str, *, prefix: bool, others: list[str],
             keys: tuple[int, int] = ALL_KEYS, cap: int | None = None) -> None:
        """Add the persons of one term (or with `prefix`, every term it starts) whose terms
        also hold each of `others` (patterns "| field token" or " prefix")."""
        if self.full:
            return
        params: dict[str, object] = {}
        checks = self._checks(others, params)
        wanted = self.limit + len(self.found)  # those found already may come again
        params.update(low=term, high=term + TERM_END, key_low=keys[0], key_high=keys[1],
                      cap=cap or (NARROW_CAP if others else wanted), limit=wanted)
        self._run(STEP_SQL.format(terms=PREFIX if prefix else EXACT, checks=checks), params)

    def place_step(self, others: list[str]) -> None:
        """Add the persons, in display order, whose terms hold each of `others`, reading at
        most `PLACE_CAP` of them."""
        if self.full:
            return
        params: dict[str, object] = {}
        checks = self._checks(others, params)
        params.update(cap=PLACE_CAP, limit=self.limit + len(self.found))
        self._run(PLACE_SQL.format(checks=checks), params)


def search(store: Store, text: str, *, limit: int = DEFAULT_LIMIT,
           today: date | None = None) -> list[PersonHit]:
    """Persons matching `text`: current family names first (equal, then starting with a word),
    then other names (first, birth, former names), then addresses; alphabetical within.

    Every step reads one range of the term index in display order and stops at a page, so
    the cost does not grow with the register: a single word, a date, and a first name with a
    family name (in either order, the other one a prefix) find every match; other
    combinations of several words (street and house number, two first names) read a bounded
    number of candidates of their longest word. A postcode or a district (not terms: each is
    shared by a large part of the city) reads persons in display order, a bounded number.

    Reading hit lists is not audited per keystroke: the persons of a result that is shown
    are (`record_shown`), and opening a person is (see `person_record`).
    """
    store.actor.require(clerks.PERSON_SEARCH)
    today = today or date.today()
    query = parse_query(text, today)
    if query.is_empty:
        return []
    words = [w.lower() for w in dict.fromkeys(query.words)]
    dates = [f"{BORN} {born_token(d.isoformat())}" for d in dict.fromkeys(query.birth_dates)]
    found = _Collector(store, limit, {})
    if dates:  # a birth date is the narrowest term there is: a few persons a day
        found.step(dates[0], prefix=False,
                   others=[f" {w}" for w in words] + [f"|{d}|" for d in dates[1:]])
    else:
        _by_words(found, words)
        _by_place(found, words)
    return hits_for(store, list(found.found), today, words=words, terms=found.found)


def _by_words(found: _Collector, words: list[str]) -> None:
    """The steps of a query without a date, in the order of the ranking."""
    if len(words) == 1:
        word = words[0]
        found.step(f"{FAMILY} {word}", prefix=False, others=[])
        for field in (FAMILY, NAMES, ADDRESS):
            found.step(f"{field} {word}", prefix=True, others=[])
        return
    # A family name and a first name, in either order: the order key narrows the term's
    # rows to that family name and first name (or, for a first name, that family prefix).
    # A house number and a street: the pair is one term.
    for word, other in itertools.permutations(words[:PAIR_WORDS], 2):
        rest = [f" {w}" for w in words if w != word]
        if word[0].isdigit():
            found.step(f"{HOUSE} {word} {other}", prefix=True, others=rest)
            continue
        found.step(f"{FAMILY} {word}", prefix=False, others=rest,
                   keys=key_range(word.upper(), given=other.upper()))
        found.step(f"{NAMES} {word}", prefix=False, others=rest,
                   keys=key_range(other.upper(), family_prefix=True))
    # Other combinations (a second family or first name, a district): the candidates of the
    # longest word, a bounded number of them.
    driver = max(words, key=len)
    rest = [f" {w}" for w in words if w != driver]
    found.step(f"{FAMILY} {driver}", prefix=False, others=rest, cap=SCAN_CAP)
    for field in (FAMILY, NAMES, ADDRESS):
        found.step(f"{field} {driver}", prefix=True, others=rest, cap=SCAN_CAP)


def _by_place(found: _Collector, words: list[str]) -> None:
    """A query holding a postcode (five digits) or the start of one of the city's districts
    (Brombach, Stetten...): the persons living there, in display order, with the query's
    other words. Only then: a name that finds nobody costs no scan."""
    if found.full:
        return
    places = [w for w in words if POSTCODE_RE.fullmatch(w) or _is_district(found.store, w)]
    if not places:
        return
    found.place_step([f"{ADDRESS_MARK}{w}" if w in places else f" {w}" for w in words])


def _is_district(store: Store, word: str) -> bool:
    """Whether a word starts a token of a district of the street directory (a few hundred
    rows, read from the page cache), in the search form the index holds addresses in."""
    return any(t.startswith(word) for (district,) in store.conn.execute(
        "SELECT DISTINCT district FROM streets")
        for t in names.search_form(district).lower().split())


OTHER_NAME = 2  # the rank of a hit that no word finds by its current family name


def hits_for(store: Store, person_ids: list[str], today: date | None = None, *,
             words: Sequence[str] = (), terms: Mapping[str, str] | None = None,
             ) -> list[PersonHit]:
    """Result lines for known persons (a search page, or the holders of a scanned ID card):
    those whose current family name a word of the query matches first (by their joined
    `terms`, as the search read them), then alphabetical; a line found by a birth or former
    name says which ("geb. Müller")."""
    store.actor.require(clerks.PERSON_SEARCH)
    today = today or date.today()
    rows = fetch_dicts(store.conn, HITS_SQL, {"ids": json.dumps(person_ids),
                                              "today": today.isoformat()})
    for r in rows:
        r["rank"] = _rank((terms or {}).get(r["id"], ""), words)
    # Keys order by the first letters only; within the page, order exactly.
    rows.sort(key=lambda r: (r["rank"], r["family_sf"], r["given_sf"], r["birth_date"] or ""))
    former: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_other_name = [r["id"] for r in rows if words and r["rank"] >= OTHER_NAME]
    if by_other_name:
        for pid, kind, name in store.conn.execute(FORMER_SQL,
                                                  {"ids": json.dumps(by_other_name)}):
            former[pid].append((kind, name))
    return [PersonHit(id=r["id"], family_name=r["family_name"], first_names=r["first_names"],
                      doctorate=r["doctorate"], birth_date=parse_date(r["birth_date"]),
                      address=r["address"] or "", blocked=bool(r["blocked"]),
                      note=_found_by(r, former[r["id"]], words)
                      if words and r["rank"] >= OTHER_NAME else "")
            for r in rows]


def _rank(joined_terms: str, words: Sequence[str]) -> int:
    """0: a word is a current family name; 1: starts one; 2 (`OTHER_NAME`): starts another
    name; 3: only the address (or no word at all, as for a scanned ID card)."""
    terms = IndexRow.of_words(joined_terms)
    best = 3
    for word in words:
        for term in terms:
            field, _, token = term.partition(" ")
            if field == FAMILY and token == word:
                return 0
            if token.startswith(word):
                best = min(best, {FAMILY: 1, NAMES: OTHER_NAME}.get(field, 3))
    return best


def _found_by(row: dict[str, Any], former: list[tuple[str, str]], words: Sequence[str]) -> str:
    """What a hit was found by when a word matches none of the current names but a birth,
    former, religious or artist name: that name, named as such."""
    candidates = [("geb.", row["birth_name"]),
                  *(("geb." if kind == BIRTH_NAME else "früher", name) for kind, name in former),
                  ("Ordensname", row["religious_name"]), ("Künstlername", row["artist_name"])]
    for label, name in candidates:
        if name and name != row["family_name"] and any(
                t.startswith(w) for w in words for t in name_tokens(name)):
            return f"{label} {name}"
    return ""


def record_shown(store: Store, hits: list[PersonHit], purpose: str) -> None:
    """Log each person of a search result the clerk is shown (§ 40 BMG: every hit listed is a
    retrieval), in one transaction."""
    audit.record_many(store, audit.SEARCH, [h.id for h in hits], purpose, f"{len(hits)} Treffer")
