"""The one thread that talks to the register for the window (Anki's taskman, Electrum's sql_db).

SQLCipher connections belong to the thread that opened them, so the worker opens its own
`Store` *in* its thread and closes it there. The window sends requests by signal and gets the
answers by signal; nothing on the UI thread waits for the disk. Widgets do not call it
directly: their work goes through `ui.operation.Op` (owner, latest request wins, failure),
whose channel is `send`.

Search requests carry a sequence number. While the clerk types, requests queue up faster than
they may be answered; the worker skips every request that is no longer the latest, and the
window ignores any answer that is not for its latest request: the last keystroke wins and
typing never stutters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from clerk_app.clerks import Actor
from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.models import PersonHit
from clerk_app.store.db import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
FailureCallback = Callable[[str, str], None]
COUNTER_PURPOSE = "Auskunft am Schalter"
SEARCH_PURPOSE = "Suche am Schalter (angezeigte Treffer)"
UNEXPECTED_DE = ("Unerwarteter Fehler im Programm. Bitte den Vorgang wiederholen; "
                 "tritt der Fehler erneut auf, bitte die IT verständigen.")


class _Worker(QObject):
    """Lives in the worker thread; every slot runs there."""

    opened = Signal()
    open_failed = Signal(str, str)                 # message_de, message_en
    lease_expired = Signal(str, str)               # message_de, message_en: sync first
    search_done = Signal(int, str, object, bool)   # seq, text, hits, more than the limit
    search_failed = Signal(int, str, str)          # seq, message_de, message_en
    op_done = Signal(int, object)                  # op id, result
    op_failed = Signal(int, str, str)              # op id, message_de, message_en
    closed = Signal()

    def __init__(self, cfg: Config, actor: Actor) -> None:
        super().__init__()
        self._cfg = cfg
        self._actor = actor
        self._store: Store | None = None
        self._closing = False
        # Written by the UI thread (a plain int assignment is atomic), read here.
        self.latest_search = 0

    @Slot()
    def open(self) -> None:
        from clerk_app.offline_lease import LeaseExpired
        from clerk_app.store.opening import open_register

        try:
            self._store = open_register(self._cfg, self._actor, create=False)
        except LeaseExpired as exc:
            log.warning("register not opened: %s", exc.message_en)
            self.lease_expired.emit(exc.message_de, exc.message_en)
            return
        except ClerkError as exc:
            log.error("cannot open the register: %s", exc.message_en)
            self.open_failed.emit(exc.message_de, exc.message_en)
            return
        except Exception as exc:  # never a traceback for a clerk: log it, say it plainly
            log.exception("unexpected error while opening the register")
            self.open_failed.emit(UNEXPECTED_DE, f"unexpected error: {type(exc).__name__}")
            return
        self.opened.emit()

    def _call(self, fn: Callable[[Store], object], what: str) -> tuple[object, str, str]:
        """Run `fn` on the register: (result, "", "") or (None, message_de, message_en).

        One place for the rule that a clerk never sees a traceback: expected failures carry
        their German message, anything else is logged (English, no personal data) and said
        plainly.
        """
        if self._store is None:
            return None, "Das Melderegister ist nicht geöffnet.", "register not open"
        try:
            return fn(self._store), "", ""
        except ClerkError as exc:
            log.warning("%s failed: %s", what, exc.message_en)
            return None, exc.message_de, exc.message_en
        except Exception as exc:
            log.exception("unexpected error in %s", what)
            return None, UNEXPECTED_DE, f"unexpected error: {type(exc).__name__}"

    @Slot(int, str, int)
    def search(self, seq: int, text: str, limit: int) -> None:
        if self._closing or seq != self.latest_search or self._store is None:
            return  # stale (the clerk has typed on), or opening failed (the window says so)
        from clerk_app.search import record_shown, search

        def shown(store: Store) -> list[PersonHit]:
            hits = search(store, text, limit=limit + 1)
            record_shown(store, hits[:limit], SEARCH_PURPOSE)
            return hits

        hits, message_de, message_en = self._call(shown, "search")
        if message_de:
            self.search_failed.emit(seq, message_de, message_en)
            return
        assert isinstance(hits, list)
        self.search_done.emit(seq, text, hits[:limit], len(hits) > limit)

    @Slot(int, object, str)
    def run_op(self, op_id: int, fn: Callable[[Store], object], what: str) -> None:
        if self._closing:
            return
        result, message_de, message_en = self._call(fn, what)
        if message_de:
            self.op_failed.emit(op_id, message_de, message_en)
        else:
            self.op_done.emit(op_id, result)

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
    lease_expired = Signal(str, str)
    search_done = Signal(int, str, object, bool)
    search_failed = Signal(int, str, str)
    person_done = Signal(object)             # the PersonRecord of the latest `open_person`
    person_failed = Signal(str, str)

    _request_open = Signal()
    _request_search = Signal(int, str, int)
    _request_op = Signal(int, object, str)
    _request_close = Signal()

    def __init__(self, cfg: Config, actor: Actor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("clerk-db-worker")
        self._worker = _Worker(cfg, actor)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._request_open.connect(self._worker.open)
        self._request_search.connect(self._worker.search)
        self._request_op.connect(self._worker.run_op)
        self._request_close.connect(self._worker.close)
        self._worker.opened.connect(self.opened)
        self._worker.open_failed.connect(self.open_failed)
        self._worker.lease_expired.connect(self.lease_expired)
        self._worker.search_done.connect(self._on_search_done)
        self._worker.search_failed.connect(self._on_search_failed)
        self._worker.op_done.connect(self._on_op_done)
        self._worker.op_failed.connect(self._on_op_failed)
        self._search_seq = 0
        self._op_seq = 0
        self._callbacks: dict[int, tuple[Callable[[Any], None], FailureCallback]] = {}
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

    def reopen(self) -> None:
        """Try to open the register again (after the offline lease was renewed by a sync)."""
        if self._running:
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

    def send(self, fn: Callable[[Store], T], on_done: Callable[[T], None],
             on_failed: FailureCallback, what: str) -> int:
        """Run `fn(store)` in the worker thread: the channel of `ui.operation.Op`, which the
        widgets use (it drops answers for an owner that is gone, and stale ones).

        `on_done(result)` or `on_failed(message_de, message_en)` is then called on the UI
        thread. `fn` must not touch widgets; `what` names it in the log (English).
        """
        self._op_seq += 1
        self._callbacks[self._op_seq] = (on_done, on_failed)
        if self._running:
            self._request_op.emit(self._op_seq, fn, what)
        return self._op_seq

    def open_person(self, person_id: str) -> None:
        """Open (and audit) one person: `person_done(record)`; the latest request wins here
        too."""
        from clerk_app.person_record import open_person
        from ui.operation import Op

        Op(self, lambda store: open_person(store, person_id, COUNTER_PURPOSE),
           self.person_done.emit, what="open person").latest("person").failure(
               self.person_failed.emit).run(self)

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
    def _on_op_done(self, op_id: int, result: object) -> None:
        callbacks = self._callbacks.pop(op_id, None)
        if callbacks is not None:
            callbacks[0](result)

    @Slot(int, str, str)
    def _on_op_failed(self, op_id: int, message_de: str, message_en: str) -> None:
        callbacks = self._callbacks.pop(op_id, None)
        if callbacks is not None:
            callbacks[1](message_de, message_en)
