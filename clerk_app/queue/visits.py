"""A visit (ZMS: "process"): one citizen's way from booking or ticket to finished, and the
pure rules that move it.

`step` is the one place a visit changes: it checks the action against the state table, applies
the action's rule (recall gap and count, services ticked on finishing, forwarding target) and
returns the new visit together with the event that records the change (time, counter, clerk).
It touches no database, so the workstation's local queue and the central service's shared
queue run the same code and can never disagree about what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from clerk_app.errors import ValidationError
from clerk_app.queue.configuration import QueueSettings
from clerk_app.queue.states import Action, VisitState, target_state

APPOINTMENT = "appointment"
WALK_IN = "walk_in"
PRIORITIES = (1, 2, 3)  # 1 normal, 2 raised, 3 urgent (e.g. severely disabled, infants)


@dataclass(frozen=True)
class Visit:
    """One citizen's visit. `label` is what the call display shows ("A017", or the
    appointment's short number), never a name. Times are timezone-aware UTC instants;
    `day` is the office day (ISO date) the visit belongs to.

    `name` and `contact` are personal data: they are erased after the retention period
    (`anonymised`), every figure the statistics need stays."""

    id: str
    label: str
    kind: str                       # APPOINTMENT or WALK_IN
    location: str
    day: str
    state: VisitState
    services: tuple[str, ...]       # requested, in order
    priority: int = 1
    services_done: tuple[str, ...] = ()
    booking_number: str | None = None
    appointment_at: datetime | None = None
    ticket_group: str | None = None
    name: str = ""
    contact: str = ""
    person_id: str | None = None
    created_at: datetime | None = None
    queued_at: datetime | None = None      # waiting starts: check-in or ticket
    first_called_at: datetime | None = None
    called_at: datetime | None = None      # the latest call
    call_count: int = 0
    service_started_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None             # where it is (or was last) called or served
    clerk: str | None = None
    target_counter: str | None = None      # forwarded to this counter only
    was_missed: bool = False
    parked_by: str | None = None
    commands: tuple[str, ...] = ()         # counter-service command ids done for it
    anonymised: bool = False
    version: int = 0
    updated_at: datetime | None = None

    @property
    def open_services(self) -> tuple[str, ...]:
        """The requested services not yet done."""
        return tuple(s for s in self.services if s not in self.services_done)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the outbox payload, the HTTP answers). Field by field rather
        than `dataclasses.asdict`: every field is immutable, and asdict's deep copy was a
        quarter of the central service's work on each queue change."""
        data: dict[str, Any] = {}
        for key in _CONVERTERS:
            value = getattr(self, key)
            if isinstance(value, datetime):
                value = value.isoformat(timespec="milliseconds")
            elif isinstance(value, tuple):
                value = list(value)
            data[key] = value
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Visit:
        """The inverse of `to_json` (unknown keys are ignored: a newer peer may add some).
        Called for every waiting visit on each "call next", so the conversions are looked up
        once per field, not worked out from the type on each call."""
        values: dict[str, Any] = {}
        for name, convert in _CONVERTERS.items():
            if name in data:
                value = data[name]
                values[name] = convert(value) if value is not None else \
                    (() if convert is tuple else None)
        return cls(**values)


def _converter(annotation: str) -> Any:
    if "datetime" in annotation:
        return datetime.fromisoformat
    if annotation.startswith("tuple"):
        return tuple
    if annotation == "VisitState":
        return VisitState
    if annotation == "bool":
        return bool
    return lambda value: value


_CONVERTERS: dict[str, Any] = {name: _converter(str(spec.type))
                               for name, spec in Visit.__dataclass_fields__.items()}


@dataclass(frozen=True)
class VisitEvent:
    """One change of a visit, as the statistics and the audit need it: when, what, from which
    state to which, at which counter, by which clerk on which workstation. `detail` holds the
    action's particulars (services ticked, forwarding target, reason) and never a name."""

    id: str
    visit_id: str
    at: datetime
    action: Action
    from_state: VisitState | None
    to_state: VisitState
    counter: str | None
    clerk: str
    workstation: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "visit_id": self.visit_id,
                "at": self.at.isoformat(timespec="milliseconds"), "action": self.action.value,
                "from_state": self.from_state.value if self.from_state else None,
                "to_state": self.to_state.value, "counter": self.counter, "clerk": self.clerk,
                "workstation": self.workstation, "detail": dict(self.detail)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VisitEvent:
        return cls(id=data["id"], visit_id=data["visit_id"],
                   at=datetime.fromisoformat(data["at"]), action=Action(data["action"]),
                   from_state=VisitState(data["from_state"]) if data["from_state"] else None,
                   to_state=VisitState(data["to_state"]), counter=data.get("counter"),
                   clerk=data["clerk"], workstation=data["workstation"],
                   detail=dict(data.get("detail") or {}))


@dataclass(frozen=True)
class Call:
    """One line of the call display: number -> counter, never a name."""

    visit_id: str
    label: str
    counter: str
    counter_name: str
    at: datetime
    recall: bool


def call_in(event: Mapping[str, Any], label: str,
            counter_names: Mapping[str, str]) -> Call | None:
    """The call display's line in an event (`VisitEvent.to_json()`), if it is a call."""
    if event.get("action") not in (Action.CALL.value, Action.RECALL.value) or \
            event.get("to_state") != VisitState.CALLED.value:
        return None
    counter = str(event.get("counter") or "")
    return Call(visit_id=str(event["visit_id"]), label=label, counter=counter,
                counter_name=counter_names.get(counter, counter),
                at=datetime.fromisoformat(event["at"]),
                recall=event["action"] == Action.RECALL.value)


@dataclass(frozen=True)
class Who:
    """Who changes a visit, where and when (the event's circumstances)."""

    clerk: str
    workstation: str
    counter: str | None
    at: datetime

    @classmethod
    def now(cls, clerk: str, workstation: str, counter: str | None) -> Who:
        return cls(clerk, workstation, counter, datetime.now(UTC))


def step(visit: Visit, action: Action, who: Who, settings: QueueSettings, *, event_id: str,
         services_done: Sequence[str] = (), to_counter: str | None = None,
         to_services: Sequence[str] = (), command_id: str | None = None,
         command_service: str | None = None, person_id: str | None = None,
         reason: str = "") -> tuple[Visit, VisitEvent]:
    """Apply `action` to `visit`: the new visit and the event recording the change.

    ValidationError (German) when the action is not allowed now: wrong state, a recall before
    the minimum gap, finishing without a done service, forwarding nowhere.
    """
    target = target_state(action, visit.state)
    changes: dict[str, Any] = {"state": target, "version": visit.version + 1,
                               "updated_at": who.at}
    detail: dict[str, Any] = {}
    if action is Action.CHECK_IN:
        changes["queued_at"] = who.at
    elif action is Action.CALL:
        changes.update(called_at=who.at, call_count=1, counter=who.counter, clerk=who.clerk,
                       first_called_at=visit.first_called_at or who.at, parked_by=None)
        _require_counter(who)
    elif action is Action.RECALL:
        _require_counter(who)
        _check_recall_gap(visit, who, settings)
        if visit.call_count >= settings.max_calls:
            # The calls are used up: the visit counts as missed (ZMS), and can be put back.
            action, target = Action.NOT_APPEARED, VisitState.MISSED
            changes.update(state=target, was_missed=True)
            detail["calls_used_up"] = True
        else:
            changes.update(called_at=who.at, call_count=visit.call_count + 1,
                           counter=who.counter, clerk=who.clerk)
    elif action is Action.APPEAR:
        changes.update(service_started_at=visit.service_started_at or who.at,
                       counter=who.counter or visit.counter, clerk=who.clerk)
    elif action in (Action.NOT_APPEARED, Action.NO_SHOW):
        changes["was_missed"] = True
    elif action is Action.PUT_BACK:
        changes.update(call_count=0, counter=None, parked_by=None)
    elif action is Action.PARK:
        changes.update(parked_by=who.clerk)
    elif action is Action.FORWARD:
        changes.update(_forward(visit, to_counter, to_services))
        detail.update(to_counter=to_counter, to_services=list(to_services))
    elif action is Action.FINISH:
        done = _ticked(visit, services_done)
        changes.update(services_done=done, finished_at=who.at)
        detail["services_done"] = list(done)
    elif action is Action.LINK:
        if not command_id:
            raise ValueError("LINK needs a command id")
        if command_id not in visit.commands:
            changes["commands"] = (*visit.commands, command_id)
        if command_service and command_service in visit.services and \
                command_service not in visit.services_done:
            changes["services_done"] = (*visit.services_done, command_service)
        if person_id:  # the citizen as found in the register: the next dialog starts there
            changes["person_id"] = person_id
        detail.update(command_id=command_id, service=command_service)
    if reason:
        detail["reason"] = reason[:200]
    new = replace(visit, **changes)
    event = VisitEvent(id=event_id, visit_id=visit.id, at=who.at, action=action,
                       from_state=visit.state, to_state=new.state, counter=who.counter,
                       clerk=who.clerk, workstation=who.workstation, detail=detail)
    return new, event


def complete_service(visit: Visit, who: Who, settings: QueueSettings, *,
                     event_ids: Callable[[], str], command_id: str,
                     command_service: str | None,
                     person_id: str | None = None) -> list[tuple[Visit, VisitEvent]]:
    """A counter service (its command `command_id`) was completed for `visit`: the visit
    knows its commands, so finishing the service finishes the visit. The steps, each with
    the visit as it is after it: "appeared" if it was only called, the command linked (its
    service ticked, the citizen remembered), and "finished" once no requested service is
    left open. The caller writes them in one transaction: all of them or none."""
    steps = []
    if visit.state is VisitState.CALLED:
        steps.append(step(visit, Action.APPEAR, who, settings, event_id=event_ids()))
        visit = steps[-1][0]
    steps.append(step(visit, Action.LINK, who, settings, event_id=event_ids(),
                      command_id=command_id, command_service=command_service,
                      person_id=person_id))
    visit = steps[-1][0]
    if not visit.open_services:
        steps.append(step(visit, Action.FINISH, who, settings, event_id=event_ids(),
                          services_done=visit.services_done))
    return steps


def creation_event(visit: Visit, action: Action, who: Who, event_id: str) -> VisitEvent:
    """The event that records a new visit (a booking or a drawn ticket)."""
    target_state(action, None)  # only BOOK and DRAW may start a visit
    return VisitEvent(id=event_id, visit_id=visit.id, at=who.at, action=action,
                      from_state=None, to_state=visit.state, counter=who.counter,
                      clerk=who.clerk, workstation=who.workstation)


def check_priority(priority: int) -> int:
    if priority not in PRIORITIES:
        raise ValidationError("Die Priorität muss 1 (normal), 2 (erhöht) oder 3 (dringend) sein.",
                              f"priority {priority} not in 1..3", "priority")
    return priority


def _require_counter(who: Who) -> None:
    if not who.counter:
        # ZMS knows the complaint: a recall without a counter chosen.
        raise ValidationError("Für einen Aufruf muss an diesem Arbeitsplatz ein Schalter "
                              "eingestellt sein.", "call without a counter", "counter")


def _check_recall_gap(visit: Visit, who: Who, settings: QueueSettings) -> None:
    if visit.called_at is None:
        return
    wait = visit.called_at + timedelta(seconds=settings.recall_min_gap_seconds) - who.at
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        raise ValidationError(f"Nr. {visit.label} wurde gerade erst aufgerufen: ein erneuter "
                              f"Aufruf ist in {seconds} Sekunden möglich.",
                              f"recall {seconds}s too early")


def _forward(visit: Visit, to_counter: str | None,
             to_services: Sequence[str]) -> dict[str, Any]:
    if not to_counter and not to_services:
        raise ValidationError("Bitte einen Schalter oder eine Dienstleistung wählen, an die "
                              "weitergeleitet wird.", "forward without a target", "to_counter")
    changes: dict[str, Any] = {"target_counter": to_counter or None, "counter": None,
                               "call_count": 0, "parked_by": None}
    if to_services:
        kept = tuple(s for s in visit.services if s in visit.services_done)
        changes["services"] = kept + tuple(s for s in dict.fromkeys(to_services)
                                           if s not in kept)
    return changes


def _ticked(visit: Visit, services_done: Sequence[str]) -> tuple[str, ...]:
    unknown = [s for s in services_done if s not in visit.services]
    if unknown:
        raise ValidationError("Abgehakt werden können nur Dienstleistungen des Besuchs.",
                              f"services {unknown} not requested", "services_done")
    done = tuple(s for s in visit.services
                 if s in services_done or s in visit.services_done)
    if not done:
        raise ValidationError("Bitte mindestens eine erledigte Dienstleistung abhaken (oder "
                              "den Besuch stornieren).", "finish without a done service",
                              "services_done")
    return done
