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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from clerk_app import audit, clerks
from clerk_app.errors import ValidationError
from clerk_app.models import PersonHit, parse_date
from clerk_app.names import search_tokens
from clerk_app.search_index import born_token, family_key_range
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

    def fts_expression(self, columns: str = "names address") -> str:
        """The FTS5 query: every word a quoted prefix (no syntax gets through), all required."""
        terms = [f'{{{columns}}} : "{w.lower()}"*' for w in self.words]
        terms += [f'born : "{born_token(d.isoformat())}"' for d in self.birth_dates]
        return " AND ".join(terms)


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
    return SearchQuery(tuple(search_tokens(rest)), tuple(dates))


# Matches whose family name equals (or starts with) one word: their keys lie in one range.
FAMILY_SQL = """
SELECT k.person_id FROM person_fts f
  JOIN person_search_keys k ON k.key = f.rowid
  JOIN persons p ON p.id = k.person_id
 WHERE person_fts MATCH :match AND f.rowid >= :low AND f.rowid < :high
   AND (p.family_sf = :word OR (:prefix AND substr(p.family_sf, 1, length(:word)) = :word))
 ORDER BY f.rowid LIMIT :limit
"""
# All matches, in key (alphabetical) order: FTS5 reads rowids in order, so LIMIT stops early.
ALL_SQL = """
SELECT k.person_id FROM person_fts f JOIN person_search_keys k ON k.key = f.rowid
 WHERE person_fts MATCH :match ORDER BY f.rowid LIMIT :limit
"""
# What a result line shows, for the page of ids alone.
HITS_SQL = """
SELECT p.id, p.family_name, p.first_names, p.doctorate, p.birth_date, p.family_sf, p.given_sf,
       (SELECT r.street || ' ' || r.house_number || ', ' || r.postal_code || ' ' || r.city
          FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL
         ORDER BY r.kind = 'neben', r.move_in DESC LIMIT 1) AS address,
       EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id
                  AND b.since <= :today AND (b.until IS NULL OR b.until >= :today)) AS blocked
  FROM json_each(:ids) j JOIN persons p ON p.id = j.value
"""
EXACT_WORDS = 4


def search(store: Store, text: str, *, limit: int = DEFAULT_LIMIT,
           today: date | None = None) -> list[PersonHit]:
    """Persons matching `text`: exact family-name matches first, then alphabetical.

    Reading hit lists is not audited per keystroke: the persons of a result that is shown
    are (`record_shown`), and opening a person is (see `person_record`).
    """
    store.actor.require(clerks.PERSON_SEARCH)
    today = today or date.today()
    query = parse_query(text, today)
    if query.is_empty:
        return []
    match = query.fts_expression()
    ids: dict[str, int] = {}  # person id -> the pass that found it

    passes = itertools.count()

    def add(sql: str, params: dict[str, object]) -> None:
        rank = next(passes)
        if len(ids) < limit:
            for (pid,) in store.conn.execute(sql, params):
                ids.setdefault(pid, rank)

    # Ranked in passes, each in alphabetical key order and reading at most one page from the
    # index: exact family name, family name starting with a word, any name, then matches that
    # need the address too ("mü" lists Müller before a Mühlenweg resident).
    words = [w for w in dict.fromkeys(query.words[:EXACT_WORDS]) if not w.isdigit()]
    for prefix in (False, True):
        for word in words:
            low, high = family_key_range(word, prefix=prefix)
            add(FAMILY_SQL, {"match": match, "low": low, "high": high, "word": word,
                             "prefix": prefix, "limit": limit})
    if query.words:
        add(ALL_SQL, {"match": query.fts_expression("names"), "limit": limit + len(ids)})
    add(ALL_SQL, {"match": match, "limit": limit + len(ids)})
    return hits_for(store, list(ids)[:limit], today,
                    rank=lambda pid: ids[pid])


def hits_for(store: Store, person_ids: list[str], today: date | None = None, *,
             rank: Callable[[str], int] = lambda _pid: 0) -> list[PersonHit]:
    """Result lines for known persons (a search page, or the holders of a scanned ID card),
    alphabetical within each `rank`."""
    store.actor.require(clerks.PERSON_SEARCH)
    today = today or date.today()
    rows = fetch_dicts(store.conn, HITS_SQL, {"ids": json.dumps(person_ids),
                                              "today": today.isoformat()})
    # Keys order by the first letters only; within the page, order exactly.
    rows.sort(key=lambda r: (rank(r["id"]), r["family_sf"], r["given_sf"],
                             r["birth_date"] or ""))
    return [PersonHit(id=r["id"], family_name=r["family_name"], first_names=r["first_names"],
                      doctorate=r["doctorate"], birth_date=parse_date(r["birth_date"]),
                      address=r["address"] or "", blocked=bool(r["blocked"]))
            for r in rows]


def record_shown(store: Store, hits: list[PersonHit], purpose: str) -> None:
    """Log each person of a search result the clerk is shown (§ 40 BMG: every hit listed is a
    retrieval), in one transaction."""
    audit.record_many(store, audit.SEARCH, [h.id for h in hits], purpose, f"{len(hits)} Treffer")
