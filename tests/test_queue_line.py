"""The centre's "call next" statement (`sync.server.queue_line`) calls in exactly the order of
the core's rule (`clerk_app.queue.ordering`), on SQLite and PostgreSQL: random waiting rooms
with due and not yet due appointments, priorities, forwarded visits, services partly done,
ties in the waiting time, labels in upper and lower case (the statement asks for code-point
order, whatever the database's collation), times written in another zone; each counter calls
until nobody is left for it. The counter's waiting line as the centre reads it (what the panel
shows) is held to the same rule at every step."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from clerk_app.ids import new_id
from clerk_app.queue.configuration import load_queue_config
from clerk_app.queue.ordering import next_visit, waiting_line
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT, WALK_IN, Visit
from sync.server.queue_central import CentralQueue
from sync.server.queue_line import claim_next
from sync.server.storage import Database, open_database
from tests.queue_support import BERLIN, MONDAY_9, Clock
from tests.sync_support import central_database

CONFIG = load_queue_config(Path(__file__).parent / "data" / "queue-test.toml")
TODAY = MONDAY_9.astimezone(BERLIN).date().isoformat()
COUNTERS = ("b1", "c1", "c2", "m1")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with central_database(request.param, tmp_path) as url:
        database = open_database(url)
        yield database
        database.close()


def waiting_room(rng: random.Random) -> list[Visit]:
    """Forty visits of today (and a few of another day or not waiting)."""
    visits = []
    for _ in range(40):
        services = tuple(rng.sample(["kurz", "lang"], rng.randint(1, 2)))
        queued = MONDAY_9 - timedelta(minutes=rng.choice([0, 0, 3, 7, 12, 30]))
        if rng.random() < 0.3:  # the same instant, written in office time
            queued = queued.astimezone(BERLIN)
        appointment = rng.random() < 0.35
        visits.append(Visit(
            id=new_id(), label=rng.choice(["W001", "W002", "a17", "B17", "Z9", "b17"]),
            kind=APPOINTMENT if appointment else WALK_IN,
            location=rng.choice(["amt"] * 5 + ["mobil"]),
            day=TODAY if rng.random() < 0.95 else "2026-12-06",
            state=rng.choice([VisitState.QUEUED] * 8 + [VisitState.PARKED, VisitState.MISSED]),
            services=services, services_done=services[:1] if rng.random() < 0.15 else (),
            priority=rng.choice([1, 1, 1, 2, 3]),
            appointment_at=MONDAY_9 + timedelta(minutes=rng.choice([-20, -5, 0, 4, 6, 30]))
            if appointment else None,
            target_counter=rng.choice([None] * 6 + ["c1", "b1"]),
            created_at=queued, queued_at=queued, version=1, updated_at=queued))
    return visits


@pytest.mark.parametrize("seed", range(6))
def test_the_database_calls_in_the_order_of_the_core_s_rule(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    clock = Clock(MONDAY_9 + timedelta(minutes=rng.choice([0, 1, 10])))
    queue = CentralQueue(db, CONFIG, clock=clock)
    visits = {v.id: v for v in waiting_room(rng)}
    with db.transaction() as tx:
        for visit in visits.values():
            queue._insert(tx, visit)
    for code in COUNTERS:
        counter = CONFIG.counter(code)
        while True:
            today = [v for v in visits.values() if v.day == TODAY]
            line = waiting_line(today, counter, clock(), CONFIG.settings)
            # The panel's line read: the same order, every visit waiting for the counter.
            assert [v.id for v in queue.waiting_line(code)] == [v.id for v in line], code
            expected = next_visit(today, counter, clock(), CONFIG.settings)
            with db.transaction() as tx:
                rows = tx.execute(*claim_next(db.dialect, counter, TODAY, clock(),
                                              CONFIG.settings))
            got = json.loads(rows[0][0])["id"] if rows else None
            assert got == (expected.id if expected else None), code
            if expected is None:
                break
            done = replace(expected, state=VisitState.CANCELLED, version=expected.version + 1)
            visits[done.id] = done
            with db.transaction() as tx:
                queue._update(tx, done)


def test_nobody_is_called_while_the_counter_still_has_a_visit(db: Database) -> None:
    queue = CentralQueue(db, CONFIG, clock=Clock())
    waiting = waiting_room(random.Random(1))
    first = next(v for v in waiting if v.location == "amt" and v.day == TODAY)
    at_counter = replace(first, state=VisitState.CALLED, counter="m1", location="mobil")
    with db.transaction() as tx:
        for visit in [v for v in waiting if v is not first] + [at_counter]:
            queue._insert(tx, visit)
        rows = tx.execute(*claim_next(db.dialect, CONFIG.counter("m1"), TODAY, MONDAY_9,
                                      CONFIG.settings))
    assert rows == []
