"""The workstation's sync engine against a real central service process (SQLite database):
offline work reaches the centre once, central changes reach every workstation, a person with
unsynced work is never overwritten, Klärfälle are decided by a person, a checksum mismatch
leads to a full resync that keeps unsynced work, and the headless `clerk-app sync`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from clerk_app.clerks import Actor
from clerk_app.command_line import main
from clerk_app.ids import uuid7
from clerk_app.person_record import open_person
from clerk_app.search import search
from clerk_app.search_index import reindex_all
from clerk_app.services.runner import run_service
from clerk_app.store.db import open_store
from sync.client import CentralClient
from sync.engine import SyncEngine, conflicts_for_review, open_conflicts, resolve_conflict
from sync.protocol import BootstrapPage
from sync.server.central import Central
from sync.server.seed import seed_copies
from sync.state import RESYNC, SyncReport, get_setting, status
from tests.factories import COUNTER_ROLES
from tests.sync_support import (
    CentralServer,
    Workstation,
    anmeldung,
    central_aggregates,
    command_counts,
    commands_of,
    meldebescheinigung,
    running_central,
    ummeldung,
)

RESIDENTS = 80
# Each person's index: its joined terms, and the terms stored for its key (sorted).
INDEXED = """
SELECT k.person_id, k.words, (SELECT group_concat(term, '|') FROM (
         SELECT term FROM search_terms t WHERE t.key = k.key ORDER BY term))
  FROM person_search_keys k
"""


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path,
                         residents=RESIDENTS) as pair:
        yield pair


@pytest.fixture
def stations(tmp_path: Path, central: tuple[CentralServer, Central]) -> Iterator[
        tuple[Workstation, Workstation]]:
    server, service = central
    one = Workstation(tmp_path / "ws", "schalter1", service, server.url)
    two = Workstation(tmp_path / "ws", "mobil2", service, server.url)
    one.sync()
    two.sync()
    yield one, two
    one.close()
    two.close()


def converged(service: Central, *stations: Workstation) -> bool:
    wanted = central_aggregates(service.db)
    return all(s.aggregates() == wanted for s in stations)


def test_bootstrap_copies_the_central_register(stations: tuple[Workstation, Workstation],
                                               central: tuple[CentralServer, Central]) -> None:
    one, _ = stations
    persons, households = one.aggregates()
    assert len(persons) == RESIDENTS
    assert households
    assert converged(central[1], *stations)
    family = next(iter(persons.values()))["person"]["family_name"]
    assert search(one.store, family)  # the search index was built


def test_offline_work_reaches_the_centre_once_and_the_other_workstation(
        stations: tuple[Workstation, Workstation],
        central: tuple[CentralServer, Central]) -> None:
    one, two = stations
    person = one.persons(3)[0]
    moved = one.run("ummeldung", ummeldung(person, one.street("Palmstraße")))
    cert = one.run("meldebescheinigung", meldebescheinigung(person))
    new = one.run("anmeldung", anmeldung(one.street("Hauptstraße")))
    assert one.pending() == 3
    report = one.sync()
    assert (report.pushed, report.applied, report.conflicts) == (3, 3, 0)
    assert report.checksum_ok is True
    assert all(one.status_of(r.command_id) == "applied" for r in (moved, cert, new))
    # Pushing the same commands again applies nothing twice.
    again = one.client.push(commands_of(one, *(r.command_id for r in (moved, cert, new))))
    assert {r.status for r in again.results} == {"duplicate"}
    assert command_counts(central[1].db) == {"applied": 3}
    two.sync()
    assert converged(central[1], one, two)
    new_person = new.changed_persons[0]
    assert two.aggregates()[0][new_person]["person"]["family_name"] == "Wróbel"
    streets = [r["street"] for r in two.aggregates()[0][person]["residences"]
               if r["move_out"] is None]
    assert streets == ["Palmstraße"]


def test_a_person_with_unsynced_work_is_not_overwritten_and_the_conflict_waits_for_a_clerk(
        stations: tuple[Workstation, Workstation],
        central: tuple[CentralServer, Central]) -> None:
    one, two = stations
    person, other = one.persons(2)
    central_move = one.run("ummeldung", ummeldung(person, one.street("Palmstraße")))
    one.sync()
    # The mobile office, offline, moves the same person elsewhere and issues two certificates
    # (one for the same person, one for someone else).
    local_move = two.run("ummeldung", ummeldung(person, two.street("Hauptstraße"), "9"))
    same_person = two.run("meldebescheinigung", meldebescheinigung(person))
    someone_else = two.run("meldebescheinigung", meldebescheinigung(other))
    # Pulling first (no push): the central move is held back, the local move stays visible.
    report = SyncReport()
    two.engine().pull(report)
    assert report.held == 1
    assert _current_street(two, person) == "Hauptstraße"
    report = two.sync()
    assert (report.applied, report.conflicts, report.deferred) == (1, 1, 1)
    assert two.status_of(local_move.command_id) == "conflict"
    assert two.status_of(same_person.command_id) == "pending"   # waits for the Klärfall
    assert two.status_of(someone_else.command_id) == "applied"  # the others go on
    assert _current_street(two, person) == "Hauptstraße"
    [case] = open_conflicts(two.store)
    assert case["command_id"] == local_move.command_id
    assert "anderer Stelle" in case["reason"]
    server_streets = {r["street"] for rec in case["server_records"]
                      for r in rec["data"]["residences"] if r["move_out"] is None}
    local_streets = {r["street"] for rec in case["local_records"]
                     for r in rec["residences"] if r["move_out"] is None}
    assert (server_streets, local_streets) == ({"Palmstraße"}, {"Hauptstraße"})
    # The Klärfälle dialog's view: the same cases, each with the versions its command saw.
    [review] = conflicts_for_review(two.store)
    assert review["command_id"] == local_move.command_id
    assert f"persons/{person}" in review["base_versions"]
    assert status(two.store).open_conflicts == 1
    # Another sync does not change anything while nobody decided.
    assert two.sync().pushed == 0
    resolve_conflict(two.store, local_move.command_id, "local")
    report = two.sync()
    assert two.status_of(local_move.command_id) == "applied"
    assert two.status_of(same_person.command_id) == "applied"
    assert status(two.store).open_conflicts == 0
    one.sync()
    assert converged(central[1], one, two)
    assert _current_street(one, person) == "Hauptstraße"
    assert central_move.command_id != local_move.command_id


def test_deciding_for_the_central_version_restores_it_and_keeps_what_was_issued(
        stations: tuple[Workstation, Workstation],
        central: tuple[CentralServer, Central]) -> None:
    one, two = stations
    person = one.persons(1)[0]
    one.run("ummeldung", ummeldung(person, one.street("Palmstraße")))
    one.sync()
    local_move = two.run("ummeldung", ummeldung(person, two.street("Hauptstraße"), "9"))
    two.sync()
    assert two.status_of(local_move.command_id) == "conflict"
    resolve_conflict(two.store, local_move.command_id, "central")
    two.sync()
    assert two.status_of(local_move.command_id) == "rejected"
    assert _current_street(two, person) == "Palmstraße"
    assert converged(central[1], one, two)
    # The Meldebestätigung handed out at the counter is still on record centrally.
    number = local_move.documents[0].number
    with central[1].db.transaction(write=False) as tx:
        assert tx.execute("SELECT count(*) FROM ledger WHERE kind = 'documents' AND key = ?",
                          (number,))[0][0] == 1


def test_checksum_mismatch_resyncs_and_keeps_unsynced_work(
        stations: tuple[Workstation, Workstation],
        central: tuple[CentralServer, Central]) -> None:
    one, _ = stations
    damaged, busy = one.persons(2)
    with one.store.transaction():
        one.store.conn.execute("UPDATE persons SET family_name = 'Beschädigt' WHERE id = ?",
                               (damaged,))
    report = one.sync(check_every=0)  # a quiet sync checks at most hourly; now is due
    assert report.checksum_ok is False
    assert report.warnings and "Abweichungen" in report.warnings[0]
    assert get_setting(one.store, RESYNC) == "1"
    assert status(one.store).warning
    # Unsynced work made before the resync survives it and reaches the centre.
    pending = one.run("meldebescheinigung", meldebescheinigung(busy))
    report = one.sync()
    persons, households = central_aggregates(central[1].db)
    assert report.bootstrapped == len(persons) + len(households)
    assert report.checksum_ok is True
    assert one.status_of(pending.command_id) == "applied"
    assert one.aggregates()[0][damaged]["person"]["family_name"] != "Beschädigt"
    assert status(one.store).warning is None
    assert converged(central[1], one)


def _current_street(ws: Workstation, person: str) -> str:
    rows = ws.store.conn.execute("SELECT street FROM residences WHERE person_id = ? AND "
                                 "move_out IS NULL AND kind != 'neben'", (person,)).fetchall()
    assert len(rows) == 1
    return str(rows[0][0])


def test_headless_sync_command(tmp_path: Path, central: tuple[CentralServer, Central],
                               capsys: pytest.CaptureFixture[str]) -> None:
    server, service = central
    base = ["--data-dir", str(tmp_path / "cli"), "--set", "workstation=\"cli1\"",
            "--set", "demo_residents=0", "--set", f"central_url=\"{server.url}\""]
    assert main([*base, "demo-data", "--residents", "0"]) == 0
    assert main([*base, "sync", "--once"]) == 2  # not enrolled yet: a German message
    assert "nicht bei der Zentrale angemeldet" in capsys.readouterr().err
    assert main([*base, "sync", "enrol", service.issue_enrolment_code("cli1")]) == 0
    assert main([*base, "sync", "--once"]) == 0
    persons, households = central_aggregates(service.db)
    assert f"bootstrap {len(persons) + len(households)}," in capsys.readouterr().out
    assert main([*base, "sync", "status"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["pending"] == 0 and shown["last_success"]
    server.stop()
    assert main([*base, "sync", "--once"]) == 1
    assert "nicht erreichbar" in capsys.readouterr().err


def test_who_looked_at_whom_reaches_the_centre_once(
        stations: tuple[Workstation, Workstation],
        central: tuple[CentralServer, Central]) -> None:
    one, _ = stations
    person = one.persons(1)[0]
    open_person(one.store, person, "Auskunft am Schalter")
    report = one.sync()
    assert report.logged >= 1

    def central_reads() -> list[dict[str, object]]:
        with central[1].db.transaction(write=False) as tx:
            rows = tx.execute("SELECT data FROM ledger WHERE kind = 'access_log'")
        return [e for e in (json.loads(d) for (d,) in rows)
                if e["action"] == "read" and e["person_id"] == person]

    [entry] = central_reads()
    assert (entry["purpose"], entry["workstation"], entry["clerk"]) == (
        "Auskunft am Schalter", one.name, f"clerk-{one.name}")
    assert one.sync().logged == 0  # nothing new: nothing sent again
    with one.store.transaction():  # the position lost: the same entries again, stored once
        one.store.conn.execute("DELETE FROM settings WHERE key = 'sync.access_log_sent'")
    assert one.sync().logged >= 1
    assert len(central_reads()) == 1


def test_seed_refuses_bad_counts_and_a_central_register_that_is_not_empty(
        tmp_path: Path, central: tuple[CentralServer, Central],
        capsys: pytest.CaptureFixture[str]) -> None:
    server, _ = central
    base = ["--data-dir", str(tmp_path / "seed"), "central", "seed", "--database", server.db_url]
    with pytest.raises(SystemExit):
        main([*base, "--residents", "-5"])
    assert "keine Anzahl" in capsys.readouterr().err
    assert main([*base, "--residents", "5"]) == 2  # seeded by the fixture already
    assert "bereits ein Melderegister" in capsys.readouterr().err


def test_a_fresh_bootstrap_indexes_in_steps_and_a_counter_service_goes_between(
        tmp_path: Path, central: tuple[CentralServer, Central]) -> None:
    """The first bootstrap writes page by page and indexes in steps, in short transactions
    (no rebuild of the whole index in one): a counter service on the same workstation (its
    own thread and connection) is stored while the bootstrap writes, within its busy
    timeout, and in the end every person is found, as a rebuilt index would find them."""
    server, service = central
    ws = Workstation(tmp_path / "ws", "neu1", service, server.url)
    form = anmeldung(ws.street("Hauptstraße"))
    served: list[str] = []

    def serve() -> None:
        counter = open_store(ws.path, ws.key, Actor("clerk-neu1", "neu1", COUNTER_ROLES))
        try:
            counter.conn.execute("PRAGMA busy_timeout = 500")
            served.extend(run_service(counter, "anmeldung", form, uuid7()).changed_persons)
        finally:
            counter.close()

    class BetweenPages(CentralClient):
        pages = 0

        def bootstrap(self, *args: Any, **kwargs: Any) -> BootstrapPage:
            if self.pages == 2:
                # The first pages are in and the next is being written (the engine fetches
                # ahead): the counter serves a citizen meanwhile.
                clerk = threading.Thread(target=serve)
                clerk.start()
                clerk.join()
            self.pages += 1
            return super().bootstrap(*args, **kwargs)

    client = BetweenPages(server.url, ws.token)
    report = SyncEngine(ws.store, client, bootstrap_page=10).sync_once()
    assert client.pages > 5 and report.checksum_ok is True and served
    with ws.store.transaction() as db:
        indexed = {pid: (words, terms) for pid, words, terms in db.conn.execute(INDEXED)}
        reindex_all(db)
        rebuilt = {pid: (words, terms) for pid, words, terms in db.conn.execute(INDEXED)}
    assert indexed == rebuilt and len(indexed) == RESIDENTS + 1
    assert [h.id for h in search(ws.store, "Wróbel Łukasz")] == served
    assert ws.pending() == 1
    ws.close()


def test_seeded_copies_of_the_demo_register_bootstrap_as_a_register_of_their_own(
        tmp_path: Path) -> None:
    """The benchmarks' large central registers (`seed_copies`): the demo register repeated
    under fresh ids is a consistent register (no id twice, every household and relation of a
    copy its own), and a workstation copies it with matching checksums."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path, residents=60,
                         seed=partial(seed_copies, base=20)) as (server, service):
        persons, households = central_aggregates(service.db)
        copied = [pid for pid in persons if pid[14] == "0"]  # the second copy's mark
        assert len(persons) == 60 and len(copied) == 20
        for person in persons.values():
            assert person["person"]["household_id"] in households
            for relation in person["relations"]:
                assert relation["related_id"] in persons
        ws = Workstation(tmp_path / "ws", "gross", service, server.url)
        report = ws.sync()
        assert report.checksum_ok is True and report.bootstrapped == 60 + len(households)
        assert ws.store.conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 60
        ws.close()
