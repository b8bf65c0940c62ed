"""The workstation's device token for the central service: in the OS keyring.

Where no keyring works, IT names a 0600 file in `device_token_file`; the demo workstation keeps
its token beside the demo register (synthetic data only), as it does its register key.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import keyring
import keyring.errors

from clerk_app.config import Config
from clerk_app.errors import KeyMissingError, NoKeyringError
from clerk_app.keys import (
    KEYRING_SERVICE,
    keyring_secret,
    read_secret_file,
    store_keyring_secret,
    write_secret_file,
)

# Said to the clerk (status bar, dialogs): who to call, never a command to type. The command
# for IT is in `clerk-app doctor` (`ENROL_FOR_IT_DE`).
NOT_ENROLLED_DE = ("Dieser Arbeitsplatz ist noch nicht bei der Zentrale angemeldet; bis dahin "
                   "wird nichts übertragen, die Arbeit bleibt gespeichert. Bitte die IT "
                   "anrufen.")
ENROL_FOR_IT_DE = ("Für die IT: den Arbeitsplatz mit „clerk-app sync enrol CODE“ und einem "
                   "Anmeldecode der Zentrale anmelden.")


TOKEN_DE = "das Gerätetoken für die Zentrale"


def _account(cfg: Config) -> str:
    return f"device-token:{cfg.central_url}"


def token_file(cfg: Config) -> Path | None:
    if cfg.device_token_file:
        return Path(cfg.device_token_file)
    if cfg.is_demo:
        return cfg.register_path.with_suffix(".device-token")
    return None


NO_KEYRING = NoKeyringError("Kein Schlüsselspeicher für das Gerätetoken verfügbar; die IT "
                           "kann „device_token_file“ (Rechte 0600) einrichten.",
                           "no keyring and no device_token_file")


def load_token(cfg: Config) -> str:
    path = token_file(cfg)
    if path is None:
        return keyring_secret(_account(cfg), unusable=NO_KEYRING, what=TOKEN_DE,
                              missing=KeyMissingError(NOT_ENROLLED_DE,
                                                      "no device token in the keyring"))
    if not path.exists():
        raise KeyMissingError(NOT_ENROLLED_DE, f"no device token file {path}")
    return read_secret_file(path)


def forget_token(cfg: Config) -> None:
    """Delete the device token (a withdrawn workstation keeps nothing that opens the
    centre)."""
    path = token_file(cfg)
    if path is not None:
        path.unlink(missing_ok=True)
        return
    with contextlib.suppress(keyring.errors.KeyringError):  # no keyring, or no token there
        keyring.delete_password(KEYRING_SERVICE, _account(cfg))


def save_token(cfg: Config, token: str) -> None:
    path = token_file(cfg)
    if path is None:
        store_keyring_secret(_account(cfg), token, unusable=NO_KEYRING, what=TOKEN_DE)
    else:
        write_secret_file(path, token, replace=True)
