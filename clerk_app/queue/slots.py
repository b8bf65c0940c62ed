"""Free appointment slots from opening hours, service durations and counters.

A booking needs one counter that handles all its services for the sum of their durations
(rounded up to the booking grid). A start time is free when at least one such counter has no
booking overlapping it. The central service asks this under its per-location lock, so the
answer it books on is the answer it checked: two citizens racing for the last slot cannot
both get it. Pure: the statistics use `capacity_minutes` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from clerk_app.errors import ValidationError
from clerk_app.queue.configuration import Location, QueueConfig


@dataclass(frozen=True)
class Booked:
    """A booking as far as capacity is concerned: which counter, from when, how long."""

    counter: str
    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Slot:
    start: datetime       # aware, office time
    minutes: int
    counter: str          # the counter the booking would occupy (capacity only, not calling)


def booking_minutes(config: QueueConfig, services: Sequence[str]) -> int:
    """The time the services take together, rounded up to the booking grid."""
    if not services:
        raise ValidationError("Bitte mindestens eine Dienstleistung wählen.",
                              "no services", "services")
    unknown = [s for s in services if s not in config.services]
    if unknown:
        raise ValidationError("Diese Dienstleistung wird nicht angeboten.",
                              f"unknown services {unknown}", "services")
    if len(set(services)) != len(services):
        raise ValidationError("Eine Dienstleistung ist doppelt gewählt.",
                              "duplicate service", "services")
    grid = config.settings.slot_minutes
    total = sum(config.services[s].minutes for s in services)
    return -(-total // grid) * grid


def bookable_day(config: QueueConfig, location: Location, day: date, today: date) -> None:
    """ValidationError (German) unless `day` is in the location's booking window and open."""
    if day < today or day > today + timedelta(days=location.booking_window_days):
        raise ValidationError(
            f"Termine für {location.name} können nur bis {location.booking_window_days} Tage "
            "im Voraus gebucht werden, nicht in der Vergangenheit.",
            "day outside the booking window", "day")
    if not location.spans_on(day):
        raise ValidationError(f"{location.name} ist an diesem Tag geschlossen.",
                              "location closed on that day", "day")


def free_slots(config: QueueConfig, location_code: str, services: Sequence[str], day: date,
               booked: Iterable[Booked], now: datetime) -> list[Slot]:
    """Every start on `day` at which the services can still be booked, earliest first."""
    location = config.location(location_code)
    minutes = booking_minutes(config, services)
    counters = [c.code for c in config.counters.values()
                if c.location == location_code and all(s in c.services for s in services)]
    if not counters:
        raise ValidationError("Diese Dienstleistungen werden an diesem Standort nicht "
                              "zusammen angeboten.", "no counter for the services", "services")
    zone = config.settings.zone
    by_counter: dict[str, list[Booked]] = {c: [] for c in counters}
    for item in booked:
        if item.counter in by_counter:
            by_counter[item.counter].append(item)
    grid = timedelta(minutes=config.settings.slot_minutes)
    length = timedelta(minutes=minutes)
    slots: list[Slot] = []
    for opens, closes in location.spans_on(day):
        start = datetime.combine(day, opens, zone)
        end = datetime.combine(day, closes, zone)
        while start + length <= end:
            if start > now:
                counter = next((c for c in counters if not any(
                    b.start < start + length and start < b.end for b in by_counter[c])), None)
                if counter is not None:
                    slots.append(Slot(start, minutes, counter))
            start += grid
    return slots


def capacity_minutes(config: QueueConfig, location_code: str, day: date) -> int:
    """Counter-minutes open on `day` at the location (bookings against capacity)."""
    location = config.location(location_code)
    counters = sum(1 for c in config.counters.values() if c.location == location_code)
    span = sum((datetime.combine(day, e) - datetime.combine(day, s)).seconds // 60
               for s, e in location.spans_on(day))
    return counters * span
