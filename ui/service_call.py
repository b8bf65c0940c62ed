"""Running a counter service from a dialog: through the DB worker, field errors kept apart.

`DbWorker.run` reports a failure as (message_de, message_en) only; a dialog needs a
`FormError`'s field errors to put each next to its field. So the call runs `run_service` in the
worker and hands a FormError back as the *result*, and the dialog gets three answers:
`on_done(ServiceResult)`, `on_form_errors({path: message})` or `on_failed(de, en)`.

The command id is the dialog's (minted when it opened): a second submit of the same dialog,
however it happens, returns the stored result and never issues or charges twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from clerk_app.errors import FormError
from clerk_app.services.base import ServiceResult, run_service
from clerk_app.store.db import Store
from ui.db_worker import DbWorker, FailureCallback

log = logging.getLogger(__name__)


def run_service_call(db: DbWorker, service_type: str, form: Mapping[str, Any],
                     command_id: str, on_done: Callable[[ServiceResult], None],
                     on_form_errors: Callable[[dict[str, str]], None],
                     on_failed: FailureCallback) -> int:
    """Run the service `service_type` with `form` under `command_id` in the worker thread."""
    payload = dict(form)

    def call(store: Store) -> ServiceResult | FormError:
        try:
            return run_service(store, service_type, payload, command_id)
        except FormError as exc:
            # Field names only (English, no personal data), as the worker logs other failures.
            log.info("%s refused: %s", service_type, exc.message_en)
            return exc

    def done(answer: ServiceResult | FormError) -> None:
        if isinstance(answer, FormError):
            on_form_errors(dict(answer.errors))
        else:
            on_done(answer)

    return db.run(call, done, on_failed, f"service {service_type}")
