"""Taking in online applications, and the office's inbox they land in.

A submission is processed once: its id is the key of its row, and a repeat of the same content
is answered with what the first delivery got. Each check refuses with a reason code that goes
back to the portal as a signed "reject-submission" event; the refused submission is kept, still
encrypted, for inspection (`raw`). The reasons: `wrong-key` (encrypted to no key of this
destination), `broken-jwe`, `hash-mismatch`, `schema`, `unknown-kind`, `oversize`,
`attachments` (not the ones the metadata lists), `malformed` (the body is no submission: not
JSON, nested past reason, fields missing or too many). A body the service cannot read whole
(oversize, `intake_oversize`) or parse is refused all the same wherever it names its
submission id; what is kept of it is bounded (its size, its SHA-256, its first bytes: JWEs and
ids, no plaintext). What passes is stored decrypted in the central database (encrypted at
rest like the register's data) as an inbox item in state "new".

The inbox's states: new, in_work (claimed by one clerk), waiting (for the citizen), done,
rejected. Each change takes the next number of the `inbox` counter under its row lock, so a
workstation that pulled up to N has seen every change up to N (as `storage` explains for the
change sequence).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import RSAKey

from clerk_app.letters import code_digest
from clerk_app.online_requests import RequestProblem, read_request
from sync.fit_protocol import (
    ACCEPT,
    EVENT_PREFIX,
    HASH_TYPE,
    JWE_ALGORITHMS,
    REJECT,
    SIGNATURE_ALGORITHMS,
    SUBMISSION_ID,
    Confirmation,
    InboxClaim,
    InboxItem,
    InboxOutcome,
    InboxPage,
    Mailbox,
    MailboxDocument,
    Submission,
    SubmissionAnswer,
)
from sync.server.central import INTEGRITY_ERRORS, CentralError
from sync.server.intake_keys import IntakeKeys
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

MAX_DATA = 64 << 10           # the data JSON of a request, decrypted
MAX_ATTACHMENT = 2 << 20      # one attachment, decrypted (its JWE fits the body limit)
MAX_CONFIRM_FAILURES = 5
KEEP_UNREAD = 4096            # of a body refused unread or unparsed: the first bytes kept
DESTINATION = "buergerbuero"  # the `iss` of the events
REASONS_DE = {
    "wrong-key": "Der Antrag ist nicht für den aktuellen Schlüssel des Bürgerbüros "
                 "verschlüsselt.",
    "broken-jwe": "Der Antrag ist beschädigt und kann nicht entschlüsselt werden.",
    "hash-mismatch": "Die Prüfsumme eines Teils des Antrags stimmt nicht.",
    "schema": "Die Angaben des Antrags sind unvollständig oder fehlerhaft.",
    "unknown-kind": "Diese Antragsart nimmt das Bürgerbüro nicht online entgegen.",
    "oversize": "Der Antrag oder eine Anlage ist zu groß.",
    "attachments": "Die Anlagen passen nicht zu den Angaben des Antrags.",
    "malformed": "Der Antrag ist nicht im vereinbarten Format übermittelt worden.",
}
# Where a body cannot be parsed (or read whole), its id and kind as the portal wrote them.
ID_IN_BODY = re.compile(rb'"submission_id"\s*:\s*"(' + SUBMISSION_ID[1:-1].encode() + rb')"')
KIND_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # as the wire form's
KIND_IN_BODY = re.compile(rb'"kind"\s*:\s*"([A-Za-z0-9_.\-]{1,64})"')


class Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Opened:
    """A submission that passed every check."""

    kind: str
    data: dict[str, Any]
    attachments: list[tuple[str, str, str, bytes]]  # id, filename, media type, content


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(submission: Submission) -> str:
    """What makes two deliveries "the same submission": every encrypted part."""
    parts = [submission.kind, submission.metadata, submission.data,
             *(f"{a.attachment_id}:{a.content}" for a in submission.attachments)]
    return _sha256("\n".join(parts))


class Intake:
    """The destination: intake of submissions, the events, the inbox for workstations."""

    def __init__(self, db: Database, keys: IntakeKeys,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock

    # --- portals ---------------------------------------------------------------------------

    def issue_portal_token(self, name: str) -> str:
        """A bearer token for a portal (shown once; only its hash is kept). Hex digits: IT
        pastes it into shells, configuration files and `clerk-app portal --token`, where a
        URL-safe token beginning with "-" was read as an option (one in 64)."""
        token = secrets.token_hex(32)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO portal_clients (token_sha256, name, created_at) "
                       "VALUES (?, ?, ?)", (_sha256(token), name, _now()))
        return token

    def portal(self, token: str) -> str:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT name FROM portal_clients WHERE token_sha256 = ?",
                              (_sha256(token),))
        if not rows:
            raise CentralError(401, "Dieses Portal ist beim Bürgerbüro nicht angemeldet.",
                               "unknown portal token")
        return str(rows[0][0])

    # --- intake ----------------------------------------------------------------------------

    def submit(self, submission: Submission, portal: str) -> SubmissionAnswer:
        """Check, decrypt and store one submission, once."""
        mark = fingerprint(submission)
        known = self._known(submission.submission_id, portal, mark)
        if known is not None:
            return known
        try:
            opened: Opened | None = self.open(submission)
            refusal: Refusal | None = None
        except Refusal as exc:
            opened, refusal = None, exc
        signer = self.keys.signing_key()
        try:
            with self.db.transaction() as tx:
                if refusal is not None:
                    self._store_refused(tx, submission.submission_id, portal,
                                        submission.kind, mark, refusal,
                                        submission.model_dump_json(), signer)
                else:
                    assert opened is not None
                    self._store_opened(tx, submission, portal, mark, opened)
        except INTEGRITY_ERRORS:
            # The same submission delivered twice at once: the other delivery stored it.
            known = self._known(submission.submission_id, portal, mark)
            if known is None:
                raise
            return known
        if refusal is not None:
            log.warning("submission refused: %s (%s)", refusal.code, refusal.detail)
        answer = self._known(submission.submission_id, portal, mark)
        assert answer is not None
        return answer.model_copy(update={"duplicate": False})

    def refuse_malformed(self, body: bytes, portal: str, fields: list[str]) -> CentralError:
        """A posted body that is no submission (the web framework could not read it as one:
        `fields` name what failed): refused with a signed event where it names its id."""
        try:
            parsed: Any = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past reason
            parsed = None
        submission_id, kind = identify(parsed, body[:KEEP_UNREAD])
        return self.refuse_unread(
            submission_id, portal, kind,
            Refusal("malformed", f"not a submission: {', '.join(fields[:5]) or 'body'}"),
            {"size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
             "first_bytes": body[:KEEP_UNREAD].decode("utf-8", "replace")})

    def refuse_unread(self, submission_id: str | None, portal: str, kind: str,
                      refusal: Refusal, kept: dict[str, Any]) -> CentralError:
        """Refuse a body that is not (or not wholly) read as a submission: with a signed event
        where it named its id (the portal learns why), and kept as `kept` says (bounded).
        Returns the CentralError for the portal (413 or 422, code `refused`); raises a 409 if
        the id is another submission's."""
        status = 413 if refusal.code == "oversize" else 422
        refused = CentralError(status, REASONS_DE[refusal.code], refusal.detail, "refused")
        log.warning("submission refused unread: %s (%s)", refusal.code, refusal.detail)
        if submission_id is None:
            return refused
        mark = _sha256(json.dumps({"unread": refusal.code, "sha256": kept.get("sha256"),
                                   "size": kept.get("size")}))
        if self._known(submission_id, portal, mark) is None:
            signer = self.keys.signing_key()
            try:
                with self.db.transaction() as tx:
                    self._store_refused(tx, submission_id, portal, kind, mark, refusal,
                                        json.dumps({"unread": True, **kept}), signer)
            except INTEGRITY_ERRORS:
                self._known(submission_id, portal, mark)  # 409 unless the same body won
        return refused

    def open(self, submission: Submission) -> Opened:
        """Decrypt and check every part; Refusal names the first problem."""
        keys = self.keys.decryption_keys()
        metadata = _json(self._decrypt(submission.metadata, keys, "metadata", MAX_DATA))
        raw_data = self._decrypt(submission.data, keys, "data", MAX_DATA)
        _check_hash(metadata.get("data_hash"), raw_data, "data")
        declared = metadata.get("attachments", [])
        if not isinstance(declared, list) or \
                not all(isinstance(a, dict) for a in declared) or \
                sorted(str(a.get("attachment_id")) for a in declared) \
                != sorted(a.attachment_id for a in submission.attachments):
            raise Refusal("attachments", "attachments differ from the metadata's list")
        by_id = {str(a["attachment_id"]): a for a in declared}
        attachments = []
        for item in submission.attachments:
            content = self._decrypt(item.content, keys, "attachment", MAX_ATTACHMENT)
            meta = by_id[item.attachment_id]
            _check_hash(meta.get("hash"), content, "attachment")
            attachments.append((item.attachment_id, str(meta.get("filename", ""))[:100],
                                str(meta.get("media_type", "application/octet-stream"))[:100],
                                content))
        if metadata.get("kind") != submission.kind:
            raise Refusal("schema", "metadata names another kind than the submission")
        try:
            request = read_request(submission.kind, _json(raw_data))
        except RequestProblem as exc:
            raise Refusal(exc.code, exc.detail) from None
        return Opened(submission.kind, request.model_dump(mode="json"), attachments)

    @staticmethod
    def _decrypt(token: str, keys: Any, part: str, limit: int) -> bytes:
        if len(token) > limit * 4 // 3 + 4096:
            raise Refusal("oversize", f"{part} is larger than {limit} bytes")
        try:
            plain = jwe.decrypt_compact(token, keys, registry=_registry(limit)).plaintext
        except InvalidKeyIdError:
            raise Refusal("wrong-key", f"{part} is encrypted to an unknown key") from None
        except (JoseError, ValueError, TypeError, KeyError, RecursionError):
            # RecursionError: a protected header nested past reason.
            raise Refusal("broken-jwe", f"{part} cannot be decrypted") from None
        if plain is None or len(plain) > limit:
            raise Refusal("oversize" if plain else "broken-jwe", f"{part} too large or empty")
        return plain

    def _store_opened(self, tx: Tx, submission: Submission, portal: str, mark: str,
                      opened: Opened) -> None:
        seq = _next_inbox_seq(tx)
        tx.execute("INSERT INTO submissions (submission_id, portal, kind, fingerprint, "
                   "received_at, state, data, seq) VALUES (?, ?, ?, ?, ?, 'new', ?, ?)",
                   (submission.submission_id, portal, opened.kind, mark, _now(),
                    json.dumps(opened.data, ensure_ascii=False), seq))
        for attachment_id, filename, media_type, content in opened.attachments:
            tx.execute("INSERT INTO submission_attachments (submission_id, attachment_id, "
                       "filename, media_type, content) VALUES (?, ?, ?, ?, ?)",
                       (submission.submission_id, attachment_id, filename, media_type,
                        content))

    def _store_refused(self, tx: Tx, submission_id: str, portal: str, kind: str, mark: str,
                       refusal: Refusal, raw: str, signer: RSAKey) -> None:
        tx.execute("INSERT INTO submissions (submission_id, portal, kind, fingerprint, "
                   "received_at, state, reason, refusal_code, raw) "
                   "VALUES (?, ?, ?, ?, ?, 'refused', ?, ?, ?)",
                   (submission_id, portal, kind[:64], mark, _now(), refusal.detail,
                    refusal.code, raw))
        self._event(tx, signer, submission_id, REJECT,
                    {"problems": [{"type": refusal.code, "title": REASONS_DE[refusal.code],
                                   "detail": refusal.detail}]})

    def _known(self, submission_id: str, portal: str, mark: str) -> SubmissionAnswer | None:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT portal, fingerprint, state FROM submissions "
                              "WHERE submission_id = ?", (submission_id,))
            if not rows:
                return None
            if rows[0][0] != portal or rows[0][1] != mark:
                raise CentralError(409, "Unter dieser Nummer ist schon ein anderer Antrag "
                                        "eingegangen.", "submission id taken by another "
                                                        "submission")
            events = [str(r[0]) for r in tx.execute(
                "SELECT jws FROM submission_events WHERE submission_id = ? ORDER BY n",
                (submission_id,))]
        state = str(rows[0][2])
        status = {"refused": "refused", "done": "accepted", "waiting": "waiting",
                  "rejected": "rejected", "in_work": "in_work"}.get(state, "received")
        return SubmissionAnswer(submission_id=submission_id, status=status,  # type: ignore[arg-type]
                                duplicate=True, events=events)

    def answer(self, submission_id: str, portal: str) -> SubmissionAnswer:
        """The portal's view of its submission: status and events so far."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT fingerprint FROM submissions WHERE submission_id = ? "
                              "AND portal = ?", (submission_id, portal))
        if not rows:
            raise CentralError(404, "Dieser Antrag ist nicht bekannt.", "unknown submission")
        answer = self._known(submission_id, portal, str(rows[0][0]))
        assert answer is not None
        return answer.model_copy(update={"duplicate": False})

    def mailbox(self, submission_id: str, portal: str) -> Mailbox:
        self.answer(submission_id, portal)  # exists and is this portal's
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT name, media_type, content FROM portal_mailbox "
                              "WHERE submission_id = ? ORDER BY name", (submission_id,))
        return Mailbox(documents=[MailboxDocument(
            name=str(r[0]), media_type=str(r[1]),
            content_b64=base64.b64encode(bytes(r[2])).decode()) for r in rows])

    def _event(self, tx: Tx, key: RSAKey, submission_id: str, event: str,
               body: dict[str, Any]) -> str:
        """Sign and keep one security event (a SET, RFC 8417) for the sender."""
        claims = {"iss": DESTINATION, "iat": int(self.clock().timestamp()),
                  "jti": str(uuid.uuid4()), "sub": f"submission:{submission_id}",
                  "txn": f"case:{submission_id}", "events": {EVENT_PREFIX + event: body}}
        token = jws.serialize_compact({"alg": "PS512", "kid": key.kid, "typ": "secevent+jwt"},
                                      json.dumps(claims).encode(), key,
                                      algorithms=SIGNATURE_ALGORITHMS)
        n = int(tx.execute("SELECT count(*) FROM submission_events WHERE submission_id = ?",
                           (submission_id,))[0][0])
        tx.execute("INSERT INTO submission_events (submission_id, n, event, jws, created_at) "
                   "VALUES (?, ?, ?, ?, ?)", (submission_id, n + 1, event, token, _now()))
        return token

    # --- the inbox for workstations --------------------------------------------------------

    def inbox(self, since: int, limit: int) -> InboxPage:
        with self.db.transaction(write=False) as tx:
            hwm = int(tx.execute("SELECT value FROM counter WHERE name = 'inbox'")[0][0])
            items = _items(tx, "seq > ? ORDER BY seq LIMIT ?", (since, limit))
        last = items[-1].seq if len(items) == limit else hwm
        return InboxPage(items=items, high_water_mark=last)

    def item(self, submission_id: str) -> InboxItem:
        with self.db.transaction(write=False) as tx:
            return _items(tx, "submission_id = ?", (submission_id,))[0]

    def claim(self, submission_id: str, body: InboxClaim) -> InboxItem:
        """Claim an item for one clerk (or release it); another clerk's claim is a 409."""
        with self.db.transaction() as tx:
            state, holder = self._state(tx, submission_id)
            if state not in ("new", "in_work"):
                raise CentralError(409, "Dieser Antrag ist schon abgeschlossen.",
                                   "inbox item is closed")
            if holder not in (None, body.clerk):
                raise CentralError(409, f"Dieser Antrag wird schon von {holder} bearbeitet.",
                                   "inbox item claimed by another clerk")
            new_state, new_holder = ("new", None) if body.release else ("in_work", body.clerk)
            tx.execute("UPDATE submissions SET state = ?, claimed_by = ?, seq = ? "
                       "WHERE submission_id = ?",
                       (new_state, new_holder, _next_inbox_seq(tx), submission_id))
        return self.item(submission_id)

    def outcome(self, submission_id: str, body: InboxOutcome) -> InboxItem:
        """Record the clerk's outcome, deliver the document, tell the portal (signed)."""
        signer = self.keys.signing_key()
        with self.db.transaction() as tx:
            state, holder = self._state(tx, submission_id)
            closed = state in ("done", "rejected")  # a repeat after a lost answer
            if not closed and holder not in (None, body.clerk):
                raise CentralError(409, f"Dieser Antrag wird von {holder} bearbeitet.",
                                   "inbox item claimed by another clerk")
            if not closed:
                self._close(tx, submission_id, body, signer)
        return self.item(submission_id)

    def _close(self, tx: Tx, submission_id: str, body: InboxOutcome, signer: RSAKey) -> None:
        if body.document_b64:
            tx.execute("INSERT INTO portal_mailbox (submission_id, name, media_type, "
                       "content) VALUES (?, ?, 'application/pdf', ?) ON CONFLICT DO NOTHING",
                       (submission_id, body.document_name or "bescheid.pdf",
                        _pdf(body.document_b64)))
        tx.execute("UPDATE submissions SET state = ?, claimed_by = ?, reason = ?, seq = ?, "
                   "confirmation_sha256 = ? WHERE submission_id = ?",
                   (body.state, body.clerk, body.reason or None, _next_inbox_seq(tx),
                    body.confirmation_sha256 or None, submission_id))
        if body.state == "rejected":
            self._event(tx, signer, submission_id, REJECT, {"problems": [
                {"type": "rejected-by-office", "title": body.reason}]})
        else:
            self._event(tx, signer, submission_id, ACCEPT, {
                "status": "pending-identification" if body.state == "waiting" else "done",
                "note": body.reason, "mailbox": bool(body.document_b64)})

    def confirm(self, submission_id: str, portal: str, confirmation: Confirmation
                ) -> SubmissionAnswer:
        """The citizen entered the letter's code at the portal: the item comes back into work
        for the clerk who sent it. Five wrong codes end the attempts."""
        self.answer(submission_id, portal)  # exists and is this portal's
        with self.db.transaction() as tx:
            state, expected, failures = tx.execute(
                "SELECT state, confirmation_sha256, confirm_failures FROM submissions "
                "WHERE submission_id = ?", (submission_id,))[0]
            if state != "waiting" or not expected:
                raise CentralError(409, "Für diesen Antrag wird kein Bestätigungscode erwartet.",
                                   "no confirmation expected")
            if failures >= MAX_CONFIRM_FAILURES:
                raise CentralError(423, "Der Code wurde zu oft falsch eingegeben; bitte das "
                                        "Bürgerbüro anrufen.", "too many wrong codes")
            if not hmac.compare_digest(str(expected), code_digest(confirmation.code)):
                tx.execute("UPDATE submissions SET confirm_failures = confirm_failures + 1 "
                           "WHERE submission_id = ?", (submission_id,))
                wrong = True
            else:
                tx.execute("UPDATE submissions SET state = 'in_work', reason = ?, seq = ?, "
                           "confirmation_sha256 = NULL WHERE submission_id = ?",
                           ("Bestätigungscode eingegeben", _next_inbox_seq(tx), submission_id))
                wrong = False
        if wrong:
            raise CentralError(422, "Der Bestätigungscode stimmt nicht.", "wrong code")
        return self.answer(submission_id, portal)

    @staticmethod
    def _state(tx: Tx, submission_id: str) -> tuple[str, str | None]:
        rows = tx.execute("SELECT state, claimed_by FROM submissions WHERE submission_id = ? "
                          "AND state <> 'refused'", (submission_id,))
        if not rows:
            raise CentralError(404, "Dieser Antrag ist nicht bekannt.", "unknown inbox item")
        return str(rows[0][0]), rows[0][1]


def _pdf(encoded: str) -> bytes:
    """The document for the mailbox: base64 of a PDF, or a refusal (never a server error)."""
    try:
        content = base64.b64decode(encoded, validate=True)
    except ValueError:
        content = b""
    if not content.startswith(b"%PDF-"):
        raise CentralError(422, "Das Dokument für das Postfach ist kein PDF.",
                           "mailbox document is not a base64 PDF")
    return content


def _next_inbox_seq(tx: Tx) -> int:
    rows = tx.execute("UPDATE counter SET value = value + 1 WHERE name = 'inbox' "
                      "RETURNING value")
    return int(rows[0][0])


def _registry(limit: int) -> jwe.JWERegistry:
    """The JOSE library's checks with room for `limit` bytes of plaintext (its own default
    refuses ciphertexts above 64 KiB)."""
    registry = jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
    registry.max_ciphertext_length = limit * 4 // 3 + 64
    return registry


def _items(tx: Tx, where: str, params: tuple[Any, ...]) -> list[InboxItem]:
    rows = tx.execute("SELECT submission_id, kind, received_at, state, claimed_by, reason, "
                      f"data, seq FROM submissions WHERE state <> 'refused' AND {where}", params)
    items = []
    for r in rows:
        attachments = [{"attachment_id": a[0], "filename": a[1], "media_type": a[2]}
                       for a in tx.execute("SELECT attachment_id, filename, media_type FROM "
                                           "submission_attachments WHERE submission_id = ? "
                                           "ORDER BY attachment_id", (r[0],))]
        items.append(InboxItem(submission_id=r[0], kind=r[1], received_at=r[2], state=r[3],
                               claimed_by=r[4], reason=r[5], data=json.loads(r[6]),
                               attachments=attachments, seq=int(r[7])))
    return items


def identify(parsed: Any, head: bytes) -> tuple[str | None, str]:
    """(submission id, kind) of a body that is no valid submission: from the parsed object
    where there is one, else as the first bytes of the raw body name them; (None, "") if it
    names no well-formed id."""
    if isinstance(parsed, dict):
        sid, kind = parsed.get("submission_id"), parsed.get("kind")
        return (sid if isinstance(sid, str) and re.fullmatch(SUBMISSION_ID[1:-1], sid)
                else None, kind if isinstance(kind, str) and KIND_NAME.fullmatch(kind) else "")
    found, kind_found = ID_IN_BODY.search(head), KIND_IN_BODY.search(head)
    return (found.group(1).decode() if found else None,
            kind_found.group(1).decode() if kind_found else "")


def _json(raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Refusal("schema", "not JSON") from None
    if not isinstance(data, dict):
        raise Refusal("schema", "not a JSON object")
    return data


def _check_hash(declared: Any, content: bytes, part: str) -> None:
    if not isinstance(declared, dict) or declared.get("type") != HASH_TYPE or \
            declared.get("content") != hashlib.sha512(content).hexdigest():
        raise Refusal("hash-mismatch", f"the {part}'s SHA-512 differs from the metadata's")

