"""Running a counter service from a dialog: through the DB worker, field errors kept apart.

`DbWorker.run` reports a failure as (message_de, message_en) only; a dialog needs a
`FormError`'s field errors to put each next to its field. So the call runs `run_service` in the
worker and hands a FormError back as the *result*, and the dialog gets three answers:
`on_done(ServiceResult)`, `on_form_errors({path: message})` or `on_failed(de, en)`.

The command id is the dialog's (minted when it opened): a second submit of the same dialog,
however it happens, returns the stored result and never issues or charges twice.

`precheck` (optional) runs first, in the same worker call: when it answers anything but None,
the service is not run and that answer goes to `on_prechecked` (the Anmeldung's look for
likely duplicates, which must come before anything is registered).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from clerk_app.errors import FormError
from clerk_app.services.base import ServiceResult
from clerk_app.services.runner import run_service
from clerk_app.store.db import Store
from ui.db_worker import DbWorker, FailureCallback

log = logging.getLogger(__name__)

C = TypeVar("C")


@dataclass(frozen=True)
class _Stopped(Generic[C]):
    """The precheck's answer: the service was not run."""

    answer: C


def run_service_call(db: DbWorker, service_type: str, form: Mapping[str, Any],
                     command_id: str, on_done: Callable[[ServiceResult], None],
                     on_form_errors: Callable[[dict[str, str]], None],
                     on_failed: FailureCallback, *, today: date | None = None,
                     precheck: Callable[[Store], C | None] | None = None,
                     on_prechecked: Callable[[C], None] | None = None) -> int:
    """Run the service `service_type` with `form` under `command_id` in the worker thread
    (`today`: the business day, default the real one; see the module docstring for
    `precheck`)."""
    payload = dict(form)

    def call(store: Store) -> ServiceResult | FormError | _Stopped[C]:
        if precheck is not None:
            answer = precheck(store)
            if answer is not None:
                return _Stopped(answer)
        try:
            return run_service(store, service_type, payload, command_id, today=today)
        except FormError as exc:
            # Field names only (English, no personal data), as the worker logs other failures.
            log.info("%s refused: %s", service_type, exc.message_en)
            return exc

    def done(answer: ServiceResult | FormError | _Stopped[C]) -> None:
        if isinstance(answer, FormError):
            on_form_errors(dict(answer.errors))
        elif isinstance(answer, _Stopped):
            if on_prechecked is not None:
                on_prechecked(answer.answer)
        else:
            on_done(answer)

    return db.run(call, done, on_failed, f"service {service_type}")
