"""Figures from the visits, as ZMS's statistics give them: served and missed by appointment and
walk-in, waiting time per hour (average and maximum), service time per service, per counter,
clerk and day, and bookings against capacity; and their CSV export.

Computed from visits alone (no names needed: anonymised visits count the same). Waiting time
is from joining the line (check-in or ticket) to the first call; service time from "Kunde
erschienen" to finished, shared equally among the services ticked done. Hours are office
time.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clerk_app.queue.configuration import QueueConfig
from clerk_app.queue.slots import capacity_minutes
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT, Visit
from clerk_app.store.db import Store


@dataclass
class Durations:
    """Count, average and maximum of a set of durations, in minutes."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0

    def add(self, minutes: float) -> None:
        self.count += 1
        self.total += minutes
        self.maximum = max(self.maximum, minutes)

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclass
class Outcomes:
    """Served, missed and cancelled visits, by appointment and walk-in."""

    served_appointment: int = 0
    served_walk_in: int = 0
    missed_appointment: int = 0
    missed_walk_in: int = 0
    cancelled: int = 0

    def add(self, visit: Visit) -> None:
        appointment = visit.kind == APPOINTMENT
        if visit.state is VisitState.FINISHED:
            if appointment:
                self.served_appointment += 1
            else:
                self.served_walk_in += 1
        elif visit.state is VisitState.MISSED:
            if appointment:
                self.missed_appointment += 1
            else:
                self.missed_walk_in += 1
        elif visit.state is VisitState.CANCELLED:
            self.cancelled += 1


@dataclass
class Capacity:
    """Booked against available counter-minutes of a location on a day."""

    bookings: int = 0
    booked_minutes: int = 0
    capacity_minutes: int = 0

    @property
    def utilisation(self) -> float:
        return self.booked_minutes / self.capacity_minutes if self.capacity_minutes else 0.0


@dataclass
class QueueStatistics:
    """All figures of a period. Keys: (day, location) for days; counters, clerks and
    services by their codes; hours 0-23 (office time)."""

    first_day: date
    last_day: date
    by_day: dict[tuple[str, str], Outcomes] = field(default_factory=dict)
    waiting_by_hour: dict[int, Durations] = field(default_factory=dict)
    service_time: dict[str, Durations] = field(default_factory=dict)
    by_counter: dict[str, Outcomes] = field(default_factory=dict)
    by_clerk: dict[str, Outcomes] = field(default_factory=dict)
    waiting_by_counter: dict[str, Durations] = field(default_factory=dict)
    capacity: dict[tuple[str, str], Capacity] = field(default_factory=dict)

    @property
    def totals(self) -> Outcomes:
        total = Outcomes()
        for o in self.by_day.values():
            total.served_appointment += o.served_appointment
            total.served_walk_in += o.served_walk_in
            total.missed_appointment += o.missed_appointment
            total.missed_walk_in += o.missed_walk_in
            total.cancelled += o.cancelled
        return total


def compute(visits: Iterable[Visit], config: QueueConfig, first_day: date,
            last_day: date) -> QueueStatistics:
    """The figures of the visits whose day lies in [first_day, last_day]."""
    zone = config.settings.zone
    stats = QueueStatistics(first_day, last_day)
    by_day: defaultdict[tuple[str, str], Outcomes] = defaultdict(Outcomes)
    waiting: defaultdict[int, Durations] = defaultdict(Durations)
    service: defaultdict[str, Durations] = defaultdict(Durations)
    counters: defaultdict[str, Outcomes] = defaultdict(Outcomes)
    clerks: defaultdict[str, Outcomes] = defaultdict(Outcomes)
    counter_wait: defaultdict[str, Durations] = defaultdict(Durations)
    capacity: dict[tuple[str, str], Capacity] = {}
    for visit in visits:
        if not first_day.isoformat() <= visit.day <= last_day.isoformat():
            continue
        by_day[(visit.day, visit.location)].add(visit)
        if visit.counter:
            counters[visit.counter].add(visit)
        if visit.clerk:
            clerks[visit.clerk].add(visit)
        if visit.queued_at and visit.first_called_at:
            minutes = _minutes(visit.queued_at, visit.first_called_at)
            waiting[visit.queued_at.astimezone(zone).hour].add(minutes)
            if visit.counter:
                counter_wait[visit.counter].add(minutes)
        if visit.state is VisitState.FINISHED and visit.service_started_at and \
                visit.finished_at and visit.services_done:
            share = _minutes(visit.service_started_at, visit.finished_at) / \
                len(visit.services_done)
            for code in visit.services_done:
                service[code].add(share)
        if visit.booking_number and visit.location in config.locations:
            key = (visit.day, visit.location)
            if key not in capacity:
                capacity[key] = Capacity(capacity_minutes=capacity_minutes(
                    config, visit.location, date.fromisoformat(visit.day)))
            if visit.state is not VisitState.CANCELLED:
                capacity[key].bookings += 1
                capacity[key].booked_minutes += sum(
                    config.services[s].minutes for s in visit.services if s in config.services)
    stats.by_day = dict(sorted(by_day.items()))
    stats.waiting_by_hour = dict(sorted(waiting.items()))
    stats.service_time = dict(sorted(service.items()))
    stats.by_counter = dict(sorted(counters.items()))
    stats.by_clerk = dict(sorted(clerks.items()))
    stats.waiting_by_counter = dict(sorted(counter_wait.items()))
    stats.capacity = dict(sorted(capacity.items()))
    return stats


def local_visits(store: Store, first_day: date, last_day: date,
                 location: str | None = None) -> list[Visit]:
    """The visits of the period in this workstation's register."""
    sql = "SELECT data FROM queue_visits WHERE day BETWEEN ? AND ?"
    params: list[str] = [first_day.isoformat(), last_day.isoformat()]
    if location:
        sql += " AND location = ?"
        params.append(location)
    return [Visit.from_json(json.loads(r[0])) for r in store.conn.execute(sql, params)]


CSV_HEADER = ("bereich", "schluessel", "tag", "standort", "bedient_termin", "bedient_spontan",
              "nicht_erschienen_termin", "nicht_erschienen_spontan", "storniert", "anzahl",
              "durchschnitt_min", "maximum_min", "gebucht", "gebuchte_min", "kapazitaet_min",
              "auslastung")


def to_csv(stats: QueueStatistics) -> str:
    """The figures as one CSV table (semicolon, decimal comma: it opens in a German
    spreadsheet as it is); one row per figure group, `bereich` says which."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for (day, location), outcome in stats.by_day.items():
        writer.writerow(["tag", "", day, location, *_outcome(outcome), *[""] * 7])
    for kind, table in (("schalter", stats.by_counter), ("mitarbeiter", stats.by_clerk)):
        for key, outcome in table.items():
            writer.writerow([kind, key, "", "", *_outcome(outcome), *[""] * 7])
    groups: tuple[tuple[str, Mapping[Any, Durations]], ...] = (
        ("wartezeit_stunde", stats.waiting_by_hour),
        ("bearbeitungszeit_dienstleistung", stats.service_time),
        ("wartezeit_schalter", stats.waiting_by_counter))
    for kind, durations in groups:
        for key, d in durations.items():
            writer.writerow([kind, f"{key:02d}" if isinstance(key, int) else key, "", "",
                             *[""] * 5, d.count, _number(d.average), _number(d.maximum),
                             "", "", "", ""])
    for (day, location), c in stats.capacity.items():
        writer.writerow(["kapazitaet", "", day, location, *[""] * 8, c.bookings,
                         c.booked_minutes, c.capacity_minutes, _number(c.utilisation)])
    return out.getvalue()


def _outcome(o: Outcomes) -> Sequence[int]:
    return (o.served_appointment, o.served_walk_in, o.missed_appointment, o.missed_walk_in,
            o.cancelled)


def _number(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _minutes(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60.0)
