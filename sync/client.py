"""The workstation's HTTP client for the central service (requests).

Two kinds of failure, because the engine treats them differently:
`CentralUnavailable` (no network, timeout, server error: try again later, with backoff) and
`CentralRefused` (the service said no for a reason a retry will not fix: wrong version,
unknown device; the message says what to do). Plain HTTP is refused except on loopback, so a
misconfigured URL never sends citizens' data in clear text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlparse

import requests
from pydantic import BaseModel, ValidationError

from clerk_app.store.migrations import SCHEMA_VERSION
from sync.central_errors import CentralRefused, CentralUnavailable, DeviceRevoked, TooLarge
from sync.fit_protocol import InboxClaim, InboxItem, InboxOutcome, InboxPage
from sync.protocol import (
    API_PREFIX,
    CLERK_SESSION_HEADER,
    DEVICE_REVOKED,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    UPDATE_NOTICE_MAX_BYTES,
    UPDATE_NOTICE_PATH,
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
    OfficeKeyGrant,
    PushRequest,
    PushResponse,
    SignedKeyList,
)

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0  # a push batch of replays or a bootstrap page on a slow line

Model = TypeVar("Model", bound=BaseModel)


def check_url(url: str) -> str:
    """The base URL, if it may carry citizens' data: HTTPS, or HTTP on this machine only."""
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url.rstrip("/")
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return url.rstrip("/")
    raise CentralRefused(
        f"Die Adresse der Zentrale „{url}“ ist nicht zulässig: Verbindungen müssen über HTTPS "
        "laufen (unverschlüsselt nur auf diesem Rechner). Bitte die IT verständigen.",
        f"central_url {url!r} refused: HTTPS required except on loopback")


class CentralClient:
    def __init__(self, base_url: str, token: str | None = None, *,
                 ca_bundle: str | None = None, read_timeout: float = READ_TIMEOUT,
                 clerk_session: str | None = None,
                 on_revoked: Callable[[], None] | None = None) -> None:
        """`on_revoked` runs (once) when any answer says this workstation was withdrawn, so
        that every contact with the centre, not only the sync, destroys what it holds
        (`sync.central_connection.connect` passes the destruction)."""
        self.base_url = check_url(base_url)
        self.on_revoked = on_revoked
        self.session = requests.Session()
        self.session.headers.update({PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                                     SCHEMA_HEADER: str(SCHEMA_VERSION)})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if clerk_session:  # the logged-in clerk: the centre records commands as theirs
            self.session.headers[CLERK_SESSION_HEADER] = clerk_session
        self.session.verify = ca_bundle or True
        self.timeout = (CONNECT_TIMEOUT, read_timeout)

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, answer: type[Model], *,
              body: BaseModel | None = None, params: dict[str, Any] | None = None) -> Model:
        url = f"{self.base_url}{API_PREFIX}{path}"
        try:
            # `verify` on every request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in
            # the environment override a session's bundle, and IT's ca_bundle must win.
            response = self.session.request(
                method, url, params=params, timeout=self.timeout, verify=self.session.verify,
                data=body.model_dump_json().encode() if body is not None else None,
                headers={"Content-Type": "application/json"} if body is not None else None)
        except requests.exceptions.SSLError as exc:
            raise CentralRefused(
                "Das Zertifikat der Zentrale ist nicht vertrauenswürdig (CA-Bundle prüfen). "
                "Bitte die IT verständigen.", f"TLS verification failed: {exc}") from exc
        except requests.RequestException as exc:
            raise CentralUnavailable("Die Zentrale ist nicht erreichbar; die Arbeit wird "
                                     "gespeichert und später übertragen.",
                                     f"central service unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise CentralUnavailable("Die Zentrale ist vorübergehend gestört; es wird später "
                                     "erneut versucht.",
                                     f"central service answered {response.status_code}")
        if response.status_code >= 400:
            raise self._refusal(response)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as exc:
            raise CentralUnavailable("Die Antwort der Zentrale war unvollständig; es wird "
                                     "erneut versucht.", f"bad answer from {path}: {exc}") from exc

    def _refusal(self, response: requests.Response) -> CentralRefused:
        """The refusal to raise for an answer of 4xx; a withdrawal runs `on_revoked` first."""
        refusal = self._refusal_of(response)
        if isinstance(refusal, DeviceRevoked) and self.on_revoked is not None:
            hook, self.on_revoked = self.on_revoked, None
            try:
                hook()
            except Exception:
                log.exception("error while destroying the withdrawn workstation's data")
        return refusal

    @staticmethod
    def _refusal_of(response: requests.Response) -> CentralRefused:
        # Too large whoever says so (the service, or a reverse proxy in front of it).
        refusal = TooLarge if response.status_code == 413 else CentralRefused
        try:
            problem = response.json()
            if response.status_code == 403 and problem.get("code") == DEVICE_REVOKED:
                refusal = DeviceRevoked
            return refusal(str(problem["message_de"]), str(problem["message_en"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return refusal(f"Die Zentrale hat die Anfrage abgelehnt "
                           f"(HTTP {response.status_code}).",
                           f"central service refused: HTTP {response.status_code}")

    def update_notice(self) -> bytes | None:
        """The central service's signed update notice as published, unverified (see
        sync.update_notice); None when it publishes none (404)."""

        try:
            response = self.session.get(f"{self.base_url}{UPDATE_NOTICE_PATH}",
                                        timeout=self.timeout, verify=self.session.verify,
                                        stream=True)
            with response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise CentralUnavailable("Die Update-Mitteilung der Zentrale ist nicht "
                                             "abrufbar.", "update notice: HTTP "
                                             f"{response.status_code}")
                return bytes(response.raw.read(UPDATE_NOTICE_MAX_BYTES + 1, decode_content=True))
        except requests.RequestException as exc:
            raise CentralUnavailable("Die Update-Mitteilung der Zentrale ist nicht abrufbar.",
                                     f"update notice: {type(exc).__name__}") from exc

    def hello(self) -> Hello:
        return self._call("GET", "/hello", Hello)

    def enrol(self, code: str, device_name: str) -> EnrolResponse:
        return self._call("POST", "/enrol", EnrolResponse,
                          body=EnrolRequest(code=code, device_name=device_name))

    def clerk_login(self, login: str, password: str,
                    new_password: str | None = None) -> ClerkLoginResponse:
        return self._call("POST", "/clerk-login", ClerkLoginResponse,
                          body=ClerkLoginRequest(login=login, password=password,
                                                 new_password=new_password))

    def clerks(self) -> ClerkAdminAnswer:
        return self._call("GET", "/clerks", ClerkAdminAnswer)

    def administer_clerk(self, request: ClerkAdminRequest) -> ClerkAdminAnswer:
        return self._call("POST", "/clerks", ClerkAdminAnswer, body=request)

    def access_log_alerts(self) -> AccessLogAlerts:
        return self._call("GET", "/access-log/alerts", AccessLogAlerts)

    def push(self, commands: list[Command]) -> PushResponse:
        return self._call("POST", "/push", PushResponse, body=PushRequest(commands=commands))

    def changes(self, since: int, limit: int) -> ChangesPage:
        return self._call("GET", "/changes", ChangesPage,
                          params={"since": since, "limit": limit})

    def bootstrap(self, after_kind: str, after_id: str, high_water_mark: int | None,
                  limit: int) -> BootstrapPage:
        params: dict[str, Any] = {"after_kind": after_kind, "after_id": after_id, "limit": limit}
        if high_water_mark is not None:
            params["high_water_mark"] = high_water_mark
        return self._call("GET", "/bootstrap", BootstrapPage, params=params)

    def checksum(self, exclude: list[str]) -> Checksum:
        return self._call("POST", "/checksum", Checksum, body=ChecksumRequest(exclude=exclude))

    def access_log(self, entries: list[dict[str, Any]]) -> AccessLogReceipt:
        return self._call("POST", "/access-log", AccessLogReceipt,
                          body=AccessLogUpload.model_validate({"entries": entries}))

    def archive(self, command: Command) -> ArchiveReceipt:
        return self._call("POST", "/archive", ArchiveReceipt, body=command)

    def verify_document(self, number: str, sha256: str | None = None) -> DocumentVerification:
        params = {"sha256": sha256} if sha256 else None
        return self._call("GET", f"/documents/{quote(number, safe='')}",
                          DocumentVerification, params=params)

    def office_key(self, office_id: str) -> OfficeKeyGrant:
        """The office's current seal key (see `sync.office_key_exchange`)."""
        return self._call("GET", "/office-key", OfficeKeyGrant, params={"office_id": office_id})

    def office_key_list(self) -> SignedKeyList:
        return self._call("GET", "/office-keys", SignedKeyList)

    def inbox(self, since: int, limit: int = 200) -> InboxPage:
        return self._call("GET", "/inbox", InboxPage, params={"since": since, "limit": limit})

    def inbox_claim(self, submission_id: str, claim: InboxClaim) -> InboxItem:
        return self._call("POST", f"/inbox/{quote(submission_id, safe='')}/claim", InboxItem,
                          body=claim)

    def inbox_outcome(self, submission_id: str, outcome: InboxOutcome) -> InboxItem:
        return self._call("POST", f"/inbox/{quote(submission_id, safe='')}/outcome",
                          InboxItem, body=outcome)
