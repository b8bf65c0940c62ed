"""Setting up a production workstation as IT does: `clerk-app sync enrol CODE` against the real
central service makes the key (in a real Secret Service keyring), the register and its street
directory, and the first sync fills it; search, sync status and the window then work. Before
enrolment every entry point says the workstation is not set up and that IT is to be called;
a locked keyring is offered to be unlocked in the window.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from clerk_app.clerks import Actor, system_actor
from clerk_app.command_line import main
from clerk_app.config import Config, load_config
from clerk_app.keys import register_account
from clerk_app.login import ClerkSession, log_in
from clerk_app.store.opening import open_register
from clerk_app.store.workstation import RegisterState, WorkstationNotReady, create_register
from sync.server.central import Central
from sync.server.clerk_accounts import ClerkAccounts
from tests.factories import COUNTER_ROLES
from tests.secret_service import SecretService, secret_service
from tests.sync_support import CentralServer, running_central
from tests.test_ui_app import Watcher
from ui import start_window

pytestmark = pytest.mark.usefixtures("german")


class Clerk(Watcher):
    """The clerk of `Watcher`, who also answers the keyring's unlock offer: `answer`
    "unlock" clicks "Entsperren", else Escape; `before_answer` runs a step first, per offer."""

    def __init__(self) -> None:
        self.answer = ""
        self.before_answer: list[Callable[[], None] | None] = []
        super().__init__()

    @property
    def window_opened(self) -> bool:
        return bool(self.main_window)

    def _look(self) -> None:
        modal = QApplication.activeModalWidget()
        if not (isinstance(modal, QMessageBox) and modal.objectName() == "keyringLocked"):
            super()._look()
            return
        self.messages.append((modal.windowTitle(), modal.text()))
        step = self.before_answer.pop(0) if self.before_answer else None
        if step is not None:
            step()
        chosen = next(b for b in modal.buttons() if b.objectName() == "unlockButton") \
            if self.answer == "unlock" else modal.escapeButton()
        assert chosen is not None
        chosen.click()


@pytest.fixture
def clerk(qtbot: QtBot) -> Iterator[Clerk]:
    c = Clerk()
    yield c
    c.stop()


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path,
                         residents=40) as pair:
        yield pair


@pytest.fixture
def keyring_service(tmp_path: Path) -> Iterator[SecretService]:
    with secret_service(tmp_path / "desktop") as service:
        yield service


def command_line(tmp_path: Path, url: str) -> list[str]:
    return ["--data-dir", str(tmp_path / "schalter1"), "--set", 'mode="production"',
            "--set", 'workstation="schalter1"', "--set", f'central_url="{url}"']


PASSWORD = "ein langer Satz als Passwort"


def _logged_in(cfg: Config) -> ClerkSession:
    """The clerk's login at the window, through the real login (online at the centre)."""
    with open_register(cfg, system_actor("login", cfg.workstation)) as store:
        return log_in(cfg, store, "emuster", PASSWORD)


def production(tmp_path: Path, url: str) -> Config:
    return load_config({"data_dir": str(tmp_path / "schalter1"), "mode": "production",
                        "workstation": "schalter1", "central_url": url})


def test_enrolment_sets_up_a_production_workstation_end_to_end(
        tmp_path: Path, central: tuple[CentralServer, Central], keyring_service: SecretService,
        clerk: Clerk, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, service = central
    args = command_line(tmp_path, server.url)
    cfg = production(tmp_path, server.url)

    # Not enrolled: each entry point says so, and that IT is to be called.
    for entry in (["search", "Muster"], ["sync", "--once"], ["sync", "status"]):
        assert main([*args, *entry]) == 2
        err = capsys.readouterr().err
        assert "noch nicht eingerichtet" in err and "IT" in err and "sync enrol" in err
    assert start_window.run(cfg) == 1
    (title, text), = clerk.messages
    assert title == "Melderegister kann nicht geöffnet werden"
    assert "noch nicht eingerichtet" in text and "IT anrufen" in text
    assert not cfg.register_path.exists()

    # A wrong code: refused by the centre, nothing made here.
    assert main([*args, "sync", "enrol", "FALSCH-123"]) != 0
    assert not cfg.register_path.exists() and keyring_service.secrets() == {}
    capsys.readouterr()

    assert main([*args, "sync", "enrol", service.issue_enrolment_code("schalter1")]) == 0
    out = capsys.readouterr().out
    # The clerk of this workstation: an account at the centre, the one-time password changed
    # at the first login; the command line and the window then log in with it.
    one_time = ClerkAccounts(service.db).add("emuster", "Erika Muster", ["sachbearbeitung"],
                                             date(2026, 1, 15))
    with open_register(cfg, system_actor("test", cfg.workstation)) as store:
        log_in(cfg, store, "emuster", one_time, new_password=PASSWORD)
    monkeypatch.setattr("builtins.input", lambda _prompt="": "emuster")
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": PASSWORD)
    monkeypatch.setattr(start_window, "_log_in", lambda cfg: _logged_in(cfg))
    assert "angemeldet" in out and "eingerichtet" in out
    assert stat.S_IMODE(cfg.register_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.register_path.parent.stat().st_mode) == 0o700
    assert register_account(cfg) in keyring_service.secrets()
    with open_register(cfg, system_actor("test", cfg.workstation)) as store:
        persons = store.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        streets = store.conn.execute("SELECT count(*) FROM streets").fetchone()[0]
        (family_name,) = store.conn.execute(
            "SELECT family_name FROM persons ORDER BY id LIMIT 1").fetchone()
    assert persons >= 40 and streets > 100

    assert main([*args, "search", family_name]) == 0
    assert family_name in capsys.readouterr().out
    assert main([*args, "sync", "status"]) == 0
    sync_state = json.loads(capsys.readouterr().out)
    assert sync_state["pending"] == 0 and sync_state["last_success"]
    assert main([*args, "sync", "--once"]) == 0
    capsys.readouterr()
    assert main([*args, "doctor"]) == 0, capsys.readouterr().out
    assert "[FEHLER]" not in capsys.readouterr().out

    clerk.messages.clear()
    assert start_window.run(cfg) == 0
    assert clerk.window_opened and clerk.messages == []


def test_enrolment_refuses_a_register_without_its_key_before_using_the_code(
        tmp_path: Path, central: tuple[CentralServer, Central], keyring_service: SecretService,
        capsys: pytest.CaptureFixture[str]) -> None:
    import keyring

    server, service = central
    cfg = production(tmp_path, server.url)
    create_register(cfg).close()
    keyring.delete_password("clerk-app", register_account(cfg))
    code = service.issue_enrolment_code("schalter1")
    assert main([*command_line(tmp_path, server.url), "sync", "enrol", code]) == 2
    err = capsys.readouterr().err
    assert "Schlüssel fehlt" in err and "beiseite" in err
    assert cfg.register_path.exists()
    assert keyring_service.secrets() == {}  # no device token: the code was not used


def test_window_offers_to_unlock_a_locked_keyring(
        tmp_path: Path, keyring_service: SecretService, clerk: Clerk,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = production(tmp_path, "")
    # The login is not what this test is about: the clerk's session is given.
    monkeypatch.setattr(start_window, "_log_in", lambda cfg: ClerkSession(
        Actor("emuster", cfg.workstation, COUNTER_ROLES, "Erika Muster")))
    create_register(cfg).close()
    keyring_service.lock()
    clerk.answer = "unlock"
    # First answer: the desktop's prompt cannot be shown here, so it stays locked and the
    # offer comes again; then the clerk has unlocked it (typed the password) and retries.
    clerk.before_answer = [None, keyring_service.unlock]
    assert start_window.run(cfg) == 0
    assert clerk.window_opened
    titles = [title for title, _text in clerk.messages]
    assert titles == ["Schlüsselspeicher gesperrt", "Schlüsselspeicher gesperrt"]
    assert "gesperrt" in clerk.messages[0][1] and "Entsperren" in clerk.messages[0][1]


def test_window_ends_when_the_clerk_does_not_unlock(
        tmp_path: Path, keyring_service: SecretService, clerk: Clerk) -> None:
    cfg = production(tmp_path, "")
    create_register(cfg).close()
    keyring_service.lock()
    assert start_window.run(cfg) == 1
    assert [title for title, _ in clerk.messages] == ["Schlüsselspeicher gesperrt"]
    assert not clerk.window_opened


def test_register_made_with_an_it_key_file_is_private(tmp_path: Path) -> None:
    """Where no keyring works, IT's key file: made 0600 with the register (0600, folder 0700),
    and the street directory is there for the first sync's addresses."""
    key_file = tmp_path / "schluessel" / "register.key"
    cfg = replace(production(tmp_path, ""), key_file=str(key_file))
    folder = cfg.register_path.parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # as the logs' folder left it
    with create_register(cfg) as store:
        assert store.conn.execute("SELECT count(*) FROM streets").fetchone()[0] > 100
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.register_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    key_file.unlink()
    with pytest.raises(WorkstationNotReady) as err:
        open_register(cfg)
    assert err.value.state is RegisterState.REGISTER_WITHOUT_KEY
    assert f"Schlüsseldatei {key_file}" in err.value.message_de


def test_enrolment_without_a_keyring_stops_before_the_code_is_used(
        tmp_path: Path, central: tuple[CentralServer, Central],
        capsys: pytest.CaptureFixture[str]) -> None:
    server, service = central
    args = command_line(tmp_path, server.url)
    code = service.issue_enrolment_code("schalter1")
    with secret_service(tmp_path / "desktop", running=False):  # a bus, but no keyring on it
        assert main([*args, "sync", "enrol", code]) == 2
    err = capsys.readouterr().err
    assert "Kein Schlüsselspeicher verfügbar" in err and "key_file" in err
    key_file = tmp_path / "register.key"
    assert main([*args, "--set", f'key_file="{key_file}"',
                 "--set", f'device_token_file="{tmp_path / "token"}"',
                 "sync", "enrol", code]) == 0  # the same code: it was not used
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
