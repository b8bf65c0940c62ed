"""The call display on real queues: this register's own (a mobile office), and the shared
queue of the real central service (a child process on 127.0.0.1) through its live feed,
across the centre being killed and started again. Plus `clerk-app display`'s choice of
location and queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from clerk_app.clerks import system_actor
from clerk_app.errors import ConfigError
from clerk_app.ids import uuid7
from clerk_app.queue.configuration import load_queue_config
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.store import opening
from clerk_app.store.db import Store, open_store
from sync.client import CentralClient
from sync.queue_client import QueueClient
from sync.server.central import Central
from tests.factories import make_cfg
from tests.queue_ui_support import QUEUE_TOML, kill, queue_centre
from tests.sync_support import CentralServer, Workstation
from tests.ui_support import save_shot
from ui.queue.call_feed import CallFeed
from ui.queue.call_sources import centre_answers, local_calls, shared_calls, shared_or_local
from ui.queue.display_command import call_source, display_location
from ui.queue.display_window import DisplayWindow

pytestmark = pytest.mark.usefixtures("german")

CONFIG = load_queue_config(QUEUE_TOML)


def test_the_display_follows_this_registers_own_queue(qtbot: QtBot, tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    with opening.open_register(cfg, create=True) as store:
        queue = LocalQueue(store, CONFIG)

        def open_store() -> Store:
            return opening.open_register(cfg)

        rings: list[int] = []
        feed = CallFeed(local_calls(open_store, CONFIG, "mobil", interval=0.05))
        window = DisplayWindow(feed, lambda: rings.append(1))
        qtbot.addWidget(window)
        with qtbot.waitSignal(feed.calls, timeout=5000):   # the board as it was: empty
            window.start(full_screen=False)
        queue.draw_ticket("M")
        queue.draw_ticket("M")
        called = queue.call_next("m1", uuid7())
        assert called is not None
        qtbot.waitUntil(lambda: window.board.spoken() == f"{called.label} → Mobil",
                        timeout=5000)
        assert rings == [1]
        window.close()


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with queue_centre(tmp_path) as pair:
        yield pair


def test_the_display_follows_the_shared_queue_and_survives_the_centre_going_away(
        qtbot: QtBot, tmp_path: Path, centre: tuple[CentralServer, Central]) -> None:
    server, central = centre
    station = Workstation(tmp_path / "ws", "platz1", central, server.url)
    display = Workstation(tmp_path / "ws", "anzeige", central, server.url)
    try:
        caller = QueueClient(station.client)
        names = {code: c.name for code, c in CONFIG.counters.items()}
        feed = CallFeed(shared_calls(
            lambda: QueueClient(CentralClient(server.url, display.token), names), "amt"))
        window = DisplayWindow(feed)
        qtbot.addWidget(window)
        window.start(full_screen=False)
        for _ in range(3):
            caller.draw_ticket("W")
        time.sleep(0.5)   # the feed is connected
        pressed = time.monotonic()
        first = caller.call_next("c1", uuid7())
        assert first is not None
        qtbot.waitUntil(lambda: window.board.spoken().startswith(f"{first.label} → Schalter 1"),
                        timeout=5000)
        assert time.monotonic() - pressed < 1.0
        save_shot(window, "screenshot-aufrufanzeige-zentral.png")

        kill(server)
        qtbot.waitUntil(lambda: window.board.notice != "", timeout=20_000)
        assert window.board.spoken().startswith(first.label)   # the last calls stay
        server.start()
        caller.appear(first.id, "c1")
        second = caller.call_next("c2", uuid7())
        assert second is not None
        qtbot.waitUntil(lambda: window.board.spoken().startswith(second.label),
                        timeout=20_000)
        assert window.board.notice == ""
        assert [c.number for c in window.board.calls] == [second.label, first.label]
        window.close()
    finally:
        station.close()
        display.close()


def test_the_display_follows_this_workstation_s_own_queue_while_the_centre_is_away(
        qtbot: QtBot, tmp_path: Path, centre: tuple[CentralServer, Central]) -> None:
    server, central = centre
    station = Workstation(tmp_path / "ws", "platz1", central, server.url)
    try:
        names = {code: c.name for code, c in CONFIG.counters.items()}

        def client() -> QueueClient:
            return QueueClient(CentralClient(server.url, station.token), names)

        def own_register() -> Store:
            return open_store(station.path, station.key, system_actor("display", "platz1"))

        feed = CallFeed(shared_or_local(
            shared_calls(client, "amt"), local_calls(own_register, CONFIG, "amt", 0.05),
            lambda: centre_answers(client, "amt"), probe_interval=0.2))
        window = DisplayWindow(feed)
        qtbot.addWidget(window)
        window.start(full_screen=False)
        shared = QueueClient(station.client)
        shared.draw_ticket("W")
        time.sleep(0.5)   # the feed is connected
        first = shared.call_next("c1", uuid7())
        assert first is not None
        qtbot.waitUntil(lambda: window.board.spoken().startswith(f"{first.label} → "),
                        timeout=5000)

        kill(server)   # the workstation goes on with its own queue
        own = LocalQueue(station.store, CONFIG)
        own.draw_ticket("W")
        offline = own.call_next("c2", uuid7())
        assert offline is not None
        qtbot.waitUntil(lambda: window.board.spoken().startswith(f"{offline.label} → Schalter 2"),
                        timeout=20_000)

        server.start()   # back: the shared queue again
        shared.appear(first.id, "c1")
        shared.finish(first.id, "c1", ["lang"])
        shared.draw_ticket("W")
        again = shared.call_next("c1", uuid7())
        assert again is not None and again.id != offline.id
        qtbot.waitUntil(lambda: window.board.spoken().startswith(f"{again.label} → Schalter 1"),
                        timeout=20_000)
        assert window.board.notice == ""
        window.close()
    finally:
        station.close()


def test_a_local_display_without_a_register_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        call_source(make_cfg(tmp_path), CONFIG, "mobil")
    assert "kein Melderegister" in refused.value.message_de


def test_display_location_from_the_option_or_the_counter(tmp_path: Path) -> None:
    assert display_location(make_cfg(tmp_path, queue_counter="c1"), CONFIG) == "amt"
    assert display_location(make_cfg(tmp_path), CONFIG, "mobil") == "mobil"
    with pytest.raises(ConfigError) as refused:
        display_location(make_cfg(tmp_path), CONFIG)
    assert "kein Standort" in refused.value.message_de
