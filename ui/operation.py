"""One operation from a widget to the register (Anki's `CollectionOp`/`QueryOp` in spirit).

Every piece of register work the UI asks for is an `Op`: created with its owner (the widget or
object the answer is for), the work (`work(store)`, run in the DB worker thread: no widgets
there) and what to do with the answer, on the UI thread:

    Op(self, lambda store: find_streets(store, text), self._show_streets, what="streets")
        .latest("streets").failure(self._say).with_progress(self.set_busy).run(db)

* **The owner.** The answer is dropped once the owner is gone: deleted, or (a dialog) closed.
  No widget checks "am I still alive" by hand.
* **Latest request wins** (`latest(key)`): of the ops of one owner under one key only the newest
  is answered (the clerk typed on; a newer person was opened). `drop(owner, key)` makes the op
  in flight stale without starting another (Esc).
* **Failure** (`failure(fn)`): `fn(message_de, message_en)`; the DB worker has logged it
  (English, no personal data). Without it a failure is only logged.
* **Progress** (`with_progress(show)`): `show(True)` when the op starts, `show(False)` when its
  answer (or failure) arrives, before the callbacks.

`ServiceOp` is the op of a counter service: `run_service` in the worker, a `FormError`'s field
errors kept apart from other failures (`form_errors(fn)`), and an optional precheck in the same
worker call (the Anmeldung's look for likely duplicates).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog
from shiboken6 import isValid

from clerk_app.errors import FormError
from ui.db_worker import DbWorker, FailureCallback

if TYPE_CHECKING:
    from clerk_app.services.base import ServiceResult
    from clerk_app.store.db import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C")

_CLOSED = "clerk_ops_closed"      # set on a dialog owner once it finished
_HOOKED = "clerk_ops_hooked"      # the dialog's `finished` is watched
_LATEST = "clerk_op_latest:"      # + key: the number of the newest op under that key
_numbers = itertools.count(1)


def owner_gone(owner: QObject) -> bool:
    """Deleted, or a dialog that has been closed: its answers are for nobody."""
    return not isValid(owner) or bool(owner.property(_CLOSED))


def drop(owner: QObject, key: str) -> None:
    """Make the op of `owner` under `key` that is in flight stale (its answer is dropped)."""
    owner.setProperty(_LATEST + key, next(_numbers))


def _watch_closing(owner: QObject) -> None:
    if isinstance(owner, QDialog) and not owner.property(_HOOKED):
        owner.setProperty(_HOOKED, True)
        owner.finished.connect(lambda _code: owner.setProperty(_CLOSED, True))


class Op(Generic[T]):
    """`work(store)` in the DB worker; `success(result)` on the UI thread while the owner is
    there (see the module docstring)."""

    def __init__(self, owner: QObject, work: Callable[[Store], T],
                 success: Callable[[T], None] | None = None, *, what: str) -> None:
        self.owner = owner
        self.work = work
        self.what = what
        self._success = success
        self._failure: FailureCallback | None = None
        self._progress: Callable[[bool], None] | None = None
        self._key: str | None = None
        self._number = 0

    def latest(self, key: str) -> Op[T]:
        """Only the newest op of this owner under `key` is answered."""
        self._key = key
        return self

    def failure(self, fn: FailureCallback) -> Op[T]:
        self._failure = fn
        return self

    def with_progress(self, show: Callable[[bool], None]) -> Op[T]:
        self._progress = show
        return self

    def run(self, db: DbWorker) -> None:
        """Send the work to `db`'s worker thread."""
        _watch_closing(self.owner)
        if self._key is not None:
            self._number = next(_numbers)
            self.owner.setProperty(_LATEST + self._key, self._number)
        if self._progress is not None:
            self._progress(True)
        db.send(self.work, self._on_done, self._on_failed, self.what)

    def _wanted(self) -> bool:
        if owner_gone(self.owner):
            return False
        if self._key is not None and self.owner.property(_LATEST + self._key) != self._number:
            return False
        if self._progress is not None:
            self._progress(False)
        return True

    def _on_done(self, result: T) -> None:
        if self._wanted() and self._success is not None:
            self._success(result)

    def _on_failed(self, message_de: str, message_en: str) -> None:
        if self._wanted() and self._failure is not None:
            self._failure(message_de, message_en)


@dataclass(frozen=True)
class _Stopped(Generic[C]):
    """The precheck's answer: the service was not run."""

    answer: C


class ServiceOp:
    """A counter service (`run_service`) under the dialog's command id, as an `Op`.

    The command id is the dialog's (minted when it opened): a second submit of the same dialog,
    however it happens, returns the stored result and never issues or charges twice. Answers:
    `success(ServiceResult)`, `form_errors({path: message})` (a `FormError`, each message for
    its field) or `failure(de, en)`. `precheck(check, answered)`: `check(store)` runs first in
    the same worker call; when it answers anything but None the service is not run and that
    answer goes to `answered`.
    """

    def __init__(self, owner: QObject, service_type: str, form: Mapping[str, Any],
                 command_id: str, *, today: date | None = None) -> None:
        self.owner = owner
        self.service_type = service_type
        self.payload = dict(form)
        self.command_id = command_id
        self.today = today
        self._success: Callable[[ServiceResult], None] = lambda _result: None
        self._form_errors: Callable[[dict[str, str]], None] = lambda _errors: None
        self._failure: FailureCallback = lambda _de, _en: None
        self._progress: Callable[[bool], None] | None = None
        self._check: Callable[[Store], Any] | None = None
        self._answered: Callable[[Any], None] = lambda _answer: None

    def success(self, fn: Callable[[ServiceResult], None]) -> ServiceOp:
        self._success = fn
        return self

    def form_errors(self, fn: Callable[[dict[str, str]], None]) -> ServiceOp:
        self._form_errors = fn
        return self

    def failure(self, fn: FailureCallback) -> ServiceOp:
        self._failure = fn
        return self

    def with_progress(self, show: Callable[[bool], None]) -> ServiceOp:
        self._progress = show
        return self

    def precheck(self, check: Callable[[Store], C | None],
                 answered: Callable[[C], None]) -> ServiceOp:
        self._check = check
        self._answered = answered
        return self

    def run(self, db: DbWorker) -> None:
        service_type, payload, command_id, today = (
            self.service_type, self.payload, self.command_id, self.today)
        check = self._check

        def call(store: Store) -> ServiceResult | FormError | _Stopped[Any]:
            from clerk_app.services.runner import run_service

            if check is not None:
                answer = check(store)
                if answer is not None:
                    return _Stopped(answer)
            try:
                return run_service(store, service_type, payload, command_id, today=today)
            except FormError as exc:
                # Field names only (English, no personal data), as the worker logs failures.
                log.info("%s refused: %s", service_type, exc.message_en)
                return exc

        def done(answer: ServiceResult | FormError | _Stopped[Any]) -> None:
            if isinstance(answer, FormError):
                self._form_errors(dict(answer.errors))
            elif isinstance(answer, _Stopped):
                self._answered(answer.answer)
            else:
                self._success(answer)

        op = Op(self.owner, call, done, what=f"service {service_type}").failure(self._failure)
        if self._progress is not None:
            op.with_progress(self._progress)
        op.run(db)
