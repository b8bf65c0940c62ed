"""The central service on HTTP (FastAPI): the documented, versioned sync protocol.

Every /v1 request except /v1/hello and /v1/enrol needs a device token (`Authorization: Bearer`);
a clerk's requests also carry the clerk session from /v1/clerk-login (`X-Clerk-Session`),
and every /v1 request except /v1/hello must name the protocol and schema version it speaks;
other versions get 426 with a message for the clerk. Answers are gzip-compressed when the
client accepts it (bootstrap pages shrink about tenfold). OpenAPI: /openapi.json, /docs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from clerk_app import __version__
from clerk_app.clerks import ACCESS_LOG_READ, CLERKS_MANAGE, Actor
from clerk_app.errors import ClerkError
from sync.protocol import (
    ACCEPTED_SCHEMAS,
    API_PREFIX,
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
from sync.server.central import Central, CentralError
from sync.server.clerk_accounts import ClerkAccounts

log = logging.getLogger(__name__)

UNVERSIONED = {f"{API_PREFIX}/hello"}


def _problem(status: int, message_de: str, message_en: str) -> JSONResponse:
    return JSONResponse(status_code=status,
                        content=Problem(message_de=message_de, message_en=message_en).model_dump())


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


def _clerk(request: Request, device_id: Device,
           x_clerk_session: Annotated[str | None, Header()] = None) -> Actor | None:
    """The clerk of the request's clerk session (bound to the calling device), if it has one."""
    if not x_clerk_session:
        return None
    accounts: ClerkAccounts = request.app.state.clerk_accounts
    return accounts.session_actor(device_id, x_clerk_session)


Clerk = Annotated["Actor | None", Depends(_clerk)]


def create_app(central: Central) -> FastAPI:
    app = FastAPI(title="clerk-app central service", version=f"{PROTOCOL_VERSION}.{__version__}",
                  description="Sync protocol between counter workstations and the central "
                              "register. See docs/sync-protocol.md.")
    app.state.central = central
    accounts = app.state.clerk_accounts = ClerkAccounts(central.db)
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
        return _problem(exc.status, exc.message_de, exc.message_en)

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
    async def push(body: PushRequest, _: Device, clerk: Clerk) -> PushResponse:
        # Off the event loop: a batch replays commands and writes in one transaction.
        return await run_in_threadpool(central.push, body.commands,
                                       clerk.clerk if clerk else None)

    @app.post(f"{API_PREFIX}/clerk-login", response_model=ClerkLoginResponse,
              responses={**errors, 403: {"model": Problem}, 422: {"model": Problem},
                         423: {"model": Problem}, 429: {"model": Problem}})
    async def clerk_login(body: ClerkLoginRequest, device_id: Device) -> ClerkLoginResponse:
        # Off the event loop: argon2id takes a tenth of a second on purpose.
        result = await run_in_threadpool(accounts.login, device_id, body.login, body.password,
                                         body.new_password)
        return ClerkLoginResponse(
            login=result.account.login, display_name=result.account.display_name,
            roles=list(result.account.roles),
            must_change_password=result.session_token is None,
            session_token=result.session_token, expires_at=result.expires_at)

    @app.post(f"{API_PREFIX}/clerk-logout", responses=errors)
    def clerk_logout(_: Device, x_clerk_session: Annotated[str | None, Header()] = None
                     ) -> dict[str, str]:
        if x_clerk_session:
            accounts.logout(x_clerk_session)
        return {"status": "ok"}

    def administrator(clerk: Actor | None) -> None:
        if clerk is None or not clerk.may(CLERKS_MANAGE):
            raise CentralError(403, "Nur die Rolle Administration verwaltet Konten.",
                               "clerk administration needs clerks.manage")

    @app.get(f"{API_PREFIX}/clerks", response_model=ClerkAdminAnswer,
             responses={**errors, 403: {"model": Problem}})
    def clerk_list(clerk: Clerk) -> ClerkAdminAnswer:
        administrator(clerk)
        return ClerkAdminAnswer(accounts=[a.to_dict() for a in accounts.accounts()])

    @app.post(f"{API_PREFIX}/clerks", response_model=ClerkAdminAnswer,
              responses={**errors, 403: {"model": Problem}, 404: {"model": Problem},
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
             responses={**errors, 403: {"model": Problem}})
    def access_log_alerts(clerk: Clerk) -> AccessLogAlerts:
        if clerk is None or not clerk.may(ACCESS_LOG_READ):
            raise CentralError(403, "Nur die Rolle Datenschutz sieht die Prüfergebnisse des "
                                    "Zugriffsprotokolls.", "access log alerts need "
                                                           "access_log.read")
        return AccessLogAlerts(alerts=central.access_log_alerts())

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

    _add_office_keys(app, central)
    return app


def serve(central: Central, *, host: str, port: int, tls_cert: str | None,
          tls_key: str | None, update_notice: Path | None = None) -> None:
    """Run the service on uvicorn until stopped (`clerk-app central serve`); with
    `update_notice`, the release's signed notice is published too."""
    import uvicorn

    app = create_app(central)
    if update_notice:
        from sync.server.update_notices import publish_update_notice

        publish_update_notice(app, update_notice)
    uvicorn.run(app, host=host, port=port, ssl_certfile=tls_cert,
                ssl_keyfile=tls_key, log_level="warning",
                access_log=False)  # URLs name document numbers; no access log


def _add_office_keys(app: FastAPI, central: Central) -> None:
    """Office seal keys for workstations (device token) and the public verification page."""
    from sync.server.office_keys import OfficeKeys, device_routes, public_routes

    keys = OfficeKeys(central.db)
    app.include_router(device_routes(keys, API_PREFIX), dependencies=[Depends(_device)])
    app.include_router(public_routes(keys))
