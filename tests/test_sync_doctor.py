"""`clerk-app doctor` checks the connection to the central service: the sync layer's lines,
plugged into the core's doctor through the `clerk_app.doctor_checks` entry point, against a
real service process (and with that process killed).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from clerk_app.command_line import main
from clerk_app.config import Config, load_config
from clerk_app.ids import uuid7
from clerk_app.self_test import CHECK_LABELS_DE
from clerk_app.services.runner import run_service
from clerk_app.store.migrations import SCHEMA_VERSION
from clerk_app.store.opening import open_register
from clerk_app.streets import find_streets
from sync.connection_checks import clock_check, version_problem
from sync.protocol import PROTOCOL_VERSION, Hello
from sync.server.central import Central
from sync.state import status
from tests.sync_support import (
    CentralServer,
    Workstation,
    meldebescheinigung,
    running_central,
    ummeldung,
)

LINE = re.compile(r"^\[(OK|WARNUNG|FEHLER)\] ([^:]+): (.*)$")


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path,
                         residents=30) as pair:
        yield pair


def options(tmp_path: Path, url: str | None) -> list[str]:
    """The command line of a demo workstation 'mobil1' in its own data folder."""
    found = ["--data-dir", str(tmp_path / "mobil1"), "--set", 'workstation="mobil1"',
             "--set", "demo_residents=0"]
    return found + (["--set", f'central_url="{url}"'] if url else [])


def config(tmp_path: Path, url: str) -> Config:
    return load_config({"data_dir": str(tmp_path / "mobil1"), "workstation": "mobil1",
                        "demo_residents": 0, "central_url": url})


def doctor(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str,
                                                                              tuple[str, str]]]:
    """Exit code and the report's lines by check name: (label, detail)."""
    capsys.readouterr()
    code = main([*args, "doctor"])
    lines = [LINE.match(line) for line in capsys.readouterr().out.splitlines()]
    names = {label: name for name, label in CHECK_LABELS_DE.items()}
    return code, {names[m[2]]: (m[1], m[3]) for m in lines if m}


def workstation(tmp_path: Path, url: str) -> list[str]:
    """A demo workstation with an empty register; its command line."""
    args = options(tmp_path, url)
    assert main([*args, "demo-data", "--residents", "0"]) == 0
    return args


def enrol(args: list[str], service: Central) -> None:
    """Register the workstation with the service and sync once."""
    assert main([*args, "sync", "enrol", service.issue_enrolment_code("mobil1")]) == 0
    assert main([*args, "sync", "--once"]) == 0


def test_a_healthy_connection_and_what_waits_locally(tmp_path: Path,
                                                      central: tuple[CentralServer, Central],
                                                      capsys: pytest.CaptureFixture[str],
                                                      ) -> None:
    server, service = central
    args = workstation(tmp_path, server.url)
    code, lines = doctor(args, capsys)  # reachable, but this workstation is not enrolled
    assert code == 1
    assert lines["central service"][0] == "FEHLER"
    assert "noch nicht bei der Zentrale angemeldet" in lines["central service"][1]
    assert "„clerk-app sync enrol CODE“" in lines["central service"][1]  # for IT, not the clerk

    enrol(args, service)
    cfg = config(tmp_path, server.url)
    with open_register(cfg) as store:
        moved, paid = [r[0] for r in store.conn.execute(
            "SELECT person_id FROM residences WHERE move_out IS NULL AND kind = 'alleinig' "
            "AND person_id NOT IN (SELECT person_id FROM information_blocks) "
            "ORDER BY person_id LIMIT 2")]
        street = next(s.id for s in find_streets(store, "Palmstraße") if s.id is not None)
        run_service(store, "ummeldung", ummeldung(moved, street), uuid7())
    other = Workstation(tmp_path / "other", "schalter2", service, server.url)
    other.sync()
    other.run("ummeldung", ummeldung(moved, other.street("Hauptstraße")))
    other.sync()
    other.close()
    assert main([*args, "sync", "--once"]) == 0  # mobil1's move of the person: a Klärfall
    with open_register(cfg) as store:
        run_service(store, "meldebescheinigung", meldebescheinigung(paid), uuid7())
        state = status(store)
    assert (state.pending, state.open_conflicts) == (1, 1)

    code, lines = doctor(args, capsys)
    assert code == 0
    label, detail = lines["central service"]
    assert label == "OK" and detail.startswith(f"{server.url}: Protokoll {PROTOCOL_VERSION}, "
                                               f"Registerschema {SCHEMA_VERSION}")
    assert "Gerätetoken angenommen" in detail
    assert lines["clock"][0] == "OK" and " s " in lines["clock"][1]
    assert lines["sync"] == ("OK", "noch nicht übertragene Aufträge: 1, offene Klärfälle: 1, "
                                   f"letzter erfolgreicher Abgleich: {state.last_success}")


def test_a_service_that_is_down_is_a_failure_in_german(tmp_path: Path,
                                                       central: tuple[CentralServer, Central],
                                                       capsys: pytest.CaptureFixture[str],
                                                       ) -> None:
    server, service = central
    args = workstation(tmp_path, server.url)
    enrol(args, service)
    server.kill()
    code, lines = doctor(args, capsys)
    assert code == 1
    label, detail = lines["central service"]
    assert label == "FEHLER" and detail.startswith("Die Zentrale ist nicht erreichbar")
    assert lines["sync"][0] == "OK"  # what waits locally is still reported
    assert "clock" not in lines


def test_without_a_central_service_the_workstation_is_offline_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(options(tmp_path, None), capsys)
    assert code == 0
    assert lines["central service"][0] == "OK" and "nur offline" in lines["central service"][1]


def hello(server_time: datetime, *, protocol: int = PROTOCOL_VERSION,
          schemas: tuple[int, ...] = (SCHEMA_VERSION,)) -> Hello:
    return Hello(protocol=protocol, schemas=list(schemas),
                 server_time=server_time.isoformat(timespec="milliseconds"), high_water_mark=0)


@pytest.mark.parametrize(("offset", "warning"), [(timedelta(seconds=40), False),
                                                 (timedelta(minutes=-4, seconds=-59), False),
                                                 (timedelta(minutes=7), True),
                                                 (timedelta(hours=-3), True)])
def test_a_clock_more_than_five_minutes_off_is_a_warning_not_a_failure(
        offset: timedelta, warning: bool) -> None:
    server = datetime.fromisoformat("2026-11-25T09:30:00.000+00:00")
    here = server + offset
    check = clock_check(hello(server), here - timedelta(seconds=1),
                        here + timedelta(seconds=1))
    assert (check.ok, check.warning) == (True, warning)
    side = "vor" if offset > timedelta(0) else "nach"
    assert f"{abs(offset.total_seconds()):.1f} s {side}" in check.detail


def test_another_protocol_or_schema_is_named() -> None:
    now = datetime.fromisoformat("2026-11-25T09:30:00+00:00")
    assert version_problem(hello(now)) is None
    for other in (hello(now, protocol=PROTOCOL_VERSION + 1),
                  hello(now, schemas=(SCHEMA_VERSION + 1,))):
        problem = version_problem(other)
        assert problem and problem.startswith("Diese Programmversion passt nicht zur Zentrale")


def test_the_core_doctor_does_not_import_the_sync_layer() -> None:
    code = ("import sys, clerk_app.self_test, clerk_app.command_line; "
            "print(sorted(m for m in sys.modules if m == 'sync' or m.startswith('sync.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"
