"""One configuration object, read in layers: defaults, IT's machine-wide file, the user's file,
the command line.

IT deploys the machine-wide file silently with the installer; a clerk may change only the keys
IT leaves unlocked, so a per-user file can never point the workstation at another register or
central service. Every key is documented in `KEYS`; unknown keys and invalid values are
reported by name (the app refuses to start on an invalid value rather than guess).
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from clerk_app.errors import ConfigError

APP_NAME = "clerk-app"
MACHINE_CONFIG_ENV = "CLERK_APP_MACHINE_CONFIG"
USER_CONFIG_ENV = "CLERK_APP_USER_CONFIG"
DATA_DIR_ENV = "CLERK_APP_DATA_DIR"


@dataclass(frozen=True)
class KeySpec:
    """What a configuration key means, its type, and whether a clerk may set it by default."""

    doc: str
    kind: type
    user_may_set: bool = False
    choices: tuple[str, ...] = ()


KEYS: dict[str, KeySpec] = {
    "mode": KeySpec("'demo' (synthetic register, key beside it) or 'production'.", str,
                    choices=("demo", "production")),
    "data_dir": KeySpec("Folder of the local register, logs and drafts.", str),
    "key_file": KeySpec("Production only, where no OS keyring works: file (mode 0600) that "
                        "holds the register key.", str),
    "demo_residents": KeySpec("Residents in the demo register built at first start.", int),
    "workstation": KeySpec("Name of this workstation (counter), shown and audited.", str),
    "office_name": KeySpec("Issuing office, e.g. 'Bürgerbüro Lörrach'.", str),
    "office_address": KeySpec("Postal address of the office (letterhead).", str),
    "office_hours": KeySpec("Opening hours (letterhead).", str),
    "city_name": KeySpec("Authority at the top of the letterhead, e.g. 'Stadt Lörrach'; also "
                         "in 'Melderegister der Stadt Lörrach'.", str),
    "office_contact": KeySpec("Telephone, e-mail or web address on the letterhead; empty = "
                              "none.", str),
    "office_id": KeySpec("Identifier of the issuing office in each document seal, e.g. the "
                         "municipality key (AGS) '08336050'.", str),
    "seal_key_file": KeySpec("Production only, where no OS keyring works: file (mode 0600) "
                             "that holds the office's private seal key.", str),
    "seal_public_key": KeySpec("The office's public seal key (Ed25519, 64 hex digits), for "
                               "checking documents offline and for checking this "
                               "workstation's key; see 'clerk-app doctor'.", str),
    "office_key_list_key": KeySpec("Public key (64 hex digits) of the central service's "
                                   "office key list: pins it for 'verify-document "
                                   "--key-list'; empty = the key received at enrolment.", str),
    "verification_url": KeySpec("Address of the city's document verification page (the "
                                "static page the central service serves at /pruefen/): each "
                                "seal's QR code is this link with the seal after '#'; empty = "
                                "the bare seal.", str),
    "document_font": KeySpec("Font family of printed documents (falls back to DejaVu Sans, "
                             "Arial, Noto Sans).", str),
    "central_url": KeySpec("Base URL of the central service; empty = offline only.", str),
    "ca_bundle": KeySpec("CA bundle for the central service's TLS certificate.", str),
    "update_public_key": KeySpec("The release key (Ed25519, 64 hex digits) that signs the "
                                 "update notices the central service publishes; without it "
                                 "notices are ignored.", str),
    "device_token_file": KeySpec("Production only, where no OS keyring works: file (mode 0600) "
                                 "that holds this workstation's device token for the central "
                                 "service.", str),
    "sync_interval": KeySpec("Seconds between syncs while online (failures back off "
                             "exponentially, with jitter, up to 15 minutes).", int),
    "offline_lease_days": KeySpec("Days a workstation may work without reaching the central "
                                  "service; after them the register opens only for a sync "
                                  "(warned 3 days ahead; demo mode and offline-only "
                                  "workstations are exempt).", int),
    "central_database": KeySpec("Central service only: database URL, 'postgresql://…' in "
                                "production; empty = SQLite file in the data folder.", str),
    "idle_lock_minutes": KeySpec("Minutes without input after which the window locks "
                                 "(1 to 15, BSI IT-Grundschutz); IT may lock the value.", int,
                                 user_may_set=True),
    "offline_login_days": KeySpec("Days a clerk may log in offline (mobile office) after the "
                                  "last online login on this workstation; 0 = never offline.",
                                  int),
    "central_key_file": KeySpec("Central service only, where no OS keyring works: file (mode "
                                "0600) that holds the key of the embedded SQLite database "
                                "(or set CLERK_APP_CENTRAL_KEY).", str),
    "eakte_folder": KeySpec("Folder the daily xdomea hand-over (0401 ZIP) to the document "
                            "management system is written to; empty = 'eakte' in the data "
                            "folder.", str),
    "eakte_receiver": KeySpec("Name of the document management system as the hand-over's "
                              "recipient (xdomea Empfaenger).", str),
    "intake_key_dir": KeySpec("Central service only, where no OS keyring works: folder of "
                              "the private keys (files of mode 0600) of the online "
                              "applications' intake; empty = the OS keyring (the demo: a "
                              "folder in the data folder).", str),
    "central_max_body_kb": KeySpec("Central service only: largest request body in KiB "
                                   "(larger ones are refused with 413 before they are read).",
                                   int),
    "central_max_archive_kb": KeySpec("Central service only: largest archived-document upload "
                                      "in KiB (a PDF, base64).", int),
    "central_docs": KeySpec("Central service only: serve the interactive API pages at /docs.",
                            bool),
    "central_booking_per_minute": KeySpec("Central service only: requests a minute per client "
                                          "address to the open booking API (bursts up to "
                                          "half of it); more get 429.", int),
    "queue_file": KeySpec("Waiting room configuration (services, locations, counters, ticket "
                          "groups) replacing the packaged resources/queue.toml; empty = the "
                          "packaged one.", str),
    "queue_counter": KeySpec("The counter (code in the queue configuration, e.g. "
                             "'schalter_1') this workstation calls to; empty = none (no "
                             "calling).", str, user_may_set=True),
    "language": KeySpec("UI language: 'de' or 'en'.", str, user_may_set=True,
                        choices=("de", "en")),
    "font_scale": KeySpec("UI font size factor (1.0 = system size).", float, user_may_set=True),
    "log_level": KeySpec("Log level: DEBUG, INFO, WARNING, ERROR.", str, user_may_set=True,
                         choices=("DEBUG", "INFO", "WARNING", "ERROR")),
}
POLICY_KEYS = ("unlock", "lock")
# Keys whose value must lie in a range (inclusive).
RANGES: dict[str, tuple[int, int]] = {"idle_lock_minutes": (1, 15),
                                      "offline_login_days": (0, 30)}


@dataclass(frozen=True)
class Config:
    """The settings in force. Build it with `load_config`, not by hand, outside tests."""

    mode: str = "demo"
    data_dir: str = ""
    key_file: str = ""
    demo_residents: int = 50_000
    workstation: str = ""
    office_name: str = "Bürgerbüro Lörrach"
    office_address: str = "Luisenstraße 16, 79539 Lörrach"
    office_hours: str = "Mo–Fr 8–12 Uhr, Do 14–18 Uhr"
    city_name: str = "Stadt Lörrach"
    office_contact: str = ""
    office_id: str = "08336050"
    seal_key_file: str = ""
    seal_public_key: str = ""
    office_key_list_key: str = ""
    verification_url: str = "https://www.loerrach.example/pruefen/"
    document_font: str = "DejaVu Sans"
    central_url: str = ""
    ca_bundle: str = ""
    update_public_key: str = ""
    device_token_file: str = ""
    sync_interval: int = 60
    offline_lease_days: int = 14
    central_database: str = ""
    idle_lock_minutes: int = 10
    offline_login_days: int = 7
    central_key_file: str = ""
    eakte_folder: str = ""
    eakte_receiver: str = "Dokumentenmanagementsystem der Stadt"
    intake_key_dir: str = ""
    central_max_body_kb: int = 4096
    central_max_archive_kb: int = 32768
    central_docs: bool = False
    central_booking_per_minute: int = 120
    queue_file: str = ""
    queue_counter: str = ""
    language: str = "de"
    font_scale: float = 1.0
    log_level: str = "INFO"
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def register_path(self) -> Path:
        """The register file; the demo register lives apart so it never mixes with real data."""
        name = "demo-register.db" if self.is_demo else "register.db"
        return self.data_path / name

    @property
    def log_path(self) -> Path:
        return self.data_path / "logs"


def machine_config_path() -> Path:
    env = os.environ.get(MACHINE_CONFIG_ENV)
    if env:
        return Path(env)
    return platformdirs.site_config_path(APP_NAME, appauthor=False) / "config.toml"


def user_config_path() -> Path:
    env = os.environ.get(USER_CONFIG_ENV)
    if env:
        return Path(env)
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Die Konfigurationsdatei {path} ist fehlerhaft: {exc}",
            f"configuration file {path} is not valid TOML: {exc}",
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"Die Konfigurationsdatei {path} kann nicht gelesen werden ({exc.strerror}).",
            f"cannot read configuration file {path}: {exc}",
        ) from exc


def _coerce(key: str, value: object, origin: str) -> object:
    spec = KEYS[key]
    ok = isinstance(value, spec.kind) and not (spec.kind is int and isinstance(value, bool))
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if spec.choices and value not in spec.choices:
        ok = False
    if spec.kind is int and ok and isinstance(value, int) and value < 0:
        ok = False
    low, high = RANGES.get(key, (None, None))
    if ok and isinstance(value, int) and low is not None and high is not None and \
            not low <= value <= high:
        ok = False
    if not ok:
        allowed = ", ".join(spec.choices) if spec.choices else spec.kind.__name__
        if key in RANGES:
            allowed = f"{RANGES[key][0]}–{RANGES[key][1]}"
        raise ConfigError(
            f"Ungültiger Wert für „{key}“ in {origin} (erlaubt: {allowed}).",
            f"invalid value for '{key}' in {origin} (allowed: {allowed})",
        )
    return value


def parse_override(text: str) -> tuple[str, object]:
    """Parse a command-line `key=value` into a typed pair (TOML value syntax, or a bare string)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(
            f"Einstellung „{text}“ muss die Form Schlüssel=Wert haben.",
            "command-line setting must have the form key=value",
        )
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def load_config(overrides: Mapping[str, object] | None = None,
                *, read_files: bool = True) -> Config:
    """Build the configuration in force, layer by layer, reporting unknown keys by name."""
    values: dict[str, object] = {}
    warnings: list[str] = []
    sources: list[str] = []
    user_keys = {k for k, spec in KEYS.items() if spec.user_may_set}
    locked: set[str] = set()

    def apply(layer: Mapping[str, object], origin: str,
              allowed: Callable[[str], bool] = lambda _k: True) -> None:
        for key, value in layer.items():
            if key in POLICY_KEYS and origin.startswith("Maschinendatei"):
                continue
            if key not in KEYS:
                warnings.append(f"unbekannter Schlüssel „{key}“ in {origin} (nicht beachtet)")
                continue
            if not allowed(key):
                warnings.append(f"Schlüssel „{key}“ in {origin} ist von der IT gesperrt "
                                "(nicht beachtet)")
                continue
            values[key] = _coerce(key, value, origin)

    if read_files:
        machine_path = machine_config_path()
        machine = _read_toml(machine_path)
        if machine:
            sources.append(f"machine:{machine_path}")
            user_keys |= set(_str_list(machine.get("unlock", []), "unlock", machine_path))
            locked = set(_str_list(machine.get("lock", []), "lock", machine_path))
            user_keys -= locked
            apply(machine, f"Maschinendatei {machine_path}")
        user_path = user_config_path()
        user = _read_toml(user_path)
        if user:
            sources.append(f"user:{user_path}")
            apply(user, f"Benutzerdatei {user_path}", lambda k: k in user_keys)
    if overrides:
        refused = sorted(k for k in overrides if k in locked)
        if refused:
            raise ConfigError(
                f"Die Einstellung „{', '.join(refused)}“ ist von der IT gesperrt und kann "
                "nicht über die Kommandozeile geändert werden.",
                f"command line sets key(s) {refused} locked in the machine config")
        sources.append("command line")
        apply(overrides, "Kommandozeile")

    env_dir = os.environ.get(DATA_DIR_ENV)
    if "data_dir" not in values:
        values["data_dir"] = env_dir or str(
            platformdirs.user_data_path(APP_NAME, appauthor=False))
    if not values.get("workstation"):
        values["workstation"] = socket.gethostname() or "arbeitsplatz"
    cfg = Config(sources=tuple(sources), warnings=tuple(warnings))
    return replace(cfg, **values)  # type: ignore[arg-type]


def _str_list(value: object, key: str, path: Path) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(
        f"„{key}“ in {path} muss eine Liste von Schlüsselnamen sein.",
        f"'{key}' in {path} must be a list of key names",
    )

