"""The `gui` sub-command of `clerk-app`, plugged in through the `clerk_app.commands` entry point.

Kept free of Qt imports: the headless commands load this module too, and must not pay for Qt.
"""

from __future__ import annotations

import argparse
from typing import Any

from clerk_app.config import Config


def _run_gui(cfg: Config, _args: argparse.Namespace) -> int:
    from ui.start_window import run

    return int(run(cfg))


def _run_display(cfg: Config, args: argparse.Namespace) -> int:
    from ui.queue.display_command import run_display

    return run_display(cfg, args)


def add_commands(sub: Any) -> dict[str, Any]:
    sub.add_parser("gui", help="Fenster starten (Standard)")
    display = sub.add_parser("display", help="Aufrufanzeige für den Wartebereich (Vollbild)")
    display.add_argument("--screen", type=int, default=None, metavar="N",
                         help="Bildschirm (1, 2, …; Standard: der Hauptbildschirm)")
    display.add_argument("--location", default="", metavar="STANDORT",
                         help="Standort (Code aus der Warteschlangen-Konfiguration; Standard: "
                              "der Standort von queue_counter)")
    display.add_argument("--silent", action="store_true", help="ohne Gong")
    display.add_argument("--window", action="store_true", help="im Fenster statt Vollbild")
    return {"gui": _run_gui, "display": _run_display}
