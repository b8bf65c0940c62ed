"""The central service on HTTP (FastAPI): the documented, versioned sync protocol.

Every /v1 request except /v1/hello and /v1/enrol needs a device token (`Authorization: Bearer`);
a clerk's requests also carry the clerk session from /v1/clerk-login (`X-Clerk-Session`),
and every /v1 request except /v1/hello must name the protocol and schema version it speaks;
other versions get 426 with a message for the clerk. A withdrawn device's token is refused
everywhere with 403 and `code: device_revoked`. Request bodies are limited before they are
read (`request_limits`); every refusal, a malformed request too, is a `Problem`. Answers are
gzip-compressed when the client accepts it (bootstrap pages shrink about tenfold). OpenAPI:
/openapi.json; the interactive pages (/docs) only when configured.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from clerk_app import __version__
from clerk_app.clerks import ACCESS_LOG_READ, CLERKS_MANAGE, Actor
from clerk_app.errors import ClerkError
from sync.fit_protocol import SUBMISSIONS_PATH
from sync.protocol import (
    ACCEPTED_SCHEMAS,
    API_PREFIX,
    MAX_SEQ,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    AccessLogAlerts,
    AccessLogReceipt,
    AccessLogUpload,
    ArchiveReceipt,
    BootstrapPage,
    ChangesPage,
    Checksum,
    ChecksumRequest,
    ClerkAdminAnswer,
    ClerkAdminRequest,
    ClerkLoginRequest,
    ClerkLoginResponse,
    Command,
    DocumentVerification,
    EnrolRequest,
    EnrolResponse,
    Hello,
    Problem,
    PushRequest,
    PushResponse,
)
from sync.server.central import Caller, Central, CentralError
from sync.server.clerk_accounts import ClerkAccounts
from sync.server.intake_keys import PrivateKeyStore
from sync.server.intake_oversize import oversize_submission
from sync.server.json_text import OrjsonRoute
from sync.server.request_limits import BodyLimit, problem_response

log = logging.getLogger(__name__)

UNVERSIONED = {f"{API_PREFIX}/hello"}
ARCHIVE_PATH = f"{API_PREFIX}/archive"
PUSHES_AT_ONCE = 2  # per process: one at the change-sequence lock, one ready to take it
# Longer than a reverse proxy keeps an idle connection to the service (nginx: 60 s), so the
# proxy, not the service, closes it: a request never meets a connection closing under it.
KEEP_ALIVE_S = 75
bearer = HTTPBearer(auto_error=False, scheme_name="deviceToken",
                    description="The device token from /v1/enrol.")


def _problem(status: int, message_de: str, message_en: str,
             code: str | None = None) -> JSONResponse:
    return problem_response(status, Problem(message_de=message_de, message_en=message_en,
                                            code=code))


def _device(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)] = None) -> Caller:
    """The calling workstation's device id, from its bearer token."""
    if credentials is None or not credentials.credentials.strip():
        raise CentralError(401, "Dieser Arbeitsplatz ist bei der Zentrale nicht angemeldet.",
                           "missing device token")
    central: Central = request.app.state.central
    return central.authenticate(credentials.credentials.strip())


def _not_withdrawn(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)] = None) -> None:
    """Endpoints open to all still refuse a withdrawn device's token (it must learn so)."""
    if credentials is not None and credentials.credentials.strip():
        try:
            _device(request, credentials)
        except CentralError as exc:
            if exc.status == 403:
                raise


def _versions(
        protocol: Annotated[Literal[str(PROTOCOL_VERSION)],  # type: ignore[valid-type]
                            Header(alias=PROTOCOL_HEADER)],
        schema: Annotated[Literal[tuple(str(s) for s in sorted(ACCEPTED_SCHEMAS))],  # type: ignore[valid-type]
                          Header(alias=SCHEMA_HEADER)]) -> None:
    """Declares the version headers in the OpenAPI document; the middleware checks them
    (before the token, so an old client learns it must be updated)."""


# Module level: FastAPI resolves the (string) annotations in this module's namespace.
Device = Annotated[Caller, Depends(_device)]
Versions = Depends(_versions)
Seq = Annotated[int, Query(ge=0, le=MAX_SEQ)]
PageSize = Annotated[int, Query(ge=1, le=5000)]
# Text in a query or path: bounded, and no NUL (PostgreSQL refuses it).
NO_NUL = "^[^\\x00]*$"
Key = Annotated[str, Query(max_length=64, pattern=NO_NUL)]


def _clerk(request: Request, caller: Device,
           x_clerk_session: Annotated[str | None, Header()] = None) -> Actor | None:
    """The clerk of the request's clerk session (bound to the calling device), if it has one."""
    if not x_clerk_session:
        return None
    accounts: ClerkAccounts = request.app.state.clerk_accounts
    return accounts.session_actor(caller.device_id, x_clerk_session)


Clerk = Annotated["Actor | None", Depends(_clerk)]


class VersionCheck:
    """Every /v1 request names the protocol and schema version it speaks; others get 426
    with a message for the clerk, before the token is looked at (so an old client learns it
    must be updated). A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` (what
    `@app.middleware` makes) runs every request through streams and a task group of its
    own, a fifth of the service's work on a short request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and path not in UNVERSIONED:
            headers = Headers(scope=scope)
            protocol, schema = headers.get(PROTOCOL_HEADER), headers.get(SCHEMA_HEADER)
            if protocol != str(PROTOCOL_VERSION) or \
                    not (schema or "").isdigit() or int(schema or 0) not in ACCEPTED_SCHEMAS:
                await _problem(
                    426, "Diese Programmversion passt nicht zur Zentrale (Protokoll "
                         f"{protocol or '?'}, Datenstand {schema or '?'}; die Zentrale erwartet "
                         f"Protokoll {PROTOCOL_VERSION}, Datenstand "
                         f"{'/'.join(map(str, sorted(ACCEPTED_SCHEMAS)))}). Bitte das Programm "
                         "aktualisieren lassen; die Arbeit bleibt bis dahin gespeichert.",
                    f"incompatible client: protocol {protocol}, schema {schema}")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(central: Central, *, max_body: int = 4 << 20, max_archive: int = 32 << 20,
               docs: bool = False, booking_per_minute: int = 120,
               intake_keys: PrivateKeyStore | None = None) -> FastAPI:
    """The service's app; bodies above `max_body` bytes (`max_archive` for the archive
    upload) are refused with 413 unread; `docs` serves the interactive pages at /docs;
    the open booking API takes `booking_per_minute` requests a minute per address;
    `intake_keys` holds the private keys of the online applications' intake (without it
    the service takes in none)."""
    app = FastAPI(title="clerk-app central service", version=f"{PROTOCOL_VERSION}.{__version__}",
                  description="Sync protocol between counter workstations and the central "
                              "register. See docs/sync-protocol.md.",
                  docs_url="/docs" if docs else None, redoc_url=None)
    app.state.central = central
    accounts = app.state.clerk_accounts = ClerkAccounts(central.db)
    # zlib's default level: a push answer of 100 results compressed in half the time of
    # Starlette's level 9, 2 % larger.
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=6)

    app.add_middleware(VersionCheck)

    def enrolled(token: str) -> bool:
        try:
            central.authenticate(token)
        except CentralError:
            return False
        return True

    # Outermost: nothing reads a body before its size is known to be allowed.
    app.add_middleware(BodyLimit, limit=max_body, limits={ARCHIVE_PATH: max_archive},
                       enrolled=enrolled,
                       overflow={SUBMISSIONS_PATH: oversize_submission}
                       if intake_keys is not None else {})

    @app.exception_handler(CentralError)
    async def central_error(_: Request, exc: CentralError) -> JSONResponse:
        return _problem(exc.status, exc.message_de, exc.message_en, exc.code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) or "body"
                         for e in exc.errors()})[:5]
        refused = await _malformed_submission(request, fields)
        return refused or _problem(422, "Die Anfrage ist unvollständig oder fehlerhaft.",
                                   f"invalid request: {', '.join(fields)}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        refused = await _malformed_submission(request, ["body"]) \
            if exc.status_code == 400 else None  # the body would not parse
        return refused or _problem(exc.status_code,
                                   "Die Anfrage kann die Zentrale nicht beantworten.",
                                   str(exc.detail))

    def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
        return {status: {"model": Problem} for status in statuses}

    authed = answers(401, 403, 413, 422, 426)

    @app.get(f"{API_PREFIX}/hello", response_model=Hello, responses=answers(403, 422),
             dependencies=[Depends(_not_withdrawn)])
    def hello() -> Hello:
        return central.hello()

    @app.post(f"{API_PREFIX}/enrol", response_model=EnrolResponse,
              responses=answers(403, 413, 422, 426),
              dependencies=[Versions, Depends(_not_withdrawn)])
    def enrol(body: EnrolRequest) -> EnrolResponse:
        device_id, token = central.enrol(body.code, body.device_name)
        return EnrolResponse(device_id=device_id, token=token)

    # Pushes take their turn at the change-sequence lock anyway, one after the other over all
    # processes. Waiting for it here, not in the database, keeps this process's connections
    # and worker threads free for pulls, bootstraps and logins (200 workstations pushing at
    # once made an empty pull wait seconds for a connection).
    pushing = asyncio.Semaphore(PUSHES_AT_ONCE)

    async def push(body: PushRequest, caller: Device, clerk: Clerk) -> PushResponse:
        async with pushing:
            # Off the event loop: a batch replays commands and writes in one transaction.
            return await run_in_threadpool(central.push, body.commands, caller,
                                           clerk.clerk if clerk else None)

    app.router.add_api_route(f"{API_PREFIX}/push", push, methods=["POST"],
                             response_model=PushResponse, responses=authed,
                             dependencies=[Versions], route_class_override=OrjsonRoute)

    @app.post(f"{API_PREFIX}/clerk-login", response_model=ClerkLoginResponse,
              responses={**authed, 403: {"model": Problem}, 422: {"model": Problem},
                         423: {"model": Problem}, 429: {"model": Problem}})
    async def clerk_login(body: ClerkLoginRequest, caller: Device) -> ClerkLoginResponse:
        # Off the event loop: argon2id takes a tenth of a second on purpose.
        result = await run_in_threadpool(accounts.login, caller.device_id, body.login,
                                         body.password, body.new_password)
        return ClerkLoginResponse(
            login=result.account.login, display_name=result.account.display_name,
            roles=list(result.account.roles),
            must_change_password=result.session_token is None,
            session_token=result.session_token, expires_at=result.expires_at)

    @app.post(f"{API_PREFIX}/clerk-logout", responses=authed)
    def clerk_logout(caller: Device, x_clerk_session: Annotated[str | None, Header()] = None
                     ) -> dict[str, str]:
        if x_clerk_session:
            accounts.logout(caller.device_id, x_clerk_session)
        return {"status": "ok"}

    def administrator(clerk: Actor | None) -> None:
        if clerk is None or not clerk.may(CLERKS_MANAGE):
            raise CentralError(403, "Nur die Rolle Administration verwaltet Konten.",
                               "clerk administration needs clerks.manage")

    @app.get(f"{API_PREFIX}/clerks", response_model=ClerkAdminAnswer,
             responses={**authed, 403: {"model": Problem}})
    def clerk_list(clerk: Clerk) -> ClerkAdminAnswer:
        administrator(clerk)
        return ClerkAdminAnswer(accounts=[a.to_dict() for a in accounts.accounts()])

    @app.post(f"{API_PREFIX}/clerks", response_model=ClerkAdminAnswer,
              responses={**authed, 403: {"model": Problem}, 404: {"model": Problem},
                         409: {"model": Problem}, 422: {"model": Problem}})
    def clerk_admin(body: ClerkAdminRequest, clerk: Clerk) -> ClerkAdminAnswer:
        administrator(clerk)
        try:
            day = date.fromisoformat(body.secrecy_date) if body.secrecy_date else None
            password = accounts.administer(body.action, body.login, body.display_name,
                                           body.roles, day)
        except ValueError as exc:
            raise CentralError(422, "Das Datum ist ungültig (JJJJ-MM-TT).",
                               "invalid secrecy date") from exc
        except ClerkError as exc:   # an unknown role
            raise CentralError(422, exc.message_de, exc.message_en) from exc
        log.info("clerk account changed by an administrator (%s)", body.action)
        return ClerkAdminAnswer(accounts=[a.to_dict() for a in accounts.accounts()],
                                one_time_password=password)

    @app.get(f"{API_PREFIX}/access-log/alerts", response_model=AccessLogAlerts,
             responses={**authed, 403: {"model": Problem}})
    def access_log_alerts(clerk: Clerk) -> AccessLogAlerts:
        if clerk is None or not clerk.may(ACCESS_LOG_READ):
            raise CentralError(403, "Nur die Rolle Datenschutz sieht die Prüfergebnisse des "
                                    "Zugriffsprotokolls.", "access log alerts need "
                                                           "access_log.read")
        return AccessLogAlerts(alerts=central.access_log_alerts())

    @app.get(f"{API_PREFIX}/changes", response_model=ChangesPage, responses=authed,
             dependencies=[Versions], response_model_exclude_defaults=True)
    def changes(_: Device, since: Seq = 0, limit: PageSize = 1000) -> ChangesPage:
        return central.changes(since, limit)

    @app.get(f"{API_PREFIX}/bootstrap", response_model=BootstrapPage, responses=authed,
             dependencies=[Versions], response_model_exclude_defaults=True)
    def bootstrap(_: Device, after_kind: Key = "", after_id: Key = "",
                  high_water_mark: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
                  limit: PageSize = 2000) -> BootstrapPage:
        return central.bootstrap(after_kind, after_id, high_water_mark, limit)

    @app.post(f"{API_PREFIX}/checksum", response_model=Checksum, responses=authed,
              dependencies=[Versions])
    def checksum(body: ChecksumRequest, _: Device) -> Checksum:
        return central.checksum(body.exclude)

    @app.post(f"{API_PREFIX}/access-log", response_model=AccessLogReceipt, responses=authed,
              dependencies=[Versions])
    def access_log(body: AccessLogUpload, caller: Device) -> AccessLogReceipt:
        return central.store_access_log(caller, body.entries)

    @app.post(ARCHIVE_PATH, response_model=ArchiveReceipt, responses=authed,
              dependencies=[Versions])
    def archive(body: Command, caller: Device) -> ArchiveReceipt:
        return central.archive(body, caller)

    @app.get(f"{API_PREFIX}/documents/{{number}}", response_model=DocumentVerification,
             responses=authed, dependencies=[Versions])
    def verify(number: Annotated[str, Path(max_length=64, pattern=NO_NUL)], _: Device,
               sha256: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None
               ) -> DocumentVerification:
        return central.verify_document(number, sha256)

    _add_office_keys(app, central)
    _add_queue(app, central, booking_per_minute)
    if intake_keys is not None:
        _add_intake(app, central, intake_keys)
    return app


def serve(central: Central, *, host: str, port: int, tls_cert: str | None,
          tls_key: str | None, update_notice: pathlib.Path | None = None, max_body: int = 4 << 20,
          max_archive: int = 32 << 20, docs: bool = False, booking_per_minute: int = 120,
          intake_keys: PrivateKeyStore | None = None) -> None:
    """Run the service on uvicorn until stopped (`clerk-app central serve`); with
    `update_notice`, the release's signed notice is published too."""
    import uvicorn

    app = create_app(central, max_body=max_body, max_archive=max_archive, docs=docs,
                     booking_per_minute=booking_per_minute, intake_keys=intake_keys)
    if update_notice:
        from sync.server.update_notices import publish_update_notice

        publish_update_notice(app, update_notice)
    uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert,
                ssl_keyfile=tls_key, log_level="warning", timeout_keep_alive=KEEP_ALIVE_S,
                access_log=False)  # URLs name document numbers; no access log


def _add_queue(app: FastAPI, central: Central, booking_per_minute: int) -> None:
    """The shared queue with its live feed (device token) and the portal's booking API."""
    from sync.queue_protocol import BOOKING_PREFIX
    from sync.server.queue_api import booking_routes, queue_routes
    from sync.server.queue_feed import FeedWaker
    from sync.server.request_limits import RateLimit

    waker = FeedWaker()
    central.queue.on_commit = waker.wake
    app.router.on_startup.append(lambda: waker.watch(central.db))
    # Names of visits past the retention period go at every start (IT restarts nightly).
    app.router.on_startup.append(lambda: central.queue.anonymise(date.today()))
    app.router.on_shutdown.append(waker.close)
    app.include_router(queue_routes(central.queue, waker, API_PREFIX, _device, _clerk),
                       dependencies=[Versions])
    app.include_router(booking_routes(
        central.queue, RateLimit(booking_per_minute, burst=max(1, booking_per_minute // 2)),
        BOOKING_PREFIX))


def _add_office_keys(app: FastAPI, central: Central) -> None:
    """Office seal keys for workstations (device token) and the public verification page."""
    from sync.server.office_keys import OfficeKeys, device_routes, public_routes

    keys = OfficeKeys(central.db)
    app.include_router(device_routes(keys, API_PREFIX), dependencies=[Depends(_device), Versions],
                       responses={status: {"model": Problem} for status in
                                  (401, 403, 404, 413, 422, 426)})
    app.include_router(public_routes(keys))


def _session_clerk(request: Request, clerk: Clerk) -> None:
    """Hands the clerk of the request's clerk session to the inbox's routes."""
    request.state.clerk = clerk


async def _malformed_submission(request: Request, fields: list[str]) -> JSONResponse | None:
    """A submission's body the framework could not read as one: the intake refuses it with a
    signed reason (`intake_http.refuse_malformed`); None for every other request."""
    if request.method != "POST" or request.url.path != SUBMISSIONS_PATH or \
            getattr(request.app.state, "intake", None) is None:
        return None
    from sync.server.intake_http import refuse_malformed

    error = await refuse_malformed(request, fields)
    return _problem(error.status, error.message_de, error.message_en, error.code)


def _add_intake(app: FastAPI, central: Central, store: PrivateKeyStore) -> None:
    """Online applications: the portals' routes and the workstations' inbox."""
    from sync.server.intake import Intake
    from sync.server.intake_http import inbox_routes, portal_routes
    from sync.server.intake_keys import IntakeKeys

    keys = IntakeKeys(central.db, store)
    keys.ensure()
    intake = app.state.intake = Intake(central.db, keys)
    app.include_router(portal_routes(intake), responses={
        status: {"model": Problem} for status in (401, 404, 409, 413, 422)})
    app.include_router(inbox_routes(intake, API_PREFIX),
                       dependencies=[Depends(_device), Versions, Depends(_session_clerk)],
                       responses={status: {"model": Problem} for status in
                                  (401, 403, 404, 409, 413, 422, 426)})
