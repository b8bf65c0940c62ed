"""Type-ahead search over the register: by name, birth date, street and house number.

The clerk types free text; each word must match the start of a name or address word, in any
order ("anna müller", "müller anna", "mueller", "hauptstr 12"), and a date such as
"12.08.1964" (or "12.8.64") matches the birth date. What the clerk types is never handed to
FTS5 as syntax: words are reduced to their DIN 91379 search form (A-Z, 0-9) and quoted, so
quotes, operators or SQL typed into the field are just ignored characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from clerk_app.errors import ValidationError
from clerk_app.models import PersonHit, parse_date
from clerk_app.names import search_tokens
from clerk_app.search_index import born_token
from clerk_app.store.db import Store, fetch_dicts

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

    def fts_expression(self) -> str:
        terms = [f'{{names address}} : "{w.lower()}"*' for w in self.words]
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


# The inner query ranks only ids, so the address and block look-ups below run for the shown
# page alone, not for every match of a short prefix (thousands after two keystrokes).
SEARCH_SQL = """
WITH hits AS (
    SELECT p.rowid AS rid,
           p.family_sf NOT IN (SELECT value FROM json_each(:words)) AS inexact,
           p.family_sf, p.given_sf, p.birth_date
      FROM person_fts f JOIN persons p ON p.rowid = f.rowid
     WHERE person_fts MATCH :match
     ORDER BY inexact, p.family_sf, p.given_sf, p.birth_date
     LIMIT :limit
)
SELECT p.id, p.family_name, p.first_names, p.doctorate, p.birth_date,
       (SELECT r.street || ' ' || r.house_number || ', ' || r.postal_code || ' ' || r.city
          FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL
         ORDER BY r.kind = 'neben', r.move_in DESC LIMIT 1) AS address,
       EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id
                  AND b.since <= :today AND (b.until IS NULL OR b.until >= :today)) AS blocked
  FROM hits JOIN persons p ON p.rowid = hits.rid
 ORDER BY hits.inexact, hits.family_sf, hits.given_sf, hits.birth_date
"""


def search(store: Store, text: str, *, limit: int = DEFAULT_LIMIT,
           today: date | None = None) -> list[PersonHit]:
    """Persons matching `text`, exact family-name matches first, then alphabetical.

    Reading hit lists is not audited per keystroke; opening a person is (see `register`).
    """
    today = today or date.today()
    query = parse_query(text, today)
    if query.is_empty:
        return []
    rows = fetch_dicts(store.conn, SEARCH_SQL, {
        "match": query.fts_expression(), "words": json.dumps(list(query.words)),
        "today": today.isoformat(), "limit": limit})
    return [PersonHit(id=r["id"], family_name=r["family_name"], first_names=r["first_names"],
                      doctorate=r["doctorate"], birth_date=parse_date(r["birth_date"]),
                      address=r["address"] or "", blocked=bool(r["blocked"]))
            for r in rows]

