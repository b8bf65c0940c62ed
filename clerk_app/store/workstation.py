"""Whether this workstation has its register, and creating it when IT enrols the workstation.

A production register is never made by accident: the window, `search` and `sync` only open
one. It is made by `clerk-app sync enrol CODE` (`create_register`), and the first sync fills
it. A register needs its file and its key together, so there are four states, and the two
half states have different causes and different remedies: a register whose key is gone (a
reset keyring, a new user profile) cannot be opened at all; a key whose register is gone (a
deleted file, a changed data folder) only needs the file back or a new enrolment. Each
message says what happened and what IT does next; `doctor` prints the same words.

The register holds personal data, so its file is 0600 in a 0700 folder, like the key file and
the printouts (SQLite gives the WAL and shared-memory files the register's own mode).
"""

from __future__ import annotations

import logging
import os
import stat
from enum import Enum
from pathlib import Path

from clerk_app.clerks import system_actor
from clerk_app.config import Config
from clerk_app.errors import StoreError
from clerk_app.keys import key_exists, key_location_de, load_or_create_key
from clerk_app.store.db import Store, open_store

log = logging.getLogger(__name__)

ENROL_DE = "„clerk-app sync enrol CODE“ mit einem Anmeldecode der Zentrale"


class RegisterState(Enum):
    READY = "ready"
    NOT_SET_UP = "not set up"
    REGISTER_WITHOUT_KEY = "register without key"
    KEY_WITHOUT_REGISTER = "key without register"


class WorkstationNotReady(StoreError):
    """The production register cannot be opened because a part of it is missing."""

    def __init__(self, state: RegisterState, message_de: str, message_en: str) -> None:
        super().__init__(message_de, message_en)
        self.state = state


def register_state(cfg: Config) -> RegisterState:
    """Which parts of the register are here. Raises the keyring's error when it cannot be asked
    (none, locked): that is a third kind of trouble with its own message."""
    has_file = cfg.register_path.exists()
    has_key = key_exists(cfg)
    if has_file and has_key:
        return RegisterState.READY
    if has_file:
        return RegisterState.REGISTER_WITHOUT_KEY
    return RegisterState.KEY_WITHOUT_REGISTER if has_key else RegisterState.NOT_SET_UP


def not_ready(cfg: Config, state: RegisterState) -> WorkstationNotReady:
    """The error for a register in `state` (not READY): what happened, what IT does next."""
    path, where = cfg.register_path, key_location_de(cfg)
    if state is RegisterState.REGISTER_WITHOUT_KEY:
        return WorkstationNotReady(
            state,
            f"Das Melderegister {path} ist vorhanden, aber sein Schlüssel fehlt ({where}); "
            "ohne ihn lässt es sich nicht öffnen (etwa nach einem zurückgesetzten "
            "Schlüsselbund oder einem neuen Benutzerkonto). Bitte die IT anrufen: Sie spielt "
            "den Schlüssel aus der Sicherung zurück, oder sie legt die Datei beiseite und "
            f"richtet den Arbeitsplatz mit {ENROL_DE} neu ein (noch nicht übertragene "
            "Vorgänge dieses Arbeitsplatzes gehen dabei verloren).",
            f"register {path} exists but its key is missing: restore the key from the backup, "
            "or move the file aside and enrol the workstation again")
    if state is RegisterState.KEY_WITHOUT_REGISTER:
        return WorkstationNotReady(
            state,
            f"Der Schlüssel des Melderegisters ist vorhanden ({where}), aber die Datei {path} "
            "fehlt: Sie wurde gelöscht oder verschoben, oder der Datenordner („data_dir“) "
            "wurde geändert. Bitte die IT anrufen: Sie spielt die Datei aus der Sicherung "
            "zurück oder stellt den Datenordner richtig; sonst richtet sie den Arbeitsplatz "
            f"mit {ENROL_DE} neu ein, und der erste Abgleich füllt ein neues Melderegister.",
            f"the register key exists but register {path} is missing: restore the file or "
            "fix data_dir, or enrol the workstation again")
    return WorkstationNotReady(
        state,
        f"Dieser Arbeitsplatz ist noch nicht eingerichtet: Das Melderegister {path} fehlt, "
        f"und sein Schlüssel ({where}) fehlt ebenfalls. Bitte die IT anrufen: Sie richtet "
        f"den Arbeitsplatz mit {ENROL_DE} ein; der erste Abgleich füllt das Melderegister.",
        f"this workstation is not set up: register {path} and its key are missing; "
        "enrol it with 'clerk-app sync enrol CODE'")


def require_ready(cfg: Config) -> None:
    """Raise `WorkstationNotReady` unless register file and key are both here."""
    state = register_state(cfg)
    if state is not RegisterState.READY:
        raise not_ready(cfg, state)


def create_register(cfg: Config) -> Store:
    """Make this workstation's register at enrolment: its key (keyring or key file), the file
    (0600 in a 0700 folder, encrypted) and the street directory; returns it open, empty of
    persons for the first sync to fill. A register that exists with its key is opened as it
    is; one without its key is refused (never overwritten)."""
    from clerk_app.streets import load_street_directory

    state = register_state(cfg)
    if state is RegisterState.REGISTER_WITHOUT_KEY:
        raise not_ready(cfg, state)
    private_folder(cfg.register_path.parent)
    actor = system_actor("enrolment", cfg.workstation)
    if state is RegisterState.READY:
        return open_store(cfg.register_path, load_or_create_key(cfg, create=False), actor)
    key = load_or_create_key(cfg, create=True)
    store = open_store(cfg.register_path, key, actor, create=True)
    try:
        with store.transaction() as db:
            streets = load_street_directory(db)
    except BaseException:
        store.close()
        raise
    log.info("created register %s with %d streets", cfg.register_path, len(streets))
    return store


def private_folder(folder: Path) -> None:
    """`folder` exists and only its owner may enter it (0700)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix" and stat.S_IMODE(folder.stat().st_mode) != 0o700:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise StoreError(
            f"Der Datenordner {folder} kann nicht angelegt werden ({exc.strerror}). Bitte die "
            "IT verständigen.", f"cannot create data folder {folder}: {exc}") from exc
