"""What the workstation's sync keeps locally and reports: its positions in `settings`, the
local status the status bar and the doctor show, one sync's report.

Kept apart from the engine so that the window can show the status at start-up without loading
the protocol and HTTP libraries (pydantic, requests), which only the sync thread needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clerk_app.offline_lease import LAST_SYNC_KEY, time_seen
from clerk_app.store.db import Store

CURSOR = "sync.cursor"
BOOTSTRAP = "sync.bootstrap"
RESYNC = "sync.resync"
LAST_SUCCESS = LAST_SYNC_KEY  # also the offline lease's clock
LAST_WARNING = "sync.warning"
LAST_PROBLEM = "sync.problem"  # what the last sync could not do here (German), or absent
LAST_CHECK = "sync.last_check"
ACCESS_LOG_SENT = "sync.access_log_sent"  # the last local audit entry the centre holds
CHECKSUM_WARNING = ("Der Datenabgleich mit der Zentrale hat Abweichungen gefunden; das "
                    "Melderegister wird vollständig neu abgeglichen. Nicht übertragene Arbeit "
                    "bleibt erhalten.")
# A failure that is not the network: the rest of the sync went on (see SyncEngine.sync_once).
RECORD_PROBLEM = ("Ein Datensatz der Zentrale konnte auf diesem Arbeitsplatz nicht "
                  "gespeichert werden; er wird bei jedem Abgleich erneut versucht. Bitte "
                  "die IT verständigen.")
RECORDS_PROBLEM = ("{n} Datensätze der Zentrale konnten auf diesem Arbeitsplatz nicht "
                   "gespeichert werden; sie werden bei jedem Abgleich erneut versucht. Bitte "
                   "die IT verständigen.")
STAGE_PROBLEM = ("Ein Teil des Abgleichs ist fehlgeschlagen ({stage}); der Rest wurde "
                 "abgeglichen. Bitte die IT verständigen.")


@dataclass
class SyncReport:
    """What one sync did: for the status bar, the log and `clerk-app sync`."""

    pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    deferred: int = 0
    waiting: int = 0
    archived: int = 0
    logged: int = 0
    pulled: int = 0
    held: int = 0
    bootstrapped: int = 0
    bookings: int = 0  # appointments of this workstation's location taken or changed here
    checksum_ok: bool | None = None
    changed: set[str] = field(default_factory=set)  # persons written here from the centre
    failed: set[str] = field(default_factory=set)  # central records not writable here (kind/id)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # German: stages or records that failed

    def problem_de(self) -> str | None:
        """What failed here, in one German text (None: nothing did)."""
        said = list(dict.fromkeys(self.problems))
        if self.failed:
            said.insert(0, RECORD_PROBLEM if len(self.failed) == 1 else
                        RECORDS_PROBLEM.format(n=len(self.failed)))
        return " ".join(said) or None

    def summary_en(self) -> str:
        return (f"pushed {self.pushed} (applied {self.applied}, conflicts {self.conflicts}, "
                f"rejected {self.rejected}, deferred {self.deferred}, waiting {self.waiting}), "
                f"archived {self.archived}, access log {self.logged}, "
                f"pulled {self.pulled} (held {self.held}), "
                f"bootstrap {self.bootstrapped}, checksum "
                f"{'-' if self.checksum_ok is None else 'ok' if self.checksum_ok else 'MISMATCH'}"
                f", failed records {len(self.failed)}, failed stages {len(self.problems)}")


@dataclass(frozen=True)
class SyncStatus:
    """The local side's state, read cheaply (status bar, doctor)."""

    pending: int
    open_conflicts: int
    last_success: str | None
    warning: str | None
    cursor: int | None
    problem: str | None = None  # what the last sync could not do here (German)
    seen: str | None = None  # the offline lease's now: the latest time seen (ISO)


def get_setting(store: Store, key: str) -> str | None:
    row = store.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(store: Store, key: str, value: str | None) -> None:
    if value is None:
        store.conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        store.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def status(store: Store) -> SyncStatus:
    pending = store.conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'"
                                 ).fetchone()[0]
    open_conflicts = store.conn.execute("SELECT count(*) FROM conflicts WHERE state != 'resolved'"
                                        ).fetchone()[0]
    cursor = get_setting(store, CURSOR)
    return SyncStatus(int(pending), int(open_conflicts), get_setting(store, LAST_SUCCESS),
                      get_setting(store, LAST_WARNING), int(cursor) if cursor else None,
                      get_setting(store, LAST_PROBLEM),
                      time_seen(store).isoformat(timespec="seconds"))
