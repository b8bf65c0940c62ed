"""Helpers for the queue tests: a clock the test moves, and visits made to order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clerk_app.errors import ClerkError
from clerk_app.ids import new_id
from clerk_app.queue.booking_codes import new_booking_number
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT, Visit

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday in office hours (Europe/Berlin is UTC+1 in December): 09:00 local.
MONDAY_9 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Now, as the test says."""

    now: datetime = field(default=MONDAY_9)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def booking(location: str, at: datetime, services: tuple[str, ...] = ("meldebescheinigung",),
            *, name: str = "Erika Mustermann") -> Visit:
    """A confirmed appointment as the centre's booking API makes it."""
    number = new_booking_number()
    return Visit(id=new_id(), label=number, kind=APPOINTMENT, location=location,
                 day=at.astimezone(BERLIN).date().isoformat(),
                 state=VisitState.CONFIRMED, services=services, booking_number=number,
                 appointment_at=at, name=name, contact="erika@example.org", created_at=at,
                 version=1, updated_at=at)



@contextmanager
def refused(kind: type[ClerkError], pattern: str) -> Iterator[None]:
    """The block raises `kind`, and its German message (the clerk's) matches `pattern`."""
    with pytest.raises(kind) as info:
        yield
    assert re.search(pattern, info.value.message_de), info.value.message_de
