"""Online applications on the wire, shaped like FIT-Connect's submission API.

A portal fetches the destination's public keys, encrypts the data JSON, each attachment and the
metadata (which carries SHA-512 hashes of the data and each attachment) as compact JWEs, and
posts one `Submission`. The destination answers with the security events (JWS) it has sent for
that submission so far; the portal can fetch them again later, and the documents delivered to
the citizen's mailbox.

The same models carry the inbox to workstations (`InboxPage`) and a clerk's claim and outcome
back (`InboxClaim`, `InboxOutcome`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

FIT_PREFIX = "/fit/v1"
SUBMISSIONS_PATH = f"{FIT_PREFIX}/submissions"
EVENT_PREFIX = "https://schema.fitko.de/fit-connect/events/"
ACCEPT = "accept-submission"
REJECT = "reject-submission"
JWE_ALGORITHMS = ["RSA-OAEP-256", "A256GCM"]
SIGNATURE_ALGORITHMS = ["PS512"]
HASH_TYPE = "sha512"

SUBMISSION_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SubmissionId = Annotated[str, StringConstraints(pattern=SUBMISSION_ID)]
# A compact JWE: five base64url parts. The bound is far above any real request's size; the
# body limit of the submission route is what refuses an oversized one first.
Jwe = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.]*$", max_length=8 << 20)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9_.\-]+$")]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EncryptedAttachment(_Wire):
    attachment_id: Name
    content: Jwe


class Submission(_Wire):
    submission_id: SubmissionId
    kind: Name  # an unknown kind is the intake's refusal; other characters are no submission
    metadata: Jwe
    data: Jwe
    attachments: list[EncryptedAttachment] = Field(default_factory=list, max_length=10)


class SubmissionAnswer(_Wire):
    submission_id: str
    status: Literal["received", "refused", "accepted", "waiting", "rejected", "in_work"]
    duplicate: bool = False
    events: list[str] = Field(default_factory=list)  # compact JWS, oldest first


class MailboxDocument(_Wire):
    name: str
    media_type: str
    content_b64: str


class Mailbox(_Wire):
    documents: list[MailboxDocument]


class InboxItem(_Wire):
    """One online application as a workstation keeps it (the data is personal data)."""

    submission_id: str
    kind: str
    received_at: str
    state: Literal["new", "in_work", "waiting", "done", "rejected"]
    claimed_by: str | None = None
    reason: str | None = None
    data: dict[str, Any]
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    seq: int


class InboxPage(_Wire):
    items: list[InboxItem]
    high_water_mark: int


class InboxClaim(_Wire):
    clerk: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    release: bool = False


class InboxOutcome(_Wire):
    """A clerk's decision: done (accepted; the document goes to the mailbox when delivered
    electronically), waiting for the citizen (accepted pending identification), rejected."""

    clerk: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    state: Literal["done", "waiting", "rejected"]
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
    document_name: Annotated[str, StringConstraints(max_length=100)] = ""
    document_b64: Annotated[str, StringConstraints(max_length=16 << 20)] = ""
    # Accepted pending identification: the SHA-256 of the code in the letter, which the citizen
    # enters at the portal (`Confirmation`); the item then comes back into work.
    confirmation_sha256: Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{64})?$")] = ""


class Confirmation(_Wire):
    code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
