"""Real parts for the sync tests: a central service process on 127.0.0.1 (SQLite file or a fresh
PostgreSQL database), workstations with their own encrypted registers, enrolled with real
one-time codes, and the counter services they run.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from pydantic import BaseModel

from clerk_app.errors import ClerkError
from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.services.base import ServiceResult
from clerk_app.services.runner import run_service
from clerk_app.store.db import Actor, open_store
from clerk_app.streets import find_streets, load_street_directory
from sync import aggregates
from sync.central_errors import CentralUnavailable
from sync.client import CentralClient
from sync.engine import (
    DISCARDED,
    OUTBOX_COLUMNS,
    SyncEngine,
    SyncReport,
    open_conflicts,
    outbox_command,
    resolve_conflict,
)
from sync.protocol import RESOLUTION_COMMAND, AggregateRecord, Command, PushResponse
from sync.server.central import Central
from sync.server.seed import seed_demo
from sync.server.storage import Database, open_database
from tests.factories import COUNTER_ROLES

PG_ADMIN = os.environ.get("CLERK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
CASH = {"method": "bar", "given_cents": 2000}
Model = TypeVar("Model", bound=BaseModel)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not (the reason a test is skipped with)."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no PostgreSQL for these tests
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"


@contextmanager
def central_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty central database URL of `kind` ('sqlite' or 'postgresql'), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'central-{uuid.uuid4().hex[:6]}.db'}"
        return
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"clerk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class CentralServer:
    """`clerk-app central serve` as a real child process."""

    db_url: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()
    # Set when extra_args start it with --tls-cert/--tls-key: the URL is https, and the
    # readiness probe trusts this CA bundle (the PEM file of the CA that signed the cert).
    ca_bundle: str | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_bundle else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> CentralServer:
        env = {**os.environ, "CLERK_APP_DATA_DIR": str(self.data_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "clerk_app", "central", "serve", "--database", self.db_url,
             "--port", str(self.port), *self.extra_args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Generous: on a loaded machine importing the web stack alone took over 30 s.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"central service died: {self.proc.stderr.read()!r}"  # type: ignore[union-attr]
                                   )
            try:
                requests.get(f"{self.url}/v1/hello", timeout=1, verify=self.ca_bundle or True)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("central service did not start")

    def kill(self) -> None:
        """kill -9: no shutdown handlers, no flushing."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()


@contextmanager
def running_central(db_url: str, data_dir: Path, *, residents: int = 0,
                    seed: Callable[[Central, int], int] = seed_demo) -> Iterator[
        tuple[CentralServer, Central]]:
    """A seeded central database (`seed`: the demo register, or the benchmarks' copies of
    it), the service process on it, and an in-process `Central` on the same database for
    enrolment codes and checks."""
    db = open_database(db_url)
    central = Central(db)
    if residents:
        seed(central, residents)
    server = CentralServer(db_url, data_dir).start()
    try:
        yield server, central
    finally:
        server.stop()
        db.close()


class Workstation:
    """A workstation: its own encrypted register, enrolled with the central service."""

    def __init__(self, folder: Path, name: str, central: Central, url: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.path = folder / f"{name}.db"
        self.key = new_key()
        self.store = open_store(self.path, self.key, Actor(f"clerk-{name}", name, COUNTER_ROLES),
                                create=True)
        with self.store.transaction() as db:
            load_street_directory(db)
        code = central.issue_enrolment_code(name)
        enrol = CentralClient(url)
        self.token = enrol.enrol(code, name).token
        enrol.close()
        self.url = url
        self.client = CentralClient(url, self.token)

    def engine(self, **options: Any) -> SyncEngine:
        return SyncEngine(self.store, self.client, **options)

    def sync(self, **options: Any) -> SyncReport:
        return self.engine(**options).sync_once()

    def run(self, service: str, form: dict[str, Any], *, at: datetime | None = None,
            command_id: str | None = None) -> ServiceResult:
        moment = at or datetime.now(UTC)
        return run_service(self.store, service, form, command_id or uuid7(),
                           now=lambda: moment)

    def street(self, name: str = "Palmstraße") -> int:
        found = [s for s in find_streets(self.store, name) if s.name == name]
        assert found and found[0].id is not None
        return found[0].id

    def persons(self, limit: int = 20) -> list[str]:
        return [r[0] for r in self.store.conn.execute(
            "SELECT p.id FROM persons p WHERE EXISTS (SELECT 1 FROM residences r WHERE "
            "r.person_id = p.id AND r.move_out IS NULL AND r.kind IN ('alleinig', 'haupt')) "
            "AND NOT EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id) "
            "ORDER BY p.id LIMIT ?", (limit,))]

    def pending(self) -> int:
        return int(self.store.conn.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def status_of(self, command_id: str) -> str:
        return str(self.store.conn.execute("SELECT status FROM outbox WHERE command_id = ?",
                                           (command_id,)).fetchone()[0])

    def aggregates(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return (aggregates.read_all_persons(self.store.conn),
                aggregates.read_households(self.store.conn))

    def close(self) -> None:
        self.client.close()
        self.store.close()


def central_aggregates(db: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    """The central register's live aggregates (persons, households)."""
    import json

    persons: dict[str, Any] = {}
    households: dict[str, Any] = {}
    with db.transaction(write=False) as tx:
        for kind, rid, data in tx.execute("SELECT kind, id, data FROM aggregates "
                                          "WHERE deleted = 0"):
            (persons if kind == "person" else households)[rid] = json.loads(data)
    return persons, households


def command_counts(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as tx:
        return {s: int(n) for s, n in tx.execute(
            "SELECT status, count(*) FROM commands GROUP BY status")}


# --- forms -----------------------------------------------------------------------------------

def today_iso(days_ago: int = 0) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def landlord() -> dict[str, Any]:
    return {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
            "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}


def ummeldung(person_id: str, street_id: int, number: str = "7") -> dict[str, Any]:
    """One demo person moving alone: a minor of the family may stay behind (or the person is
    a minor), which the clerk acknowledges (`clerk_app.relations`); these tests are about
    the sync, not about that warning."""
    return {"persons": [{"person_id": person_id}],
            "address": {"street_id": street_id, "house_number": number},
            "kind": "alleinig", "move_in": today_iso(1), "landlord": landlord(),
            "minors_confirmed": True}


def anmeldung(street_id: int, family: str = "Wróbel", first: str = "Łukasz",
              born: str = "1991-03-04") -> dict[str, Any]:
    return {"persons": [{"family_name": family, "first_names": first, "birth_date": born,
                         "sex": "m", "birth_place": "Kraków", "birth_country": "POL",
                         "nationalities": ["POL"], "religion": "rk", "marital_status": "LD"}],
            "address": {"street_id": street_id, "house_number": "3"}, "kind": "alleinig",
            "move_in": today_iso(2), "landlord": landlord(),
            "previous_address": {"address": "ul. Długa 5, 30-001 Kraków"}}


def meldebescheinigung(person_id: str) -> dict[str, Any]:
    return {"person_id": person_id, "variant": "einfach", "payment": CASH}


def lebensbescheinigung(person_id: str) -> dict[str, Any]:
    return {"person_id": person_id, "institution": "Zakład Ubezpieczeń Społecznych, Polen",
            "id_document_checked": True}


def counter_work(ws: Workstation, persons: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` counter services on `persons`: certificates with cash, and moves (a move the
    counter refuses, e.g. to the current address, becomes a certificate)."""
    done = []
    for i in range(count):
        person = rng.choice(persons)
        roll = rng.random()
        service, form = (
            ("ummeldung", ummeldung(person, ws.street(), str(i % 60 + 1))) if roll < 0.2 else
            ("lebensbescheinigung", lebensbescheinigung(person)) if roll < 0.35 else
            ("meldebescheinigung", meldebescheinigung(person)))
        try:
            result = ws.run(service, form)
        except ClerkError:
            result = ws.run("meldebescheinigung", meldebescheinigung(person))
        done.append(result.command_id)
    return done


# --- fault injection and the invariants (tests/test_sync_faults.py, test_sync_property.py) ----

class FaultyClient(CentralClient):
    """A real client that keeps the push answers it got and can be cut off.

    After `cut_after` calls every further call fails with `CentralUnavailable`, as when the
    network goes away half way through a sync. With `lose_answer`, the call that meets the cut
    still reaches the service (which may commit) and only its answer is lost.
    """

    def __init__(self, base_url: str, token: str, *, cut_after: int | None = None,
                 lose_answer: bool = False, read_timeout: float = 120.0) -> None:
        super().__init__(base_url, token, read_timeout=read_timeout)
        self.cut_after = cut_after
        self.lose_answer = lose_answer
        self.calls = 0
        self.answers: list[PushResponse] = []

    def _call(self, method: str, path: str, answer: type[Model], **options: Any) -> Model:
        self.calls += 1
        if self.cut_after is not None and self.calls > self.cut_after:
            if self.lose_answer and self.calls == self.cut_after + 1:
                super()._call(method, path, answer, **options)
            raise CentralUnavailable("Die Verbindung zur Zentrale ist abgerissen.",
                                     f"cut by the test after {self.cut_after} calls")
        return super()._call(method, path, answer, **options)

    def push(self, commands: list[Command]) -> PushResponse:
        response = super().push(commands)
        self.answers.append(response)
        return response

    def statuses(self) -> dict[str, list[str]]:
        """Every answer per command id, in the order they came."""
        seen: dict[str, list[str]] = {}
        for response in self.answers:
            for result in response.results:
                seen.setdefault(result.command_id, []).append(result.status)
        return seen


def outbox_commands(ws: Workstation, statuses: tuple[str, ...] = ("pending",)) -> list[Command]:
    """The workstation's outbox rows as the engine sends them (for direct, replayed pushes)."""
    return [outbox_command(row) for row in ws.store.conn.execute(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status IN "
        f"({','.join('?' * len(statuses))}) ORDER BY seq", statuses)]


def commands_of(ws: Workstation, *command_ids: str) -> list[Command]:
    """These outbox commands (whatever their local status), in outbox order."""
    every = outbox_commands(ws, ("pending", "applied", "conflict", "rejected"))
    return [c for c in every if c.command_id in command_ids]


def sync_until_quiet(workstations: list[Workstation], *, rounds: int = 8) -> list[SyncReport]:
    """Sync every workstation in turn until a round moves nothing and every checksum agrees.

    A checksum mismatch on the way fails: it means a workstation diverged and needed a resync
    to repair it, which a correct sync never needs."""
    for _ in range(rounds):
        reports = [w.sync(check_every=0) for w in workstations]
        mismatched = [w.name for w, r in zip(workstations, reports, strict=True)
                      if r.checksum_ok is False]
        assert not mismatched, f"checksum mismatch on {mismatched}"
        if all(r.checksum_ok and not (r.pushed or r.pulled or r.bootstrapped or r.archived)
               for r in reports):
            return reports
    raise AssertionError(f"no quiet round after {rounds} rounds of syncing")


def resolve_open(ws: Workstation, decide: Callable[[dict[str, Any]], str]) -> int:
    """The clerk decides every open Klärfall of `ws` ('local' or 'central'); how many."""
    cases = [c for c in open_conflicts(ws.store) if c["state"] == "open"]
    for case in cases:
        resolve_conflict(ws.store, case["command_id"], decide(case))
    return len(cases)


def settle(workstations: list[Workstation], decide: Callable[[dict[str, Any]], str], *,
           rounds: int = 6) -> None:
    """Sync until quiet, decide the Klärfälle that came up, again, until none is left."""
    for _ in range(rounds):
        sync_until_quiet(workstations)
        if not sum(resolve_open(w, decide) for w in workstations):
            return
    raise AssertionError(f"Klärfälle still coming up after {rounds} rounds")


def assert_converged(db: Database, workstations: list[Workstation]) -> None:
    """Every workstation's register holds exactly the central register's aggregates."""
    central = central_aggregates(db)
    for ws in workstations:
        local = ws.aggregates()
        for kind, mine, theirs in zip(("person", "household"), local, central, strict=True):
            differing = sorted(k for k in mine.keys() | theirs.keys()
                               if mine.get(k) != theirs.get(k))
            assert not differing, f"{ws.name}: {kind}s differ from the centre: {differing[:5]}"


LedgerKeys = dict[tuple[str, str], list[str]]  # (ledger kind, command id) -> keys


def _local_side(workstations: list[Workstation]) -> tuple[dict[str, tuple[str, str, str | None]],
                                                          LedgerKeys]:
    """Every outbox row (id -> type, status, error), and the documents and receipts issued at
    the counters, by command."""
    outbox: dict[str, tuple[str, str, str | None]] = {}
    issued: LedgerKeys = {}
    for ws in workstations:
        q = ws.store.conn.execute
        outbox |= {cid: (ctype, status, error) for cid, ctype, status, error in q(
            "SELECT command_id, type, status, last_error FROM outbox")}
        for cid, number in q("SELECT command_id, number FROM documents"):
            issued.setdefault(("documents", cid), []).append(number)
        for cid, number, storno in q("SELECT command_id, receipt_number, reverses IS NOT NULL "
                                     "FROM cash_journal"):
            issued.setdefault(("cash_journal", cid), []).append(
                number + ("/storno" if storno else ""))
    return outbox, issued


def _central_side(db: Database, devices: list[str]) -> tuple[dict[str, str], LedgerKeys]:
    """The central commands of these devices (id -> status), and their ledger entries."""
    marks = ",".join("?" * len(devices))
    ledger: LedgerKeys = {}
    with db.transaction(write=False) as tx:
        commands = {cid: status for cid, status in tx.execute(
            f"SELECT command_id, status FROM commands WHERE device IN ({marks})", devices)}
        for kind, key, cid in tx.execute(
                f"SELECT l.kind, l.key, l.command_id FROM ledger l JOIN commands c ON "
                f"c.command_id = l.command_id WHERE c.device IN ({marks}) AND l.kind IN "
                "('documents', 'cash_journal')", devices):
            ledger.setdefault((kind, cid), []).append(key)
    return commands, ledger


def assert_exactly_once(db: Database, workstations: list[Workstation], *,
                        open_cases: frozenset[str] = frozenset()) -> None:
    """Every command of these workstations reached the centre exactly once, with its effect.

    No outbox command is left pending; the central `commands` table holds exactly these
    workstations' commands (none lost, none invented), with the status the workstation recorded
    (applied, or discarded by a 'central' Klärfall decision); each command's documents and
    receipts are in the central ledger, under that command, exactly as issued at the counter.
    Commands in `open_cases` may still wait in a Klärfall. A Klärfall decision the centre
    bounced (the central version moved on after the clerk saw it; the case opened again) is
    'rejected' locally and stored nowhere centrally.
    """
    outbox, issued = _local_side(workstations)
    central, ledger = _central_side(db, [ws.name for ws in workstations])
    bounced = {cid for cid, (ctype, status, _) in outbox.items()
               if ctype == RESOLUTION_COMMAND and status == "rejected"}
    assert sorted(central) == sorted(set(outbox) - bounced), \
        f"commands only local: {sorted(set(outbox) - bounced - set(central))}, " \
        f"only central: {sorted(set(central) - set(outbox))}"
    for cid, (ctype, status, error) in outbox.items():
        if cid in open_cases:
            assert status in ("conflict", "rejected"), f"{cid} should wait in a Klärfall"
        elif cid not in bounced:
            assert status != "pending", f"{ctype} {cid} still pending"
            expected = "discarded" if (status, error) == ("rejected", DISCARDED) else "applied"
            assert (status, central[cid]) == ({"applied": "applied", "discarded": "rejected"}[
                expected], expected), f"{ctype} {cid}: local {status}, central {central[cid]}"
        for kind in ("documents", "cash_journal"):
            here, there = sorted(issued.get((kind, cid), [])), sorted(ledger.get((kind, cid), []))
            assert here == there or cid in open_cases, \
                f"{kind} of {ctype} {cid} ({status}): central {there}, local {here}"


def central_command_rows(db: Database) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.execute("SELECT count(*) FROM commands")[0][0])


def reset_central(central: Central, residents: int) -> None:
    """Back to the freshly seeded register (SQLite only): the register, its change sequence,
    commands and ledger go; enrolled devices stay. Seeding is deterministic, so every reset
    gives the same register."""
    with central.db.transaction() as tx:
        keep = {"meta", "counter", "devices", "enrolment_codes", "schema_version"}
        for (table,) in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name NOT LIKE 'sqlite_%'"):
            if table not in keep:
                tx.execute(f"DELETE FROM {table}")
        tx.execute("UPDATE counter SET value = 0 WHERE name = 'seq'")
    seed_demo(central, residents)


# --- the change feed under concurrent writers (tests/test_sync_service.py, test_central_processes)

Page = tuple[int, list[AggregateRecord], int]  # (since, the page's changes, until)


def race_the_feed(writers: list[tuple[Callable[[], CentralClient], list[Command]]],
                  reader: Callable[[], CentralClient], start: int) -> tuple[list[str], list[Page]]:
    """Each writer pushes its commands one a request (one transaction each: most interleaving)
    in a thread of its own, while a reader pages /v1/changes from `start`, 3 at a time, until
    it has read past the last write. The push statuses and the pages read; fails unless the
    reader read changes while the writers were still at work."""
    finished = threading.Event()
    statuses: list[str] = []
    pages: list[Page] = []
    during_writes = 0  # pages with changes read while writers were still at work
    errors: list[BaseException] = []

    def write(client: Callable[[], CentralClient], batch: list[Command]) -> None:
        with closing(client()) as central:
            try:
                for command in batch:
                    statuses.extend(r.status for r in central.push([command]).results)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

    def read() -> None:
        nonlocal during_writes
        since = start
        with closing(reader()) as central:
            try:
                while True:
                    last_round = finished.is_set()  # then this page sees every write
                    page = central.changes(since, 3)
                    pages.append((since, page.changes, page.until))
                    during_writes += bool(page.changes and not last_round)
                    since = page.until
                    if last_round and not page.more:
                        return
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=pair) for pair in writers]
    reading = threading.Thread(target=read)
    reading.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    finished.set()
    reading.join(120)
    assert not errors, errors
    assert during_writes >= 2, "the reader did not race the writers"
    return statuses, pages


def assert_feed_complete(central: Central, pages: list[Page], start: int,
                         commands: list[Command]) -> None:
    """The reader's pages hold every change after `start` (those of `commands` among them) in
    strictly increasing sequence, each in its page's range, none skipped, up to the centre's
    high-water mark: a reader never passed a number that later turned up below its position."""
    seqs = [c.seq for _, changes, _ in pages for c in changes]
    assert seqs == sorted(set(seqs)), "sequence numbers must strictly increase"
    for since, changes, until in pages:
        assert since <= until and all(since < c.seq <= until for c in changes)
    replica = {(c.kind, c.id): c.data for _, changes, _ in pages for c in changes}
    persons, households = central_aggregates(central.db)
    with central.db.transaction(write=False) as tx:
        changed = {(str(k), str(i)) for k, i in tx.execute(
            "SELECT kind, id FROM aggregates WHERE seq > ?", (start,))}
    assert {k for k in changed if k[0] == "person"} >= {
        ("person", pid) for c in commands for pid in c.persons}
    now = {("person", k): v for k, v in persons.items()} | \
        {("household", k): v for k, v in households.items()}
    missed = sorted(k for k in changed if replica.get(k, "never read") != now.get(k))
    assert not missed, f"the reader skipped or lost changes: {missed[:5]}"
    assert pages[-1][2] == central.high_water_mark()
