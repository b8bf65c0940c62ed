"""`clerk-app doctor`: the self-test IT runs after a silent install or when a clerk calls.

Each check gives one line; a failed check says what is wrong and what to do, so that a
support call can be settled from the output alone. No personal data is printed.

Parts the core does not import (the sync layer's connection check) add their lines through the
entry-point group `clerk_app.doctor_checks`, as their sub-commands do through
`clerk_app.commands`: each entry is a function that takes the configuration and returns its
checks.
"""

from __future__ import annotations

import os
import platform
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata

from clerk_app import __version__
from clerk_app.clerks import system_actor
from clerk_app.config import Config, machine_config_path, user_config_path
from clerk_app.errors import ClerkError
from clerk_app.keys import (
    NO_KEYRING_DE,
    KeyringState,
    key_exists,
    keyring_backend_name,
    keyring_state,
    load_or_create_key,
    locked_error,
)
from clerk_app.store.db import SQLITE_HEADER
from clerk_app.store.migrations import SCHEMA_VERSION
from clerk_app.store.opening import open_register
from clerk_app.store.workstation import require_ready

PLUGIN_GROUP = "clerk_app.doctor_checks"

# What each check is called in the German report; `Check.name` stays the stable key (JSON,
# scripts, the tests). A check missing here is shown under its name.
CHECK_LABELS_DE: dict[str, str] = {
    "version": "Programmversion",
    "configuration": "Konfiguration",
    "data folder": "Datenordner",
    "keyring": "Schlüsselspeicher",
    "encryption": "Verschlüsselung",
    "permissions": "Dateirechte",
    "sqlcipher": "SQLCipher",
    "schema": "Registerschema",
    "integrity": "Unversehrtheit",
    "register": "Melderegister",
    "central service": "Zentrale",
    "clock": "Uhrzeit",
    "update": "Aktualisierung",
    "sync": "Abgleich",
    "offline lease": "Offline-Frist",
    "document seal": "Dokumentsiegel",
    "qt platform": "Bildschirmanbindung (Qt)",
}


@dataclass(frozen=True)
class Check:
    """One line of the report. `warning`: worth IT's attention, but nothing fails (the exit
    code stays 0)."""

    name: str
    ok: bool
    detail: str
    warning: bool = False

    @property
    def label(self) -> str:
        """The check's name in the German report."""
        return CHECK_LABELS_DE.get(self.name, self.name)


PluginChecks = Callable[[Config], Iterable[Check]]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "nicht installiert"


def run_checks(cfg: Config) -> list[Check]:
    """All checks, in the order IT reads them."""
    checks = [
        Check("version", True, f"clerk-app {__version__}, Python {platform.python_version()}, "
              f"PySide6 {_version('PySide6-Essentials')}, sqlcipher3 {_version('sqlcipher3')}, "
              f"sqlite-utils {_version('sqlite-utils')}, keyring {_version('keyring')}"),
        Check("configuration", not cfg.warnings,
              f"mode={cfg.mode}; Dateien: {', '.join(cfg.sources) or 'keine (Vorgaben)'}; "
              f"Maschinendatei {machine_config_path()}; Benutzerdatei {user_config_path()}"
              + "".join(f"; PROBLEM: {w}" for w in cfg.warnings)),
        _data_dir_check(cfg),
        _keyring_check(cfg),
    ]
    checks.extend(_register_checks(cfg))
    checks.extend(_plugin_checks(cfg))
    return checks


def _plugin_checks(cfg: Config) -> list[Check]:
    """The installed parts' own checks. A part whose check breaks is one failed line, so the
    report still shows everything else."""
    checks: list[Check] = []
    for plugin in sorted(metadata.entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            run: PluginChecks = plugin.load()
            checks.extend(run(cfg))
        except Exception as exc:  # a broken plugin must not hide the other lines
            checks.append(Check(plugin.name, False,
                                f"Prüfung lief nicht: {type(exc).__name__}: {exc}"))
    return checks


def _data_dir_check(cfg: Config) -> Check:
    path = cfg.data_path
    if not path.exists():
        return Check("data folder", True, f"{path} (noch nicht angelegt)")
    writable = os.access(path, os.W_OK)
    mode = stat.S_IMODE(path.stat().st_mode)
    if not writable:
        return Check("data folder", False, f"{path} ist nicht beschreibbar: dem Benutzer "
                     "Schreibrechte geben")
    if os.name == "posix" and mode & 0o077 and not cfg.is_demo:
        return Check("data folder", True, f"{path} (Rechte {mode:o}): für andere Benutzer "
                     "offen; die Rechte auf 0700 setzen (geschieht beim Einrichten)",
                     warning=True)
    return Check("data folder", True, f"{path} (Rechte {mode:o})")


def _keyring_check(cfg: Config) -> Check:
    """Whether the register's key can be had: never "OK" for a keyring that is locked or
    does not hold the key."""
    backend = keyring_backend_name()
    if cfg.is_demo:
        return Check("keyring", True, f"{backend} (das Demo-Register hat seinen Schlüssel in "
                     "einer Datei daneben: nur erfundene Daten)")
    if cfg.key_file:
        try:
            load_or_create_key(cfg, create=False)
        except ClerkError as exc:
            return Check("keyring", False, exc.message_de)
        return Check("keyring", True, f"Schlüsseldatei {cfg.key_file} (Rechte 0600) enthält "
                     "den Schlüssel des Melderegisters")
    state = keyring_state()
    if state is KeyringState.NONE:
        return Check("keyring", False, f"{backend}: {NO_KEYRING_DE}")
    if state is KeyringState.LOCKED:
        return Check("keyring", False, f"{backend}: "
                     + locked_error("der Schlüssel des Melderegisters").message_de)
    try:
        present = key_exists(cfg)
    except ClerkError as exc:  # locked or gone since the question above
        return Check("keyring", False, f"{backend}: {exc.message_de}")
    if not present:
        return Check("keyring", False, f"{backend}: entsperrt, enthält aber keinen Schlüssel "
                     "für dieses Melderegister (was zu tun ist, steht unter „register“)")
    return Check("keyring", True, f"{backend}: entsperrt, der Schlüssel des Melderegisters "
                 "ist hinterlegt")


def _register_checks(cfg: Config) -> list[Check]:
    path = cfg.register_path
    if not path.exists():
        if cfg.is_demo:
            return [Check("register", True, f"{path} gibt es noch nicht (wird beim ersten "
                          "Start angelegt)")]
        try:
            require_ready(cfg)
        except ClerkError as exc:
            return [Check("register", False, exc.message_de)]
    with path.open("rb") as fh:
        plain = fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    mode = stat.S_IMODE(path.stat().st_mode)
    checks = [Check("encryption", not plain,
                    "die Datei des Melderegisters ist NICHT verschlüsselt" if plain
                    else f"SQLCipher, Datei verschlüsselt (Rechte {mode:o})")]
    if os.name == "posix" and mode & 0o077:
        checks.append(Check("permissions", False, f"{path} hat die Rechte {mode:o}: andere "
                            "Benutzer können sie lesen; die Rechte auf 0600 setzen"))
    try:
        with open_register(cfg, system_actor("doctor", cfg.workstation)) as store:
            cipher = store.conn.execute("PRAGMA cipher_version").fetchone()
            sqlite = store.conn.execute("SELECT sqlite_version()").fetchone()[0]
            version = store.schema_version
            result = store.conn.execute("PRAGMA quick_check").fetchone()[0]
            persons = store.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    except ClerkError as exc:
        return [*checks, Check("register", False, exc.message_de)]
    checks += [
        Check("sqlcipher", bool(cipher), f"SQLCipher {cipher[0] if cipher else 'FEHLT'}, "
              f"SQLite {sqlite}"),
        Check("schema", version == SCHEMA_VERSION,
              f"Version {version} (Programm: {SCHEMA_VERSION})"),
        Check("integrity", result == "ok", f"quick_check: {result}"),
        Check("register", True, f"{path}: {persons} Personen"),
    ]
    return checks
