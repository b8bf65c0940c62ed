"""The central service as several processes over one PostgreSQL (issue 16).

Nothing a request needs lives in one process's memory (enrolment codes, device tokens, clerk
sessions and the login throttle, the change feed: all in the database), so a workstation may
reach any process with any request, as behind a load balancer without sticky sessions. Here:
two real `clerk-app central serve` processes on two ports over one PostgreSQL database,
started at once on the empty database (both migrate it), and workstations whose requests
alternate between them request by request. Every guarantee of the sync must hold as with one
process: each command applied exactly once, a gap-free change feed under concurrent writers,
Klärfälle decided through either process; and one enrolment code gives one token however many
processes are asked at once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sync.central_errors import CentralRefused
from sync.client import CentralClient, check_url
from sync.protocol import RESOLUTION_COMMAND, Command
from sync.server.central import Central
from sync.server.office_keys import OfficeKeys
from sync.server.seed import seed_demo
from sync.server.storage import SCHEMA_VERSION, open_database
from tests.sync_support import (
    CentralServer,
    Model,
    Workstation,
    anmeldung,
    assert_converged,
    assert_exactly_once,
    assert_feed_complete,
    central_database,
    counter_work,
    outbox_commands,
    race_the_feed,
    settle,
    sync_until_quiet,
)

RESIDENTS = 40
GIVEN = ("Łukasz", "Zofia", "Jan", "Agnieszka")


class RoundRobinClient(CentralClient):
    """A real client whose every request goes to the next of several service processes, as a
    load balancer without sticky sessions may send it."""

    def __init__(self, urls: list[str], token: str | None, *, first: int = 0) -> None:
        super().__init__(urls[0], token)
        self.urls = [check_url(url) for url in urls]
        self.calls = first

    def _call(self, method: str, path: str, answer: type[Model], **options: Any) -> Model:
        self.base_url = self.urls[self.calls % len(self.urls)]
        self.calls += 1
        return super()._call(method, path, answer, **options)


@contextmanager
def two_processes(tmp_path: Path) -> Iterator[tuple[list[str], Central]]:
    """Two service processes started at the same moment on one new PostgreSQL database (their
    URLs), and an in-process `Central` on it for enrolment codes and checks."""
    with central_database("postgresql", tmp_path) as url, ExitStack() as stack:
        servers = [CentralServer(url, tmp_path / f"process{i}") for i in (1, 2)]
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(CentralServer.start, servers))
        db = open_database(url)
        stack.callback(db.close)
        central = Central(db)
        seed_demo(central, RESIDENTS)
        yield [server.url for server in servers], central


def test_processes_started_at_once_migrate_a_new_database_once(tmp_path: Path) -> None:
    """Service processes brought up together (a deployment, a restart of all) over one new
    database: every one comes up, and every migration ran exactly once."""
    with central_database("postgresql", tmp_path) as url:
        starting = threading.Barrier(6)

        def start(_: int) -> int:
            starting.wait()
            db = open_database(url)
            try:
                with db.transaction(write=False) as tx:
                    return int(tx.execute("SELECT version FROM schema_version")[0][0])
            finally:
                db.close()

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(start, range(6))) == [SCHEMA_VERSION] * 6
        db = open_database(url)
        with db.transaction(write=False) as tx:
            assert tx.execute("SELECT count(*) FROM schema_version")[0][0] == 1
            # the sequences the migrations start, each once and untouched
            assert [tuple(r) for r in tx.execute(
                "SELECT name, value FROM counter ORDER BY name")] == [("inbox", 0), ("seq", 0)]
        db.close()


def test_workstations_synced_through_two_processes_alternately(tmp_path: Path) -> None:
    """Three workstations work offline on the same persons and sync, every request to the
    other process than the one before: conflicts become Klärfälle, decided at random and sent
    through either process; in the end every command is applied (or discarded) exactly once,
    each document and receipt is in the central ledger once, every register equals the
    centre's."""
    with two_processes(tmp_path) as (urls, central):
        stations = [Workstation(tmp_path / "ws", f"kasse{i}", central, urls[i % 2])
                    for i in range(3)]
        for i, ws in enumerate(stations):
            ws.client.close()
            ws.client = RoundRobinClient(urls, ws.token, first=i)
        sync_until_quiet(stations)
        persons = stations[0].persons(5)
        rng = random.Random(16)
        for _ in range(3):
            for ws in stations:
                counter_work(ws, persons, 8, rng)
            settle(stations, lambda case: rng.choice(["local", "central"]))
        decided = sum(1 for ws in stations for (kind,) in ws.store.conn.execute(
            "SELECT type FROM outbox WHERE type = ?", (RESOLUTION_COMMAND,)))
        assert decided >= 2, "the workstations met no Klärfall: the test proves too little"
        assert_exactly_once(central.db, stations)
        assert_converged(central.db, stations)
        for ws in stations:
            ws.close()


def test_a_reader_of_either_process_misses_no_change_of_concurrent_writers(
        tmp_path: Path) -> None:
    """Writers push through both processes at once, one command a request, while a reader
    pages the change feed alternately from both: it never passes a sequence number that later
    turns up below its position, and ends with every change."""
    with two_processes(tmp_path) as (urls, central):
        writers = [Workstation(tmp_path / "ws", f"schalter{i}", central, urls[i % 2])
                   for i in range(4)]
        batches: list[list[Command]] = []
        for w, ws in enumerate(writers):
            for i, family in enumerate(("Wróbel", "Nowak", "Kowalski", "Zieliński", "Wójcik")):
                ws.run("anmeldung", anmeldung(ws.street("Hauptstraße"), family, GIVEN[w],
                                              f"19{60 + w}-0{i + 1}-1{w}"))
            batches.append(outbox_commands(ws))
        start = central.high_water_mark()
        statuses, pages = race_the_feed(
            [(partial(RoundRobinClient, urls, ws.token, first=i), batch)
             for i, (ws, batch) in enumerate(zip(writers, batches, strict=True))],
            partial(RoundRobinClient, urls, writers[0].token), start)
        assert statuses == ["applied"] * sum(map(len, batches))
        assert_feed_complete(central, pages, start, [c for b in batches for c in b])
        for ws in writers:
            ws.close()


def test_one_enrolment_code_redeemed_through_both_processes_at_once(tmp_path: Path) -> None:
    """Eight redemptions of one code, half through each process, at the same moment: one
    token, seven refusals, one device."""
    with two_processes(tmp_path) as (urls, central):
        code = central.issue_enrolment_code("Schalter 9")
        together = threading.Barrier(8)

        def redeem(i: int) -> str | None:
            with closing(CentralClient(urls[i % 2])) as client:
                together.wait()
                try:
                    return client.enrol(code, "Schalter 9").token
                except CentralRefused:
                    return None

        with ThreadPoolExecutor(8) as pool:
            tokens = [t for t in pool.map(redeem, range(8)) if t]
        assert len(tokens) == 1
        assert [d.name for d in central.devices()] == ["Schalter 9"]



def test_the_key_list_signing_key_is_made_once_by_processes_at_once(tmp_path: Path) -> None:
    """The first requests for the office key list reach several processes at the same moment:
    one signing key is made and every process signs with it."""
    with central_database("postgresql", tmp_path) as url:
        db = open_database(url)
        together = threading.Barrier(6)

        def public_key(_: int) -> str:
            together.wait()
            return OfficeKeys(db).list_public_key()

        try:
            with ThreadPoolExecutor(6) as pool:
                assert len(set(pool.map(public_key, range(6)))) == 1
        finally:
            db.close()
