"""The central service's watch over each workstation's access-log chain (§ 40 BMG).

Every upload must continue the chain the centre holds of that device: the first entry ever
is number 1 on the genesis hash, and each later one follows the last entry stored (its number
plus one, its hash as `prev_hash`), and each entry's hash matches its content. An entry sent
again must be the one stored. What does not hold (entries removed on the workstation before
upload, an entry changed or slipped in, a re-sent entry that differs) becomes an alert for
the Datenschutz role (`clerk-app central access-log-alerts`, GET /v1/access-log/alerts); the
entries are stored all the same, nothing the workstation sent is lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from clerk_app.access_chain import ChainProblem, check_entries
from clerk_app.ids import new_id
from clerk_app.store.chain_hash import GENESIS, entry_hash
from sync.server.storage import Tx

log = logging.getLogger(__name__)


def check_upload(tx: Tx, device_id: str, entries: Sequence[dict[str, Any]]) -> list[ChainProblem]:
    """Check an upload against the device's chain head, move the head, record alerts."""
    rows = tx.execute("SELECT last_id, last_hash FROM access_log_heads WHERE device_id = ?",
                      (device_id,))
    head_id, head_hash = (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)
    ordered = sorted(entries, key=lambda e: int(e["id"]))
    again = [e for e in ordered if int(e["id"]) <= head_id]
    new = [e for e in ordered if int(e["id"]) > head_id]
    problems = _resent_changed(tx, device_id, again)
    problems += check_entries(new, head_id, head_hash)
    if new:
        last = new[-1]
        tx.execute("INSERT INTO access_log_heads (device_id, last_id, last_hash) "
                   "VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                   "last_id = excluded.last_id, last_hash = excluded.last_hash",
                   (device_id, int(last["id"]), str(last.get("hash"))))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for problem in problems:
        tx.execute("INSERT INTO access_log_alerts (alert_id, device_id, detected_at, kind, "
                   "entry_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   (new_id(), device_id, now, problem.kind, problem.entry_id, problem.detail))
    if problems:
        log.warning("access log of device %s: %d chain problem(s): %s", device_id,
                    len(problems), ", ".join(sorted({p.kind for p in problems})))
    return problems


def _resent_changed(tx: Tx, device_id: str,
                    entries: Sequence[dict[str, Any]]) -> list[ChainProblem]:
    problems = []
    for entry in entries:
        rows = tx.execute("SELECT data FROM ledger WHERE kind = 'access_log' AND key = ?",
                          (f"{device_id}/{int(entry['id'])}",))
        stored = json.loads(rows[0][0]) if rows else None
        if stored is not None and (
                stored.get("hash") != entry.get("hash") or
                entry_hash(entry, str(stored.get("prev_hash"))) != stored.get("hash")):
            problems.append(ChainProblem("changed", int(entry["id"]),
                                         "sent again with other content"))
    return problems


def alerts(tx: Tx) -> list[dict[str, Any]]:
    """Every alert, newest first, with the device's name."""
    rows = tx.execute("SELECT a.detected_at, a.device_id, d.name, a.kind, a.entry_id, a.detail "
                      "FROM access_log_alerts a LEFT JOIN devices d ON d.device_id = a.device_id "
                      "ORDER BY a.detected_at DESC, a.entry_id")
    return [{"detected_at": r[0], "device_id": r[1], "device": r[2], "kind": r[3],
             "entry_id": int(r[4]), "detail": r[5]} for r in rows]
