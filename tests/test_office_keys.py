"""Office seal keys with a life cycle: the signed list, rotation and revocation on the real
central service, the key reaching a workstation at enrolment and sync, and `verify-document`
judging real documents by the list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clerk_app.command_line import main
from clerk_app.config import Config
from clerk_app.documents import build_model
from clerk_app.office_keys import (
    OfficeKey,
    issued_seal_key,
    read_list,
    sign_list,
    stored_list,
)
from clerk_app.office_seal import office_seal
from clerk_app.seal import SealError, SealKey
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register
from sync.central_errors import CentralRefused
from sync.client import CentralClient
from sync.office_key_exchange import receive_office_keys
from sync.server.central import Central
from sync.server.office_keys import OfficeKeys
from tests.document_cases import Issued, config, issue_all
from tests.sync_support import CentralServer, running_central

pytestmark = pytest.mark.usefixtures("qapp")

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
# The documents of `issue_all` carry 25.11.2026: the office's first key dates from before.
FIRST_KEY = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
ROTATION = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def key(valid_from: datetime = NOW, **changes: Any) -> OfficeKey:
    sealer = SealKey.generate()
    return replace(OfficeKey(sealer.key_id, "08336050", "Bürgerbüro Lörrach",
                             sealer.public_hex, valid_from), **changes)


# --- the signed list -------------------------------------------------------------------------

def test_the_list_is_read_only_with_the_trusted_signature() -> None:
    signer, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    entries = [key(valid_until=NOW + timedelta(days=30)), key(NOW + timedelta(days=30))]
    text = sign_list(entries, signer)
    assert read_list(text, signer.public_key()).keys == tuple(entries)
    with pytest.raises(SealError, match="signature does not verify"):
        read_list(text, other.public_key())
    # A revocation taken out of the list breaks its signature.
    revoked = sign_list([replace(entries[0], revoked_at=NOW)], signer)
    outer = json.loads(revoked)
    outer["list"] = outer["list"].replace(f'"revoked_at":"{NOW.isoformat()}"',
                                          '"revoked_at":null')
    assert '"revoked_at":null' in outer["list"]
    with pytest.raises(SealError):
        read_list(json.dumps(outer), signer.public_key())
    with pytest.raises(SealError):
        read_list("not json", signer.public_key())


def test_validity_rotation_and_revocation_by_issue_day() -> None:
    rotated = key(valid_until=NOW + timedelta(days=10))
    assert rotated.problem_on(NOW.date()) is None
    assert rotated.problem_on(NOW.date() + timedelta(days=10)) is None  # the rotation day
    assert "galt nur bis" in (rotated.problem_on(NOW.date() + timedelta(days=11)) or "")
    assert "vor der Gültigkeit" in (rotated.problem_on(NOW.date() - timedelta(days=1)) or "")
    revoked = key(revoked_at=NOW + timedelta(days=3))
    assert revoked.problem_on(NOW.date() + timedelta(days=2)) is None  # sealed before
    assert "widerrufen" in (revoked.problem_on(NOW.date() + timedelta(days=3)) or "")


# --- centre, workstation, documents ----------------------------------------------------------

@dataclass
class Office:
    server: CentralServer
    central: Central
    keys: OfficeKeys
    cfg: Config
    store: Store
    issued: Issued
    client: CentralClient
    folder: Path

    def render(self, name: str, doc_type: str) -> Path:
        from ui.rendering import render_pdf

        model = build_model(self.store, self.cfg, self.issued.numbers[doc_type],
                            seal_key=office_seal(self.cfg, self.store))
        path = self.folder / f"{name}.pdf"
        path.write_bytes(render_pdf(model))
        return path

    def verify(self, path: Path, *args: str) -> int:
        return main(["--data-dir", self.cfg.data_dir, "verify-document", str(path), *args])


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path) as (server, central):
        cfg = config(tmp_path)
        with open_register(cfg, create=True) as store:
            issued = issue_all(store)
            token = CentralClient(server.url).enrol(
                central.issue_enrolment_code("Schalter 3"), "Schalter 3").token
            client = CentralClient(server.url, token)
            try:
                keys = OfficeKeys(central.db, clock=lambda: FIRST_KEY)
                keys.rotate(cfg.office_id, cfg.office_name)
                yield Office(server, central, keys, cfg, store, issued, client, tmp_path)
            finally:
                client.close()


def test_the_workstation_seals_with_the_office_key_and_documents_survive_a_rotation(
        office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    local = office_seal(office.cfg, office.store)  # the demo's own key, before enrolment
    assert receive_office_keys(office.cfg, office.client, office.store) is None
    issued = issued_seal_key(office.store)
    assert issued is not None
    first, entry = issued
    assert first.key_id != local.key_id and entry.office_id == office.cfg.office_id
    assert office_seal(office.cfg, office.store).key_id == first.key_id
    before = office.render("before", "meldebescheinigung_einfach")
    assert office.verify(before) == 0

    office.keys.clock = lambda: ROTATION
    office.keys.rotate(office.cfg.office_id, office.cfg.office_name)
    assert receive_office_keys(office.cfg, office.client, office.store) is None
    second = office_seal(office.cfg, office.store)
    assert second.key_id != first.key_id
    after = office.render("after", "lebensbescheinigung")
    capsys.readouterr()
    assert office.verify(after) == 0
    assert second.key_id in capsys.readouterr().out
    assert office.verify(before) == 0  # sealed before the rotation: still valid
    listed = stored_list(office.store)
    assert listed is not None and {first.key_id, second.key_id} <= {
        k.key_id for k in listed.keys}


def test_a_revoked_key_invalidates_its_documents_and_stops_sealing(
        office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    assert receive_office_keys(office.cfg, office.client, office.store) is None
    sealed = office.render("sealed", "meldebescheinigung_erweitert")
    old = office_seal(office.cfg, office.store)
    assert office.verify(sealed) == 0
    # Revoked from before the issue day: the document no longer counts.
    office.keys.revoke(old.key_id, at=datetime.combine(
        date(2026, 11, 1), datetime.min.time(), UTC))
    assert receive_office_keys(office.cfg, office.client, office.store) is None
    capsys.readouterr()
    assert office.verify(sealed) == 1
    assert "wurde am 01.11.2026 widerrufen" in capsys.readouterr().err
    # The revoked key was replaced at once: the next sync brought the new one.
    assert office_seal(office.cfg, office.store).key_id != old.key_id


def test_a_workstation_holding_a_revoked_key_refuses_to_seal(
        office: Office, capsys: pytest.CaptureFixture[str]) -> None:
    assert receive_office_keys(office.cfg, office.client, office.store) is None
    sealer, entry = issued_seal_key(office.store) or (None, None)
    assert sealer is not None and entry is not None
    main(["--data-dir", office.cfg.data_dir, "doctor"])
    doctor = capsys.readouterr().out
    assert f"[OK] Dokumentsiegel: Dienstsiegelschlüssel {sealer.key_id} des Bürgerbüros " \
           "08336050 von der Zentrale" in doctor
    from clerk_app.office_keys import store_issued_key

    store_issued_key(office.store, replace(entry, revoked_at=NOW),
                     sealer.private.private_bytes_raw().hex())
    with pytest.raises(SealError, match="not valid today"):
        office_seal(office.cfg, office.store)
    main(["--data-dir", office.cfg.data_dir, "doctor"])
    assert "[FEHLER] Dokumentsiegel" in capsys.readouterr().out


def test_a_list_signed_by_another_key_is_not_taken(office: Office) -> None:
    from clerk_app.office_keys import store_list

    assert receive_office_keys(office.cfg, office.client, office.store) is None
    forged = sign_list([key()], Ed25519PrivateKey.generate())
    with pytest.raises(SealError):
        store_list(office.store, forged, None)  # the pinned list key decides, not the list


def test_endpoints_need_a_device_token_except_the_public_page(office: Office) -> None:
    url = office.server.url
    headers = {"X-Clerk-Protocol": "1", "X-Clerk-Schema": str(
        office.client.session.headers["X-Clerk-Schema"])}
    refused = requests.get(f"{url}/v1/office-key", params={"office_id": "08336050"},
                           headers=headers, timeout=10)
    assert refused.status_code == 401 and "private_key" not in refused.text
    # An enrolled device cannot bring a new office into the published list.
    with pytest.raises(CentralRefused, match="no office seal key for office 99999999"):
        office.client.office_key("99999999")
    assert {k.office_id for k in office.keys.all()} == {"08336050"}
    page = requests.get(f"{url}/pruefen/", timeout=10)
    assert page.status_code == 200 and "Bescheinigung prüfen" in page.text
    assert office.keys.list_public_key() in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    listing = requests.get(f"{url}/pruefen/office-keys.json", timeout=10)
    assert listing.status_code == 200 and "private" not in listing.text
    read_list(listing.text, Ed25519PrivateKey.from_private_bytes(
        office.keys.list_signer().private_bytes_raw()).public_key())


def test_central_commands_rotate_revoke_list_and_export(office: Office, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    base = ["--data-dir", office.cfg.data_dir, "central", "office-keys", "--database", db]
    (first,) = office.keys.all()
    assert main([*base, "rotate"]) == 0
    entry = next(k for k in office.keys.all() if k.key_id != first.key_id)
    assert entry.key_id in capsys.readouterr().out
    assert main([*base, "revoke", entry.key_id, "--at", "2026-11-20T10:00:00+00:00"]) == 0
    assert main([*base, "revoke", "00000000"]) == 2
    assert "gibt es nicht" in capsys.readouterr().err
    assert main([*base, "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["revoked_at"] for k in listed if k["key_id"] == entry.key_id] == [
        "2026-11-20T10:00:00+00:00"]
    assert len(listed) == 3  # the revoked current key was replaced
    assert main([*base, "export-page", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "__LIST_PUBLIC_KEY__" not in page and office.keys.list_public_key() in page
    assert (tmp_path / "site" / "office-keys.json").is_file()


def test_enrolment_brings_the_seal_key(office: Office, tmp_path: Path) -> None:
    cfg = config(tmp_path / "second")
    with open_register(cfg, create=True):
        pass
    code = office.central.issue_enrolment_code("Schalter 4")
    assert main(["--data-dir", cfg.data_dir, "--set", f'central_url="{office.server.url}"',
                 "sync", "enrol", code]) == 0
    with open_register(cfg) as store:
        issued = issued_seal_key(store)
        assert issued is not None and stored_list(store) is not None
