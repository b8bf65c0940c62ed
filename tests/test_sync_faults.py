"""Fault injection at the sync's dangerous points, with real processes and real sockets.

The central service is a real child process on 127.0.0.1 (SQLite file or PostgreSQL), killed
with SIGKILL in the middle of a push batch; a real TCP proxy (`tests/tcp_proxy.py`) loses the
service's answer after it committed, delivers requests twice, or holds one back until a newer one
went through; a workstation process is killed at random moments while it works and syncs; and
workstation clocks are hours off or in the hour that a DST change repeats.

After each fault the same invariants (tests/sync_support.py): every command reached the centre
exactly once with its documents and receipts, no outbox command was lost, and every workstation
holds the central register, confirmed by the engine's own checksum comparison.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlcipher3

from clerk_app.keys import file_key
from clerk_app.store.db import Actor, connect_encrypted, open_store
from sync.central_errors import CentralUnavailable
from sync.client import CentralClient
from sync.engine import SyncEngine, resolve_conflict
from sync.server.central import Central
from sync.server.storage import sqlite_path
from tests.factories import COUNTER_ROLES
from tests.sync_support import (
    ROOT,
    CentralServer,
    FaultyClient,
    Workstation,
    assert_converged,
    assert_exactly_once,
    central_command_rows,
    central_database,
    command_counts,
    counter_work,
    lebensbescheinigung,
    meldebescheinigung,
    outbox_commands,
    running_central,
    settle,
    sync_until_quiet,
    ummeldung,
)
from tests.tcp_proxy import Fault, Request, TcpProxy

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and loopback sockets")

RESIDENTS = 40
BATCH = 120  # commands in the batch the central service is killed in
KINDS = ["sqlite", "postgresql"]


@contextmanager
def central_behind_proxy(kind: str, tmp_path: Path) -> Iterator[
        tuple[CentralServer, Central, TcpProxy]]:
    """A seeded central service of `kind`, with a fault-injecting proxy in front of it."""
    with central_database(kind, tmp_path) as url, \
            running_central(url, tmp_path, residents=RESIDENTS) as (server, central), \
            TcpProxy(server.port) as proxy:
        yield server, central, proxy


def check_all(central: Central, workstations: list[Workstation]) -> None:
    assert_exactly_once(central.db, workstations)
    assert_converged(central.db, workstations)


# --- 1. the central service killed mid-batch ---------------------------------------------------

class Killer:
    """SIGKILLs the service during a push: `delay` seconds after it began applying the batch
    (it holds the change-sequence lock), or (delay None) as soon as the batch is committed."""

    def __init__(self, server: CentralServer, central: Central, delay: float | None) -> None:
        self.server, self.central, self.delay = server, central, delay
        self.before = central_command_rows(central.db)
        self.thread: threading.Thread | None = None

    def __call__(self, request: Request) -> None:
        if request.path.startswith("/v1/push") and self.thread is None:
            self.thread = threading.Thread(target=self._kill, daemon=True)
            self.thread.start()

    def _kill(self) -> None:
        if self.delay is None:
            wait_until(lambda: central_command_rows(self.central.db) != self.before)
        else:
            with SequenceLockProbe(self.server.db_url) as probe:
                wait_until(probe.held)
            time.sleep(self.delay)
        self.server.kill()

    def join(self) -> None:
        assert self.thread is not None, "no push reached the service"
        self.thread.join(60)


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)


class SequenceLockProbe:
    """Tells whether a writer holds the central change-sequence lock, i.e. a push batch is
    being applied (see sync.server.storage), without waiting for it."""

    def __init__(self, db_url: str) -> None:
        path = sqlite_path(db_url)
        self.sqlite = path is not None
        self.conn: Any = (
            connect_encrypted(path, file_key(path.with_name(path.name + ".key"), create=False),
                              timeout_ms=0)
            if path is not None else psycopg.connect(db_url, autocommit=True))

    def held(self) -> bool:
        try:
            if self.sqlite:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.execute("ROLLBACK")
            else:
                with self.conn.transaction():
                    self.conn.execute("SELECT 1 FROM counter WHERE name = 'seq' FOR UPDATE NOWAIT")
        except (sqlcipher3.OperationalError, psycopg.errors.LockNotAvailable):
            return True
        return False

    def __enter__(self) -> SequenceLockProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


@pytest.mark.parametrize("kind", KINDS)
def test_central_killed_mid_batch_applies_each_command_once(kind: str, tmp_path: Path) -> None:
    with central_behind_proxy(kind, tmp_path) as (server, central, proxy):
        ws = Workstation(tmp_path, "kasse1", central, proxy.url)
        sync_until_quiet([ws])
        persons = ws.persons(8)
        rng = random.Random(f"kill-{kind}")
        # In the middle of the batch's replay, then right after its commit.
        for delay in (0.1, None):
            counter_work(ws, persons, BATCH, rng)
            killer = Killer(server, central, delay)
            proxy.on_forward = killer
            # Whatever the service still gets out before it dies never reaches the client.
            proxy.arm("/v1/push", Fault.DROP_AFTER_ANSWER)
            with pytest.raises(CentralUnavailable):
                ws.sync(batch=BATCH)
            killer.join()
            proxy.on_forward = None
            committed = central_command_rows(central.db) - killer.before
            assert committed == (BATCH if delay is None else 0), \
                f"kill after {delay}s: the batch must die whole or commit whole, not {committed}"
            assert ws.pending() == BATCH
            server.start()  # same database, same port
            client = FaultyClient(proxy.url, ws.token)
            SyncEngine(ws.store, client, batch=BATCH).sync_once()
            answers = {s for seen in client.statuses().values() for s in seen}
            assert answers == {"applied" if committed == 0 else "duplicate"}
            sync_until_quiet([ws])
            check_all(central, [ws])
        assert command_counts(central.db) == {"applied": 2 * BATCH}


# --- 2. the answer lost after the service committed ---------------------------------------------

@pytest.mark.parametrize(("fault", "kind"), [(Fault.DROP_WHEN_ANSWER_STARTS, "sqlite"),
                                             (Fault.DROP_AFTER_ANSWER, "sqlite"),
                                             (Fault.DROP_AFTER_ANSWER, "postgresql")])
def test_lost_answer_is_answered_as_duplicate(fault: Fault, kind: str, tmp_path: Path) -> None:
    with central_behind_proxy(kind, tmp_path) as (_, central, proxy):
        ws = Workstation(tmp_path, "kasse1", central, proxy.url)
        sync_until_quiet([ws])
        done = counter_work(ws, ws.persons(6), 30, random.Random(2))
        proxy.arm("/v1/push", fault)
        with pytest.raises(CentralUnavailable):
            ws.sync()
        assert len(proxy.faults(fault)) == 1
        assert command_counts(central.db) == {"applied": 30}, "the service committed"
        assert ws.pending() == 30, "the workstation never saw the answer"
        client = FaultyClient(proxy.url, ws.token)
        report = SyncEngine(ws.store, client).sync_once()
        assert report.applied == 30 and report.checksum_ok
        assert client.statuses() == {cid: ["duplicate"] for cid in done}
        sync_until_quiet([ws])
        check_all(central, [ws])


def test_lost_answer_to_a_klaerfall_resolution(tmp_path: Path) -> None:
    """The Klärfall decision committed centrally, its answer lost: the Klärfall stays
    'resolving', settles with the 'duplicate' answer, and the certificate that waited for it
    goes through; everything recorded once."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        a = Workstation(tmp_path, "kasse1", central, proxy.url)
        b = Workstation(tmp_path, "kasse2", central, proxy.url)
        sync_until_quiet([a, b])
        person = a.persons(1)[0]
        a.run("ummeldung", ummeldung(person, a.street(), "11"))
        mine = b.run("ummeldung", ummeldung(person, b.street("Hauptstraße"), "12"))
        after = b.run("meldebescheinigung", meldebescheinigung(person))
        a.sync()
        b.sync()
        assert (b.status_of(mine.command_id), b.pending()) == ("conflict", 1)
        resolve_conflict(b.store, mine.command_id, "local")
        proxy.arm("/v1/push", Fault.DROP_AFTER_ANSWER)
        with pytest.raises(CentralUnavailable):
            b.sync()
        state = b.store.conn.execute("SELECT state FROM conflicts").fetchone()[0]
        assert state == "resolving"
        sync_until_quiet([a, b])
        assert b.status_of(mine.command_id) == b.status_of(after.command_id) == "applied"
        check_all(central, [a, b])


# --- 3. duplicate and reordered delivery --------------------------------------------------------

@pytest.mark.parametrize(("fault", "kind"), [(Fault.DUPLICATE, "sqlite"),
                                             (Fault.DUPLICATE_CONCURRENT, "sqlite"),
                                             (Fault.DUPLICATE_CONCURRENT, "postgresql")])
def test_batches_delivered_twice(fault: Fault, kind: str, tmp_path: Path) -> None:
    """Each push delivered twice (one after the other, or both at once: two transactions
    race for the same commands): the second delivery changes nothing."""
    with central_behind_proxy(kind, tmp_path) as (_, central, proxy):
        stations = [Workstation(tmp_path, f"kasse{i}", central, proxy.url) for i in (1, 2)]
        sync_until_quiet(stations)
        persons = stations[0].persons(6)
        rng = random.Random(3)
        for ws in stations:
            counter_work(ws, persons, 25, rng)
        proxy.arm("/v1/push", fault, times=4)
        settle(stations, lambda case: "local")
        assert len(proxy.faults(fault)) >= 2
        check_all(central, stations)


def test_held_request_delivered_after_the_retry(tmp_path: Path) -> None:
    """A push the network delays until after the client gave up and pushed again."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        ws = Workstation(tmp_path, "kasse1", central, proxy.url)
        sync_until_quiet([ws])
        counter_work(ws, ws.persons(5), 20, random.Random(4))
        proxy.arm("/v1/push", Fault.HOLD)
        impatient = FaultyClient(proxy.url, ws.token, read_timeout=0.5)
        with pytest.raises(CentralUnavailable):
            SyncEngine(ws.store, impatient).sync_once()
        assert command_counts(central.db) == {}, "the first push is still on its way"
        sync_until_quiet([ws])
        assert command_counts(central.db) == {"applied": 20}
        proxy.release()  # the stale first push arrives now
        proxy.wait_idle()
        assert len(proxy.faults(Fault.HOLD)) == 1
        assert command_counts(central.db) == {"applied": 20}
        sync_until_quiet([ws])
        check_all(central, [ws])


def test_later_batch_of_a_device_before_its_earlier_one(tmp_path: Path) -> None:
    """The second half of a device's commands arrives first: the one that builds on a move not
    yet there is a conflict for now, but not final; in order it is applied, once."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        ws = Workstation(tmp_path, "kasse1", central, proxy.url)
        sync_until_quiet([ws])
        p, q = ws.persons(2)
        ws.run("ummeldung", ummeldung(p, ws.street(), "21"))
        ws.run("meldebescheinigung", meldebescheinigung(p))
        ws.run("ummeldung", ummeldung(p, ws.street("Hauptstraße"), "22"))
        ws.run("meldebescheinigung", meldebescheinigung(q))
        first, second = outbox_commands(ws)[:2], outbox_commands(ws)[2:]
        early = ws.client.push(second)
        assert [r.status for r in early.results] == ["conflict", "applied"]
        late = ws.client.push(first)
        assert [r.status for r in late.results] == ["applied", "applied"]
        again = ws.client.push(second + first)
        assert [r.status for r in again.results] == ["applied", "duplicate", "duplicate",
                                                     "duplicate"]
        sync_until_quiet([ws])
        check_all(central, [ws])


def test_two_devices_interleaved_in_odd_orders(tmp_path: Path) -> None:
    """Batches of two devices on the same persons, delivered in a shuffled order, half of them
    twice, before the engines sync: decisions follow versions, effects happen once."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        stations = [Workstation(tmp_path, f"kasse{i}", central, proxy.url) for i in (1, 2)]
        sync_until_quiet(stations)
        persons = stations[0].persons(4)
        rng = random.Random(5)
        batches = []
        for ws in stations:
            counter_work(ws, persons, 12, rng)
            commands = outbox_commands(ws)
            batches += [(ws, commands[i:i + 3]) for i in range(0, len(commands), 3)]
        deliveries = batches + rng.sample(batches, len(batches) // 2)
        rng.shuffle(deliveries)
        for ws, batch in deliveries:
            ws.client.push(batch)
        settle(stations, lambda case: rng.choice(["local", "central"]))
        check_all(central, stations)


def test_conflicting_pushes_reordered_by_the_network(tmp_path: Path) -> None:
    """Two workstations move the same person; the first one's push is held back until the
    second's went through: the second wins, the first gets a Klärfall, both converge."""
    with central_database("sqlite", tmp_path) as url, \
            running_central(url, tmp_path, residents=RESIDENTS) as (server, central), \
            TcpProxy(server.port) as slow, TcpProxy(server.port) as fast:
        a = Workstation(tmp_path, "kasse1", central, slow.url)
        b = Workstation(tmp_path, "kasse2", central, fast.url)
        sync_until_quiet([a, b])
        person = a.persons(1)[0]
        first = a.run("ummeldung", ummeldung(person, a.street(), "31"))
        second = b.run("ummeldung", ummeldung(person, b.street("Hauptstraße"), "32"))
        slow.arm("/v1/push", Fault.HOLD)
        overtaking = threading.Thread(target=sync_when_held, args=(b, slow))
        overtaking.start()
        a.sync()  # held in the proxy until b's push went through
        overtaking.join(30)
        assert (a.status_of(first.command_id), b.status_of(second.command_id)) == \
            ("conflict", "applied")
        settle([a, b], lambda case: "central")
        assert a.status_of(first.command_id) == "rejected"
        check_all(central, [a, b])


def sync_when_held(ws: Workstation, proxy: TcpProxy) -> None:
    """Once `proxy` holds a push, sync `ws` (own connection: this is another thread), then let
    the held push go on."""
    try:
        while not proxy.faults(Fault.HOLD):
            time.sleep(0.01)
        actor = Actor(f"clerk-{ws.name}", ws.name, COUNTER_ROLES)
        with open_store(ws.path, ws.key, actor) as store:
            SyncEngine(store, CentralClient(ws.url, ws.token)).sync_once()
    finally:
        proxy.release()


# --- 4. the workstation killed while it works and syncs -----------------------------------------

WORKER = textwrap.dedent("""
    import json, random, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from clerk_app.ids import uuid7
    from clerk_app.services.runner import run_service
    from clerk_app.errors import ClerkError
    from clerk_app.store.db import Actor, open_store
    from sync.client import CentralClient
    from sync.central_errors import CentralUnavailable
    from sync.engine import SyncEngine
    from tests.factories import COUNTER_ROLES
    from tests.sync_support import meldebescheinigung, ummeldung

    job = json.loads(sys.argv[1])
    actor = Actor(job["clerk"], job["name"], COUNTER_ROLES)
    store = open_store(Path(job["path"]), job["key"], actor)
    engine = SyncEngine(store, CentralClient(job["url"], job["token"]), batch=3)
    rng = random.Random(job["seed"])
    print("ready", flush=True)
    number = 0
    while True:
        for _ in range(rng.randint(1, 5)):
            number += 1
            person = rng.choice(job["persons"])
            try:
                if rng.random() < 0.3:
                    run_service(store, "ummeldung", ummeldung(person, job["street"],
                                                              str(number % 60 + 1)), uuid7())
                else:
                    run_service(store, "meldebescheinigung", meldebescheinigung(person),
                                uuid7())
            except ClerkError:
                pass  # refused at the counter (a move to the current address): no command
        try:
            engine.sync_once()
        except CentralUnavailable:
            pass
""")


def test_workstation_killed_at_random_moments(tmp_path: Path) -> None:
    """A workstation process issuing certificates and moves and syncing in small batches, killed
    at random moments (between services, in a local commit, in the middle of a push whose
    answer it never records): a new engine then brings every locally committed command to the
    centre exactly once."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        ws = Workstation(tmp_path, "kasse1", central, proxy.url)
        sync_until_quiet([ws])
        rng = random.Random(6)
        job = {"path": str(ws.path), "key": ws.key, "clerk": "clerk-kasse1", "name": "kasse1",
               "url": proxy.url, "token": ws.token, "persons": ws.persons(6),
               "street": ws.street()}
        for round_ in range(5):
            child = subprocess.Popen(
                [sys.executable, "-c", WORKER.format(root=str(ROOT)),
                 json.dumps({**job, "seed": round_})],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert child.stdout is not None and child.stdout.readline().strip() == "ready", \
                child.stderr.read() if child.stderr else ""
            time.sleep(rng.uniform(0.2, 1.2))
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            for stream in (child.stdout, child.stderr):
                if stream:
                    stream.close()
            assert_register_intact(ws)
        committed = ws.store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        assert committed > 12, "the worker should have completed services between the kills"
        sync_until_quiet([ws])
        check_all(central, [ws])


def assert_register_intact(ws: Workstation) -> None:
    """SQLite's integrity check, on a new connection: a long-lived one may hold FTS5 index
    structure cached from before the killed process wrote, which the check (SQLite 3.53)
    reports as corruption although the file is sound (FTS5's own check agrees it is)."""
    with open_store(ws.path, ws.key, Actor("pruefung", ws.name, COUNTER_ROLES)) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --- 5. clock skew and the DST hour -------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


CLOCKS: dict[str, tuple[Clock, Clock]] = {
    "right": (_now, _now),
    "first ahead": (lambda: _now() + timedelta(hours=5), lambda: _now() - timedelta(hours=5)),
    "first behind": (lambda: _now() - timedelta(hours=5), lambda: _now() + timedelta(hours=5)),
    # 02:30 on 25 Oct 2026 happens twice in Berlin: summer time (fold 0), then winter time.
    "DST repeated hour": (lambda: datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1),
                          lambda: datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)),
}


def test_clock_skew_changes_no_decision(tmp_path: Path) -> None:
    """Two workstations move the same person; the later push loses, whatever the clocks say.
    Every clock setting gives the outcome of right clocks, and everything converges."""
    with central_behind_proxy("sqlite", tmp_path) as (_, central, proxy):
        a = Workstation(tmp_path, "kasse1", central, proxy.url)
        b = Workstation(tmp_path, "kasse2", central, proxy.url)
        sync_until_quiet([a, b])
        persons = a.persons(2 * len(CLOCKS))
        outcomes = {}
        for i, (name, (clock_a, clock_b)) in enumerate(CLOCKS.items()):
            moved, other = persons[2 * i:2 * i + 2]
            outcomes[name] = skewed_round(a, b, moved, other, clock_a, clock_b)
            check_all(central, [a, b])
        assert all(o == outcomes["right"] for o in outcomes.values()), outcomes
        assert outcomes["right"][0] == ["conflict", "applied", "applied", "applied"]


def skewed_round(a: Workstation, b: Workstation, moved: str, other: str, clock_a: Clock,
                 clock_b: Clock) -> list[list[str]]:
    """A moves `moved` with a clock that reads later than B's; B moves them too and syncs
    first. Both issue certificates for `other`. A's Klärfall is decided 'local'."""
    ids = [a.run("ummeldung", move_on(clock_a(), moved, a.street(), "41"),
                 at=clock_a()).command_id,
           a.run("meldebescheinigung", meldebescheinigung(other), at=clock_a()).command_id,
           b.run("ummeldung", move_on(clock_b(), moved, b.street("Hauptstraße"), "42"),
                 at=clock_b()).command_id,
           b.run("lebensbescheinigung", lebensbescheinigung(other), at=clock_b()).command_id]
    b.sync()
    a.sync()
    stations = (a, a, b, b)
    first = [ws.status_of(cid) for ws, cid in zip(stations, ids, strict=True)]
    resolve_conflict(a.store, ids[0], "local")
    sync_until_quiet([a, b])
    return [first, [ws.status_of(cid) for ws, cid in zip(stations, ids, strict=True)]]


def move_on(moment: datetime, person: str, street: int, number: str) -> dict[str, object]:
    """An Ummeldung with the move the day before the workstation's (maybe wrong) today."""
    return {**ummeldung(person, street, number),
            "move_in": (moment.astimezone().date() - timedelta(days=1)).isoformat()}
