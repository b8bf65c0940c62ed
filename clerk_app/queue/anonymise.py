"""Visits lose names and contact data after the retention period; the figures stay.

ZMS deletes its visit logs after 90 days; the statistics need only times, states, services,
counters and clerks, so those are kept and the personal data is erased: the visit's name,
contact and person link, and the outbox copies of its changes that have reached the centre
(those waiting to be sent keep them until they are sent). Run by
`clerk-app queue anonymise` (IT schedules it daily) and by the central service likewise.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.visits import Visit
from clerk_app.store.db import Store

PERSONAL_FIELDS = ("name", "contact", "person_id")


def anonymised(visit: Visit) -> Visit:
    """The visit without personal data."""
    return Visit.from_json({**visit.to_json(), "name": "", "contact": "", "person_id": None,
                            "anonymised": True})


def cutoff(config: QueueConfig, today: date) -> date:
    """Visits of days before this lose their personal data."""
    return today - timedelta(days=config.settings.anonymise_after_days)


def anonymise_local(store: Store, config: QueueConfig, today: date) -> int:
    """Erase personal data of visits older than the retention period in this register, in
    one transaction. Returns how many visits were anonymised."""
    before = cutoff(config, today).isoformat()
    count = 0
    with store.transaction():
        rows = store.conn.execute("SELECT id, data FROM queue_visits WHERE day < ?",
                                  (before,)).fetchall()
        for visit_id, data in rows:
            visit = Visit.from_json(json.loads(data))
            if visit.anonymised:
                continue
            clean = anonymised(visit)
            store.conn.execute("UPDATE queue_visits SET data = ? WHERE id = ?",
                               (json.dumps(clean.to_json(), ensure_ascii=False), visit_id))
            count += 1
        _scrub_sent_outbox(store, before)
    return count


def _scrub_sent_outbox(store: Store, before: str) -> None:
    rows = store.conn.execute(
        "SELECT command_id, payload FROM outbox WHERE type = 'queue_visit' AND status <> "
        "'pending'").fetchall()
    for command_id, payload in rows:
        data: dict[str, Any] = json.loads(payload)
        visit = data.get("visit") or {}
        if str(visit.get("day", "9999")) >= before or visit.get("anonymised"):
            continue
        data["visit"] = anonymised(Visit.from_json(visit)).to_json()
        store.conn.execute("UPDATE outbox SET payload = ? WHERE command_id = ?",
                           (json.dumps(data, ensure_ascii=False), command_id))
