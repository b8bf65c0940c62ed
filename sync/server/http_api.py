"""The central service on HTTP (FastAPI): the documented, versioned sync protocol.

Every /v1 request except /v1/hello and /v1/enrol needs a device token (`Authorization: Bearer`),
and every /v1 request except /v1/hello must name the protocol and schema version it speaks;
other versions get 426 with a message for the clerk. Answers are gzip-compressed when the
client accepts it (bootstrap pages shrink about tenfold). OpenAPI: /openapi.json, /docs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from clerk_app import __version__
from sync.protocol import (
    ACCEPTED_SCHEMAS,
    API_PREFIX,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    AccessLogReceipt,
    AccessLogUpload,
    ArchiveReceipt,
    BootstrapPage,
    ChangesPage,
    Checksum,
    ChecksumRequest,
    Command,
    DocumentVerification,
    EnrolRequest,
    EnrolResponse,
    Hello,
    Problem,
    PushRequest,
    PushResponse,
)
from sync.server.central import Central, CentralError

log = logging.getLogger(__name__)

UNVERSIONED = {f"{API_PREFIX}/hello"}


def _problem(status: int, message_de: str, message_en: str,
             code: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status,
                        content=Problem(message_de=message_de, message_en=message_en,
                                        code=code).model_dump())


def _device(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The calling workstation's device id, from its bearer token."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        raise CentralError(401, "Dieser Arbeitsplatz ist bei der Zentrale nicht angemeldet.",
                           "missing device token")
    central: Central = request.app.state.central
    return central.authenticate(token)


# Module level: FastAPI resolves the (string) annotations in this module's namespace.
Device = Annotated[str, Depends(_device)]


def create_app(central: Central) -> FastAPI:
    app = FastAPI(title="clerk-app central service", version=f"{PROTOCOL_VERSION}.{__version__}",
                  description="Sync protocol between counter workstations and the central "
                              "register. See docs/sync-protocol.md.")
    app.state.central = central
    app.add_middleware(GZipMiddleware, minimum_size=2048)

    @app.middleware("http")
    async def check_versions(request: Request,
                             call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(API_PREFIX) and path not in UNVERSIONED:
            protocol = request.headers.get(PROTOCOL_HEADER)
            schema = request.headers.get(SCHEMA_HEADER)
            if protocol != str(PROTOCOL_VERSION) or \
                    not (schema or "").isdigit() or int(schema or 0) not in ACCEPTED_SCHEMAS:
                return _problem(
                    426, "Diese Programmversion passt nicht zur Zentrale (Protokoll "
                         f"{protocol or '?'}, Datenstand {schema or '?'}; die Zentrale erwartet "
                         f"Protokoll {PROTOCOL_VERSION}, Datenstand "
                         f"{'/'.join(map(str, sorted(ACCEPTED_SCHEMAS)))}). Bitte das Programm "
                         "aktualisieren lassen; die Arbeit bleibt bis dahin gespeichert.",
                    f"incompatible client: protocol {protocol}, schema {schema}")
        return await call_next(request)

    @app.exception_handler(CentralError)
    async def central_error(_: Request, exc: CentralError) -> JSONResponse:
        return _problem(exc.status, exc.message_de, exc.message_en, exc.code)

    errors: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 426: {"model": Problem}}

    @app.get(f"{API_PREFIX}/hello", response_model=Hello)
    def hello() -> Hello:
        return central.hello()

    @app.post(f"{API_PREFIX}/enrol", response_model=EnrolResponse,
              responses={403: {"model": Problem}, 426: {"model": Problem}})
    def enrol(body: EnrolRequest) -> EnrolResponse:
        device_id, token = central.enrol(body.code, body.device_name)
        return EnrolResponse(device_id=device_id, token=token)

    @app.post(f"{API_PREFIX}/push", response_model=PushResponse, responses=errors)
    async def push(body: PushRequest, _: Device) -> PushResponse:
        # Off the event loop: a batch replays commands and writes in one transaction.
        return await run_in_threadpool(central.push, body.commands)

    @app.get(f"{API_PREFIX}/changes", response_model=ChangesPage, responses=errors)
    def changes(_: Device, since: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> ChangesPage:
        return central.changes(since, limit)

    @app.get(f"{API_PREFIX}/bootstrap", response_model=BootstrapPage, responses=errors)
    def bootstrap(_: Device, after_kind: str = "", after_id: str = "",
                  high_water_mark: Annotated[int | None, Query(ge=0)] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 2000) -> BootstrapPage:
        return central.bootstrap(after_kind, after_id, high_water_mark, limit)

    @app.post(f"{API_PREFIX}/checksum", response_model=Checksum, responses=errors)
    def checksum(body: ChecksumRequest, _: Device) -> Checksum:
        return central.checksum(body.exclude)

    @app.post(f"{API_PREFIX}/access-log", response_model=AccessLogReceipt,
              responses={**errors, 422: {"model": Problem}})
    def access_log(body: AccessLogUpload, device_id: Device) -> AccessLogReceipt:
        return central.store_access_log(device_id, body.entries)

    @app.post(f"{API_PREFIX}/archive", response_model=ArchiveReceipt,
              responses={**errors, 422: {"model": Problem}})
    def archive(body: Command, _: Device) -> ArchiveReceipt:
        return central.archive(body)

    @app.get(f"{API_PREFIX}/documents/{{number}}", response_model=DocumentVerification,
             responses=errors)
    def verify(number: str, _: Device, sha256: str | None = None) -> DocumentVerification:
        return central.verify_document(number, sha256)

    return app
