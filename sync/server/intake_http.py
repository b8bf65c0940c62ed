"""The intake on HTTP: portals' routes under /fit/v1 (portal token), the inbox under /v1.

Portals authenticate with the bearer token IT issued them (`clerk-app central portal-token`);
they see only their own submissions. A posted body that is no submission is refused with a
signed reason where it names its id (`refuse_malformed`, called by the service's handler of
malformed requests), an oversize one likewise (`intake_oversize`). Workstations reach the
inbox with their device token and the sync's version headers, like every /v1 route.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from sync.fit_protocol import (
    FIT_PREFIX,
    SUBMISSION_ID,
    SUBMISSIONS_PATH,
    Confirmation,
    InboxClaim,
    InboxItem,
    InboxOutcome,
    InboxPage,
    Mailbox,
    SubmissionAnswer,
)
from sync.fit_protocol import (
    Submission as SubmissionBody,
)
from sync.protocol import MAX_SEQ
from sync.server.central import CentralError
from sync.server.intake import Intake

portal_bearer = HTTPBearer(auto_error=False, scheme_name="portalToken",
                           description="The portal token IT issued.")
Id = Annotated[str, Path(pattern=SUBMISSION_ID)]
B = TypeVar("B", InboxClaim, InboxOutcome)


def _portal(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(portal_bearer)] = None) -> str:
    """The calling portal's name, from its bearer token."""
    if credentials is None or not credentials.credentials.strip():
        raise CentralError(401, "Das Portal hat sich nicht ausgewiesen.",
                           "missing portal token")
    intake: Intake = request.app.state.intake
    return intake.portal(credentials.credentials.strip())


# Module level: FastAPI resolves the (string) annotations in this module's namespace.
Portal = Annotated[str, Depends(_portal)]
Since = Annotated[int, Query(ge=0, le=MAX_SEQ)]
Limit = Annotated[int, Query(ge=1, le=500)]


def portal_routes(intake: Intake) -> APIRouter:
    router = APIRouter()

    @router.get(f"{FIT_PREFIX}/destination")
    def destination(_: Portal) -> dict[str, Any]:
        return intake.keys.public_jwks()

    @router.post(SUBMISSIONS_PATH, response_model=SubmissionAnswer)
    async def submit(body: SubmissionBody, name: Portal) -> SubmissionAnswer:
        # Off the event loop: RSA decryption and the database take milliseconds each.
        return await run_in_threadpool(intake.submit, body, name)

    @router.get(f"{SUBMISSIONS_PATH}/{{submission_id}}", response_model=SubmissionAnswer)
    def status(submission_id: Id, name: Portal) -> SubmissionAnswer:
        return intake.answer(submission_id, name)

    @router.post(f"{SUBMISSIONS_PATH}/{{submission_id}}/confirm",
                 response_model=SubmissionAnswer)
    def confirm(submission_id: Id, body: Confirmation, name: Portal) -> SubmissionAnswer:
        return intake.confirm(submission_id, name, body)

    @router.get(f"{SUBMISSIONS_PATH}/{{submission_id}}/mailbox", response_model=Mailbox)
    def mailbox(submission_id: Id, name: Portal) -> Mailbox:
        return intake.mailbox(submission_id, name)

    return router


async def refuse_malformed(request: Request, fields: list[str]) -> CentralError:
    """The refusal of a posted body that is no submission (`fields`: what failed): a 401 for
    a caller that is no portal, else the intake's (with its signed event where the body
    names its submission id)."""
    intake: Intake = request.app.state.intake
    try:
        portal = _portal(request, await portal_bearer(request))
        body = await request.body()
        return await run_in_threadpool(intake.refuse_malformed, body, portal, fields)
    except CentralError as exc:
        return exc


def _as_session_clerk(request: Request, body: B) -> B:
    """A clerk session (`request.state.clerk`, set by the router's dependency) proves who the
    clerk is; without one the clerk is as the workstation claims (as for commands)."""
    actor = getattr(request.state, "clerk", None)
    return body.model_copy(update={"clerk": actor.clerk}) if actor is not None else body


def inbox_routes(intake: Intake, prefix: str) -> APIRouter:
    router = APIRouter()

    @router.get(f"{prefix}/inbox", response_model=InboxPage)
    def inbox(since: Since = 0, limit: Limit = 200) -> InboxPage:
        return intake.inbox(since, limit)

    @router.post(f"{prefix}/inbox/{{submission_id}}/claim", response_model=InboxItem)
    def claim(submission_id: Id, body: InboxClaim, request: Request) -> InboxItem:
        return intake.claim(submission_id, _as_session_clerk(request, body))

    @router.post(f"{prefix}/inbox/{{submission_id}}/outcome", response_model=InboxItem)
    async def outcome(submission_id: Id, body: InboxOutcome, request: Request) -> InboxItem:
        return await run_in_threadpool(intake.outcome, submission_id,
                                       _as_session_clerk(request, body))

    return router
