"""The central service's logic, without HTTP: enrolment, push, pull, bootstrap, checksums,
the document archive. `sync.server.http_api` puts it on the wire; tests and the seed use it too.

Exactly once: every command id is stored under a unique key with its outcome. A command is
applied, or finally rejected, in the same transaction that stores that outcome; a replay of a
final command returns the stored outcome ('duplicate'). A conflict is not final: the command
is kept, and the clerk's resolution (a new command, `klaerfall_loesung`) settles it.

A push batch is one transaction holding the change-sequence lock (so sequence numbers commit
in order, see `storage`). It runs first with its writes streamed to the database; should the
database refuse one (a document number already taken), the batch is undone and run again with
each command inside its own savepoint, so that the refusal rejects that command, not the batch.
What the batch's commands read is read once for the whole batch (`sync.server.batch`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from clerk_app.errors import ClerkError, StoreError
from clerk_app.ids import new_id
from clerk_app.queue.configuration import QueueConfig, packaged_queue_config
from clerk_app.queue.local_queue import QUEUE_COMMAND
from sync import aggregates
from sync.aggregates import HOUSEHOLD, KINDS, PERSON, Aggregate
from sync.protocol import (
    ACCEPTED_SCHEMAS,
    ARCHIVE_COMMAND,
    DEVICE_REVOKED,
    RESOLUTION_COMMAND,
    AccessLogEntry,
    AccessLogReceipt,
    AggregateRecord,
    ArchiveReceipt,
    BootstrapPage,
    ChangesPage,
    Checksum,
    Command,
    CommandResult,
    Decision,
    DeviceInfo,
    DocumentVerification,
    Hello,
    PushResponse,
)
from sync.server import json_text
from sync.server.access_log_check import alerts, check_upload
from sync.server.batch import FINAL, BatchReads, Written, hydrated, read_named
from sync.server.command_clerks import CommandClerks
from sync.server.field_merge import base_state, mark_contested, merged
from sync.server.queue_central import CentralQueue
from sync.server.replay import Hydrated, Outcome, referenced, sandbox
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_VALID = timedelta(hours=24)
MAX_PAGE = 5000
LEDGER_ROWS = 500  # rows per INSERT: 4 parameters each, well under SQLite's limit
# Commands whose stored result a push answer carries: what the workstation acts on (a
# decision's target status; a queue change's visit and version; an archived file). A counter
# service's outcome (its documents and receipts, with the citizen's data) is not sent back:
# the workstation made the same outcome itself, and a tenth of a push went into repeating it.
ANSWERED_IN_FULL = frozenset({RESOLUTION_COMMAND, QUEUE_COMMAND, ARCHIVE_COMMAND})


class CentralError(Exception):
    """A refusal the workstation shows its clerk: German and English, with an HTTP status, and
    a `code` for the refusals a workstation acts on by itself."""

    def __init__(self, status: int, message_de: str, message_en: str,
                 code: str | None = None) -> None:
        super().__init__(message_en)
        self.status = status
        self.message_de = message_de
        self.message_en = message_en
        self.code = code


REVOKED = CentralError(403, "Dieser Arbeitsplatz ist bei der Zentrale nicht (mehr) angemeldet: "
                            "die IT hat ihn aus dem Abgleich genommen.",
                       "device revoked", DEVICE_REVOKED)
CONTACT_EVERY = timedelta(minutes=1)  # `last_contact` is written at most this often


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_dump = json_text.dumps


def _integrity_errors() -> tuple[type[BaseException], ...]:
    import sqlcipher3

    errors: list[type[BaseException]] = [sqlcipher3.IntegrityError]
    try:
        import psycopg

        errors.append(psycopg.errors.IntegrityError)
    except ImportError:  # pragma: no cover - psycopg is a dependency of the service
        pass
    return tuple(errors)


INTEGRITY_ERRORS = _integrity_errors()


class Central:
    def __init__(self, db: Database, queue_config: QueueConfig | None = None) -> None:
        self.db = db
        # The waiting room's shared queue and bookings (issue 12), on the same database.
        self.queue = CentralQueue(db, queue_config or packaged_queue_config())

    # --- versions, devices ---------------------------------------------------------------

    def hello(self) -> Hello:
        return Hello(schemas=sorted(ACCEPTED_SCHEMAS), server_time=_now(),
                     high_water_mark=self.high_water_mark())

    def high_water_mark(self) -> int:
        with self.db.transaction(write=False) as tx:
            return int(tx.execute("SELECT value FROM counter WHERE name = 'seq'")[0][0])

    def issue_enrolment_code(self, device_name: str) -> str:
        """A one-time code for IT to type into a new workstation (valid 24 hours)."""
        code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
                        for _ in range(3))
        now = datetime.now(UTC)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO enrolment_codes (code_sha256, device_name, created_at, "
                       "expires_at) VALUES (?, ?, ?, ?)",
                       (_sha256(code), device_name, now.isoformat(),
                        (now + CODE_VALID).isoformat()))
        log.info("enrolment code issued for device %r", device_name)
        return code

    def enrol(self, code: str, device_name: str) -> tuple[str, str]:
        """Exchange a one-time code for (device id, token); the code is then spent.

        Spent by one conditional UPDATE: of concurrent redemptions exactly one finds the code
        unused (PostgreSQL re-checks the condition after the row lock, SQLite has one writer),
        so one code never gives two tokens."""
        code = code.strip().upper()
        now = datetime.now(UTC)
        with self.db.transaction() as tx:
            spent = tx.execute("UPDATE enrolment_codes SET used_at = ? WHERE code_sha256 = ? "
                               "AND used_at IS NULL AND expires_at > ? RETURNING code_sha256",
                               (now.isoformat(), _sha256(code), now.isoformat()))
            if not spent:
                raise CentralError(403, "Der Anmeldecode ist ungültig, abgelaufen oder schon "
                                        "benutzt. Bitte bei der IT einen neuen anfordern.",
                                   "enrolment code invalid, expired or used")
            device_id, token = new_id(), secrets.token_urlsafe(32)
            tx.execute("INSERT INTO devices (device_id, name, token_sha256, enrolled_at) "
                       "VALUES (?, ?, ?, ?)", (device_id, device_name, _sha256(token),
                                               now.isoformat()))
        log.info("device %s enrolled", device_id)
        return device_id, token

    def authenticate(self, token: str) -> Caller:
        """The device id of a token; a withdrawn device's token gets `REVOKED` (403 with the
        code the workstation destroys its register on), an unknown one 401."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT device_id, name, revoked_at, last_contact FROM devices "
                              "WHERE token_sha256 = ?", (_sha256(token),))
        if not rows:
            raise CentralError(401, "Dieser Arbeitsplatz ist bei der Zentrale nicht (mehr) "
                                    "angemeldet. Bitte die IT verständigen.",
                               "unknown device token")
        device_id, name, revoked_at, last_contact = rows[0]
        if revoked_at is not None:
            log.warning("withdrawn device %s refused", device_id)
            raise REVOKED
        now = datetime.now(UTC)
        if last_contact is None or datetime.fromisoformat(last_contact) < now - CONTACT_EVERY:
            with self.db.transaction() as tx:
                tx.execute("UPDATE devices SET last_contact = ? WHERE device_id = ?",
                           (now.isoformat(timespec="seconds"), device_id))
        return Caller(str(device_id), str(name))

    def devices(self) -> list[DeviceInfo]:
        """Enrolled workstations, for IT: last contact, and their commands the centre holds
        undecided (open Klärfälle)."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT d.device_id, d.name, d.enrolled_at, d.last_contact, d.revoked_at, "
                "(SELECT count(*) FROM commands c WHERE c.device_id = d.device_id "
                "AND c.status IN ('conflict', 'rejected')) FROM devices d "
                "ORDER BY d.name, d.enrolled_at")
        return [DeviceInfo(device_id=i, name=n, enrolled_at=e, last_contact=c, revoked_at=r,
                           pending=int(p)) for i, n, e, c, r, p in rows]

    def revoke_device(self, name: str) -> int:
        """Withdraw the workstations of this name (or device id): their tokens are refused
        from now on. Returns how many were withdrawn."""
        with self.db.transaction() as tx:
            done = tx.execute("UPDATE devices SET revoked_at = ? WHERE (name = ? OR "
                              "device_id = ?) AND revoked_at IS NULL RETURNING device_id",
                              (_now(), name, name))
        for (device_id,) in done:
            log.warning("device %s withdrawn", device_id)
        return len(done)

    # --- push ----------------------------------------------------------------------------

    def push(self, commands: Sequence[Command], caller: Caller,
             session_clerk: str | None = None) -> PushResponse:
        """Apply a workstation's commands. The device is the token's (`caller`), whatever the
        payload says; a command's clerk is proven by the push's clerk session
        (`session_clerk`) when it names that clerk, else kept as the workstation claims it
        (`commands.clerk_claimed`: made offline by a clerk who has logged out since)."""
        taken = [received(c, caller, session_clerk) for c in commands]
        try:
            return self._push_batch(taken, careful=False)
        except INTEGRITY_ERRORS as exc:
            # A number of the batch is taken centrally. The batch was undone; done again with
            # a savepoint per command, only the command concerned is rejected.
            log.info("push batch refused by the database (%s); again command by command",
                     type(exc).__name__)
            return self._push_batch(taken, careful=True)

    def _push_batch(self, commands: Sequence[Received], *, careful: bool) -> PushResponse:
        """One batch in one transaction. Not `careful`: no savepoints, and the writes stream to
        the database without waiting for each answer (all but a few per cent of the time
        there is nothing to refuse, and the database works while the next command replays);
        a refusal then aborts the whole batch."""
        results: list[CommandResult] = []
        with self.db.transaction() as tx, nullcontext() if careful else tx.pipeline():
            seq = tx.lock_sequence()
            self.queue.lock_for_absorbing(tx, [c.payload for c in commands
                                               if c.type == QUEUE_COMMAND])
            reads = BatchReads(tx, commands)
            clerks = CommandClerks(tx)
            failed: set[str] = set()
            for command in commands:
                if set(command.persons) & failed:
                    results.append(CommandResult(
                        command_id=command.command_id, status="deferred",
                        reason="Wartet auf die Klärung eines früheren Auftrags."))
                    continue
                result, seq = self._push_one(tx, command, seq, reads, careful, clerks)
                reads.stored(command.command_id)
                if result.status in ("conflict", "rejected") or \
                        result.final_status == "rejected":
                    failed |= set(command.persons)
                results.append(result)
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return PushResponse(results=results, high_water_mark=seq)

    def _push_one(self, tx: Tx, command: Received, seq: int, reads: BatchReads,
                  careful: bool, clerks: CommandClerks) -> tuple[CommandResult, int]:
        fresh = reads.fresh(command.command_id)  # nothing stored about it: nothing to look up
        rows = [] if fresh else reads.stored_row(tx, command.command_id)
        if rows and rows[0][3] != command.device_id:
            # Another device's command id: neither its outcome nor its row is this device's.
            log.warning("device %s sent command %s of another device", command.device_id,
                        command.command_id)
            return CommandResult(command_id=command.command_id, status="rejected",
                                 final_status="rejected",
                                 reason="Diese Auftragsnummer gehört einem anderen "
                                        "Arbeitsplatz."), seq
        if rows and rows[0][0] in FINAL:
            status, reason, result, _ = rows[0]
            return CommandResult(command_id=command.command_id, status="duplicate",
                                 final_status=status, reason=reason,
                                 result=json_text.loads(result)
                                 if command.type in ANSWERED_IN_FULL else {}), seq
        refusal = clerks.refusal(command)
        if refusal is not None:
            return self._final(tx, command, "rejected", refusal), seq
        if command.type == RESOLUTION_COMMAND:
            reads.stale()  # the decision writes by its own path and settles later commands
            return self._resolve(tx, command, seq, clerks)
        if command.type == ARCHIVE_COMMAND:
            return self._archive(tx, command), seq
        if command.type == QUEUE_COMMAND:
            return self._queue_change(tx, command), seq
        state = reads.hydrate(command)
        if state is None:
            state = self._hydrate(tx, command)
        settled = [] if fresh else tx.execute(
            "SELECT decision, persons FROM settled_commands WHERE command_id = ? AND device = ?",
            (command.command_id, command.device_id))
        if not settled:
            outcome = sandbox().replay(command, state)
        elif settled[0][0] == "local":
            outcome = self._replay_decided(command, state, set(json.loads(settled[0][1])))
        else:
            outcome = self._ledger_only(command, state)
        return self._settle(tx, command, state, outcome, seq, reads=reads, careful=careful)

    @staticmethod
    def _ledger_only(command: Command, state: Hydrated) -> Outcome:
        """A command whose persons a Klärfall settled: what happened at the counter
        (documents, payments, audit) is recorded; its register change is not, because the
        Klärfall decided the persons' state."""
        outcome = sandbox().replay(command, state, ledger_only=True)
        if outcome.status != "applied":
            log.warning("command %s settled by a Klärfall without its ledger entries "
                        "(replay %s)", command.command_id, outcome.status)
            return Outcome("applied", result={})
        # A household the command made stays, as on the workstation (a household never changes
        # once made, and one without members is normal): the persons decide who lives in it.
        outcome.changed = [c for c in outcome.changed if c[0] == HOUSEHOLD]
        return outcome

    def _settle(self, tx: Tx, command: Received, state: Hydrated, outcome: Outcome,
                seq: int, *, final: str = "applied",
                reads: BatchReads | None = None,
                careful: bool = True) -> tuple[CommandResult, int]:
        """Store the outcome; the command's effect and its row commit together (`careful`:
        in a savepoint, so that a database refusal rejects just this command)."""
        if outcome.status == "applied":
            try:
                written: Written = []
                with tx.savepoint() if careful else nullcontext():
                    seq = self._write(tx, command.command_id, outcome, seq, written)
                    self._store_command(tx, command, final, None, outcome.result, seq)
                if reads is not None:
                    reads.wrote(written, outcome.ledger)
                # The outcome (documents, receipts: personal data) stays here; the
                # workstation made the same itself (`ANSWERED_IN_FULL`).
                return CommandResult(command_id=command.command_id, status="applied",
                                     final_status=final), seq
            except INTEGRITY_ERRORS as exc:
                if not careful:
                    raise  # part of the command may be written: the batch is done again
                log.warning("command %s refused by the database: %s", command.command_id, exc)
                outcome = Outcome("rejected", reason="Eine Nummer dieses Auftrags (Dokument oder "
                                                     "Quittung) ist zentral schon vergeben.")
        self._store_command(tx, command, outcome.status, outcome.reason, {}, None)
        # The central versions go back with a conflict or rejection: the Klärfall shows them
        # (with the fields both sides changed), and they replace the local change if the
        # clerk decides for the central version.
        records = state.records()
        if outcome.status == "conflict":
            mark_contested(command, state, base_state(tx, command, state), records)
        return CommandResult(command_id=command.command_id, status=outcome.status,  # type: ignore[arg-type]
                             final_status=outcome.status, reason=outcome.reason,
                             server_records=records), seq

    def _store_command(self, tx: Tx, command: Received, status: str, reason: str | None,
                       result: dict[str, Any], applied_seq: int | None) -> None:
        payload = command.payload
        if command.type == ARCHIVE_COMMAND:  # the file is in `files`, not twice
            payload = {k: v for k, v in payload.items() if k != "pdf_base64"}
        tx.write(
            "INSERT INTO commands (command_id, device, clerk, type, payload, base_versions, "
            "persons, created_at, received_at, status, reason, result, applied_seq, "
            "clerk_claimed, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (command_id) DO UPDATE SET status = excluded.status, "
            "reason = excluded.reason, result = excluded.result, "
            "applied_seq = excluded.applied_seq, received_at = excluded.received_at",
            (command.command_id, command.device, command.clerk, command.type, _dump(payload),
             _dump(command.base_versions), _dump(command.persons), command.created_at, _now(),
             status, reason, _dump(result), applied_seq,
             int(command.clerk_claimed), command.device_id))

    def _hydrate(self, tx: Tx, command: Command) -> Hydrated:
        """The aggregates and journal entries a command names, as the database holds them."""
        return hydrated(read_named(tx, *referenced(command)))

    def _write(self, tx: Tx, command_id: str, outcome: Outcome, seq: int,
               written: Written | None = None) -> int:
        """Write the effect; the aggregates, at their new seq, are added to `written`."""
        for kind, rid, data in sorted(outcome.changed, key=lambda c: KINDS.index(c[0])):
            seq += 1
            self._put_aggregate(tx, kind, rid, seq, data)
            if written is not None:
                written.append((kind, rid, seq, data))
        # One multi-row INSERT: a command adds a few rows (`executemany` on PostgreSQL would
        # open and sync a pipeline of its own for each command).
        for start in range(0, len(outcome.ledger), LEDGER_ROWS):
            chunk = outcome.ledger[start:start + LEDGER_ROWS]
            tx.write("INSERT INTO ledger (kind, key, command_id, data) VALUES "
                     + ", ".join(["(?, ?, ?, ?)"] * len(chunk)),
                     [v for t, k, d in chunk for v in (t, k, command_id, _dump(d))])
        return seq

    @staticmethod
    def _put_aggregate(tx: Tx, kind: str, rid: str, seq: int, data: Aggregate | None) -> None:
        if kind == PERSON:  # the version replaced is kept: a Klärfall may need it as its base
            tx.write("INSERT INTO aggregate_history (kind, id, seq, data) SELECT kind, id, seq, "
                     "data FROM aggregates WHERE kind = ? AND id = ? "
                     "ON CONFLICT (kind, id, seq) DO NOTHING", (kind, rid))
        tx.write(
            "INSERT INTO aggregates (kind, id, seq, deleted, hash32, data) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, "
            "deleted = excluded.deleted, hash32 = excluded.hash32, data = excluded.data",
            (kind, rid, seq, int(data is None), aggregates.hash32(data) if data else 0,
             aggregates.canonical(data) if data else None))

    # --- Klärfälle -------------------------------------------------------------------------

    def _resolve(self, tx: Tx, command: Received, seq: int,
                 clerks: CommandClerks) -> tuple[CommandResult, int]:
        """The clerk's decision on a conflicted or rejected command (a Klärfall) of the
        deciding device's own.

        Either way the command, and the workstation's later commands on the same persons
        (`dependents`), are recorded for what happened at the counter (documents, payments,
        audit entries). The persons' register state is decided by the clerk: 'central' keeps
        the central version; 'local' replays the command through its service on the central
        version (so it takes only the fields the command changes, and passes the same checks
        as any command), provided the central versions of all persons it touches are still
        those the clerk saw (`central_versions`; a person the clerk was not shown must still
        be at the command's base version); otherwise the Klärfall comes back with the newer
        central versions. Records a device sends with its decision are never taken. Nor does
        a decision get a command through that its clerk may not run (`clerks`): 'local' comes
        back as a Klärfall naming the refusal, 'central' records nothing of the command.
        """
        try:
            decision = Decision.model_validate(command.payload)
        except ValidationError:
            return self._final(tx, command, "rejected", "Die Entscheidung ist unvollständig "
                                                        "oder fehlerhaft."), seq
        rows = tx.execute("SELECT type, payload, base_versions, persons, device, clerk, "
                          "created_at, status, device_id, clerk_claimed FROM commands "
                          "WHERE command_id = ?", (decision.command_id,))
        if not rows or rows[0][8] != command.device_id:  # another device's: as if unknown
            return self._final(tx, command, "rejected", "Der zu klärende Auftrag ist der "
                                                        "Zentrale nicht bekannt."), seq
        ctype, cpayload, cbase, cpersons, device, clerk, created, status, _, claimed = rows[0]
        if status not in ("conflict", "rejected"):
            return self._final(tx, command, "applied", None, {"target_status": status}), seq
        target = Received(command_id=decision.command_id, type=ctype,
                          payload=json.loads(cpayload), base_versions=json.loads(cbase),
                          persons=json.loads(cpersons), device=device, clerk=clerk,
                          created_at=created, device_id=command.device_id,
                          clerk_claimed=bool(claimed))
        state = self._hydrate(tx, target)
        decided = set(target.persons)
        refusal = clerks.refusal(target)
        if decision.decision == "local":
            outcome = Outcome("rejected", reason=refusal) if refusal is not None else merged(
                target, sandbox().replay(target, state, force=True, supersede=True), state,
                base_state(tx, target, state))
            touched = decided | {i for kind, i, _ in outcome.changed if kind == PERSON}
            again = self._moved_on(tx, target, touched, decision.central_versions)
            if again is None and outcome.status != "applied":
                again = state.records()
            if again is not None:
                reason = ("Die zentrale Fassung wurde inzwischen erneut geändert; bitte noch "
                          "einmal entscheiden." if outcome.status == "applied" else
                          f"Die eigene Fassung kann zentral nicht übernommen werden: "
                          f"{outcome.reason}")
                return CommandResult(command_id=command.command_id, status="conflict",
                                     server_records=again, reason=reason), seq
            decided = touched
            final = "applied"
        else:
            outcome = self._ledger_only(target, state) if refusal is None else \
                Outcome("applied", result={})
            final = "discarded"
        _, seq = self._settle(tx, target, state, outcome, seq, final=final)
        tx.executemany("INSERT INTO settled_commands (command_id, by_command, device, "
                       "decision, persons) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (command_id) DO NOTHING",
                       [(d, command.command_id, command.device_id, decision.decision,
                         _dump(sorted(decided))) for d in decision.dependents])
        return self._final(tx, command, "applied", None, {"target_status": final}), seq

    @staticmethod
    def _replay_decided(command: Command, state: Hydrated, decided: set[str]) -> Outcome:
        """A command that waited for a Klärfall decided 'local': replayed like any command,
        except that the decided persons are taken as they are centrally now (the command was
        made on the workstation's version of them); other persons are checked as usual."""
        owners = {key: pid for pid, (_, data) in state.persons.items()
                  for key in aggregates.versions_of(data)}
        checked = {k: v for k, v in command.base_versions.items()
                   if owners.get(k, k.split("/", 1)[-1]) not in decided}
        return sandbox().replay(command.model_copy(update={"base_versions": checked}), state,
                                supersede=True)

    def _moved_on(self, tx: Tx, target: Command, touched: set[str],
                  seen: dict[str, int]) -> list[AggregateRecord] | None:
        """None if every person the decision touches is centrally as the clerk saw it (or, for
        a person the clerk was not shown, still at the command's base version); else the
        central versions of all of them, for the clerk to decide again."""
        state = hydrated(read_named(tx, sorted(touched), []))
        current = {pid: data for pid, (_, data) in state.persons.items()}
        for pid in sorted(touched):
            data = current.get(pid)
            if pid in seen:
                moved = data is None or int(data["person"]["version"]) != seen[pid]
            else:
                versions = aggregates.versions_of(data) if data else {}
                moved = any(versions.get(k, v) != v for k, v in target.base_versions.items()
                            if k in versions)
            if moved:
                return state.records()
        return None

    def _final(self, tx: Tx, command: Received, status: str, reason: str | None,
               result: dict[str, Any] | None = None) -> CommandResult:
        self._store_command(tx, command, status, reason, result or {}, None)
        return CommandResult(command_id=command.command_id, status=status,  # type: ignore[arg-type]
                             final_status=status, reason=reason, result=result or {})

    def _queue_change(self, tx: Tx, command: Received) -> CommandResult:
        """A change of a workstation's own queue (offline, mobile office), exactly once: the
        command id is the event's id, a repeat is answered `duplicate` above."""
        try:
            with tx.savepoint():
                result = self.queue.absorb(tx, command.payload)
        except (ClerkError, KeyError, ValueError, TypeError) as exc:
            log.warning("queue change %s refused: %s", command.command_id, type(exc).__name__)
            return self._final(tx, command, "rejected", "Die Änderung der Warteschlange ist "
                                                        "unvollständig oder unbekannt.")
        return self._final(tx, command, "applied", None, result)

    # --- access log ------------------------------------------------------------------------

    def store_access_log(self, caller: Caller,
                         entries: Sequence[AccessLogEntry]) -> AccessLogReceipt:
        """Keep a workstation's access-log entries centrally (§ 10 BMG requests and data
        protection checks are answered from the centre). Idempotent: an entry is keyed by
        device and its local number, a repeated upload stores nothing twice."""
        rows = [("access_log", f"{caller.device_id}/{entry.id}", "",
                 _dump({**entry.model_dump(), "device_id": caller.device_id}))
                for entry in entries]
        with self.db.transaction() as tx:
            # One upload of a device at a time, in whichever process: a retried upload racing
            # its first attempt must not move the chain head back (a false gap alert).
            tx.execute("SELECT 1 FROM devices WHERE device_id = ?" + self.db.row_lock,
                       (caller.device_id,))
            check_upload(tx, caller.device_id, [entry.model_dump() for entry in entries])
            for start in range(0, len(rows), LEDGER_ROWS):
                chunk = rows[start:start + LEDGER_ROWS]
                tx.execute("INSERT INTO ledger (kind, key, command_id, data) VALUES "
                           + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                           + " ON CONFLICT (kind, key) DO NOTHING",
                           [v for row in chunk for v in row])
        return AccessLogReceipt(stored=len(rows), last_id=max((e.id for e in entries), default=0))

    def access_log_alerts(self) -> list[dict[str, Any]]:
        """What the chain checks of the uploads found, newest first (for Datenschutz)."""
        with self.db.transaction(write=False) as tx:
            return alerts(tx)

    # --- document archive ------------------------------------------------------------------

    def _archive(self, tx: Tx, command: Received) -> CommandResult:
        p = command.payload
        try:
            pdf = base64.b64decode(p["pdf_base64"], validate=True)
        except (KeyError, ValueError, TypeError):
            return self._final(tx, command, "rejected", "Die Archivdatei fehlt oder ist "
                                                        "beschädigt.")
        digest = hashlib.sha256(pdf).hexdigest()
        if digest != p.get("sha256"):
            return self._final(tx, command, "rejected", "Die Archivdatei ist beschädigt "
                                                        "(Prüfsumme stimmt nicht).")
        # The file of a document belongs to the command that issued it: filed only once that
        # command is settled centrally (its document on record), never beside another's.
        issued = tx.execute("SELECT status, device_id FROM commands WHERE command_id = ?",
                            (str(p.get("issued_command_id")),))
        if issued and issued[0][1] != command.device_id:  # another workstation's document
            return self._final(tx, command, "rejected", "Das Dokument stammt von einem anderen "
                                                        "Arbeitsplatz.")
        if not issued or issued[0][0] == "conflict":
            return CommandResult(command_id=command.command_id, status="deferred",
                                 reason="Das Dokument ist zentral noch nicht verzeichnet.")
        if issued[0][0] == "rejected":
            return self._final(tx, command, "rejected", "Das Dokument ist zentral nicht "
                                                        "verzeichnet (Auftrag abgelehnt).")
        tx.execute("INSERT INTO files (sha256, document_number, kind, command_id, size, device, "
                   "uploaded_at, pdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (sha256) DO NOTHING",
                   (digest, str(p.get("document_number")), str(p.get("kind")),
                    command.command_id, len(pdf), command.device, _now(), pdf))
        return self._final(tx, command, "applied", None, {"sha256": digest})

    def archive(self, command: Command, caller: Caller) -> ArchiveReceipt:
        """One archived PDF (upload endpoint): idempotent per command id."""
        if command.type != ARCHIVE_COMMAND:
            raise CentralError(422, "Das ist kein Archivauftrag.", "not an archive command")
        result = self.push([command], caller).results[0]
        # A refusal is an answer, not an error: the workstation files it as a Klärfall and
        # goes on with the rest of its outbox.
        status = "rejected" if result.final_status == "rejected" else result.status
        return ArchiveReceipt(command_id=command.command_id, status=status,
                              sha256=str(command.payload.get("sha256")), reason=result.reason)

    def verify_document(self, number: str, sha256: str | None = None) -> DocumentVerification:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT command_id, data FROM ledger WHERE kind = 'documents' "
                              "AND key = ?", (number,))
            files = tx.execute("SELECT f.kind, f.sha256, f.size, f.uploaded_at, c.payload "
                               "FROM files f JOIN commands c ON c.command_id = f.command_id "
                               "WHERE f.document_number = ? ORDER BY f.uploaded_at", (number,))
        # A file counts only if its archive names the command that holds the number centrally:
        # a counter whose own document with this number was refused (a number collision) may
        # still upload its PDF, and that must not be vouched for as this document.
        issuer = rows[0][0] if rows else None
        listed = [{"kind": k, "sha256": s, "size": int(n), "uploaded_at": u}
                  for k, s, n, u, payload in files if (sha256 is None or s == sha256) and
                  (issuer is None or json.loads(payload).get("issued_command_id") == issuer)]
        if not rows:
            return DocumentVerification(number=number, known=False, files=listed)
        doc = json.loads(rows[0][1])
        return DocumentVerification(number=number, known=sha256 is None or bool(listed),
                                    type=doc.get("type"), issued_at=doc.get("issued_at"),
                                    workstation=doc.get("workstation"), files=listed)

    # --- pull ------------------------------------------------------------------------------

    def changes(self, since: int, limit: int) -> ChangesPage:
        limit = max(1, min(limit, MAX_PAGE))
        with self.db.transaction(write=False) as tx:
            hwm = int(tx.execute("SELECT value FROM counter WHERE name = 'seq'")[0][0])
            rows = tx.execute("SELECT kind, id, seq, data FROM aggregates WHERE seq > ? "
                              "AND seq <= ? ORDER BY seq LIMIT ?", (since, hwm, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return ChangesPage(changes=[_record(r) for r in rows],
                           until=int(rows[-1][2]) if more else max(hwm, since), more=more)

    def bootstrap(self, after_kind: str, after_id: str, hwm: int | None,
                  limit: int) -> BootstrapPage:
        limit = max(1, min(limit, MAX_PAGE))
        with self.db.transaction(write=False) as tx:
            if hwm is None:
                hwm = int(tx.execute("SELECT value FROM counter WHERE name = 'seq'")[0][0])
            rows = tx.execute("SELECT kind, id, seq, data FROM aggregates "
                              "WHERE (kind, id) > (?, ?) AND seq <= ? AND deleted = 0 "
                              "ORDER BY kind, id LIMIT ?", (after_kind, after_id, hwm, limit + 1))
        return BootstrapPage(items=[_record(r) for r in rows[:limit]], high_water_mark=hwm,
                             more=len(rows) > limit)

    def checksum(self, exclude: Sequence[str]) -> Checksum:
        with self.db.transaction(write=False, snapshot=True) as tx:
            hwm = int(tx.execute("SELECT value FROM counter WHERE name = 'seq'")[0][0])
            counts = {k: 0 for k in KINDS}
            sums = {k: 0 for k in KINDS}
            for kind, count, total in tx.execute(
                    "SELECT kind, count(*), sum(hash32) FROM aggregates WHERE deleted = 0 "
                    "GROUP BY kind"):
                counts[kind], sums[kind] = int(count), int(total or 0)
            excluded = sorted(set(exclude))
            for start in range(0, len(excluded), 500):
                chunk = excluded[start:start + 500]
                for kind, count, total in tx.execute(
                        f"SELECT kind, count(*), sum(hash32) FROM aggregates WHERE deleted = 0 "
                        f"AND kind IN (?, ?) AND id IN ({','.join('?' * len(chunk))}) "
                        "GROUP BY kind", [*KINDS, *chunk]):
                    counts[kind] -= int(count)
                    sums[kind] -= int(total or 0)
        return Checksum(high_water_mark=hwm, counts=counts, sums=sums)

    # --- seed ------------------------------------------------------------------------------

    def load_aggregates(self, persons: dict[str, Aggregate],
                        households: dict[str, Aggregate]) -> int:
        """Bulk load (seed, migration from the old central register) into an empty central
        register: one transaction."""
        return self.load_canonical(
            (kind, rid, aggregates.canonical(items[rid]))
            for kind, items in ((HOUSEHOLD, households), (PERSON, persons))
            for rid in sorted(items))

    def load_canonical(self, records: Iterable[tuple[str, str, str]]) -> int:
        """`load_aggregates` of (kind, id, canonical JSON) records, in the order given
        (households first), streamed: a million residents never in memory at once."""
        with self.db.transaction() as tx:
            seq = start = tx.lock_sequence()
            if tx.execute("SELECT 1 FROM aggregates LIMIT 1"):
                raise StoreError("Die Zentrale enthält bereits ein Melderegister; Demodaten "
                                 "werden nur in eine leere Zentrale geladen.",
                                 "seed refused: the central register is not empty")
            insert = ("INSERT INTO aggregates (kind, id, seq, deleted, hash32, data) "
                      "VALUES (?, ?, ?, ?, ?, ?)")
            rows: list[tuple[str, str, int, int, int, str]] = []
            for kind, rid, data in records:
                seq += 1
                rows.append((kind, rid, seq, 0, aggregates.hash32_of(data), data))
                if len(rows) == 2000:
                    tx.executemany(insert, rows)
                    rows.clear()
            if rows:
                tx.executemany(insert, rows)
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return seq - start

    def delete_person(self, person_id: str) -> int:
        """Remove a person centrally (e.g. a duplicate merged away): a tombstone for pull."""
        with self.db.transaction() as tx:
            seq = tx.lock_sequence() + 1
            self._put_aggregate(tx, PERSON, person_id, seq, None)
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return seq


@dataclass(frozen=True)
class Caller:
    """The workstation a request comes from, as its token says (never as its payload does)."""

    device_id: str
    name: str


class Received(Command):
    """A command as the service took it: `device` is the calling workstation's enrolled name
    (the replay's workstation), `device_id` its id (whose Klärfälle it may decide);
    `clerk_claimed`: the clerk is as the workstation names it, not from a clerk's session."""

    device_id: str
    clerk_claimed: bool = True


def received(command: Command, caller: Caller, session_clerk: str | None = None) -> Received:
    """`command` from `caller`; its clerk proven when it is the push's signed-in clerk
    (`session_clerk`), else as claimed."""
    return Received.model_construct(
        **{**dict(command), "device": caller.name}, device_id=caller.device_id,
        clerk_claimed=session_clerk is None or command.clerk != session_clerk)


def _record(row: Sequence[Any]) -> AggregateRecord:
    kind, rid, seq, data = row
    return AggregateRecord(kind=kind, id=rid, seq=int(seq),
                           data=json.loads(data) if data is not None else None)
