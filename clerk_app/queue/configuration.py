"""The waiting room's configuration: services, locations, counters and ticket groups.

Data, not code (`resources/queue.toml`): the office changes opening hours, counters and quotas
more often than the program is released. IT may replace the packaged file for a machine with
the configuration key `queue_file`. The file is edited by hand, so it is checked strictly on
loading: every error names the entry, unknown keys are errors (a typo is never silently
ignored), and every cross reference (a counter's services, a group's location) must resolve.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from clerk_app.errors import ConfigError
from clerk_app.toml_entries import EntryChecks

QUEUE_PACKAGE = "resources"
QUEUE_FILE = "queue.toml"
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_CODE_RE = re.compile(r"[A-Za-z0-9_]+")
_SPAN_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class ServiceSpec:
    """A service a citizen can book or draw a ticket for; `commands` are the counter-service
    types (`clerk_app.services.runner.SERVICES`) that carry it out, so a finished command
    ticks the service on the visit."""

    code: str
    name: str
    minutes: int
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Location:
    """The main office or a mobile office's stop. `shared_queue`: its counters share one queue
    through the central service (else each workstation runs its own)."""

    code: str
    name: str
    address: str
    shared_queue: bool
    booking_window_days: int
    hours: Mapping[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) -> spans
    closed_days: frozenset[date]

    def spans_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The opening spans on `day` (empty on a closed day)."""
        if day in self.closed_days:
            return ()
        return self.hours.get(day.weekday(), ())

    def is_open_at(self, moment: datetime) -> bool:
        return any(start <= moment.time() < end for start, end in self.spans_on(moment.date()))


@dataclass(frozen=True)
class Counter:
    """A counter (Schalter) at a location and the services its clerk handles there."""

    code: str
    name: str
    location: str
    services: frozenset[str]


@dataclass(frozen=True)
class TicketGroup:
    """One button of the ticket printer: its number range, daily quota and the services a
    ticket of it stands for (the clerk can change them by forwarding)."""

    code: str
    name: str
    location: str
    prefix: str
    first: int
    last: int
    daily_quota: int  # 0: as many as the range holds
    services: tuple[str, ...]

    @property
    def capacity(self) -> int:
        """Tickets a day: the quota, or the range's size if that is smaller."""
        size = self.last - self.first + 1
        return min(size, self.daily_quota) if self.daily_quota else size

    def label(self, number: int) -> str:
        """What the ticket and the call display show, e.g. 'A017'."""
        return f"{self.prefix}{number:03d}"


@dataclass(frozen=True)
class QueueSettings:
    """The rules of calling: the recall gap and count, when an appointment is due, and how
    long names are kept."""

    recall_min_gap_seconds: int = 60
    max_calls: int = 3
    appointment_due_early_minutes: int = 5
    anonymise_after_days: int = 90
    slot_minutes: int = 5  # the booking grid: appointments start on multiples of it
    timezone: str = "Europe/Berlin"  # opening hours and appointments are office time

    @property
    def zone(self) -> tzinfo:
        """The office's time zone; where the machine has no time zone database (Windows
        without the tzdata package), the machine's own zone, which is the office's."""
        try:
            return ZoneInfo(self.timezone)
        except ZoneInfoNotFoundError:
            return datetime.now().astimezone().tzinfo or UTC


@dataclass(frozen=True)
class QueueConfig:
    """The whole configuration, checked and cross-referenced."""

    settings: QueueSettings
    services: Mapping[str, ServiceSpec]
    locations: Mapping[str, Location]
    counters: Mapping[str, Counter]
    ticket_groups: Mapping[str, TicketGroup]

    def counter(self, code: str) -> Counter:
        """The counter `code`; ConfigError (German) if the configuration has none."""
        found = self.counters.get(code)
        if found is None:
            raise ConfigError(f"Den Schalter „{code}“ gibt es in der Konfiguration der "
                              "Warteschlange nicht. Bitte die IT verständigen.",
                              f"queue configuration has no counter {code!r}")
        return found

    def location(self, code: str) -> Location:
        found = self.locations.get(code)
        if found is None:
            raise ConfigError(f"Den Standort „{code}“ gibt es in der Konfiguration der "
                              "Warteschlange nicht.", f"queue configuration has no location "
                              f"{code!r}")
        return found

    def ticket_group(self, code: str) -> TicketGroup:
        found = self.ticket_groups.get(code)
        if found is None:
            raise ConfigError(f"Die Wartenummerngruppe „{code}“ gibt es nicht.",
                              f"queue configuration has no ticket group {code!r}")
        return found

    def service_for_command(self, command_type: str) -> str | None:
        """The visit service a counter-service command carries out, if any."""
        return next((s.code for s in self.services.values() if command_type in s.commands),
                    None)


@cache
def packaged_queue_config() -> QueueConfig:
    """The packaged configuration, read and checked once per process."""
    return parse_queue_config(tomllib.loads(
        resources.files(QUEUE_PACKAGE).joinpath(QUEUE_FILE).read_text(encoding="utf-8")))


def load_queue_config(path: str | Path | None = None) -> QueueConfig:
    """The configuration in force: the file IT named (config key `queue_file`) or the
    packaged one. ConfigError (German, naming the problem) for anything unusable."""
    if not path:
        return packaged_queue_config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Die Konfiguration der Warteschlange {path} kann nicht gelesen "
                          f"werden ({exc}).", f"cannot read queue configuration: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error("", f"die Datei ist kein gültiges TOML ({exc})",
                     f"not valid TOML ({exc})") from exc
    return parse_queue_config(data)


def parse_queue_config(data: Mapping[str, Any]) -> QueueConfig:
    """Check and convert the parsed file; every error names the table and entry it is in."""
    _CHECKS.only_keys("", data, {"settings", "services", "locations", "counters", "ticket_groups"})
    settings = _settings(_CHECKS.table("settings", data.get("settings", {})))
    services = {code: _service(code, raw)
                for code, raw in _CHECKS.table("services", data.get("services", {})).items()}
    locations = {code: _location(code, raw)
                 for code, raw in _CHECKS.table("locations", data.get("locations", {})).items()}
    counters = {code: _counter(code, raw, services, locations)
                for code, raw in _CHECKS.table("counters", data.get("counters", {})).items()}
    groups = {code: _group(code, raw, services, locations) for code, raw in
              _CHECKS.table("ticket_groups", data.get("ticket_groups", {})).items()}
    if not services or not locations:
        raise _error("", "es braucht mindestens eine Dienstleistung und einen Standort",
                     "at least one service and one location are required")
    _check_ranges_apart(groups)
    return QueueConfig(settings, services, locations, counters, groups)


def _settings(raw: dict[str, Any]) -> QueueSettings:
    defaults = QueueSettings()
    _CHECKS.only_keys("settings", raw, set(defaults.__dataclass_fields__))
    values: dict[str, Any] = {
        key: _int("settings", raw, key, low=0, high=10_000, default=getattr(defaults, key))
        for key in defaults.__dataclass_fields__ if key != "timezone"}
    if values["max_calls"] < 1 or not 1 <= values["slot_minutes"] <= 60:
        raise _error("settings", "„max_calls“ muss mindestens 1, „slot_minutes“ 1 bis 60 sein",
                     "max_calls < 1 or slot_minutes out of 1..60")
    zone = raw.get("timezone", defaults.timezone)
    try:
        ZoneInfo(zone)
    except ZoneInfoNotFoundError as exc:
        if available_timezones():  # a database that lacks the name: a typo
            raise _error("settings", f"„timezone“ = „{zone}“ ist keine bekannte Zeitzone",
                         "unknown timezone") from exc
    except (ValueError, TypeError) as exc:
        raise _error("settings", f"„timezone“ = „{zone}“ ist keine bekannte Zeitzone",
                     "unknown timezone") from exc
    return QueueSettings(**values, timezone=zone)


def _service(code: str, raw: Any) -> ServiceSpec:
    where = f"services.{code}"
    entry = _entry(where, code, raw, {"name", "minutes", "commands"})
    return ServiceSpec(code, _CHECKS.text(where, entry, "name"),
                       _int(where, entry, "minutes", low=1, high=480),
                       tuple(_str_list(where, entry, "commands", required=False)))


def _location(code: str, raw: Any) -> Location:
    where = f"locations.{code}"
    entry = _entry(where, code, raw, {"name", "address", "shared_queue", "booking_window_days",
                                      "hours", "closed_days"})
    shared = entry.get("shared_queue", False)
    if not isinstance(shared, bool):
        raise _error(where, "„shared_queue“ muss true oder false sein", "shared_queue not bool")
    hours_raw = _CHECKS.table(f"{where}.hours", entry.get("hours", {}))
    _CHECKS.only_keys(f"{where}.hours", hours_raw, set(WEEKDAYS))
    hours = {WEEKDAYS.index(day): _spans(f"{where}.hours", day, spans)
             for day, spans in hours_raw.items()}
    closed: set[date] = set()
    for text in _str_list(where, entry, "closed_days", required=False):
        try:
            closed.add(date.fromisoformat(text))
        except ValueError as exc:
            raise _error(where, f"„{text}“ in „closed_days“ ist kein Datum (JJJJ-MM-TT)",
                         "closed day is not a date") from exc
    return Location(code, _CHECKS.text(where, entry, "name"), str(entry.get("address", "")),
                    shared, _int(where, entry, "booking_window_days", low=0, high=365,
                                 default=30), hours, frozenset(closed))


def _spans(where: str, day: str, raw: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(raw, list):
        raise _error(where, f"„{day}“ muss eine Liste von Zeiten wie \"08:00-12:00\" sein",
                     "hours must be a list")
    spans: list[tuple[time, time]] = []
    for text in raw:
        match = _SPAN_RE.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise _error(where, f"„{text}“ ist keine Zeitspanne wie \"08:00-12:00\"",
                         "bad time span")
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
        if end <= start or (spans and start < spans[-1][1]):
            raise _error(where, f"„{text}“: Zeiten müssen aufsteigend und ohne Überschneidung "
                                "sein", "time spans overlap or are reversed")
        spans.append((start, end))
    return tuple(spans)


def _counter(code: str, raw: Any, services: Mapping[str, ServiceSpec],
             locations: Mapping[str, Location]) -> Counter:
    where = f"counters.{code}"
    entry = _entry(where, code, raw, {"name", "location", "services"})
    return Counter(code, _CHECKS.text(where, entry, "name"),
                   _ref(where, entry, "location", locations),
                   frozenset(_refs(where, entry, services)))


def _group(code: str, raw: Any, services: Mapping[str, ServiceSpec],
           locations: Mapping[str, Location]) -> TicketGroup:
    where = f"ticket_groups.{code}"
    entry = _entry(where, code, raw, {"name", "location", "prefix", "first", "last",
                                      "daily_quota", "services"})
    first = _int(where, entry, "first", low=0, high=99_999)
    last = _int(where, entry, "last", low=first, high=99_999)
    prefix = str(entry.get("prefix", ""))
    if not re.fullmatch(r"[A-Z]{0,3}", prefix):
        raise _error(where, "„prefix“ darf nur aus bis zu drei Großbuchstaben bestehen",
                     "bad prefix")
    return TicketGroup(code, _CHECKS.text(where, entry, "name"),
                       _ref(where, entry, "location", locations), prefix, first, last,
                       _int(where, entry, "daily_quota", low=0, high=99_999, default=0),
                       tuple(_refs(where, entry, services)))


def _check_ranges_apart(groups: Mapping[str, TicketGroup]) -> None:
    """Two groups of one location with the same prefix must not share numbers: the call
    display would show the same label for two citizens."""
    ordered = sorted(groups.values(), key=lambda g: (g.location, g.prefix, g.first))
    for before, after in itertools.pairwise(ordered):
        if (before.location, before.prefix) == (after.location, after.prefix) and \
                after.first <= before.last:
            raise _error(f"ticket_groups.{after.code}",
                         f"der Nummernbereich überschneidet sich mit „{before.code}“",
                         f"number range overlaps {before.code!r}")


# --- small checked readers ---------------------------------------------------------------

def _entry(where: str, code: str, raw: Any, allowed: set[str]) -> dict[str, Any]:
    if not _CODE_RE.fullmatch(code):
        raise _error(where, "der Code darf nur Buchstaben, Ziffern und „_“ enthalten",
                     "invalid code")
    entry = _CHECKS.table(where, raw)
    _CHECKS.only_keys(where, entry, allowed)
    return entry


def _int(where: str, entry: Mapping[str, Any], key: str, *, low: int, high: int,
         default: int | None = None) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _error(where, f"„{key}“ muss eine ganze Zahl von {low} bis {high} sein",
                     f"{key} must be an integer {low}..{high}")
    return value


def _str_list(where: str, entry: Mapping[str, Any], key: str, *,
              required: bool = True) -> list[str]:
    value = entry.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or \
            (required and not value):
        raise _error(where, f"„{key}“ muss eine Liste von Texten sein",
                     f"{key} must be a list of strings")
    return value


def _ref(where: str, entry: Mapping[str, Any], key: str, known: Mapping[str, Any]) -> str:
    code = _CHECKS.text(where, entry, key)
    if code not in known:
        raise _error(where, f"„{key}“ = „{code}“ ist nicht definiert",
                     f"undefined {key} {code!r}")
    return code


def _refs(where: str, entry: Mapping[str, Any], known: Mapping[str, Any]) -> list[str]:
    codes = _str_list(where, entry, "services")
    for code in codes:
        if code not in known:
            raise _error(where, f"die Dienstleistung „{code}“ ist unter [services] nicht "
                                "definiert", f"undefined service {code!r}")
    return codes


def _error(where: str, problem_de: str, problem_en: str) -> ConfigError:
    entry_de = f", Eintrag [{where}]" if where else ""
    entry_en = f" entry [{where}]" if where else ""
    return ConfigError(f"Konfiguration der Warteschlange ({QUEUE_FILE}){entry_de}: "
                       f"{problem_de}.", f"queue configuration{entry_en}: {problem_en}")


_CHECKS = EntryChecks(_error)
