"""`clerk-app display`: the waiting room's screen.

A window holding only the `CallBoard`, full screen on the chosen monitor (`--screen N`,
counted from 1 as the system lists them; the window moves there before it goes full screen,
else Qt would choose the primary one). It follows a `CallFeed`; a new call (a key not in the
last snapshot, a recall included) rings the chime once (`ui.queue.chime.Chime.ring`, or
nothing when the display is set silent). When the feed is lost the board keeps the last
calls and says at its foot, in small type, that it is reconnecting: the citizens still see
their numbers, the clerks see that the screen is not current. Esc leaves full screen;
Ctrl+Q closes (the screen has no keyboard in daily use; IT sets it up once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QWidget

from ui.i18n import tr
from ui.queue.call_board import CallBoard, ShownCall
from ui.queue.call_feed import CallFeed

log = logging.getLogger(__name__)


class DisplayWindow(QMainWindow):
    """The board in a window of its own, fed by `feed` (started here, stopped on close)."""

    def __init__(self, feed: CallFeed, chime: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callDisplay")
        self.setWindowTitle(tr("Aufrufanzeige"))
        self.setAccessibleName(tr("Aufrufanzeige"))
        self.board = CallBoard(self)
        self.setCentralWidget(self.board)
        self.resize(1280, 720)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self._chime = chime
        self._seen: set[str] | None = None    # keys of the last snapshot (None: none yet)
        self.feed = feed
        feed.calls.connect(self.show_calls)
        feed.connected.connect(self.show_connected)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.showNormal)
        QShortcut(QKeySequence("Ctrl+Q"), self, self.close)

    def start(self, screen_number: int | None = None, *, full_screen: bool = True) -> None:
        """Show on monitor `screen_number` (1-based; None: the primary) and follow the feed."""
        screens = QGuiApplication.screens()
        if screen_number is not None and 1 <= screen_number <= len(screens):
            screen = screens[screen_number - 1]
        else:
            if screen_number is not None:
                log.warning("display screen %s not there (%d screens); using the primary",
                            screen_number, len(screens))
            screen = QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        if full_screen:
            self.showFullScreen()
        else:
            self.show()
        self.feed.start()

    def show_calls(self, calls: Sequence[ShownCall]) -> None:
        """A snapshot of the calls: shown; a call not seen before rings the chime (not the
        first snapshot after start: those calls were made before the display came up)."""
        keys = {call.key or f"{call.number}|{call.called_at.isoformat()}" for call in calls}
        fresh = self._seen is not None and bool(keys - self._seen)
        self._seen = keys
        self.board.set_calls(calls)
        if fresh and self._chime is not None:
            self._chime()

    def show_connected(self, connected: bool) -> None:
        self.board.set_notice("" if connected else tr("Verbindung wird wiederhergestellt …"))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.feed.stop()
        super().closeEvent(event)
