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
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from clerk_app.errors import StoreError
from clerk_app.ids import new_id
from sync import aggregates
from sync.aggregates import HOUSEHOLD, KINDS, PERSON, Aggregate
from sync.protocol import (
    ACCEPTED_SCHEMAS,
    ARCHIVE_COMMAND,
    DEVICE_REVOKED,
    RESOLUTION_COMMAND,
    AccessLogReceipt,
    AggregateRecord,
    ArchiveReceipt,
    BootstrapPage,
    ChangesPage,
    Checksum,
    Command,
    CommandResult,
    DocumentVerification,
    Hello,
    PushResponse,
)
from sync.server.batch import BatchReads, Written, hydrated, read_named
from sync.server.replay import Hydrated, Outcome, referenced, sandbox
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

FINAL = ("applied", "rejected", "discarded")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
CODE_VALID = timedelta(hours=24)
MAX_PAGE = 5000
LEDGER_ROWS = 500  # rows per INSERT: 4 parameters each, well under SQLite's limit


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _integrity_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    errors: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg

        errors.append(psycopg.errors.IntegrityError)
    except ImportError:  # pragma: no cover - psycopg is a dependency of the service
        pass
    return tuple(errors)


INTEGRITY_ERRORS = _integrity_errors()


class Central:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        """Exchange a one-time code for (device id, token); the code is then spent."""
        code = code.strip().upper()
        now = datetime.now(UTC)
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT expires_at, used_at FROM enrolment_codes "
                              "WHERE code_sha256 = ?", (_sha256(code),))
            if not rows or rows[0][1] is not None or \
                    datetime.fromisoformat(rows[0][0]) < now:
                raise CentralError(403, "Der Anmeldecode ist ungültig, abgelaufen oder schon "
                                        "benutzt. Bitte bei der IT einen neuen anfordern.",
                                   "enrolment code invalid, expired or used")
            device_id, token = new_id(), secrets.token_urlsafe(32)
            tx.execute("UPDATE enrolment_codes SET used_at = ? WHERE code_sha256 = ?",
                       (now.isoformat(), _sha256(code)))
            tx.execute("INSERT INTO devices (device_id, name, token_sha256, enrolled_at) "
                       "VALUES (?, ?, ?, ?)", (device_id, device_name, _sha256(token),
                                               now.isoformat()))
        log.info("device %s enrolled", device_id)
        return device_id, token

    def authenticate(self, token: str) -> str:
        """The device id of a token; a withdrawn device's token gets `REVOKED` (403 with the
        code the workstation destroys its register on), an unknown one 401."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT device_id, revoked_at FROM devices "
                              "WHERE token_sha256 = ?", (_sha256(token),))
        if not rows:
            raise CentralError(401, "Dieser Arbeitsplatz ist bei der Zentrale nicht (mehr) "
                                    "angemeldet. Bitte die IT verständigen.",
                               "unknown device token")
        device_id, revoked_at = rows[0]
        if revoked_at is not None:
            log.warning("withdrawn device %s refused", device_id)
            raise REVOKED
        return str(device_id)

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

    def push(self, commands: Sequence[Command]) -> PushResponse:
        try:
            return self._push_batch(commands, careful=False)
        except INTEGRITY_ERRORS as exc:
            # A number of the batch is taken centrally. The batch was undone; done again with
            # a savepoint per command, only the command concerned is rejected.
            log.info("push batch refused by the database (%s); again command by command",
                     type(exc).__name__)
            return self._push_batch(commands, careful=True)

    def _push_batch(self, commands: Sequence[Command], *, careful: bool) -> PushResponse:
        """One batch in one transaction. Not `careful`: no savepoints, and the writes stream to
        the database without waiting for each answer (all but a few per cent of the time
        there is nothing to refuse, and the database works while the next command replays);
        a refusal then aborts the whole batch."""
        results: list[CommandResult] = []
        with self.db.transaction() as tx, nullcontext() if careful else tx.pipeline():
            seq = tx.lock_sequence()
            reads = BatchReads(tx, commands)
            failed: set[str] = set()
            for command in commands:
                if set(command.persons) & failed:
                    results.append(CommandResult(
                        command_id=command.command_id, status="deferred",
                        reason="Wartet auf die Klärung eines früheren Auftrags."))
                    continue
                result, seq = self._push_one(tx, command, seq, reads, careful)
                reads.stored(command.command_id)
                if result.status in ("conflict", "rejected") or \
                        result.final_status == "rejected":
                    failed |= set(command.persons)
                results.append(result)
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return PushResponse(results=results, high_water_mark=seq)

    def _push_one(self, tx: Tx, command: Command, seq: int, reads: BatchReads,
                  careful: bool) -> tuple[CommandResult, int]:
        fresh = reads.fresh(command.command_id)  # nothing stored about it: nothing to look up
        rows = [] if fresh else tx.execute(
            "SELECT status, reason, result FROM commands WHERE command_id = ?",
            (command.command_id,))
        if rows and rows[0][0] in FINAL:
            status, reason, result = rows[0]
            return CommandResult(command_id=command.command_id, status="duplicate",
                                 final_status=status, reason=reason,
                                 result=json.loads(result)), seq
        if command.type == RESOLUTION_COMMAND:
            reads.stale()  # the decision writes by its own path and settles later commands
            return self._resolve(tx, command, seq)
        if command.type == ARCHIVE_COMMAND:
            return self._archive(tx, command), seq
        state = reads.hydrate(command)
        if state is None:
            state = self._hydrate(tx, command)
        if not fresh and tx.execute("SELECT 1 FROM settled_commands WHERE command_id = ?",
                                    (command.command_id,)):
            outcome = self._ledger_only(command, state)
        else:
            outcome = sandbox().replay(command, state)
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

    def _settle(self, tx: Tx, command: Command, state: Hydrated, outcome: Outcome,
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
                return CommandResult(command_id=command.command_id, status="applied",
                                     final_status=final, result=outcome.result), seq
            except INTEGRITY_ERRORS as exc:
                if not careful:
                    raise  # part of the command may be written: the batch is done again
                log.warning("command %s refused by the database: %s", command.command_id, exc)
                outcome = Outcome("rejected", reason="Eine Nummer dieses Auftrags (Dokument oder "
                                                     "Quittung) ist zentral schon vergeben.")
        self._store_command(tx, command, outcome.status, outcome.reason, {}, None)
        # The central versions go back with a conflict or rejection: the Klärfall shows them,
        # and they replace the local change if the clerk decides for the central version.
        records = state.records()
        return CommandResult(command_id=command.command_id, status=outcome.status,  # type: ignore[arg-type]
                             final_status=outcome.status, reason=outcome.reason,
                             server_records=records), seq

    def _store_command(self, tx: Tx, command: Command, status: str, reason: str | None,
                       result: dict[str, Any], applied_seq: int | None) -> None:
        payload = command.payload
        if command.type == ARCHIVE_COMMAND:  # the file is in `files`, not twice
            payload = {k: v for k, v in payload.items() if k != "pdf_base64"}
        tx.write(
            "INSERT INTO commands (command_id, device, clerk, type, payload, base_versions, "
            "persons, created_at, received_at, status, reason, result, applied_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (command_id) DO UPDATE SET status = excluded.status, "
            "reason = excluded.reason, result = excluded.result, "
            "applied_seq = excluded.applied_seq, received_at = excluded.received_at",
            (command.command_id, command.device, command.clerk, command.type, _dump(payload),
             _dump(command.base_versions), _dump(command.persons), command.created_at, _now(),
             status, reason, _dump(result), applied_seq))

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
        tx.write(
            "INSERT INTO aggregates (kind, id, seq, deleted, hash32, data) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, "
            "deleted = excluded.deleted, hash32 = excluded.hash32, data = excluded.data",
            (kind, rid, seq, int(data is None), aggregates.hash32(data) if data else 0,
             aggregates.canonical(data) if data else None))

    # --- Klärfälle -------------------------------------------------------------------------

    def _resolve(self, tx: Tx, command: Command, seq: int) -> tuple[CommandResult, int]:
        """The clerk's decision on a conflicted or rejected command (a Klärfall).

        Either way the command, and the workstation's later commands on the same persons
        (`dependents`), are recorded for what happened at the counter (documents, payments,
        audit entries). The persons' register state is decided by the clerk:
        'central' keeps the central version; 'local' makes the workstation's version (sent in
        `records`, versions already raised above the central ones) the central one, provided
        the central version is still the one the clerk saw (`central_versions`); if it moved
        on meanwhile, the Klärfall comes back with the newer central version.
        """
        payload = command.payload
        target_id, decision = str(payload.get("command_id")), payload.get("decision")
        rows = tx.execute("SELECT type, payload, base_versions, persons, device, clerk, "
                          "created_at, status FROM commands WHERE command_id = ?", (target_id,))
        if decision not in ("local", "central") or not rows:
            return self._final(tx, command, "rejected", "Der zu klärende Auftrag ist der "
                                                        "Zentrale nicht bekannt."), seq
        ctype, cpayload, cbase, cpersons, device, clerk, created, status = rows[0]
        if status not in ("conflict", "rejected"):
            return self._final(tx, command, "applied", None, {"target_status": status}), seq
        target = Command(command_id=target_id, type=ctype, payload=json.loads(cpayload),
                         base_versions=json.loads(cbase), persons=json.loads(cpersons),
                         device=device, clerk=clerk, created_at=created)
        records = [r for r in payload.get("records") or [] if isinstance(r, dict)]
        if decision == "local":
            moved = self._moved_on(tx, payload.get("central_versions") or {})
            if moved:
                return CommandResult(
                    command_id=command.command_id, status="conflict", server_records=moved,
                    reason="Die zentrale Fassung wurde inzwischen erneut geändert; bitte "
                           "noch einmal entscheiden."), seq
            for record in records:
                seq += 1
                self._put_aggregate(tx, PERSON, str(record["person"]["id"]), seq, record)
        state = self._hydrate(tx, target)
        _, seq = self._settle(tx, target, state, self._ledger_only(target, state), seq,
                              final="applied" if decision == "local" else "discarded")
        tx.executemany("INSERT INTO settled_commands (command_id, by_command) VALUES (?, ?) "
                       "ON CONFLICT (command_id) DO NOTHING",
                       [(str(d), command.command_id) for d in payload.get("dependents") or []])
        final = "applied" if decision == "local" else "discarded"
        return self._final(tx, command, "applied", None, {"target_status": final}), seq

    @staticmethod
    def _moved_on(tx: Tx, seen: dict[str, Any]) -> list[AggregateRecord]:
        """Central persons whose version is no longer the one the clerk decided against."""
        moved: list[AggregateRecord] = []
        for person_id, version in seen.items():
            rows = tx.execute("SELECT seq, data FROM aggregates WHERE kind = ? AND id = ?",
                              (PERSON, person_id))
            data = json.loads(rows[0][1]) if rows and rows[0][1] else None
            if data is None or int(data["person"]["version"]) != int(version):
                moved.append(AggregateRecord(kind=PERSON, id=person_id,
                                             seq=int(rows[0][0]) if rows else 0, data=data))
        return moved

    def _final(self, tx: Tx, command: Command, status: str, reason: str | None,
               result: dict[str, Any] | None = None) -> CommandResult:
        self._store_command(tx, command, status, reason, result or {}, None)
        return CommandResult(command_id=command.command_id, status=status,  # type: ignore[arg-type]
                             final_status=status, reason=reason, result=result or {})

    # --- access log ------------------------------------------------------------------------

    def store_access_log(self, device_id: str,
                         entries: Sequence[dict[str, Any]]) -> AccessLogReceipt:
        """Keep a workstation's access-log entries centrally (§ 10 BMG requests and data
        protection checks are answered from the centre). Idempotent: an entry is keyed by
        device and its local number, a repeated upload stores nothing twice."""
        rows = []
        for entry in entries:
            try:
                local_id = int(entry["id"])
            except (KeyError, TypeError, ValueError) as exc:
                raise CentralError(422, "Ein Protokolleintrag ist unvollständig.",
                                   "access log entry without id") from exc
            rows.append(("access_log", f"{device_id}/{local_id}", "",
                         _dump({**entry, "device_id": device_id})))
        with self.db.transaction() as tx:
            for start in range(0, len(rows), LEDGER_ROWS):
                chunk = rows[start:start + LEDGER_ROWS]
                tx.execute("INSERT INTO ledger (kind, key, command_id, data) VALUES "
                           + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                           + " ON CONFLICT (kind, key) DO NOTHING",
                           [v for row in chunk for v in row])
        return AccessLogReceipt(stored=len(rows),
                                last_id=max((int(e["id"]) for e in entries), default=0))

    # --- document archive ------------------------------------------------------------------

    def _archive(self, tx: Tx, command: Command) -> CommandResult:
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
        issued = tx.execute("SELECT status FROM commands WHERE command_id = ?",
                            (str(p.get("issued_command_id")),))
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

    def archive(self, command: Command) -> ArchiveReceipt:
        """One archived PDF (upload endpoint): idempotent per command id."""
        if command.type != ARCHIVE_COMMAND:
            raise CentralError(422, "Das ist kein Archivauftrag.", "not an archive command")
        result = self.push([command]).results[0]
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
        with self.db.transaction() as tx:
            seq = tx.lock_sequence()
            if tx.execute("SELECT 1 FROM aggregates LIMIT 1"):
                raise StoreError("Die Zentrale enthält bereits ein Melderegister; Demodaten "
                                 "werden nur in eine leere Zentrale geladen.",
                                 "seed refused: the central register is not empty")
            rows = []
            for kind, items in ((HOUSEHOLD, households), (PERSON, persons)):
                for rid in sorted(items):
                    seq += 1
                    data = items[rid]
                    rows.append((kind, rid, seq, 0, aggregates.hash32(data),
                                 aggregates.canonical(data)))
            for start in range(0, len(rows), 2000):
                tx.executemany("INSERT INTO aggregates (kind, id, seq, deleted, hash32, data) "
                               "VALUES (?, ?, ?, ?, ?, ?)", rows[start:start + 2000])
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return len(rows)

    def delete_person(self, person_id: str) -> int:
        """Remove a person centrally (e.g. a duplicate merged away): a tombstone for pull."""
        with self.db.transaction() as tx:
            seq = tx.lock_sequence() + 1
            self._put_aggregate(tx, PERSON, person_id, seq, None)
            tx.execute("UPDATE counter SET value = ? WHERE name = 'seq'", (seq,))
        return seq


def _record(row: Sequence[Any]) -> AggregateRecord:
    kind, rid, seq, data = row
    return AggregateRecord(kind=kind, id=rid, seq=int(seq),
                           data=json.loads(data) if data is not None else None)
