"""Who looked at whom, and who changed what: the register's access log.

Written by the core in the same transaction as the change it records (or on its own for a
read), so no front end can forget it. It lives inside the encrypted register, never in a log
file: the entries themselves are personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

READ = "read"
SEARCH = "search"
CREATE = "create"
UPDATE = "update"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(store: Store, action: str, person_id: str | None, purpose: str,
           detail: str | None = None) -> None:
    """Append one entry; inside a running transaction it commits with it."""
    store.conn.execute(
        "INSERT INTO audit_log (at, clerk, workstation, action, person_id, purpose, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (utc_now(), store.actor.clerk, store.actor.workstation, action, person_id, purpose,
         detail))


def entries_for(store: Store, person_id: str) -> list[dict[str, object]]:
    """The access history of one person, newest first (data-protection requests, § 10 BMG)."""
    return fetch_dicts(store.conn, "SELECT * FROM audit_log WHERE person_id = ? "
                                   "ORDER BY id DESC", (person_id,))
