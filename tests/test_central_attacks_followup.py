"""Holes left by the outside tester's pass on the central service and the sync (issue 10),
each shown against the real thing: a real encrypted register, real `central serve`
processes, real HTTP.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from clerk_app.config import Config, load_config
from clerk_app.errors import ValidationError
from clerk_app.ids import uuid7
from clerk_app.offline_lease import LeaseExpired, check_lease, note_time
from clerk_app.store.migrations import SCHEMA_VERSION
from clerk_app.withdrawal import when_withdrawn
from sync.central_connection import connect
from sync.central_errors import DeviceRevoked
from sync.client import CentralClient
from sync.engine import open_conflicts, resolve_conflict
from sync.protocol import API_PREFIX, PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER
from sync.queue_client import QueueClient
from sync.server.central import Central
from sync.state import LAST_SUCCESS, set_setting
from tests.factories import demo_register, make_cfg
from tests.sync_support import (
    CentralServer,
    Workstation,
    assert_converged,
    running_central,
    ummeldung,
)
from tests.test_central_attacks import _destroyed, stolen_laptop

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# --- 1. the offline lease does not trust the workstation's clock --------------------------------

def _production(data_dir: Path) -> Config:
    return dataclasses.replace(make_cfg(data_dir), mode="production",
                               central_url="https://zentrale")


def test_setting_the_clock_back_does_not_renew_the_offline_lease(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Synced at T0, expired at T0+15 days; the clerk puts the clock back to T0+1: the
    lease goes by the latest time seen (logged, in English), and from there on the days the
    clock runs count again. A sync made with the clock put back still renews the lease."""
    cfg = _production(tmp_path)
    with demo_register(make_cfg(tmp_path), residents=0) as store:
        with store.transaction():
            set_setting(store, LAST_SUCCESS, T0.isoformat(timespec="seconds"))
        check_lease(cfg, store, T0 + timedelta(days=10))   # still open
        with pytest.raises(LeaseExpired):
            check_lease(cfg, store, T0 + timedelta(days=15))
        caplog.set_level(logging.WARNING, "clerk_app.offline_lease")
        with pytest.raises(LeaseExpired):
            check_lease(cfg, store, T0 + timedelta(days=1))
        assert "clock is" in caplog.text and "behind" in caplog.text
        # Back at an earlier time than the last mark too: the mark never goes back.
        with pytest.raises(LeaseExpired):
            check_lease(cfg, store, T0 - timedelta(days=30))
        # A sync with the clock still behind renews it: the sync writes the time seen.
        back = T0 - timedelta(days=29)
        with store.transaction():
            set_setting(store, LAST_SUCCESS, note_time(store, back).isoformat())
        check_lease(cfg, store, back + timedelta(days=1))
        # ... and the days the (wrong) clock runs after it count: 14 of them end the lease.
        with pytest.raises(LeaseExpired):
            check_lease(cfg, store, back + timedelta(days=14, hours=1))


# --- 2. any contact that learns of the withdrawal destroys the register -------------------------

CONTACTS: dict[str, Callable[[CentralClient], object]] = {
    "queue feed": lambda client: QueueClient(client).visits_today("rathaus"),
    "inbox": lambda client: client.inbox(0),
}


@pytest.mark.parametrize("contact", sorted(CONTACTS))
def test_a_contact_other_than_the_sync_destroys_a_withdrawn_workstation(
        tmp_path: Path, contact: str) -> None:
    """The queue panel's feed or the inbox is the first to hear `device_revoked`: the
    register, its key, the token and the printouts go at once (not at the next timed
    sync), and the window is told (`when_withdrawn`) to show only the German notice."""
    told: list[bool] = []
    with stolen_laptop(tmp_path) as (folder, settings):
        cfg = load_config({**settings, "data_dir": str(folder)})
        unsubscribe = when_withdrawn(lambda: told.append(True))
        try:
            client = connect(cfg)
            with pytest.raises(DeviceRevoked):
                CONTACTS[contact](client)
            client.close()
        finally:
            unsubscribe()
        _destroyed(folder)
        assert told


# --- 3. a Klärfall the centre never saw is discarded here ---------------------------------------

def test_a_never_sent_command_is_discarded_locally_and_rolled_back(tmp_path: Path) -> None:
    """A move stored damaged here becomes a Klärfall "fehlerhaft gespeichert". The centre
    never saw it, so it cannot decide it: the clerk can only discard it (German refusal of
    "Eigene Fassung"), nothing goes to the centre, and the next sync brings the person's
    central version back (the register equals the centre's again)."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv",
                         residents=10) as (server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        try:
            ws.sync()
            person = ws.persons(3)[-1]
            bad = ws.run("ummeldung", ummeldung(person, ws.street("Palmstraße"))).command_id
            with ws.store.transaction():
                payload = json.loads(ws.store.conn.execute(
                    "SELECT payload FROM outbox WHERE command_id = ?", (bad,)).fetchone()[0])
                ws.store.conn.execute("UPDATE outbox SET payload = ? WHERE command_id = ?",
                                      (json.dumps({**payload, "n": 2**70}), bad))
            ws.sync()
            [conflict] = open_conflicts(ws.store)
            assert conflict["command_id"] == bad and conflict["never_sent"]
            with pytest.raises(ValidationError) as refused:
                resolve_conflict(ws.store, bad, "local")
            assert "nie erreicht" in refused.value.message_de
            assert resolve_conflict(ws.store, bad, "central") == bad
            assert not open_conflicts(ws.store) and ws.status_of(bad) == "rejected"
            report = ws.sync()
            assert report.problem_de() is None and ws.pending() == 0
            assert not open_conflicts(ws.store)
            assert_converged(central.db, [ws])
            with central.db.transaction(write=False) as tx:
                assert not tx.execute("SELECT 1 FROM commands WHERE command_id = ?", (bad,))
        finally:
            ws.close()


# --- 4. logout and integers, strictly -----------------------------------------------------------

def _versions(token: str) -> dict[str, str]:
    return {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION),
            "Authorization": f"Bearer {token}"}


def test_only_the_device_that_opened_a_clerk_session_can_end_it(tmp_path: Path) -> None:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv") as (
            server, central):
        mine, other = (Workstation(tmp_path / n, n, central, server.url) for n in ("a", "b"))
        try:
            session = _login(central, mine)
            alerts = f"{server.url}{API_PREFIX}/access-log/alerts"
            seen = requests.get(alerts, headers={**_versions(mine.token),
                                                 "X-Clerk-Session": session}, timeout=30)
            assert seen.status_code == 200, seen.text
            requests.post(f"{server.url}{API_PREFIX}/clerk-logout", timeout=30,
                          headers={**_versions(other.token), "X-Clerk-Session": session})
            still = requests.get(alerts, headers={**_versions(mine.token),
                                                  "X-Clerk-Session": session}, timeout=30)
            assert still.status_code == 200, "another device ended the clerk's session"
            requests.post(f"{server.url}{API_PREFIX}/clerk-logout", timeout=30,
                          headers={**_versions(mine.token), "X-Clerk-Session": session})
            gone = requests.get(alerts, headers={**_versions(mine.token),
                                                 "X-Clerk-Session": session}, timeout=30)
            assert gone.status_code == 401
        finally:
            mine.close()
            other.close()


def _login(central: Central, ws: Workstation) -> str:
    """A clerk with the Datenschutz role logged in at `ws` (its session token)."""
    from sync.server.clerk_accounts import ClerkAccounts

    password = ClerkAccounts(central.db).add("dsb", "Dana Schutz", ["datenschutz"],
                                             datetime(2026, 1, 15).date())
    answer = ws.client.clerk_login("dsb", password, new_password="neues-Passwort-2026!")
    if answer.session_token is None:
        answer = ws.client.clerk_login("dsb", "neues-Passwort-2026!")
    assert answer.session_token
    return answer.session_token


@pytest.mark.parametrize("value", [True, "7", 7.0], ids=["boolean", "string", "float"])
def test_an_integer_field_takes_no_boolean_string_or_float(tmp_path: Path, value: object) -> None:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv") as (
            server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        entry = {"id": value, "at": datetime.now(UTC).isoformat(), "clerk": "c",
                 "workstation": "ws1", "action": "view", "purpose": "Auskunft"}
        answer = requests.post(f"{server.url}{API_PREFIX}/access-log", json={"entries": [entry]},
                               headers=_versions(ws.token), timeout=30)
        assert answer.status_code == 422, answer.text
        assert answer.json()["message_de"]
        command = {"command_id": uuid7(), "type": "meldebescheinigung", "device": "ws1",
                   "clerk": "c", "created_at": datetime.now(UTC).isoformat(), "payload": {},
                   "base_versions": {"persons/x": value}}
        answer = requests.post(f"{server.url}{API_PREFIX}/push", json={"commands": [command]},
                               headers=_versions(ws.token), timeout=30)
        assert answer.status_code == 422, answer.text
        ws.close()


# --- 5. the update notice's 404 is a Problem too ------------------------------------------------

def test_the_update_notice_s_404_has_the_problem_shape(tmp_path: Path) -> None:
    """Not published (no file, or none configured): a 404 in the Problem shape. The notice
    stays out of the OpenAPI document: a static public file, not part of the API."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv") as (
            plain, _):
        publishing = CentralServer(plain.db_url, tmp_path / "srv2", extra_args=(
            "--update-notice", str(tmp_path / "not-yet.json"))).start()
        try:
            for server in (plain, publishing):
                answer = requests.get(f"{server.url}/update-notice.json", timeout=30)
                assert answer.status_code == 404
                assert answer.json()["message_de"] and answer.json()["message_en"]
            assert "/update-notice.json" not in requests.get(
                f"{publishing.url}/openapi.json", timeout=30).json().get("paths", {})
        finally:
            publishing.stop()
