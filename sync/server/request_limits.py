"""Request bodies limited before anything reads them.

An unauthenticated 100 MB POST must not cost the service 100 MB (nor a JSON parser's
multiple of it): this ASGI layer refuses a body whose declared length is too large at once, and
counts the bytes of one without a declared length as they arrive, refusing as soon as the limit
is passed. Only then does the app see the body. Refusals are 413 in the `Problem` shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import Problem


def problem_response(status: int, problem: Problem) -> JSONResponse:
    return JSONResponse(status_code=status, content=problem.model_dump(exclude_none=True))


def _too_large(limit: int) -> JSONResponse:
    return problem_response(413, Problem(
        message_de="Die Anfrage ist zu groß für die Zentrale.",
        message_en=f"request body larger than {limit} bytes"))


class BodyLimit:
    """At most `limit` bytes of body per request (`limits`: other limits for some paths)."""

    def __init__(self, app: ASGIApp, *, limit: int, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem_response(400, Problem(
                    message_de="Die Anfrage ist fehlerhaft.",
                    message_en="invalid Content-Length"))(scope, receive, send)
                return
            if int(declared) > limit:
                await _too_large(limit)(scope, receive, send)
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
                await _too_large(limit)(scope, receive, send)
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


