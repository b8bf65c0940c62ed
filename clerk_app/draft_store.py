"""Drafts of service dialogs: typed work that survives a closed window or a crash.

A dialog saves what the clerk typed (its field values as a JSON object) under its command id
while the clerk works; the next time a dialog of that kind opens on this workstation for this
clerk, the newest draft fills it again and keeps its command id, so a draft submitted after a
crash can never register twice. Completing the service deletes the draft in the same
transaction (`clerk_app.services.runner.run_service`); a draft is never saved for a command that
is already completed.

Drafts hold personal data: they live only in the encrypted register, never in files, and are
never logged (only counts). Drafts older than `MAX_AGE` are removed at start
(`purge_old_drafts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlcipher3

from clerk_app.store.db import Store
from clerk_app.store.outbox import queued_result

MAX_AGE = timedelta(days=7)


@dataclass(frozen=True)
class Draft:
    """One dialog's typed work."""

    command_id: str
    kind: str
    person_id: str | None
    clerk: str
    workstation: str
    updated_at: datetime
    data: dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def save_draft(store: Store, kind: str, command_id: str, data: Mapping[str, Any], *,
               person_id: str | None = None, now: datetime | None = None) -> bool:
    """Save (or replace) the draft of the dialog with `command_id`, as the store's actor.

    Returns False, saving nothing, when the command is already completed (its outbox row
    exists): a late autosave must not bring back the draft of a finished service.
    """
    moment = (now or _now()).astimezone(UTC).isoformat(timespec="seconds")
    text = json.dumps(dict(data), ensure_ascii=False)
    with store.transaction():
        if queued_result(store.conn, command_id) is not None:
            store.conn.execute("DELETE FROM drafts WHERE command_id = ?", (command_id,))
            return False
        store.conn.execute(
            "INSERT INTO drafts (kind, person_id, command_id, clerk, workstation, updated_at, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(command_id) DO UPDATE SET "
            "kind = excluded.kind, person_id = excluded.person_id, clerk = excluded.clerk, "
            "workstation = excluded.workstation, updated_at = excluded.updated_at, "
            "data = excluded.data",
            (kind, person_id, command_id, store.actor.clerk, store.actor.workstation, moment,
             text))
    return True


def load_drafts(store: Store, clerk: str, workstation: str, *,
                kind: str | None = None) -> list[Draft]:
    """The drafts of `clerk` at `workstation` (of one `kind` if given), newest first."""
    sql = ("SELECT command_id, kind, person_id, clerk, workstation, updated_at, data "
           "FROM drafts WHERE clerk = ? AND workstation = ?")
    params: list[Any] = [clerk, workstation]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    sql += " ORDER BY updated_at DESC, id DESC"
    return [Draft(row[0], row[1], row[2], row[3], row[4], datetime.fromisoformat(row[5]),
                  json.loads(row[6]))
            for row in store.conn.execute(sql, params).fetchall()]


def discard_draft(store: Store, command_id: str) -> bool:
    """Delete the draft of `command_id` (the clerk threw the typed work away)."""
    with store.transaction():
        return delete_draft(store.conn, command_id)


def delete_draft(conn: sqlcipher3.Connection, command_id: str) -> bool:
    """Delete the draft of `command_id` in the caller's transaction (`run_service`)."""
    cursor = conn.execute("DELETE FROM drafts WHERE command_id = ?", (command_id,))
    return bool(cursor.rowcount > 0)


def purge_old_drafts(store: Store, *, now: datetime | None = None,
                     max_age: timedelta = MAX_AGE) -> int:
    """Remove drafts not touched for longer than `max_age` (at start); returns how many."""
    limit = ((now or _now()) - max_age).astimezone(UTC).isoformat(timespec="seconds")
    with store.transaction():
        return int(store.conn.execute("DELETE FROM drafts WHERE updated_at < ?",
                                      (limit,)).rowcount)
