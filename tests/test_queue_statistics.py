"""Statistics from a real day's visits, their CSV export through the command line, and the
anonymisation that keeps the figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from clerk_app.command_line import main
from clerk_app.config import load_config
from clerk_app.ids import uuid7
from clerk_app.queue.anonymise import anonymise_local
from clerk_app.queue.configuration import packaged_queue_config
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.queue.statistics import compute, local_visits, to_csv
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register
from tests.queue_support import MONDAY_9, Clock, booking

CONFIG = packaged_queue_config()
DAY = MONDAY_9.date()


def a_day(store: Store) -> LocalQueue:
    """09:00 and 09:05 two walk-ins; the first served 09:10-09:21, the second called at
    09:21 and missed; a 10:00
    appointment with two services served 10:02-10:12; one booking cancelled."""
    clock = Clock()
    queue = LocalQueue(store, CONFIG, clock=clock)
    first = queue.draw_ticket("A")
    clock.advance(minutes=5)
    second = queue.draw_ticket("A")
    clock.advance(minutes=5)  # 09:10
    assert queue.call_next("schalter_1", uuid7()) == queue.visit(first.id)
    clock.advance(minutes=1)
    queue.appear(first.id, "schalter_1")
    clock.advance(minutes=10)
    queue.finish(first.id, "schalter_1", ["anmeldung"])
    queue.call(second.id, "schalter_2")
    queue.not_appeared(second.id, "schalter_2")
    appointment = booking("hauptstelle", MONDAY_9 + timedelta(hours=1),
                          ("anmeldung", "meldebescheinigung"))
    dropped = booking("hauptstelle", MONDAY_9 + timedelta(hours=2))
    queue.import_visits([appointment, dropped])
    queue.cancel(dropped.id, reason="abgesagt")
    clock.now = MONDAY_9 + timedelta(hours=1)
    queue.check_in(appointment.label)
    clock.advance(minutes=2)
    queue.call(appointment.id, "schalter_1")
    queue.appear(appointment.id, "schalter_1")
    clock.advance(minutes=10)
    queue.finish(appointment.id, "schalter_1", ["anmeldung", "meldebescheinigung"])
    return queue


def test_the_figures_of_a_day(store: Store) -> None:
    a_day(store)
    stats = compute(local_visits(store, DAY, DAY), CONFIG, DAY, DAY)
    total = stats.totals
    assert (total.served_appointment, total.served_walk_in) == (1, 1)
    assert (total.missed_appointment, total.missed_walk_in, total.cancelled) == (0, 1, 1)
    # Waiting per hour (office time): at 9 the first waited 10 min, the second 16 min.
    assert stats.waiting_by_hour[9].count == 2
    assert stats.waiting_by_hour[9].average == pytest.approx(13)
    assert stats.waiting_by_hour[9].maximum == pytest.approx(16)
    assert stats.waiting_by_hour[10].maximum == pytest.approx(2)
    # Service time: 10 min for the Anmeldung alone; 10 min shared by two services.
    assert stats.service_time["anmeldung"].count == 2
    assert stats.service_time["anmeldung"].average == pytest.approx(7.5)
    assert stats.service_time["meldebescheinigung"].average == pytest.approx(5)
    assert stats.by_counter["schalter_1"].served_walk_in == 1
    assert stats.by_counter["schalter_2"].missed_walk_in == 1
    assert stats.by_clerk["mmuster"].served_appointment == 1
    capacity = stats.capacity[(DAY.isoformat(), "hauptstelle")]
    assert capacity.bookings == 1 and capacity.booked_minutes == 20
    assert capacity.capacity_minutes == 3 * 4 * 60  # three counters, 08:00-12:00 on Monday


def test_csv_export_opens_as_a_german_table(store: Store) -> None:
    a_day(store)
    text = to_csv(compute(local_visits(store, DAY, DAY), CONFIG, DAY, DAY))
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    hour = next(r for r in rows if r["bereich"] == "wartezeit_stunde" and r["schluessel"] == "09")
    assert hour["durchschnitt_min"] == "13,00" and hour["maximum_min"] == "16,00"
    day = next(r for r in rows if r["bereich"] == "tag")
    assert day["bedient_spontan"] == "1" and day["nicht_erschienen_spontan"] == "1"
    assert "Mustermann" not in text


def test_anonymisation_erases_names_and_keeps_the_figures(store: Store) -> None:
    queue = a_day(store)
    before = compute(local_visits(store, DAY, DAY), CONFIG, DAY, DAY)
    store.conn.execute("UPDATE outbox SET status = 'applied'")  # sent to the centre
    too_early = DAY + timedelta(days=CONFIG.settings.anonymise_after_days)
    assert anonymise_local(store, CONFIG, too_early) == 0
    assert anonymise_local(store, CONFIG, too_early + timedelta(days=1)) == 4
    after = compute(local_visits(store, DAY, DAY), CONFIG, DAY, DAY)
    assert to_csv(after) == to_csv(before)
    visits = queue.visits("hauptstelle", DAY)
    assert all(v.anonymised and not v.name and not v.contact for v in visits)
    payloads = [r[0] for r in store.conn.execute("SELECT payload FROM outbox")]
    assert payloads and not any("Mustermann" in p or "erika@" in p for p in payloads)
    assert anonymise_local(store, CONFIG, too_early + timedelta(days=2)) == 0


def test_unsent_changes_keep_their_data_until_sent(store: Store) -> None:
    a_day(store)
    later = DAY + timedelta(days=CONFIG.settings.anonymise_after_days + 1)
    anonymise_local(store, CONFIG, later)
    pending = [json.loads(r[0]) for r in store.conn.execute(
        "SELECT payload FROM outbox WHERE status = 'pending'")]
    assert any(p["visit"]["name"] == "Erika Mustermann" for p in pending)


def test_the_command_line_writes_the_csv(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config()
    with open_register(cfg, create=True) as store:
        a_day(store)
    out = tmp_path / "stat.csv"
    assert main(["queue", "stats", "--from", DAY.isoformat(), "--to", DAY.isoformat(),
                 "--output", str(out)]) == 0
    assert out.read_text("utf-8-sig").startswith("bereich;schluessel;tag;")
    assert main(["queue", "stats", "--from", "2026-12-08", "--to", "2026-12-01"]) == 2
    assert "vor seinem Anfang" in capsys.readouterr().err
