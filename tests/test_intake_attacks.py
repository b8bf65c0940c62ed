# ruff: noqa: F811 - the office fixture is shared with tests/test_intake.py
"""The intake attacked from outside, over HTTP against the real service process: every broken
body (too large, unparsable, nested past reason, not a submission, too many attachments,
hostile JWEs and metadata, an id replayed with other content) gets a 4xx or a refusal, never a
server error; where the body names its submission id the portal finds a signed reason, and
what is kept of it for inspection is bounded."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from joserfc import jwe
from joserfc.jwk import RSAKey

from sync.fit_protocol import EVENT_PREFIX, HASH_TYPE, JWE_ALGORITHMS, REJECT, Submission
from sync.portal import build_submission, encryption_key, verify_event
from sync.server.intake import KEEP_UNREAD
from tests.online_support import REQUESTS, Office
from tests.test_intake import office  # noqa: F401 - fixture (SQLite and PostgreSQL)

MAX_BODY = 4 << 20  # the service's default body limit
KIND = "meldebescheinigung"


def post(office: Office, body: bytes | Iterator[bytes], *, token: bool = True
         ) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = office.portal.session.headers["Authorization"]
    response = requests.post(office.server.url + "/fit/v1/submissions", data=body,
                             headers=headers, timeout=120)
    assert response.status_code < 500, response.text
    return response


def reasons(office: Office, submission_id: str) -> list[str]:
    """The problem types of the signed reject events the portal finds for the submission."""
    answer = office.portal.status(submission_id)
    assert answer.status == "refused"
    found = []
    for token in answer.events:
        claims = verify_event(token, office.portal.destination())
        found += [p["type"] for p in claims["events"][EVENT_PREFIX + REJECT]["problems"]]
    return found


def kept(office: Office, submission_id: str) -> tuple[str, str]:
    with office.central.db.transaction(write=False) as tx:
        rows = tx.execute("SELECT refusal_code, raw FROM submissions WHERE submission_id = ?",
                          (submission_id,))
    return str(rows[0][0]), str(rows[0][1])


def a_submission(office: Office) -> Submission:
    return build_submission(KIND, REQUESTS[KIND], encryption_key(office.portal.destination()))


def encrypt(content: bytes, key: RSAKey) -> str:
    return jwe.encrypt_compact({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": key.kid},
                               content, key, algorithms=JWE_ALGORITHMS)


def sha512(content: bytes) -> dict[str, str]:
    return {"type": HASH_TYPE, "content": hashlib.sha512(content).hexdigest()}


def crafted(office: Office, data: bytes, metadata: dict[str, Any] | None = None,
            attachments: list[dict[str, str]] = ()) -> Submission:  # type: ignore[assignment]
    """A submission of raw `data` bytes, with the metadata given (or the right one)."""
    key = encryption_key(office.portal.destination())
    meta = metadata if metadata is not None else {"kind": KIND, "data_hash": sha512(data),
                                                  "attachments": []}
    return Submission.model_validate({
        "submission_id": str(uuid.uuid4()), "kind": KIND,
        "metadata": encrypt(json.dumps(meta).encode(), key), "data": encrypt(data, key),
        "attachments": attachments})


# --- too large ----------------------------------------------------------------------------

def test_an_oversize_body_is_refused_with_a_signed_reason_and_kept_bounded(
        office: Office) -> None:
    fields = json.loads(a_submission(office).model_dump_json())
    fields["data"] = "A" * (MAX_BODY + 1)
    body = json.dumps(fields).encode()
    first = post(office, body)
    assert first.status_code == 413 and first.json()["code"] == "refused"
    assert reasons(office, fields["submission_id"]) == ["oversize"]
    code, raw = kept(office, fields["submission_id"])
    assert code == "oversize" and len(raw) < KEEP_UNREAD + 1024  # not the 4 MiB body
    record = json.loads(raw)
    assert record["size"] == len(body) and record["complete"]
    assert record["sha256"] == hashlib.sha256(body).hexdigest()
    # Sent again, the same body is the same refusal (one event); the reference portal reads
    # the refusal as an answer.
    again = office.portal.post_body(fields["submission_id"], body)
    assert again.status == "refused" and len(again.events) == 1


def test_an_oversize_body_naming_its_id_last_is_identified(office: Office) -> None:
    sid = str(uuid.uuid4())
    body = (b'{"data": "' + b"B" * (MAX_BODY + 100_000) + b'", "kind": "' + KIND.encode() +
            b'", "submission_id": "' + sid.encode() + b'"}')
    assert post(office, body).status_code == 413
    assert reasons(office, sid) == ["oversize"]


def test_a_body_past_what_is_drained_is_cut_and_refused(office: Office) -> None:
    from sync.server.intake_oversize import DRAIN_LIMIT

    sid = str(uuid.uuid4())
    chunk = b"C" * (1 << 20)

    def endless() -> Iterator[bytes]:
        yield b'{"submission_id": "' + sid.encode() + b'", "data": "'
        for _ in range(DRAIN_LIMIT // len(chunk) + 8):
            yield chunk

    # The service may answer and close while the body is still coming.
    with contextlib.suppress(requests.ConnectionError):
        assert post(office, endless()).status_code == 413
    assert reasons(office, sid) == ["oversize"]
    record = json.loads(kept(office, sid)[1])
    assert not record["complete"] and record["size"] <= DRAIN_LIMIT + 2 * len(chunk)


def test_an_oversize_body_from_no_portal_is_not_read(office: Office) -> None:
    sid = str(uuid.uuid4())
    body = b'{"submission_id": "' + sid.encode() + b'", "data": "' + b"D" * MAX_BODY + b'"}'
    assert post(office, body, token=False).status_code == 413
    assert requests.get(f"{office.portal.base_url}/submissions/{sid}", timeout=10,
                        headers=dict(office.portal.session.headers)).status_code == 404


# --- not a submission -----------------------------------------------------------------------

def _eleven_attachments(fields: dict[str, Any]) -> None:
    fields["attachments"] = [{"attachment_id": f"anlage-{n}", "content": fields["data"]}
                             for n in range(11)]


def _nested_deep(fields: dict[str, Any]) -> None:
    fields["metadata"] = json.loads("[" * 500 + "]" * 500)


BROKEN: dict[str, Any] = {
    "too many attachments": _eleven_attachments,
    "an unknown field": lambda f: f.update(signature="x"),
    "no data": lambda f: f.pop("data"),
    "a kind too long": lambda f: f.update(kind="k" * 65),
    "a kind with a NUL": lambda f: f.update(kind="melde\u0000bescheinigung"),
    "a kind of markup": lambda f: f.update(kind="<b>melde</b>"),
    "an attachment id of other characters": lambda f: f.update(
        attachments=[{"attachment_id": "../../etc/passwd", "content": f["data"]}]),
    "metadata no string": lambda f: f.update(metadata={"kind": KIND}),
    "nested deep": _nested_deep,
}


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_a_body_that_is_no_submission_but_names_its_id(office: Office, damage: str) -> None:
    fields = json.loads(a_submission(office).model_dump_json())
    BROKEN[damage](fields)
    response = post(office, json.dumps(fields).encode())
    assert response.status_code == 422 and response.json()["code"] == "refused"
    assert reasons(office, fields["submission_id"]) == ["malformed"]
    assert "Wróbel" not in kept(office, fields["submission_id"])[1]  # still encrypted


@pytest.mark.parametrize("body", [
    b"[" * 200_000,                                          # nested past any parser's depth
    b'{"a": ' * 100_000,
    b"\xff\xfe not UTF-8",
    b"",
    b"[]",
    b'"a string"',
    b'{"submission_id": "not-an-id", "kind": "x"}',
], ids=["deep-array", "deep-object", "not-utf8", "empty", "array", "string", "bad-id"])
def test_a_body_naming_no_id_gets_a_4xx(office: Office, body: bytes) -> None:
    response = post(office, body)
    assert response.status_code in (400, 422)
    assert response.json()["message_de"]


def test_an_unparsable_body_naming_its_id_is_refused_with_a_reason(office: Office) -> None:
    sid = str(uuid.uuid4())
    body = b'{"submission_id": "' + sid.encode() + b'", "kind": "x", "data": ' + \
        b"[" * 100_000
    assert post(office, body).status_code in (400, 422)
    assert reasons(office, sid) == ["malformed"]


# --- hostile contents -----------------------------------------------------------------------

def test_data_nested_past_reason_inside_the_jwe(office: Office) -> None:
    answer = office.portal.send(crafted(office, b"[" * 30_000 + b"]" * 30_000))
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id) == ["schema"]


def test_a_jwe_header_nested_past_reason(office: Office) -> None:
    submission = a_submission(office)
    header = base64.urlsafe_b64encode(b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    parts = submission.data.split(".")
    broken = submission.model_copy(update={
        "data": ".".join([header.rstrip(b"=").decode(), *parts[1:]])})
    answer = office.portal.send(broken)
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id) == ["broken-jwe"]


def test_a_compressed_jwe_is_not_inflated(office: Office) -> None:
    key = encryption_key(office.portal.destination())
    bomb = jwe.encrypt_compact({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF",
                                "kid": key.kid}, b"{" + b" " * (20 << 20) + b"}", key,
                               algorithms=[*JWE_ALGORITHMS, "DEF"])
    submission = a_submission(office).model_copy(update={"data": bomb})
    answer = office.portal.send(submission)
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id) == ["broken-jwe"]


def test_the_destinations_key_id_on_another_key(office: Office) -> None:
    real = encryption_key(office.portal.destination())
    forger = RSAKey.generate_key(2048, parameters={"kid": real.kid, "use": "enc",
                                                   "alg": "RSA-OAEP-256"}, private=True)
    answer = office.portal.send(build_submission(KIND, REQUESTS[KIND], forger))
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id) == ["broken-jwe"]


@pytest.mark.parametrize("declared", [
    ["anlage-1"],
    [{"attachment_id": "anlage-1"}, "anlage-1"],
    "anlage-1",
], ids=["strings", "mixed", "no-list"])
def test_metadata_listing_attachments_wrongly(office: Office, declared: Any) -> None:
    data = json.dumps(REQUESTS[KIND]).encode()
    key = encryption_key(office.portal.destination())
    submission = crafted(office, data, {"kind": KIND, "data_hash": sha512(data),
                                        "attachments": declared},
                         [{"attachment_id": "anlage-1", "content": encrypt(b"%PDF-", key)}])
    answer = office.portal.send(submission)
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id) == ["attachments"]


@pytest.mark.parametrize("metadata", [
    {"kind": "personenstandsurkunde"},                # another kind than the submission's
    {"kind": KIND, "data_hash": "sha512"},           # a hash that is no object
    {"kind": KIND, "data_hash": {"type": "md5", "content": "0"}},
])
def test_metadata_that_does_not_fit(office: Office, metadata: dict[str, Any]) -> None:
    data = json.dumps(REQUESTS[KIND]).encode()
    if metadata["kind"] != KIND:
        metadata = {**metadata, "data_hash": sha512(data), "attachments": []}
    answer = office.portal.send(crafted(office, data, metadata))
    assert answer.status == "refused"
    assert reasons(office, answer.submission_id)[0] in ("schema", "hash-mismatch")


def test_empty_parts(office: Office) -> None:
    submission = a_submission(office).model_copy(update={"metadata": "", "data": ""})
    answer = office.portal.send(submission)
    assert reasons(office, answer.submission_id) == ["broken-jwe"]


# --- replays --------------------------------------------------------------------------------

def test_an_id_replayed_with_other_content_leaves_the_first_alone(office: Office) -> None:
    first = a_submission(office)
    assert office.portal.send(first).status == "received"
    other = build_submission("adressaenderung", REQUESTS["adressaenderung"],
                             encryption_key(office.portal.destination()),
                             submission_id=first.submission_id)
    response = post(office, other.model_dump_json().encode())
    assert response.status_code == 409
    fields = json.loads(first.model_dump_json())
    fields["attachments"] = [{"attachment_id": "x", "content": "y"}] * 11
    assert post(office, json.dumps(fields).encode()).status_code == 409  # malformed too
    oversize = {**fields, "attachments": [], "data": "E" * (MAX_BODY + 1)}
    assert post(office, json.dumps(oversize).encode()).status_code == 409
    answer = office.portal.status(first.submission_id)
    assert (answer.status, answer.events) == ("received", [])  # no event against it
    [item] = [i for i in office.intake.inbox(0, 500).items
              if i.submission_id == first.submission_id]
    assert item.kind == KIND and item.state == "new"


def test_a_refused_submission_sent_again_is_refused_once(office: Office) -> None:
    fields = json.loads(a_submission(office).model_dump_json())
    _eleven_attachments(fields)
    body = json.dumps(fields).encode()
    for _ in range(3):
        assert post(office, body).status_code == 422
    assert reasons(office, fields["submission_id"]) == ["malformed"]
