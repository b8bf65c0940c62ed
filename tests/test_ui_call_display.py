"""The waiting room's call display: the board (newest first and marked, numbers only), the
feed thread that survives its source going away and coming back, the chime on a new call (a
recall included, not the calls already there at start), the gong's WAV."""

from __future__ import annotations

import io
import threading
import wave
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from sync.schedule import Backoff
from tests.ui_support import save_shot
from ui.queue.call_board import NEWEST_BACKGROUND, ROWS, CallBoard, ShownCall
from ui.queue.call_feed import CallFeed
from ui.queue.chime import RATE, SECONDS, gong_wav
from ui.queue.display_window import DisplayWindow

pytestmark = pytest.mark.usefixtures("german")

T0 = datetime(2026, 12, 3, 9, 0)


def call(n: int, counter: int, minute: int, key: str = "") -> ShownCall:
    return ShownCall(f"A {n:03d}", f"Schalter {counter}", T0 + timedelta(minutes=minute),
                     key or f"{n}-{minute}")


def test_board_shows_the_newest_first_highlighted_and_at_most_rows(qtbot: QtBot) -> None:
    board = CallBoard()
    qtbot.addWidget(board)
    board.resize(1280, 720)
    board.set_calls([call(n, n % 4 + 1, n) for n in range(1, 10)])   # any order in
    assert board.calls[0].number == "A 009"
    assert len(board.calls) == ROWS
    assert board.spoken().startswith("A 009 → Schalter 2; A 008 → Schalter 1")
    image = board.grab().toImage()
    # The newest row is painted on yellow, the rest of the board on black.
    assert image.pixelColor(image.width() // 2, int(720 / (ROWS + 3.4) * 1.2)) == \
        NEWEST_BACKGROUND
    assert image.pixelColor(image.width() - 20, image.height() - 120) == QColor("#000000")
    save_shot(board, "screenshot-aufrufanzeige.png")


def test_board_without_calls_says_so(qtbot: QtBot) -> None:
    board = CallBoard()
    qtbot.addWidget(board)
    board.set_calls([])
    assert board.spoken() == ""
    board.grab()   # paints without a call


class Outage:
    """A call source that really runs in the feed's thread: the first connection delivers one
    snapshot and then breaks; later connections deliver `later` and wait until stopped."""

    def __init__(self, first: Sequence[ShownCall], later: Sequence[ShownCall]) -> None:
        self.first, self.later = first, later
        self.connections = 0
        self.broken = threading.Event()
        self.allow_back = threading.Event()

    def __call__(self, stop: threading.Event) -> Iterator[Sequence[ShownCall]]:
        self.connections += 1
        if self.connections == 1:
            yield self.first
            self.broken.set()
            raise ConnectionError("centre went away")
        if not self.allow_back.is_set():
            raise ConnectionError("still away")
        yield self.later
        stop.wait()


def test_display_keeps_the_last_calls_through_an_outage_and_follows_again(
        qtbot: QtBot) -> None:
    source = Outage([call(1, 1, 1)], [call(1, 1, 1), call(2, 3, 2)])
    feed = CallFeed(source, backoff=Backoff(interval=0, first_retry=0.05, cap=0.1))
    rings: list[int] = []
    window = DisplayWindow(feed, lambda: rings.append(1))
    qtbot.addWidget(window)
    window.start(full_screen=False)
    qtbot.waitUntil(lambda: window.board.spoken() == "A 001 → Schalter 1", timeout=5000)
    qtbot.waitUntil(lambda: window.board.notice != "", timeout=5000)
    # Away: the last call stays on the board, the foot says it is reconnecting.
    assert window.board.spoken() == "A 001 → Schalter 1"
    assert "Verbindung" in window.board.notice
    save_shot(window, "screenshot-aufrufanzeige-verbindung.png")
    source.allow_back.set()
    qtbot.waitUntil(lambda: window.board.calls[0].number == "A 002", timeout=5000)
    assert window.board.notice == ""
    assert rings == [1]            # the new call rang; the ones there at start did not
    assert source.connections >= 2
    window.close()


def test_chime_rings_for_a_new_call_and_a_recall_not_for_a_repeat(qtbot: QtBot) -> None:
    rings: list[int] = []
    feed = CallFeed(lambda _stop: iter(()))
    window = DisplayWindow(feed, lambda: rings.append(1))
    qtbot.addWidget(window)
    window.show_calls([call(1, 1, 1)])
    window.show_calls([call(1, 1, 1)])
    assert rings == []
    window.show_calls([call(1, 1, 1), call(2, 2, 2)])
    assert rings == [1]
    window.show_calls([call(1, 1, 1), call(2, 2, 2), call(2, 2, 4, key="2-recall")])
    assert rings == [1, 1]
    assert window.board.calls[0].key == "2-recall"


def test_display_on_a_missing_monitor_uses_the_primary(qtbot: QtBot) -> None:
    feed = CallFeed(lambda stop: iter(()))
    window = DisplayWindow(feed)
    qtbot.addWidget(window)
    window.start(99, full_screen=False)
    assert window.isVisible()
    window.close()


def test_gong_is_a_short_mono_wav() -> None:
    with wave.open(io.BytesIO(gong_wav())) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == int(RATE * SECONDS)
