"""The intake of online applications against the real central service (HTTP, SQLite file):
each kind taken in, each kind of broken input refused with a signed reason and kept, key
rollover, duplicates processed once."""

from __future__ import annotations

import copy
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from joserfc.jwk import RSAKey

from sync.fit_protocol import EVENT_PREFIX, REJECT
from sync.portal import Attachment, build_submission, encryption_key, verify_event
from tests.online_support import REQUESTS, Office, running_office
from tests.sync_support import central_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def office(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    folder = tmp_path_factory.mktemp("office")
    with central_database(request.param, folder) as url, running_office(url, folder) as office:
        yield office


def refused(office: Office, submission: object) -> tuple[str, dict[str, object]]:
    answer = office.portal.send(submission)  # type: ignore[arg-type]
    assert answer.status == "refused"
    claims = verify_event(answer.events[-1], office.portal.destination())
    problem = claims["events"][EVENT_PREFIX + REJECT]["problems"][0]  # type: ignore[index]
    rows = office.central.db.transaction(write=False)
    with rows as tx:
        kept = tx.execute("SELECT refusal_code, raw FROM submissions WHERE submission_id = ?",
                          (answer.submission_id,))
    assert kept[0][0] == problem["type"] and kept[0][1]  # kept, still encrypted
    return str(problem["type"]), claims


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_each_kind_is_taken_in_once(office: Office, kind: str) -> None:
    pdf = Attachment("nachweis.pdf", "application/pdf", b"%PDF-1.7 test\n")
    key = encryption_key(office.portal.destination())
    submission = build_submission(kind, REQUESTS[kind], key, [pdf])
    first = office.portal.send(submission)
    again = office.portal.send(submission)
    assert (first.status, first.duplicate) == ("received", False)
    assert (again.status, again.duplicate) == ("received", True)
    items = [i for i in office.intake.inbox(0, 500).items
             if i.submission_id == submission.submission_id]
    assert len(items) == 1 and items[0].state == "new"
    assert items[0].data["applicant"]["family_name"] == "Wróbel"
    assert items[0].attachments[0]["filename"] == "nachweis.pdf"


def test_another_submission_under_a_taken_id_is_refused(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    sid = str(uuid.uuid4())
    office.portal.send(build_submission("adressaenderung", REQUESTS["adressaenderung"], key,
                                        submission_id=sid))
    other = build_submission("adressaenderung", REQUESTS["adressaenderung"], key,
                             submission_id=sid)
    with pytest.raises(requests.HTTPError) as caught:
        office.portal.send(other)
    assert caught.value.response.status_code == 409


def test_wrong_key(office: Office) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "enc-fremd", "use": "enc",
                                                     "alg": "RSA-OAEP-256"}, private=True)
    code, _ = refused(office, build_submission("meldebescheinigung",
                                               REQUESTS["meldebescheinigung"], stranger))
    assert code == "wrong-key"


def test_broken_jwe(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    submission = build_submission("meldebescheinigung", REQUESTS["meldebescheinigung"], key)
    parts = submission.data.split(".")
    parts[3] = parts[3][:-4] + ("AAAA" if not parts[3].endswith("AAAA") else "BBBB")
    code, _ = refused(office, submission.model_copy(update={"data": ".".join(parts)}))
    assert code == "broken-jwe"


def test_hash_mismatch(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    one = build_submission("meldebescheinigung", REQUESTS["meldebescheinigung"], key)
    changed = copy.deepcopy(REQUESTS["meldebescheinigung"])
    changed["variant"] = "erweitert"
    other = build_submission("meldebescheinigung", changed, key)
    code, _ = refused(office, one.model_copy(update={"data": other.data}))
    assert code == "hash-mismatch"


def test_schema_failure_names_fields_not_values(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    broken = copy.deepcopy(REQUESTS["personenstandsurkunde"])
    broken["copies"] = 99
    code, claims = refused(office, build_submission("personenstandsurkunde", broken, key))
    assert code == "schema"
    assert "copies" in str(claims) and "Wróbel" not in str(claims)


def test_unknown_kind(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    code, _ = refused(office, build_submission("hundesteuer", {"kind": "hundesteuer"}, key))
    assert code == "unknown-kind"


def test_oversize_attachment(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    big = Attachment("scan.pdf", "application/pdf", b"x" * (2 << 20 | 1))
    submission = build_submission("meldebescheinigung", REQUESTS["meldebescheinigung"], key,
                                  [big])
    code, _ = refused(office, submission)
    assert code == "oversize"


def test_body_beyond_the_limit_is_refused_unread(office: Office) -> None:
    response = requests.post(office.server.url + "/fit/v1/submissions",
                             data=b"{" + b" " * (8 << 20), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_without_portal_token_nothing(office: Office) -> None:
    response = requests.get(office.server.url + "/fit/v1/destination", timeout=10)
    assert response.status_code == 401


def test_rollover_keeps_old_submissions_readable(office: Office, tmp_path: Path) -> None:
    old_key = encryption_key(office.portal.destination())
    new_kid = office.intake.keys.rollover()
    assert encryption_key(office.portal.destination()).kid == new_kid
    # Encrypted to the old key before the portal saw the new one: still taken in.
    late = build_submission("adressaenderung", REQUESTS["adressaenderung"], old_key)
    assert office.portal.send(late).status == "received"
    fresh = build_submission("adressaenderung", REQUESTS["adressaenderung"],
                             encryption_key(office.portal.destination()))
    assert office.portal.send(fresh).status == "received"


def test_an_outcome_with_a_broken_document_is_refused(office: Office) -> None:
    from sync.fit_protocol import InboxClaim, InboxOutcome
    from sync.server.central import CentralError

    sid = office.portal.submit("adressaenderung", REQUESTS["adressaenderung"]).submission_id
    office.intake.claim(sid, InboxClaim(clerk="mmuster"))
    for broken in ("nicht base64!", "SGFsbG8="):  # not base64; base64 of no PDF
        with pytest.raises(CentralError) as caught:
            office.intake.outcome(sid, InboxOutcome(clerk="mmuster", state="done",
                                                    document_b64=broken))
        assert caught.value.status == 422
    assert office.intake.item(sid).state == "in_work"  # nothing recorded


def test_the_same_submission_at_once_is_stored_once(office: Office) -> None:
    import threading

    key = encryption_key(office.portal.destination())
    submission = build_submission("meldebescheinigung", REQUESTS["meldebescheinigung"], key)
    answers: list[object] = []
    threads = [threading.Thread(target=lambda: answers.append(office.portal.send(submission)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and all(a.status == "received" for a in answers)  # type: ignore[attr-defined]
    assert sum(not a.duplicate for a in answers) <= 1  # type: ignore[attr-defined]
    stored = [i for i in office.intake.inbox(0, 500).items
              if i.submission_id == submission.submission_id]
    assert len(stored) == 1


def test_the_reference_portal_on_the_command_line(office: Office, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    data = tmp_path / "antrag.json"
    data.write_text(json.dumps(REQUESTS["personenstandsurkunde"]), encoding="utf-8")
    token = office.intake.issue_portal_token("kommandozeile")
    # Pasted as it is after `--token`: never taken for an option (a token that began with
    # "-" once failed this test).
    assert re.fullmatch("[0-9a-f]{64}", token)
    base = [sys.executable, "-m", "clerk_app", "portal", "--url", office.server.url,
            "--token", token]
    env = {**os.environ, "CLERK_APP_DATA_DIR": str(tmp_path / "data")}
    sent = subprocess.run([*base, "submit", "personenstandsurkunde", "--data", str(data)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["status"] == "received" and answer["events"] == []
    asked = subprocess.run([*base, "status", answer["submission_id"]], capture_output=True,
                           text=True, env=env, timeout=60)
    assert asked.returncode == 0 and json.loads(asked.stdout)["status"] == "received"
    data.write_text(json.dumps({**REQUESTS["personenstandsurkunde"], "copies": 0}))
    refused = subprocess.run([*base, "submit", "personenstandsurkunde", "--data", str(data)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1
    [event] = json.loads(refused.stdout)["events"]  # verified against the destination's key
    assert "reject-submission" in next(iter(event))
