"""The offline lease: a production workstation that has not reached the central service for
`offline_lease_days` opens its register only for a sync (which renews the lease), warned three
days ahead in `clerk-app doctor`; demo mode and offline-only workstations are exempt. Against
the real service process, with a real encrypted production register.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clerk_app.clerks import Actor
from clerk_app.command_line import main
from clerk_app.config import Config, load_config
from clerk_app.keys import write_secret_file
from clerk_app.offline_lease import LeaseExpired, lease, lease_warning
from clerk_app.self_test import CHECK_LABELS_DE
from clerk_app.store.opening import open_register
from sync.server.central import Central
from sync.state import LAST_SUCCESS, set_setting
from tests.factories import COUNTER_ROLES
from tests.sync_support import CentralServer, Workstation, running_central

CLERK = Actor("emuster", "mobil3", COUNTER_ROLES, "Erika Muster")

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LINE = re.compile(r"^\[(OK|WARNUNG|FEHLER)\] ([^:]+): (.*)$")


def production(**changes: object) -> Config:
    return dataclasses.replace(Config(), mode="production", central_url="https://zentrale",
                               **changes)  # type: ignore[arg-type]


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="seconds")


def test_the_lease_counts_days_since_the_last_sync_and_warns_three_days_ahead() -> None:
    cfg = production()
    state = lease(cfg, ago(10), NOW)
    assert state is not None and (state.days_away, state.days_left, state.warn) == (10, 4, False)
    assert lease_warning(cfg, ago(10), NOW) is None
    warning = lease_warning(cfg, ago(11.5), NOW)
    assert warning and "noch 3 Tage" in warning and "Seit 11 Tagen" in warning
    assert "noch 1 Tag," in (lease_warning(cfg, ago(13.2), NOW) or "")
    state = lease(cfg, ago(14), NOW)
    assert state is not None and state.expired
    assert lease(production(offline_lease_days=30), ago(20), NOW).expired is False  # type: ignore[union-attr]
    # Exempt: demo mode, no central service, never synced (an empty register).
    assert lease(dataclasses.replace(cfg, mode="demo"), ago(100), NOW) is None
    assert lease(dataclasses.replace(cfg, central_url=""), ago(100), NOW) is None
    assert lease(cfg, None, NOW) is None


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path,
                         residents=20) as pair:
        yield pair


def test_after_the_lease_the_register_opens_only_for_the_sync_that_renews_it(
        tmp_path: Path, central: tuple[CentralServer, Central],
        capsys: pytest.CaptureFixture[str]) -> None:
    server, service = central
    folder = tmp_path / "laptop"
    ws = Workstation(folder, "register", service, server.url)   # folder/register.db
    ws.sync()
    write_secret_file(folder / "register.key", ws.key)
    write_secret_file(folder / "device.token", ws.token)
    ws.close()
    settings = {"mode": "production", "data_dir": str(folder), "workstation": "mobil3",
                "central_url": server.url, "key_file": str(folder / "register.key"),
                "device_token_file": str(folder / "device.token")}
    cfg = load_config(settings)
    base = ["--data-dir", str(folder), *[a for k, v in settings.items() if k != "data_dir"
                                         for a in ("--set", f'{k}="{v}"')]]

    def away(days: float) -> None:
        with open_register(cfg, CLERK, for_sync=True) as store, store.transaction():
            set_setting(store, LAST_SUCCESS, (datetime.now(UTC) - timedelta(days=days))
                        .isoformat(timespec="seconds"))

    def doctor() -> dict[str, tuple[str, str]]:
        capsys.readouterr()
        main([*base, "doctor"])
        lines = [LINE.match(line) for line in capsys.readouterr().out.splitlines()]
        names = {label: name for name, label in CHECK_LABELS_DE.items()}
        return {names[m[2]]: (m[1], m[3]) for m in lines if m}

    away(12)
    open_register(cfg, CLERK).close()   # warned, still open
    assert doctor()["offline lease"][0] == "WARNUNG"
    away(15)
    with pytest.raises(LeaseExpired) as refused:
        open_register(cfg, CLERK)
    assert "seit 15 Tagen nicht mit der Zentrale verbunden" in refused.value.message_de
    assert doctor()["offline lease"][0] == "FEHLER"
    assert main([*base, "search", "Müller"]) == 2
    assert "öffnet erst wieder nach einem Abgleich" in capsys.readouterr().err
    # The sync still opens it, and renews the lease.
    assert main([*base, "sync", "--once"]) == 0
    open_register(cfg, CLERK).close()
    assert doctor()["offline lease"][0] == "OK"
