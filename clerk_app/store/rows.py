"""Query results as dicts: the one row shape the core reads the register in.

Apart from `db` so that modules the schema's migrations call (the search index) can read rows
without importing the store that runs those migrations.
"""

from __future__ import annotations

from typing import Any

import sqlcipher3


def fetch_dicts(conn: sqlcipher3.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column name (sqlite-utils' own helpers want a table name)."""
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
