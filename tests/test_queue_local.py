"""The workstation's own queue against a real encrypted register: tickets and quotas,
check-in, the order of "call next", recall/missed/park/forward, finishing, and that every
change is one transaction with its event and exactly one outbox row."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from clerk_app.errors import NotFoundError, ValidationError
from clerk_app.ids import uuid7
from clerk_app.queue.booking_codes import format_booking_number, qr_payload
from clerk_app.queue.configuration import packaged_queue_config
from clerk_app.queue.local_queue import QUEUE_COMMAND, LocalQueue
from clerk_app.queue.states import Action, VisitState
from clerk_app.queue.visits import Visit, VisitEvent
from clerk_app.store.db import Store
from tests.queue_support import MONDAY_9, Clock, booking, refused

CONFIG = packaged_queue_config()
MAIN = "hauptstelle"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(store: Store, clock: Clock) -> Iterator[LocalQueue]:
    yield LocalQueue(store, CONFIG, clock=clock)


def outbox(store: Store) -> list[dict[str, object]]:
    return [json.loads(r[0]) for r in store.conn.execute(
        "SELECT payload FROM outbox WHERE type = ? ORDER BY seq", (QUEUE_COMMAND,))]


def test_tickets_count_up_per_group_and_stop_at_the_daily_quota(queue: LocalQueue,
                                                                  store: Store) -> None:
    labels = [queue.draw_ticket("A").label for _ in range(3)]
    assert labels == ["A001", "A002", "A003"]
    assert queue.draw_ticket("B").label == "B500"
    store.conn.execute("UPDATE queue_ticket_numbers SET issued = 120 WHERE ticket_group = 'A'")
    with refused(ValidationError, "keine Wartenummern mehr frei"):
        queue.draw_ticket("A")
    assert len(queue.visits(MAIN)) == 4  # the refused ticket left nothing behind


def test_ticket_numbers_start_again_the_next_day(queue: LocalQueue, clock: Clock) -> None:
    assert queue.draw_ticket("A").label == "A001"
    clock.advance(days=1)
    assert queue.draw_ticket("A").label == "A001"


def test_a_due_appointment_goes_first_then_priority_then_waiting_time(
        queue: LocalQueue, clock: Clock) -> None:
    first = queue.draw_ticket("A")
    clock.advance(minutes=1)
    urgent = queue.draw_ticket("A", priority=3)
    clock.advance(minutes=1)
    later = queue.draw_ticket("A")
    appointment = booking(MAIN, MONDAY_9.replace(minute=30), ("anmeldung",))
    early = booking(MAIN, MONDAY_9.replace(hour=10), ("anmeldung",))
    queue.import_visits([appointment, early])
    clock.advance(seconds=10)
    queue.check_in(qr_payload(appointment.label))
    clock.advance(seconds=10)
    queue.check_in(format_booking_number(early.label).lower())
    line = [v.id for v in queue.waiting_line("schalter_1")]
    # 09:02 local: neither appointment is due yet; the early arrivals wait like walk-ins.
    assert line == [urgent.id, first.id, later.id, appointment.id, early.id]
    clock.advance(minutes=25)  # 09:27: the 09:30 appointment is due (5 minutes early)
    line = [v.id for v in queue.waiting_line("schalter_1")]
    assert line == [appointment.id, urgent.id, first.id, later.id, early.id]
    called = queue.call_next("schalter_1", uuid7())
    assert called is not None and called.id == appointment.id


def test_a_counter_calls_only_visits_for_its_services(queue: LocalQueue) -> None:
    civil = queue.draw_ticket("P")  # personenstandsurkunde: only Schalter 3 handles it
    assert queue.call_next("schalter_1", uuid7()) is None
    called = queue.call_next("schalter_3", uuid7())
    assert called is not None and called.id == civil.id
    assert called.state is VisitState.CALLED and called.counter == "schalter_3"
    assert called.clerk == "mmuster" and called.call_count == 1


def test_a_double_press_never_draws_two_tickets(queue: LocalQueue, store: Store) -> None:
    key = uuid7()
    first = queue.draw_ticket("A", request_id=key)
    again = queue.draw_ticket("A", request_id=key, priority=3)
    assert again == first and first.label == "A001"
    assert queue.draw_ticket("A", request_id=uuid7()).label == "A002"  # the next press
    assert len(queue.visits(MAIN)) == 2
    assert len(outbox(store)) == 2  # one ticket, one change for the centre


def test_a_double_press_never_calls_two(queue: LocalQueue) -> None:
    queue.draw_ticket("A")
    queue.draw_ticket("A")
    key = uuid7()
    first = queue.call_next("schalter_1", key)
    again = queue.call_next("schalter_1", key)
    assert first is not None and again is not None and first.id == again.id
    assert len(queue.visits(MAIN, states=[VisitState.CALLED])) == 1
    with refused(ValidationError, "noch Nr. A001 aufgerufen"):
        queue.call_next("schalter_1", uuid7())  # a new key while the first is still open


def test_recall_keeps_the_gap_and_the_last_allowed_call_turns_into_missed(
        queue: LocalQueue, clock: Clock) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    with refused(ValidationError, "erneuter Aufruf ist in"):
        queue.recall(visit.id, "schalter_1")
    clock.advance(seconds=CONFIG.settings.recall_min_gap_seconds)
    assert queue.recall(visit.id, "schalter_1").call_count == 2
    clock.advance(seconds=CONFIG.settings.recall_min_gap_seconds)
    assert queue.recall(visit.id, "schalter_1").call_count == 3
    clock.advance(seconds=CONFIG.settings.recall_min_gap_seconds)
    missed = queue.recall(visit.id, "schalter_1")
    assert missed.state is VisitState.MISSED and missed.was_missed
    back = queue.put_back(missed.id)
    assert back.state is VisitState.QUEUED and back.call_count == 0 and back.was_missed
    again = queue.call_next("schalter_2", uuid7())
    assert again is not None and again.id == visit.id
    actions = [e.action for e in queue.history(visit.id)]
    assert actions == [Action.DRAW, Action.CALL, Action.RECALL, Action.RECALL,
                       Action.NOT_APPEARED, Action.PUT_BACK, Action.CALL]


def test_only_the_calling_counter_may_mark_the_visit(queue: LocalQueue) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    with refused(ValidationError, "an Schalter 1 aufgerufen"):
        queue.appear(visit.id, "schalter_2")


def test_park_and_call_back_with_the_paper(queue: LocalQueue) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "schalter_1")
    parked = queue.park(visit.id, "schalter_1")
    assert parked.state is VisitState.PARKED and parked.parked_by == "mmuster"
    assert queue.call_next("schalter_1", uuid7()) is None  # parked visits are not in line
    back = queue.call(visit.id, "schalter_2")
    assert back.state is VisitState.CALLED and back.counter == "schalter_2"


def test_forward_to_a_counter_only_that_counter_calls_it(queue: LocalQueue) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "schalter_1")
    forwarded = queue.forward(visit.id, "schalter_1", to_counter="schalter_2")
    assert forwarded.state is VisitState.QUEUED and forwarded.target_counter == "schalter_2"
    assert queue.call_next("schalter_1", uuid7()) is None
    taken = queue.call_next("schalter_2", uuid7())
    assert taken is not None and taken.id == visit.id


def test_forward_to_another_service_keeps_what_is_done(queue: LocalQueue) -> None:
    queue.draw_ticket("A")  # anmeldung
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "schalter_1")
    queue.link_command(visit.id, uuid7(), "anmeldung", "schalter_1")
    forwarded = queue.forward(visit.id, "schalter_1", to_services=["personenstandsurkunde"])
    assert forwarded.services == ("anmeldung", "personenstandsurkunde")
    assert forwarded.services_done == ("anmeldung",)
    assert queue.call_next("schalter_1", uuid7()) is None  # Schalter 1 has no civil status
    assert queue.call_next("schalter_3", uuid7()) is not None
    with refused(ValidationError, "einen Schalter oder eine Dienstleistung"):
        queue.forward(visit.id, "schalter_3")


def test_finishing_ticks_the_services_done_and_linked_commands(queue: LocalQueue) -> None:
    appointment = booking(MAIN, MONDAY_9, ("anmeldung", "meldebescheinigung"))
    queue.import_visits([appointment])
    queue.check_in(appointment.label)
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    with refused(ValidationError, "nicht als erschienen markiert|kann nicht"):
        queue.finish(visit.id, "schalter_1", ["anmeldung"])  # not yet appeared
    queue.appear(visit.id, "schalter_1")
    command = uuid7()
    linked = queue.link_command(visit.id, command, "meldebescheinigung", "schalter_1",
                                person_id="p-17")
    assert linked.commands == (command,) and linked.services_done == ("meldebescheinigung",)
    assert linked.person_id == "p-17"
    again = queue.link_command(visit.id, command, "meldebescheinigung", "schalter_1")
    assert again.commands == (command,) and again.person_id == "p-17"  # once, and kept
    with refused(ValidationError, "nur Dienstleistungen des Besuchs"):
        queue.finish(visit.id, "schalter_1", ["abmeldung"])
    done = queue.finish(visit.id, "schalter_1", [])
    assert done.state is VisitState.FINISHED
    assert done.services_done == ("meldebescheinigung",)  # Anmeldung was not ticked
    with refused(ValidationError, "abgeschlossen: er kann nicht storniert"):
        queue.cancel(visit.id)


def test_completing_the_last_service_finishes_the_visit_in_one_transaction(
        queue: LocalQueue, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    appointment = booking(MAIN, MONDAY_9, ("anmeldung", "meldebescheinigung"))
    queue.import_visits([appointment])
    queue.check_in(appointment.label)
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    with refused(ValidationError, "nicht an diesem Schalter"):
        queue.complete_service(visit.id, "schalter_3", uuid7(), "anmeldung")
    first = queue.complete_service(visit.id, "schalter_1", uuid7(), "anmeldung", "p-17")
    assert first.state is VisitState.IN_SERVICE and first.services_done == ("anmeldung",)
    assert first.person_id == "p-17"
    before = len(outbox(store))
    # The finishing step fails (a full disk, a crash): nothing of this completion stays.
    written = LocalQueue._write

    def failing(self: LocalQueue, visit: Visit, event: VisitEvent, *, new: bool) -> None:
        if event.action is Action.FINISH:
            raise OSError("disk full")
        written(self, visit, event, new=new)

    monkeypatch.setattr(LocalQueue, "_write", failing)
    with pytest.raises(OSError):
        queue.complete_service(visit.id, "schalter_1", uuid7(), "meldebescheinigung")
    assert queue.visit(visit.id) == first and len(outbox(store)) == before
    monkeypatch.undo()
    command = uuid7()
    done = queue.complete_service(visit.id, "schalter_1", command, "meldebescheinigung")
    assert done.state is VisitState.FINISHED and command in done.commands
    assert done.services_done == ("anmeldung", "meldebescheinigung")
    actions = [row["event"]["action"] for row in outbox(store)[before:]]  # type: ignore[index]
    assert actions == ["link", "finish"]


def test_finishing_needs_at_least_one_service(queue: LocalQueue) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "schalter_1")
    with refused(ValidationError, "mindestens eine erledigte"):
        queue.finish(visit.id, "schalter_1", [])
    assert queue.visit(visit.id).state is VisitState.IN_SERVICE


def test_check_in_refuses_a_wrong_number_and_another_day(queue: LocalQueue,
                                                         clock: Clock) -> None:
    appointment = booking(MAIN, MONDAY_9.replace(hour=9))
    queue.import_visits([appointment])
    wrong = appointment.label[:-1] + ("0" if appointment.label[-1] != "0" else "1")
    with refused(ValidationError, "keine gültige Buchungsnummer"):
        queue.check_in(wrong)
    clock.advance(days=-1)
    with refused(ValidationError, "nicht heute"):
        queue.check_in(appointment.label)
    clock.advance(days=1)
    assert queue.check_in(appointment.label).state is VisitState.QUEUED
    with refused(ValidationError, "kann nicht eingecheckt"):
        queue.check_in(appointment.label)


def test_an_unknown_booking_says_so(queue: LocalQueue) -> None:
    from clerk_app.queue.booking_codes import new_booking_number

    with refused(NotFoundError, "kein Termin bekannt"):
        queue.check_in(new_booking_number())


def test_every_change_is_one_event_and_one_outbox_row(queue: LocalQueue, store: Store) -> None:
    queue.draw_ticket("A")
    visit = queue.call_next("schalter_1", uuid7())
    assert visit is not None
    queue.appear(visit.id, "schalter_1")
    queue.finish(visit.id, "schalter_1", ["anmeldung"])
    rows = outbox(store)
    events = queue.history(visit.id)
    assert [r["event"]["id"] for r in rows] == [e.id for e in events]  # type: ignore[index]
    assert [r["visit"]["state"] for r in rows] == [  # type: ignore[index]
        "queued", "called", "in_service", "finished"]
    # A refused change writes nothing.
    with pytest.raises(ValidationError):
        queue.park(visit.id, "schalter_1")
    assert len(outbox(store)) == 4 and len(queue.history(visit.id)) == 4


def test_imported_bookings_do_not_overwrite_local_progress(queue: LocalQueue) -> None:
    appointment = booking(MAIN, MONDAY_9)
    assert queue.import_visits([appointment]) == 1
    queue.check_in(appointment.label)
    from dataclasses import replace

    cancelled_online = replace(appointment, state=VisitState.CANCELLED, version=5)
    assert queue.import_visits([cancelled_online]) == 0
    assert queue.visit(appointment.id).state is VisitState.QUEUED
    other = booking(MAIN, MONDAY_9.replace(hour=10))
    queue.import_visits([other])
    assert queue.import_visits([replace(other, state=VisitState.CANCELLED, version=2)]) == 1
    assert queue.visit(other.id).state is VisitState.CANCELLED


def test_recent_calls_show_numbers_and_counters(queue: LocalQueue, clock: Clock) -> None:
    queue.draw_ticket("A")
    queue.draw_ticket("B")
    first = queue.call_next("schalter_1", uuid7())
    clock.advance(seconds=5)
    second = queue.call_next("schalter_2", uuid7())
    assert first is not None and second is not None
    calls = queue.recent_calls(MAIN)
    assert [(c.label, c.counter_name) for c in calls] == [
        (second.label, "Schalter 2"), (first.label, "Schalter 1")]
