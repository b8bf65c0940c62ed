"""`clerk-app queue …`: the waiting room's headless tools for IT.

`queue stats --from --to [--location] [--output]` writes the statistics as CSV (from this
workstation's register); `queue anonymise` erases names and contact data of visits past the
retention period (IT schedules it daily). Plugged in through the entry-point group
`clerk_app.commands` like the sync's and the window's sub-commands.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from clerk_app.config import Config
from clerk_app.errors import ValidationError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"„{text}“ ist kein Datum (JJJJ-MM-TT)") from exc


def add_commands(sub: Any) -> dict[str, Any]:
    queue = sub.add_parser("queue", help="Warteschlange: Statistik als CSV, Anonymisierung")
    actions = queue.add_subparsers(dest="queue_command", required=True)
    stats = actions.add_parser("stats", help="Statistik eines Zeitraums als CSV")
    stats.add_argument("--from", dest="first", type=_day, required=True, metavar="JJJJ-MM-TT")
    stats.add_argument("--to", dest="last", type=_day, required=True, metavar="JJJJ-MM-TT")
    stats.add_argument("--location", metavar="STANDORT", help="nur dieser Standort (Code)")
    stats.add_argument("--output", type=Path, metavar="DATEI",
                       help="CSV-Datei (sonst Standardausgabe)")
    actions.add_parser("anonymise", help="Namen und Kontaktdaten alter Besuche löschen")
    return {"queue": run}


def run(cfg: Config, args: argparse.Namespace) -> int:
    from clerk_app.clerks import system_actor
    from clerk_app.queue.anonymise import anonymise_local
    from clerk_app.queue.configuration import load_queue_config
    from clerk_app.queue.statistics import compute, local_visits, to_csv
    from clerk_app.store.opening import open_register

    config = load_queue_config(cfg.queue_file)
    with open_register(cfg, system_actor("queue", cfg.workstation)) as store:
        if args.queue_command == "anonymise":
            count = anonymise_local(store, config, date.today())
            sys.stdout.write(f"{count} Besuche anonymisiert (älter als "
                             f"{config.settings.anonymise_after_days} Tage).\n")
            return 0
        if args.last < args.first:
            raise ValidationError("Das Ende des Zeitraums liegt vor seinem Anfang.",
                                  "stats period reversed")
        text = to_csv(compute(local_visits(store, args.first, args.last, args.location),
                              config, args.first, args.last))
    if args.output:
        args.output.write_text(text, encoding="utf-8-sig")  # a BOM: spreadsheets see UTF-8
    else:
        sys.stdout.write(text)
    return 0
