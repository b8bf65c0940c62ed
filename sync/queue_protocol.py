"""The queue's messages between workstation, call display, city portal and central service.

Visits travel as `Visit.to_json()` dicts (the core owns their shape); these models bound the
requests a client may send and name the answers. Paths: the shared queue under
`/v1/queue/…` (device token, versioned like the sync), the portal's booking API under
`/booking/v1/…` (open, rate-limited).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

QUEUE_PATH = "/queue"
BOOKING_PREFIX = "/booking/v1"
FEED_EVENT = "queue"

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
Text = Annotated[str, Field(max_length=200, pattern="^[^\\x00]*$")]
RequestId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ActionName = Literal["call", "recall", "appear", "not_appeared", "put_back", "park", "forward",
                     "finish", "cancel", "link"]


class TicketRequest(BaseModel):
    group: Code
    priority: Annotated[int, Field(ge=1, le=3, strict=True)] = 1
    # The same id again (a double press, a retry) answers with the same ticket.
    request_id: RequestId | None = None


class CheckInRequest(BaseModel):
    code: Text


class CallNextRequest(BaseModel):
    request_id: RequestId


class VisitActionRequest(BaseModel):
    action: ActionName
    counter: Code | None = None
    services_done: Annotated[list[Code], Field(max_length=20)] = []
    to_counter: Code | None = None
    to_services: Annotated[list[Code], Field(max_length=20)] = []
    command_id: RequestId | None = None
    command_type: Code | None = None
    person_id: RequestId | None = None
    reason: Text = ""


class ServiceCompletedRequest(BaseModel):
    """A counter service completed for the visit at `counter` (appear, link, finish: one
    transaction at the centre)."""

    counter: Code
    command_id: RequestId
    command_type: Code
    person_id: RequestId | None = None


class VisitAnswer(BaseModel):
    visit: dict[str, Any] | None


class VisitsAnswer(BaseModel):
    visits: list[dict[str, Any]]


class CallLine(BaseModel):
    visit_id: str
    label: str
    counter: str
    counter_name: str
    at: datetime
    recall: bool


class CallsAnswer(BaseModel):
    calls: list[CallLine]


class SlotLine(BaseModel):
    start: datetime
    minutes: int


class SlotsAnswer(BaseModel):
    location: str
    slots: list[SlotLine]


class BookingRequest(BaseModel):
    location: Code
    services: Annotated[list[Code], Field(min_length=1, max_length=5)]
    start: datetime
    name: Text
    contact: Text


class BookingAnswer(BaseModel):
    booking_number: str
    display_number: str
    cancellation_code: str
    qr_payload: str
    location: str
    start: datetime
    services: list[str]


class CancelRequest(BaseModel):
    cancellation_code: Annotated[str, Field(min_length=1, max_length=32,
                                            pattern=r"^[A-Za-z0-9]+$")]


class CancelAnswer(BaseModel):
    booking_number: str
    state: str
