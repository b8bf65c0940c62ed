"""The `clerk-app` command: the app itself, and the headless tools for IT and scripts.

`clerk-app` with no sub-command starts the window; `search`, `demo-data`, `doctor` and
`verify-document` work without a screen. The command line is a thin layer: every sub-command
calls the core.

The core never imports the UI or the sync layer, so their sub-commands (`gui`; `sync` and
`central`) plug in through the entry-point group `clerk_app.commands`: each entry is a function
that adds its sub-parsers and returns a handler per command name.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from clerk_app import __version__
from clerk_app.cli_german import VERSION_HELP_DE, german_argparse, say_error
from clerk_app.config import Config, load_config, parse_override
from clerk_app.errors import ClerkError, ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from clerk_app.clerks import Actor
    from clerk_app.office_keys import KeyList
    from clerk_app.shown_document import Verdict

log = logging.getLogger(__name__)

Handler = Callable[[Config, argparse.Namespace], int]
PLUGIN_GROUP = "clerk_app.commands"


def resident_count(text: str) -> int:
    """`--residents N` (demo register, central seed): a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"„{text}“ ist keine Anzahl (ganze Zahl, 0 oder mehr)")
    return value


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(
        prog="clerk-app", description="Arbeitsplatz Bürgerbüro (Melderegister, Bescheinigungen).")
    parser.add_argument("--version", action="version", version=f"clerk-app {__version__}",
                        help=VERSION_HELP_DE)
    parser.add_argument("--set", action="append", default=[], metavar="SCHLÜSSEL=WERT",
                        help="Einstellung für diesen Aufruf überschreiben (z. B. mode=\"demo\")")
    parser.add_argument("--data-dir", metavar="ORDNER", help="Datenordner (überschreibt "
                                                             "data_dir)")
    sub = parser.add_subparsers(dest="command", title="Befehle", metavar="BEFEHL",
                                help="ohne Befehl startet das Programmfenster")
    handlers: dict[str, Handler] = {}
    for plugin in entry_points(group=PLUGIN_GROUP):
        handlers.update(plugin.load()(sub))
    search = sub.add_parser("search", help="Im Melderegister suchen")
    search.add_argument("query", metavar="SUCHE",
                        help="Name, Geburtsdatum (TT.MM.JJJJ) oder Straße Hausnummer")
    search.add_argument("--json", action="store_true", help="Treffer als JSON ausgeben")
    search.add_argument("--limit", type=int, default=50, metavar="ANZAHL",
                        help="höchstens so viele Treffer (Vorgabe: 50)")
    search.add_argument("--purpose", default="Suche über die Kommandozeile", metavar="ZWECK",
                        help="Zweck der Abfrage (wird protokolliert)")
    demo = sub.add_parser("demo-data", help="Demo-Melderegister (synthetisch) erzeugen")
    demo.add_argument("--residents", type=resident_count, default=None, metavar="ANZAHL",
                      help="Zahl der erfundenen Einwohner (Vorgabe: demo_residents)")
    demo.add_argument("--seed", type=int, default=91379, metavar="ZAHL",
                      help="Startwert des Zufalls: gleicher Wert, gleiches Register")
    demo.add_argument("--force", action="store_true", help="bestehendes Demo-Register ersetzen")
    access = sub.add_parser("access-log", help="Zugriffsprotokoll: Kette prüfen, Löschfrist")
    access.add_argument("action", choices=("verify", "retention"),
                        help="verify: Hash-Kette prüfen; retention: Einträge nach § 40 BMG "
                             "hinter einem signierten Prüfpunkt löschen")
    doctor = sub.add_parser("doctor", help="Selbsttest für die IT")
    doctor.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    verify = sub.add_parser("verify-document",
                            help="Elektronisches Siegel eines ausgestellten Dokuments prüfen")
    verify.add_argument("file", type=Path, metavar="DATEI",
                        help="das Dokument als PDF-Datei, oder ein Foto oder Scan der "
                             "gedruckten Seite (PNG, JPEG)")
    verify.add_argument("--public-key", metavar="SCHLÜSSEL",
                        help="öffentlicher Schlüssel des Bürgerbüros (64 Hexadezimalziffern) "
                             "oder eine Datei, die ihn enthält; sonst seal_public_key aus der "
                             "Konfiguration und die Schlüssel des Melderegisters")
    verify.add_argument("--key-list", type=Path, metavar="DATEI",
                        help="die von der Zentrale veröffentlichte Schlüsselliste "
                             "(office-keys.json); sonst die beim Abgleich erhaltene")
    verify.add_argument("--json", action="store_true", help="Ergebnis als JSON ausgeben")
    eakte = sub.add_parser("eakte", help="Abgeschlossene Online-Anträge an die e-Akte abgeben "
                                         "(xdomea 0401; täglich), Rückmeldung (0402) einlesen")
    eakte.add_argument("action", choices=("export", "reply"))
    eakte.add_argument("file", type=Path, nargs="?", metavar="DATEI",
                       help="die Rückmeldung des DMS (0402)")
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    with german_argparse():   # help and usage errors in German (argparse's own words too)
        parser, handlers = _parser()
        args = parser.parse_args(argv)
    try:
        overrides = dict(parse_override(s) for s in args.set)
        if args.data_dir:
            overrides["data_dir"] = args.data_dir
        cfg = load_config(overrides)
        from clerk_app.logs import setup_logging

        setup_logging(cfg.log_path, cfg.log_level)
        command = args.command or "gui"
        if command in handlers:
            return handlers[command](cfg, args)
        if command == "gui":
            say_error("Die Oberfläche ist nicht installiert (Paket „ui“ fehlt).")
            return 2
        if command == "search":
            return _search(cfg, args.query, args.limit, args.json, args.purpose, sys.stdout)
        if command == "demo-data":
            return _demo_data(cfg, args.residents, args.seed, args.force, sys.stdout)
        if command == "access-log":
            return _access_log(cfg, args.action, sys.stdout)
        if command == "eakte":
            return _eakte(cfg, args.action, args.file, sys.stdout)
        if command == "verify-document":
            return _verify_document(cfg, args.file, args.public_key, args.key_list, args.json,
                                    sys.stdout, sys.stderr)
        return _doctor(cfg, args.json, sys.stdout)
    except ClerkError as exc:
        log.error("%s", exc.message_en)
        say_error(exc.message_de)
        return 2


def cli_actor(cfg: Config) -> Actor:
    """The clerk a command-line call works as: in demo mode the demo clerk; in production
    the clerk who logs in here (name and password asked on the terminal). Never the
    operating system's user name or anything else from the environment."""
    from clerk_app.clerks import demo_actor, system_actor
    from clerk_app.login import log_in
    from clerk_app.store.opening import open_register

    if cfg.is_demo:
        return demo_actor(cfg.workstation)
    # The register first: a workstation not set up, withdrawn or past its offline lease says
    # so before anyone types a password.
    with open_register(cfg, system_actor("login", cfg.workstation)) as store:
        try:
            login = input("Anmeldename: ")
            password = getpass.getpass("Passwort: ")
        except EOFError as exc:
            raise ClerkError("Anmeldung abgebrochen: Anmeldename und Passwort werden "
                             "gebraucht.", "command-line login aborted (no input)") from exc
        session = log_in(cfg, store, login, password)
    if session.must_change_password:
        raise ClerkError("Bitte zuerst in der Anwendung ein neues Passwort festlegen.",
                         "password change due before command-line use")
    return session.actor


def _search(cfg: Config, query: str, limit: int, as_json: bool, purpose: str,
            out: TextIO) -> int:
    from clerk_app.search import record_shown, search
    from clerk_app.store.opening import open_register

    with open_register(cfg, cli_actor(cfg)) as store:
        hits = search(store, query, limit=limit)
        record_shown(store, hits, purpose)
    if as_json:
        json.dump([{"id": h.id, "family_name": h.family_name, "first_names": h.first_names,
                    "doctorate": h.doctorate,
                    "birth_date": h.birth_date.isoformat() if h.birth_date else None,
                    "address": h.address, "information_block": h.blocked} for h in hits],
                  out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    for h in hits:
        born = h.birth_date.strftime("%d.%m.%Y") if h.birth_date else "—"
        block = "  [AUSKUNFTSSPERRE]" if h.blocked else ""
        out.write(f"{h.display_name}  *{born}  {h.address}{block}\n")
    out.write(f"{len(hits)} Treffer\n")
    return 0


def _access_log(cfg: Config, action: str, out: TextIO) -> int:
    """Check the access log's hash chain (exit 1 if it does not hold), or apply the
    retention of § 40 BMG: a system task of the workstation, signed with the office seal."""
    from datetime import date

    from clerk_app.access_chain import apply_retention, verify
    from clerk_app.clerks import system_actor
    from clerk_app.office_seal import office_seal
    from clerk_app.seal import public_keys
    from clerk_app.store.opening import open_register

    with open_register(cfg, system_actor("access-log", cfg.workstation)) as store:
        if action == "retention":
            deleted = apply_retention(store, office_seal(cfg, store), date.today())
            out.write(f"{deleted} Einträge nach Ablauf der Frist gelöscht (signierter "
                      "Prüfpunkt gesetzt).\n")
            return 0
        problems = verify(store, public_keys(cfg, store))
    for problem in problems:
        out.write(f"[FEHLER] Eintrag {problem.entry_id}: {problem.kind} ({problem.detail})\n")
    out.write("Zugriffsprotokoll: Kette intakt.\n" if not problems else
              f"Zugriffsprotokoll: {len(problems)} Befund(e).\n")
    return 1 if problems else 0


def _eakte(cfg: Config, action: str, reply: Path | None, out: TextIO) -> int:
    """The daily hand-over to the e-Akte (a system task, like the access log's retention),
    or reading the DMS's import confirmation."""
    from datetime import UTC, datetime

    from clerk_app import xdomea
    from clerk_app.clerks import system_actor
    from clerk_app.store.opening import open_register

    with open_register(cfg, system_actor("eakte", cfg.workstation)) as store:
        if action == "reply":
            if reply is None:
                raise ClerkError("Bitte die Rückmeldung des DMS (Datei) angeben.",
                                 "eakte reply without a file")
            answer = xdomea.read_reply(store, reply)
            out.write(f"{answer.filed} Vorgänge abgelegt, {len(answer.errors)} mit Fehler, "
                      f"{answer.unknown} unbekannt.\n")
            return 1 if answer.errors else 0
        path = xdomea.export_cases(
            store, Path(cfg.eakte_folder) if cfg.eakte_folder else cfg.data_path / "eakte",
            xdomea.Parties(cfg.city_name, cfg.office_name, cfg.eakte_receiver),
            datetime.now(UTC))
    out.write(f"Abgabe geschrieben: {path}\n" if path else "Nichts abzugeben.\n")
    return 0


def _demo_data(cfg: Config, residents: int | None, seed: int, force: bool, out: TextIO) -> int:
    from clerk_app.demo.build import build_demo_register
    from clerk_app.store.opening import open_register, remove_demo_register

    if not cfg.is_demo:
        say_error("Demodaten werden nur im Demomodus erzeugt (mode = \"demo\"); "
                  "das echte Melderegister bleibt unberührt.")
        return 2
    if cfg.register_path.exists():
        if not force:
            say_error(f"{cfg.register_path} besteht bereits (--force ersetzt es).")
            return 2
        remove_demo_register(cfg)
    with open_register(cfg, create=True) as store:
        summary = build_demo_register(store, residents or cfg.demo_residents, seed=seed)
    out.write(f"Demo-Melderegister {cfg.register_path}: {summary}\n")
    return 0


def _doctor(cfg: Config, as_json: bool, out: TextIO) -> int:
    from clerk_app.office_seal import seal_check
    from clerk_app.self_test import run_checks

    checks = [*run_checks(cfg), seal_check(cfg)]
    if as_json:
        json.dump([{**c.__dict__, "label": c.label} for c in checks], out, ensure_ascii=False,
                  indent=2)
        out.write("\n")
    else:
        for c in checks:
            label = "FEHLER" if not c.ok else "WARNUNG" if c.warning else "OK"
            out.write(f"[{label}] {c.label}: {c.detail}\n")
        failed = sum(not c.ok for c in checks)
        warned = sum(c.ok and c.warning for c in checks)
        out.write(f"{len(checks) - failed} Prüfungen bestanden ({warned} mit Warnung), "
                  f"{failed} fehlgeschlagen\n")
    return 1 if any(not c.ok for c in checks) else 0


def _verify_document(cfg: Config, path: Path, public_key: str | None, key_list: Path | None,
                     as_json: bool, out: TextIO, err: TextIO) -> int:
    """Check a document as its reader sees it and say what it certifies (on `out`; what
    disagrees on `err`).

    The QR code is read off the rendered page (or a photo or scan of it), its seal checked,
    and the certified values compared with the page's text and the PDF's metadata (see
    `clerk_app.shown_document`). Exit 0: page, code and seal agree. Exit 1: no seal, a changed
    or foreign seal, a page or metadata that disagrees, or an unreadable file. Exit 2:
    nothing to check with (file missing, no public key).
    """
    from clerk_app.errors import ValidationError
    from clerk_app.shown_document import Verdict, check_file

    if not path.is_file():
        say_error(f"Die Datei {path} wurde nicht gefunden.")
        return 2
    keys, listed = _verification_keys(cfg, public_key, key_list)
    if not keys:
        say_error("Kein öffentlicher Schlüssel zum Prüfen vorhanden. Bitte --public-key "
                  "angeben oder „seal_public_key“ in der Konfiguration setzen (Aufgabe der IT).")
        return 2
    try:
        verdict = check_file(path, keys, listed)
    except ValidationError as exc:
        verdict = Verdict(None, (exc.message_de,), False)
    if not verdict.valid:
        log.warning("document check failed: %d disagreement(s)", len(verdict.problems))
    if as_json:
        result = verdict.document.to_dict() if verdict.document else {}
        json.dump({**result, "valid": verdict.valid, "file": str(path),
                   "text_compared": verdict.text_compared,
                   "disagreements": list(verdict.problems),
                   **({"error": verdict.problems[0]} if verdict.problems else {})},
                  out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _print_verdict(verdict, out, err)
    return 0 if verdict.valid else 1


def _print_verdict(verdict: Verdict, out: TextIO, err: TextIO) -> None:
    """The verdict in German: what the seal certifies on `out`, what disagrees on `err`."""
    from clerk_app.seal import describe_de

    if verdict.valid:
        out.write("Siegel gültig. Das Bürgerbüro hat bescheinigt:\n")
    elif verdict.document is not None:
        err.write("UNGÜLTIG: Seite und Siegel stimmen nicht überein. Das Dokument darf nicht "
                  "als echt gelten.\n")
        out.write("Das Siegel selbst bescheinigt:\n")
    if verdict.document is not None:
        lines = describe_de(verdict.document)
        width = max(len(label) for label, _ in lines) + 1
        for label, value in lines:
            out.write(f"  {label + ':':<{width}} {value}\n")
    if not verdict.valid:
        if verdict.document is None:
            err.write(f"UNGÜLTIG: {verdict.problems[0]}\n")
        else:
            err.write("Abweichungen:\n" + "".join(f"  - {p}\n" for p in verdict.problems))
        return
    if verdict.text_compared:
        out.write("Der Text der Seite stimmt mit diesen Angaben überein.\n")
    else:
        out.write("Vom Foto wird nur der Prüfcode gelesen: bitte Namen, Daten und Nummer mit "
                  "dem Papier vergleichen.\n")
    out.write("Bitte diese Angaben mit dem Ausdruck vergleichen: das Siegel bestätigt nur "
              "sie.\n")


def _verification_keys(cfg: Config, public_key: str | None, key_list: Path | None,
                       ) -> tuple[list[Ed25519PublicKey], KeyList | None]:
    """The keys to check with, and the centre's key list with their life cycle.

    `--public-key` (a key or a file holding one) alone, if given. Otherwise every key of the
    key list (`--key-list`, checked against IT's `office_key_list_key` or the list key pinned
    in the register; else the list received at the last sync), the configured key and every
    key the register knows (if it can be opened).
    """
    from clerk_app.office_keys import pinned_list_key, read_list, stored_list
    from clerk_app.seal import parse_public_key, public_keys

    if public_key:
        candidate = Path(public_key)
        text = candidate.read_text(encoding="utf-8") if candidate.is_file() else public_key
        return [parse_public_key(text)], None
    keys = public_keys(cfg)
    listed = None
    pinned = parse_public_key(cfg.office_key_list_key) if cfg.office_key_list_key else None
    if cfg.register_path.exists():
        from clerk_app.clerks import system_actor
        from clerk_app.store.opening import open_register

        try:
            with open_register(cfg, system_actor("verify-document", cfg.workstation)) as store:
                keys = public_keys(cfg, store)
                listed = stored_list(store)
                pinned = pinned or pinned_list_key(store)
        except ClerkError as exc:
            log.info("register not usable for seal keys: %s", exc.message_en)
    if key_list is not None:
        if pinned is None:
            raise ConfigError("Für die Schlüsselliste fehlt der Listenschlüssel der Zentrale "
                              "(„office_key_list_key“ in der Konfiguration, Aufgabe der IT).",
                              "--key-list given but no office_key_list_key to check it with")
        listed = read_list(key_list.read_text(encoding="utf-8"), pinned)
    if listed is not None:
        keys = {**listed.public_keys(), **keys}
    return list(keys.values()), listed
