"""The workstation's sync engine: push the outbox, pull central changes, check, repeat.

One `sync_once` is: (bootstrap or full resync if needed, after draining the outbox), push
pending commands in order and in batches, upload archived documents, pull changes page by
page, release held changes, compare counts and checksums with the central register.

Rules (see docs/sync-protocol.md):

* A person with commands not yet accepted centrally ("pinned": pending, or in an open
  Klärfall) is never overwritten by a pull: the central change is held in `sync_held` and
  written once the person is free (newer changes replace held ones).
* A command whose persons are in an open Klärfall waits; the others go on.
* Each pulled page, and each push answer, is one local transaction together with the cursor:
  a sync cut anywhere resumes without loss or duplicates (the central service answers a
  repeated command as 'duplicate').
* Unsynced work is never discarded: a full resync only replaces persons that are not pinned.
* No single record or stage blocks the rest: a central record that cannot be written here is
  rolled back to its savepoint and kept in `sync_held` (tried again at each release), a stage
  that fails for a reason other than the network is logged and the next stage runs; both are
  reported in German (`SyncReport.problems`, the status bar, `clerk-app sync` exit code 3).
  Only the network (`CentralUnavailable`) or a refusal (`CentralRefused`) ends a sync.
* Central records are written with foreign keys off (`_central_transaction`), wherever they
  come from (pull, bootstrap, a held version released after a push answer): the centre is the
  authority on references, and a record may arrive before the one it points to.

Runs in a worker thread with its own `Store`; nothing here touches Qt.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from clerk_app import audit, clerks
from clerk_app.config import Config
from clerk_app.errors import ValidationError
from clerk_app.ids import uuid7
from clerk_app.offline_lease import note_time
from clerk_app.queue.configuration import (
    QueueConfig,
    load_queue_config,
    packaged_queue_config,
)
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.search_index import index_new_persons
from clerk_app.store.db import Store, background_job, let_writers_in, writers_waiting
from clerk_app.store.outbox import append_outbox
from sync import aggregates, inbox_sync
from sync.aggregates import HOUSEHOLD, PERSON
from sync.central_errors import CentralRefused, CentralUnavailable, DeviceRevoked, TooLarge
from sync.client import CentralClient
from sync.protocol import (
    ARCHIVE_COMMAND,
    RESOLUTION_COMMAND,
    AggregateRecord,
    Command,
    CommandResult,
)
from sync.queue_client import QueueClient, load_bookings
from sync.state import (
    ACCESS_LOG_SENT,
    BOOTSTRAP,
    CHECKSUM_WARNING,
    CURSOR,
    LAST_CHECK,
    LAST_PROBLEM,
    LAST_SUCCESS,
    LAST_WARNING,
    RESYNC,
    STAGE_PROBLEM,
    SyncReport,
    get_setting,
    set_setting,
)

log = logging.getLogger(__name__)

ACCESS_LOG_PAGE = 1000
# A quiet sync (nothing pushed or pulled) compares checksums at most this often: reading every
# aggregate of a large register costs seconds of a worker's time.
CHECK_EVERY = 3600.0
BATCH = 100
PAGE = 1000
BOOTSTRAP_PAGE = 2000
# A bootstrap writes a page in steps of this many aggregates (some 0.05 s each) and commits
# after the step in which a counter service of this process asks for the register, or after
# the page: a counter waits at most for one step and a commit. Transactions of a step each
# wrote the same B-tree pages to the WAL again and again (twice the time of the whole write).
WRITE_CHUNK = 250
# ...and after this long at the latest (the WAL is copied into the file after each page).
MOST_HOLD_S = 1.0
INDEX_STEP = 1000  # persons indexed in a step at the bootstrap's end
Step = TypeVar("Step")
DISCARDED = "Klärfall: zentrale Fassung übernommen, die Änderung hier wurde verworfen."
TOO_LARGE = ("Der Vorgang ist zu groß für die Zentrale und kann nicht übertragen werden; bitte "
             "die IT verständigen (Grenze der Zentrale: central_max_body_kb bzw. "
             "central_max_archive_kb).")
UNSENDABLE = ("Der Vorgang ist auf diesem Arbeitsplatz fehlerhaft gespeichert und kann nicht an "
              "die Zentrale übertragen werden; bitte die zentrale Fassung übernehmen und den "
              "Vorgang neu erfassen.")
# Klärfälle this workstation found itself: the centre never saw their command, so it cannot
# decide them either; the clerk can only discard the command here (`_discard_unsent`).
NEVER_SENT = (TOO_LARGE, UNSENDABLE)
NEVER_SENT_LOCAL_DE = ("Dieser Vorgang hat die Zentrale nie erreicht; er kann nur verworfen "
                       "werden (zentrale Fassung übernehmen).")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _persons_of(result_json: str) -> set[str]:
    try:
        return set(json.loads(result_json).get("changed_persons") or ())
    except (ValueError, AttributeError):
        return set()


def _persons_in(store: Store, sql: str) -> set[str]:
    """The persons changed by the outbox commands `sql` selects (their `result` column)."""
    persons: set[str] = set()
    for (result,) in store.conn.execute(sql).fetchall():
        persons |= _persons_of(result)
    return persons


def pinned_persons(store: Store) -> set[str]:
    """Persons with local work the central service has not accepted yet."""
    return _persons_in(store, "SELECT result FROM outbox WHERE status = 'pending' OR "
                              "command_id IN (SELECT command_id FROM conflicts "
                              "WHERE state != 'resolved')")


def _blocked_persons(store: Store) -> set[str]:
    """Persons in an undecided Klärfall: their further commands wait."""
    return _persons_in(store, "SELECT o.result FROM conflicts c JOIN outbox o "
                              "ON o.command_id = c.command_id WHERE c.state != 'resolved'")


def outbox_command(row: Sequence[Any]) -> Command:
    command_id, ctype, payload, base_versions, device, clerk, created_at, result = row
    return Command(command_id=command_id, type=ctype, payload=json.loads(payload),
                   base_versions=json.loads(base_versions), device=device, clerk=clerk,
                   created_at=created_at, persons=sorted(_persons_of(result)))


OUTBOX_COLUMNS = "command_id, type, payload, base_versions, device, clerk, created_at, result"


class SyncEngine:
    @classmethod
    def for_workstation(cls, cfg: Config, store: Store, client: CentralClient) -> SyncEngine:
        """The engine as this workstation's configuration wants it: with a queue counter set
        (`queue_counter`), each sync also loads the bookings of that counter's location, so
        a mobile office has its day's appointments before it leaves."""
        if not cfg.queue_counter:
            return cls(store, client)
        config = load_queue_config(cfg.queue_file or None)
        return cls(store, client, queue_location=config.counter(cfg.queue_counter).location,
                   queue_config=config)

    def __init__(self, store: Store, client: CentralClient, *, batch: int = BATCH,
                 page: int = PAGE, bootstrap_page: int = BOOTSTRAP_PAGE,
                 check_every: float = CHECK_EVERY, queue_location: str | None = None,
                 queue_config: QueueConfig | None = None) -> None:
        """`queue_location`: the waiting room whose bookings (today's and tomorrow's) each
        sync takes into the local queue (a mobile office's stop: its day's appointments are
        here before it leaves)."""
        self.store = store
        self.client = client
        self.queue_location = queue_location
        self.queue_config = queue_config
        self.batch = batch
        self.page = page
        self.bootstrap_page = bootstrap_page
        self.check_every = check_every

    # --- the whole round -----------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """One complete sync. Raises `CentralUnavailable` / `CentralRefused` when the central
        service cannot be used; everything done before that is kept. Any other failure of a
        stage is reported in `report.problems` and the next stage runs."""
        report = SyncReport()
        self.client.hello()
        needs_bootstrap = get_setting(self.store, CURSOR) is None or \
            get_setting(self.store, RESYNC) is not None or \
            get_setting(self.store, BOOTSTRAP) is not None
        # Drain first: nothing unsynced is ever at stake.
        self._stage(report, "Übertragung der Vorgänge", "push", self.push)
        self._stage(report, "Zugriffsprotokoll", "access log", self.upload_access_log)
        if not needs_bootstrap or self._stage(report, "Erstabgleich", "bootstrap",
                                              self.bootstrap):
            self._stage(report, "Abruf der Änderungen", "pull", self.pull)
        if self.queue_location:
            self._stage(report, "Termine", "bookings", self.load_bookings)
        self._stage(report, "Posteingang", "inbox", self.exchange_inbox)
        changed = bool(report.pushed or report.pulled or report.bootstrapped)
        last_check = get_setting(self.store, LAST_CHECK)
        if changed or last_check is None or \
                time.time() - float(last_check) >= self.check_every:
            self._stage(report, "Prüfsummenvergleich", "check", self.check)
        with self.store.transaction():
            set_setting(self.store, LAST_SUCCESS,
                        note_time(self.store).isoformat(timespec="seconds"))
            set_setting(self.store, LAST_PROBLEM, report.problem_de())
            if report.checksum_ok:
                set_setting(self.store, LAST_WARNING, None)
        log.info("sync: %s", report.summary_en())
        return report

    @staticmethod
    def _stage(report: SyncReport, name_de: str, name_en: str,
               step: Callable[[SyncReport], None]) -> bool:
        """Run one stage; True if it completed. The network and a refusal end the sync; any
        other failure is logged and reported, and the sync goes on with the next stage."""
        try:
            step(report)
        except (CentralUnavailable, CentralRefused):
            raise
        except Exception:
            log.exception("sync stage %s failed; the other stages go on", name_en)
            report.problems.append(STAGE_PROBLEM.format(stage=name_de))
            return False
        return True

    def load_bookings(self, report: SyncReport) -> None:
        """Today's and tomorrow's bookings of `queue_location` into the local queue."""
        assert self.queue_location
        queue = LocalQueue(self.store, self.queue_config or packaged_queue_config())
        client = QueueClient(self.client)
        today = queue.today()
        for day in (today, today + timedelta(days=1)):
            report.bookings += load_bookings(queue, client, self.queue_location, day)

    def exchange_inbox(self, report: SyncReport) -> None:
        """Online applications: queued claims and outcomes out, the items in. A central
        service without the intake (it answers no /inbox) is no reason to stop the sync."""
        try:
            inbox_sync.exchange(self.store, self.client)
        except DeviceRevoked:
            raise
        except CentralRefused:
            log.info("the central service has no inbox; skipped")

    # --- push ----------------------------------------------------------------------------

    def push(self, report: SyncReport) -> None:
        last_seq = 0
        size = self.batch   # halved while the centre finds a batch too large (413)
        while True:
            start = last_seq
            batch, archives, last_seq = self._next_batch(last_seq, report, size)
            if not batch and not archives:
                report.waiting = int(self.store.conn.execute(
                    "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
                return
            settled: list[bool] = []
            if batch:
                try:
                    answer = self.client.push(batch)
                except TooLarge:
                    if len(batch) == 1:
                        self._set_aside(batch[0].command_id, TOO_LARGE, report)
                        size = self.batch
                    else:
                        size = len(batch) // 2
                    last_seq = start   # the same commands again, fewer at a time
                    continue
                report.pushed += len(batch)
                with _central_transaction(self.store):
                    settled = [self._record_isolated(result, report)
                               for result in answer.results]
                    self._release_held(report)
            # After the batch: a document's file is filed once its issuing command is.
            for command in archives:
                self._upload(command, report)
            if any(settled):
                last_seq = 0  # commands that waited for a settled Klärfall may go now

    def upload_access_log(self, report: SyncReport) -> None:
        """Send the audit entries written here since the last upload (who looked at whom is
        answered centrally, for every workstation), in pages, each acknowledged before the
        position moves on (a repeated page is stored once)."""
        while True:
            sent = int(get_setting(self.store, ACCESS_LOG_SENT) or 0)
            entries = self.store.query("SELECT * FROM audit_log WHERE id > ? ORDER BY id "
                                       "LIMIT ?", (sent, ACCESS_LOG_PAGE))
            if not entries:
                return
            receipt = self.client.access_log(entries)
            with self.store.transaction():
                set_setting(self.store, ACCESS_LOG_SENT, str(receipt.last_id))
            report.logged += len(entries)

    def _next_batch(self, after: int, report: SyncReport,
                    size: int) -> tuple[list[Command], list[Command], int]:
        """The next commands to send, in outbox order, skipping those that wait for a
        Klärfall (and everything after them on the same persons). A row the protocol refuses
        to carry (written damaged) becomes a Klärfall here: sent, it would have the whole
        batch refused at every sync."""
        blocked = _blocked_persons(self.store)
        # Read lazily, up to a full batch: fetching every pending row for every batch made a
        # long offline day's push quadratic in its length.
        rows = self.store.conn.execute(
            f"SELECT seq, {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' AND seq > ? "
            "ORDER BY seq", (after,))
        batch: list[Command] = []
        archives: list[Command] = []
        unsendable: list[str] = []
        try:
            for row in rows:
                after = int(row[0])
                try:
                    command = outbox_command(row[1:])
                except ValueError:  # pydantic's ValidationError, or a damaged JSON column
                    unsendable.append(str(row[1]))
                    blocked |= _persons_of(row[-1])
                    continue
                if command.type == ARCHIVE_COMMAND:
                    archives.append(command)
                elif command.type != RESOLUTION_COMMAND and blocked & set(command.persons):
                    blocked |= set(command.persons)
                else:
                    batch.append(command)
                if len(batch) >= size or len(archives) >= self.batch:
                    break
        finally:
            rows.close()  # ends the read at once, before the batch's write transaction
        for command_id in unsendable:
            self._set_aside(command_id, UNSENDABLE, report)
        return batch, archives, after

    def _upload(self, command: Command, report: SyncReport) -> None:
        """One archived document's file; a refusal becomes a Klärfall, never a blocked queue."""
        try:
            receipt = self.client.archive(command)
        except TooLarge:
            self._set_aside(command.command_id, TOO_LARGE, report)
            return
        with self.store.transaction():
            if receipt.status in ("applied", "duplicate"):
                # The centre holds the file now and `document_files` keeps it here: the
                # outbox's base64 copy (a third larger than the PDF) would only grow the register.
                self.store.conn.execute(
                    "UPDATE outbox SET status = 'applied', attempts = attempts + 1, "
                    "last_error = NULL, payload = json_remove(payload, '$.pdf_base64') "
                    "WHERE command_id = ?", (receipt.command_id,))
                report.archived += 1
            else:
                self._record(CommandResult(command_id=receipt.command_id,
                                           status=receipt.status, reason=receipt.reason), report)

    def _set_aside(self, command_id: str, reason: str, report: SyncReport) -> None:
        """A command the centre will never take, however often sent: a Klärfall (`reason`,
        German), and the outbox goes on without it."""
        log.error("command %s cannot be sent to the central service; set aside", command_id)
        with self.store.transaction():
            self._record(CommandResult(command_id=command_id, status="rejected",
                                       final_status="rejected", reason=reason), report)

    def _record_isolated(self, result: CommandResult, report: SyncReport) -> bool:
        """`_record`, alone in a savepoint: an answer that cannot be stored leaves its command
        pending (sent again, answered 'duplicate') and the batch's other answers stored."""
        try:
            with _savepoint(self.store):
                return self._record(result, report)
        except Exception:
            log.exception("the answer to command %s could not be stored; sent again later",
                          result.command_id)
            report.problems.append(STAGE_PROBLEM.format(stage="Antwort zu einem Vorgang"))
            return False

    def _record(self, result: CommandResult, report: SyncReport) -> bool:
        """Store one command's answer; True if it settled a Klärfall."""
        conn = self.store.conn
        final = result.final_status or result.status
        if result.status == "deferred":
            report.deferred += 1
            conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                         "WHERE command_id = ?", (result.reason, result.command_id))
            return False
        if result.status == "conflict":
            report.conflicts += 1
            if not self._reopen(result):
                self._open_conflict(result, "conflict")
            return False
        if final == "rejected":
            report.rejected += 1
            self._open_conflict(result, "rejected")
            return False
        report.applied += 1
        local_status, error = ("rejected", DISCARDED) if final == "discarded" else ("applied",
                                                                                  None)
        conn.execute("UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? "
                     "WHERE command_id = ?", (local_status, error, result.command_id))
        target = conn.execute("SELECT command_id FROM conflicts WHERE resolution_command_id = ?",
                              (result.command_id,)).fetchone()
        if target is None:
            return False
        self._settle_conflict(target[0], str(result.result.get("target_status")))
        return True

    def _open_conflict(self, result: CommandResult, kind: str) -> None:
        conn = self.store.conn
        conn.execute("UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ? "
                     "WHERE command_id = ?", (kind, result.reason, result.command_id))
        persons = sorted(_persons_of(conn.execute(
            "SELECT result FROM outbox WHERE command_id = ?",
            (result.command_id,)).fetchone()[0]))
        local = aggregates.read_persons(conn, persons)
        conn.execute(
            "INSERT INTO conflicts (command_id, detected_at, status, reason, server_records, "
            "local_records) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(command_id) DO UPDATE SET "
            "detected_at = excluded.detected_at, status = excluded.status, "
            "reason = excluded.reason, server_records = excluded.server_records, "
            "local_records = excluded.local_records, state = 'open', decision = NULL, "
            "resolution_command_id = NULL",
            (result.command_id, _now(), kind, result.reason or "",
             json.dumps([r.model_dump() for r in result.server_records], ensure_ascii=False),
             json.dumps(list(local.values()), ensure_ascii=False)))
        for record in result.server_records:
            self._hold(record)
        log.warning("command %s: %s centrally", result.command_id, kind)

    def _reopen(self, result: CommandResult) -> bool:
        """A decision the central service could not take (the central version moved on
        after the clerk saw it): the Klärfall opens again with the newer central version."""
        conn = self.store.conn
        target = conn.execute("SELECT command_id FROM conflicts WHERE resolution_command_id = ?",
                              (result.command_id,)).fetchone()
        if target is None:
            return False
        conn.execute("UPDATE outbox SET status = 'rejected', last_error = ? WHERE command_id = ?",
                     (result.reason, result.command_id))
        conn.execute("UPDATE conflicts SET state = 'open', decision = NULL, reason = ?, "
                     "server_records = ?, resolution_command_id = NULL WHERE command_id = ?",
                     (result.reason or "", json.dumps([r.model_dump() for r in
                                                       result.server_records],
                                                      ensure_ascii=False), target[0]))
        for record in result.server_records:
            self._hold(record)
        return True

    def _settle_conflict(self, command_id: str, target_status: str) -> None:
        conn = self.store.conn
        applied = target_status == "applied"
        conn.execute("UPDATE outbox SET status = ?, last_error = ? WHERE command_id = ?",
                     ("applied" if applied else "rejected", None if applied else DISCARDED,
                      command_id))
        conn.execute("UPDATE conflicts SET state = 'resolved' WHERE command_id = ?",
                     (command_id,))

    # --- pull ----------------------------------------------------------------------------

    def pull(self, report: SyncReport) -> None:
        while True:
            cursor = int(get_setting(self.store, CURSOR) or 0)
            page = self.client.changes(cursor, self.page)
            with _central_transaction(self.store):
                pinned = pinned_persons(self.store)
                for change in page.changes:
                    if change.kind == PERSON and change.id in pinned:
                        self._hold(change)
                        report.held += 1
                    else:
                        self._apply(change, report)
                report.pulled += len(page.changes)
                set_setting(self.store, CURSOR, str(page.until))
                self._release_held(report)
            if not page.more:
                return

    def _apply(self, change: AggregateRecord, report: SyncReport) -> None:
        """Write one central record, alone in a savepoint. One that cannot be written here is
        rolled back, kept in `sync_held` (tried again at each release) and counted; the
        others go on."""
        try:
            with _savepoint(self.store):
                aggregates.apply_change(self.store, change.kind, change.id, change.data)
        except Exception as exc:
            log.error("central %s %s (seq %d) cannot be written here: %s; kept for later",
                      change.kind, change.id, change.seq, type(exc).__name__)
            self._hold(change)
            report.failed.add(f"{change.kind}/{change.id}")
            return
        self.store.conn.execute("DELETE FROM sync_held WHERE kind = ? AND id = ? AND seq <= ?",
                                (change.kind, change.id, change.seq))
        if change.kind == PERSON:
            report.changed.add(change.id)

    def _hold(self, change: AggregateRecord) -> None:
        self.store.conn.execute(
            "INSERT INTO sync_held (kind, id, seq, deleted, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, "
            "data = excluded.data WHERE excluded.seq > sync_held.seq",
            (change.kind, change.id, change.seq, int(change.data is None),
             json.dumps(change.data, ensure_ascii=False) if change.data is not None else None))

    def _release_held(self, report: SyncReport) -> None:
        """Write held central changes of persons that are free again (households first:
        persons point at them)."""
        held = self.store.conn.execute("SELECT kind, id, seq, data FROM sync_held "
                                       "ORDER BY kind = 'person', seq").fetchall()
        if not held:
            return
        pinned = pinned_persons(self.store)
        for kind, rid, seq, data in held:
            if rid not in pinned:
                self._apply(AggregateRecord(kind=kind, id=rid, seq=seq,
                                            data=json.loads(data) if data else None), report)

    # --- bootstrap and full resync ---------------------------------------------------------

    def bootstrap(self, report: SyncReport) -> None:
        """Copy the whole central register; see `_bootstrap` (a background job: a counter
        service on the workstation goes first, `clerk_app.store.db.background_job`)."""
        with background_job():
            self._bootstrap(report)

    def _bootstrap(self, report: SyncReport) -> None:
        """Copy the whole central register (resumable: the position is saved with each
        commit).

        Into an empty register rows are bulk-inserted page by page and the search index is
        built at the end, in alphabetical order (the copied persons are found once it is
        done); otherwise (a resync) each person is replaced, and persons the central register
        does not have are removed, except pinned ones. Every write goes in steps, in as few
        transactions as a counter service lets it (`_write_in_steps`): a counter service on
        this workstation never waits for more than a step (no rebuild of the whole index in
        one transaction, which held the write lock for seconds).
        """
        state = json.loads(get_setting(self.store, BOOTSTRAP) or "null")
        if state is None:
            with self.store.transaction():
                self.store.conn.execute("DELETE FROM sync_seen")
                # Fresh: nothing here but what the counter did before the first sync.
                pinned = pinned_persons(self.store)
                fresh = {pid for (pid,) in self.store.conn.execute(
                    "SELECT id FROM persons LIMIT ?", (len(pinned) + 1,))} <= pinned
                state = {"after_kind": "", "after_id": "", "hwm": None, "fresh": fresh}
                set_setting(self.store, BOOTSTRAP, json.dumps(state))
        # The next page comes over the network while this one is written (the service reads
        # and sends it meanwhile: a third of the bootstrap's time when it waited for it).
        fetcher = ThreadPoolExecutor(1, thread_name_prefix="bootstrap-fetch")
        try:
            coming = fetcher.submit(self.client.bootstrap, state["after_kind"],
                                    state["after_id"], state["hwm"], self.bootstrap_page)
            while True:
                page = coming.result()
                state["hwm"] = page.high_water_mark
                more = page.more and bool(page.items)
                if more:
                    coming = fetcher.submit(self.client.bootstrap, page.items[-1].kind,
                                            page.items[-1].id, page.high_water_mark,
                                            self.bootstrap_page)
                self._bootstrap_page(page.items, state, report)
                report.bootstrapped += len(page.items)
                # Copy the page into the database file now, outside any write lock: else the
                # WAL grows until some commit (as likely a counter service's) pays for it.
                self.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if not more:
                    break
        finally:
            # A failed write does not wait for a page in flight (its answer is dropped).
            fetcher.shutdown(wait=False, cancel_futures=True)
        # The copied persons' search index, in alphabetical order: its keys are the names'
        # order, so written in that order each of its B-tree pages is written about once
        # (indexed page by page, every commit wrote most of the index again: a third of the
        # bootstrap). In steps a counter service goes between, like the pages.
        unindexed = [pid for (pid,) in self.store.conn.execute(
            "SELECT id FROM persons WHERE id NOT IN (SELECT person_id FROM person_search_keys) "
            "ORDER BY family_sf, given_sf, id")]
        self._write_in_steps(_chunks(unindexed, INDEX_STEP),
                             lambda ids: index_new_persons(self.store.db, ids), lambda: None)
        with _central_transaction(self.store):
            if not state["fresh"]:
                self._remove_unseen()
            self.store.conn.execute("DELETE FROM sync_seen")
            set_setting(self.store, CURSOR, str(state["hwm"]))
            set_setting(self.store, BOOTSTRAP, None)
            set_setting(self.store, RESYNC, None)

    def _bootstrap_page(self, items: Sequence[AggregateRecord], state: dict[str, Any],
                        report: SyncReport) -> None:
        """Write one page (`_write_in_steps`), its position saved with each commit."""
        fresh = bool(state["fresh"])

        def write(chunk: Sequence[AggregateRecord]) -> None:
            self._bootstrap_chunk(chunk, report, fresh=fresh)
            if chunk:
                state["after_kind"], state["after_id"] = chunk[-1].kind, chunk[-1].id

        self._write_in_steps(_chunks(items, WRITE_CHUNK) or [[]], write,
                             lambda: set_setting(self.store, BOOTSTRAP, json.dumps(state)))

    def _write_in_steps(self, steps: Sequence[Step], write: Callable[[Step], object],
                        save: Callable[[], None]) -> None:
        """`write` each step, in as few transactions as a counter service lets it: a commit
        (after `save`) when a counter of this process waits for the register (it goes first),
        after `MOST_HOLD_S`, or after the last step."""
        waiting = deque(steps)
        while waiting:
            with _central_transaction(self.store):
                began = time.monotonic()
                while waiting:
                    write(waiting.popleft())
                    if writers_waiting() or time.monotonic() - began > MOST_HOLD_S:
                        break
                save()
            let_writers_in()  # a counter service waiting for the register goes first

    def _bootstrap_chunk(self, items: Sequence[AggregateRecord], report: SyncReport, *,
                         fresh: bool) -> None:
        pinned = pinned_persons(self.store)
        free = [i for i in items if not (i.kind == PERSON and i.id in pinned)]
        for item in items:
            if item.kind == PERSON and item.id in pinned:
                self._hold(item)
        if fresh:  # indexed at the end (`_bootstrap`)
            for item in free:
                if item.kind == HOUSEHOLD and item.data is not None:
                    aggregates.write_household(self.store, item.data)
            aggregates.write_persons_bulk(
                self.store, [i.data for i in free if i.kind == PERSON and i.data is not None])
            return
        # Only a resync removes what it did not see.
        self.store.conn.executemany("INSERT OR IGNORE INTO sync_seen (kind, id) VALUES (?, ?)",
                                    [(i.kind, i.id) for i in items])
        for item in free:
            if item.data is not None:
                self._apply(item, report)

    def _remove_unseen(self) -> None:
        """After a resync: remove the persons (not pinned) and the empty households the
        central register does not hold."""
        pinned = pinned_persons(self.store)
        gone = [pid for (pid,) in self.store.conn.execute(
            "SELECT id FROM persons WHERE id NOT IN (SELECT id FROM sync_seen "
            "WHERE kind = 'person')") if pid not in pinned]
        for pid in gone:
            aggregates.delete_person(self.store, pid)
        # Households too (a discarded move's new one): those no person here points at.
        empty = [hid for (hid,) in self.store.conn.execute(
            "SELECT id FROM households WHERE id NOT IN (SELECT id FROM sync_seen "
            "WHERE kind = 'household') AND id NOT IN (SELECT household_id FROM persons "
            "WHERE household_id IS NOT NULL)")]
        for hid in empty:
            aggregates.delete_household(self.store, hid)
        if gone or empty:
            log.warning("resync removed %d persons and %d households the central register "
                        "does not hold", len(gone), len(empty))

    # --- integrity check -----------------------------------------------------------------

    def check(self, report: SyncReport) -> None:
        """Compare counts and checksums with the central register (pinned persons and their
        households left out on both sides: their local state is ahead on purpose). A mismatch
        schedules a full resync."""
        conn = self.store.conn
        pinned = pinned_persons(self.store)
        # Their households too: a pending Anmeldung may have made one the centre has not seen.
        excluded = pinned | {h for p in aggregates.read_persons(conn, sorted(pinned)).values()
                             if (h := p["person"]["household_id"])}
        central = self.client.checksum(sorted(excluded))
        if central.high_water_mark != int(get_setting(self.store, CURSOR) or -1):
            return  # the centre moved on meanwhile; the next sync checks again
        # One read snapshot (a deferred transaction: writers go on), streamed page by page.
        conn.execute("BEGIN")
        try:
            local = {PERSON: aggregates.checksum(
                         p for p in aggregates.iter_all_persons(conn)
                         if p["person"]["id"] not in excluded),
                     HOUSEHOLD: aggregates.checksum(
                         h for h in aggregates.iter_all_households(conn)
                         if h["id"] not in excluded)}
        finally:
            conn.execute("COMMIT")
        ok = all(local[k] == (central.counts.get(k, 0), central.sums.get(k, 0))
                 for k in (PERSON, HOUSEHOLD))
        report.checksum_ok = ok
        with self.store.transaction():
            set_setting(self.store, LAST_CHECK, str(time.time()))
        if not ok:
            log.error("checksum mismatch with the central register: local %s, central %s/%s",
                      local, central.counts, central.sums)
            report.warnings.append(CHECKSUM_WARNING)
            with self.store.transaction():
                set_setting(self.store, RESYNC, "1")
                set_setting(self.store, LAST_WARNING, CHECKSUM_WARNING)


def _chunks(items: Sequence[Step], size: int) -> list[Sequence[Step]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


@contextmanager
def _central_transaction(store: Store) -> Iterator[None]:
    """A transaction that writes central records. Foreign keys are off while it runs: the
    central register is the authority on references (a person may come before the household
    it points to), and a tombstone leaves issued documents in place."""
    store.conn.execute("PRAGMA foreign_keys = OFF")  # no effect inside a transaction: first
    try:
        with store.transaction():
            yield
    finally:
        store.conn.execute("PRAGMA foreign_keys = ON")


@contextmanager
def _savepoint(store: Store) -> Iterator[None]:
    """A part of the current transaction that is undone alone if it raises."""
    store.conn.execute("SAVEPOINT one_record")
    try:
        yield
    except BaseException:
        store.conn.execute("ROLLBACK TO one_record")
        raise
    finally:
        store.conn.execute("RELEASE one_record")


# --- Klärfälle -------------------------------------------------------------------------------

def open_conflicts(store: Store) -> list[dict[str, Any]]:
    """The Klärfälle list: each with the command, both versions, and its state."""
    rows = store.query(
        "SELECT c.*, o.type, o.created_at, o.clerk AS command_clerk, o.payload "
        "FROM conflicts c JOIN outbox o ON o.command_id = c.command_id "
        "WHERE c.state != 'resolved' ORDER BY o.seq")
    for row in rows:
        row["never_sent"] = row["reason"] in NEVER_SENT   # only to be discarded, here
        row["server_records"] = json.loads(row["server_records"])
        row["local_records"] = json.loads(row["local_records"])
        row["payload"] = json.loads(row["payload"])
    return rows


def conflicts_for_review(store: Store) -> list[dict[str, Any]]:
    """The open Klärfälle (`open_conflicts`), each with the record versions its command was
    based on (`base_versions`, {"persons/<id>": version, ...}) for the side-by-side view."""
    conflicts = open_conflicts(store)
    for conflict in conflicts:
        row = store.conn.execute("SELECT base_versions FROM outbox WHERE command_id = ?",
                                 (conflict["command_id"],)).fetchone()
        conflict["base_versions"] = json.loads(row[0]) if row and row[0] else {}
    return conflicts


def resolve_conflict(store: Store, command_id: str, decision: str) -> str:
    """The clerk's decision on a Klärfall, as a new command (returns its id).

    The decision covers the persons of the conflicted command and every later pending
    command on them (they waited): all of them are recorded centrally for what happened at
    the counter (documents, payments). 'local': the central service replays the command (and
    those that waited) on the central version, taking only what they change, provided the
    central versions are still those the clerk saw (`central_versions`); 'central': the
    central version stays. Either way the result comes back by pull and replaces the local
    version once the central service has the decision (no records are sent: the service
    never takes them from a workstation).

    A Klärfall whose command never reached the centre (`NEVER_SENT`) is decided here alone:
    only 'central', see `_discard_unsent`; the returned id is then the discarded command's.
    """
    if decision not in ("local", "central"):
        raise ValueError(f"unknown decision {decision!r}")
    store.actor.require(clerks.CONFLICT_RESOLVE)
    conn = store.conn
    with store.transaction():
        row = conn.execute("SELECT c.state, o.result, c.server_records, c.reason "
                           "FROM conflicts c "
                           "JOIN outbox o ON o.command_id = c.command_id "
                           "WHERE c.command_id = ?", (command_id,)).fetchone()
        if row is None or row[0] != "open":
            raise ValidationError("Dieser Klärfall ist nicht (mehr) offen.",
                                  f"conflict {command_id} is not open")
        persons = _persons_of(row[1])
        if row[3] in NEVER_SENT:
            return _discard_unsent(store, command_id, decision, persons)
        dependents: list[str] = []
        for cid, result in conn.execute(
                "SELECT command_id, result FROM outbox WHERE status = 'pending' AND type != ? "
                "ORDER BY seq", (RESOLUTION_COMMAND,)).fetchall():
            if _persons_of(result) & persons:
                dependents.append(cid)
                persons |= _persons_of(result)
        payload: dict[str, Any] = {"command_id": command_id, "decision": decision,
                                   "dependents": dependents}
        if decision == "local":
            central = {r["id"]: r["data"] for r in json.loads(row[2]) if r.get("data")}
            payload["central_versions"] = {pid: int(data["person"]["version"])
                                           for pid, data in central.items()}
        resolution_id = uuid7()
        append_outbox(store, resolution_id, RESOLUTION_COMMAND, payload, datetime.now(UTC),
                      result=json.dumps({"changed_persons": sorted(persons)}))
        conn.execute("UPDATE conflicts SET state = 'resolving', decision = ?, resolved_by = ?, "
                     "resolved_at = ?, resolution_command_id = ? WHERE command_id = ?",
                     (decision, store.actor.clerk, _now(), resolution_id, command_id))
        for person in sorted(persons):
            audit.record(store, audit.UPDATE, person, "Klärfall",
                         f"Auftrag {command_id}: "
                         f"{'eigene' if decision == 'local' else 'zentrale'} Fassung")
    return resolution_id


def _discard_unsent(store: Store, command_id: str, decision: str, persons: set[str]) -> str:
    """Discard a command the centre never saw (inside the caller's transaction).

    Nothing goes to the centre: it would answer that it does not know the command. What the
    command changed here is undone as a 'central' decision undoes it, by the central version:
    the centre holds none of it, so the next sync copies the persons it changed afresh from
    the centre (a resync, which replaces every person not pinned by other pending work).
    Commands on the same persons that waited for this Klärfall are sent as they are."""
    if decision != "central":
        raise ValidationError(NEVER_SENT_LOCAL_DE,
                              f"conflict {command_id}: never sent, can only be discarded")
    conn = store.conn
    conn.execute("UPDATE outbox SET status = 'rejected', last_error = ? WHERE command_id = ?",
                 (DISCARDED, command_id))
    conn.execute("UPDATE conflicts SET state = 'resolved', decision = 'central', "
                 "resolved_by = ?, resolved_at = ? WHERE command_id = ?",
                 (store.actor.clerk, _now(), command_id))
    if persons:
        set_setting(store, RESYNC, "1")
    for person in sorted(persons):
        audit.record(store, audit.UPDATE, person, "Klärfall",
                     f"Auftrag {command_id}: nie übertragen, verworfen")
    log.warning("command %s never reached the central service; discarded by the clerk",
                command_id)
    return command_id
