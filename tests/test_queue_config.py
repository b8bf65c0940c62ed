"""The waiting room's configuration file (checked strictly, every error naming its entry)
and the free slots computed from it."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from clerk_app.errors import ConfigError, ValidationError
from clerk_app.queue.configuration import (
    load_queue_config,
    packaged_queue_config,
    parse_queue_config,
)
from clerk_app.queue.slots import Booked, capacity_minutes, free_slots
from tests.queue_support import BERLIN, refused

TEST_TOML = Path(__file__).parent / "data" / "queue-test.toml"


def broken(change: str) -> str:
    """The German message of the packaged file with `change` appended."""
    text = Path(__file__).resolve().parents[1].joinpath("resources", "queue.toml") \
        .read_text("utf-8") + "\n" + change
    with pytest.raises(ConfigError) as error:
        parse_queue_config(tomllib.loads(text))
    return error.value.message_de


def test_the_packaged_configuration_holds_together() -> None:
    config = packaged_queue_config()
    assert config.counter("schalter_3").location == "hauptstelle"
    assert config.ticket_group("A").label(7) == "A007"
    assert config.service_for_command("meldebescheinigung") == "meldebescheinigung"
    assert config.location("hauptstelle").shared_queue
    assert not config.location("mobil_haagen").shared_queue


@pytest.mark.parametrize(("change", "says"), [
    ("[counters.s9]\nname = \"S9\"\nlocation = \"hauptstelle\"\nservices = [\"pass\"]",
     r"\[counters.s9\].*„pass“ ist unter \[services\] nicht definiert"),
    ("[counters.s9]\nname = \"S9\"\nlocation = \"mond\"\nservices = [\"anmeldung\"]",
     r"„location“ = „mond“ ist nicht definiert"),
    ("[services.pass]\nname = \"Pass\"\nminutes = 0", r"„minutes“ muss eine ganze Zahl"),
    ("[services.pass]\nname = \"Pass\"\nminuten = 5", r"unbekannter Schlüssel „minuten“"),
    ("[ticket_groups.Z]\nname = \"Z\"\nlocation = \"hauptstelle\"\nprefix = \"A\"\n"
     "first = 400\nlast = 600\nservices = [\"anmeldung\"]",
     r"\[ticket_groups.(A|Z)\].*überschneidet sich"),
    ("[locations.x]\nname = \"X\"\n[locations.x.hours]\nmo = [\"12:00-08:00\"]",
     r"aufsteigend"),
    ("[locations.x]\nname = \"X\"\nclosed_days = [\"24.12.2026\"]", r"kein Datum"),
])
def test_mistakes_in_the_file_name_their_entry(change: str, says: str) -> None:
    import re

    message = broken(change)
    assert re.search(says, message), message


def test_a_machine_may_replace_the_file(tmp_path: Path) -> None:
    assert set(load_queue_config(TEST_TOML).locations) == {"amt", "mobil"}
    with pytest.raises(ConfigError) as missing:
        load_queue_config(tmp_path / "fehlt.toml")
    assert "kann nicht gelesen werden" in missing.value.message_de
    (tmp_path / "kaputt.toml").write_text("[services\n", "utf-8")
    with pytest.raises(ConfigError) as bad:
        load_queue_config(tmp_path / "kaputt.toml")
    assert "kein gültiges TOML" in bad.value.message_de


def test_free_slots_follow_hours_counters_and_bookings() -> None:
    config = load_queue_config(TEST_TOML)
    day = date(2026, 12, 8)
    before = datetime(2026, 12, 7, 12, 0, tzinfo=BERLIN)
    slots = free_slots(config, "amt", ["kurz"], day, [], before)
    assert len(slots) == 10 and slots[0].start == datetime(2026, 12, 8, 9, 0, tzinfo=BERLIN)
    taken = [Booked("b1", slots[0].start, 5), Booked("b1", slots[1].start, 5)]
    assert len(free_slots(config, "amt", ["kurz"], day, taken, before)) == 8
    # Past starts are not offered; "lang" (20 min) fits twice per counter into 50 minutes,
    # at the three counters that handle it.
    during = datetime(2026, 12, 8, 9, 12, tzinfo=BERLIN)
    assert free_slots(config, "amt", ["kurz"], day, [], during)[0].start.minute == 15
    assert len(free_slots(config, "amt", ["lang"], day, [], before)) == 7
    with refused(ValidationError, "nicht zusammen angeboten"):
        free_slots(config, "amt", ["kurz", "lang"], day, [], before)
    assert capacity_minutes(config, "amt", day) == 4 * 50


def test_closed_days_and_the_booking_window() -> None:
    from clerk_app.queue.slots import bookable_day

    config = packaged_queue_config()
    main = config.location("hauptstelle")
    today = date(2026, 12, 7)
    with refused(ValidationError, "geschlossen"):
        bookable_day(config, main, date(2026, 12, 24), today)
    with refused(ValidationError, "geschlossen"):
        bookable_day(config, main, date(2026, 12, 12), today)  # a Saturday
    with refused(ValidationError, "im Voraus"):
        bookable_day(config, main, today + timedelta(days=61), today)
    with refused(ValidationError, "im Voraus"):
        bookable_day(config, main, today - timedelta(days=1), today)
    bookable_day(config, main, date(2026, 12, 10), today)
