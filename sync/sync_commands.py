"""`clerk-app sync …` (the workstation) and `clerk-app central …` (the central service),
plugged into the core's command line through the `clerk_app.commands` entry point.

Headless, for IT and scripts: exit code 0 = done, 1 = the central service refused or is not
reachable (the message says which), 2 = bad input or configuration, 3 = the sync ran but
something failed on this workstation (central records it could not store, a stage that broke
off for a reason other than the network; the rest was synced, the message says what; details
in the log), 4 = the workstation was withdrawn centrally: its register, drafts and printouts
were destroyed.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from clerk_app.command_line import resident_count
from clerk_app.config import Config
from clerk_app.errors import ClerkError, ConfigError, KeyStoreError

log = logging.getLogger(__name__)

# What the `central` extra adds (import names): the central service's web stack and PostgreSQL.
CENTRAL_PACKAGES = ("fastapi", "uvicorn", "psycopg", "psycopg_pool")

Handler = Callable[[Config, argparse.Namespace], int]

EXIT_UNAVAILABLE = 1  # the central service refused or cannot be reached
EXIT_LOCAL_FAILURE = 3  # the sync ran, but something failed on this workstation
EXIT_WITHDRAWN = 4  # the centre withdrew this workstation; its data is destroyed
UNEXPECTED_DE = ("Beim Abgleich ist auf diesem Arbeitsplatz ein unerwarteter Fehler "
                 "aufgetreten; die Arbeit bleibt gespeichert. Bitte die IT verständigen "
                 "(Einzelheiten im Protokoll).")


def add_commands(sub: Any) -> dict[str, Handler]:
    sync = sub.add_parser("sync", help="Mit der Zentrale abgleichen")
    sync.add_argument("--once", action="store_true", help="einmal abgleichen und beenden")
    sync_sub = sync.add_subparsers(dest="sync_command")
    enrol = sync_sub.add_parser("enrol", help="Arbeitsplatz mit einem Anmeldecode der IT "
                                              "bei der Zentrale anmelden")
    enrol.add_argument("code", metavar="CODE", help="der Anmeldecode der IT")
    sync_sub.add_parser("status", help="Stand des Abgleichs")
    sync_sub.add_parser("conflicts", help="Offene Klärfälle auflisten (JSON)")
    resolve = sync_sub.add_parser("resolve", help="Klärfall entscheiden")
    resolve.add_argument("command_id", metavar="AUFTRAG",
                         help="Auftrags-ID des Klärfalls (aus „sync conflicts“)")
    resolve.add_argument("decision", choices=("local", "central"),
                         help="local: die Fassung dieses Arbeitsplatzes gilt; central: die "
                              "der Zentrale")

    central = sub.add_parser("central", help="Zentraler Dienst (Referenz)")
    central_sub = central.add_subparsers(dest="central_command", required=True)
    serve = central_sub.add_parser("serve", help="Zentralen Dienst starten")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADRESSE",
                       help="Adresse, an der der Dienst erreichbar ist (Standard: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, metavar="PORT",
                       help="Port (Standard: 8765)")
    _database(serve)
    serve.add_argument("--tls-cert", metavar="DATEI",
                       help="Zertifikat (PEM); Pflicht außer auf 127.0.0.1")
    serve.add_argument("--tls-key", metavar="DATEI", help="privater Schlüssel zum Zertifikat (PEM)")
    serve.add_argument("--update-notice", type=Path, metavar="DATEI",
                       help="signierte Update-Mitteilung (JSON), unter /update-notice.json "
                            "veröffentlicht")
    seed = central_sub.add_parser("seed", help="Demo-Melderegister in die Zentrale laden")
    _database(seed)
    seed.add_argument("--residents", type=resident_count, default=None, metavar="ANZAHL",
                      help="Zahl der erfundenen Einwohner (Vorgabe: demo_residents)")
    seed.add_argument("--seed", type=int, default=91379, metavar="ZAHL",
                      help="Startwert des Zufalls: gleicher Wert, gleiches Register")
    code = central_sub.add_parser("enrol-code", help="Einmal-Anmeldecode für einen "
                                                     "Arbeitsplatz ausgeben")
    _database(code)
    code.add_argument("--device", required=True, metavar="NAME", help="Name des Arbeitsplatzes")
    _add_clerk_commands(central_sub)
    portal = central_sub.add_parser("portal-token", help="Zugangsschlüssel für ein Antragsportal "
                                                         "ausgeben")
    _database(portal)
    portal.add_argument("name", metavar="NAME", help="Name des Portals")
    rollover = central_sub.add_parser("intake-key-rollover",
                                      help="Neuen Verschlüsselungsschlüssel des Posteingangs "
                                           "veröffentlichen (alte Anträge bleiben lesbar)")
    _database(rollover)
    alerts = central_sub.add_parser("access-log-alerts",
                                    help="Befunde der Prüfung der Zugriffsprotokolle "
                                         "(Lücken, Brüche) für den Datenschutz")
    _database(alerts)
    keys = central_sub.add_parser("office-keys", help="Siegelschlüssel der Bürgerbüros: "
                                                      "auflisten, wechseln, widerrufen, "
                                                      "Prüfseite exportieren")
    _database(keys)
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("list", help="alle Schlüssel mit Gültigkeit (JSON)")
    rotate = keys_sub.add_parser("rotate", help="neuen Schlüssel für ein Bürgerbüro; der alte "
                                                "gilt für bisherige Dokumente weiter")
    rotate.add_argument("--office", metavar="DIENSTSTELLE",
                        help="Dienststelle (Standard: office_id)")
    rotate.add_argument("--name", metavar="NAME",
                        help="Name des Bürgerbüros (Standard: office_name)")
    key_revoke = keys_sub.add_parser("revoke", help="Schlüssel widerrufen: Siegel ab dem Tag des "
                                                "Widerrufs sind ungültig")
    key_revoke.add_argument("key_id", metavar="SCHLÜSSEL-ID", help="der zu widerrufende "
                                                                    "Schlüssel")
    key_revoke.add_argument("--at", metavar="ZEITPUNKT",
                            help="Zeitpunkt des Widerrufs (ISO 8601, Standard: jetzt)")
    export = keys_sub.add_parser("export-page", help="Prüfseite und Schlüsselliste für einen "
                                                     "statischen Webserver schreiben")
    export.add_argument("folder", type=Path, metavar="ORDNER", help="Zielordner")
    devices = central_sub.add_parser("devices", help="Angemeldete Arbeitsplätze auflisten")
    _database(devices)
    devices.add_argument("--json", action="store_true", help="als JSON ausgeben")
    revoke = central_sub.add_parser("revoke-device", help="Einen Arbeitsplatz (verloren, "
                                                          "gestohlen) aus dem Abgleich nehmen")
    _database(revoke)
    revoke.add_argument("name", metavar="NAME", help="Name oder Geräte-ID des Arbeitsplatzes")
    return {"sync": _sync, "central": _central}


def _add_clerk_commands(central_sub: Any) -> None:
    clerks = central_sub.add_parser("clerks", help="Konten der Sachbearbeitung verwalten")
    _database(clerks)
    sub = clerks.add_subparsers(dest="clerks_command", required=True)
    add = sub.add_parser("add", help="Konto anlegen (gibt ein Einmal-Passwort aus)")
    add.add_argument("login", metavar="ANMELDENAME")
    add.add_argument("--name", required=True, metavar="NAME",
                     help="Name, wie er auf Dokumenten steht")
    add.add_argument("--roles", required=True, type=_role_list, metavar="ROLLEN",
                     help="Rollen, durch Komma getrennt (z. B. sachbearbeitung,kasse)")
    add.add_argument("--secrecy-date", type=_day, metavar="DATUM",
                     help="Tag der Verpflichtung auf das Datengeheimnis (§ 7 BMG), JJJJ-MM-TT")
    for name, text in (("disable", "Konto deaktivieren"), ("enable", "Konto aktivieren"),
                       ("reset", "Neues Einmal-Passwort, Sperre aufheben")):
        sub.add_parser(name, help=text).add_argument("login", metavar="ANMELDENAME")
    roles = sub.add_parser("roles", help="Rollen eines Kontos setzen")
    roles.add_argument("login", metavar="ANMELDENAME")
    roles.add_argument("roles", type=_role_list, metavar="ROLLEN",
                       help="Rollen, durch Komma getrennt")
    secrecy = sub.add_parser("secrecy", help="Tag der Verpflichtung auf das Datengeheimnis")
    secrecy.add_argument("login", metavar="ANMELDENAME")
    secrecy.add_argument("date", type=_day, metavar="DATUM", help="JJJJ-MM-TT")
    sub.add_parser("list", help="Konten auflisten (JSON)")


def _database(parser: Any) -> None:
    """`--database` of the central service's commands."""
    parser.add_argument("--database", metavar="URL",
                        help="postgresql://… oder sqlite:///pfad (Standard: central_database, "
                             "sonst eine SQLite-Datei)")


def _role_list(text: str) -> list[str]:
    return [r.strip().lower() for r in text.split(",") if r.strip()]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"„{text}“ ist kein Datum (JJJJ-MM-TT)") from exc


# --- workstation ---------------------------------------------------------------------------

def _sync(cfg: Config, args: argparse.Namespace) -> int:
    from clerk_app.clerks import system_actor
    from clerk_app.command_line import cli_actor
    from clerk_app.store.opening import open_register
    from sync import engine, state

    if args.sync_command == "enrol":
        return _enrol(cfg, args.code)
    # A Klärfall is decided by a logged-in clerk; the rest is the sync's own bookkeeping. The
    # sync (and its status) opens the register after the offline lease ran out too: that is
    # how the lease is renewed. Klärfälle are the clerk's work: not without the centre.
    actor = cli_actor(cfg) if args.sync_command == "resolve" else \
        system_actor("sync", cfg.workstation)
    with open_register(cfg, actor, for_sync=args.sync_command in (None, "status")) as store:
        if args.sync_command == "status":
            print(json.dumps(asdict(state.status(store)), ensure_ascii=False, indent=2))
            return 0
        if args.sync_command == "conflicts":
            print(json.dumps(engine.open_conflicts(store), ensure_ascii=False, indent=2))
            return 0
        if args.sync_command == "resolve":
            new_id = engine.resolve_conflict(store, args.command_id, args.decision)
            print(f"Entscheidung als Auftrag {new_id} gespeichert; sie wird beim nächsten "
                  "Abgleich übertragen.")
            return 0
        return _run_sync(cfg, store, once=args.once)


def _run_sync(cfg: Config, store: Any, *, once: bool) -> int:
    from clerk_app.withdrawal import WITHDRAWN_DE
    from sync.central_connection import connect, withdraw_on_revocation
    from sync.central_errors import CentralRefused, CentralUnavailable, DeviceRevoked
    from sync.engine import SyncEngine
    from sync.office_key_exchange import receive_office_keys
    from sync.schedule import Backoff

    backoff = Backoff(interval=float(cfg.sync_interval))
    while True:
        try:
            client = connect(cfg)
            try:
                report = SyncEngine.for_workstation(cfg, store, client).sync_once()
                _check_update(cfg, store, client)
                receive_office_keys(cfg, client, store)
            finally:
                client.close()
            print(report.summary_en(), flush=True)
            for warning in report.warnings:
                print(f"Warnung: {warning}", file=sys.stderr)
            delay = backoff.succeeded()
            problem = report.problem_de()
            if problem:
                print(f"Fehler: {problem}", file=sys.stderr)
            if once:
                return EXIT_LOCAL_FAILURE if problem else 0
        except CentralUnavailable as exc:
            log.warning("sync failed: %s", exc.message_en)
            print(f"Fehler: {exc.message_de}", file=sys.stderr)
            if once:
                return EXIT_UNAVAILABLE
            delay = backoff.failed()
        except DeviceRevoked:
            store.close()
            withdraw_on_revocation(cfg)
            print(f"Fehler: {WITHDRAWN_DE}", file=sys.stderr)
            return EXIT_WITHDRAWN
        except CentralRefused as exc:
            log.error("sync refused: %s", exc.message_en)
            print(f"Fehler: {exc.message_de}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        except (ConfigError, KeyStoreError):
            raise  # set-up, not the sync: the command line says it in German, exit code 2
        except Exception:
            log.exception("sync failed on this workstation")
            print(f"Fehler: {UNEXPECTED_DE}", file=sys.stderr)
            if once:
                return EXIT_LOCAL_FAILURE
            delay = backoff.failed()
        time.sleep(delay)


def _check_update(cfg: Config, store: Any, client: Any) -> None:
    """A due update is said on standard error (IT's scripts see it), never installed."""
    from sync.update_notice import check_at_sync

    if notice := check_at_sync(cfg, store, client):
        print(f"Hinweis: {notice.text_de()} ({notice.url})", file=sys.stderr)


def _enrol(cfg: Config, code: str) -> int:
    """Enrol this workstation; in production also make its register and fill it.

    Everything that can be checked locally is checked before the one-time code is used: a
    locked or missing keyring, or a register whose key is gone, stops here with its message
    and the code still valid. The token is saved before the register is made, so a register
    never exists on a workstation that could not be enrolled.
    """
    from clerk_app.store.workstation import (
        RegisterState,
        create_register,
        not_ready,
        register_state,
    )
    from sync.central_connection import require_url
    from sync.client import CentralClient
    from sync.credentials import save_token

    url = require_url(cfg)
    if not cfg.is_demo:
        state = register_state(cfg)
        if state is RegisterState.REGISTER_WITHOUT_KEY:
            raise not_ready(cfg, state)
    client = CentralClient(url, ca_bundle=cfg.ca_bundle or None)
    try:
        answer = client.enrol(code, cfg.workstation)
    finally:
        client.close()
    save_token(cfg, answer.token)
    print(f"Arbeitsplatz „{cfg.workstation}“ ist bei der Zentrale angemeldet "
          f"(Gerät {answer.device_id}).", flush=True)
    if cfg.is_demo:
        if _receive_seal_key(cfg, answer.token) is not None:
            print("Warnung: Der Siegelschlüssel des Bürgerbüros kam nicht an; er wird beim "
                  "nächsten Abgleich abgeholt.", file=sys.stderr)
        return 0
    with create_register(cfg) as store:
        print(f"Melderegister {cfg.register_path} ist eingerichtet; erster Abgleich …",
              flush=True)
        if _run_sync(cfg, store, once=True) != 0:
            print("Der erste Abgleich ist nicht gelungen; das Melderegister ist noch leer. "
                  "„clerk-app sync --once“ wiederholen, sobald die Zentrale erreichbar ist.",
                  file=sys.stderr)
            return 1
    return 0


def _receive_seal_key(cfg: Config, token: str) -> str | None:
    """The office's seal key and key list, right after enrolment (see
    `sync.office_key_exchange`); None if received, else why not."""
    from clerk_app.clerks import system_actor
    from clerk_app.store.opening import open_register
    from sync.central_connection import require_url
    from sync.client import CentralClient
    from sync.office_key_exchange import receive_office_keys

    client = CentralClient(require_url(cfg), token, ca_bundle=cfg.ca_bundle or None)
    try:
        with open_register(cfg, system_actor("enrolment", cfg.workstation)) as store:
            return receive_office_keys(cfg, client, store)
    except ClerkError as exc:  # no register yet: the first sync fetches the key
        return exc.message_en
    finally:
        client.close()


# --- central service -------------------------------------------------------------------------

def database_url(cfg: Config, given: str | None) -> str:
    if given:
        return given
    if cfg.central_database:
        return cfg.central_database
    return f"sqlite:///{Path(cfg.data_dir) / 'central' / 'central.db'}"


def _require_central_packages() -> None:
    """Refuse, naming the extra to install, where the central service's packages are missing:
    a workstation's `pip install .` and the counter bundle leave them out."""
    # The counter bundle leaves out sync.server itself, too.
    missing = [name for name in ("sync.server", *CENTRAL_PACKAGES)
               if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            "Der zentrale Dienst ist in dieser Installation nicht enthalten. Er braucht die "
            "Zusatzpakete für die Zentrale; bitte auf dem Server installieren mit: "
            'pip install "clerk-app[central]"',
            f"central service packages missing: {', '.join(missing)}")


def _central(cfg: Config, args: argparse.Namespace) -> int:
    _require_central_packages()
    from sync.server.central import Central
    from sync.server.storage import open_database

    url = database_url(cfg, args.database)
    if args.central_command == "serve":
        _check_tls(args.host, args.tls_cert, args.tls_key)
    try:
        db = open_database(url, _database_key(cfg, url))
    except ValueError as exc:
        raise ConfigError(f"Die Datenbankadresse „{url}“ ist ungültig.", str(exc)) from exc
    try:
        from clerk_app.queue.configuration import load_queue_config

        central = Central(db, load_queue_config(cfg.queue_file))
        if args.central_command == "enrol-code":
            print(central.issue_enrolment_code(args.device))
            return 0
        if args.central_command == "clerks":
            return _clerks(central, args)
        if args.central_command == "access-log-alerts":
            print(json.dumps(central.access_log_alerts(), ensure_ascii=False, indent=2))
            return 0
        if args.central_command == "office-keys":
            return _office_keys(cfg, central, args)
        if args.central_command in ("portal-token", "intake-key-rollover"):
            return _intake(cfg, central, args)
        if args.central_command == "devices":
            return _devices(central, as_json=args.json)
        if args.central_command == "revoke-device":
            return _revoke(central, args.name)
        if args.central_command == "seed":
            from sync.server.seed import seed_demo

            count = seed_demo(central, args.residents or cfg.demo_residents, args.seed)
            print(f"{count} Datensätze in die Zentrale geladen.")
            return 0
        return _serve(central, cfg, args)
    finally:
        db.close()


def _clerks(central: Any, args: argparse.Namespace) -> int:
    from sync.server.central import CentralError
    from sync.server.clerk_accounts import ClerkAccounts

    accounts = ClerkAccounts(central.db)
    command = args.clerks_command
    try:
        if command == "list":
            print(json.dumps([a.to_dict() for a in accounts.accounts()], ensure_ascii=False,
                             indent=2))
            return 0
        password = accounts.administer(
            command, args.login, getattr(args, "name", None), getattr(args, "roles", None),
            getattr(args, "secrecy_date", None) or getattr(args, "date", None))
    except CentralError as exc:
        print(f"Fehler: {exc.message_de}", file=sys.stderr)
        return 2
    print(f"Konto „{args.login}“: {DONE_DE[command]}.")
    if password:
        print(f"Einmal-Passwort (bei der ersten Anmeldung zu ändern): {password}")
    if command == "add" and args.secrecy_date is None:
        print("Hinweis: Anmeldung erst nach Eintrag der Verpflichtung auf das Datengeheimnis "
              "(„clerks secrecy“).")
    return 0


DONE_DE = {"add": "angelegt", "disable": "deaktiviert", "enable": "aktiviert",
           "reset": "zurückgesetzt, Sperre aufgehoben", "roles": "Rollen gesetzt",
           "secrecy": "Verpflichtung auf das Datengeheimnis eingetragen"}


def _office_keys(cfg: Config, central: Any, args: argparse.Namespace) -> int:
    """`clerk-app central office-keys …`: the office seal keys' life cycle, for IT."""
    from datetime import datetime

    from sync.server.office_keys import OfficeKeys, UnknownKey

    keys = OfficeKeys(central.db)
    if args.keys_command == "list":
        print(json.dumps([k.to_dict() for k in keys.all()], ensure_ascii=False, indent=2))
    elif args.keys_command == "rotate":
        entry = keys.rotate(args.office or cfg.office_id, args.name or cfg.office_name)
        print(f"Neuer Siegelschlüssel {entry.key_id} für {entry.office_id}; die Arbeitsplätze "
              "erhalten ihn beim nächsten Abgleich.")
    elif args.keys_command == "revoke":
        try:
            at = datetime.fromisoformat(args.at) if args.at else None
        except ValueError as exc:
            raise ConfigError(f"„{args.at}“ ist kein Zeitpunkt (ISO 8601).", str(exc)) from exc
        try:
            entry = keys.revoke(args.key_id, at)
        except UnknownKey as exc:
            raise ConfigError(f"Einen Siegelschlüssel {args.key_id} gibt es nicht.",
                              f"unknown office key {args.key_id}") from exc
        print(f"Siegelschlüssel {entry.key_id} widerrufen ab {entry.to_dict()['revoked_at']}.")
    else:
        for path in keys.export_page(args.folder):
            print(path)
    return 0


def _database_key(cfg: Config, url: str) -> str | None:
    """The embedded database's key (keyring, key file or environment); None for PostgreSQL."""
    from clerk_app.keys import central_key
    from sync.server.storage import sqlite_path

    path = sqlite_path(url)
    return central_key(cfg, path) if path is not None else None


def _devices(central: Any, *, as_json: bool) -> int:
    devices = central.devices()
    if as_json:
        print(json.dumps([d.model_dump() for d in devices], ensure_ascii=False, indent=2))
        return 0
    print(f"{'Arbeitsplatz':<24} {'letzter Kontakt':<26} {'offen':>5}  Status")
    for d in devices:
        state = f"entzogen {d.revoked_at[:16]}" if d.revoked_at else "aktiv"
        print(f"{d.name[:24]:<24} {(d.last_contact or 'nie')[:26]:<26} {d.pending:>5}  {state}")
    return 0


def _revoke(central: Any, name: str) -> int:
    count = central.revoke_device(name)
    if not count:
        print(f"Fehler: Kein aktiver Arbeitsplatz „{name}“ gefunden.", file=sys.stderr)
        return 2
    print(f"Arbeitsplatz „{name}“ aus dem Abgleich genommen ({count} Gerät(e)); er wird beim "
          "nächsten Kontakt gesperrt und löscht sein Melderegister.")
    return 0


def _check_tls(host: str, cert: str | None, key: str | None) -> None:
    if bool(cert) != bool(key):
        raise ConfigError("Für TLS werden Zertifikat und Schlüssel gebraucht.",
                          "--tls-cert and --tls-key go together")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not cert and not loopback:
        raise ConfigError("Ohne TLS nimmt der zentrale Dienst nur Verbindungen auf diesem Rechner "
                          "an (--host 127.0.0.1); sonst --tls-cert und --tls-key angeben.",
                          f"refusing plain HTTP on {host}")


def _intake_key_store(cfg: Config) -> Any:
    """The intake's private keys: IT's folder, the demo's folder in the data folder, or the
    OS keyring."""
    from sync.server.intake_keys import private_key_store

    if not cfg.intake_key_dir and cfg.is_demo:
        return private_key_store(str(cfg.data_path / "intake-keys"))
    return private_key_store(cfg.intake_key_dir)


def _intake(cfg: Config, central: Any, args: argparse.Namespace) -> int:
    from sync.server.intake import Intake
    from sync.server.intake_keys import IntakeKeys

    keys = IntakeKeys(central.db, _intake_key_store(cfg))
    if args.central_command == "portal-token":
        print(Intake(central.db, keys).issue_portal_token(args.name))
        return 0
    keys.ensure()
    print(f"Neuer Verschlüsselungsschlüssel des Posteingangs: {keys.rollover()}")
    return 0


def _serve(central: Any, cfg: Config, args: argparse.Namespace) -> int:
    from sync.server.http_api import serve

    serve(central, host=args.host, port=args.port, tls_cert=args.tls_cert,
          tls_key=args.tls_key, update_notice=args.update_notice,
          max_body=cfg.central_max_body_kb * 1024,
          max_archive=cfg.central_max_archive_kb * 1024, docs=cfg.central_docs,
          booking_per_minute=cfg.central_booking_per_minute,
          intake_keys=_intake_key_store(cfg))
    return 0
