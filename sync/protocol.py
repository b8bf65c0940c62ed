"""The sync protocol, shared by the workstation's engine and the central service.

Versioned: every request carries `X-Clerk-Protocol` (this module's PROTOCOL_VERSION) and
`X-Clerk-Schema` (the register schema the client's commands and aggregates follow). The
service refuses other versions with HTTP 426 and a message the clerk can read (see
docs/sync-protocol.md, and the OpenAPI document the service serves at /openapi.json).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from clerk_app.office_keys import OfficeKey
from clerk_app.store.migrations import SCHEMA_VERSION

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Clerk-Protocol"
SCHEMA_HEADER = "X-Clerk-Schema"
CLERK_SESSION_HEADER = "X-Clerk-Session"  # the clerk session of /v1/clerk-login
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

# Every number and list on the wire is bounded (an attacker's 2**64 or a million-item list is
# a 422, never a server error or a night of work). Sequence numbers fit a signed 64-bit column.
MAX_SEQ = 2**63 - 1
# Strict: JSON `true` is not the number 1, nor "7" or 7.0 a number (pydantic's lax mode would
# take them); the OpenAPI document says integer, and so does the service.
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ, strict=True)]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, strict=True)]


def storable(text: str) -> str:
    """Text both databases can keep: no NUL (PostgreSQL refuses it), no lone surrogate (not
    UTF-8)."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL")
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode") from exc
    return text


Stored = AfterValidator(storable)
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), Stored]
Short = Annotated[str, StringConstraints(max_length=64), Stored]
Name = Annotated[str, StringConstraints(max_length=200), Stored]
Long = Annotated[str, StringConstraints(max_length=2000), Stored]
# Aggregates a payload names, records in a page, ids in a checksum request.
MAX_ITEMS = 5000
MAX_DEPTH = 16  # nesting of a payload (a registration's is 4 deep)


def bounded_json(value: Any, depth: int = 0) -> Any:
    """A payload as the service accepts it: finite numbers within 64 bits, storable text, not
    nested without end (JSON's 1e400 parses as infinity, and a replay must never meet it).

    Level by level, with the text of all keys and strings checked at once: a call per value
    (the recursion this replaced) cost both ends of a push more than parsing the JSON."""
    texts: list[str] = []
    level = [value]
    while level:
        if depth > MAX_DEPTH:
            raise ValueError("nested too deeply")
        nested: list[Any] = []
        for item in level:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, dict):
                texts.extend(item)
                nested.extend(item.values())
            elif isinstance(item, list):
                nested.extend(item)
            elif isinstance(item, float):
                # Beyond 64 bits: an integer that a fast parser (the service's) read as float.
                if not math.isfinite(item) or abs(item) > MAX_SEQ:
                    raise ValueError("numbers must be finite and within 64 bits")
            elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_SEQ:
                raise ValueError("integer out of range")
        level = nested
        depth += 1
    storable("".join(texts))
    return value


Payload = Annotated[dict[str, Any], AfterValidator(bounded_json)]
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
    code: Annotated[str, StringConstraints(min_length=4, max_length=64), Stored]
    device_name: Id


class EnrolResponse(BaseModel):
    device_id: str
    token: str


class Command(BaseModel):
    """One outbox row, as pushed. `persons` are the persons the command changed (from its local
    result): the service defers later commands of a batch on a person whose command failed."""

    command_id: Id
    type: Id
    payload: Payload
    base_versions: dict[Name, Version] = Field(default={}, max_length=MAX_ITEMS)
    # As the workstation claims them: the service takes the device from the token and marks
    # the clerk as claimed (see docs/sync-protocol.md, "Trust").
    device: Name
    clerk: Name
    created_at: Short
    persons: list[Name] = Field(default=[], max_length=MAX_ITEMS)


class PushRequest(BaseModel):
    commands: list[Command] = Field(max_length=1000)


class AggregateRecord(BaseModel):
    """One aggregate at one change: `data` None is a tombstone (deleted centrally)."""

    kind: str
    id: str
    seq: Seq
    data: dict[str, Any] | None
    # In a conflict answer: the fields both this command and another office changed since the
    # command's base ('residences/<id>.move_out'); the Klärfall shows them. Empty otherwise.
    contested: list[str] = Field(default=[], max_length=MAX_ITEMS)


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
    # aggregate ids with local work not yet accepted centrally
    exclude: list[Name] = Field(default=[], max_length=100_000)


class Checksum(BaseModel):
    high_water_mark: int
    counts: dict[str, int]
    sums: dict[str, int]


class ClerkLoginRequest(BaseModel):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    new_password: str | None = Field(default=None, max_length=256)


class ClerkLoginResponse(BaseModel):
    """A clerk's login: who, which roles, and the clerk session bound to this device (no
    session while a new password is due: `must_change_password`)."""

    login: str
    display_name: str
    roles: list[str]
    must_change_password: bool
    session_token: str | None = None
    expires_at: str | None = None


class ClerkAdminRequest(BaseModel):
    """An administrator's change to a clerk account (needs a session with clerks.manage)."""

    action: Literal["add", "disable", "enable", "reset", "roles", "secrecy"]
    login: str = Field(min_length=1, max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    roles: list[str] | None = None
    secrecy_date: str | None = None  # ISO date


class ClerkAdminAnswer(BaseModel):
    """The accounts after the change; a new or reset account's one-time password."""

    accounts: list[dict[str, Any]]
    one_time_password: str | None = None


class AccessLogAlerts(BaseModel):
    """What the centre found in the workstations' access-log chains (for Datenschutz)."""

    alerts: list[dict[str, Any]]


class AccessLogEntry(BaseModel):
    """One audit entry as the workstation's `audit_log` holds it; `id` is its local number,
    unique per device. Columns a newer workstation adds are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[int, Field(ge=1, le=MAX_SEQ, strict=True)]
    at: Short
    clerk: Name
    workstation: Name
    action: Short
    person_id: Short | None = None
    purpose: Long
    detail: Long | None = None
    # The hash chain (`clerk_app.access_chain`): the centre checks it on upload.
    prev_hash: Short = ""
    hash: Short = ""


class AccessLogUpload(BaseModel):
    """A workstation's access-log entries (who looked at or changed whom, when, why) in the
    order written."""

    entries: list[AccessLogEntry] = Field(max_length=5000)


class AccessLogReceipt(BaseModel):
    stored: int
    last_id: int


class Decision(BaseModel):
    """A `klaerfall_loesung` payload. `records` (what an older workstation sent with 'local')
    is ignored: the service never takes a person's records from a device."""

    command_id: Id
    decision: Literal["local", "central"]
    dependents: list[Short] = Field(default=[], max_length=MAX_ITEMS)
    central_versions: dict[Name, Version] = Field(default={}, max_length=MAX_ITEMS)


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


class DeviceInfo(BaseModel):
    """An enrolled workstation, for IT (`clerk-app central devices`)."""

    device_id: str
    name: str
    enrolled_at: str
    last_contact: str | None
    revoked_at: str | None
    pending: int  # its commands the centre holds undecided (open Klärfälle)


# --- office seal keys (see sync.office_key_exchange) and the update notice -----------------

class OfficeKeyGrant(BaseModel):
    """What a workstation needs to seal: its office's current key, private half included."""

    key_id: str
    office_id: str
    office_name: str
    public_key: str
    private_key: str
    valid_from: str
    valid_until: str | None = None

    def entry(self) -> OfficeKey:
        return OfficeKey.from_dict(self.model_dump(exclude={"private_key"}))


class SignedKeyList(BaseModel):
    """The published list as it travels (see `clerk_app.office_keys.sign_list`)."""

    format: str
    list: str
    signer: str
    signature: str


UPDATE_NOTICE_PATH = "/update-notice.json"  # outside /v1: old workstations still read it
UPDATE_NOTICE_MAX_BYTES = 16_384
