"""The one thread that talks to the register for the window (Anki's taskman, Electrum's sql_db).

SQLCipher connections belong to the thread that opened them, so the worker opens its own
`Store` *in* its thread and closes it there. The window sends requests by signal and gets the
answers by signal; nothing on the UI thread waits for the disk.

Search requests carry a sequence number. While the clerk types, requests queue up faster than
they may be answered; the worker skips every request that is no longer the latest, and the
window ignores any answer that is not for its latest request: the last keystroke wins and
typing never stutters.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.store.db import Store

log = logging.getLogger(__name__)

COUNTER_PURPOSE = "Auskunft am Schalter"
UNEXPECTED_DE = ("Unerwarteter Fehler im Programm. Bitte den Vorgang wiederholen; "
                 "tritt der Fehler erneut auf, bitte die IT verständigen.")


class _Worker(QObject):
    """Lives in the worker thread; every slot runs there."""

    opened = Signal()
    open_failed = Signal(str, str)                 # message_de, message_en
    search_done = Signal(int, str, object, bool)   # seq, text, hits, more than the limit
    search_failed = Signal(int, str, str)          # seq, message_de, message_en
    person_done = Signal(int, object)              # request id, PersonRecord
    person_failed = Signal(int, str, str)          # request id, message_de, message_en
    closed = Signal()

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self._cfg = cfg
        self._store: Store | None = None
        self._closing = False
        # Written by the UI thread (a plain int assignment is atomic), read here.
        self.latest_search = 0

    @Slot()
    def open(self) -> None:
        from clerk_app.session import open_register

        try:
            self._store = open_register(self._cfg, create=False)
        except ClerkError as exc:
            log.error("cannot open the register: %s", exc.message_en)
            self.open_failed.emit(exc.message_de, exc.message_en)
            return
        except Exception as exc:  # never a traceback for a clerk: log it, say it plainly
            log.exception("unexpected error while opening the register")
            self.open_failed.emit(UNEXPECTED_DE, f"unexpected error: {type(exc).__name__}")
            return
        self.opened.emit()

    @Slot(int, str, int)
    def search(self, seq: int, text: str, limit: int) -> None:
        if self._closing or seq != self.latest_search:
            return  # stale: the clerk has typed on since
        if self._store is None:
            return  # opening failed; the window says so
        from clerk_app.search import search

        try:
            hits = search(self._store, text, limit=limit + 1)
        except ClerkError as exc:
            self.search_failed.emit(seq, exc.message_de, exc.message_en)
            return
        except Exception as exc:
            log.exception("unexpected error in search")
            self.search_failed.emit(seq, UNEXPECTED_DE, f"unexpected error: {type(exc).__name__}")
            return
        self.search_done.emit(seq, text, hits[:limit], len(hits) > limit)

    @Slot(int, str)
    def open_person(self, request: int, person_id: str) -> None:
        if self._closing or self._store is None:
            return
        from clerk_app.register import open_person

        try:
            record = open_person(self._store, person_id, COUNTER_PURPOSE)
        except ClerkError as exc:
            self.person_failed.emit(request, exc.message_de, exc.message_en)
            return
        except Exception as exc:
            log.exception("unexpected error while opening a person")
            self.person_failed.emit(request, UNEXPECTED_DE,
                                    f"unexpected error: {type(exc).__name__}")
            return
        self.person_done.emit(request, record)

    @Slot()
    def close(self) -> None:
        self._closing = True
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                log.exception("error while closing the register")
            self._store = None
        self.closed.emit()
        thread = self.thread()
        if thread is not None:
            thread.quit()


class DbWorker(QObject):
    """The window's handle on the worker thread: call methods, connect to the signals."""

    opened = Signal()
    open_failed = Signal(str, str)
    search_done = Signal(int, str, object, bool)
    search_failed = Signal(int, str, str)
    person_done = Signal(int, object)
    person_failed = Signal(int, str, str)

    _request_open = Signal()
    _request_search = Signal(int, str, int)
    _request_person = Signal(int, str)
    _request_close = Signal()

    def __init__(self, cfg: Config, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("clerk-db-worker")
        self._worker = _Worker(cfg)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._request_open.connect(self._worker.open)
        self._request_search.connect(self._worker.search)
        self._request_person.connect(self._worker.open_person)
        self._request_close.connect(self._worker.close)
        self._worker.opened.connect(self.opened)
        self._worker.open_failed.connect(self.open_failed)
        self._worker.search_done.connect(self._on_search_done)
        self._worker.search_failed.connect(self._on_search_failed)
        self._worker.person_done.connect(self._on_person_done)
        self._worker.person_failed.connect(self._on_person_failed)
        self._search_seq = 0
        self._person_seq = 0
        self._running = False

    @property
    def is_running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the thread and open the register in it (answer: `opened` / `open_failed`)."""
        if self._running:
            return
        self._thread.start()
        self._running = True
        self._request_open.emit()

    def search(self, text: str, limit: int) -> int:
        """Ask for the hits of `text`; returns the sequence number the answer will carry."""
        self._search_seq += 1
        self._worker.latest_search = self._search_seq
        if self._running:
            self._request_search.emit(self._search_seq, text, limit)
        return self._search_seq

    def cancel_search(self) -> None:
        """Make every search in flight stale (e.g. the clerk emptied the field)."""
        self._search_seq += 1
        self._worker.latest_search = self._search_seq

    def open_person(self, person_id: str) -> int:
        """Open (and audit) one person; the latest request wins here too."""
        self._person_seq += 1
        if self._running:
            self._request_person.emit(self._person_seq, person_id)
        return self._person_seq

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Close the register in its thread, stop the thread and wait for it."""
        if not self._running:
            return
        self._running = False
        self._worker.latest_search = -1
        self._request_close.emit()
        if not self._thread.wait(timeout_ms):
            log.error("database worker did not stop within %d ms", timeout_ms)

    # Answers: pass on only those for the latest request.

    @Slot(int, str, object, bool)
    def _on_search_done(self, seq: int, text: str, hits: object, more: bool) -> None:
        if seq == self._search_seq:
            self.search_done.emit(seq, text, hits, more)

    @Slot(int, str, str)
    def _on_search_failed(self, seq: int, message_de: str, message_en: str) -> None:
        if seq == self._search_seq:
            self.search_failed.emit(seq, message_de, message_en)

    @Slot(int, object)
    def _on_person_done(self, request: int, record: object) -> None:
        if request == self._person_seq:
            self.person_done.emit(request, record)

    @Slot(int, str, str)
    def _on_person_failed(self, request: int, message_de: str, message_en: str) -> None:
        if request == self._person_seq:
            self.person_failed.emit(request, message_de, message_en)
