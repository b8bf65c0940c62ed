"""The reference portal: real encrypted submissions, as a citizen portal makes them.

For tests, demos and the demo register: `clerk-app portal submit KIND --data antrag.json` reads
the request's data, fetches the destination's public key, encrypts data, attachments and
metadata (JWE, RSA-OAEP-256 + A256GCM) with SHA-512 hashes in the metadata, and posts the
submission; `clerk-app portal status ID` shows the signed events the office sent back, checked
against the destination's signing keys, and saves the documents of the citizen's mailbox.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from joserfc import jwe, jws
from joserfc.jwk import KeySet, RSAKey

from clerk_app.config import Config
from clerk_app.online_requests import MODELS
from sync.client import check_url
from sync.fit_protocol import (
    FIT_PREFIX,
    HASH_TYPE,
    JWE_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    Confirmation,
    EncryptedAttachment,
    Mailbox,
    Submission,
    SubmissionAnswer,
)

TIMEOUT = (5.0, 60.0)
PORTAL_URL_ENV = "CLERK_APP_PORTAL_URL"
PORTAL_TOKEN_ENV = "CLERK_APP_PORTAL_TOKEN"


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


def encryption_key(jwks: dict[str, Any]) -> RSAKey:
    """The destination's current encryption key from its published key set."""
    for key in jwks.get("keys", []):
        if key.get("use") == "enc":
            return RSAKey.import_key(key)
    raise ValueError("the destination publishes no encryption key")


def _encrypt(content: bytes, key: RSAKey) -> str:
    return jwe.encrypt_compact({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": key.kid},
                               content, key, algorithms=JWE_ALGORITHMS)


def _hash(content: bytes) -> dict[str, str]:
    return {"type": HASH_TYPE, "content": hashlib.sha512(content).hexdigest()}


def build_submission(kind: str, data: dict[str, Any], key: RSAKey,
                     attachments: list[Attachment] = (),  # type: ignore[assignment]
                     submission_id: str | None = None) -> Submission:
    """One submission, every part encrypted to `key`."""
    raw = json.dumps(data, ensure_ascii=False).encode()
    ids = [f"anlage-{n + 1}" for n in range(len(attachments))]
    metadata = {"kind": kind, "data_hash": _hash(raw), "attachments": [
        {"attachment_id": i, "filename": a.filename, "media_type": a.media_type,
         "hash": _hash(a.content)} for i, a in zip(ids, attachments, strict=True)]}
    return Submission(
        submission_id=submission_id or str(uuid.uuid4()), kind=kind,
        metadata=_encrypt(json.dumps(metadata).encode(), key), data=_encrypt(raw, key),
        attachments=[EncryptedAttachment(attachment_id=i, content=_encrypt(a.content, key))
                     for i, a in zip(ids, attachments, strict=True)])


def verify_event(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """An event's claims, if a signing key of the destination signed it (else JoseError)."""
    keys = KeySet([RSAKey.import_key(k) for k in jwks.get("keys", []) if k.get("use") == "sig"])
    claims: dict[str, Any] = json.loads(
        jws.deserialize_compact(token, keys, algorithms=SIGNATURE_ALGORITHMS).payload)
    return claims


class PortalClient:
    """The portal's side of the intake's HTTP routes."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = check_url(base_url) + FIT_PREFIX
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def _get(self, path: str) -> Any:
        response = self.session.get(self.base_url + path, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def destination(self) -> dict[str, Any]:
        keys: dict[str, Any] = self._get("/destination")
        return keys

    def send(self, submission: Submission) -> SubmissionAnswer:
        return self.post_body(submission.submission_id, submission.model_dump_json().encode())

    def post_body(self, submission_id: str, body: bytes) -> SubmissionAnswer:
        """Post a submission's body as it is. A body the destination refused unread (too
        large) or unparsed (code `refused`: 413, 422) has its signed reason waiting at the
        submission's status, as every refusal's is: that is the answer."""
        response = self.session.post(self.base_url + "/submissions", data=body,
                                     timeout=TIMEOUT,
                                     headers={"Content-Type": "application/json"})
        if response.status_code in (413, 422) and _code(response) == "refused":
            return self.status(submission_id)
        response.raise_for_status()
        return SubmissionAnswer.model_validate_json(response.content)

    def submit(self, kind: str, data: dict[str, Any],
               attachments: list[Attachment] = (),  # type: ignore[assignment]
               submission_id: str | None = None) -> SubmissionAnswer:
        key = encryption_key(self.destination())
        return self.send(build_submission(kind, data, key, attachments, submission_id))

    def status(self, submission_id: str) -> SubmissionAnswer:
        return SubmissionAnswer.model_validate(self._get(f"/submissions/{submission_id}"))

    def confirm(self, submission_id: str, code: str) -> SubmissionAnswer:
        """The citizen types the code of the office's letter."""
        response = self.session.post(f"{self.base_url}/submissions/{submission_id}/confirm",
                                     data=Confirmation(code=code).model_dump_json(),
                                     timeout=TIMEOUT,
                                     headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return SubmissionAnswer.model_validate_json(response.content)

    def mailbox(self, submission_id: str) -> Mailbox:
        return Mailbox.model_validate(self._get(f"/submissions/{submission_id}/mailbox"))


def _code(response: requests.Response) -> str | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


# --- the command line --------------------------------------------------------------------

def add_commands(sub: Any) -> dict[str, Any]:
    portal = sub.add_parser("portal", help="Referenzportal: Online-Anträge einreichen")
    portal.add_argument("--url", metavar="URL",
                        help=f"Adresse der Zentrale (oder {PORTAL_URL_ENV})")
    portal.add_argument("--token", metavar="SCHLÜSSEL",
                        help=f"Zugangsschlüssel des Portals (oder {PORTAL_TOKEN_ENV})")
    portal_sub = portal.add_subparsers(dest="portal_command", required=True)
    submit = portal_sub.add_parser("submit", help="Antrag verschlüsselt einreichen")
    submit.add_argument("kind", choices=sorted(MODELS))
    submit.add_argument("--data", type=Path, required=True, metavar="DATEI",
                        help="Angaben des Antrags (JSON)")
    submit.add_argument("--attach", type=Path, action="append", default=[], metavar="DATEI",
                        help="Anlage (mehrfach möglich)")
    submit.add_argument("--id", metavar="UUID", help="Nummer des Antrags (UUID; Standard: neu)")
    status = portal_sub.add_parser("status", help="Rückmeldungen und Postfach eines Antrags")
    status.add_argument("submission_id", metavar="ANTRAG", help="Nummer des Antrags")
    status.add_argument("--save", type=Path, metavar="ORDNER",
                        help="Dokumente des Postfachs hier ablegen")
    confirm = portal_sub.add_parser("confirm", help="Bestätigungscode aus dem Brief eingeben")
    confirm.add_argument("submission_id", metavar="ANTRAG", help="Nummer des Antrags")
    confirm.add_argument("code", metavar="CODE", help="Bestätigungscode aus dem Brief")
    return {"portal": _portal}


def _portal(cfg: Config, args: argparse.Namespace) -> int:
    import os

    url = args.url or os.environ.get(PORTAL_URL_ENV) or cfg.central_url
    token = args.token or os.environ.get(PORTAL_TOKEN_ENV, "")
    if not url or not token:
        print("Fehler: Adresse der Zentrale und Zugangsschlüssel des Portals angeben.",
              file=sys.stderr)
        return 2
    client = PortalClient(url, token)
    try:
        if args.portal_command == "submit":
            attachments = [Attachment(p.name, "application/pdf" if p.suffix == ".pdf"
                                      else "application/octet-stream", p.read_bytes())
                           for p in args.attach]
            answer = client.submit(args.kind, json.loads(args.data.read_text("utf-8")),
                                   attachments, args.id)
        elif args.portal_command == "confirm":
            answer = client.confirm(args.submission_id, args.code)
        else:
            answer = client.status(args.submission_id)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                for doc in client.mailbox(args.submission_id).documents:
                    (args.save / Path(doc.name).name).write_bytes(
                        base64.b64decode(doc.content_b64))
        jwks = client.destination()
        events = [verify_event(e, jwks)["events"] for e in answer.events]
        print(json.dumps({"submission_id": answer.submission_id, "status": answer.status,
                          "duplicate": answer.duplicate, "events": events},
                         ensure_ascii=False, indent=2))
        return 0 if answer.status != "refused" else 1
    except (requests.RequestException, OSError, ValueError) as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
