"""The main office's shared queue and the city portal's bookings, in the central database.

"Call next" is one claim (`queue_line`): the database orders the waiting line and locks the
first visit in it, passing over one another clerk's call holds at that moment, so two clerks
pressing at the same moment get two citizens, never the same one, without waiting for each
other; a lock per counter makes "is this counter free?" and its call one step. A request id
already answered is answered again with the same visit (a double press never calls two).
A booking takes its location's row in `queue_locations` (a row lock on PostgreSQL, the single
writer on SQLite) to the commit: two bookings racing for the last slot are checked one after
the other, and the second is told the slot is gone. The rules are the core's
(`clerk_app.queue`): the same state table, the same step, the same order as a workstation's
local queue.

Each change also writes an event (numbered per location, without names) that the live feed
(`queue_feed`) pushes to workstations and call displays; on PostgreSQL a NOTIFY at commit
wakes every service process's feed at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal, overload

from clerk_app.errors import ClerkError, NotFoundError, ValidationError
from clerk_app.ids import new_id, uuid7
from clerk_app.queue.anonymise import anonymised, cutoff
from clerk_app.queue.booking_codes import (
    new_booking_number,
    new_cancellation_code,
    qr_payload,
    read_check_in_code,
)
from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.local_queue import QUEUE_COMMAND
from clerk_app.queue.slots import Booked, Slot, bookable_day, booking_minutes, free_slots
from clerk_app.queue.states import AT_COUNTER, Action, VisitState
from clerk_app.queue.visits import (
    APPOINTMENT,
    WALK_IN,
    Call,
    Visit,
    VisitEvent,
    Who,
    call_in,
    check_priority,
    complete_service,
    creation_event,
    step,
)
from sync.server.queue_line import claim_next, instant, line_statement
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "queue_events"
STATISTICS_MAX_DAYS = 366
PERSONAL = ("name", "contact")
_VISIT_COLUMNS = ("location", "day", "state", "label", "booking_number", "counter", "kind",
                  "priority", "queued_at", "appointment_at", "target_counter", "open_services",
                  "data", "version", "updated_at")


class QueueRefusal(ClerkError):
    """A queue request the centre refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message_de: str, message_en: str) -> None:
        super().__init__(message_de, message_en)
        self.status = status


@dataclass(frozen=True)
class BookingReceipt:
    """What the portal shows and mails the citizen: the cancellation code only once."""

    visit: Visit
    cancellation_code: str

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.visit.label)


def public_visit(visit: Visit) -> dict[str, Any]:
    """The visit as the live feed carries it: without name and contact."""
    data = visit.to_json()
    for key in PERSONAL:
        data.pop(key, None)
    return data


def utc_now() -> datetime:
    return datetime.now(UTC)


class CentralQueue:
    """The shared queue and the bookings over the central database."""

    def __init__(self, db: Database, config: QueueConfig, *,
                 clock: Callable[[], datetime] = utc_now,
                 on_commit: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        # Wakes this process's live feed at once (other processes: NOTIFY or polling).
        self.on_commit = on_commit or (lambda _location: None)

    def today(self) -> date:
        return self.clock().astimezone(self.config.settings.zone).date()

    # --- the portal's bookings --------------------------------------------------------------

    def slots(self, location: str, services: Sequence[str], day: date) -> list[Slot]:
        """The free starts on `day` for these services at `location`."""
        spec = self.config.location(location)
        bookable_day(self.config, spec, day, self.today())
        with self.db.transaction(write=False) as tx:
            booked = _booked(tx, location, day)
        return free_slots(self.config, location, services, day, booked, self.clock())

    def book(self, location: str, services: Sequence[str], start: datetime, name: str,
             contact: str) -> BookingReceipt:
        """Book the slot at `start`; QueueRefusal 409 if another booking took it first."""
        spec = self.config.location(location)
        name, contact = _person_text(name, "name"), _person_text(contact, "contact")
        zone = self.config.settings.zone
        # A time without zone is office time (what the portal's calendar shows).
        local_start = start.replace(tzinfo=zone) if start.tzinfo is None else \
            start.astimezone(zone)
        day = local_start.date()
        bookable_day(self.config, spec, day, self.today())
        minutes = booking_minutes(self.config, services)
        code = new_cancellation_code()
        with self.db.transaction() as tx:
            self._lock(tx, location)
            free = free_slots(self.config, location, services, day, _booked(tx, location, day),
                              self.clock())
            slot = next((s for s in free if s.start == local_start), None)
            if slot is None and not any(s.start == local_start for s in free_slots(
                    self.config, location, services, day, [], self.clock())):
                raise ValidationError("Zu dieser Zeit beginnt an diesem Tag kein Termin "
                                      "(Öffnungszeiten, Terminraster).",
                                      "start is not a slot of the day", "start")
            if slot is None:
                raise QueueRefusal(409, "Dieser Termin ist leider schon vergeben. Bitte einen "
                                        "anderen Termin wählen.", "slot taken")
            who = Who("portal", "portal", None, self.clock())
            number = self._free_booking_number(tx)
            visit = Visit(id=new_id(), label=number, kind=APPOINTMENT, location=location,
                          day=day.isoformat(), state=VisitState.CONFIRMED,
                          services=tuple(services), booking_number=number,
                          appointment_at=local_start.astimezone(UTC), name=name,
                          contact=contact, created_at=who.at, version=1, updated_at=who.at)
            self._insert(tx, visit)
            tx.execute("UPDATE queue_visits SET cancel_sha256 = ?, slot_counter = ?, "
                       "slot_start = ?, slot_minutes = ? WHERE id = ?",
                       (_sha256(code), slot.counter, local_start.isoformat(), minutes,
                        visit.id))
            self._event(tx, visit, creation_event(visit, Action.BOOK, who, uuid7()))
        self.on_commit(location)
        log.info("booking made at %s", location)
        return BookingReceipt(visit, code)

    def cancel_booking(self, booking_number: str, cancellation_code: str) -> Visit:
        """The citizen cancels online with the code from the confirmation."""
        number = read_check_in_code(booking_number)
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT location, cancel_sha256 FROM queue_visits "
                              "WHERE booking_number = ?", (number,))
            if not rows or rows[0][1] != _sha256(cancellation_code.strip().upper()):
                raise QueueRefusal(404, "Buchungsnummer oder Stornocode stimmen nicht.",
                                   "unknown booking or wrong cancellation code")
            visit = self._change(tx, self._visit_by_number(tx, number).id, Action.CANCEL,
                                 Who("portal", "portal", None, self.clock()),
                                 {"reason": "online storniert"})
        self.on_commit(visit.location)
        return visit

    def bookings(self, location: str, day: date) -> list[Visit]:
        """The day's bookings of a location, names included (a mobile office loads them
        before it leaves; the workstation's register is encrypted)."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT data FROM queue_visits WHERE location = ? AND day = ? "
                              "AND booking_number IS NOT NULL ORDER BY id",
                              (location, day.isoformat()))
        return [Visit.from_json(json.loads(r[0])) for r in rows]

    # --- reading the shared queue -------------------------------------------------------------

    def visits_between(self, first: date, last: date,
                       location: str | None = None) -> list[Visit]:
        """The visits of the days `first`..`last` (of `location`, else all), without name
        and contact: what the office's statistics are computed from."""
        if last < first or (last - first).days > STATISTICS_MAX_DAYS:
            raise ValidationError(f"Der Zeitraum muss zwischen einem und "
                                  f"{STATISTICS_MAX_DAYS + 1} Tagen lang sein.",
                                  "statistics period out of range", "first")
        sql = "SELECT data FROM queue_visits WHERE day BETWEEN ? AND ?"
        params = [first.isoformat(), last.isoformat()]
        if location:
            self.config.location(location)
            sql += " AND location = ?"
            params.append(location)
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(sql + " ORDER BY day, id", params)
        return [Visit.from_json(public_visit(Visit.from_json(json.loads(r[0]))))
                for r in rows]

    def visit(self, visit_id: str) -> Visit:
        with self.db.transaction(write=False) as tx:
            return self._visit(tx, visit_id)

    def visits_today(self, location: str,
                     states: Sequence[VisitState] | None = None) -> list[Visit]:
        with self.db.transaction(write=False) as tx:
            return self._visits(tx, location, states)

    def waiting_line(self, counter: str) -> list[Visit]:
        """Who waits for `counter`, in calling order: ordered by the database with the very
        clauses "call next" takes the first from (`queue_line`), not sorted here."""
        spec = self.config.counter(counter)
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(*line_statement(self.db.dialect, spec, self.today().isoformat(),
                                              self.clock(), self.config.settings))
        return [Visit.from_json(json.loads(r[0])) for r in rows]

    def at_counter(self, counter: str) -> Visit | None:
        with self.db.transaction(write=False) as tx:
            return self._at_counter(tx, counter)

    def recent_calls(self, location: str, limit: int = 8) -> list[Call]:
        """The latest calls today, newest first (the call display's lines)."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT data FROM queue_events WHERE location = ? AND at >= ? "
                              "ORDER BY seq DESC LIMIT ?",
                              (location, self._day_start(), max(limit * 8, 64)))
        names = {code: c.name for code, c in self.config.counters.items()}
        found = (json.loads(r[0]) for r in rows)
        calls = [call for call in (call_in(d["event"], d["visit"]["label"], names)
                                   for d in found if not d.get("late")) if call is not None]
        return calls[:limit]

    def events_after(self, location: str, after: int, limit: int = 200) -> list[dict[str, Any]]:
        """The feed's events of `location` numbered above `after`, oldest first."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT seq, data FROM queue_events WHERE location = ? AND "
                              "seq > ? ORDER BY seq LIMIT ?", (location, after, limit))
        return [{**json.loads(data), "seq": int(seq)} for seq, data in rows]

    def last_event(self, location: str) -> int:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT event_seq FROM queue_locations WHERE location = ?",
                              (location,))
        return int(rows[0][0]) if rows else 0

    # --- changing it ----------------------------------------------------------------------------

    def draw_ticket(self, group: str, who: Who, *, priority: int = 1,
                    request_id: str | None = None, device_id: str = "") -> Visit:
        """A walk-in ticket; `request_id` again (a double press, a retry) answers with the
        same ticket, never a second one."""
        spec = self.config.ticket_group(group)
        check_priority(priority)
        day = self.today().isoformat()
        with self.db.transaction() as tx:
            if request_id and not tx.execute(*self._take_request(request_id, device_id)):
                answered = self._answered(tx, request_id, device_id)
                assert answered is not None  # a ticket request always has its visit
                return answered
            # One statement counts on and locks the group's day: two printers at once get
            # two numbers.
            number, issued = tx.execute(
                "INSERT INTO queue_ticket_numbers (location, day, ticket_group, last_number, "
                "issued) VALUES (?, ?, ?, ?, 1) ON CONFLICT (location, day, ticket_group) DO "
                "UPDATE SET last_number = queue_ticket_numbers.last_number + 1, "
                "issued = queue_ticket_numbers.issued + 1 RETURNING last_number, issued",
                (spec.location, day, group, spec.first))[0]
            if issued > spec.capacity or number > spec.last:
                raise QueueRefusal(409, f"Für „{spec.name}“ sind heute keine Wartenummern mehr "
                                        f"frei (Tageskontingent {spec.capacity}).",
                                   "ticket quota used up")
            who = replace(who, at=self.clock())
            visit = Visit(id=new_id(), label=spec.label(number), kind=WALK_IN,
                          location=spec.location, day=day, state=VisitState.QUEUED,
                          services=spec.services, priority=priority, ticket_group=group,
                          created_at=who.at, queued_at=who.at, version=1, updated_at=who.at)
            with tx.pipeline():
                self._insert(tx, visit)
                self._event(tx, visit, creation_event(visit, Action.DRAW, who, uuid7()))
                if request_id:
                    self._answer(tx, request_id, visit)
        self.on_commit(spec.location)
        return visit

    def check_in(self, code: str, who: Who) -> Visit:
        number = read_check_in_code(code)
        with self.db.transaction() as tx:
            visit = self._visit_by_number(tx, number)
            if visit.day != self.today().isoformat():
                raise ValidationError(f"Der Termin ist am "
                                      f"{date.fromisoformat(visit.day):%d.%m.%Y}, nicht heute.",
                                      "check-in on the wrong day", "booking_number")
            visit = self._change(tx, visit.id, Action.CHECK_IN, who, {})
        self.on_commit(visit.location)
        return visit

    def call_next(self, counter: str, request_id: str, who: Who,
                  device_id: str) -> Visit | None:
        """Atomic "call next" at `counter`; `request_id` again answers the same."""
        spec = self.config.counter(counter)
        now = self.clock()
        claim = claim_next(self.db.dialect, spec, self.today().isoformat(), now,
                           self.config.settings)
        with self.db.transaction() as tx:
            # One round trip: the counter's lock, the request id taken (a second request
            # with the same id waits here for this one's commit, then finds it answered),
            # and the first in line claimed.
            _, fresh, chosen = tx.execute_all([self._counter_lock(counter),
                                               self._take_request(request_id, device_id),
                                               claim])
            if not fresh:
                return self._answered(tx, request_id, device_id)
            if not chosen:
                self._check_counter_free(tx, counter)
                return None  # nobody waits (the request stays answered so)
            with tx.pipeline():  # the writes go together: one round trip to PostgreSQL
                called = self._step(tx, Visit.from_json(json.loads(chosen[0][0])),
                                    Action.CALL, replace(who, counter=counter), {})
                self._answer(tx, request_id, called)
        self.on_commit(spec.location)
        return called

    def act(self, visit_id: str, action: Action, who: Who,
            options: Mapping[str, Any]) -> Visit:
        """Any other change (call a chosen one, recall, appear, missed, put back, park,
        forward, finish, cancel, link): the core's step on the visit's locked row."""
        if action in (Action.BOOK, Action.DRAW, Action.CHECK_IN):
            raise QueueRefusal(422, "Diese Aktion geht so nicht.", "action not allowed here")
        with self.db.transaction() as tx:
            visit = self._change(tx, visit_id, action, who, options)
        self.on_commit(visit.location)
        return visit

    def complete_service(self, visit_id: str, who: Who, command_id: str, command_type: str,
                         person_id: str | None = None) -> Visit:
        """A counter service was completed for the visit at `who.counter`: appeared if it
        was only called, the command linked, finished once nothing is left open; one
        transaction (`clerk_app.queue.visits.complete_service`)."""
        with self.db.transaction() as tx:
            visit = self._claim(tx, visit_id)
            self._check_at(visit, who)
            steps = complete_service(
                visit, replace(who, at=self.clock()), self.config.settings, event_ids=uuid7,
                command_id=command_id,
                command_service=self.config.service_for_command(command_type),
                person_id=person_id)
            with tx.pipeline():
                self._update(tx, steps[-1][0])
                for new, event in steps:
                    self._event(tx, new, event)
        self.on_commit(visit.location)
        return steps[-1][0]

    def absorb(self, tx: Tx, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A change a workstation made in its own queue (offline, mobile office), arriving
        through its outbox: the event is kept once (its id is unique); the visit is taken if
        it is newer than the centre's."""
        visit = Visit.from_json(payload["visit"])
        event = VisitEvent.from_json(payload["event"])
        self.config.location(visit.location)
        rows = tx.execute("UPDATE queue_visits SET version = version WHERE id = ? "
                          "RETURNING version", (visit.id,))
        if not rows:
            self._insert(tx, visit)
        elif int(rows[0][0]) < visit.version:
            self._update(tx, visit)
        if not tx.execute("SELECT 1 FROM queue_events WHERE id = ?", (event.id,)):
            self._event(tx, visit, event, late=True)
        return {"visit_id": visit.id, "version": visit.version}

    def lock_for_absorbing(self, tx: Tx, payloads: Sequence[Mapping[str, Any]]) -> None:
        """Lock, before a sync batch absorbs its queue changes, every visit they touch, in id
        order, to the commit.

        A batch from a workstation's offline queue changes several visits, and each absorbed
        event takes its location's row for its number: absorbing one by one, it would hold
        the location's row while waiting for its next visit, which a single change (a clerk's
        "appear", holding that visit and waiting for the location's row) may hold, and the two
        would wait for each other in a circle. With its visits taken first, the batch takes
        locks in the order every change does (visits, then the location's row). The locations'
        rows are not taken ahead: only batches take more than one, and batches run one at a
        time (the sync's sequence lock); held from the start they would stop every call at
        the location for the whole batch. Malformed payloads are passed over here: absorbing
        refuses them."""
        if self.db.dialect != "postgresql":
            return  # SQLite's single writer holds the whole database already
        ids = sorted({visit["id"] for visit in (p.get("visit") for p in payloads
                                                if isinstance(p, Mapping))
                      if isinstance(visit, Mapping) and isinstance(visit.get("id"), str)})
        if ids:
            tx.execute(f"SELECT id FROM queue_visits WHERE id IN ({', '.join('?' * len(ids))}) "
                       "ORDER BY id FOR UPDATE", ids)

    def anonymise(self, today: date) -> int:
        """Erase names and contact data of visits past the retention period, and of the
        workstations' commands that carried them; the figures stay. Returns how many
        visits were anonymised."""
        before = cutoff(self.config, today).isoformat()
        count = 0
        with self.db.transaction() as tx:
            for visit_id, data in tx.execute("SELECT id, data FROM queue_visits WHERE day < ?",
                                             (before,)):
                visit = Visit.from_json(json.loads(data))
                if not visit.anonymised:
                    tx.execute("UPDATE queue_visits SET data = ? WHERE id = ?",
                               (json.dumps(anonymised(visit).to_json()), visit_id))
                    count += 1
            for command_id, payload in tx.execute(
                    "SELECT command_id, payload FROM commands WHERE type = ?", (QUEUE_COMMAND,)):
                carried = json.loads(payload)
                visit = Visit.from_json(carried["visit"])
                if visit.day < before and not visit.anonymised:
                    carried["visit"] = anonymised(visit).to_json()
                    tx.execute("UPDATE commands SET payload = ? WHERE command_id = ?",
                               (json.dumps(carried), command_id))
        if count:
            log.info("%d queue visits anonymised", count)
        return count

    # --- the machinery ------------------------------------------------------------------------

    def _lock(self, tx: Tx, location: str) -> None:
        """Take the location's lock (to the commit).

        Lock order, so that no two changes wait for each other in a circle: a counter's lock
        first (calls), then visits (a call claims them without waiting: it skips or refuses
        one another change holds), the location's row last (every event's number); a
        change holding the location's row (a booking) waits for nothing else."""
        self.config.location(location)
        rows = tx.execute("UPDATE queue_locations SET event_seq = event_seq WHERE location = ? "
                          "RETURNING event_seq", (location,))
        if not rows:
            tx.execute("INSERT INTO queue_locations (location, event_seq) VALUES (?, 0) "
                       "ON CONFLICT (location) DO NOTHING", (location,))
            rows = tx.execute("UPDATE queue_locations SET event_seq = event_seq "
                              "WHERE location = ? RETURNING event_seq", (location,))

    def _change(self, tx: Tx, visit_id: str, action: Action, who: Who,
                options: Mapping[str, Any]) -> Visit:
        """One change of one visit: its row locked and read afresh, the step, the writes.
        A call also takes its counter's lock (one visit a counter at a time)."""
        if action is Action.CALL and who.counter:
            self.config.counter(who.counter)
            tx.execute(*self._counter_lock(who.counter))
            self._check_counter_free(tx, who.counter)
            visit = self._claim(tx, visit_id, wait=False)
            if visit is None:
                raise QueueRefusal(409, "Der Besuch wird gerade an einem anderen Schalter "
                                        "bearbeitet. Bitte gleich noch einmal versuchen.",
                                   "visit busy in another change")
        else:
            visit = self._claim(tx, visit_id)
        with tx.pipeline():
            return self._step(tx, visit, action, who, options)

    @overload
    def _claim(self, tx: Tx, visit_id: str) -> Visit: ...
    @overload
    def _claim(self, tx: Tx, visit_id: str, *, wait: Literal[False]) -> Visit | None: ...

    def _claim(self, tx: Tx, visit_id: str, *, wait: bool = True) -> Visit | None:
        """The visit, read under its row lock (held to the commit): a change never works on
        a state another one has just left. Not `wait`: None at once if another change holds
        it (PostgreSQL; SQLite has one writer, nobody else holds anything)."""
        if not wait and self.db.dialect == "postgresql":
            rows = tx.execute("SELECT data FROM queue_visits WHERE id = ? "
                              "FOR UPDATE SKIP LOCKED", (visit_id,))
            return Visit.from_json(json.loads(rows[0][0])) if rows else None
        rows = tx.execute("UPDATE queue_visits SET version = version WHERE id = ? "
                          "RETURNING data", (visit_id,))
        if not rows:
            raise NotFoundError("Diesen Besuch gibt es nicht (mehr).", "queue visit not found")
        return Visit.from_json(json.loads(rows[0][0]))

    def _step(self, tx: Tx, visit: Visit, action: Action, who: Who,
              options: Mapping[str, Any]) -> Visit:
        if action in (Action.APPEAR, Action.NOT_APPEARED, Action.RECALL, Action.FINISH):
            self._check_at(visit, who)
        kwargs = dict(options)
        if action is Action.LINK:
            kwargs["command_service"] = self.config.service_for_command(
                str(kwargs.pop("command_type", "")))
        new, event = step(visit, action, replace(who, at=self.clock()), self.config.settings,
                          event_id=uuid7(), **kwargs)
        self._update(tx, new)
        self._event(tx, new, event)
        return new

    def _check_at(self, visit: Visit, who: Who) -> None:
        """A visit called or in service is its counter's to mark, no other's."""
        if visit.state in AT_COUNTER and who.counter and visit.counter and \
                visit.counter != who.counter:
            raise QueueRefusal(409, f"Nr. {visit.label} ist an einem anderen Schalter "
                                    "aufgerufen.", "visit is at another counter")

    def _check_counter_free(self, tx: Tx, counter: str) -> None:
        busy = self._at_counter(tx, counter)
        if busy is not None:
            raise QueueRefusal(409, f"Am Schalter ist noch Nr. {busy.label} "
                                    f"{busy.state.label}: bitte erst abschließen, parken, "
                                    "weiterleiten oder als nicht erschienen markieren.",
                               "counter still has a visit called or in service")

    def _counter_lock(self, counter: str) -> tuple[str, tuple[Any, ...]]:
        """The statement that makes calls at `counter` one at a time (to the commit), so
        that "is the counter free?" and the call are one step; calls at other counters go
        on beside it. PostgreSQL: an advisory lock; SQLite: its one writer already is."""
        if self.db.dialect != "postgresql":
            return "SELECT 1", ()
        key = hashlib.blake2b(f"queue-counter:{counter}".encode(), digest_size=8).digest()
        return "SELECT pg_advisory_xact_lock(?)", (int.from_bytes(key, "big", signed=True),)

    def _take_request(self, request_id: str, device_id: str) -> tuple[str, tuple[Any, ...]]:
        """The statement that claims `request_id` for this change (a row, if it is new). A
        second request with the same id waits for this one's commit and then gets no row."""
        return ("INSERT INTO queue_requests (request_id, device_id, visit_id, at) VALUES "
                "(?, ?, NULL, ?) ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
                (request_id, device_id, self.clock().isoformat()))

    def _answer(self, tx: Tx, request_id: str, visit: Visit) -> None:
        tx.write("UPDATE queue_requests SET visit_id = ? WHERE request_id = ?",
                 (visit.id, request_id))

    def _answered(self, tx: Tx, request_id: str, device_id: str) -> Visit | None:
        """The answer already given to `request_id` (a double press, a retry)."""
        visit_id, owner = tx.execute("SELECT visit_id, device_id FROM queue_requests "
                                     "WHERE request_id = ?", (request_id,))[0]
        if owner != device_id:
            raise QueueRefusal(409, "Diese Anfrage gehört einem anderen Arbeitsplatz.",
                               "request id of another device")
        return self._visit(tx, visit_id) if visit_id else None

    def _at_counter(self, tx: Tx, counter: str) -> Visit | None:
        rows = tx.execute("SELECT data FROM queue_visits WHERE counter = ? AND state IN (?, ?) "
                          "ORDER BY updated_at DESC LIMIT 1",
                          (counter, VisitState.CALLED.value, VisitState.IN_SERVICE.value))
        return Visit.from_json(json.loads(rows[0][0])) if rows else None

    def _visits(self, tx: Tx, location: str,
                states: Sequence[VisitState] | None) -> list[Visit]:
        sql = "SELECT data FROM queue_visits WHERE location = ? AND day = ?"
        params: list[Any] = [location, self.today().isoformat()]
        if states is not None:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            params += [s.value for s in states]
        return [Visit.from_json(json.loads(r[0])) for r in tx.execute(sql, params)]

    def _visit(self, tx: Tx, visit_id: str) -> Visit:
        rows = tx.execute("SELECT data FROM queue_visits WHERE id = ?", (visit_id,))
        if not rows:
            raise NotFoundError("Diesen Besuch gibt es nicht (mehr).", "queue visit not found")
        return Visit.from_json(json.loads(rows[0][0]))

    def _visit_by_number(self, tx: Tx, number: str) -> Visit:
        rows = tx.execute("SELECT data FROM queue_visits WHERE booking_number = ?", (number,))
        if not rows:
            raise NotFoundError("Zu dieser Buchungsnummer ist kein Termin bekannt.",
                                "booking number not known")
        return Visit.from_json(json.loads(rows[0][0]))

    def _free_booking_number(self, tx: Tx) -> str:
        while True:  # 32**7 numbers: a clash is rare, and then simply drawn again
            number = new_booking_number()
            if not tx.execute("SELECT 1 FROM queue_visits WHERE booking_number = ?", (number,)):
                return number

    def _insert(self, tx: Tx, visit: Visit) -> None:
        tx.write(f"INSERT INTO queue_visits ({', '.join(_VISIT_COLUMNS)}, id) VALUES "
                   f"({', '.join('?' * (len(_VISIT_COLUMNS) + 1))})", (*_row(visit), visit.id))

    def _update(self, tx: Tx, visit: Visit) -> None:
        tx.write(f"UPDATE queue_visits SET {', '.join(c + ' = ?' for c in _VISIT_COLUMNS)} "
                   "WHERE id = ?", (*_row(visit), visit.id))

    def _event(self, tx: Tx, visit: Visit, event: VisitEvent, *, late: bool = False) -> None:
        """Record `event` with the location's next number. The number is taken last, by
        a statement that locks the location's row to the commit: events of one location
        commit in the order of their numbers, so the feed, reading on from the last number
        it saw, never skips one. `late`: it happened earlier on a workstation's own queue
        (offline); the feed carries it, but it is no call to show."""
        tx.write("INSERT INTO queue_locations (location, event_seq) VALUES (?, 0) "
                 "ON CONFLICT (location) DO NOTHING", (visit.location,))
        data = {"event": event.to_json(), "visit": public_visit(visit), "late": late}
        tx.write("UPDATE queue_locations SET event_seq = event_seq + 1 WHERE location = ?",
                 (visit.location,))
        tx.write("INSERT INTO queue_events (location, seq, id, visit_id, at, data) "
                 "SELECT location, event_seq, ?, ?, ?, ? FROM queue_locations "
                 "WHERE location = ?",
                 (event.id, visit.id, event.at.isoformat(timespec="milliseconds"),
                  json.dumps(data), visit.location))
        if self.db.dialect == "postgresql":
            tx.write("SELECT pg_notify(?, location || ' ' || event_seq) FROM queue_locations "
                     "WHERE location = ?", (NOTIFY_CHANNEL, visit.location))

    def _day_start(self) -> str:
        zone = self.config.settings.zone
        start = datetime.combine(self.today(), datetime.min.time(), zone).astimezone(UTC)
        return start.isoformat(timespec="milliseconds")


def _booked(tx: Tx, location: str, day: date) -> list[Booked]:
    rows = tx.execute("SELECT slot_counter, slot_start, slot_minutes FROM queue_visits WHERE "
                      "location = ? AND day = ? AND slot_start IS NOT NULL AND state <> ?",
                      (location, day.isoformat(), VisitState.CANCELLED.value))
    return [Booked(r[0], datetime.fromisoformat(r[1]), int(r[2])) for r in rows]


def _row(visit: Visit) -> tuple[Any, ...]:
    updated = visit.updated_at or datetime.now(UTC)
    return (visit.location, visit.day, visit.state.value, visit.label, visit.booking_number,
            visit.counter, visit.kind, visit.priority,
            # `queued_at`: since when it waits (the core's fallback), as "call next" orders.
            instant(visit.queued_at or visit.created_at or updated),
            visit.appointment_at and instant(visit.appointment_at), visit.target_counter,
            json.dumps(visit.open_services), json.dumps(visit.to_json(), ensure_ascii=False),
            visit.version, updated.isoformat(timespec="milliseconds"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _person_text(value: str, field: str) -> str:
    text = " ".join(value.split())
    if not text or len(text) > 200 or any(ord(c) < 32 for c in value if c not in "\t\n"):
        raise ValidationError("Bitte Name und Kontakt (E-Mail oder Telefon) angeben, höchstens "
                              "200 Zeichen.", f"{field} missing or too long", field)
    return text
