"""Every counter service by command type, and running one as a command in one transaction.

The service modules (`cash`, `certificates`, `registration`) import only the framework in
`base`; this module imports them all and is the one that knows every command type, so nothing
has to be imported late to find a service. A new service is added to `SERVICES` here.

A double submit (double click, Enter twice) carries the same command id, minted when the
form opened: the second call finds the outbox row and returns the stored result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from clerk_app.draft_store import delete_draft
from clerk_app.errors import ValidationError
from clerk_app.services import cash, certificates, registration
from clerk_app.services.base import Service, ServiceContext, ServiceResult
from clerk_app.store.db import Store
from clerk_app.store.outbox import append_outbox, queued_result

# Every command type a workstation runs and the central service replays.
SERVICES: dict[str, Service] = {service.type: service for service in (
    registration.Anmeldung(), registration.Ummeldung(), registration.Abmeldung(),
    certificates.Meldebescheinigung(), certificates.HaushaltsMeldebescheinigung(),
    certificates.Lebensbescheinigung(),
    certificates.PersonenstandsurkundeAntrag(),
    cash.Wechselgeld(), cash.Storno(), cash.Tagesabschluss(), cash.TagesabschlussAufheben(),
)}


def stored_result(store: Store, command_id: str) -> ServiceResult | None:
    """What the command with this id returned when it ran, or None if it has not run."""
    text = queued_result(store.conn, command_id)
    return ServiceResult.from_json(text) if text is not None else None


def run_service(store: Store, service_type: str, form: dict[str, Any], command_id: str, *,
                now: Callable[[], datetime] = lambda: datetime.now(UTC),
                today: date | None = None) -> ServiceResult:
    """Validate, apply and queue one service in one transaction; idempotent per command id."""
    previous = stored_result(store, command_id)
    if previous is not None:
        return previous
    service = SERVICES.get(service_type)
    if service is None:
        raise ValidationError(f"Unbekannte Dienstleistung „{service_type}“.",
                              f"unknown service type {service_type!r}")
    store.actor.require(service.permission)
    moment = now()
    ctx = ServiceContext(store, command_id, moment, today or moment.astimezone().date())
    with store.transaction():
        # Checked again under the write lock: a second submit from another worker that passed
        # the first check waits here until the first one committed, then finds its row.
        previous = stored_result(store, command_id)
        if previous is not None:
            return previous
        payload = service.prepare(ctx, form)
        service.apply(ctx, payload)
        result = ServiceResult(command_id, service_type, tuple(ctx.changed_persons),
                               tuple(ctx.documents), ctx.receipt, tuple(ctx.notices))
        append_outbox(store, command_id, service_type, payload, moment,
                      base_versions=ctx.base_versions, result=result.to_json())
        delete_draft(store.conn, command_id)   # the dialog's typed work is done now
    return result
