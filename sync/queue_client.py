"""The workstation's side of the shared queue: `QueueClient` speaks to the central service
with the same methods as the local queue (`clerk_app.queue.backend.QueueBackend`), and reads
the live feed (server-sent events) for a worker thread.

Failures are the central client's: `CentralUnavailable` (network, timeout, server trouble:
the UI switches to the local queue) and `CentralRefused` (the centre said no; its German
message is for the clerk, e.g. "Am Schalter ist noch Nr. A017 aufgerufen").

The feed (`events`) is a plain generator for a worker thread: it yields `QueueEvent`s as they
come, reconnects by itself after a dropped connection (resuming after the last event it saw,
so nothing is lost or repeated), and ends when `stop` is set. While it cannot connect it
yields a `QueueEvent` of kind "offline" once, and "online" when it is back: the call display
shows that, and a queue panel reloads its lists.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests

from clerk_app.queue.local_queue import LocalQueue
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import Call, Visit, call_in
from sync.central_errors import CentralUnavailable
from sync.client import CONNECT_TIMEOUT, CentralClient
from sync.protocol import API_PREFIX
from sync.queue_protocol import (
    FEED_EVENT,
    QUEUE_PATH,
    CallNextRequest,
    CallsAnswer,
    CheckInRequest,
    ServiceCompletedRequest,
    TicketRequest,
    VisitActionRequest,
    VisitAnswer,
    VisitsAnswer,
)

log = logging.getLogger(__name__)

FEED_READ_TIMEOUT = 30.0  # the centre sends a keep-alive every 15 s
RECONNECT_S = 1.0


@dataclass(frozen=True)
class QueueEvent:
    """One message of the feed. `kind`: "queue" (a visit changed: `visit` without name and
    contact, `action`, and `call` if it was a call just now), "offline" or "online"."""

    kind: str
    seq: int = 0
    action: str = ""
    visit: Visit | None = None
    call: Call | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class QueueClient:
    """The shared queue at the centre, through an enrolled workstation's `CentralClient`
    (its TLS settings, device token and clerk session). One per thread."""

    def __init__(self, client: CentralClient, counter_names: dict[str, str] | None = None
                 ) -> None:
        self.client = client
        self.counter_names = counter_names or {}

    # --- reading ---------------------------------------------------------------------------

    def visits_today(self, location: str,
                     states: Sequence[VisitState] | None = None) -> list[Visit]:
        params = {"state": [s.value for s in states]} if states is not None else None
        return _visits(self.client._call("GET", f"{QUEUE_PATH}/locations/{location}/visits",
                                         VisitsAnswer, params=params))

    def waiting_line(self, counter: str) -> list[Visit]:
        return _visits(self.client._call("GET", f"{QUEUE_PATH}/counters/{counter}/line",
                                         VisitsAnswer))

    def at_counter(self, counter: str) -> Visit | None:
        return _visit(self.client._call("GET", f"{QUEUE_PATH}/counters/{counter}/current",
                                        VisitAnswer))

    def visit(self, visit_id: str) -> Visit:
        found = _visit(self.client._call("GET", f"{QUEUE_PATH}/visits/{visit_id}",
                                         VisitAnswer))
        assert found is not None
        return found

    def recent_calls(self, location: str, limit: int = 8) -> list[Call]:
        answer = self.client._call("GET", f"{QUEUE_PATH}/locations/{location}/calls",
                                   CallsAnswer, params={"limit": limit})
        return [Call(c.visit_id, c.label, c.counter, c.counter_name, c.at, c.recall)
                for c in answer.calls]

    def bookings(self, location: str, day: date) -> list[Visit]:
        """The day's bookings of a location, names included (for the local queue)."""
        return _visits(self.client._call("GET", f"{QUEUE_PATH}/locations/{location}/bookings",
                                         VisitsAnswer, params={"day": day.isoformat()}))

    def visits_between(self, first: date, last: date,
                       location: str | None = None) -> list[Visit]:
        """The whole office's visits of the period, without names (for the statistics)."""
        params = {"first": first.isoformat(), "last": last.isoformat()}
        if location:
            params["location"] = location
        return _visits(self.client._call("GET", f"{QUEUE_PATH}/statistics/visits",
                                         VisitsAnswer, params=params))

    # --- changing --------------------------------------------------------------------------

    def draw_ticket(self, group: str, *, priority: int = 1,
                    request_id: str | None = None) -> Visit:
        return self._changed("POST", "/tickets", TicketRequest(
            group=group, priority=priority, request_id=request_id))

    def check_in(self, code: str) -> Visit:
        return self._changed("POST", "/check-in", CheckInRequest(code=code))

    def call_next(self, counter: str, request_id: str) -> Visit | None:
        """Atomic at the centre; send the same `request_id` again after a timeout: the
        answer is the same visit, never a second one."""
        return _visit(self.client._call(
            "POST", f"{QUEUE_PATH}/counters/{counter}/call-next", VisitAnswer,
            body=CallNextRequest(request_id=request_id)))

    def call(self, visit_id: str, counter: str) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="call", counter=counter))

    def recall(self, visit_id: str, counter: str) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="recall", counter=counter))

    def appear(self, visit_id: str, counter: str) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="appear", counter=counter))

    def not_appeared(self, visit_id: str, counter: str) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="not_appeared", counter=counter))

    def put_back(self, visit_id: str, counter: str | None = None) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="put_back", counter=counter))

    def park(self, visit_id: str, counter: str) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="park", counter=counter))

    def forward(self, visit_id: str, counter: str, *, to_counter: str | None = None,
                to_services: Sequence[str] = ()) -> Visit:
        return self._act(visit_id, VisitActionRequest(
            action="forward", counter=counter, to_counter=to_counter,
            to_services=list(to_services)))

    def finish(self, visit_id: str, counter: str, services_done: Sequence[str]) -> Visit:
        return self._act(visit_id, VisitActionRequest(action="finish", counter=counter,
                                                      services_done=list(services_done)))

    def cancel(self, visit_id: str, counter: str | None = None, reason: str = "") -> Visit:
        return self._act(visit_id, VisitActionRequest(action="cancel", counter=counter,
                                                      reason=reason))

    def link_command(self, visit_id: str, command_id: str, command_type: str,
                     counter: str | None = None, person_id: str | None = None) -> Visit:
        return self._act(visit_id, VisitActionRequest(
            action="link", counter=counter, command_id=command_id, command_type=command_type,
            person_id=person_id))

    def complete_service(self, visit_id: str, counter: str, command_id: str,
                         command_type: str, person_id: str | None = None) -> Visit:
        return self._changed("POST", f"/visits/{visit_id}/service-completed",
                             ServiceCompletedRequest(counter=counter, command_id=command_id,
                                                     command_type=command_type,
                                                     person_id=person_id))

    def _act(self, visit_id: str, body: VisitActionRequest) -> Visit:
        return self._changed("POST", f"/visits/{visit_id}/actions", body)

    def _changed(self, method: str, path: str, body: Any) -> Visit:
        found = _visit(self.client._call(method, QUEUE_PATH + path, VisitAnswer, body=body))
        assert found is not None  # every change answers with the visit
        return found

    # --- the live feed ---------------------------------------------------------------------

    def events(self, location: str, stop: threading.Event, *,
               after: int | None = None) -> Iterator[QueueEvent]:
        """The feed of `location` until `stop` is set (see the module's docstring). Closing
        the generator, or setting `stop`, ends it within `FEED_READ_TIMEOUT` at worst; the
        caller can also call `close()` on the client's session from another thread."""
        last = after
        offline = False
        while not stop.is_set():
            try:
                for event in self._stream(location, last, stop):
                    if offline:
                        offline = False
                        yield QueueEvent("online", seq=event.seq)
                    if event.kind == FEED_EVENT or event.kind == "hello":
                        last = event.seq
                    if event.kind == FEED_EVENT:
                        yield event
            except (requests.RequestException, CentralUnavailable) as exc:
                log.info("queue feed interrupted (%s); reconnecting", type(exc).__name__)
            if not offline and not stop.is_set():
                offline = True
                yield QueueEvent("offline", seq=last or 0)
            stop.wait(RECONNECT_S)

    def _stream(self, location: str, after: int | None,
                stop: threading.Event) -> Iterator[QueueEvent]:
        url = f"{self.client.base_url}{API_PREFIX}{QUEUE_PATH}/locations/{location}/events"
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        with self.client.session.get(url, headers=headers, stream=True,
                                     timeout=(CONNECT_TIMEOUT, FEED_READ_TIMEOUT),
                                     verify=self.client.session.verify) as response:
            if response.status_code >= 400:
                raise self.client._refusal(response) if response.status_code < 500 else \
                    CentralUnavailable("Die Zentrale ist gestört.", "feed: HTTP "
                                       f"{response.status_code}")
            kind, data = "", ""
            for raw in response.iter_lines():
                line = raw.decode("utf-8")
                if stop.is_set():
                    return
                if line == "":
                    if kind and data:
                        yield self._event(kind, json.loads(data))
                    kind, data = "", ""
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
        raise CentralUnavailable("Die Verbindung zur Zentrale wurde beendet.",
                                 "feed closed by the centre")

    def _event(self, kind: str, data: dict[str, Any]) -> QueueEvent:
        if kind != FEED_EVENT:
            return QueueEvent(kind, seq=int(data.get("seq", 0)), raw=data)
        visit = Visit.from_json(data["visit"])
        event = data["event"]
        # A late event (a workstation's offline queue, synced now) is no call to show.
        call = None if data.get("late") else call_in(event, visit.label, self.counter_names)
        return QueueEvent(FEED_EVENT, seq=int(data["seq"]), action=str(event["action"]),
                          visit=visit, call=call, raw=data)


def load_bookings(queue: LocalQueue, client: QueueClient, location: str, day: date) -> int:
    """A mobile office before it leaves: the day's bookings of its stop into the local
    queue (changed or cancelled ones too). Returns how many changed locally."""
    return queue.import_visits(client.bookings(location, day))


def _visits(answer: VisitsAnswer) -> list[Visit]:
    return [Visit.from_json(v) for v in answer.visits]


def _visit(answer: VisitAnswer) -> Visit | None:
    return Visit.from_json(answer.visit) if answer.visit else None
