"""What a counter service is made of: its context, its result, its documents and receipt.

A service has two steps. `prepare` turns what the clerk entered into the command's payload:
it validates, and mints everything that must be the same on both ends (new record ids,
document and receipt numbers). `apply` performs the payload's effect on a register. Locally
both run in one transaction together with the payment, the documents, the audit entries and
the outbox row, so a crash leaves all of it or none of it. The central service later runs
`apply` alone on the same payload: one definition, used by both ends.

`clerk_app.services.runner` knows every service and runs one; this module is what the
service modules themselves import, so it imports none of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Protocol

import sqlcipher3

from clerk_app import audit
from clerk_app.errors import NotFoundError
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

    def as_data(self) -> dict[str, Any]:
        """The result as JSON data, lists where JSON has them (the central service answers
        with it and stores it, without a round trip through the text)."""
        data = {**_shallow(self), "changed_persons": list(self.changed_persons),
                "documents": [{**_shallow(d), "fields": [list(f) for f in d.fields]}
                              for d in self.documents],
                "receipt": _shallow(self.receipt) if self.receipt else None,
                "notices": list(self.notices)}
        data.pop("replayed")
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_data(), ensure_ascii=False)

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
    """A counter service: its command type, the permission a clerk needs for it
    (`clerk_app.clerks`), how a form becomes a payload, how it applies."""

    type: str
    permission: str

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]: ...

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None: ...
