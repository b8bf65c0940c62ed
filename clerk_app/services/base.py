"""Running a counter service as one command, in one local transaction.

A service has two steps. `prepare` turns what the clerk entered into the command's payload:
it validates, and mints everything that must be the same on both ends (new record ids,
document and receipt numbers). `apply` performs the payload's effect on a register. Locally
both run in one transaction together with the payment, the documents, the audit entries and
the outbox row, so a crash leaves all of it or none of it. The central service later runs
`apply` alone on the same payload: one definition, used by both ends.

A double submit (double click, Enter twice) carries the same command id, minted when the
form opened: the second call finds the outbox row and returns the stored result.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Protocol

import sqlcipher3

from clerk_app import audit
from clerk_app.draft_store import delete_draft
from clerk_app.errors import NotFoundError, ValidationError
from clerk_app.store.db import Store


@dataclass(frozen=True)
class Receipt:
    """Proof of a fee taken (or waived, with its legal reason)."""

    number: str
    service: str
    method: str
    amount_cents: int
    given_cents: int | None = None
    change_cents: int | None = None
    exemption: str | None = None
    exemption_reason: str | None = None


@dataclass(frozen=True)
class IssuedDocument:
    """A document's content as data: what the documents layer will render and print."""

    number: str
    type: str
    title: str
    person_id: str | None
    fields: tuple[tuple[str, str], ...]
    receipt_number: str | None = None


def _shallow(record: Receipt | IssuedDocument | ServiceResult) -> dict[str, Any]:
    """A dataclass's fields as a dict, for JSON (which writes tuples as lists): what
    `dataclasses.asdict` gives here, without its deep copy, which took a third of the
    central service's replay of a command."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


@dataclass(frozen=True)
class ServiceResult:
    """What a completed service changed: for the UI to refresh and print, and for tests."""

    command_id: str
    type: str
    changed_persons: tuple[str, ...] = ()
    documents: tuple[IssuedDocument, ...] = ()
    receipt: Receipt | None = None
    notices: tuple[str, ...] = ()
    replayed: bool = False

    def to_json(self) -> str:
        data = {**_shallow(self), "documents": [_shallow(d) for d in self.documents],
                "receipt": _shallow(self.receipt) if self.receipt else None}
        data.pop("replayed")
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ServiceResult:
        data = json.loads(text)
        docs = tuple(IssuedDocument(**{**d, "fields": tuple(tuple(f) for f in d["fields"])})
                     for d in data.pop("documents"))
        receipt = Receipt(**data.pop("receipt")) if data.get("receipt") else None
        data.pop("receipt", None)
        return cls(**{**data, "changed_persons": tuple(data["changed_persons"]),
                      "notices": tuple(data["notices"])},
                   documents=docs, receipt=receipt, replayed=True)


@dataclass
class ServiceContext:
    """The transaction a service runs in, and who runs it when."""

    store: Store
    command_id: str
    now: datetime
    today: date
    base_versions: dict[str, int] = field(default_factory=dict)
    changed_persons: list[str] = field(default_factory=list)
    documents: list[IssuedDocument] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    receipt: Receipt | None = None
    # The central service's replay of a command a Klärfall settled: the register's state was
    # decided by the clerk, so a record the command expected may be missing; only the
    # command's documents and payments are wanted.
    lenient: bool = False

    @property
    def conn(self) -> sqlcipher3.Connection:
        return self.store.conn

    @property
    def clerk(self) -> str:
        return self.store.actor.clerk

    @property
    def workstation(self) -> str:
        return self.store.actor.workstation

    def next_number(self, series: str) -> int:
        """The next number of a gap-free local series (documents, receipts) in this transaction."""
        self.conn.execute("INSERT INTO counters (series, value) VALUES (?, 1) "
                          "ON CONFLICT(series) DO UPDATE SET value = value + 1", (series,))
        return int(self.conn.execute("SELECT value FROM counters WHERE series = ?",
                                     (series,)).fetchone()[0])

    def number(self, prefix: str) -> str:
        """A document or receipt number unique across all workstations, offline too:
        prefix, workstation, year, running number ('MB-SCHALTER3-2026-000042')."""
        station = "".join(c for c in self.workstation.upper() if c.isalnum())[:12] or "WS"
        year = self.today.year
        return f"{prefix}-{station}-{year}-{self.next_number(f'{prefix}/{year}'):06d}"

    def touch(self, table: str, record_id: str) -> int:
        """Note the version of a record the command depends on (for the sync's check)."""
        row = self.conn.execute(f"SELECT version FROM {table} WHERE id = ?",
                                (record_id,)).fetchone()
        if row is None and self.lenient:
            return 0
        if row is None:
            raise NotFoundError("Der Datensatz ist im Melderegister nicht (mehr) vorhanden.",
                                f"{table} record not found")
        self.base_versions.setdefault(f"{table}/{record_id}", int(row[0]))
        return int(row[0])

    def issue_document(self, doc: IssuedDocument) -> None:
        """Record a document issued by this command (content as data; rendering comes later)."""
        self.conn.execute(
            "INSERT INTO documents (id, number, type, person_id, command_id, issued_at, clerk, "
            "workstation, content, receipt_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.number, doc.number, doc.type, doc.person_id, self.command_id,
             self.now.isoformat(timespec="seconds"), self.clerk, self.workstation,
             json.dumps(_shallow(doc), ensure_ascii=False), doc.receipt_number))
        self.documents.append(doc)

    def audit(self, action: str, person_id: str | None, purpose: str,
              detail: str | None = None) -> None:
        audit.record(self.store, action, person_id, purpose, detail)
        if person_id and action != audit.READ and person_id not in self.changed_persons:
            self.changed_persons.append(person_id)


class Service(Protocol):
    """A counter service: its command type, how a form becomes a payload, how it applies."""

    type: str

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]: ...

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None: ...


SERVICES: dict[str, Service] = {}
# The modules that define services; each registers its command types when imported.
SERVICE_MODULES = ("clerk_app.cashbook", "clerk_app.services.certificates",
                   "clerk_app.services.registration")


def register(service: Service) -> Service:
    SERVICES[service.type] = service
    return service


def load_services() -> dict[str, Service]:
    """Import every service module once, so that every command type is known.

    Imported late, not at module level: the service modules import this framework.
    """
    for module in SERVICE_MODULES:
        importlib.import_module(module)
    return SERVICES


def stored_result(store: Store, command_id: str) -> ServiceResult | None:
    row = store.conn.execute("SELECT result FROM outbox WHERE command_id = ?",
                             (command_id,)).fetchone()
    return ServiceResult.from_json(row[0]) if row else None


def run_service(store: Store, service_type: str, form: dict[str, Any], command_id: str, *,
                now: Callable[[], datetime] = lambda: datetime.now(UTC),
                today: date | None = None) -> ServiceResult:
    """Validate, apply and queue one service in one transaction; idempotent per command id."""
    previous = stored_result(store, command_id)
    if previous is not None:
        return previous
    service = load_services().get(service_type)
    if service is None:
        raise ValidationError(f"Unbekannte Dienstleistung „{service_type}“.",
                              f"unknown service type {service_type!r}")
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


def append_outbox(store: Store, command_id: str, command_type: str, payload: Mapping[str, Any],
                  created_at: datetime, *, base_versions: Mapping[str, int] | None = None,
                  result: str = "{}") -> None:
    """Queue one command for the central service, in the caller's transaction.

    The one place that writes outbox rows (services here, the document archive in
    `clerk_app.documents`), so every command carries device, clerk and time the same way.
    """
    store.conn.execute(
        "INSERT INTO outbox (command_id, type, payload, base_versions, device, clerk, "
        "created_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (command_id, command_type, json.dumps(payload, ensure_ascii=False),
         json.dumps(dict(base_versions or {})), store.actor.workstation, store.actor.clerk,
         created_at.isoformat(timespec="milliseconds"), result))
