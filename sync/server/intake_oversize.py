"""Submissions too large to take in: refused with a signed reason all the same.

The body limit (`request_limits.BodyLimit`) hands a submission body that passes its limit
here instead of answering 413 unread. From a portal that shows a valid token the rest of the
body is read and dropped (up to `DRAIN_LIMIT`; past that the answer goes at once and the
connection closes), keeping only what identifies it: its size, its SHA-256 (the same body sent
again is the same refusal), its first bytes (JWEs and ids, no plaintext), and the submission
id and kind wherever the body names them. The intake then refuses it like any broken
submission: 413 with code `refused`, and the signed "reject-submission" event for the portal
to fetch. Without a valid token nothing more is read: 413 as on every route.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope

from sync.protocol import Problem
from sync.server.central import CentralError
from sync.server.request_limits import problem_response, too_large

if TYPE_CHECKING:
    from sync.server.intake import Intake

DRAIN_LIMIT = 64 << 20
OVERLAP = 160  # bytes carried from one chunk to the next: longer than an id's key and value


class Sighting:
    """What is kept of a body read in chunks: size, SHA-256, first bytes, id and kind."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = b""
        self.submission_id: str | None = None
        self.kind = ""
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        from sync.server.intake import ID_IN_BODY, KIND_IN_BODY

        self.size += len(chunk)
        self.digest.update(chunk)
        if len(self.head) < self.keep:
            self.head += chunk[:self.keep - len(self.head)]
        if self.submission_id is None or not self.kind:
            window = self._tail + chunk
            found, kind = ID_IN_BODY.search(window), KIND_IN_BODY.search(window)
            if found and self.submission_id is None:
                self.submission_id = found.group(1).decode()
            if kind and not self.kind:
                self.kind = kind.group(1).decode()
            self._tail = window[-OVERLAP:]

    def kept(self, complete: bool) -> dict[str, object]:
        return {"size": self.size, "complete": complete, "sha256": self.digest.hexdigest(),
                "first_bytes": self.head.decode("utf-8", "replace")}


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


async def oversize_submission(scope: Scope, seen: bytes, more: bool, receive: Receive,
                              limit: int) -> JSONResponse:
    """The answer to a submission body over `limit` bytes, of which `seen` was read (and
    `more` follows): see the module docstring."""
    from sync.server.intake import KEEP_UNREAD, Refusal

    app = scope.get("app")
    intake: Intake | None = getattr(getattr(app, "state", None), "intake", None)
    token = _bearer(scope)
    if intake is None or not token:
        return too_large(limit)
    try:
        portal = await run_in_threadpool(intake.portal, token)
    except CentralError:
        return too_large(limit)
    sighting = Sighting(KEEP_UNREAD)
    sighting.feed(seen)
    while more and sighting.size <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":  # the portal went away: refuse what came
            break
        sighting.feed(message.get("body", b""))
        more = bool(message.get("more_body", False))
    over = "" if not more else "more than "
    refusal = Refusal("oversize", f"body of {over}{sighting.size} bytes, over the limit of "
                                  f"{limit}")
    try:
        error = await run_in_threadpool(intake.refuse_unread, sighting.submission_id, portal,
                                        sighting.kind, refusal, sighting.kept(not more))
    except CentralError as exc:  # the id is another submission's
        error = exc
    return problem_response(error.status, Problem(message_de=error.message_de,
                                                  message_en=error.message_en,
                                                  code=error.code))
