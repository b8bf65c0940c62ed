"""The central service's office seal keys: one per office at a time, rotated and revoked here,
issued to enrolled workstations, published as a signed list, plus the static verification page.

* `office_seal_keys` holds every key ever issued (private key included: the centre is where
  an office's key lives; a workstation gets a copy to seal with). Rotation ends the current
  key's validity now and starts a new one: documents sealed before stay valid. Revocation
  marks a key; documents sealed on or after that day are invalid (`clerk_app.office_keys`).
* The list key (Ed25519, in `meta`) signs the published list. Its public half is what a
  verifier pins: the page gets it written in when served or exported, workstations receive
  it at enrolment.
* HTTP: `GET /v1/office-key?office_id=…` (device token) answers the office's current key for
  sealing (404 until IT created the office's first key with `rotate`: a device cannot add an
  office to the published list); `GET /v1/office-keys` the signed list for workstations.
  Public, without token or version headers: `GET /pruefen/` (the verification page) and
  `GET /pruefen/office-keys.json` (the signed list), both static in content, so
  `export_page` can put them on any static web host instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from clerk_app.office_keys import OfficeKey, sign_list
from clerk_app.seal import TYPE_CODES, TYPE_TITLES, SealKey
from sync.protocol import OfficeKeyGrant
from sync.server.central import CentralError
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

PAGE_PATH = "/pruefen"
LIST_FILE = "office-keys.json"
PAGE_PACKAGE = "resources"
PAGE_FILE = "verify_page/index.html"
LIST_KEY_PLACEHOLDER = "__LIST_PUBLIC_KEY__"
TITLES_PLACEHOLDER = "__TYPE_TITLES__"
LIST_KEY_META = "office_key_list.private_key"

_COLUMNS = "key_id, office_id, office_name, public_key, valid_from, valid_until, revoked_at"


class UnknownKey(LookupError):
    """No key with that id (the command line says so in German)."""


class OfficeKeys:
    """The office keys in the central database."""

    def __init__(self, db: Database,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock  # a test runs the life cycle on the days its documents carry

    # --- the list key ----------------------------------------------------------------------

    def list_signer(self) -> Ed25519PrivateKey:
        """The list key, made at first use. Several service processes may make one at once:
        the first stored wins, and every process signs with the stored one."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT value FROM meta WHERE key = ?", (LIST_KEY_META,))
        if not rows:
            with self.db.transaction() as tx:
                made = tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT "
                                  "(key) DO NOTHING RETURNING key",
                                  (LIST_KEY_META, Ed25519PrivateKey.generate()
                                   .private_bytes_raw().hex()))
                rows = tx.execute("SELECT value FROM meta WHERE key = ?", (LIST_KEY_META,))
            if made:
                log.info("created the office key list's signing key")
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(str(rows[0][0])))

    def list_public_key(self) -> str:
        return self.list_signer().public_key().public_bytes_raw().hex()

    # --- the keys --------------------------------------------------------------------------

    def all(self) -> list[OfficeKey]:
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(f"SELECT {_COLUMNS} FROM office_seal_keys "
                              "ORDER BY office_id, valid_from, key_id")
        return [_entry(row) for row in rows]

    def rotate(self, office_id: str, office_name: str) -> OfficeKey:
        """A new key for the office, valid from now; the current one valid until now."""
        with self.db.transaction() as tx:
            return self._rotate(tx, office_id, office_name)

    def _rotate(self, tx: Tx, office_id: str, office_name: str) -> OfficeKey:
        now = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        tx.execute("UPDATE office_seal_keys SET valid_until = ? WHERE office_id = ? AND "
                   "valid_until IS NULL", (now, office_id))
        key = SealKey.generate()
        tx.execute("INSERT INTO office_seal_keys (key_id, office_id, office_name, public_key, "
                   "private_key, valid_from, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (key.key_id, office_id, office_name, key.public_hex,
                    key.private.private_bytes_raw().hex(), now, now))
        log.info("office %s has a new seal key %s", office_id, key.key_id)
        return _entry((key.key_id, office_id, office_name, key.public_hex, now, None, None))

    def revoke(self, key_id: str, at: datetime | None = None) -> OfficeKey:
        """Revoke a key from `at` (now by default); a revoked current key is replaced by a
        new one at once, so the office can go on sealing after its next sync."""
        moment = (at or self.clock()).astimezone(UTC).isoformat(timespec="seconds")
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {_COLUMNS} FROM office_seal_keys WHERE key_id = ?",
                              (key_id,))
            if not rows:
                raise UnknownKey(key_id)
            entry = _entry(rows[0])
            tx.execute("UPDATE office_seal_keys SET revoked_at = ? WHERE key_id = ?",
                       (moment, key_id))
            if entry.valid_until is None:
                self._rotate(tx, entry.office_id, entry.office_name)
        log.warning("office seal key %s revoked from %s", key_id, moment)
        return _entry((*rows[0][:6], moment))

    def grant(self, office_id: str) -> OfficeKeyGrant:
        """The office's current key for a workstation. UnknownKey if IT has not created one
        (`rotate`): a device cannot bring an office into the published list."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT key_id, office_name, public_key, private_key, valid_from "
                              "FROM office_seal_keys WHERE office_id = ? AND valid_until IS "
                              "NULL AND revoked_at IS NULL", (office_id,))
        if not rows:
            raise UnknownKey(office_id)
        kid, name, public, private, valid_from = (str(v) for v in rows[0])
        return OfficeKeyGrant(key_id=kid, office_id=office_id, office_name=name,
                              public_key=public, private_key=private, valid_from=valid_from)

    def signed_list(self) -> str:
        return sign_list(self.all(), self.list_signer())

    # --- the page --------------------------------------------------------------------------

    def page(self) -> str:
        """The verification page with the list key and the document titles written in."""
        template = files(PAGE_PACKAGE).joinpath(PAGE_FILE).read_text(encoding="utf-8")
        titles = {code: TYPE_TITLES[doc_type] for doc_type, code in TYPE_CODES.items()}
        as_json = json.dumps(titles, ensure_ascii=False).replace("<", "\\u003c")
        return template.replace(LIST_KEY_PLACEHOLDER, self.list_public_key()).replace(
            TITLES_PLACEHOLDER, as_json)

    def export_page(self, folder: Path) -> list[Path]:
        """The page and the current list as files for a static web host."""
        folder.mkdir(parents=True, exist_ok=True)
        page, listing = folder / "index.html", folder / LIST_FILE
        page.write_text(self.page(), encoding="utf-8")
        listing.write_text(self.signed_list(), encoding="utf-8")
        return [page, listing]


def _entry(row: tuple[object, ...]) -> OfficeKey:
    kid, office, name, public, valid_from, valid_until, revoked = row
    return OfficeKey.from_dict({"key_id": kid, "office_id": office, "office_name": name,
                                "public_key": public, "valid_from": valid_from,
                                "valid_until": valid_until, "revoked_at": revoked})


# --- HTTP --------------------------------------------------------------------------------------

def device_routes(keys: OfficeKeys, prefix: str) -> APIRouter:
    """The workstations' endpoints (the caller adds the device-token dependency)."""
    router = APIRouter(prefix=prefix)

    @router.get("/office-key", response_model=OfficeKeyGrant)
    def office_key(office_id: Annotated[str, Query(min_length=1, max_length=40)]
                   ) -> OfficeKeyGrant:
        try:
            return keys.grant(office_id)
        except UnknownKey as exc:
            raise CentralError(
                404, f"Die Zentrale hat keinen Siegelschlüssel für die Dienststelle {office_id}. "
                     "Die IT legt ihn an (clerk-app central office-keys rotate --office "
                     f"{office_id}); bis dahin siegelt dieser Arbeitsplatz mit seinem eigenen "
                     "Schlüssel.", f"no office seal key for office {office_id}") from exc

    @router.get("/office-keys")
    def office_key_list() -> Response:
        return Response(keys.signed_list(), media_type="application/json")

    return router


def public_routes(keys: OfficeKeys) -> APIRouter:
    """The verification page and the signed list: public, cacheable for a few minutes."""
    router = APIRouter(prefix=PAGE_PATH)
    cache = {"Cache-Control": "public, max-age=300"}
    # The page runs no script but its own and loads nothing but the list beside it.
    policy = {**cache, "Content-Security-Policy":
              "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src "
              "'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
              "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}

    @router.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(keys.page(), headers=policy)

    @router.get(f"/{LIST_FILE}")
    def listing() -> Response:
        return Response(keys.signed_list(), media_type="application/json", headers=cache)

    return router
