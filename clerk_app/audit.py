"""Who looked at whom, and who changed what: the register's access log (§ 40 BMG).

Written by the core in the same transaction as the change it records (or in its own for a
read), so no front end can forget it: every read of a person (opening, printing, each person
listed in a search result that is shown), every change, every document. It lives inside the
encrypted register, never in a log file: the entries themselves are personal data. Entries
form a hash chain (`clerk_app.access_chain`): a changed or missing entry shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from clerk_app import access_chain, clerks
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

READ = "read"
SEARCH = "search"
CREATE = "create"
UPDATE = "update"
ACCESS_LOG = "access_log"  # the Datenschutz role read a person's access history


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(store: Store, action: str, person_id: str | None, purpose: str,
           detail: str | None = None) -> None:
    """Append one entry; inside a running transaction it commits with it."""
    record_many(store, action, [person_id], purpose, detail)


def record_many(store: Store, action: str, person_ids: Iterable[str | None], purpose: str,
                detail: str | None = None) -> None:
    """Append one entry per person (the persons listed in a shown search result), together."""
    if store.conn.in_transaction:
        _append(store, action, person_ids, purpose, detail)
        return
    with store.transaction():
        _append(store, action, person_ids, purpose, detail)


def _append(store: Store, action: str, person_ids: Iterable[str | None], purpose: str,
            detail: str | None) -> None:
    at = utc_now()
    for person_id in person_ids:
        access_chain.append(store.conn, {
            "at": at, "clerk": store.actor.clerk, "workstation": store.actor.workstation,
            "action": action, "person_id": person_id, "purpose": purpose, "detail": detail})


def entries_for(store: Store, person_id: str) -> list[dict[str, object]]:
    """The entries about one person, newest first (the core's own checks; a clerk reads them
    through `access_history`)."""
    return fetch_dicts(store.conn, "SELECT * FROM audit_log WHERE person_id = ? "
                                   "ORDER BY id DESC", (person_id,))


def access_history(store: Store, person_id: str, purpose: str) -> list[dict[str, object]]:
    """Who looked at one person and why, newest first, for the Datenschutz role (an Art. 15
    GDPR / § 10 BMG request). Reading it is itself logged."""
    store.actor.require(clerks.ACCESS_LOG_READ)
    record(store, ACCESS_LOG, person_id, purpose)
    return entries_for(store, person_id)
