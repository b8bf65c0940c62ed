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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata

from clerk_app import __version__
from clerk_app.clerks import system_actor
from clerk_app.config import Config, machine_config_path, user_config_path
from clerk_app.errors import ClerkError
from clerk_app.keys import keyring_backend_name, keyring_usable
from clerk_app.store.db import SQLITE_HEADER
from clerk_app.store.migrations import SCHEMA_VERSION
from clerk_app.store.opening import open_register

PLUGIN_GROUP = "clerk_app.doctor_checks"


@dataclass(frozen=True)
class Check:
    """One line of the report. `warning`: worth IT's attention, but nothing fails (the exit
    code stays 0)."""

    name: str
    ok: bool
    detail: str
    warning: bool = False


PluginChecks = Callable[[Config], Iterable[Check]]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_checks(cfg: Config) -> list[Check]:
    """All checks, in the order IT reads them."""
    checks = [
        Check("version", True, f"clerk-app {__version__}, Python {platform.python_version()}, "
              f"PySide6 {_version('PySide6-Essentials')}, sqlcipher3 {_version('sqlcipher3')}, "
              f"sqlite-utils {_version('sqlite-utils')}, keyring {_version('keyring')}"),
        Check("configuration", not cfg.warnings,
              f"mode={cfg.mode}; files: {', '.join(cfg.sources) or 'none (defaults)'}; "
              f"machine file {machine_config_path()}; user file {user_config_path()}"
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
                                f"check could not run: {type(exc).__name__}: {exc}"))
    return checks


def _data_dir_check(cfg: Config) -> Check:
    path = cfg.data_path
    if not path.exists():
        return Check("data folder", True, f"{path} (not created yet)")
    writable = os.access(path, os.W_OK)
    return Check("data folder", writable,
                 f"{path}" + ("" if writable else " is not writable: grant the user write access"))


def _keyring_check(cfg: Config) -> Check:
    backend = keyring_backend_name()
    if cfg.is_demo:
        return Check("keyring", True, f"{backend} (demo register keeps its key beside it)")
    if cfg.key_file:
        return Check("keyring", True, f"{backend}; key file {cfg.key_file} configured")
    usable = keyring_usable()
    return Check("keyring", usable, backend if usable else
                 f"{backend}: no usable keyring; set up a Secret Service or configure key_file")


def _register_checks(cfg: Config) -> list[Check]:
    path = cfg.register_path
    if not path.exists():
        return [Check("register", cfg.is_demo,
                      f"{path} does not exist yet"
                      + (" (built at first start)" if cfg.is_demo else ""))]
    with path.open("rb") as fh:
        plain = fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    checks = [Check("encryption", not plain,
                    "the register file is NOT encrypted" if plain else "SQLCipher, file encrypted")]
    try:
        with open_register(cfg, system_actor("doctor", cfg.workstation)) as store:
            cipher = store.conn.execute("PRAGMA cipher_version").fetchone()
            sqlite = store.conn.execute("SELECT sqlite_version()").fetchone()[0]
            version = store.schema_version
            result = store.conn.execute("PRAGMA quick_check").fetchone()[0]
            persons = store.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    except ClerkError as exc:
        return [*checks, Check("register", False, exc.message_en)]
    checks += [
        Check("sqlcipher", bool(cipher), f"SQLCipher {cipher[0] if cipher else 'MISSING'}, "
              f"SQLite {sqlite}"),
        Check("schema", version == SCHEMA_VERSION, f"version {version} (program {SCHEMA_VERSION})"),
        Check("integrity", result == "ok", f"quick_check: {result}"),
        Check("register", True, f"{path}: {persons} persons"),
    ]
    return checks

