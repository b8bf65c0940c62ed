"""Who is next at a counter: the one rule "Nächste Person aufrufen" follows everywhere.

Appointments that are due come first, earliest appointment first (a citizen with a booked
time should not wait behind walk-ins); then everyone else by priority (higher first) and by
how long they have waited. A visit is for this counter if it was forwarded to it, or if it
was forwarded nowhere and the counter handles at least one of its open services. Pure, so
the local queue and the central service sort the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from clerk_app.queue.configuration import Counter, QueueSettings
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT, Visit


def serves(counter: Counter, visit: Visit) -> bool:
    """May `counter` call `visit`?"""
    if visit.location != counter.location or visit.state is not VisitState.QUEUED:
        return False
    if visit.target_counter:
        return visit.target_counter == counter.code
    return any(s in counter.services for s in visit.open_services)


def is_due(visit: Visit, now: datetime, settings: QueueSettings) -> bool:
    """An appointment whose time has come (a few minutes early counts)."""
    return visit.kind == APPOINTMENT and visit.appointment_at is not None and \
        visit.appointment_at - timedelta(minutes=settings.appointment_due_early_minutes) <= now


def sort_key(visit: Visit, now: datetime,
             settings: QueueSettings) -> tuple[int, float, int, float, str, str]:
    """The order of the waiting line (smaller first)."""
    due = is_due(visit, now, settings)
    appointment = visit.appointment_at.timestamp() if due and visit.appointment_at else 0.0
    waiting_since = (visit.queued_at or visit.created_at or now).timestamp()
    # Drawn in the same millisecond: the lower ticket number first.
    return (0 if due else 1, appointment, -visit.priority, waiting_since, visit.label, visit.id)


def waiting_line(visits: Iterable[Visit], counter: Counter, now: datetime,
                 settings: QueueSettings) -> list[Visit]:
    """The visits `counter` may call, in the order it will call them."""
    return sorted((v for v in visits if serves(counter, v)),
                  key=lambda v: sort_key(v, now, settings))


def next_visit(visits: Iterable[Visit], counter: Counter, now: datetime,
               settings: QueueSettings) -> Visit | None:
    """The visit "call next" takes at `counter`, or None if nobody waits for it."""
    line = waiting_line(visits, counter, now, settings)
    return line[0] if line else None
