"""The shared queue and the booking API against the real central service (a child process
on 127.0.0.1, SQLite and PostgreSQL): the booking race, two workstations racing "call next",
the double press, the live feed (also across the centre going away and back), a mobile
office's offline queue reaching the centre exactly once, and its day's bookings."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from clerk_app.ids import uuid7
from clerk_app.queue.configuration import load_queue_config
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import Visit
from sync.central_errors import CentralRefused
from sync.client import CentralClient
from sync.queue_client import QueueClient, QueueEvent, load_bookings
from sync.server.central import Central
from tests.queue_support import BERLIN
from tests.sync_support import CentralServer, Workstation, central_database, running_central

QUEUE_TOML = Path(__file__).parent / "data" / "queue-test.toml"
CONFIG = load_queue_config(QUEUE_TOML)


def tomorrow() -> str:
    return (datetime.now(BERLIN).date() + timedelta(days=1)).isoformat()


@pytest.fixture(params=["sqlite", "postgresql"])
def centre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[
        tuple[CentralServer, Central]]:
    (tmp_path / "machine.toml").write_text(
        f'queue_file = "{QUEUE_TOML}"\ncentral_booking_per_minute = 100000\n', "utf-8")
    with central_database(request.param, tmp_path) as url, \
            running_central(url, tmp_path) as pair:
        yield pair


@pytest.fixture
def stations(tmp_path: Path, centre: tuple[CentralServer, Central]) -> Iterator[
        list[Workstation]]:
    server, central = centre
    made = [Workstation(tmp_path / "ws", f"platz{i}", central, server.url) for i in (1, 2)]
    yield made
    for station in made:
        station.close()


def book(url: str, start: str, name: str, location: str = "amt") -> requests.Response:
    return requests.post(f"{url}/booking/v1/bookings", timeout=30, json={
        "location": location, "services": ["kurz"], "start": start, "name": name,
        "contact": "person@example.org"})


def free_slots(url: str, location: str = "amt") -> list[dict[str, Any]]:
    answer = requests.get(f"{url}/booking/v1/slots", timeout=30, params={
        "location": location, "day": tomorrow(), "service": ["kurz"]})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["slots"])


def test_fifty_concurrent_bookings_for_ten_slots_book_exactly_ten(
        centre: tuple[CentralServer, Central]) -> None:
    server, _ = centre
    slots = free_slots(server.url)
    assert len(slots) == 10
    gate = threading.Barrier(50)

    def attempt(i: int) -> requests.Response:
        gate.wait()
        return book(server.url, slots[i % 10]["start"], f"Person {i}")

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(attempt, range(50)))
    assert Counter(a.status_code for a in answers) == {200: 10, 409: 40}
    assert all("schon vergeben" in a.json()["message_de"] for a in answers
               if a.status_code == 409)
    numbers = {a.json()["booking_number"] for a in answers if a.status_code == 200}
    assert len(numbers) == 10
    assert free_slots(server.url) == []


def test_a_cancelled_booking_frees_its_slot_only_with_the_code(
        centre: tuple[CentralServer, Central]) -> None:
    server, _ = centre
    start = free_slots(server.url)[0]["start"]
    receipt = book(server.url, start, "Erika Mustermann").json()
    assert receipt["qr_payload"] == "BBTERMIN:" + receipt["booking_number"]
    assert len(free_slots(server.url)) == 9
    cancel = f"{server.url}/booking/v1/bookings/{receipt['display_number']}/cancel"
    wrong = requests.post(cancel, json={"cancellation_code": "FALSCH"}, timeout=10)
    assert wrong.status_code == 404
    right = requests.post(cancel, json={"cancellation_code": receipt["cancellation_code"]},
                          timeout=10)
    assert right.status_code == 200 and right.json()["state"] == "cancelled"
    assert len(free_slots(server.url)) == 10


def test_two_workstations_racing_call_next_never_get_the_same_citizen(
        stations: list[Workstation]) -> None:
    first = QueueClient(stations[0].client)
    tickets = {first.draw_ticket("W").id for _ in range(24)}
    gate = threading.Barrier(2)

    def work(station: Workstation, counter: str) -> list[str]:
        client = QueueClient(CentralClient(station.url, station.token))
        got: list[str] = []
        gate.wait()
        while (visit := client.call_next(counter, uuid7())) is not None:
            got.append(visit.id)
            client.appear(visit.id, counter)
            client.finish(visit.id, counter, ["lang"])
        client.client.close()
        return got

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.map(work, stations, ["c1", "c2"])
    assert not set(one) & set(two)
    assert sorted(one + two) == sorted(tickets)
    assert one and two  # both really took part
    finished = first.visits_today("amt", [VisitState.FINISHED])
    assert len(finished) == 24 and all(v.call_count == 1 for v in finished)


def test_a_double_press_calls_one_citizen(stations: list[Workstation]) -> None:
    one, two = (QueueClient(s.client) for s in stations)
    one.draw_ticket("W")
    one.draw_ticket("W")
    key = uuid7()
    called = one.call_next("c1", key)
    again = one.call_next("c1", key)
    assert called is not None and again is not None and called.id == again.id
    with pytest.raises(CentralRefused) as refusal:
        one.call_next("c1", uuid7())
    assert "noch Nr. W001" in refusal.value.message_de
    with pytest.raises(CentralRefused):
        two.call_next("c2", key)  # another device's request id
    assert len(one.visits_today("amt", [VisitState.CALLED])) == 1
    one.appear(called.id, "c1")
    command, person = uuid7(), str(uuid.uuid4())
    linked = one.link_command(called.id, command, "anmeldung", "c1", person_id=person)
    assert linked.commands == (command,) and linked.services_done == ("lang",)
    assert linked.person_id == person
    assert one.finish(called.id, "c1", []).state is VisitState.FINISHED
    # A counter service completed for the next one: appeared, linked, finished at once.
    following = one.call_next("c1", uuid7())
    assert following is not None
    with pytest.raises(CentralRefused):
        two.complete_service(following.id, "c2", uuid7(), "anmeldung")  # not its counter
    done = one.complete_service(following.id, "c1", command, "anmeldung", person)
    assert done.state is VisitState.FINISHED and done.commands == (command,)
    assert done.services_done == ("lang",) and done.person_id == person


def test_a_double_press_draws_one_ticket(stations: list[Workstation]) -> None:
    one, two = (QueueClient(s.client) for s in stations)
    key = uuid7()
    with ThreadPoolExecutor(4) as pool:  # the same press sent four times at once
        drawn = list(pool.map(lambda _: QueueClient(CentralClient(
            stations[0].url, stations[0].token)).draw_ticket("W", request_id=key), range(4)))
    assert len({v.id for v in drawn}) == 1 and drawn[0].label == "W001"
    assert one.draw_ticket("W", request_id=key).id == drawn[0].id
    assert one.draw_ticket("W", request_id=uuid7()).label == "W002"
    with pytest.raises(CentralRefused):
        two.draw_ticket("W", request_id=key)  # another device's request id
    assert len(one.visits_today("amt")) == 2


def test_the_office_s_statistics_come_from_the_centre_without_names(
        stations: list[Workstation]) -> None:
    one, two = (QueueClient(s.client) for s in stations)
    slot = free_slots(two.client.base_url)[0]["start"]
    assert book(two.client.base_url, slot, "Erika Mustermann").status_code == 200
    for queue, counter in ((one, "c1"), (two, "c2")):
        queue.draw_ticket("W")
        called = queue.call_next(counter, uuid7())
        assert called is not None
        queue.appear(called.id, counter)
        queue.finish(called.id, counter, ["lang"])
    today = datetime.now(BERLIN).date()
    office = one.visits_between(today, today + timedelta(days=1))
    assert len(office) == 3 and not any(v.name or v.contact for v in office)
    assert {v.counter for v in office if v.state is VisitState.FINISHED} == {"c1", "c2"}
    assert len(one.visits_between(today, today, "amt")) == 2
    with pytest.raises(CentralRefused) as refusal:
        one.visits_between(today, today - timedelta(days=1))
    assert "Zeitraum" in refusal.value.message_de


def test_a_call_reaches_the_other_workstation_within_a_second_and_after_an_outage(
        centre: tuple[CentralServer, Central], stations: list[Workstation]) -> None:
    server, _ = centre
    caller = QueueClient(stations[0].client)
    watcher = QueueClient(CentralClient(server.url, stations[1].token), {"c1": "Schalter 1"})
    seen: list[tuple[float, QueueEvent]] = []
    stop = threading.Event()

    def follow() -> None:
        for event in watcher.events("amt", stop):
            seen.append((time.monotonic(), event))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    try:
        caller.draw_ticket("W")
        time.sleep(0.5)  # the feed is connected
        pressed = time.monotonic()
        visit = caller.call_next("c1", uuid7())
        assert visit is not None
        calls = wait_for(seen, lambda e: e.call is not None)
        arrived, event = calls[0]
        assert arrived - pressed < 1.0
        assert event.call is not None and event.call.label == "W001"
        assert event.call.counter_name == "Schalter 1"
        assert event.visit is not None and not hasattr(event.raw["visit"], "name")
        assert "name" not in event.raw["visit"]
        server.kill()
        wait_for(seen, lambda e: e.kind == "offline")
        server.start()
        caller.appear(visit.id, "c1")
        wait_for(seen, lambda e: e.kind == "online")
        wait_for(seen, lambda e: e.action == "appear")
    finally:
        stop.set()
        watcher.client.close()
    kinds = [e.action for _, e in seen if e.kind == "queue"]
    assert kinds.count("call") == 1  # the reconnect repeated nothing


def wait_for(seen: list[tuple[float, QueueEvent]], wanted: Any,
             timeout: float = 20.0) -> list[tuple[float, QueueEvent]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [(t, e) for t, e in seen if wanted(e)]
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not seen: {[e for _, e in seen]}")


def test_a_mobile_office_loads_its_bookings_and_its_queue_reaches_the_centre_once(
        centre: tuple[CentralServer, Central], stations: list[Workstation]) -> None:
    server, central = centre
    station = stations[0]
    start = free_slots(server.url, "mobil")[0]["start"]
    receipt = book(server.url, start, "Erika Mustermann", "mobil").json()
    day = datetime.fromisoformat(start).date()
    queue = LocalQueue(station.store, CONFIG)
    # The sync takes the stop's bookings of today and tomorrow into the local queue.
    assert station.sync(queue_location="mobil", queue_config=CONFIG).bookings == 1
    assert load_bookings(queue, QueueClient(station.client), "mobil", day) == 0  # no change
    booked = queue.visits("mobil", day)
    assert [v.booking_number for v in booked] == [receipt["booking_number"]]
    assert booked[0].name == "Erika Mustermann"
    # The day itself, offline: tickets, a call, a service.
    for _ in range(3):
        queue.draw_ticket("M")
    visit = queue.call_next("m1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "m1")
    queue.finish(visit.id, "m1", ["lang"])
    local_events = station.store.conn.execute(
        "SELECT count(*) FROM queue_visit_events").fetchone()[0]
    station.sync()
    assert station.pending() == 0
    station.sync()  # again: nothing twice
    with central.db.transaction(write=False) as tx:
        events = tx.execute("SELECT count(*) FROM queue_events WHERE location = 'mobil' "
                            "AND id IN (SELECT command_id FROM commands)")[0][0]
        state = tx.execute("SELECT state FROM queue_visits WHERE id = ?", (visit.id,))[0][0]
        waiting = tx.execute("SELECT count(*) FROM queue_visits WHERE location = 'mobil' "
                             "AND state = 'queued'")[0][0]
    assert events == local_events == 6
    assert state == "finished" and waiting == 2
    # Calls made offline earlier are history, not calls for the display now.
    assert QueueClient(station.client).recent_calls("mobil") == []


def test_the_booking_api_is_rate_limited(tmp_path: Path) -> None:
    (tmp_path / "machine.toml").write_text(
        f'queue_file = "{QUEUE_TOML}"\ncentral_booking_per_minute = 6\n', "utf-8")
    with running_central(f"sqlite:///{tmp_path / 'c.db'}", tmp_path) as (server, _):
        answers = [requests.get(f"{server.url}/booking/v1/slots", timeout=10, params={
            "location": "amt", "day": tomorrow(), "service": "kurz"}) for _ in range(6)]
    statuses = [a.status_code for a in answers]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    assert "Zu viele Anfragen" in answers[-1].json()["message_de"]


def test_unknown_places_and_bad_input_get_clear_answers(
        centre: tuple[CentralServer, Central], stations: list[Workstation]) -> None:
    server, _ = centre
    client = QueueClient(stations[0].client)
    with pytest.raises(CentralRefused) as unknown:
        client.draw_ticket("X")
    assert "gibt es nicht" in unknown.value.message_de
    with pytest.raises(CentralRefused) as wrong:
        client.check_in("NICHTS")
    assert "keine gültige Buchungsnummer" in wrong.value.message_de
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    answer = book(server.url, past, "Erika Mustermann")
    assert answer.status_code == 422 and "im Voraus" in answer.json()["message_de"]
    empty = book(server.url, free_slots(server.url)[0]["start"], "  ")
    assert empty.status_code == 422
    odd = datetime.fromisoformat(free_slots(server.url)[0]["start"]) + timedelta(minutes=3)
    off_grid = book(server.url, odd.isoformat(), "Erika Mustermann")
    assert off_grid.status_code == 422 and "kein Termin" in off_grid.json()["message_de"]


def test_the_centre_anonymises_old_visits_and_keeps_them(tmp_path: Path) -> None:
    from sync.server.queue_central import CentralQueue
    from sync.server.storage import open_database
    from tests.queue_support import MONDAY_9, Clock

    db = open_database(f"sqlite:///{tmp_path / 'c.db'}")
    queue = CentralQueue(db, CONFIG, clock=Clock())
    start = (MONDAY_9 + timedelta(days=1)).astimezone(BERLIN)
    receipt = queue.book("amt", ["kurz"], start, "Erika Mustermann", "erika@example.org")
    day = start.date()
    later = day + timedelta(days=CONFIG.settings.anonymise_after_days + 1)
    assert queue.anonymise(later - timedelta(days=1)) == 0
    assert queue.anonymise(later) == 1
    (kept,) = queue.bookings("amt", day)
    assert kept.id == receipt.visit.id and kept.anonymised and not kept.name
    assert kept.state is VisitState.CONFIRMED and kept.services == ("kurz",)
    db.close()


def test_the_workstation_s_counter_decides_whose_bookings_its_sync_loads(
        stations: list[Workstation]) -> None:
    from clerk_app.config import Config
    from sync.engine import SyncEngine

    station = stations[0]
    counter = next(code for code, c in CONFIG.counters.items() if c.location == "mobil")
    engine = SyncEngine.for_workstation(
        Config(queue_counter=counter, queue_file=str(QUEUE_TOML)), station.store,
        station.client)
    assert engine.queue_location == "mobil"
    assert SyncEngine.for_workstation(Config(), station.store,
                                      station.client).queue_location is None


def test_an_offline_batch_and_single_changes_of_the_same_visits_never_deadlock(
        tmp_path: Path) -> None:
    """A workstation back from an outage pushes the changes of its own queue (one batch, many
    visits) while clerks online change the same visits one by one: PostgreSQL must not abort
    either side with a deadlock, and the feed keeps every event once, numbered without a
    gap."""
    (tmp_path / "machine.toml").write_text(f'queue_file = "{QUEUE_TOML}"\n', "utf-8")
    with central_database("postgresql", tmp_path) as url, \
            running_central(url, tmp_path) as (server, central):
        offline, online = (Workstation(tmp_path / "ws", f"platz{i}", central, server.url)
                           for i in (1, 2))
        clients = [QueueClient(CentralClient(server.url, online.token)) for _ in range(3)]
        local = LocalQueue(offline.store, CONFIG)

        def deadlocks() -> int:
            with central.db.transaction(write=False) as tx:
                return int(tx.execute("SELECT deadlocks FROM pg_stat_database "
                                      "WHERE datname = current_database()")[0][0])

        def cancel_online(pair: tuple[QueueClient, Visit]) -> bool:
            try:
                pair[0].cancel(pair[1].id, reason="online")
            except CentralRefused:
                return False  # cancelled already by the batch: a clear refusal, no error
            return True

        before, cancelled_online = deadlocks(), 0
        for _ in range(12):
            drawn = [clients[0].draw_ticket("W") for _ in range(8)]
            local.import_visits(drawn)  # the copy the workstation had when the line went down
            for visit in drawn:
                local.cancel(visit.id, reason="offline")
            with ThreadPoolExecutor(3) as pool:
                # The clerks online go through the same visits from the other end while the
                # workstation pushes (its register belongs to this thread).
                answers = pool.map(cancel_online, [(clients[i % len(clients)], visit)
                                                    for i, visit in enumerate(reversed(drawn))])
                offline.sync()
                cancelled_online += sum(answers)
            assert offline.pending() == 0
        assert deadlocks() == before
        with central.db.transaction(write=False) as tx:
            seqs = [r[0] for r in tx.execute("SELECT seq FROM queue_events WHERE location = "
                                              "'amt' ORDER BY seq")]
            ids = tx.execute("SELECT count(DISTINCT id) FROM queue_events")[0][0]
        # Every ticket, every cancellation online, every change pushed: once, no gaps.
        assert seqs == list(range(1, 12 * 8 * 2 + cancelled_online + 1)) and ids == len(seqs)
        for station in (offline, online):
            station.close()
