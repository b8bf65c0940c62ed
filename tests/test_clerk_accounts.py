"""Clerk accounts at the central service: administration, first login with a new password,
throttling and lock (state in the database), sessions bound to a device, the clerk of each
command from the session and its permission checked on replay, offline login at the
workstation; the centre's watch over the access-log chains."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clerk_app.clerks import Actor
from clerk_app.login import CentralUnreachable, LoginRefused, OnlineAccount, log_in, unlock
from clerk_app.store.chain_hash import GENESIS, entry_hash
from clerk_app.store.db import Store
from sync.central_errors import CentralRefused
from sync.client import CentralClient
from sync.protocol import AccessLogEntry
from sync.server import clerk_accounts
from sync.server.central import Caller, Central, CentralError
from sync.server.clerk_accounts import LOCK_AFTER, ClerkAccounts, delay_after
from sync.server.storage import Database, open_database
from tests.factories import make_cfg
from tests.sync_support import (
    Workstation,
    central_database,
    meldebescheinigung,
    running_central,
)

SECRECY = date(2026, 1, 15)
NEW_PASSWORD = "Drei Tassen Kaffee am Morgen"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with central_database(request.param, tmp_path) as url:
        database = open_database(url)
        try:
            yield database
        finally:
            database.close()


def first_login(accounts: ClerkAccounts, login: str, password: str,
                device: str = "dev-1") -> str:
    result = accounts.login(device, login, password, NEW_PASSWORD)
    assert result.session_token
    return result.session_token


def test_no_login_before_the_secrecy_binding_and_a_new_password_first(db: Database) -> None:
    accounts = ClerkAccounts(db)
    once = accounts.add("EMeier", "Eva Meier", ["sachbearbeitung"], None)
    with pytest.raises(CentralError) as err:
        accounts.login("dev-1", "emeier", once)
    assert err.value.status == 403 and "Datengeheimnis" in err.value.message_de
    accounts.set_secrecy_date("emeier", SECRECY)
    answer = accounts.login("dev-1", "emeier", once)
    assert answer.session_token is None and answer.account.must_change
    for bad in ("kurz", "passwordpassword", "emeier-und-noch-mehr", once):
        with pytest.raises(CentralError) as err:
            accounts.login("dev-1", "emeier", once, bad)
        assert err.value.status == 422
    token = first_login(accounts, "emeier", once)
    actor = accounts.session_actor("dev-1", token)
    assert (actor.clerk, actor.name, actor.roles) == ("emeier", "Eva Meier", ("sachbearbeitung",))
    assert accounts.login("dev-1", "emeier", NEW_PASSWORD).session_token  # no change due now
    # The session is bound to its device, and ends when the account is disabled.
    with pytest.raises(CentralError):
        accounts.session_actor("dev-2", token)
    accounts.set_enabled("emeier", False)
    with pytest.raises(CentralError):
        accounts.session_actor("dev-1", token)
    with pytest.raises(CentralError) as err:
        accounts.login("dev-1", "emeier", NEW_PASSWORD)
    assert err.value.status == 403


def test_failed_logins_are_throttled_then_lock_across_processes(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = ClerkAccounts(db), ClerkAccounts(db)   # two service processes, one database
    once = one.add("kkurz", "Karl Kurz", ["kasse"], SECRECY)
    first_login(one, "kkurz", once)
    clock = [datetime.now(UTC)]
    monkeypatch.setattr(clerk_accounts, "_now", lambda: clock[0])
    with pytest.raises(CentralError) as err:
        one.login("dev-1", "kkurz", "falsch")
    assert err.value.status == 401
    # At once again (even with the right password, and in the other process): wait.
    with pytest.raises(CentralError) as err:
        two.login("dev-1", "kkurz", NEW_PASSWORD)
    assert err.value.status == 429 and "Sekunden" in err.value.message_de
    assert [delay_after(n) for n in (1, 2, 3, 4, 8)] == [1, 2, 4, 8, 60]
    for attempt in range(2, LOCK_AFTER + 1):
        clock[0] += timedelta(seconds=61)
        with pytest.raises(CentralError) as err:
            (one if attempt % 2 else two).login("dev-1", "kkurz", "falsch")
        assert err.value.status == 401
    clock[0] += timedelta(seconds=61)
    with pytest.raises(CentralError) as err:
        one.login("dev-1", "kkurz", NEW_PASSWORD)
    assert err.value.status == 423
    assert two.account("kkurz").locked  # type: ignore[union-attr]
    once = two.reset("kkurz")
    assert first_login(one, "kkurz", once)


def test_unknown_login_and_wrong_password_say_the_same(db: Database) -> None:
    accounts = ClerkAccounts(db)
    accounts.add("aberg", "Anna Berg", ["sachbearbeitung"], SECRECY)
    answers = []
    for login in ("aberg", "niemand"):
        with pytest.raises(CentralError) as err:
            accounts.login("dev-1", login, "falsch")
        answers.append((err.value.status, err.value.message_de))
    assert answers[0] == answers[1]


def test_roles_are_checked_against_the_roles_file(db: Database) -> None:
    accounts = ClerkAccounts(db)
    with pytest.raises(Exception, match="unknown roles"):
        accounts.add("x", "X", ["chef"], SECRECY)
    accounts.add("x", "X", ["kasse"], SECRECY)
    accounts.set_roles("x", ["datenschutz", "kasse"])
    assert accounts.account("x").roles == ("datenschutz", "kasse")  # type: ignore[union-attr]


# --- the workstation's login: online, offline, expired --------------------------------------

class FakeCentre:
    """The online login as the sync plugin answers it (the HTTP path is tested below)."""

    def __init__(self) -> None:
        self.reachable = True

    def __call__(self, cfg: Any, login: str, password: str,
                 new_password: str | None = None) -> OnlineAccount:
        if not self.reachable:
            raise CentralUnreachable("offline", "offline")
        if password != NEW_PASSWORD:
            raise LoginRefused("Anmeldename oder Passwort ist falsch.", "wrong")
        return OnlineAccount(login, "Eva Meier", ("sachbearbeitung",), "token")


def test_online_then_offline_then_expired(store: Store, tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path, mode="production", central_url="https://zentral.example",
                   offline_login_days=7)
    centre = FakeCentre()
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    session = log_in(cfg, store, "EMeier", NEW_PASSWORD, online=centre, now=lambda: start)
    assert session.online and session.actor.roles == ("sachbearbeitung",)
    centre.reachable = False
    later = start + timedelta(days=6)
    offline = log_in(cfg, store, "emeier", NEW_PASSWORD, online=centre, now=lambda: later)
    assert not offline.online and offline.actor == session.actor
    with pytest.raises(LoginRefused):
        log_in(cfg, store, "emeier", "falsch", online=centre, now=lambda: later)
    with pytest.raises(LoginRefused) as err:
        log_in(cfg, store, "emeier", NEW_PASSWORD, online=centre,
               now=lambda: start + timedelta(days=8))
    assert "abgelaufen" in err.value.message_de
    with pytest.raises(LoginRefused):   # never logged in here: no offline login
        log_in(cfg, store, "kkurz", NEW_PASSWORD, online=centre, now=lambda: later)
    # Unlocking asks the same clerk's password; another clerk's does not open it.
    assert unlock(store, session.actor, NEW_PASSWORD)
    assert not unlock(store, session.actor, "falsch")
    assert not unlock(store, Actor("kkurz", "Schalter 3"), NEW_PASSWORD)
    # The verifier is argon2id, never the password.
    (verifier,) = store.conn.execute("SELECT verifier FROM clerk_logins").fetchone()
    assert verifier.startswith("$argon2id$") and NEW_PASSWORD not in verifier


# --- over HTTP: login endpoint, the clerk of a command, permission on replay ------------------

def test_centre_takes_the_clerk_from_the_session_and_checks_the_permission(
        tmp_path: Path) -> None:
    with central_database("sqlite", tmp_path) as url, \
            running_central(url, tmp_path / "srv", residents=30) as (server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        accounts = ClerkAccounts(central.db)
        once = accounts.add("clerk-ws1", "Clara Kasse", ["sachbearbeitung"], SECRECY)
        client = CentralClient(server.url, ws.token)
        first = client.clerk_login("clerk-ws1", once)
        assert first.must_change_password and first.session_token is None
        answer = client.clerk_login("clerk-ws1", once, NEW_PASSWORD)
        assert answer.session_token and answer.roles == ["sachbearbeitung"]
        with pytest.raises(CentralRefused):
            client.clerk_login("clerk-ws1", "falsch")
        ws.sync()
        person = ws.persons(1)[0]
        ws.run("meldebescheinigung", meldebescheinigung(person))
        session_client = CentralClient(server.url, ws.token, clerk_session=answer.session_token)
        from sync.engine import SyncEngine

        SyncEngine(ws.store, session_client).sync_once()
        with central.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT clerk, 1 - clerk_claimed, status FROM commands")
        assert rows == [("clerk-ws1", 1, "applied")]
        # A clerk whose role lacks the permission: refused on replay, whatever the
        # workstation allowed.
        accounts.set_roles("clerk-ws1", ["kasse"])
        ws.run("meldebescheinigung", meldebescheinigung(person))
        ws.sync()
        with central.db.transaction(write=False) as tx:
            refused = tx.execute("SELECT 1 - clerk_claimed, status, reason FROM commands "
                                 "WHERE status <> 'applied'")
        assert [(v, s) for v, s, _ in refused] == [(0, "rejected")]
        assert "certificates" in refused[0][2]
        # Another device cannot use the session.
        other = Workstation(tmp_path / "ws2", "ws2", central, server.url)
        with pytest.raises(CentralRefused):
            CentralClient(server.url, other.token,
                          clerk_session=answer.session_token).push([])
        session_client.close()
        client.close()
        ws.close()
        other.close()


# --- the centre's watch over the access-log chains -------------------------------------------

def chain(n: int, start: int = 0, prev: str = GENESIS) -> list[dict[str, Any]]:
    entries = []
    for i in range(start + 1, start + n + 1):
        entry = {"id": i, "at": "2026-11-25T09:00:00+00:00", "clerk": "a", "workstation": "w",
                 "action": "read", "person_id": f"p{i}", "purpose": "Auskunft",
                 "detail": None, "prev_hash": prev}
        entry["hash"] = prev = entry_hash(entry, prev)
        entries.append(entry)
    return entries


def test_centre_detects_a_gap_a_change_and_accepts_a_repeat(db: Database) -> None:
    central = Central(db)
    entries = [AccessLogEntry(**e) for e in chain(8)]
    dev1, dev2 = Caller("dev-1", "Schalter 1"), Caller("dev-2", "Schalter 2")
    central.store_access_log(dev1, entries[:3])
    central.store_access_log(dev1, entries[:3])          # a lost answer, sent again
    assert central.access_log_alerts() == []
    central.store_access_log(dev1, entries[5:])          # 4 and 5 deleted before upload
    alerts = central.access_log_alerts()
    assert {(a["kind"], a["entry_id"]) for a in alerts} == {("gap", 6), ("break", 6)}
    changed = entries[1].model_copy(update={"purpose": "Privat"})
    central.store_access_log(dev1, [changed])
    assert ("changed", 2) in {(a["kind"], a["entry_id"]) for a in central.access_log_alerts()}
    # Another device's chain is its own, and starts at entry 1.
    central.store_access_log(dev2, [AccessLogEntry(**e) for e in chain(2, start=3)])
    assert {a["kind"] for a in central.access_log_alerts() if a["device_id"] == "dev-2"} >= \
        {"gap"}
    with db.transaction(write=False) as tx:
        stored = tx.execute("SELECT count(*) FROM ledger WHERE kind = 'access_log'")[0][0]
    assert stored == 3 + 3 + 2   # nothing the workstations sent was dropped
    assert json.dumps(alerts)  # reportable as JSON for the Datenschutz role


# --- the Administration screen (pytest-qt) on a real central service --------------------------

def test_administration_screen_manages_accounts_and_only_for_administrators(
        qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    from sync.protocol import ClerkAdminAnswer, ClerkAdminRequest
    from ui.clerk_admin import ClerkAdminDialog

    with central_database("sqlite", tmp_path) as url, \
            running_central(url, tmp_path / "srv") as (server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        accounts = ClerkAccounts(central.db)
        sessions = {}
        for login, roles in (("admin", ["administration"]), ("emeier", ["sachbearbeitung"])):
            once = accounts.add(login, login.title(), roles, SECRECY)
            sessions[login] = first_login(accounts, login, once,
                                         device=central.authenticate(ws.token).device_id)

        def caller(login: str) -> Any:
            client = CentralClient(server.url, ws.token, clerk_session=sessions[login])

            def call(request: ClerkAdminRequest | None) -> ClerkAdminAnswer:
                return client.clerks() if request is None else client.administer_clerk(request)
            return call

        dialog = ClerkAdminDialog(caller("admin"))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: len(dialog.accounts) == 2, timeout=10_000)
        dialog.login.setText("kkurz")
        dialog.name.setText("Karl Kurz")
        dialog.roles["kasse"].setChecked(True)
        qtbot.mouseClick(dialog.buttons["add"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(dialog.accounts) == 3, timeout=10_000)
        assert dialog.one_time_password and dialog.one_time_password in dialog.message.text()
        karl = accounts.account("kkurz")
        assert karl is not None and karl.roles == ("kasse",) and karl.must_change
        assert karl.secrecy_date is not None
        qtbot.mouseClick(dialog.buttons["disable"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not accounts.account("kkurz").enabled,  # type: ignore[union-attr]
                        timeout=10_000)
        dialog.close()

        refused = ClerkAdminDialog(caller("emeier"))
        qtbot.addWidget(refused)
        qtbot.waitUntil(lambda: "Administration" in refused.message.text(), timeout=10_000)
        assert refused.accounts == []
        refused.close()
        ws.close()


def test_central_clerks_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clerk_app.command_line import main

    url = f"sqlite:///{tmp_path / 'central.db'}"
    assert main(["central", "clerks", "--database", url, "add", "EMeier", "--name", "Eva Meier",
                 "--roles", "sachbearbeitung,kasse"]) == 0
    out = capsys.readouterr().out
    assert "Einmal-Passwort" in out and "Datengeheimnis" in out
    assert main(["central", "clerks", "--database", url, "secrecy", "emeier",
                 "2026-01-15"]) == 0
    assert main(["central", "clerks", "--database", url, "roles", "emeier", "chef"]) == 2
    assert "chef" in capsys.readouterr().err
    assert main(["central", "clerks", "--database", url, "disable", "emeier"]) == 0
    capsys.readouterr()
    assert main(["central", "clerks", "--database", url, "list"]) == 0
    (account,) = json.loads(capsys.readouterr().out)
    assert account | {} == {**account, "login": "emeier", "display_name": "Eva Meier",
                            "roles": ["sachbearbeitung", "kasse"],
                            "secrecy_date": "2026-01-15", "enabled": False}
    assert main(["central", "clerks", "--database", url, "reset", "niemand"]) == 2
