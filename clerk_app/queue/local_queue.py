"""The workstation's own queue, in the local register: a mobile office's whole day, and the
main office's counters while the central service cannot be reached.

Every change is one SQLite transaction that writes the visit, its event and an outbox row
(type `queue_visit`), so a crash leaves all three or none, and the centre later receives every
change exactly once (the outbox's command id is its idempotency key). The rules themselves
(which action is allowed, who is next) are the pure functions of `visits`, `states` and
`ordering`, the same the central service's shared queue runs.

The clerk is the store's actor; the counter is passed with each call, because one workstation
may serve at another counter for an hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from clerk_app.errors import NotFoundError, ValidationError
from clerk_app.ids import new_id, uuid7
from clerk_app.queue.booking_codes import read_check_in_code
from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.ordering import next_visit, waiting_line
from clerk_app.queue.states import AT_COUNTER, Action, VisitState
from clerk_app.queue.visits import (
    WALK_IN,
    Call,
    Visit,
    VisitEvent,
    Who,
    check_priority,
    complete_service,
    creation_event,
    step,
)
from clerk_app.store.db import Store
from clerk_app.store.outbox import append_outbox

QUEUE_COMMAND = "queue_visit"


def utc_now() -> datetime:
    return datetime.now(UTC)


class LocalQueue:
    """The queue kept in this workstation's register. One per thread (like its `Store`)."""

    def __init__(self, store: Store, config: QueueConfig, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    # --- reading ---------------------------------------------------------------------------

    def today(self) -> date:
        """The office day now (office time zone, not UTC)."""
        return self.clock().astimezone(self.config.settings.zone).date()

    def visit(self, visit_id: str) -> Visit:
        rows = self.store.conn.execute("SELECT data FROM queue_visits WHERE id = ?",
                                       (visit_id,)).fetchall()
        if not rows:
            raise NotFoundError("Diesen Besuch gibt es (an diesem Arbeitsplatz) nicht.",
                                "queue visit not found")
        return Visit.from_json(json.loads(rows[0][0]))

    def visits(self, location: str, day: date | None = None,
               states: Iterable[VisitState] | None = None) -> list[Visit]:
        """The visits of `location` on `day` (today), optionally only in `states`: the queue
        views (waiting, called, parked, missed, finished) are this with a state filter."""
        sql = "SELECT data FROM queue_visits WHERE location = ? AND day = ?"
        params: list[Any] = [location, (day or self.today()).isoformat()]
        wanted = [s.value for s in states] if states is not None else None
        if wanted is not None:
            sql += f" AND state IN ({', '.join('?' * len(wanted))})"
            params += wanted
        rows = self.store.conn.execute(sql + " ORDER BY rowid", params).fetchall()
        return [Visit.from_json(json.loads(r[0])) for r in rows]

    def visits_today(self, location: str,
                     states: Sequence[VisitState] | None = None) -> list[Visit]:
        """Today's visits of `location` (the `QueueBackend` view)."""
        return self.visits(location, None, states)

    def waiting_line(self, counter: str) -> list[Visit]:
        """Who waits for `counter`, in the order "call next" takes them."""
        spec = self.config.counter(counter)
        waiting = self.visits(spec.location, states=[VisitState.QUEUED])
        return waiting_line(waiting, spec, self.clock(), self.config.settings)

    def at_counter(self, counter: str) -> Visit | None:
        """The visit called to or served at `counter` now, if any."""
        rows = self.store.conn.execute(
            "SELECT data FROM queue_visits WHERE counter = ? AND state IN (?, ?) "
            "ORDER BY updated_at DESC LIMIT 1",
            (counter, VisitState.CALLED.value, VisitState.IN_SERVICE.value)).fetchall()
        return Visit.from_json(json.loads(rows[0][0])) if rows else None

    def history(self, visit_id: str) -> list[VisitEvent]:
        """Every change of the visit, oldest first."""
        rows = self.store.conn.execute(
            "SELECT id, visit_id, at, action, from_state, to_state, counter, clerk, "
            "workstation, detail FROM queue_visit_events WHERE visit_id = ? ORDER BY at, rowid",
            (visit_id,)).fetchall()
        return [_event(r) for r in rows]

    def recent_calls(self, location: str, limit: int = 8) -> list[Call]:
        """The latest calls at `location` today, newest first (the call display)."""
        rows = self.store.conn.execute(
            "SELECT e.visit_id, v.label, e.counter, e.at, e.action FROM queue_visit_events e "
            "JOIN queue_visits v ON v.id = e.visit_id WHERE v.location = ? AND v.day = ? "
            "AND e.action IN (?, ?) AND e.to_state = ? ORDER BY e.at DESC, e.rowid DESC "
            "LIMIT ?", (location, self.today().isoformat(), Action.CALL.value,
                        Action.RECALL.value, VisitState.CALLED.value, limit)).fetchall()
        return [Call(r[0], r[1], r[2], self._counter_name(r[2]), datetime.fromisoformat(r[3]),
                     r[4] == Action.RECALL.value) for r in rows]

    # --- arriving --------------------------------------------------------------------------

    def draw_ticket(self, group: str, *, priority: int = 1,
                    request_id: str | None = None) -> Visit:
        """A walk-in ticket of `group` (one button of the ticket printer): the next number of
        its range; ValidationError when the day's quota or the range is used up.
        `request_id` is minted once per press: the same id again answers with the same
        ticket and never draws a second one."""
        spec = self.config.ticket_group(group)
        check_priority(priority)
        day = self.today().isoformat()
        with self.store.transaction():
            if request_id and (done := self._answered(request_id)) and done[0]:
                return self.visit(done[0])
            row = self.store.conn.execute(
                "SELECT last_number, issued FROM queue_ticket_numbers WHERE location = ? AND "
                "day = ? AND ticket_group = ?", (spec.location, day, group)).fetchone()
            number, issued = (row[0] + 1, row[1] + 1) if row else (spec.first, 1)
            if issued > spec.capacity or number > spec.last:
                raise ValidationError(
                    f"Für „{spec.name}“ sind heute keine Wartenummern mehr frei "
                    f"(Tageskontingent {spec.capacity}).", "ticket quota used up", "group")
            self.store.conn.execute(
                "INSERT INTO queue_ticket_numbers (location, day, ticket_group, last_number, "
                "issued) VALUES (?, ?, ?, ?, ?) ON CONFLICT (location, day, ticket_group) DO "
                "UPDATE SET last_number = excluded.last_number, issued = excluded.issued",
                (spec.location, day, group, number, issued))
            who = self._who(None)
            visit = Visit(id=new_id(), label=spec.label(number), kind=WALK_IN,
                          location=spec.location, day=day, state=VisitState.QUEUED,
                          services=spec.services, priority=priority, ticket_group=group,
                          created_at=who.at, queued_at=who.at, version=1, updated_at=who.at)
            self._write(visit, creation_event(visit, Action.DRAW, who, uuid7()), new=True)
            if request_id:
                self._remember(request_id, visit)
        return visit

    def check_in(self, code: str) -> Visit:
        """Check in by booking number or the confirmation's QR payload: the appointment joins
        the waiting line. A booking of another day or location is refused with a clear word."""
        number = read_check_in_code(code)
        rows = self.store.conn.execute("SELECT id FROM queue_visits WHERE booking_number = ?",
                                       (number,)).fetchall()
        if not rows:
            raise NotFoundError("Zu dieser Buchungsnummer ist hier kein Termin bekannt (noch "
                                "nicht synchronisiert, oder an einem anderen Standort).",
                                "booking number not known locally")
        visit = self.visit(rows[0][0])
        if visit.day != self.today().isoformat():
            raise ValidationError(f"Der Termin ist am {_german_date(visit.day)}, nicht heute.",
                                  "check-in on the wrong day", "booking_number")
        return self._change(visit.id, Action.CHECK_IN, None)

    # --- at the counter --------------------------------------------------------------------

    def call_next(self, counter: str, request_id: str) -> Visit | None:
        """"Nächste Person aufrufen" at `counter`: the right visit called, or None if nobody
        waits for it. `request_id` is minted once per key press: the same id again (a double
        press, a retry) answers with the same visit and never calls a second one."""
        spec = self.config.counter(counter)
        with self.store.transaction():
            done = self._answered(request_id)
            if done is not None:
                return self.visit(done[0]) if done[0] else None
            self._check_counter_free(counter)
            waiting = self.visits(spec.location, states=[VisitState.QUEUED])
            chosen = next_visit(waiting, spec, self.clock(), self.config.settings)
            called = None
            if chosen is not None:
                called = self._apply(chosen, Action.CALL, counter)
            self._remember(request_id, called)
        return called

    def _answered(self, request_id: str) -> tuple[str | None] | None:
        """The answer already given to `request_id`: (its visit id, or None if nobody
        waited); None if the request is new."""
        row = self.store.conn.execute("SELECT visit_id FROM queue_requests WHERE "
                                      "request_id = ?", (request_id,)).fetchone()
        return None if row is None else (row[0],)

    def _remember(self, request_id: str, visit: Visit | None) -> None:
        self.store.conn.execute(
            "INSERT INTO queue_requests (request_id, visit_id, at) VALUES (?, ?, ?) "
            "ON CONFLICT (request_id) DO UPDATE SET visit_id = excluded.visit_id",
            (request_id, visit.id if visit else None, self.clock().isoformat()))

    def call(self, visit_id: str, counter: str) -> Visit:
        """Call a chosen visit (a parked one back with its paper, a missed one again)."""
        with self.store.transaction():
            self._check_counter_free(counter)
            return self._apply(self.visit(visit_id), Action.CALL, counter)

    def recall(self, visit_id: str, counter: str) -> Visit:
        """Call the same number again; not before the minimum gap; after the maximum count
        the visit is missed instead (the answer's state says which)."""
        return self._change(visit_id, Action.RECALL, counter)

    def appear(self, visit_id: str, counter: str) -> Visit:
        """"Kunde erschienen": the service begins."""
        return self._change(visit_id, Action.APPEAR, counter)

    def not_appeared(self, visit_id: str, counter: str) -> Visit:
        """"Nicht erschienen": the visit is missed (it can be put back or called again)."""
        return self._change(visit_id, Action.NOT_APPEARED, counter)

    def put_back(self, visit_id: str, counter: str | None = None) -> Visit:
        """Back into the waiting line (a missed or parked visit, or a call skipped)."""
        return self._change(visit_id, Action.PUT_BACK, counter)

    def park(self, visit_id: str, counter: str) -> Visit:
        """Parked: the citizen comes back with a paper; call it again with `call`."""
        return self._change(visit_id, Action.PARK, counter)

    def forward(self, visit_id: str, counter: str, *, to_counter: str | None = None,
                to_services: Sequence[str] = ()) -> Visit:
        """Back into the line for another counter (only it will call the visit) and/or other
        services (the ones done so far stay done)."""
        if to_counter:
            target = self.config.counter(to_counter)
            if target.location != self.visit(visit_id).location:
                raise ValidationError("Weiterleiten geht nur an einen Schalter desselben "
                                      "Standorts.", "forward to another location", "to_counter")
        unknown = [s for s in to_services if s not in self.config.services]
        if unknown:
            raise ValidationError("Diese Dienstleistung gibt es nicht.",
                                  f"unknown services {unknown}", "to_services")
        return self._change(visit_id, Action.FORWARD, counter, to_counter=to_counter,
                            to_services=to_services)

    def finish(self, visit_id: str, counter: str, services_done: Sequence[str]) -> Visit:
        """Finished; `services_done` are the ones the clerk ticked (those done by a linked
        command are ticked already)."""
        return self._change(visit_id, Action.FINISH, counter, services_done=services_done)

    def cancel(self, visit_id: str, counter: str | None = None, reason: str = "") -> Visit:
        return self._change(visit_id, Action.CANCEL, counter, reason=reason)

    def link_command(self, visit_id: str, command_id: str, command_type: str,
                     counter: str | None = None, person_id: str | None = None) -> Visit:
        """A counter-service command (Anmeldung, Meldebescheinigung ...) was done for the
        visit: it is kept on the visit and the service it carries out is ticked; with
        `person_id` the visit remembers the citizen, so its next dialog opens on them."""
        return self._change(visit_id, Action.LINK, counter, command_id=command_id,
                            command_service=self.config.service_for_command(command_type),
                            person_id=person_id)

    def complete_service(self, visit_id: str, counter: str, command_id: str,
                         command_type: str, person_id: str | None = None) -> Visit:
        """A counter service was completed for the visit at `counter`: appeared if it was
        only called, the command linked, finished once nothing is left open; one
        transaction (`clerk_app.queue.visits.complete_service`)."""
        with self.store.transaction():
            visit = self.visit(visit_id)
            self._check_at(visit, counter)
            steps = complete_service(
                visit, self._who(counter), self.config.settings, event_ids=uuid7,
                command_id=command_id,
                command_service=self.config.service_for_command(command_type),
                person_id=person_id)
            for new, event in steps:
                self._write(new, event, new=False)
        return steps[-1][0]

    # --- from the centre -------------------------------------------------------------------

    def import_visits(self, visits: Iterable[Visit]) -> int:
        """Take visits the centre knows (the day's bookings a mobile office loads before it
        leaves, a cancellation made online): a visit new here or still untouched here
        (booked or confirmed) is taken as the centre has it; one that has moved on here is
        kept, its changes go to the centre through the outbox. Returns how many changed."""
        changed = 0
        with self.store.transaction():
            for visit in visits:
                row = self.store.conn.execute(
                    "SELECT state, version FROM queue_visits WHERE id = ?",
                    (visit.id,)).fetchone()
                if row is None:
                    self._store_visit(visit, new=True)
                elif VisitState(row[0]) in (VisitState.BOOKED, VisitState.CONFIRMED) and \
                        visit.version > row[1]:
                    self._store_visit(visit, new=False)
                else:
                    continue
                changed += 1
        return changed

    # --- the machinery ---------------------------------------------------------------------

    def _who(self, counter: str | None) -> Who:
        return Who(self.store.actor.clerk, self.store.actor.workstation, counter, self.clock())

    def _counter_name(self, code: str | None) -> str:
        spec = self.config.counters.get(code or "")
        return spec.name if spec else (code or "")

    def _check_counter_free(self, counter: str) -> None:
        busy = self.at_counter(counter)
        if busy is not None:
            raise ValidationError(
                f"Am Schalter ist noch Nr. {busy.label} {busy.state.label}: bitte erst "
                "abschließen, parken, weiterleiten oder als nicht erschienen markieren.",
                "counter still has a visit called or in service", "counter")

    def _change(self, visit_id: str, action: Action, counter: str | None,
                **kwargs: Any) -> Visit:
        with self.store.transaction():
            return self._apply(self.visit(visit_id), action, counter, **kwargs)

    def _apply(self, visit: Visit, action: Action, counter: str | None,
               **kwargs: Any) -> Visit:
        if action in (Action.APPEAR, Action.NOT_APPEARED, Action.RECALL, Action.FINISH):
            self._check_at(visit, counter)
        new, event = step(visit, action, self._who(counter), self.config.settings,
                          event_id=uuid7(), **kwargs)
        self._write(new, event, new=False)
        return new

    def _check_at(self, visit: Visit, counter: str | None) -> None:
        """A visit called or in service is this counter's to mark, no other's."""
        if visit.state in AT_COUNTER and counter and visit.counter and \
                visit.counter != counter:
            raise ValidationError(f"Nr. {visit.label} ist an {self._counter_name(visit.counter)}"
                                  " aufgerufen, nicht an diesem Schalter.",
                                  "visit is at another counter", "counter")

    def _write(self, visit: Visit, event: VisitEvent, *, new: bool) -> None:
        """The visit, its event and the outbox row, in the caller's transaction."""
        self._store_visit(visit, new=new)
        self.store.conn.execute(
            "INSERT INTO queue_visit_events (id, visit_id, at, action, from_state, to_state, "
            "counter, clerk, workstation, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.visit_id, event.at.isoformat(timespec="milliseconds"),
             event.action.value, event.from_state.value if event.from_state else None,
             event.to_state.value, event.counter, event.clerk, event.workstation,
             json.dumps(event.detail)))
        append_outbox(self.store, event.id, QUEUE_COMMAND,
                      {"visit": visit.to_json(), "event": event.to_json()}, event.at)

    def _store_visit(self, visit: Visit, *, new: bool) -> None:
        values = (visit.label, visit.kind, visit.location, visit.day, visit.state.value,
                  visit.booking_number, visit.counter,
                  json.dumps(visit.to_json(), ensure_ascii=False), visit.version,
                  (visit.updated_at or self.clock()).isoformat(timespec="milliseconds"))
        if new:
            self.store.conn.execute(
                "INSERT INTO queue_visits (label, kind, location, day, state, booking_number, "
                "counter, data, version, updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, visit.id))
        else:
            self.store.conn.execute(
                "UPDATE queue_visits SET label = ?, kind = ?, location = ?, day = ?, state = ?, "
                "booking_number = ?, counter = ?, data = ?, version = ?, updated_at = ? "
                "WHERE id = ?", (*values, visit.id))


def _event(row: Sequence[Any]) -> VisitEvent:
    return VisitEvent.from_json({
        "id": row[0], "visit_id": row[1], "at": row[2], "action": row[3],
        "from_state": row[4], "to_state": row[5], "counter": row[6], "clerk": row[7],
        "workstation": row[8], "detail": json.loads(row[9])})


def _german_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d.%m.%Y")



