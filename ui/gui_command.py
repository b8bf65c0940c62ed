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


def add_commands(sub: Any) -> dict[str, Any]:
    sub.add_parser("gui", help="Fenster starten (Standard)")
    return {"gui": _run_gui}
