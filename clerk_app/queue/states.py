"""The states of a visit and which action may move it from where to where.

The states are those of ZMS/eappointment (the open-source system Berlin and Munich use), so a
clerk who knows it finds the same words: booked, confirmed, queued, called, in service (ZMS
"processing"), parked (ZMS "pending": comes back with a paper), finished, missed, cancelled.
The table is the single rule book: the local queue and the central service's shared queue
both ask `check` before changing a visit, so the two can never disagree about what is allowed.
"""

from __future__ import annotations

from enum import StrEnum

from clerk_app.errors import ValidationError


class VisitState(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    QUEUED = "queued"
    CALLED = "called"
    IN_SERVICE = "in_service"
    PARKED = "parked"
    FINISHED = "finished"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The German word the clerk sees."""
        return STATE_LABELS[self]


class Action(StrEnum):
    BOOK = "book"                  # the portal (or the clerk) booked an appointment
    CONFIRM = "confirm"            # the citizen confirmed the booking
    CHECK_IN = "check_in"          # booking number typed or QR code scanned at arrival
    DRAW = "draw"                  # walk-in ticket drawn
    CALL = "call"                  # "Nächste Person aufrufen" or a chosen visit called
    RECALL = "recall"              # the same number called again
    APPEAR = "appear"              # "Kunde erschienen": the service begins
    NOT_APPEARED = "not_appeared"  # "nicht erschienen" (or recalls used up): missed
    NO_SHOW = "no_show"            # a booked appointment never checked in
    PUT_BACK = "put_back"          # back into the waiting line (missed, parked, called)
    PARK = "park"                  # comes back with a paper
    FORWARD = "forward"            # to another counter or service, back into the line
    FINISH = "finish"              # done; the services actually done are ticked
    CANCEL = "cancel"
    LINK = "link"                  # a counter-service command was done for the visit


S = VisitState
OPEN_BEFORE_ARRIVAL = frozenset({S.BOOKED, S.CONFIRMED})
WAITING = frozenset({S.QUEUED})
AT_COUNTER = frozenset({S.CALLED, S.IN_SERVICE})
FINAL = frozenset({S.FINISHED, S.CANCELLED})

# action -> (states it may start from, state it leads to); None as the start: a new visit;
# a target of None: the state stays.
TRANSITIONS: dict[Action, tuple[frozenset[VisitState | None], VisitState | None]] = {
    Action.BOOK: (frozenset({None}), S.CONFIRMED),
    Action.CONFIRM: (frozenset({S.BOOKED}), S.CONFIRMED),
    Action.CHECK_IN: (frozenset(OPEN_BEFORE_ARRIVAL), S.QUEUED),
    Action.DRAW: (frozenset({None}), S.QUEUED),
    Action.CALL: (frozenset({S.QUEUED, S.MISSED, S.PARKED}), S.CALLED),
    Action.RECALL: (frozenset({S.CALLED}), S.CALLED),
    Action.APPEAR: (frozenset({S.CALLED}), S.IN_SERVICE),
    Action.NOT_APPEARED: (frozenset({S.CALLED}), S.MISSED),
    Action.NO_SHOW: (frozenset(OPEN_BEFORE_ARRIVAL), S.MISSED),
    Action.PUT_BACK: (frozenset({S.CALLED, S.MISSED, S.PARKED}), S.QUEUED),
    Action.PARK: (frozenset({S.CALLED, S.IN_SERVICE}), S.PARKED),
    Action.FORWARD: (frozenset({S.CALLED, S.IN_SERVICE, S.PARKED}), S.QUEUED),
    Action.FINISH: (frozenset({S.IN_SERVICE}), S.FINISHED),
    Action.CANCEL: (frozenset({S.BOOKED, S.CONFIRMED, S.QUEUED, S.CALLED, S.PARKED, S.MISSED}),
                    S.CANCELLED),
    Action.LINK: (frozenset({S.CALLED, S.IN_SERVICE, S.PARKED}), None),
}

STATE_LABELS: dict[VisitState, str] = {
    S.BOOKED: "gebucht",
    S.CONFIRMED: "bestätigt",
    S.QUEUED: "wartet",
    S.CALLED: "aufgerufen",
    S.IN_SERVICE: "in Bearbeitung",
    S.PARKED: "geparkt",
    S.FINISHED: "abgeschlossen",
    S.MISSED: "nicht erschienen",
    S.CANCELLED: "storniert",
}

ACTION_LABELS: dict[Action, str] = {  # "… kann nicht <label> werden"
    Action.BOOK: "gebucht", Action.CONFIRM: "bestätigt", Action.CHECK_IN: "eingecheckt",
    Action.DRAW: "als Wartenummer angelegt", Action.CALL: "aufgerufen",
    Action.RECALL: "erneut aufgerufen", Action.APPEAR: "als erschienen markiert",
    Action.NOT_APPEARED: "als nicht erschienen markiert",
    Action.NO_SHOW: "als nicht erschienen markiert", Action.PUT_BACK: "zurückgestellt",
    Action.PARK: "geparkt", Action.FORWARD: "weitergeleitet", Action.FINISH: "abgeschlossen",
    Action.CANCEL: "storniert", Action.LINK: "mit einem Vorgang verknüpft",
}


def target_state(action: Action, current: VisitState | None) -> VisitState:
    """The state `action` leads to from `current`; ValidationError (German) if the action is
    not allowed there (a stale screen, a second clerk who was faster)."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        where = current.label if current else "neu"
        raise ValidationError(
            f"Der Besuch ist {where}: er kann nicht {ACTION_LABELS[action]} werden.",
            f"action {action.value} not allowed in state "
            f"{current.value if current else 'new'}")
    if target is None:
        assert current is not None  # LINK never starts a visit
        return current
    return target
