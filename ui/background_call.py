"""One call off the event loop, for work that is neither the register's (the `DbWorker` has
that) nor the sync's: a login, an administrator's call to the central service. The callable
runs in a thread of its own and answers with its result, or with a German message."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from clerk_app.errors import ClerkError
from ui.i18n import error_text, tr

log = logging.getLogger(__name__)


class _Call(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, call: Callable[[], object], what: str) -> None:
        super().__init__()
        self._call = call
        self._what = what

    @Slot()
    def run(self) -> None:
        try:
            self.done.emit(self._call())
        except ClerkError as exc:
            log.info("%s refused: %s", self._what, exc.message_en)
            self.failed.emit(error_text(exc))
        except Exception as exc:
            log.exception("unexpected error in %s", self._what)
            self.failed.emit(tr("Unerwarteter Fehler. Bitte die IT verständigen.")
                             + f" ({type(exc).__name__})")


class BackgroundCall(QObject):
    """Runs one call at a time; `busy` while it runs. Answers arrive in the UI thread (the
    worker's signals reach this object's slots queued)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._call: _Call | None = None
        self._on_done: Callable[[object], None] = lambda _result: None
        self._on_failed: Callable[[str], None] = lambda _message: None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, call: Callable[[], object], on_done: Callable[[object], None],
              on_failed: Callable[[str], None], what: str) -> None:
        thread = QThread(self)
        worker = _Call(call, what)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self._on_done, self._on_failed = on_done, on_failed
        self._thread, self._call = thread, worker
        thread.start()

    @Slot(object)
    def _done(self, result: object) -> None:
        self.finish()
        self._on_done(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.finish()
        self._on_failed(message)

    def finish(self) -> None:
        """Wait for the thread (it has answered, or the owner closes)."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread = self._call = None
