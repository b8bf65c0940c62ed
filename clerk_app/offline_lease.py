"""The offline lease: a workstation that has not reached the central service for
`offline_lease_days` stops opening the register until it syncs.

A laptop that stays away (forgotten in a car, stolen and kept offline so that its withdrawal
never reaches it) must not serve citizens from a register that grows ever older and that IT
can no longer withdraw. The clock starts at the last complete sync (kept in the register by the
sync, `LAST_SYNC_KEY`); three days before the end the status bar and `clerk-app doctor` warn.
The sync itself still opens the register: that is how the lease is renewed. Demo mode (made-up
data) and workstations without a central service are exempt.

The workstation's clock is not trusted to run forward: setting it back would otherwise start
the lease afresh. The register keeps the latest time seen (`CLOCK_KEY`, with the clock reading
it was seen at) and never lets it go back: time is judged as that mark plus however far the
clock ran since, so a clock put back counts as standing still (and is logged), never as days
won back. The sync records its time the same way.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.store.db import Store

LAST_SYNC_KEY = "sync.last_success"  # written by the sync (sync.state.LAST_SUCCESS)
CLOCK_KEY = "clock.latest_seen"  # {"seen": latest time seen, "local": the clock's reading then}
WARN_DAYS = 3
CLOCK_SLACK = timedelta(minutes=5)  # a clock put back less than this is time-keeping, not news

log = logging.getLogger(__name__)


class LeaseExpired(ClerkError):
    """Too long without the central service: the register opens again after a sync."""


@dataclass(frozen=True)
class Lease:
    """Where this workstation stands: days since the last sync and days left."""

    days_away: int
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left <= 0

    @property
    def warn(self) -> bool:
        return 0 < self.days_left <= WARN_DAYS


def lease(cfg: Config, last_sync: str | None, now: datetime | str | None = None
          ) -> Lease | None:
    """The lease, or None where none applies (demo, no central service, never synced: an
    empty register has nothing to serve from but its own new work). `now`: the time seen
    (`time_seen`, or its ISO text as `sync.state.SyncStatus.seen` keeps it)."""
    if cfg.is_demo or not cfg.central_url or not last_sync:
        return None
    try:
        since = datetime.fromisoformat(last_sync)
    except ValueError:
        return Lease(days_away=cfg.offline_lease_days, days_left=0)  # unreadable: sync first
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    moment = _parse(now) if isinstance(now, str) else now
    away = max((moment or datetime.now(UTC)) - since, timedelta(0))
    left = timedelta(days=cfg.offline_lease_days) - away
    return Lease(days_away=away.days,
                 days_left=0 if left <= timedelta(0) else math.ceil(left / timedelta(days=1)))


def _setting(store: Store, key: str) -> str | None:
    row = store.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def last_sync(store: Store) -> str | None:
    return _setting(store, LAST_SYNC_KEY)


def _parse(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time_seen(store: Store, now: datetime) -> tuple[datetime, timedelta]:
    """The time to judge by: the latest mark plus how far the clock ran since it (never less
    than the last sync), and how far the clock went back (zero if it did not)."""
    try:
        mark = json.loads(_setting(store, CLOCK_KEY) or "{}")
    except ValueError:
        mark = {}
    seen = _parse(mark.get("seen")) if isinstance(mark, dict) else None
    local = _parse(mark.get("local")) if isinstance(mark, dict) else None
    synced = _parse(last_sync(store) or "")
    moment = now
    if seen is not None and local is not None:
        moment = max(now, seen + max(now - local, timedelta(0)))
    if synced is not None:
        moment = max(moment, synced)
    return moment, max(moment - now, timedelta(0))


def time_seen(store: Store, now: datetime | None = None) -> datetime:
    """The lease's notion of now, read only (status bar, doctor)."""
    return _time_seen(store, now or datetime.now(UTC))[0]


def note_time(store: Store, now: datetime | None = None) -> datetime:
    """Advance the stored mark to the time seen now and return it; a clock that went back
    noticeably is logged. Inside the caller's transaction if one is open, else its own."""
    now = now or datetime.now(UTC)
    moment, behind = _time_seen(store, now)
    if behind > CLOCK_SLACK:
        log.warning("workstation clock is %s behind the latest time seen (%s): the offline "
                    "lease goes by the latest time seen", behind, moment.isoformat())
    value = json.dumps({"seen": moment.isoformat(), "local": now.isoformat()})
    sql = ("INSERT INTO settings (key, value) VALUES (?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
    if store.conn.in_transaction:
        store.conn.execute(sql, (CLOCK_KEY, value))
    else:
        with store.transaction():
            store.conn.execute(sql, (CLOCK_KEY, value))
    return moment


def check_lease(cfg: Config, store: Store, now: datetime | None = None) -> None:
    """Raise `LeaseExpired` (German) if the lease has run out, judged by the latest time seen
    (`note_time`), which this opening also advances."""
    if cfg.is_demo or not cfg.central_url:
        return
    state = lease(cfg, last_sync(store), note_time(store, now))
    if state is not None and state.expired:
        raise LeaseExpired(
            f"Dieser Arbeitsplatz war seit {state.days_away} Tagen nicht mit der Zentrale "
            f"verbunden (erlaubt sind {cfg.offline_lease_days}). Das Melderegister öffnet "
            "erst wieder nach einem Abgleich: bitte mit dem Netz der Stadtverwaltung "
            "verbinden; der Abgleich beginnt von selbst.",
            f"offline lease expired: {state.days_away} days without the central service "
            f"(allowed {cfg.offline_lease_days})")


def lease_warning(cfg: Config, last_sync_at: str | None,
                  now: datetime | str | None = None) -> str | None:
    """The German warning in the last days of the lease (None outside them)."""
    state = lease(cfg, last_sync_at, now)
    if state is None or not state.warn:
        return None
    days = "1 Tag" if state.days_left == 1 else f"{state.days_left} Tage"
    return (f"Seit {state.days_away} Tagen kein Abgleich mit der Zentrale: noch {days}, dann "
            "öffnet das Melderegister erst wieder nach einem Abgleich. Bitte bald mit dem Netz "
            "der Stadtverwaltung verbinden.")
