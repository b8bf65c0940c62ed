"""The sync in the background: `SyncEngine.sync_once()` on a schedule, never on the UI thread.

Two parts:

* `SyncWorker` – a thread of its own with its own `Store` (opened in that thread, as the DB
  worker opens its own: an SQLCipher connection belongs to the thread that opened it) and its
  own `CentralClient` (`sync.central_connection.connect`). It runs one sync per request and
  reports a `SyncOutcome`. A plain daemon thread, not a QThread: a sync may wait minutes for a slow
  central service (the client's read timeout), and closing the window must not wait for that.
  A sync cut off at exit is safe by design: each step is one local transaction and the next
  start resumes where it stopped.
* `SyncController` – on the UI thread: *when* to sync and what the status bar says
  (`ui.status.SyncView`). The regular interval (`cfg.sync_interval`) while the central
  service answers; `sync.schedule.Backoff` (exponential, with jitter) while it cannot be
  reached; at once (with a little jitter) when the network returns (Qt's QNetworkInformation
  where QtNetwork and a backend are there; the packaged app leaves QtNetwork out, so there
  it knocks at the central service's port from the sync thread instead); a moment after each
  completed counter service or Klärfall decision (debounced, so a burst makes one sync).
  Never two syncs at once: a request during a sync makes one more sync after it. After a
  refusal (wrong version, unknown device, untrusted certificate: a retry cannot help) nothing
  is retried; the status bar says why.

Without `central_url` there is no worker at all: the status bar says offline-only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from PySide6.QtCore import QObject, QTimer, Signal

from clerk_app.clerks import system_actor
from clerk_app.config import Config
from clerk_app.errors import ClerkError, ConfigError, KeyStoreError
from clerk_app.offline_lease import lease_warning
from clerk_app.withdrawal import when_withdrawn
from sync.central_errors import CentralRefused, CentralUnavailable, DeviceRevoked
from sync.schedule import Backoff
from sync.state import SyncReport, SyncStatus, status
from ui.db_worker import UNEXPECTED_DE, DbWorker
from ui.i18n import message_text, tr
from ui.operation import Op
from ui.status import SyncView

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkInformation

    from clerk_app.store.db import Store
    from sync.client import CentralClient

log = logging.getLogger(__name__)

OK, UNAVAILABLE, REFUSED, WITHDRAWN = "ok", "unavailable", "refused", "withdrawn"
SYNC, PROBE, STOP = "sync", "probe", "stop"   # what the sync thread is asked to do
NUDGE_MS = 2_000          # "sync soon": after the last of a burst of services
RETRY_S = 5.0             # the first retry after a failure; then doubling, with jitter
PROBE_MS = 10_000         # without reachability reports: how often to knock while offline
PROBE_TIMEOUT_S = 3.0     # a knock that gets no answer in this time: still offline
MIN_INTERVAL_S = 5        # a mistyped sync_interval must not hammer the central service
JOIN_S = 5.0              # how long closing the window waits for a sync in flight
# Failures a retry cannot mend: the central service said no, or this workstation lacks its
# configuration or device token. IT has to act; the clerk is told.
NOT_RETRIED = (CentralRefused, ConfigError, KeyStoreError)


@dataclass(frozen=True)
class SyncOutcome:
    """One sync's end, for the controller: OK, UNAVAILABLE (retry later), REFUSED or
    WITHDRAWN (the centre withdrew this workstation: its register key and register are
    destroyed already)."""

    kind: str
    status: SyncStatus | None = None   # the local side afterwards (None: register not open)
    report: SyncReport | None = None
    message_de: str = ""
    message_en: str = ""
    update: str = ""   # the version of a due update the central service announced, signed


class SyncWorker(QObject):
    """The sync thread (see the module docstring). Create and call on the UI thread;
    `finished` arrives there. Parentless on purpose: it outlives the window while a sync
    that was cut off at closing still runs (it then reports nothing)."""

    finished = Signal(object)   # a SyncOutcome
    probed = Signal(bool)       # the central service's port answered (True) or not

    def __init__(self, cfg: Config, clerk_session: str | None = None) -> None:
        super().__init__()
        self._cfg = cfg
        self._clerk_session = clerk_session
        self._requests: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="clerk-sync", daemon=True)
        # Used only in the sync thread:
        self._store: Store | None = None
        self._client: CentralClient | None = None

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        """Run one sync (the controller never asks while one runs)."""
        self._requests.put(SYNC)

    def probe(self) -> None:
        """Knock once at the central service's port (answer: `probed`)."""
        self._requests.put(PROBE)

    def shutdown(self, timeout_s: float = JOIN_S) -> None:
        """Stop after the sync in flight; wait for it up to `timeout_s`."""
        self._closing.set()
        self._requests.put(STOP)
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.info("a sync is still running at closing; the next start resumes it")

    # In the sync thread

    def _loop(self) -> None:
        try:
            while (job := self._requests.get()) != STOP and not self._closing.is_set():
                if job == SYNC:
                    outcome = self._sync()
                    if not self._closing.is_set():
                        self.finished.emit(outcome)
                else:
                    reachable = self._knock()
                    if not self._closing.is_set():
                        self.probed.emit(reachable)
        finally:
            self._close()

    def _knock(self) -> bool:
        """A TCP connection to the central service, closed at once (no data, no TLS)."""
        parsed = urlparse(self._cfg.central_url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname or "", port), PROBE_TIMEOUT_S):
                return True
        except OSError:
            return False

    def _sync(self) -> SyncOutcome:
        """One sync; every failure becomes an outcome (logged in English, said in German)."""
        try:
            # Imported here, in the sync thread: the protocol and HTTP libraries are not
            # needed to show the window.
            from sync.central_connection import connect
            from sync.engine import SyncEngine
            from sync.office_key_exchange import receive_office_keys

            store = self._open_store()
            if self._client is None:
                self._client = connect(self._cfg, self._clerk_session)
            report = SyncEngine.for_workstation(self._cfg, store, self._client).sync_once()
            receive_office_keys(self._cfg, self._client, store)
            from sync.update_notice import check_at_sync

            update = check_at_sync(self._cfg, store, self._client)
            return SyncOutcome(OK, status(store), report,
                               update=update.version if update else "")
        except CentralUnavailable as exc:
            log.warning("sync failed, will retry: %s", exc.message_en)
            return self._failed(UNAVAILABLE, exc.message_de, exc.message_en)
        except DeviceRevoked as exc:
            return self._withdraw(exc)
        except NOT_RETRIED as exc:
            log.error("sync refused, not retried: %s", exc.message_en)
            self._drop_client()   # a later start reads configuration and token anew
            return self._failed(REFUSED, exc.message_de, exc.message_en)
        except ClerkError as exc:
            log.warning("sync failed, will retry: %s", exc.message_en)
            return self._failed(UNAVAILABLE, exc.message_de, exc.message_en)
        except Exception as exc:
            log.exception("unexpected error during sync")
            return self._failed(UNAVAILABLE, UNEXPECTED_DE,
                                f"unexpected error during sync: {type(exc).__name__}")

    def _withdraw(self, exc: DeviceRevoked) -> SyncOutcome:
        """Close this thread's register, then destroy it (key first); the window closes its
        own connection and deletes what could not be deleted while it was open."""
        from clerk_app.withdrawal import WITHDRAWN_DE
        from sync.central_connection import withdraw_on_revocation

        log.warning("the central service withdrew this workstation: %s", exc.message_en)
        self._close()
        try:
            withdraw_on_revocation(self._cfg)
        except Exception:
            log.exception("error while destroying the withdrawn workstation's data")
        return SyncOutcome(WITHDRAWN, None, None, WITHDRAWN_DE, exc.message_en)

    def _open_store(self) -> Store:
        if self._store is None:
            from clerk_app.store.opening import open_register

            self._store = open_register(self._cfg, system_actor("sync", self._cfg.workstation),
                                        for_sync=True)
        return self._store

    def _failed(self, kind: str, message_de: str, message_en: str) -> SyncOutcome:
        local: SyncStatus | None = None
        if self._store is not None:
            try:
                local = status(self._store)
            except Exception:
                log.exception("cannot read the sync status")
        return SyncOutcome(kind, local, None, message_de, message_en)

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _close(self) -> None:
        self._drop_client()
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                log.exception("error while closing the sync worker's register")
            self._store = None


def network_information() -> QNetworkInformation | None:
    """The OS's reachability reports, where QtNetwork and a backend for them are there
    (else None: the packaged app leaves QtNetwork out, see build_spec)."""
    try:
        from PySide6.QtNetwork import QNetworkInformation
    except ImportError:
        return None
    if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability):
        return None
    return QNetworkInformation.instance()


class SyncController(QObject):
    """When to sync, and what the status bar says (see the module docstring)."""

    changed = Signal(object)   # a SyncView for the status bar
    synced = Signal()          # a sync ended, successfully or not (the Klärfälle list reloads)
    persons_changed = Signal(object)   # a frozenset of person ids the sync wrote here
    withdrawn = Signal()       # the centre withdrew this workstation (its data is destroyed)
    _withdrawn_elsewhere = Signal()   # another contact (queue feed, login) learnt it first

    def __init__(self, cfg: Config, db: DbWorker, parent: QObject | None = None, *,
                 clerk_session: str | None = None) -> None:
        super().__init__(parent)
        self._cfg = cfg
        self._clerk_session = clerk_session
        self._db = db
        self._backoff = Backoff(interval=float(max(cfg.sync_interval, MIN_INTERVAL_S)),
                                first_retry=RETRY_S)
        self.view = SyncView(configured=bool(cfg.central_url))
        self.last_outcome: SyncOutcome | None = None
        self._worker: SyncWorker | None = None
        self._running = False
        self._again = False
        self._network_down = False
        self._timer = self._single_shot(0)     # the next scheduled sync
        self._nudge = self._single_shot(NUDGE_MS)   # "sync soon", debounced
        self._probe = QTimer(self)   # knocking while offline, where the OS does not report
        self._probe.setInterval(PROBE_MS)
        self._probe.timeout.connect(self._probe_tick)
        self._probing = False
        self._knock_failed = False
        self._reports_network = False
        self._withdrawn_elsewhere.connect(self._on_withdrawn_elsewhere)
        self._unsubscribe: Callable[[], None] | None = \
            when_withdrawn(self._tell_withdrawn) if self.view.configured else None

    def _tell_withdrawn(self) -> None:
        """From whichever thread destroyed the register (`clerk_app.withdrawal.withdraw`):
        queued over to the UI thread."""
        with contextlib.suppress(RuntimeError):   # this controller may be gone already
            self._withdrawn_elsewhere.emit()

    def _on_withdrawn_elsewhere(self) -> None:
        if self._unsubscribe is None:
            return   # shut down already (its own sync may have said so first)
        self.shutdown()
        self.withdrawn.emit()

    def _single_shot(self, interval_ms: int) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        timer.timeout.connect(self._run)
        return timer

    @property
    def running(self) -> bool:
        """A sync is in flight."""
        return self._running

    @property
    def scheduled_in_ms(self) -> int | None:
        """Milliseconds until the next scheduled sync (None: none scheduled)."""
        return self._timer.remainingTime() if self._timer.isActive() else None

    # For the window

    def start(self) -> None:
        """Show the local state; with a central service, start the worker and sync at once."""
        self.refresh_status()
        if not self.view.configured or self._worker is not None:
            return
        self._worker = SyncWorker(self._cfg, self._clerk_session)
        self._worker.finished.connect(self._on_finished)
        self._worker.probed.connect(self._on_probed)
        self._worker.start()
        self._watch_network()
        self._run()

    def local_work_done(self) -> None:
        """A counter service or a Klärfall decision was stored: count again, sync soon."""
        self.refresh_status()
        self.sync_soon()

    def sync_soon(self) -> None:
        """Sync in a moment, while the central service answers. While it cannot be reached
        the backoff (and the network's return) decide, so a busy counter does not call an
        unreachable service after every citizen; after a refusal nothing is retried."""
        if self._worker is None or self.view.refused:
            return
        if self._running:
            self._again = True
        elif self.view.online:
            self._nudge.start()

    def refresh_status(self) -> None:
        """Read pending commands, Klärfälle and the last sync from the register (DB worker)."""
        Op(self, status, self._update, what="sync status").run(self._db)

    def shutdown(self) -> None:
        """Stop scheduling; let the sync in flight end (see SyncWorker.shutdown)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()
        self._nudge.stop()
        self._probe.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.finished.disconnect(self._on_finished)
            worker.probed.disconnect(self._on_probed)
            worker.shutdown()

    # Scheduling

    def _run(self) -> None:
        if self._worker is None:
            return
        if self._running:
            self._again = True
            return
        self._timer.stop()
        self._nudge.stop()
        self._running = True
        self._worker.request()

    def _on_finished(self, outcome: SyncOutcome) -> None:
        self._running = False
        self.last_outcome = outcome
        if outcome.kind == WITHDRAWN:
            self.shutdown()   # nothing more to sync, ever
            self.withdrawn.emit()
            return
        again, self._again = self._again, False
        message = message_text(outcome.message_de, outcome.message_en) if \
            outcome.message_de else ""
        delay: float | None
        if outcome.kind == OK:
            delay = self._backoff.succeeded()
            self._network_down = False
            self._update(outcome.status, online=True, problem="", refused="",
                         update=outcome.update)
        elif outcome.kind == UNAVAILABLE:
            delay = self._backoff.failed()
            again = False   # a nudge does not overtake the backoff
            self._update(outcome.status, online=False, problem=message)
        else:
            delay = None
            again = False
            self._update(outcome.status, online=False, problem="", refused=message)
        if outcome.kind == UNAVAILABLE and not self._reports_network:
            if not self._probe.isActive():
                self._knock_failed = False
                self._probe.start()
        else:
            self._probe.stop()
        self.synced.emit()
        if outcome.report is not None and outcome.report.changed:
            self.persons_changed.emit(frozenset(outcome.report.changed))
        if again:
            self._run()
        elif delay is not None:
            self._timer.start(round(delay * 1000))

    def _network_returned(self) -> None:
        """The network (or, probed, the central service's port) is back: sync now, with a
        little jitter so that an office's workstations do not all call at once."""
        if self._worker is None or self.view.refused or self.view.online or self._running:
            return
        log.info("network returned; syncing now")
        self._timer.start(round(self._backoff.network_returned() * 1000))

    def _watch_network(self) -> None:
        info = network_information()
        if info is not None:
            info.reachabilityChanged.connect(self._on_reachability)
            self._reports_network = True

    def _probe_tick(self) -> None:
        if self._worker is not None and not self._running and not self._probing:
            self._probing = True
            self._worker.probe()

    def _on_probed(self, reachable: bool) -> None:
        """Only a port that did not answer and now does counts as the network's return: one
        that answers while the service fails (e.g. maintenance) is left to the backoff."""
        self._probing = False
        if not reachable:
            self._knock_failed = True
            return
        self._probe.stop()
        if self._knock_failed:
            self._network_returned()

    def _on_reachability(self, reachability: QNetworkInformation.Reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        Reachability = QNetworkInformation.Reachability
        if reachability == Reachability.Disconnected:
            self._network_down = True
            if self.view.online:
                self._update(None, online=False, problem=tr("Keine Netzwerkverbindung."))
            return
        if reachability != Reachability.Unknown and self._network_down:
            self._network_down = False
            self._network_returned()

    # What the status bar says

    def _update(self, local: SyncStatus | None, **changes: object) -> None:
        """The new view: the register's counts (if read) and the connection's state."""
        if local is not None:
            changes.update(pending=local.pending, conflicts=local.open_conflicts,
                           last_success=local.last_success, warning=local.warning or "",
                           failure=local.problem or "",
                           lease=lease_warning(self._cfg, local.last_success,
                                         local.seen) or "")
        self.view = dataclasses.replace(self.view, **changes)  # type: ignore[arg-type]
        self.changed.emit(self.view)

