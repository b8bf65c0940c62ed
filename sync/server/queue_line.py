""""Call next" in the central database: the waiting line ordered by the database, the first
visit claimed in the same statement.

The order is the core's (`clerk_app.queue.ordering.sort_key`, which the workstations' local
queue sorts by in Python): appointments that are due first, earliest first; then higher
priority; then longer waiting; then label and id. Which visits a counter may call is the
core's `serves`: forwarded to this counter, or forwarded nowhere with an open service the
counter handles. Here it is one indexed query that returns a single row, so "call next" no
longer reads the whole waiting line into the service and sorts it there; a test holds the
two orders equal on random waiting rooms. The counter's waiting line (`line_statement`, what
its panel shows) is read in the same order by the same clauses.

On PostgreSQL the row is taken `FOR UPDATE SKIP LOCKED`: a visit another clerk's call is
claiming at this moment is passed over (he gets it, this clerk the next one), and a visit
that stopped waiting while the statement ran is re-checked and passed over too. SQLite's
single writer makes the same statement atomic without it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clerk_app.queue.configuration import Counter, QueueSettings
from clerk_app.queue.states import VisitState
from clerk_app.queue.visits import APPOINTMENT

OPEN_AT_COUNTER = (VisitState.CALLED.value, VisitState.IN_SERVICE.value)


def instant(moment: datetime) -> str:
    """A moment as the queue's time columns hold it: UTC, milliseconds, one fixed width, so
    that comparing the text compares the times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def line_statement(dialect: str, counter: Counter, day: str, now: datetime,
                   settings: QueueSettings) -> tuple[str, list[Any]]:
    """The statement (and its parameters) that returns the `data` of every visit waiting for
    `counter`, in calling order: what the counter's panel shows, the same order "call next"
    takes from."""
    sql, params = _line(dialect, counter, day, now, settings)
    return sql[0] + sql[1], params[0] + params[1]


def claim_next(dialect: str, counter: Counter, day: str, now: datetime,
               settings: QueueSettings) -> tuple[str, list[Any]]:
    """The statement (and its parameters) that returns the `data` of the visit "call next"
    takes at `counter`, its row locked to the commit; no row if nobody waits for the counter,
    or if a visit is still called or in service there."""
    (where, order), (where_params, order_params) = _line(dialect, counter, day, now, settings)
    sql = (where + " AND NOT EXISTS (SELECT 1 FROM queue_visits AS open_visit WHERE "
           "open_visit.counter = ? AND open_visit.state IN (?, ?))" + order + " LIMIT 1"
           + (" FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""))
    return sql, [*where_params, counter.code, *OPEN_AT_COUNTER, *order_params]


def _line(dialect: str, counter: Counter, day: str, now: datetime,
          settings: QueueSettings) -> tuple[tuple[str, str], tuple[list[Any], list[Any]]]:
    """The waiting line's selection and its ORDER BY (each with its parameters): the one
    place the database learns the core's order."""
    postgres = dialect == "postgresql"
    # Python compares str by code point; PostgreSQL's default collation would not.
    binary = ' COLLATE "C"' if postgres else ""
    elements = ("jsonb_array_elements_text(open_services::jsonb) AS s(value)" if postgres
                else "json_each(open_services)")
    services = sorted(counter.services)
    handles = (f"EXISTS (SELECT 1 FROM {elements} WHERE value IN "
               f"({', '.join('?' * len(services))}))") if services else "1 = 0"
    due = "(kind = ? AND appointment_at IS NOT NULL AND appointment_at <= ?)"
    due_until = instant(now + timedelta(minutes=settings.appointment_due_early_minutes))
    where = ("SELECT data FROM queue_visits WHERE location = ? AND day = ? AND state = ? "
             f"AND (target_counter = ? OR (target_counter IS NULL AND {handles}))")
    order = (f" ORDER BY CASE WHEN {due} THEN 0 ELSE 1 END, "
             f"CASE WHEN {due} THEN appointment_at ELSE '' END, priority DESC, "
             f"queued_at{binary}, label{binary}, id{binary}")
    return (where, order), ([counter.location, day, VisitState.QUEUED.value, counter.code,
                             *services], [APPOINTMENT, due_until, APPOINTMENT, due_until])
