"""Request bodies limited before anything reads them.

An unauthenticated 100 MB POST must not cost the service 100 MB (nor a JSON parser's
multiple of it): this ASGI layer refuses a body whose declared length is too large at once, and
counts the bytes of one without a declared length as they arrive, refusing as soon as the limit
is passed. Only then does the app see the body. Refusals are 413 in the `Problem` shape, but
for paths with an `overflow` handler: a POST there that passes the limit is handed to it
with what was read so far, to answer as it must (the intake refuses an oversize submission
with a signed reason, `intake_oversize`). A path's larger limit (the archive's PDFs) is for an
enrolled workstation's token only: without one, a dozen anonymous uploads would have the
service hold gigabytes before refusing them.
Requests to the open booking API are also limited in number per client (`RateLimit`, 429).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import Problem


def problem_response(status: int, problem: Problem) -> JSONResponse:
    return JSONResponse(status_code=status, content=problem.model_dump(exclude_none=True))


def too_large(limit: int) -> JSONResponse:
    return problem_response(413, Problem(
        message_de="Die Anfrage ist zu groß für die Zentrale.",
        message_en=f"request body larger than {limit} bytes"))


# (scope, the body read so far, whether more follows, receive, the limit) -> the answer
Overflow = Callable[[Scope, bytes, bool, Receive, int], Awaitable[JSONResponse]]


class BodyLimit:
    """At most `limit` bytes of body per request (`limits`: larger limits for some paths, for
    requests whose bearer token `enrolled` accepts; `overflow`: who answers a POST past the
    limit on some paths)."""

    def __init__(self, app: ASGIApp, *, limit: int, limits: Mapping[str, int],
                 enrolled: Callable[[str], bool],
                 overflow: Mapping[str, Overflow] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.limits = dict(limits)
        self.enrolled = enrolled
        self.overflow = dict(overflow or {})

    async def _limit(self, scope: Scope, headers: Mapping[bytes, bytes]) -> int:
        larger = self.limits.get(scope["path"])
        if larger is None:
            return self.limit
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self.limit
        # Off the event loop: the token is looked up in the database.
        return larger if await run_in_threadpool(self.enrolled, token.strip()) else self.limit

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int,
                      seen: bytes, more: bool) -> None:
        handler = self.overflow.get(scope["path"]) if scope.get("method") == "POST" else None
        response = too_large(limit) if handler is None else \
            await handler(scope, seen, more, receive, limit)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = await self._limit(scope, headers)
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem_response(400, Problem(
                    message_de="Die Anfrage ist fehlerhaft.",
                    message_en="invalid Content-Length"))(scope, receive, send)
                return
            if int(declared) > limit:
                await self._refuse(scope, receive, send, limit, b"", True)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                chunks.append(chunk)
                await self._refuse(scope, receive, send, limit, b"".join(chunks),
                                   bool(message.get("more_body", False)))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)




class RateLimit:
    """At most `per_minute` requests a minute per client address, with bursts up to `burst`
    (a token bucket per address, in this process). The city portal's booking API is open to
    the internet: this keeps one address from emptying the calendar or guessing cancellation
    codes. Refused requests get 429."""

    def __init__(self, per_minute: int, burst: int, *, max_clients: int = 50_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> float:
        """0 if `client` may go ahead now (and takes a token), else seconds to wait."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, since = self._buckets.get(client, (self.burst, moment))
            tokens = min(self.burst, tokens + (moment - since) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, moment)
                return (1.0 - tokens) / self.rate
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # a flood of addresses: forget, rather than grow
            self._buckets[client] = (tokens - 1.0, moment)
            return 0.0
