"""The queue panel on the shared queue of the real central service (a child process on
127.0.0.1): another counter's change reaches the panel pushed, within a second (no polling:
the panel's own timer is 15 s); "Nächste Person aufrufen" calls at the centre, so the other
counter never gets the same citizen; with the centre killed the panel says so and works on
this register's own queue, whose ticket waits in the outbox for the centre."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clerk_app.ids import uuid7
from clerk_app.keys import write_secret_file
from sync.queue_client import QueueClient
from sync.server.central import Central
from tests.factories import make_cfg
from tests.queue_ui_support import QUEUE_TOML, kill, queue_centre
from tests.sync_support import CentralServer, Workstation
from tests.ui_support import close_window, focused, open_window, rows
from ui.main_window import MainWindow
from ui.queue.panel import REFRESH_MS, QueuePanel

pytestmark = pytest.mark.usefixtures("german")

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with queue_centre(tmp_path) as pair:
        yield pair


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path,
           centre: tuple[CentralServer, Central]) -> Iterator[MainWindow]:
    """Schalter 1's window, enrolled, on the shared queue of location "amt"."""
    server, hub = centre
    folder = tmp_path / "station"
    ws = Workstation(folder, "demo-register", hub, server.url)
    write_secret_file(folder / "demo-register.key", ws.key)
    write_secret_file(folder / "demo-register.device-token", ws.token)
    cfg = make_cfg(folder, central_url=server.url, workstation="Schalter 1",
                   queue_counter="c1", queue_file=str(QUEUE_TOML))
    ws.store.close()
    w = open_window(qtbot, cfg)
    yield w
    close_window(w)
    ws.client.close()


@pytest.fixture
def other(tmp_path: Path, centre: tuple[CentralServer, Central]) -> Iterator[QueueClient]:
    """Schalter 2, another enrolled workstation, straight through the queue client."""
    server, hub = centre
    ws = Workstation(tmp_path / "other", "platz2", hub, server.url)
    yield QueueClient(ws.client)
    ws.close()


def panel_of(window: MainWindow) -> QueuePanel:
    assert window.queue_panel is not None
    return window.queue_panel


def test_shared_queue_pushed_changes_call_next_at_the_centre_and_the_centre_away(
        qtbot: QtBot, window: MainWindow, other: QueueClient,
        centre: tuple[CentralServer, Central]) -> None:
    server, _ = centre
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.shared, timeout=10_000)
    assert "Gemeinsame Warteschlange" in panel.heading.text()
    qtbot.waitUntil(lambda: panel.feed is not None, timeout=5000)
    time.sleep(0.5)   # the feed is connected

    drawn = time.monotonic()
    for _ in range(2):
        other.draw_ticket("W")
    qtbot.waitUntil(lambda: panel.view is not None and len(panel.view.waiting) == 2,
                    timeout=5000)
    assert time.monotonic() - drawn < 1.0 < REFRESH_MS / 1000

    qtbot.keyClick(focused(), Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: panel.number.text() == "W001", timeout=5000)
    second = other.call_next("c2", uuid7())
    assert second is not None and second.label == "W002"   # never the same citizen
    qtbot.waitUntil(lambda: panel.view is not None and not panel.view.waiting, timeout=5000)

    kill(server)
    qtbot.keyClick(focused(), Qt.Key.Key_T, CTRL)
    qtbot.waitUntil(lambda: panel.view is not None and not panel.view.shared, timeout=20_000)
    assert "Zentrale nicht erreichbar" in panel.heading.text()
    assert panel._dialog is not None
    qtbot.waitUntil(panel._dialog.isActiveWindow, timeout=3000)
    panel.ticket_printer.opener = lambda _path: True
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Wartemarke" in panel.message.text(), timeout=10_000)
    waiting = rows(window.cfg, "SELECT count(*) AS n FROM outbox WHERE type = 'queue_visit' "
                   "AND status = 'pending'")
    assert waiting[0]["n"] == 1   # the local ticket, for the centre later


def test_the_statistics_show_the_office_s_figures_online_and_this_register_s_offline(
        qtbot: QtBot, window: MainWindow, other: QueueClient,
        centre: tuple[CentralServer, Central]) -> None:
    server, _ = centre
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.shared, timeout=10_000)
    other.draw_ticket("W")
    called = other.call_next("c2", uuid7())
    assert called is not None
    other.appear(called.id, "c2")
    other.finish(called.id, "c2", ["lang"])   # served at another counter

    panel.open_statistics()
    dialog = panel.statistics
    assert dialog is not None
    qtbot.waitUntil(lambda: "ganzen Amts" in dialog.scope.text(), timeout=10_000)
    assert "Bedient: 1 " in dialog.summary.text()

    kill(server)
    dialog.refresh()
    qtbot.waitUntil(lambda: "dieses Arbeitsplatzes" in dialog.scope.text(), timeout=30_000)
    assert "Bedient: 0 " in dialog.summary.text()   # this register served nobody
    dialog.close()
