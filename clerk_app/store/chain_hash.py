"""The access log's hash chain at the level of rows: the hash of one entry on top of the
previous one's, and chaining the entries a register held before the chain existed (the schema
migration). The chain's rules (append, check, retention) are in `clerk_app.access_chain`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlcipher3

from clerk_app.store.rows import fetch_dicts

GENESIS = "0" * 64
# The fields an entry's hash covers, in this order (its number first: a gap shows).
HASHED = ("id", "at", "clerk", "workstation", "action", "person_id", "purpose", "detail")


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of one entry on top of the previous one's (shared with the central service)."""
    data = [entry.get(k) for k in HASHED] + [prev_hash]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                          .encode()).hexdigest()


def chain_existing(conn: sqlcipher3.Connection) -> None:
    """Chain the entries written before the chain existed, in order."""
    previous = GENESIS
    for row in fetch_dicts(conn, "SELECT * FROM audit_log ORDER BY id"):
        digest = entry_hash(row, previous)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                     (previous, digest, row["id"]))
        previous = digest
