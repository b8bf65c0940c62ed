"""The outbox: commands waiting for the central service, written in the caller's transaction.

Every change that must reach the central service (a counter service, an archived document, a
Klärfall decision) adds one row here in the same transaction as the change itself, so a crash
leaves both or neither. The sync engine sends the rows in order and marks them sent; this
module is the one place that writes them, so every command carries device, clerk and time the
same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlcipher3

from clerk_app.store.db import Store


def append_outbox(store: Store, command_id: str, command_type: str, payload: Mapping[str, Any],
                  created_at: datetime, *, base_versions: Mapping[str, int] | None = None,
                  result: str = "{}") -> None:
    """Queue one command for the central service, in the caller's transaction.

    `base_versions` are the record versions the command depended on (for the central
    service's conflict check); `result` is what the command returned locally (JSON), so that a
    second submit with the same command id gets the same answer.
    """
    store.conn.execute(
        "INSERT INTO outbox (command_id, type, payload, base_versions, device, clerk, "
        "created_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (command_id, command_type, json.dumps(payload, ensure_ascii=False),
         json.dumps(dict(base_versions or {})), store.actor.workstation, store.actor.clerk,
         created_at.isoformat(timespec="milliseconds"), result))


def queued_result(conn: sqlcipher3.Connection, command_id: str) -> str | None:
    """The stored result (JSON) of the command with this id, or None if it was never queued."""
    row = conn.execute("SELECT result FROM outbox WHERE command_id = ?",
                       (command_id,)).fetchone()
    return str(row[0]) if row else None
