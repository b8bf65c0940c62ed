"""A real Secret Service keyring (gnome-keyring in the test's own D-Bus session), unlocked,
locked, empty and absent: each state has its own German message with its remedy, and
`doctor` never calls a locked or empty keyring OK.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from clerk_app.clerks import system_actor
from clerk_app.command_line import main
from clerk_app.config import Config
from clerk_app.errors import KeyringLockedError, NoKeyringError
from clerk_app.keys import (
    KeyringState,
    keyring_state,
    load_or_create_key,
    register_account,
    unlock_keyring,
)
from clerk_app.seal import load_seal_key
from clerk_app.self_test import CHECK_LABELS_DE
from clerk_app.store.opening import open_register
from clerk_app.store.workstation import RegisterState, WorkstationNotReady, create_register
from tests.secret_service import secret_service

LINE = re.compile(r"^\[(OK|WARNUNG|FEHLER)\] ([^:]+): (.*)$")


@pytest.fixture
def production(demo_cfg: Config) -> Config:
    return replace(demo_cfg, mode="production", workstation="schalter1")


def doctor(cfg: Config, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """Exit code and '[LABEL] detail' by check name."""
    capsys.readouterr()
    code = main(["--set", 'mode="production"', "--set", 'workstation="schalter1"',
                 "--data-dir", cfg.data_dir, "doctor"])
    out = capsys.readouterr().out
    lines = [LINE.match(line) for line in out.splitlines()]
    names = {label: name for name, label in CHECK_LABELS_DE.items()}
    return code, {names[m[2]]: f"[{m[1]}] {m[3]}" for m in lines if m}


def test_unlocked_keyring_holds_the_key_and_no_file_does(
        tmp_path: Path, production: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with secret_service(tmp_path / "desktop") as service:
        assert keyring_state() is KeyringState.UNLOCKED
        create_register(production).close()
        key = service.secrets()[register_account(production)]
        assert load_or_create_key(production, create=False) == key
        assert not [p for p in Path(production.data_dir).rglob("*") if key in _text(p)]
        code, lines = doctor(production, capsys)
        assert code == 0, lines
        assert lines["keyring"].startswith("[OK]") and "entsperrt" in lines["keyring"]
        assert lines["register"].startswith("[OK]")
        assert lines["document seal"].startswith("[OK]")
        assert "mit dem ersten Dokument erzeugt" in lines["document seal"]


def test_locked_keyring_is_said_as_locked_with_its_remedy(
        tmp_path: Path, production: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with secret_service(tmp_path / "desktop") as service:
        create_register(production).close()
        service.lock()
        assert keyring_state() is KeyringState.LOCKED
        with pytest.raises(KeyringLockedError) as err:
            open_register(production)
        message = err.value.message_de
        assert "gesperrt" in message and "entsperren" in message
        assert "Kein Schlüsselspeicher verfügbar" not in message
        assert err.value.can_prompt
        with pytest.raises(KeyringLockedError):
            load_seal_key(production, create=True)
        code, lines = doctor(production, capsys)
        assert code == 1
        assert lines["keyring"].startswith("[FEHLER]") and "gesperrt" in lines["keyring"]
        assert lines["document seal"].startswith("[FEHLER]")
        assert "ersten Dokument" not in lines["document seal"]
        assert "[OK] Schlüsselspeicher" not in "\n".join(lines.values())
        # No screen, so the desktop's prompt cannot be answered: still locked, said so.
        assert not unlock_keyring()
        service.unlock()
        assert keyring_state() is KeyringState.UNLOCKED
        open_register(production, system_actor("test", production.workstation)).close()


def test_empty_keyring_is_not_ok_and_says_what_it_lacks(
        tmp_path: Path, production: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with secret_service(tmp_path / "desktop"):
        with pytest.raises(WorkstationNotReady) as err:
            open_register(production)
        assert err.value.state is RegisterState.NOT_SET_UP
        assert "noch nicht eingerichtet" in err.value.message_de
        assert "sync enrol" in err.value.message_de
        code, lines = doctor(production, capsys)
        assert code == 1
        assert lines["keyring"].startswith("[FEHLER]")
        assert "keinen Schlüssel" in lines["keyring"]
        assert lines["register"].startswith("[FEHLER]") and "IT" in lines["register"]


def test_no_secret_service_on_the_bus_is_a_missing_keyring(
        tmp_path: Path, production: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with secret_service(tmp_path / "desktop", running=False):
        assert keyring_state() is KeyringState.NONE
        with pytest.raises(NoKeyringError) as err:
            open_register(production)
        assert "Kein Schlüsselspeicher verfügbar" in err.value.message_de
        assert "key_file" in err.value.message_de
        code, lines = doctor(production, capsys)
        assert code == 1
        assert lines["keyring"].startswith("[FEHLER]")
        assert "Kein Schlüsselspeicher" in lines["keyring"]
        assert lines["document seal"].startswith("[FEHLER]")


def test_register_without_key_and_key_without_register_are_told_apart(
        tmp_path: Path, production: Config, capsys: pytest.CaptureFixture[str]) -> None:
    with secret_service(tmp_path / "desktop") as service:
        create_register(production).close()
        production.register_path.rename(production.register_path.with_suffix(".moved"))
        with pytest.raises(WorkstationNotReady) as gone:
            open_register(production)
        assert gone.value.state is RegisterState.KEY_WITHOUT_REGISTER
        assert "Datei" in gone.value.message_de and "fehlt" in gone.value.message_de
        assert "Sicherung" in gone.value.message_de
        code, lines = doctor(production, capsys)
        assert lines["register"] == "[FEHLER] " + gone.value.message_de

        production.register_path.with_suffix(".moved").rename(production.register_path)
        import keyring

        keyring.delete_password("clerk-app", register_account(production))
        assert service.secrets() == {}
        with pytest.raises(WorkstationNotReady) as keyless:
            open_register(production)
        assert keyless.value.state is RegisterState.REGISTER_WITHOUT_KEY
        assert "Schlüssel fehlt" in keyless.value.message_de
        assert keyless.value.message_de != gone.value.message_de
        code, lines = doctor(production, capsys)
        assert code == 1
        assert lines["register"] == "[FEHLER] " + keyless.value.message_de
        with pytest.raises(WorkstationNotReady):  # enrolment never overwrites it
            create_register(production)


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("latin-1") if path.is_file() else ""
    except OSError:
        return ""
