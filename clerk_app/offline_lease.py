"""The offline lease: a workstation that has not reached the central service for
`offline_lease_days` stops opening the register until it syncs.

A laptop that stays away (forgotten in a car, stolen and kept offline so that its withdrawal
never reaches it) must not serve citizens from a register that grows ever older and that IT
can no longer withdraw. The clock starts at the last complete sync (kept in the register by the
sync, `LAST_SYNC_KEY`); three days before the end the status bar and `clerk-app doctor` warn.
The sync itself still opens the register: that is how the lease is renewed. Demo mode (made-up
data) and workstations without a central service are exempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.store.db import Store

LAST_SYNC_KEY = "sync.last_success"  # written by the sync (sync.state.LAST_SUCCESS)
WARN_DAYS = 3


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


def lease(cfg: Config, last_sync: str | None, now: datetime | None = None) -> Lease | None:
    """The lease, or None where none applies (demo, no central service, never synced: an
    empty register has nothing to serve from but its own new work)."""
    if cfg.is_demo or not cfg.central_url or not last_sync:
        return None
    try:
        since = datetime.fromisoformat(last_sync)
    except ValueError:
        return Lease(days_away=cfg.offline_lease_days, days_left=0)  # unreadable: sync first
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    away = max((now or datetime.now(UTC)) - since, timedelta(0))
    left = timedelta(days=cfg.offline_lease_days) - away
    return Lease(days_away=away.days,
                 days_left=0 if left <= timedelta(0) else math.ceil(left / timedelta(days=1)))


def last_sync(store: Store) -> str | None:
    row = store.conn.execute("SELECT value FROM settings WHERE key = ?",
                             (LAST_SYNC_KEY,)).fetchone()
    return None if row is None else str(row[0])


def check_lease(cfg: Config, store: Store, now: datetime | None = None) -> None:
    """Raise `LeaseExpired` (German) if the lease has run out."""
    state = lease(cfg, last_sync(store), now)
    if state is not None and state.expired:
        raise LeaseExpired(
            f"Dieser Arbeitsplatz war seit {state.days_away} Tagen nicht mit der Zentrale "
            f"verbunden (erlaubt sind {cfg.offline_lease_days}). Das Melderegister öffnet "
            "erst wieder nach einem Abgleich: bitte mit dem Netz der Stadtverwaltung "
            "verbinden; der Abgleich beginnt von selbst.",
            f"offline lease expired: {state.days_away} days without the central service "
            f"(allowed {cfg.offline_lease_days})")


def lease_warning(cfg: Config, last_sync_at: str | None,
                  now: datetime | None = None) -> str | None:
    """The German warning in the last days of the lease (None outside them)."""
    state = lease(cfg, last_sync_at, now)
    if state is None or not state.warn:
        return None
    days = "1 Tag" if state.days_left == 1 else f"{state.days_left} Tage"
    return (f"Seit {state.days_away} Tagen kein Abgleich mit der Zentrale: noch {days}, dann "
            "öffnet das Melderegister erst wieder nach einem Abgleich. Bitte bald mit dem Netz "
            "der Stadtverwaltung verbinden.")
