"""The queue's HTTP routes: the shared queue for workstations and call displays (device
token), its live feed (server-sent events) and the city portal's booking API (open to the
internet, so rate-limited per address)."""

# No `from __future__ import annotations`: the routes' dependencies are made in
# `queue_routes`, and FastAPI must see them as objects, not names to look up.

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from clerk_app.clerks import Actor
from clerk_app.errors import ClerkError, ConfigError, NotFoundError
from clerk_app.queue.booking_codes import format_booking_number
from clerk_app.queue.states import Action, VisitState
from clerk_app.queue.visits import Call, Visit, Who
from sync.protocol import Problem
from sync.queue_protocol import (
    QUEUE_PATH,
    BookingAnswer,
    BookingRequest,
    CallLine,
    CallNextRequest,
    CallsAnswer,
    CancelAnswer,
    CancelRequest,
    CheckInRequest,
    ServiceCompletedRequest,
    SlotLine,
    SlotsAnswer,
    TicketRequest,
    VisitActionRequest,
    VisitAnswer,
    VisitsAnswer,
)
from sync.server.central import Caller, CentralError
from sync.server.queue_central import CentralQueue, QueueRefusal
from sync.server.queue_feed import FeedWaker, event_stream
from sync.server.request_limits import RateLimit

CodePath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
IdPath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
REFUSALS: dict[int | str, dict[str, Any]] = {
    s: {"model": Problem} for s in (401, 403, 404, 409, 413, 422, 426, 429)}


def refused(exc: ClerkError) -> CentralError:
    """A core refusal as the HTTP problem the client shows."""
    if isinstance(exc, QueueRefusal):
        status = exc.status
    elif isinstance(exc, NotFoundError | ConfigError):  # an unknown visit, counter, location
        status = 404
    else:
        status = 422
    return CentralError(status, exc.message_de, exc.message_en)


async def run(function: Callable[..., Any], *args: Any) -> Any:
    """The core's blocking work off the event loop; its refusals as HTTP problems."""
    try:
        return await run_in_threadpool(function, *args)
    except ClerkError as exc:
        raise refused(exc) from exc


def _visit(visit: Visit | None) -> VisitAnswer:
    return VisitAnswer(visit=visit.to_json() if visit else None)


def _call_line(call: Call) -> CallLine:
    return CallLine(visit_id=call.visit_id, label=call.label, counter=call.counter,
                    counter_name=call.counter_name, at=call.at, recall=call.recall)


def queue_routes(queue: CentralQueue, waker: FeedWaker, prefix: str,
                 device: Callable[..., Caller], clerk: Callable[..., Actor | None]) -> APIRouter:
    """The shared queue for enrolled workstations (`device`: the token dependency)."""
    router = APIRouter(prefix=prefix + QUEUE_PATH, responses=REFUSALS)
    Device = Annotated[Caller, Depends(device)]
    Clerk = Annotated[Actor | None, Depends(clerk)]

    def who(caller: Caller, actor: Actor | None, counter: str | None) -> Who:
        return Who.now(actor.clerk if actor else caller.name, caller.name, counter)

    @router.get("/locations/{location}/visits", response_model=VisitsAnswer)
    async def visits(location: CodePath, _: Device,
                     state: Annotated[list[VisitState] | None, Query()] = None) -> VisitsAnswer:
        found = await run(queue.visits_today, location, state)
        return VisitsAnswer(visits=[v.to_json() for v in found])

    @router.get("/locations/{location}/bookings", response_model=VisitsAnswer)
    async def bookings(location: CodePath, day: date, _: Device) -> VisitsAnswer:
        found = await run(queue.bookings, location, day)
        return VisitsAnswer(visits=[v.to_json() for v in found])

    @router.get("/locations/{location}/calls", response_model=CallsAnswer)
    async def calls(location: CodePath, _: Device,
                    limit: Annotated[int, Query(ge=1, le=50)] = 8) -> CallsAnswer:
        found = await run(queue.recent_calls, location, limit)
        return CallsAnswer(calls=[_call_line(c) for c in found])

    # Not in the OpenAPI document: an endless stream is no request-and-answer (and a
    # generated client, or a fuzzer, would wait for its end); described in docs/queue.md.
    @router.get("/locations/{location}/events", include_in_schema=False)
    async def events(location: CodePath, _: Device,
                     last_event_id: Annotated[int | None, Header(ge=0)] = None,
                     after: Annotated[int | None, Query(ge=0)] = None) -> StreamingResponse:
        await run(queue.config.location, location)
        start = last_event_id if last_event_id is not None else after
        return StreamingResponse(event_stream(queue, waker, location, start),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @router.get("/statistics/visits", response_model=VisitsAnswer)
    async def statistics(first: date, last: date, _: Device,
                         location: Annotated[str | None, Query(
                             max_length=64, pattern=r"^[A-Za-z0-9_]+$")] = None
                         ) -> VisitsAnswer:
        found = await run(queue.visits_between, first, last, location)
        return VisitsAnswer(visits=[v.to_json() for v in found])

    @router.get("/counters/{counter}/line", response_model=VisitsAnswer)
    async def line(counter: CodePath, _: Device) -> VisitsAnswer:
        found = await run(queue.waiting_line, counter)
        return VisitsAnswer(visits=[v.to_json() for v in found])

    @router.get("/counters/{counter}/current", response_model=VisitAnswer)
    async def current(counter: CodePath, _: Device) -> VisitAnswer:
        return _visit(await run(queue.at_counter, counter))

    @router.get("/visits/{visit_id}", response_model=VisitAnswer)
    async def one(visit_id: IdPath, _: Device) -> VisitAnswer:
        return _visit(await run(queue.visit, visit_id))

    @router.post("/tickets", response_model=VisitAnswer)
    async def ticket(body: TicketRequest, caller: Device, actor: Clerk) -> VisitAnswer:
        return _visit(await run(lambda: queue.draw_ticket(
            body.group, who(caller, actor, None), priority=body.priority,
            request_id=body.request_id, device_id=caller.device_id)))

    @router.post("/check-in", response_model=VisitAnswer)
    async def check_in(body: CheckInRequest, caller: Device, actor: Clerk) -> VisitAnswer:
        return _visit(await run(queue.check_in, body.code, who(caller, actor, None)))

    @router.post("/counters/{counter}/call-next", response_model=VisitAnswer)
    async def call_next(counter: CodePath, body: CallNextRequest, caller: Device,
                        actor: Clerk) -> VisitAnswer:
        return _visit(await run(queue.call_next, counter, body.request_id,
                                who(caller, actor, counter), caller.device_id))

    @router.post("/visits/{visit_id}/actions", response_model=VisitAnswer)
    async def act(visit_id: IdPath, body: VisitActionRequest, caller: Device,
                  actor: Clerk) -> VisitAnswer:
        options: dict[str, Any] = {}
        if body.action == "finish":
            options["services_done"] = body.services_done
        elif body.action == "forward":
            options.update(to_counter=body.to_counter, to_services=body.to_services)
        elif body.action == "link":
            options.update(command_id=body.command_id, command_type=body.command_type or "",
                           person_id=body.person_id)
        if body.reason:
            options["reason"] = body.reason
        return _visit(await run(queue.act, visit_id, Action(body.action),
                                who(caller, actor, body.counter), options))

    @router.post("/visits/{visit_id}/service-completed", response_model=VisitAnswer)
    async def completed(visit_id: IdPath, body: ServiceCompletedRequest, caller: Device,
                        actor: Clerk) -> VisitAnswer:
        return _visit(await run(queue.complete_service, visit_id,
                                who(caller, actor, body.counter), body.command_id,
                                body.command_type, body.person_id))

    return router


def booking_routes(queue: CentralQueue, limit: RateLimit, prefix: str) -> APIRouter:
    """The city portal's booking API: free slots, book, cancel."""

    def rate_limited(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if limit.retry_after(client):
            raise CentralError(429, "Zu viele Anfragen. Bitte einen Moment warten und erneut "
                                    "versuchen.", "rate limit exceeded")

    router = APIRouter(prefix=prefix, responses=REFUSALS, dependencies=[Depends(rate_limited)])

    @router.get("/slots", response_model=SlotsAnswer)
    async def slots(location: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_]+$")],
                    day: date,
                    service: Annotated[list[str], Query(min_length=1, max_length=5)]
                    ) -> SlotsAnswer:
        found = await run(queue.slots, location, service, day)
        return SlotsAnswer(location=location,
                           slots=[SlotLine(start=s.start, minutes=s.minutes) for s in found])

    @router.post("/bookings", response_model=BookingAnswer)
    async def book(body: BookingRequest) -> BookingAnswer:
        receipt = await run(queue.book, body.location, body.services, body.start, body.name,
                            body.contact)
        visit = receipt.visit
        assert visit.booking_number and visit.appointment_at
        return BookingAnswer(booking_number=visit.booking_number,
                             display_number=format_booking_number(visit.booking_number),
                             cancellation_code=receipt.cancellation_code,
                             qr_payload=receipt.qr_payload, location=visit.location,
                             start=visit.appointment_at.astimezone(queue.config.settings.zone),
                             services=list(visit.services))

    @router.post("/bookings/{number}/cancel", response_model=CancelAnswer)
    async def cancel(number: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")],
                     body: CancelRequest) -> CancelAnswer:
        visit = await run(queue.cancel_booking, number, body.cancellation_code)
        return CancelAnswer(booking_number=visit.booking_number or "", state=visit.state.value)

    return router
