"""The inbox at the workstation against the real central service: portal submit -> sync ->
inbox (matching persons, access log) -> claim (one clerk at a time) -> service -> outcome ->
signed event back to the portal; and offline work with what was synced."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from clerk_app import inbox
from clerk_app.documents import archive_pdf
from clerk_app.errors import ValidationError
from clerk_app.letters import code_digest, new_confirmation_code
from clerk_app.store.db import Store
from sync.central_errors import CentralUnavailable
from sync.client import CentralClient
from sync.engine import SyncEngine
from sync.fit_protocol import ACCEPT, EVENT_PREFIX, REJECT
from sync.portal import verify_event
from tests.online_support import REQUESTS, Office, a_pdf, running_office
from tests.sync_support import Workstation, anmeldung, central_database


def event(office: Office, submission_id: str) -> dict[str, object]:
    answer = office.portal.status(submission_id)
    claims = verify_event(answer.events[-1], office.portal.destination())
    return claims["events"]  # type: ignore[return-value]


def test_each_kind_from_portal_to_outcome(tmp_path: Path) -> None:
    with central_database("sqlite", tmp_path) as url, running_office(url, tmp_path) as office:
        ws1 = Workstation(tmp_path / "ws1", "ws1", office.central, office.server.url)
        ws2 = Workstation(tmp_path / "ws2", "ws2", office.central, office.server.url)
        created = ws1.run("anmeldung", anmeldung(ws1.street()))
        person_id = created.changed_persons[0]
        ws1.sync()
        ids = {kind: office.portal.submit(kind, data).submission_id
               for kind, data in REQUESTS.items()}
        ws1.sync()
        ws2.sync()
        assert {line.submission_id for line in inbox.lines(ws1.store)} == set(ids.values())

        # Meldebescheinigung: the matching person, logged; claimed; issued; done.
        sid = ids["meldebescheinigung"]
        opened = inbox.open_item(ws1.store, sid)
        assert [m.id for m in opened.matches] == [person_id]
        logged = ws1.store.query("SELECT detail FROM audit_log WHERE purpose = ?",
                                 (inbox.PURPOSE,))
        assert any(sid in (r["detail"] or "") for r in logged)
        inbox.claim(ws1.store, sid)
        ws1.sync()
        ws2.sync()
        [held] = [line for line in inbox.lines(ws2.store) if line.submission_id == sid]
        assert (held.state, held.claimed_by) == ("in_work", "clerk-ws1")
        with pytest.raises(ValidationError) as caught:
            inbox.claim(ws2.store, sid)
        assert "clerk-ws1" in caught.value.message_de
        service, form = inbox.service_form(ws1.store, opened, person_id)
        issued = ws1.run(service, form)
        assert issued.receipt is not None and issued.receipt.method == "online"
        journal = ws1.store.query("SELECT method, payment_reference, amount_cents FROM "
                                  "cash_journal WHERE command_id = ?", (issued.command_id,))
        assert journal == [{"method": "online", "payment_reference": "PAY-2026-000123",
                            "amount_cents": 700}]
        assert inbox.mailbox_document(ws1.store, issued.command_id) is None  # not rendered
        [document] = [d for d in issued.documents if d.type != "quittung"]
        archive_pdf(ws1.store, document.number, a_pdf())
        pdf = inbox.mailbox_document(ws1.store, issued.command_id)
        assert pdf is not None and pdf[0] == f"{document.number}.pdf"
        inbox.record_outcome(ws1.store, sid, "done", document=pdf, command_id=issued.command_id)
        ws1.sync()
        assert ws1.status_of(issued.command_id) == "applied"  # the central replay took it
        assert EVENT_PREFIX + ACCEPT in event(office, sid)
        [delivered] = office.portal.mailbox(sid).documents
        assert delivered.content_b64 == pdf[1] and delivered.name == pdf[0]

        # Civil status: forwarded to the registry office as the counter request is.
        psa = ids["personenstandsurkunde"]
        inbox.claim(ws2.store, psa)
        service, form = inbox.service_form(ws2.store, inbox.open_item(ws2.store, psa),
                                           person_id)
        forwarded = ws2.run(service, form)
        assert ws2.store.query("SELECT type, status FROM requests WHERE command_id = ?",
                               (forwarded.command_id,)) == [
            {"type": "personenstandsurkunde", "status": "queued"}]
        inbox.record_outcome(ws2.store, psa, "done", command_id=forwarded.command_id)

        # Change of address: accepted pending identification, the code confirmed at the
        # portal, then the normal Ummeldung.
        move = ids["adressaenderung"]
        inbox.claim(ws2.store, move)
        code = new_confirmation_code()
        inbox.record_outcome(ws2.store, move, "waiting", "Bestätigungscode per Brief",
                             confirmation_sha256=code_digest(code))
        ws2.sync()
        assert ws2.status_of(forwarded.command_id) == "applied"
        assert EVENT_PREFIX + ACCEPT in event(office, psa)
        waiting = event(office, move)[EVENT_PREFIX + ACCEPT]
        assert waiting["status"] == "pending-identification"  # type: ignore[index]
        ws1.sync()
        assert [line.state for line in inbox.lines(ws1.store)] == ["waiting"]
        with pytest.raises(requests.HTTPError):   # the wrong code
            office.portal.confirm(move, "AAAAA-AAAAA")
        assert office.portal.confirm(move, code.lower()).status == "in_work"
        with pytest.raises(requests.HTTPError):   # once only
            office.portal.confirm(move, code)
        ws2.sync()
        [back] = inbox.lines(ws2.store)
        assert (back.state, back.claimed_by) == ("in_work", "clerk-ws2")
        service, form = inbox.service_form(ws2.store, inbox.open_item(ws2.store, move),
                                           person_id)
        assert service == "ummeldung"
        moved = ws2.run(service, form)
        inbox.record_outcome(ws2.store, move, "done", command_id=moved.command_id)
        ws2.sync()
        assert ws2.status_of(moved.command_id) == "applied"
        assert event(office, move)[EVENT_PREFIX + ACCEPT]["status"] == "done"  # type: ignore[index]

        # Rejected with a reason, which the citizen is told (signed).
        other = office.portal.submit("adressaenderung", REQUESTS["adressaenderung"])
        ws1.sync()
        inbox.claim(ws1.store, other.submission_id)
        with pytest.raises(ValidationError):
            inbox.record_outcome(ws1.store, other.submission_id, "rejected")
        inbox.record_outcome(ws1.store, other.submission_id, "rejected",
                             "Die Anschrift liegt nicht in Lörrach.")
        ws1.sync()
        rejected = event(office, other.submission_id)[EVENT_PREFIX + REJECT]
        assert "Lörrach" in str(rejected)
        ws1.close()
        ws2.close()


def test_claim_race_the_central_service_decides(tmp_path: Path) -> None:
    with central_database("sqlite", tmp_path) as url, running_office(url, tmp_path) as office:
        ws1 = Workstation(tmp_path / "ws1", "ws1", office.central, office.server.url)
        ws2 = Workstation(tmp_path / "ws2", "ws2", office.central, office.server.url)
        sid = office.portal.submit("adressaenderung", REQUESTS["adressaenderung"]).submission_id
        ws1.sync()
        ws2.sync()
        inbox.claim(ws1.store, sid)
        inbox.claim(ws2.store, sid)  # both offline-ish: each believes it has it
        ws1.sync()
        ws2.sync()
        [line] = inbox.lines(ws2.store)
        assert (line.state, line.claimed_by, line.pending) == ("in_work", "clerk-ws1", False)
        refused = ws2.store.query("SELECT message FROM inbox_actions WHERE status = 'refused'")
        assert "clerk-ws1" in refused[0]["message"]
        ws1.close()
        ws2.close()


def test_inbox_works_offline_with_what_was_synced(tmp_path: Path) -> None:
    with central_database("sqlite", tmp_path) as url, running_office(url, tmp_path) as office:
        ws = Workstation(tmp_path / "ws", "ws", office.central, office.server.url)
        sid = office.portal.submit("adressaenderung", REQUESTS["adressaenderung"]).submission_id
        ws.sync()
        office.server.kill()  # really gone
        inbox.open_item(ws.store, sid)
        inbox.claim(ws.store, sid)
        inbox.record_outcome(ws.store, sid, "rejected", "Adresse unbekannt")
        with pytest.raises(CentralUnavailable):
            SyncEngine(ws.store, CentralClient(office.server.url, ws.token)).sync_once()
        assert len(inbox.pending_actions(ws.store)) == 2
        office.server.start()
        ws.sync()
        assert inbox.pending_actions(ws.store) == []
        assert EVENT_PREFIX + REJECT in event(office, sid)
        ws.close()


@pytest.mark.parametrize("kind, data", [
    ("hundesteuer", {"kind": "hundesteuer", "applicant": {"family_name": "Wróbel"}}),
    ("meldebescheinigung", {"kind": "meldebescheinigung", "applicant": "Wróbel"}),
    ("adressaenderung", {"applicant": ["Wróbel", "Łukasz"], "new_address": None}),
], ids=["unknown-kind", "applicant-no-object", "broken-form"])
def test_an_item_this_program_cannot_read_is_listed_and_refused_plainly(
        store: Store, kind: str, data: dict[str, object]) -> None:
    """An item of a kind or form this version does not know (a newer central service):
    listed, and opening it says so in German instead of failing the inbox."""
    sid = "00000000-0000-4000-8000-0000000000ff"
    good = "00000000-0000-4000-8000-0000000000fe"
    inbox.store_items(store, [
        {"submission_id": sid, "kind": kind, "seq": 1, "state": "new",
         "received_at": "2026-12-03T08:00:00+00:00", "data": data},
        {"submission_id": good, "kind": "meldebescheinigung", "seq": 2, "state": "new",
         "received_at": "2026-12-03T09:00:00+00:00", "data": REQUESTS["meldebescheinigung"]}])
    lines = {line.submission_id: line for line in inbox.lines(store)}
    assert set(lines) == {sid, good}
    assert lines[good].applicant == "Wróbel, Łukasz"
    with pytest.raises(ValidationError) as caught:
        inbox.open_item(store, sid)
    assert "nicht angezeigt" in caught.value.message_de
    assert "Wróbel" not in caught.value.message_en  # no personal data in the log
    assert inbox.open_item(store, good).request.kind == "meldebescheinigung"
