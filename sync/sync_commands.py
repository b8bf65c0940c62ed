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
import ipaddress
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from clerk_app.command_line import resident_count
from clerk_app.config import Config
from clerk_app.errors import ConfigError, KeyStoreError

log = logging.getLogger(__name__)

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
    enrol.add_argument("code")
    sync_sub.add_parser("status", help="Stand des Abgleichs")
    sync_sub.add_parser("conflicts", help="Offene Klärfälle auflisten (JSON)")
    resolve = sync_sub.add_parser("resolve", help="Klärfall entscheiden")
    resolve.add_argument("command_id")
    resolve.add_argument("decision", choices=("local", "central"))

    central = sub.add_parser("central", help="Zentraler Dienst (Referenz)")
    central_sub = central.add_subparsers(dest="central_command", required=True)
    serve = central_sub.add_parser("serve", help="Zentralen Dienst starten")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--database", help="postgresql://… oder sqlite:///pfad "
                                          "(Standard: central_database, sonst SQLite)")
    serve.add_argument("--tls-cert", help="Zertifikat (PEM); Pflicht außer auf 127.0.0.1")
    serve.add_argument("--tls-key", help="privater Schlüssel zum Zertifikat (PEM)")
    seed = central_sub.add_parser("seed", help="Demo-Melderegister in die Zentrale laden")
    seed.add_argument("--database")
    seed.add_argument("--residents", type=resident_count, default=None)
    seed.add_argument("--seed", type=int, default=91379)
    code = central_sub.add_parser("enrol-code", help="Einmal-Anmeldecode für einen "
                                                     "Arbeitsplatz ausgeben")
    code.add_argument("--database")
    code.add_argument("--device", required=True, help="Name des Arbeitsplatzes")
    return {"sync": _sync, "central": _central}


# --- workstation ---------------------------------------------------------------------------

def _sync(cfg: Config, args: argparse.Namespace) -> int:
    from clerk_app.store.opening import open_register
    from sync import engine, state

    if args.sync_command == "enrol":
        return _enrol(cfg, args.code)
    # The sync (and its status) opens the register after the offline lease ran out too: that
    # is how the lease is renewed. Klärfälle are the clerk's work: not without the centre.
    with open_register(cfg, for_sync=args.sync_command in (None, "status")) as store:
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
    from sync.schedule import Backoff

    backoff = Backoff(interval=float(cfg.sync_interval))
    while True:
        try:
            client = connect(cfg)
            try:
                report = SyncEngine(store, client).sync_once()
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


def _enrol(cfg: Config, code: str) -> int:
    from sync.central_connection import require_url
    from sync.client import CentralClient
    from sync.credentials import save_token

    client = CentralClient(require_url(cfg), ca_bundle=cfg.ca_bundle or None)
    try:
        answer = client.enrol(code, cfg.workstation)
    finally:
        client.close()
    save_token(cfg, answer.token)
    print(f"Arbeitsplatz „{cfg.workstation}“ ist bei der Zentrale angemeldet "
          f"(Gerät {answer.device_id}).")
    return 0


# --- central service -------------------------------------------------------------------------

def database_url(cfg: Config, given: str | None) -> str:
    if given:
        return given
    if cfg.central_database:
        return cfg.central_database
    return f"sqlite:///{Path(cfg.data_dir) / 'central' / 'central.db'}"


def _central(cfg: Config, args: argparse.Namespace) -> int:
    try:
        from sync.server.central import Central
        from sync.server.storage import open_database
    except ImportError as exc:  # the counter bundle leaves the central service out
        raise ConfigError("Der zentrale Dienst ist in dieser Installation nicht enthalten; er "
                          "wird aus dem Python-Paket auf dem Server betrieben.",
                          f"central service not installed: {exc}") from exc

    url = database_url(cfg, args.database)
    if args.central_command == "serve":
        _check_tls(args.host, args.tls_cert, args.tls_key)
    try:
        db = open_database(url)
    except ValueError as exc:
        raise ConfigError(f"Die Datenbankadresse „{url}“ ist ungültig.", str(exc)) from exc
    try:
        central = Central(db)
        if args.central_command == "enrol-code":
            print(central.issue_enrolment_code(args.device))
            return 0
        if args.central_command == "seed":
            from sync.server.seed import seed_demo

            count = seed_demo(central, args.residents or cfg.demo_residents, args.seed)
            print(f"{count} Datensätze in die Zentrale geladen.")
            return 0
        return _serve(central, args)
    finally:
        db.close()


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


def _serve(central: Any, args: argparse.Namespace) -> int:
    import uvicorn

    from sync.server.http_api import create_app

    uvicorn.run(create_app(central), host=args.host, port=args.port,
                ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key, log_level="warning",
                access_log=False)  # URLs name document numbers; no access log
    return 0
