"""Attacks on the central service from outside, beyond tests/test_central_trust.py (issue 10):
a device that uses a Klärfall decision to get a command through that the centre refused for
its clerk; a withdrawn workstation whose next contact is a clerk's login. Real service
process on SQLite and PostgreSQL, workstations over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from clerk_app.config import load_config
from clerk_app.ids import uuid7
from clerk_app.keys import write_secret_file
from clerk_app.store.migrations import SCHEMA_VERSION
from clerk_app.store.outbox import append_outbox
from clerk_app.withdrawal import MARKER, PRINTOUTS_FOLDER
from sync.engine import open_conflicts
from sync.protocol import (
    API_PREFIX,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    RESOLUTION_COMMAND,
    SCHEMA_HEADER,
    Command,
    CommandResult,
    PushRequest,
)
from sync.server.central import Central
from sync.server.clerk_accounts import ClerkAccounts
from tests.sync_support import (
    ROOT,
    Workstation,
    central_database,
    meldebescheinigung,
    outbox_commands,
    running_central,
    ummeldung,
)
from ui.login_screen import LoginDialog

SECRECY = datetime(2026, 1, 15).date()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_decision_does_not_get_a_command_through_that_its_clerk_may_not_run(
        kind: str, tmp_path: Path) -> None:
    """A clerk without the permission for a service (here: Kasse, no certificates and no
    registration) has their commands refused at the centre. The same workstation then decides
    the Klärfall 'local' (or 'central') under a clerk who may resolve Klärfälle: the refused
    command must stay refused, neither its register change nor its documents on record."""
    with central_database(kind, tmp_path) as url, \
            running_central(url, tmp_path / "srv", residents=30) as (server, central):
        accounts = ClerkAccounts(central.db)
        accounts.add("clerk-ws1", "Kai Kasse", ["kasse"], SECRECY)
        accounts.add("chefin", "Rita Resolve", ["sachbearbeitung"], SECRECY)
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        try:
            ws.sync()
            person, mover = ws.persons(5)[-2:]
            refused = [ws.run("meldebescheinigung", meldebescheinigung(person)).command_id,
                       ws.run("ummeldung", ummeldung(mover, ws.street("Palmstraße")))
                       .command_id]
            ws.sync()
            assert [ws.status_of(c) for c in refused] == ["rejected", "rejected"]
            before = _central_state(central, person, mover)
            for target in refused:
                # 'local' comes back as the Klärfall, naming the refusal.
                answer = _decide(ws, target, "local")
                assert answer.status == "conflict" and "Rolle" in (answer.reason or "")
                assert _status(central, target) == "rejected"
                # 'central' closes it; nothing of the command is on record.
                assert _decide(ws, target, "central").result == {"target_status": "discarded"}
                assert _status(central, target) == "discarded"
            assert _central_state(central, person, mover) == before
        finally:
            ws.close()


def _central_state(central: Central, *persons: str) -> tuple[object, ...]:
    """The persons' central records and the count of the ledger's documents and payments."""
    with central.db.transaction(write=False) as tx:
        return (tx.execute("SELECT id, seq, data FROM aggregates WHERE kind = 'person' AND "
                           f"id IN ({', '.join('?' * len(persons))}) ORDER BY id", persons),
                tx.execute("SELECT count(*) FROM ledger WHERE kind <> 'access_log'"))


def _decide(ws: Workstation, target: str, decision: str) -> CommandResult:
    """The workstation's decision on its Klärfall `target`, by a clerk who may resolve one."""
    [answer] = ws.client.push([Command(
        command_id=uuid7(), type=RESOLUTION_COMMAND,
        payload={"command_id": target, "decision": decision}, device=ws.name, clerk="chefin",
        created_at=datetime.now(UTC).isoformat())]).results
    return answer


def _status(central: Central, command_id: str) -> str:
    with central.db.transaction(write=False) as tx:
        return str(tx.execute("SELECT status FROM commands WHERE command_id = ?",
                              (command_id,))[0][0])


# --- a withdrawn workstation: the clerk's login is a contact too ---------------------------------

@contextmanager
def stolen_laptop(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A production workstation (register, key file, token, a printout) that IT withdrew while
    it was switched off: (its data folder, its settings)."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv",
                         residents=10) as (server, central):
        folder = tmp_path / "laptop"
        ws = Workstation(folder, "register", central, server.url)   # folder/register.db
        ws.sync()
        write_secret_file(folder / "register.key", ws.key)
        write_secret_file(folder / "device.token", ws.token)
        ws.close()
        (folder / PRINTOUTS_FOLDER).mkdir()
        (folder / PRINTOUTS_FOLDER / "MB-1.pdf").write_bytes(b"%PDF-1.7")
        assert central.revoke_device("register") == 1
        yield folder, {"mode": "production", "workstation": "register",
                       "central_url": server.url, "key_file": str(folder / "register.key"),
                       "device_token_file": str(folder / "device.token")}


def _destroyed(folder: Path) -> None:
    left = {p.name for p in folder.iterdir()}
    assert not left & {"register.db", "register.key", "device.token", PRINTOUTS_FOLDER}, left
    assert MARKER in left


def test_a_stolen_workstation_is_destroyed_by_the_login_at_its_next_start(tmp_path: Path) -> None:
    """Whoever starts it next gets as far as the login, which asks the centre. That contact
    destroys the register (key, file, printouts) as a sync would, says so in German, and
    nothing opens afterwards (a real `clerk-app` process)."""
    with stolen_laptop(tmp_path) as (folder, settings):
        base = [sys.executable, "-m", "clerk_app", "--data-dir", str(folder),
                *[a for k, v in settings.items() for a in ("--set", f'{k}="{v}"')]]

        def clerk_app(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*base, *args], input="dieb\ngeraten\n", cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)

        started = clerk_app("search", "Muster")
        assert started.returncode == 2 and "Traceback" not in started.stderr
        assert "zurückgezogen" in started.stderr, started.stderr
        _destroyed(folder)
        again = clerk_app("search", "Muster")
        assert again.returncode == 2 and "zurückgezogen" in again.stderr


def test_the_window_s_login_destroys_a_withdrawn_workstation_and_gives_way_to_the_notice(
        tmp_path: Path, qtbot: QtBot) -> None:
    with stolen_laptop(tmp_path) as (folder, settings):
        dialog = LoginDialog(load_config({**settings, "data_dir": str(folder)}))
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.login.setText("dieb")
        dialog.password.setText("geraten")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30_000)
        assert dialog.result() == QDialog.DialogCode.Rejected and dialog.session is None
        _destroyed(folder)


# --- the wedge: one outbox row the protocol refuses ----------------------------------------------

@pytest.mark.parametrize("poison", [{"n": 2**70}, {"deep": json.loads("[" * 40 + "]" * 40)}],
                         ids=["huge-number", "deep-nesting"])
def test_an_outbox_row_the_centre_cannot_take_does_not_hold_back_the_rest(
        tmp_path: Path, poison: dict[str, Any]) -> None:
    """A command stored here whose payload the protocol refuses (a number beyond 64 bits, a
    nesting deeper than the centre takes; an older version wrote it, or a disk error): it
    becomes a Klärfall with a German reason, and the commands after it (on other persons)
    still reach the centre."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv",
                         residents=10) as (server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        try:
            ws.sync()
            first, second = ws.persons(5)[-2:]
            bad = ws.run("meldebescheinigung", meldebescheinigung(first)).command_id
            good = ws.run("meldebescheinigung", meldebescheinigung(second)).command_id
            with ws.store.transaction():
                payload = json.loads(ws.store.conn.execute(
                    "SELECT payload FROM outbox WHERE command_id = ?", (bad,)).fetchone()[0])
                ws.store.conn.execute("UPDATE outbox SET payload = ? WHERE command_id = ?",
                                      (json.dumps({**payload, **poison}), bad))
            report = ws.sync()
            assert report.problem_de() is None and report.rejected == 1
            assert ws.status_of(good) == "applied" and _status(central, good) == "applied"
            assert ws.status_of(bad) == "rejected"
            [conflict] = [c for c in open_conflicts(ws.store) if c["command_id"] == bad]
            assert "fehlerhaft gespeichert" in conflict["reason"]
            assert ws.sync().waiting == 0
        finally:
            ws.close()


# --- the archive's larger body limit is for enrolled workstations only ---------------------------

def test_the_archive_s_larger_limit_needs_an_enrolled_workstation_s_token(tmp_path: Path) -> None:
    """An archived PDF may be larger than a command, but only an enrolled workstation may send
    that much: without a token (or with a made-up one) a body above the common limit is
    refused unread, else a dozen anonymous uploads cost the service gigabytes."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv") as (
            server, central):
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        archive = json.dumps({
            "command_id": uuid7(), "type": "archive_document", "device": "x", "clerk": "c",
            "created_at": datetime.now(UTC).isoformat(),
            "payload": {"pdf_base64": "A" * (6 << 20), "sha256": "0" * 64}}).encode()
        versions = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION),
                    "Content-Type": "application/json"}

        def upload(token: str | None, body: Any) -> requests.Response:
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            return requests.post(f"{server.url}{API_PREFIX}/archive", data=body,
                                 headers={**versions, **auth}, timeout=60)

        def chunks() -> Iterator[bytes]:   # no Content-Length
            yield from (archive[i:i + (1 << 20)] for i in range(0, len(archive), 1 << 20))

        for token in (None, "erfunden"):
            for body in (archive, chunks()):
                answer = upload(token, body)
                assert answer.status_code == 413, answer.text[:200]
                assert answer.json()["message_de"]
        assert upload(ws.token, archive).status_code == 200
        ws.close()


# --- the wedge: a body the centre finds too large ------------------------------------------------

def test_a_command_too_large_for_the_centre_does_not_stop_the_sync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the centre's limits set low (64 KiB): an archived PDF larger than the archive
    limit, and a batch of commands larger than the body limit. The batch goes in smaller
    parts; the PDF becomes a Klärfall with a German reason; the commands after it and the
    pull go on (before, every sync ended at the 413 as 'refused', for good)."""
    machine = tmp_path / "machine.toml"
    machine.write_text("central_max_body_kb = 64\ncentral_max_archive_kb = 64\n")
    monkeypatch.setenv("CLERK_APP_MACHINE_CONFIG", str(machine))
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path / "srv",
                         residents=30) as (server, central):
        ws, other = (Workstation(tmp_path / n, n, central, server.url) for n in ("ws1", "ws2"))
        try:
            ws.sync()
            other.sync()
            persons = ws.persons(30)
            issued = ws.run("meldebescheinigung", meldebescheinigung(persons[0]))
            pdf = "A" * (100 << 10)
            with ws.store.transaction():
                append_outbox(ws.store, (big := uuid7()), "archive_document", {
                    "document_number": issued.documents[0].number, "kind": "original",
                    "issued_command_id": issued.command_id, "sha256": "0" * 64,
                    "pdf_base64": pdf}, datetime.now(UTC))
            # Certificates with a long purpose: one batch of them is larger than 64 KiB.
            later = [ws.run("meldebescheinigung", {**meldebescheinigung(p),
                                                   "purpose": "Vorlage " + "x" * 190}).command_id
                     for p in persons[1:-1] for _ in range(3)]
            assert len(PushRequest(commands=outbox_commands(ws)[:100]).model_dump_json()) \
                > 64 << 10
            moved = other.run("ummeldung", ummeldung(persons[-1], other.street("Palmstraße")))
            other.sync()
            report = ws.sync()
            assert ws.status_of(big) == "rejected"
            [conflict] = [c for c in open_conflicts(ws.store) if c["command_id"] == big]
            assert "zu groß" in conflict["reason"]
            assert {ws.status_of(c) for c in [issued.command_id, *later]} == {"applied"}
            assert {_status(central, c) for c in later} == {"applied"}
            assert report.pulled and moved.command_id
            assert persons[-1] in report.changed
        finally:
            ws.close()
            other.close()


# --- the embedded central database: a lost key is not replaced by a new one ----------------------

def test_a_central_database_whose_key_is_missing_is_not_given_a_new_key(tmp_path: Path) -> None:
    """The key file of an existing embedded central database is gone (not restored yet, a
    container secret not mounted yet): the service says so in German and makes no new key,
    which could never open the database and would stand where the real one belongs."""
    data = tmp_path / "data"

    def central(*args: str, key_file: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clerk_app", "--data-dir", str(data), "--set",
             f'central_key_file="{key_file}"', "central", *args, "--database",
             f"sqlite:///{tmp_path / 'central.db'}"],
            cwd=ROOT, capture_output=True, text=True, timeout=120)

    key_file = tmp_path / "secrets" / "central.key"
    key_file.parent.mkdir()
    assert central("enrol-code", "--device", "S1", key_file=key_file).returncode == 0
    kept = key_file.read_text()
    key_file.unlink()
    refused = central("enrol-code", "--device", "S2", key_file=key_file)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "Schlüssel" in refused.stderr and str(key_file) in refused.stderr
    assert not key_file.exists()
    key_file.write_text(kept)
    key_file.chmod(0o600)
    assert central("devices", key_file=key_file).returncode == 0
