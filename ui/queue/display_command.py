"""`clerk-app display`: the call display as a program of its own, for the PC behind the
waiting room's screen (IT starts it with the session, e.g. from the desktop's autostart).

Which queue it follows: the location given with `--location`, else the location of this
workstation's counter (`queue_counter`). A location with a shared queue is followed at the
centre (this machine's device token, no clerk: the feed shows numbers only), and, on a
machine with a register, that register's own queue while the centre is away (its calls made
meanwhile are on the screen too); a mobile office's location, or any machine without
`central_url`, follows this register's own queue.
"""

from __future__ import annotations

import argparse
import logging

from clerk_app.clerks import system_actor
from clerk_app.config import Config
from clerk_app.errors import ClerkError, ConfigError
from clerk_app.queue.configuration import QueueConfig
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register, register_exists
from ui.i18n import error_text, tr
from ui.queue.call_feed import CallFeed, CallSource
from ui.queue.call_sources import (
    centre_answers,
    local_calls,
    shared_calls,
    shared_or_local,
)
from ui.queue.chime import Chime
from ui.queue.desk import queue_config
from ui.queue.display_window import DisplayWindow

log = logging.getLogger(__name__)


def display_location(cfg: Config, config: QueueConfig, location: str = "") -> str:
    """The location to follow; ConfigError (German) when neither is set or known."""
    if location:
        config.location(location)
        return location
    if cfg.queue_counter:
        return config.counter(cfg.queue_counter).location
    raise ConfigError("Für die Aufrufanzeige ist kein Standort eingestellt: bitte --location "
                      "angeben oder queue_counter setzen (IT).",
                      "display: no location (--location or queue_counter)")


def call_source(cfg: Config, config: QueueConfig, location: str) -> CallSource:
    """The shared queue at the centre, or this register's own (see the module docstring)."""
    def open_store() -> Store:
        return open_register(cfg, system_actor("display", cfg.workstation))

    if config.location(location).shared_queue and cfg.central_url:
        from sync.central_connection import connect
        from sync.queue_client import QueueClient

        names = {code: counter.name for code, counter in config.counters.items()}

        def client() -> QueueClient:
            return QueueClient(connect(cfg), names)

        shared = shared_calls(client, location)
        if not register_exists(cfg):
            return shared
        return shared_or_local(shared, local_calls(open_store, config, location),
                               lambda: centre_answers(client, location))

    if not register_exists(cfg):
        raise ConfigError("Auf diesem Rechner gibt es kein Melderegister mit einer "
                          "Warteschlange. Die Aufrufanzeige eines mobilen Bürgerbüros läuft "
                          "am Arbeitsplatz mit der Warteschlange; bitte die IT verständigen.",
                          "display: local queue without a register on this machine")
    return local_calls(open_store, config, location)


def run_display(cfg: Config, args: argparse.Namespace) -> int:
    from ui.start_window import application, show_error

    app = application(cfg)
    try:
        config = queue_config(cfg.queue_file)
        location = display_location(cfg, config, args.location)
        source = call_source(cfg, config, location)
    except ClerkError as exc:
        log.error("call display not started: %s", exc.message_en)
        show_error(None, tr("Aufrufanzeige"), error_text(exc))
        return 2
    chime = None if args.silent else Chime(cfg.data_path / "cache").ring
    window = DisplayWindow(CallFeed(source), chime)
    window.start(args.screen, full_screen=not args.window)
    log.info("call display started for location %s", location)
    return int(app.exec())
