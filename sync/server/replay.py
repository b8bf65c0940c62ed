"""Replaying a workstation's command on the central register: the same core `apply`, once.

The central register is stored as aggregates (see `sync.aggregates`) in PostgreSQL or SQLite.
To apply a command, the service copies the aggregates the command names into an in-memory
working register (same schema as a workstation's), checks the command's base versions against
them, runs the counter service's own `apply` on the payload, and reads back what changed:
changed aggregates (persons, households) and new ledger rows (documents, registrations,
requests, cash journal, closings, audit entries). The working register is rolled back after
every command; the caller writes the outcome to the central database in its transaction.

So the effect of a command is defined in one place (the core service), whichever database the
central service runs on, and a replay on the same aggregates gives the same aggregates as the
workstation's local apply did (checked after every sync by the checksums).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlcipher3

from clerk_app.errors import ClerkError
from clerk_app.services.base import ServiceContext, ServiceResult
from clerk_app.services.runner import SERVICES
from clerk_app.store.db import Actor, Store, open_scratch
from clerk_app.streets import load_street_directory
from sync import aggregates
from sync.aggregates import HOUSEHOLD, PERSON, Aggregate
from sync.protocol import AggregateRecord, Command
from sync.server import json_text

log = logging.getLogger(__name__)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Receipt numbers ('QU-SCHALTER3-2026-000042'): a Storno reads the original journal entry.
RECEIPT_RE = re.compile(r"^[A-Z]{1,4}-[A-Z0-9]{1,12}-\d{4}-\d{6}$")

# Ledger tables: rows a command adds and nothing changes later. Key = what identifies the row
# on every node (local integer ids differ per register and are dropped).
LEDGER_KEYS: dict[str, tuple[str, ...]] = {
    "documents": ("number",),
    "registrations": ("id",),
    "requests": ("id",),
    "cash_journal": ("receipt_number", "reverses"),
    "closings": ("workstation", "business_day", "round"),
    "day_reopenings": ("workstation", "business_day", "closing_round"),
    "cash_floats": ("workstation", "business_day"),
    "audit_log": ("id",),
}
LOCAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "cash_journal": ("id",),
    "cash_floats": ("id",),
    "closings": ("id", "last_entry_id"),
    "day_reopenings": ("id",),
    "audit_log": ("id",),
}
DOMESTIC = "DEU"  # residences.country of a dwelling in Germany
OWNED = ("residences", "former_names", "id_documents", "information_blocks", "relations")

CAPTURE = "\n".join(
    [
        "CREATE TABLE _touched (kind TEXT NOT NULL, id TEXT NOT NULL, "
        "PRIMARY KEY (kind, id)) WITHOUT ROWID;",
        "CREATE TABLE _inserted (tbl TEXT NOT NULL, row INTEGER NOT NULL);",
    ]
    + [f"CREATE TRIGGER _cap_{t}_{op.lower()} AFTER {op} ON {t} BEGIN "
       f"INSERT OR IGNORE INTO _touched VALUES ('{kind}', {ref}.{col}); END;"
       for t, kind, col in (("persons", PERSON, "id"), ("households", HOUSEHOLD, "id"),
                            *((o, PERSON, "person_id") for o in OWNED))
       for op, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))]
    + [f"CREATE TRIGGER _cap_{t} AFTER INSERT ON {t} BEGIN "
       f"INSERT INTO _inserted VALUES ('{t}', NEW.rowid); END;" for t in LEDGER_KEYS]
    # Ledger-only replays (see `Sandbox.replay`): a register row the command inserts may be
    # there already; it replaces the old one instead of failing the replay.
    + ["CREATE TABLE _ledger_only (flag INTEGER NOT NULL);"]
    + [f"CREATE TRIGGER _again_{t} BEFORE INSERT ON {t} "
       f"WHEN EXISTS (SELECT 1 FROM _ledger_only) BEGIN "
       f"DELETE FROM {t} WHERE id = NEW.id; END;"
       for t in ("persons", "residences", "id_documents", "information_blocks", "relations")]
)


@dataclass
class Hydrated:
    """The central state a command needs: aggregates by id (with their change seq) and the
    cash journal entries it names."""

    persons: dict[str, tuple[int, Aggregate]] = field(default_factory=dict)
    households: dict[str, tuple[int, Aggregate]] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)

    def records(self) -> list[AggregateRecord]:
        return [AggregateRecord(kind=PERSON, id=pid, seq=seq, data=data)
                for pid, (seq, data) in self.persons.items()]


@dataclass
class Outcome:
    status: str  # applied | conflict | rejected
    reason: str | None = None
    changed: list[tuple[str, str, Aggregate | None]] = field(default_factory=list)
    ledger: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value (the ids and numbers a payload names)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def referenced(command: Command) -> tuple[list[str], list[str]]:
    """(record ids, receipt numbers) the command names."""
    names = set(strings_in(command.payload)) | set(command.persons)
    names |= {key.split("/", 1)[1] for key in command.base_versions if "/" in key}
    return (sorted(s for s in names if UUID_RE.match(s)),
            sorted(s for s in names if RECEIPT_RE.match(s)))


def ledger_key(table: str, row: Mapping[str, Any], command_id: str) -> str:
    if table == "audit_log":
        return f"{command_id}/{row['id']}"
    if table == "cash_journal":
        return str(row["receipt_number"]) + ("/storno" if row["reverses"] is not None else "")
    return "/".join(str(row[c]) for c in LEDGER_KEYS[table])


def inserted_rows_query(conn: sqlcipher3.Connection) -> str:
    """One query for the ledger rows a replay inserted, as (table, row as a JSON object),
    table by table in `LEDGER_KEYS` order, each in insertion order: a command writes to a
    few of the tables, and a query for each (after one for which) cost more than the rows."""
    parts = []
    for number, table in enumerate(LEDGER_KEYS):
        columns = [name for _, name, *_ in conn.execute(f"PRAGMA table_info({table})")]
        row = ", ".join(f"'{c}', t.{c}" for c in columns)
        parts.append(f"SELECT {number} AS n, t.rowid AS r, '{table}' AS tbl, "
                     f"json_object({row}) AS data "
                     f"FROM _inserted i JOIN {table} t ON t.rowid = i.row "
                     f"WHERE i.tbl = '{table}'")
    return f"SELECT tbl, data FROM ({' UNION ALL '.join(parts)}) ORDER BY n, r"


class Sandbox:
    """One in-memory working register; not thread-safe (use `sandbox()` for this thread's)."""

    def __init__(self) -> None:
        self.store: Store = open_scratch(Actor("zentrale", "zentrale"))
        conn = self.store.conn
        conn.execute("PRAGMA foreign_keys = OFF")  # only the named aggregates are here
        with self.store.transaction() as db:
            load_street_directory(db)
            for statement in CAPTURE.split(";\n"):
                conn.execute(statement.rstrip(";"))
        self._read_inserted = inserted_rows_query(conn)

    def replay(self, command: Command, state: Hydrated, *, force: bool = False,
               ledger_only: bool = False, supersede: bool = False) -> Outcome:
        """The command's effect on `state`, or why it has none. Never raises for a bad
        command: a rejection is an answer (the workstation must not retry it forever).

        `ledger_only` (implies `force`): only the ledger rows count (a Klärfall decided the
        persons' state, which may already hold this command's own new rows, e.g. after a
        'local' decision, or lack the records an earlier, discarded command made): inserting
        a register row that exists replaces it, and a record the command expected but the
        central state lacks is not an error, so the replay gets through to the documents and
        payments.

        `supersede` (a Klärfall decided for the workstation's version, replayed on the central
        one): a main dwelling the command opens ends the main dwellings another office opened
        meanwhile (a person has one; the clerk decided where), as the service would have
        done on the central version."""
        conn = self.store.conn
        conn.execute("BEGIN")
        try:
            self._hydrate(state)
            if ledger_only:
                force = True
                conn.execute("INSERT INTO _ledger_only VALUES (1)")  # rolled back below
            if not force:
                stale = self._stale(command, state)
                if stale:
                    return Outcome("conflict", reason=stale)
            return self._apply(command, lenient=ledger_only, supersede=supersede)
        except ClerkError as exc:
            log.info("command %s rejected: %s", command.command_id, exc.message_en)
            return Outcome("rejected", reason=exc.message_de)
        except (KeyError, TypeError, ValueError, AttributeError,
                sqlcipher3.IntegrityError) as exc:
            # The error's type only: its text may quote a value from the payload (a name).
            log.warning("command %s rejected as malformed: %s", command.command_id,
                        type(exc).__name__)
            return Outcome("rejected", reason="Der Auftrag ist unvollständig oder fehlerhaft und "
                                              "kann zentral nicht verarbeitet werden.")
        finally:
            conn.execute("ROLLBACK")

    def _hydrate(self, state: Hydrated) -> None:
        for _, household in state.households.values():
            aggregates.write_household(self.store, household)
        # The working register is empty here (every replay ends in ROLLBACK): plain inserts,
        # one statement per table, instead of replacing each person's rows.
        aggregates.write_persons_bulk(self.store, [p for _, p in state.persons.values()])
        for row in state.journal:
            columns = list(row)
            self.store.conn.execute(
                f"INSERT INTO cash_journal ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})", tuple(row.values()))
        self.store.conn.execute("DELETE FROM _touched")
        self.store.conn.execute("DELETE FROM _inserted")

    @staticmethod
    def _stale(command: Command, state: Hydrated) -> str | None:
        current: dict[str, int] = {}
        for _, person in state.persons.values():
            current.update(aggregates.versions_of(person))
        for key, version in command.base_versions.items():
            found = current.get(key)
            if found is None:
                return "Der Datensatz ist im zentralen Melderegister nicht vorhanden."
            if found != version:
                return ("Der Datensatz wurde inzwischen an anderer Stelle geändert "
                        f"(Stand hier {version}, zentral {found}).")
        return None

    def _apply(self, command: Command, *, lenient: bool = False,
               supersede: bool = False) -> Outcome:
        service = SERVICES.get(command.type)
        if service is None:
            return Outcome("rejected", reason=f"Unbekannte Dienstleistung „{command.type}“.")
        moment = datetime.fromisoformat(command.created_at)
        self.store.actor = Actor(command.clerk, command.device)
        ctx = ServiceContext(self.store, command.command_id, moment, moment.date(),
                             lenient=lenient)
        known = {r for (r,) in self.store.conn.execute("SELECT id FROM residences")} \
            if supersede else set()
        service.apply(ctx, dict(command.payload))
        if supersede:
            self._one_main_dwelling(known)
        result = ServiceResult(command.command_id, command.type, tuple(ctx.changed_persons),
                               tuple(ctx.documents), ctx.receipt, tuple(ctx.notices))
        return Outcome("applied", changed=self._changed(), ledger=self._ledger(command),
                       result=result.as_data())

    def _one_main_dwelling(self, known: set[str]) -> None:
        """Where the command opened a main dwelling (or one abroad), end every other open main
        (abroad: every domestic) dwelling of that person from the new one's move-in date."""
        conn = self.store.conn
        opened = [row for row in conn.execute(
            "SELECT person_id, id, move_in, country FROM residences WHERE kind IN "
            "('alleinig', 'haupt') OR country != ?", (DOMESTIC,)).fetchall()
            if row[1] not in known]
        for person_id, residence_id, move_in, country in opened:
            kinds = ("alleinig", "haupt") if country == DOMESTIC else ("alleinig", "haupt",
                                                                       "neben")
            conn.execute("UPDATE residences SET move_out = ?, version = version + 1 "
                         "WHERE person_id = ? AND id != ? AND move_out IS NULL "
                         "AND country = ? AND kind IN (?, ?, ?)",
                         (move_in, person_id, residence_id, DOMESTIC, *kinds, kinds[-1]))

    def _changed(self) -> list[tuple[str, str, Aggregate | None]]:
        conn = self.store.conn
        touched = conn.execute("SELECT kind, id FROM _touched ORDER BY kind, id").fetchall()
        household_ids = [i for k, i in touched if k == HOUSEHOLD]
        person_ids = [i for k, i in touched if k == PERSON]
        households = aggregates.read_households(conn, household_ids)
        persons = aggregates.read_persons(conn, person_ids)
        changed: list[tuple[str, str, Aggregate | None]] = [
            (HOUSEHOLD, i, households.get(i)) for i in household_ids]
        changed += [(PERSON, i, persons.get(i)) for i in person_ids]
        return changed

    def _ledger(self, command: Command) -> list[tuple[str, str, dict[str, Any]]]:
        found: list[tuple[str, str, dict[str, Any]]] = []
        for table, text in self.store.conn.execute(self._read_inserted):
            row = json_text.loads(text)
            key = ledger_key(table, row, command.command_id)
            for column in LOCAL_COLUMNS.get(table, ()):
                row.pop(column)
            if table == "cash_journal":
                row["reverses"] = row["reverses"] is not None
            found.append((table, key, row))
        return found


def journal_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored journal entry as a working-register row (only originals are ever read)."""
    return {**data, "reverses": None}


_local = threading.local()


def sandbox() -> Sandbox:
    """This thread's working register (sqlcipher3 connections stay in their thread)."""
    box: Sandbox | None = getattr(_local, "sandbox", None)
    if box is None:
        box = _local.sandbox = Sandbox()
    return box
