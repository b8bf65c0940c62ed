"""Following the queue's calls off the UI thread, through outages.

A `CallSource` is a function that connects and then yields the current calls each time they
change (`Sequence[ShownCall]`), blocking in between: the shared queue's server-sent events
from the central service, or the local queue in a mobile office. It ends or raises when the
connection is lost. `CallFeed` runs it in a daemon thread (it may block in a read for as long
as the stream is quiet; closing the display must not wait for it) and reconnects after a
short backoff for as long as the display runs, so the display survives the centre going away
and coming back. What it shows meanwhile stays on the board.

Signals (queued to the UI thread): `calls(list[ShownCall])` with each snapshot,
`connected(bool)` when the source is reached or lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence

from PySide6.QtCore import QObject, Signal

from sync.schedule import Backoff
from ui.queue.call_board import ShownCall

log = logging.getLogger(__name__)

CallSource = Callable[[threading.Event], Iterator[Sequence[ShownCall]]]


class CallFeed(QObject):
    """Runs `source` in its own thread until `stop()`; see the module docstring."""

    calls = Signal(list)
    connected = Signal(bool)

    def __init__(self, source: CallSource, parent: QObject | None = None, *,
                 backoff: Backoff | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._backoff = backoff or Backoff(interval=0.0, first_retry=1.0, cap=15.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end (it ends at its next snapshot or wait; never joined)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            reached = False
            try:
                for snapshot in self._source(self._stop):
                    if self._stop.is_set():
                        return
                    if not reached:
                        reached = True
                        self._backoff.succeeded()
                        self.connected.emit(True)
                    self.calls.emit(list(snapshot))
                reason = "stream ended"
            except Exception as exc:   # any failure means: reconnect later
                reason = type(exc).__name__
            if self._stop.is_set():
                return
            delay = self._backoff.failed()
            log.info("call feed lost (%s); reconnecting in %.1f s", reason, delay)
            self.connected.emit(False)
            self._stop.wait(delay)
