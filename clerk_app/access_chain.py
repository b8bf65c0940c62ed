"""The access log as a hash chain: a changed, removed or slipped-in entry shows (§ 40 BMG).

Each entry carries the SHA-256 of the previous entry (`prev_hash`) and its own (`hash`, over
its number, its fields and `prev_hash`). Triggers refuse UPDATE and DELETE; whoever holds the
register key can drop them, so the chain is what makes tampering visible: here (`verify`),
and at the central service, which receives every entry with the sync and checks each upload
against the last entry it holds of that workstation (`sync.server.access_log_check`).

Retention (§ 40 BMG: kept at least 12 months, deleted by the end of the following calendar
year): the entries before the cut-off are deleted after a checkpoint is written that names
the last deleted entry's number and hash, signed with the office seal key. The remaining
chain starts at that checkpoint and stays verifiable.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from clerk_app.store.chain_hash import GENESIS, entry_hash
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

if TYPE_CHECKING:  # the seal (cryptography) is loaded only to write or check a checkpoint
    import sqlcipher3
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from clerk_app.seal import SealKey

CHECKPOINT_PREFIX = "clerk-app access-log checkpoint v1"


def append(conn: sqlcipher3.Connection, fields: Mapping[str, Any]) -> None:
    """Append one entry at the end of the chain, in the caller's write transaction."""
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    if last is None:
        floor = conn.execute("SELECT last_id, last_hash FROM audit_checkpoints "
                             "ORDER BY id DESC LIMIT 1").fetchone()
        last = floor or (0, GENESIS)
    entry = {**fields, "id": int(last[0]) + 1}
    digest = entry_hash(entry, str(last[1]))
    conn.execute(
        "INSERT INTO audit_log (id, at, clerk, workstation, action, person_id, purpose, detail, "
        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry["id"], entry["at"], entry["clerk"], entry["workstation"], entry["action"],
         entry.get("person_id"), entry["purpose"], entry.get("detail"), last[1], digest))


# --- checking ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain does not hold: `kind` is 'gap' (entries missing), 'changed'
    (an entry's content differs from its hash), 'break' (an entry does not follow the one
    before: inserted, reordered or a removed predecessor) or 'checkpoint' (its signature)."""

    kind: str
    entry_id: int
    detail: str


def check_entries(entries: Iterable[Mapping[str, Any]], start_id: int,
                  start_hash: str) -> list[ChainProblem]:
    """Check a run of entries (ordered by number) that should follow entry `start_id` with
    hash `start_hash`. Shared by the workstation's check and the central service's."""
    problems: list[ChainProblem] = []
    expected_id, previous = start_id + 1, start_hash
    for entry in entries:
        number = int(entry["id"])
        if number != expected_id:
            problems.append(ChainProblem(
                "gap", number, f"entries {expected_id}..{number - 1} missing"
                if number > expected_id else f"entry {number} out of order"))
        if entry.get("prev_hash") != previous:
            problems.append(ChainProblem("break", number, "does not follow the entry before"))
        if entry_hash(entry, str(entry.get("prev_hash"))) != entry.get("hash"):
            problems.append(ChainProblem("changed", number, "content differs from its hash"))
        expected_id, previous = number + 1, str(entry.get("hash"))
    return problems


def verify(store: Store, public_keys: Mapping[str, Ed25519PublicKey]) -> list[ChainProblem]:
    """Check the whole local chain from its start or its latest checkpoint; [] = intact."""
    start_id, start_hash = 0, GENESIS
    checkpoint = latest_checkpoint(store)
    problems: list[ChainProblem] = []
    if checkpoint is not None:
        start_id, start_hash = int(checkpoint["last_id"]), str(checkpoint["last_hash"])
        if not _checkpoint_signed(checkpoint, public_keys):
            problems.append(ChainProblem("checkpoint", start_id,
                                         "checkpoint signature does not verify"))
    rows = store.conn.execute("SELECT * FROM audit_log ORDER BY id")
    cols = [d[0] for d in rows.description]
    entries = (dict(zip(cols, row, strict=True)) for row in rows)
    return problems + check_entries(entries, start_id, start_hash)


# --- retention -----------------------------------------------------------------------------

def retention_cutoff(today: date) -> date:
    """Entries before this day go: 12 months kept, and the run on any day of a year removes
    everything older than a year, so an entry is gone by the end of the following year."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def apply_retention(store: Store, key: SealKey, today: date) -> int:
    """Delete the entries older than the retention period behind a signed checkpoint, in one
    transaction; returns how many were deleted."""
    cutoff = retention_cutoff(today).isoformat()
    with store.transaction():
        last = store.conn.execute("SELECT id, hash FROM audit_log WHERE at < ? "
                                  "ORDER BY id DESC LIMIT 1", (cutoff,)).fetchone()
        if last is None:
            return 0
        last_id, last_hash = int(last[0]), str(last[1])
        count = int(store.conn.execute("SELECT count(*) FROM audit_log WHERE id <= ?",
                                       (last_id,)).fetchone()[0])
        at = datetime.now(UTC).isoformat(timespec="seconds")
        workstation = store.actor.workstation
        signature = key.private.sign(_checkpoint_message(workstation, last_id, last_hash, at))
        store.conn.execute(
            "INSERT INTO audit_checkpoints (at, workstation, last_id, last_hash, deleted, "
            "key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, workstation, last_id, last_hash, count, key.key_id,
             base64.b64encode(signature).decode()))
        store.conn.execute("DELETE FROM audit_log WHERE id <= ?", (last_id,))
    return count


def latest_checkpoint(store: Store) -> dict[str, Any] | None:
    rows = fetch_dicts(store.conn, "SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


def _checkpoint_message(workstation: str, last_id: int, last_hash: str, at: str) -> bytes:
    return "|".join((CHECKPOINT_PREFIX, workstation, str(last_id), last_hash, at)).encode()


def _checkpoint_signed(checkpoint: Mapping[str, Any],
                       public_keys: Mapping[str, Ed25519PublicKey]) -> bool:
    from cryptography.exceptions import InvalidSignature

    from clerk_app.seal import key_id

    public = public_keys.get(str(checkpoint["key_id"]))
    if public is None or key_id(public) != checkpoint["key_id"]:
        return False
    try:
        public.verify(base64.b64decode(str(checkpoint["signature"])),
                      _checkpoint_message(str(checkpoint["workstation"]),
                                          int(checkpoint["last_id"]),
                                          str(checkpoint["last_hash"]), str(checkpoint["at"])))
    except (InvalidSignature, ValueError):
        return False
    return True
