"""The office's inbox ("Posteingang") of online applications, as this workstation holds it.

Items arrive by the sync and live in the encrypted register (their data is personal data like
the register's). A clerk claims an item, works it through the prefilled service, and records
its outcome; claims and outcomes are queued in `inbox_actions` and sent by the sync, so the
inbox works offline with what was synced. The central service is the judge of a claim: when it
refuses one (another clerk was first), the next pull shows who has the item.

Opening an item is a retrieval of personal data: it is logged in the access log, as are the
persons of the register shown as matches.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from clerk_app import audit, clerks
from clerk_app.errors import ValidationError
from clerk_app.models import PersonHit
from clerk_app.online_requests import (
    TITLES,
    AddressChange,
    CivilStatusRequest,
    MeldebescheinigungRequest,
    OnlinePayment,
    OnlineRequest,
    RequestProblem,
    read_request,
)
from clerk_app.search import record_shown, search
from clerk_app.store.db import Store
from clerk_app.streets import find_streets

OUTCOMES = ("done", "waiting", "rejected")
PURPOSE = "Posteingang: Online-Antrag"


@dataclass(frozen=True)
class InboxLine:
    """One line of the inbox list (no data beyond the applicant's name)."""

    submission_id: str
    kind: str
    title: str
    received_at: str
    state: str
    claimed_by: str | None
    applicant: str
    pending: bool  # a local claim or outcome not yet confirmed by the central service


@dataclass(frozen=True)
class OpenedItem:
    line: InboxLine
    request: OnlineRequest
    attachments: list[dict[str, Any]]
    matches: list[PersonHit]
    reason: str | None


def store_items(store: Store, items: list[dict[str, Any]]) -> None:
    """Keep the items of a pull (one transaction); an item with a local action still pending
    keeps its local state until the action is sent."""
    with store.transaction():
        for item in items:
            store.conn.execute(
                "INSERT INTO inbox_items (submission_id, kind, received_at, state, claimed_by, "
                "reason, data, attachments, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (submission_id) DO UPDATE SET state = excluded.state, "
                "claimed_by = excluded.claimed_by, reason = excluded.reason, "
                "seq = excluded.seq WHERE NOT EXISTS (SELECT 1 FROM inbox_actions a WHERE "
                "a.submission_id = excluded.submission_id AND a.status = 'pending')",
                (item["submission_id"], item["kind"], item["received_at"], item["state"],
                 item.get("claimed_by"), item.get("reason"),
                 json.dumps(item["data"], ensure_ascii=False),
                 json.dumps(item.get("attachments", [])), int(item["seq"])))
            # The seq moves on even where the local state is kept.
            store.conn.execute("UPDATE inbox_items SET seq = max(seq, ?) WHERE submission_id = ?",
                               (int(item["seq"]), item["submission_id"]))


def last_seq(store: Store) -> int:
    return int(store.conn.execute("SELECT coalesce(max(seq), 0) FROM inbox_items").fetchone()[0])


def lines(store: Store, states: tuple[str, ...] = ("new", "in_work", "waiting")
          ) -> list[InboxLine]:
    """The inbox list, oldest first."""
    store.actor.require(clerks.PERSON_SEARCH)
    rows = store.conn.execute(
        "SELECT i.submission_id, i.kind, i.received_at, i.state, i.claimed_by, i.data, "
        "EXISTS (SELECT 1 FROM inbox_actions a WHERE a.submission_id = i.submission_id AND "
        "a.status = 'pending') FROM inbox_items i WHERE i.state IN (SELECT value FROM "
        "json_each(?)) ORDER BY i.received_at, i.submission_id", (json.dumps(states),))
    return [_line(r) for r in rows]


def _line(r: Any) -> InboxLine:
    """One line; an item this program cannot read (a kind or a form of a newer version)
    still gets its line, with what can be told of its applicant."""
    data = json.loads(r[5])
    applicant = data.get("applicant") if isinstance(data, dict) else None
    names = [str(applicant.get(key) or "") if isinstance(applicant, dict) else ""
             for key in ("family_name", "first_names")]
    return InboxLine(submission_id=r[0], kind=r[1], title=TITLES.get(r[1], r[1]),
                     received_at=r[2], state=r[3], claimed_by=r[4],
                     applicant=", ".join(names), pending=bool(r[6]))


def open_item(store: Store, submission_id: str) -> OpenedItem:
    """An item with its data and the register's matching persons; logged."""
    store.actor.require(clerks.PERSON_SEARCH)
    row = store.conn.execute(
        "SELECT i.submission_id, i.kind, i.received_at, i.state, i.claimed_by, i.data, "
        "EXISTS (SELECT 1 FROM inbox_actions a WHERE a.submission_id = i.submission_id AND "
        "a.status = 'pending'), i.attachments, i.reason FROM inbox_items i "
        "WHERE i.submission_id = ?", (submission_id,)).fetchone()
    if row is None:
        raise ValidationError("Dieser Online-Antrag ist nicht (mehr) im Posteingang.",
                              "unknown inbox item")
    try:
        request = read_request(row[1], json.loads(row[5]))
    except RequestProblem as exc:
        raise ValidationError("Dieser Online-Antrag kann mit diesem Programmstand nicht "
                              "angezeigt werden (unbekannte Antragsart oder Angaben). Bitte "
                              "die IT verständigen.",
                              f"inbox item unreadable: {exc.detail}") from None
    applicant = request.applicant
    matches = [h for h in search(store, f"{applicant.family_name} {applicant.first_names}")
               if h.birth_date == applicant.birth_date] or \
        search(store, f"{applicant.family_name} {applicant.birth_date:%d.%m.%Y}")
    with store.transaction():
        audit.record(store, audit.READ, None, PURPOSE, f"Online-Antrag {submission_id}")
        if matches:
            record_shown(store, matches, PURPOSE)
    return OpenedItem(line=_line(row), request=request, attachments=json.loads(row[7]),
                      matches=matches, reason=row[8])


def service_form(store: Store, opened: OpenedItem, person_id: str) -> tuple[str, dict[str, Any]]:
    """The counter service an item asks for, and its form prefilled from the request for the
    person the clerk chose among the matches: (service type, form). What the request cannot
    say (the landlord's confirmation, a street the directory does not know) stays for the
    clerk to fill in the dialog."""
    request = opened.request
    if isinstance(request, MeldebescheinigungRequest):
        return "meldebescheinigung", {"person_id": person_id, "variant": request.variant,
                                      "payment": _online(request.payment)}
    if isinstance(request, CivilStatusRequest):
        # The portal identified the applicant with the eID (the online ID check).
        return "personenstandsurkunde_antrag", {
            "id_document_checked": True,
            "person_id": person_id, "certificate": request.certificate,
            "subject": {"names": request.subject_names, "place": request.event_place,
                        "date": f"{request.event_date:%d.%m.%Y}"},
            "entitlement": {"basis": request.entitlement,
                            **({"interest": request.interest} if request.interest else {})},
            "copies": request.copies, "delivery": "post", "payment": _online(request.payment)}
    assert isinstance(request, AddressChange)
    address = request.new_address
    streets = [s for s in find_streets(store, address.street) if s.name == address.street]
    form: dict[str, Any] = {
        "persons": [{"person_id": person_id}],
        "address": {"street_id": streets[0].id if streets else None,
                    "house_number": address.house_number},
        "kind": "alleinig", "move_in": request.move_in_date.isoformat()}
    if request.landlord is not None:
        form["landlord"] = {"presented": True, "landlord_name": request.landlord.name,
                            "landlord_address": request.landlord.address}
    return "ummeldung", form


def _online(payment: OnlinePayment) -> dict[str, Any]:
    return {"method": "online", "reference": payment.reference,
            "paid_cents": payment.amount_cents}


def claim(store: Store, submission_id: str, *, release: bool = False) -> None:
    """Take an item into work (or give it back); sent to the central service by the sync."""
    with store.transaction():
        state, holder = _state(store, submission_id)
        me = store.actor.clerk
        if state not in ("new", "in_work"):
            raise ValidationError("Dieser Online-Antrag ist schon abgeschlossen.",
                                  "inbox item closed")
        if holder not in (None, me):
            raise ValidationError(f"Dieser Online-Antrag wird schon von {holder} bearbeitet.",
                                  "inbox item claimed by another clerk")
        store.conn.execute("UPDATE inbox_items SET state = ?, claimed_by = ? "
                           "WHERE submission_id = ?",
                           ("new", None, submission_id) if release
                           else ("in_work", me, submission_id))
        _queue(store, submission_id, "claim", {"clerk": me, "release": release})


def record_outcome(store: Store, submission_id: str, state: str, reason: str = "",
                   document: tuple[str, str] | None = None,
                   command_id: str | None = None,
                   confirmation_sha256: str = "") -> None:
    """The clerk's outcome: done, waiting for the citizen, or rejected (with a reason);
    `document` (name, base64 PDF) goes to the citizen's portal mailbox; `command_id` is the
    counter service that did the work (its documents and receipt go to the e-Akte);
    `confirmation_sha256` the hash of the code in the letter of a "waiting" outcome."""
    if state not in OUTCOMES:
        raise ValueError(state)
    if state == "rejected" and not reason.strip():
        raise ValidationError("Bitte den Grund der Ablehnung angeben: die Bürgerin oder der "
                              "Bürger erfährt ihn.", "rejection without a reason")
    with store.transaction():
        current, holder = _state(store, submission_id)
        if holder not in (None, store.actor.clerk) or current in ("done", "rejected"):
            raise ValidationError("Diesen Online-Antrag bearbeitet jemand anderes, oder er ist "
                                  "abgeschlossen.", "inbox item not this clerk's")
        store.conn.execute("UPDATE inbox_items SET state = ?, claimed_by = ?, reason = ?, "
                           "command_id = coalesce(?, command_id) WHERE submission_id = ?",
                           (state, store.actor.clerk, reason or None, command_id,
                            submission_id))
        body: dict[str, Any] = {"clerk": store.actor.clerk, "state": state, "reason": reason}
        if document is not None:
            body.update(document_name=document[0], document_b64=document[1])
        if confirmation_sha256:
            body["confirmation_sha256"] = confirmation_sha256
        _queue(store, submission_id, "outcome", body)


def mailbox_document(store: Store, command_id: str) -> tuple[str, str] | None:
    """The sealed PDF a service issued (its archived original, not the receipt), as (name,
    base64) for the citizen's portal mailbox; None while it is not rendered yet."""
    row = store.conn.execute(
        "SELECT d.number, f.pdf FROM documents d JOIN document_files f ON "
        "f.document_number = d.number AND f.kind = 'original' WHERE d.command_id = ? AND "
        "d.type <> 'quittung' ORDER BY d.issued_at, d.number LIMIT 1", (command_id,)).fetchone()
    if row is None:
        return None
    return f"{row[0]}.pdf", base64.b64encode(bytes(row[1])).decode("ascii")


def _state(store: Store, submission_id: str) -> tuple[str, str | None]:
    row = store.conn.execute("SELECT state, claimed_by FROM inbox_items WHERE "
                             "submission_id = ?", (submission_id,)).fetchone()
    if row is None:
        raise ValidationError("Dieser Online-Antrag ist nicht im Posteingang.",
                              "unknown inbox item")
    return str(row[0]), row[1]


def _queue(store: Store, submission_id: str, action: str, body: dict[str, Any]) -> None:
    store.conn.execute("INSERT INTO inbox_actions (submission_id, action, body, created_at, "
                       "status) VALUES (?, ?, ?, ?, 'pending')",
                       (submission_id, action, json.dumps(body, ensure_ascii=False),
                        audit.utc_now()))


def pending_actions(store: Store) -> list[tuple[int, str, str, dict[str, Any]]]:
    """Queued claims and outcomes, oldest first: (id, submission id, action, body)."""
    return [(int(r[0]), str(r[1]), str(r[2]), json.loads(r[3])) for r in store.conn.execute(
        "SELECT id, submission_id, action, body FROM inbox_actions WHERE status = 'pending' "
        "ORDER BY id")]


def settle_action(store: Store, action_id: int, refusal_de: str | None = None) -> None:
    """The central service took the action (or refused it: then the next pull's state wins,
    and the refusal stays for the clerk to read)."""
    with store.transaction():
        store.conn.execute("UPDATE inbox_actions SET status = ?, message = ? WHERE id = ?",
                           ("refused" if refusal_de else "sent", refusal_de, action_id))
