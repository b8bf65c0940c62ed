"""The sync protocol, shared by the workstation's engine and the central service.

Versioned: every request carries `X-Clerk-Protocol` (this module's PROTOCOL_VERSION) and
`X-Clerk-Schema` (the register schema the client's commands and aggregates follow). The
service refuses other versions with HTTP 426 and a message the clerk can read (see
docs/sync-protocol.md, and the OpenAPI document the service serves at /openapi.json).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from clerk_app.store.migrations import SCHEMA_VERSION

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Clerk-Protocol"
SCHEMA_HEADER = "X-Clerk-Schema"
API_PREFIX = "/v1"
# The register schemas whose commands this build's service can replay (only additive changes
# keep an old offline client's commands valid; see sync.md).
ACCEPTED_SCHEMAS = frozenset({SCHEMA_VERSION})

# Command types the service handles itself, not through a counter service.
ARCHIVE_COMMAND = "archive_document"  # same name as clerk_app.documents.ARCHIVE_COMMAND
RESOLUTION_COMMAND = "klaerfall_loesung"

Status = Literal["applied", "duplicate", "conflict", "rejected", "deferred"]
# The answer's `code` when a withdrawn workstation calls (it then destroys its register).
DEVICE_REVOKED = "device_revoked"


class Hello(BaseModel):
    """What the service says about itself (no token needed): versions and its clock."""

    service: str = "clerk-app central"
    protocol: int = PROTOCOL_VERSION
    schemas: list[int]
    server_time: str
    high_water_mark: int


class EnrolRequest(BaseModel):
    code: str = Field(min_length=4, max_length=64)
    device_name: str = Field(min_length=1, max_length=64)


class EnrolResponse(BaseModel):
    device_id: str
    token: str


class Command(BaseModel):
    """One outbox row, as pushed. `persons` are the persons the command changed (from its local
    result): the service defers later commands of a batch on a person whose command failed."""

    command_id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any]
    base_versions: dict[str, int] = {}
    device: str
    clerk: str
    created_at: str
    persons: list[str] = []


class PushRequest(BaseModel):
    commands: list[Command] = Field(max_length=1000)


class AggregateRecord(BaseModel):
    """One aggregate at one change: `data` None is a tombstone (deleted centrally)."""

    kind: str
    id: str
    seq: int
    data: dict[str, Any] | None


class CommandResult(BaseModel):
    command_id: str
    status: Status
    # applied/duplicate: the stored outcome; duplicate of a rejected command keeps 'rejected'
    # in `final_status`.
    final_status: str | None = None
    reason: str | None = None  # German, for the clerk (rejected, conflict, deferred)
    server_records: list[AggregateRecord] = []  # conflict: the central versions
    result: dict[str, Any] = {}


class PushResponse(BaseModel):
    results: list[CommandResult]
    high_water_mark: int


class ChangesPage(BaseModel):
    """Changes with since < seq <= until, in seq order; `until` is the gap-free high-water
    mark (or the page's last seq when `more`)."""

    changes: list[AggregateRecord]
    until: int
    more: bool


class BootstrapPage(BaseModel):
    """A page of the whole register as of `high_water_mark`, ordered by (kind, id); resume
    with after_kind/after_id of the last item."""

    items: list[AggregateRecord]
    high_water_mark: int
    more: bool


class ChecksumRequest(BaseModel):
    exclude: list[str] = []  # aggregate ids with local work not yet accepted centrally


class Checksum(BaseModel):
    high_water_mark: int
    counts: dict[str, int]
    sums: dict[str, int]


class AccessLogUpload(BaseModel):
    """A workstation's access-log entries (who looked at or changed whom, when, why) in the
    order written; `id` is the entry's local number, unique per device."""

    entries: list[dict[str, Any]] = Field(max_length=5000)


class AccessLogReceipt(BaseModel):
    stored: int
    last_id: int


class ArchiveReceipt(BaseModel):
    command_id: str
    status: Status
    sha256: str
    reason: str | None = None  # German, for the clerk (rejected, deferred)


class DocumentVerification(BaseModel):
    number: str
    known: bool
    type: str | None = None
    issued_at: str | None = None
    workstation: str | None = None
    files: list[dict[str, Any]] = []


class Problem(BaseModel):
    """Every error answer: German for the clerk, English for the log; `code` names the few
    refusals a workstation acts on by itself (`device_revoked`)."""

    message_de: str
    message_en: str
    code: str | None = None
