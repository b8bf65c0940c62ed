"""The central service and its protocol, spoken to over real HTTP(S) by a real child process on
127.0.0.1, on SQLite and on PostgreSQL: enrolment, the version check, TLS, push semantics
(applied, duplicate, conflict, deferred, rejected), a gap-free change sequence under
concurrent writers, the document archive, tombstones and a bootstrap cut by a killed server.

One service per backend serves most tests (each test makes its own workstations, named
uniquely so that their document numbers never meet by accident); the tests that kill or
configure the service start their own.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from clerk_app.documents import archive_pdf
from clerk_app.ids import uuid7
from clerk_app.search import search
from clerk_app.services.base import ServiceResult
from clerk_app.store.migrations import SCHEMA_VERSION
from sync.central_errors import CentralRefused, CentralUnavailable
from sync.client import CentralClient, check_url
from sync.credentials import load_token, token_file
from sync.engine import SyncEngine, open_conflicts
from sync.protocol import (
    API_PREFIX,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    BootstrapPage,
    Command,
)
from sync.server.central import Central
from sync.server.seed import seed_demo
from sync.server.storage import Database, open_database
from sync.state import BOOTSTRAP, CURSOR, get_setting
from tests.factories import make_cfg
from tests.sync_support import (
    ROOT,
    CentralServer,
    Workstation,
    anmeldung,
    assert_feed_complete,
    central_aggregates,
    central_database,
    command_counts,
    commands_of,
    free_port,
    meldebescheinigung,
    outbox_commands,
    race_the_feed,
    running_central,
    ummeldung,
)
from tests.test_documents import blank_pdf

RESIDENTS = 80
BACKENDS = ["sqlite", "postgresql"]
_station_numbers = itertools.count(1)


@dataclass
class Service:
    """The module's running central service and an in-process `Central` on its database."""

    server: CentralServer
    central: Central

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def db(self) -> Database:
        return self.central.db


@pytest.fixture(scope="module", params=BACKENDS)
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp(f"central-{request.param}")
    with pytest.MonkeyPatch.context() as env:  # the service reads no real config file
        env.setenv("CLERK_APP_MACHINE_CONFIG", str(folder / "machine.toml"))
        env.setenv("CLERK_APP_USER_CONFIG", str(folder / "user.toml"))
        with central_database(request.param, folder) as url, \
                running_central(url, folder, residents=RESIDENTS) as (server, central):
            yield Service(server, central)


Stations = Callable[..., Workstation]


@pytest.fixture
def stations(service: Service, tmp_path: Path) -> Iterator[Stations]:
    """Makes enrolled workstations (bootstrapped unless `sync=False`), closed after the test."""
    made: list[Workstation] = []

    def make(name: str | None = None, *, sync: bool = True) -> Workstation:
        ws = Workstation(tmp_path / "ws", name or f"ws{next(_station_numbers)}",
                         service.central, service.url)
        made.append(ws)
        if sync:
            ws.sync()
        return ws

    yield make
    for ws in made:
        ws.close()


def call(service: Service, method: str, path: str, *, token: str | None = None,
         versions: dict[str, str] | None = None, **options: Any) -> requests.Response:
    """A raw request, to see the status codes the client turns into exceptions."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)} \
        if versions is None else versions
    if token:
        headers = {**headers, "Authorization": f"Bearer {token}"}
    return requests.request(method, f"{service.url}{API_PREFIX}{path}", headers=headers,
                            timeout=30, **options)


def stored(db: Database, command_id: str) -> tuple[str, str | None] | None:
    """(status, reason) of a command in the central `commands` table, None if absent."""
    with db.transaction(write=False) as tx:
        rows = tx.execute("SELECT status, reason FROM commands WHERE command_id = ?",
                          (command_id,))
    return (str(rows[0][0]), rows[0][1]) if rows else None


def count(db: Database, sql: str, params: tuple[Any, ...] = ()) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.execute(sql, params)[0][0])


def certificate(result: ServiceResult) -> str:
    """The number of the Meldebescheinigung a service issued (beside its receipt)."""
    return next(d.number for d in result.documents if d.type.startswith("meldebescheinigung"))


# --- enrolment and device tokens ---------------------------------------------------------------

def test_an_enrolment_code_works_once(service: Service) -> None:
    name = f"Mobil {next(_station_numbers)}"
    code = service.central.issue_enrolment_code(name)
    client = CentralClient(service.url)
    answer = client.enrol(code, name)
    assert CentralClient(service.url, answer.token).changes(0, 1).until >= 1  # the token works
    with pytest.raises(CentralRefused) as refused:
        client.enrol(code.lower(), name)  # the same code, as typed by someone else
    assert "Anmeldecode" in refused.value.message_de and "benutzt" in refused.value.message_de
    again = call(service, "POST", "/enrol", json={"code": code, "device_name": name})
    assert again.status_code == 403 and "Anmeldecode" in again.json()["message_de"]
    assert count(service.db, "SELECT count(*) FROM devices WHERE name = ?", (name,)) == 1


def test_a_wrong_or_expired_code_is_refused(service: Service) -> None:
    name = f"Mobil {next(_station_numbers)}"
    client = CentralClient(service.url)
    with pytest.raises(CentralRefused) as wrong:
        client.enrol("ABCD-EFGH-JKLM", name)
    assert "ungültig" in wrong.value.message_de
    code = service.central.issue_enrolment_code(name)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with service.db.transaction() as tx:
        tx.execute("UPDATE enrolment_codes SET expires_at = ? WHERE device_name = ?",
                   (yesterday, name))
    with pytest.raises(CentralRefused) as expired:
        client.enrol(code, name)
    assert "abgelaufen" in expired.value.message_de
    assert count(service.db, "SELECT count(*) FROM devices WHERE name = ?", (name,)) == 0


@pytest.mark.parametrize("mode", ["demo", "production"])
def test_the_device_token_is_kept_in_a_0600_file(service: Service, tmp_path: Path,
                                                  mode: str) -> None:
    """`clerk-app sync enrol CODE`: the demo keeps the token beside its register, production
    (without a keyring) in IT's `device_token_file`; either way readable by the owner only.
    Without a keyring production also needs IT's `key_file`: enrolment makes the register."""
    data = tmp_path / "data"
    settings = {"mode": mode, "central_url": service.url, "workstation": "Mobil Süd"}
    if mode == "production":
        settings["device_token_file"] = str(tmp_path / "secrets" / "device-token")
        settings["key_file"] = str(tmp_path / "secrets" / "register.key")
    cfg = make_cfg(data, **settings)
    code = service.central.issue_enrolment_code("Mobil Süd")
    overrides = [arg for key, value in settings.items() for arg in ("--set", f'{key}="{value}"')]
    done = subprocess.run([sys.executable, "-m", "clerk_app", "--data-dir", str(data),
                           *overrides, "sync", "enrol", code],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "angemeldet" in done.stdout
    path = token_file(cfg)
    assert path is not None and path.exists()
    assert path == (Path(settings["device_token_file"]) if mode == "production"
                    else data / "demo-register.device-token")
    assert path.stat().st_mode & 0o777 == 0o600
    token = load_token(cfg)
    assert CentralClient(service.url, token).changes(0, 1).until >= 1
    logs = "".join(p.read_text(errors="replace") for p in data.rglob("*.log"))
    assert token not in logs + done.stdout + done.stderr


def test_an_unknown_or_revoked_token_is_refused(service: Service, stations: Stations) -> None:
    with pytest.raises(CentralRefused) as unknown:
        CentralClient(service.url, "kein-echtes-token").changes(0, 1)
    assert "nicht (mehr) angemeldet" in unknown.value.message_de
    answer = call(service, "GET", "/changes", token="kein-echtes-token")
    assert answer.status_code == 401 and "angemeldet" in answer.json()["message_de"]
    anonymous = call(service, "GET", "/changes")
    assert anonymous.status_code == 401 and "nicht angemeldet" in anonymous.json()["message_de"]
    ws = stations(sync=False)
    assert ws.client.changes(0, 1).until >= 1
    with service.db.transaction() as tx:
        tx.execute("UPDATE devices SET revoked_at = ? WHERE name = ?",
                   (datetime.now(UTC).isoformat(), ws.name))
    with pytest.raises(CentralRefused) as revoked:
        ws.client.changes(0, 1)
    assert "nicht (mehr) angemeldet" in revoked.value.message_de


# --- versions and the documented protocol ------------------------------------------------------

@pytest.mark.parametrize(("protocol", "schema"), [
    ("99", str(SCHEMA_VERSION)), (str(PROTOCOL_VERSION), str(SCHEMA_VERSION + 1)), ("", "")])
def test_another_version_gets_426_naming_both_versions(service: Service, stations: Stations,
                                                       protocol: str, schema: str) -> None:
    ws = stations(sync=False)
    versions = {k: v for k, v in ((PROTOCOL_HEADER, protocol), (SCHEMA_HEADER, schema)) if v}
    answer = call(service, "GET", "/changes", token=ws.token, versions=versions)
    assert answer.status_code == 426
    message = answer.json()["message_de"]
    assert f"Protokoll {protocol or '?'}, Datenstand {schema or '?'}" in message
    assert f"erwartet Protokoll {PROTOCOL_VERSION}, Datenstand {SCHEMA_VERSION}" in message
    assert "aktualisieren" in message
    # The client sees it as a refusal (no retry), and a push with it changes nothing.
    ws.client.session.headers.update(versions)
    for header in {PROTOCOL_HEADER, SCHEMA_HEADER} - set(versions):
        del ws.client.session.headers[header]
    ws.run("anmeldung", anmeldung(ws.street("Hauptstraße")))
    before = command_counts(service.db)
    with pytest.raises(CentralRefused) as refused:
        ws.client.push(outbox_commands(ws))
    assert refused.value.message_de == message
    assert command_counts(service.db) == before


def test_hello_needs_no_headers_and_no_token(service: Service) -> None:
    answer = requests.get(f"{service.url}{API_PREFIX}/hello", timeout=10)
    assert answer.status_code == 200
    hello = answer.json()
    assert hello["protocol"] == PROTOCOL_VERSION and SCHEMA_VERSION in hello["schemas"]
    assert hello["high_water_mark"] == service.central.high_water_mark()
    clock = datetime.fromisoformat(hello["server_time"])
    assert abs(clock - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_openapi_document_lists_the_protocol(service: Service) -> None:
    answer = requests.get(f"{service.url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    spec = answer.json()
    assert spec["info"]["version"].startswith(f"{PROTOCOL_VERSION}.")
    wanted = {"/v1/hello": "get", "/v1/enrol": "post", "/v1/push": "post",
              "/v1/changes": "get", "/v1/bootstrap": "get", "/v1/checksum": "post",
              "/v1/archive": "post", "/v1/documents/{number}": "get",
              "/v1/access-log": "post"}
    for path, method in wanted.items():
        assert method in spec["paths"].get(path, {}), path
    assert "426" in spec["paths"]["/v1/push"]["post"]["responses"]


# --- TLS ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://zentrale.loerrach.de", "https://10.1.2.3:8443/",
                                 "http://127.0.0.1:8765", "http://localhost:8765/",
                                 "http://[::1]:8765"])
def test_https_anywhere_and_plain_http_on_loopback_are_accepted(url: str) -> None:
    assert check_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://zentrale.loerrach.de", "http://10.1.2.3:8765",
                                 "http://127.0.0.1.example.org", "ftp://127.0.0.1",
                                 "https://", "zentrale:8765"])
def test_plain_http_beyond_loopback_is_refused(url: str) -> None:
    with pytest.raises(CentralRefused) as refused:
        CentralClient(url)
    assert "HTTPS" in refused.value.message_de and "nicht zulässig" in refused.value.message_de


@pytest.mark.parametrize(("args", "says"), [
    (("--host", "0.0.0.0"), "Ohne TLS"),
    (("--host", "10.1.2.3"), "Ohne TLS"),
    (("--tls-cert", "cert.pem"), "Zertifikat und Schlüssel")])
def test_serve_refuses_plain_http_beyond_loopback(tmp_path: Path, args: tuple[str, ...],
                                                  says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "clerk_app", "--data-dir", str(tmp_path),
                           "central", "serve", "--port", str(free_port()), "--database",
                           f"sqlite:///{tmp_path / 'central.db'}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert says in done.stderr and "Fehler:" in done.stderr


@dataclass(frozen=True)
class Pki:
    """PEM files: the CA IT configures as `ca_bundle`, an unrelated CA, the server's pair."""

    ca: Path
    other_ca: Path
    cert: Path
    key: Path


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))


def _certificate(subject: str, key: Any, issuer: tuple[str, Any] | None, *,
                 ca: bool) -> Any:
    """A certificate for `subject` signed by `issuer` (name, key), self-signed if None; a
    server certificate names 127.0.0.1 (the name the client checks)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = (builder
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(folder: Path) -> Pki:
    """A city CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def pem(cert: Any) -> bytes:
        return bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("Stadt Lörrach Test-CA", ca_key, None, ca=True)
    other = _certificate("Fremde CA", other_key, None, ca=True)
    server = _certificate("127.0.0.1", server_key, ("Stadt Lörrach Test-CA", ca_key), ca=False)
    pki = Pki(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem",
              folder / "server.key")
    pki.ca.write_bytes(pem(ca))
    pki.other_ca.write_bytes(pem(other))
    pki.cert.write_bytes(pem(server))
    pki.key.write_bytes(_pem_key(server_key))
    pki.key.chmod(0o600)
    return pki


def test_the_service_on_https_is_trusted_only_with_the_ca_bundle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IT's `ca_bundle` decides, even where the machine names another bundle for requests
    (REQUESTS_CA_BUNDLE: set by many managed machines, and by this one's CI)."""
    pki = make_pki(tmp_path)
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(pki.other_ca))
    url = f"sqlite:///{tmp_path / 'central.db'}"
    db = open_database(url)
    central = Central(db)
    loaded = seed_demo(central, 20)
    # Any interface is allowed once TLS is configured; the client still dials 127.0.0.1.
    server = CentralServer(url, tmp_path, ca_bundle=str(pki.ca), extra_args=(
        "--host", "0.0.0.0", "--tls-cert", str(pki.cert), "--tls-key", str(pki.key))).start()
    clients = ExitStack()  # closed before the server stops: it waits for open connections

    def connect(base_url: str, token: str | None, bundle: str | None) -> CentralClient:
        return clients.enter_context(closing(CentralClient(base_url, token, ca_bundle=bundle)))

    try:
        assert server.url.startswith("https://")
        enrolled = connect(server.url, None, str(pki.ca)).enrol(
            central.issue_enrolment_code("Mobil TLS"), "Mobil TLS")
        page = connect(server.url, enrolled.token, str(pki.ca)).bootstrap("", "", None, 5000)
        assert len(page.items) == loaded and not page.more
        for bundle in (None, str(pki.other_ca)):
            with pytest.raises(CentralRefused) as refused:
                connect(server.url, enrolled.token, bundle).hello()
            assert "Zertifikat" in refused.value.message_de
            assert "nicht vertrauenswürdig" in refused.value.message_de
        with pytest.raises(CentralUnavailable):  # no plain HTTP on the TLS port
            connect(server.url.replace("https", "http"), enrolled.token, None).hello()
    finally:
        clients.close()
        server.stop()
        db.close()


# --- push --------------------------------------------------------------------------------------

def ledger_rows(db: Database) -> int:
    return count(db, "SELECT count(*) FROM ledger")


def test_a_batch_is_applied_once_and_a_repeat_is_a_duplicate(service: Service,
                                                            stations: Stations) -> None:
    ws = stations()
    moved, certified = ws.persons(2)
    move = ws.run("ummeldung", ummeldung(moved, ws.street()))
    issued = ws.run("meldebescheinigung", meldebescheinigung(certified))
    batch = outbox_commands(ws)
    assert [c.command_id for c in batch] == [move.command_id, issued.command_id]
    counts, ledger = command_counts(service.db), ledger_rows(service.db)

    first = ws.client.push(batch)
    assert [r.status for r in first.results] == ["applied", "applied"]
    assert command_counts(service.db).get("applied", 0) == counts.get("applied", 0) + 2
    grown = ledger_rows(service.db)
    assert grown > ledger  # documents, receipt, registration, audit entries
    number = certificate(issued)
    # The centre issued the workstation's own numbers; the answer does not repeat the
    # outcome (documents and receipts carry the citizen's data).
    assert all(r.result == {} for r in first.results)
    for document in issued.documents:
        assert count(service.db, "SELECT count(*) FROM ledger WHERE kind = 'documents' "
                     "AND key = ?", (document.number,)) == 1
    assert central_aggregates(service.db)[0][moved] == ws.aggregates()[0][moved]

    again = ws.client.push(batch)  # the answer was lost, say; the workstation sends it again
    assert [(r.status, r.final_status) for r in again.results] == [("duplicate", "applied")] * 2
    assert [r.result for r in again.results] == [r.result for r in first.results]
    assert again.high_water_mark == first.high_water_mark == service.central.high_water_mark()
    assert command_counts(service.db).get("applied", 0) == counts.get("applied", 0) + 2
    assert ledger_rows(service.db) == grown
    assert count(service.db, "SELECT count(*) FROM ledger WHERE kind = 'documents' AND key = ?",
                 (number,)) == 1

    report = ws.sync()  # the engine settles its outbox from the duplicate answers
    assert (report.applied, ws.pending(), report.checksum_ok) == (2, 0, True)
    assert {ws.status_of(c.command_id) for c in batch} == {"applied"}


def test_a_conflict_defers_later_commands_on_the_same_person_only(service: Service,
                                                                  stations: Stations) -> None:
    first, second = stations(), stations()
    person, other = first.persons(6)[4:6]
    first.run("ummeldung", ummeldung(person, first.street()))
    first.sync()
    central_version = central_aggregates(service.db)[0][person]
    stale = second.run("ummeldung", ummeldung(person, second.street("Hauptstraße")))
    waiting = second.run("meldebescheinigung", meldebescheinigung(person))
    free = second.run("meldebescheinigung", meldebescheinigung(other))
    batch = outbox_commands(second)

    results = {r.command_id: r for r in second.client.push(batch).results}
    conflict = results[stale.command_id]
    assert conflict.status == "conflict"
    assert conflict.reason and "an anderer Stelle geändert" in conflict.reason
    assert [(r.kind, r.id, r.data) for r in conflict.server_records] == [
        ("person", person, central_version)]
    deferred = results[waiting.command_id]
    assert deferred.status == "deferred" and deferred.reason
    assert "Wartet auf die Klärung" in deferred.reason
    assert results[free.command_id].status == "applied"
    assert stored(service.db, stale.command_id) == ("conflict", conflict.reason)
    assert stored(service.db, waiting.command_id) is None  # not even looked at
    assert central_aggregates(service.db)[0][person] == central_version

    again = {r.command_id: r.status for r in second.client.push(batch).results}
    assert again == {stale.command_id: "conflict", waiting.command_id: "deferred",
                     free.command_id: "duplicate"}  # a conflict is not final


def test_unknown_and_malformed_commands_are_rejected_for_good(service: Service,
                                                              stations: Stations) -> None:
    ws = stations(sync=False)

    def command(ctype: str, payload: dict[str, Any]) -> Command:
        return Command(command_id=uuid7(), type=ctype, payload=payload, device=ws.name,
                       clerk="clerk", created_at=datetime.now(UTC).isoformat())

    batch = [command("zauberei", {"was": "Kaninchen"}), command("ummeldung", {}),
             command("meldebescheinigung", {"person_id": [1, 2], "variant": "einfach"}),
             command("anmeldung", {"persons": [None]})]
    before = command_counts(service.db).get("rejected", 0)
    first = ws.client.push(batch).results
    assert [r.status for r in first] == ["rejected"] * 4
    assert first[0].reason == "Unbekannte Dienstleistung „zauberei“."
    assert all(r.reason and "unvollständig oder fehlerhaft" in r.reason for r in first[1:])
    assert command_counts(service.db).get("rejected", 0) == before + 4

    again = ws.client.push(batch).results
    assert [(r.status, r.final_status, r.reason) for r in again] == [
        ("duplicate", "rejected", r.reason) for r in first]
    assert command_counts(service.db).get("rejected", 0) == before + 4
    # Not even a command: the request is refused as a whole, nothing stored.
    broken = call(service, "POST", "/push", token=ws.token,
                  json={"commands": [{"command_id": "x", "payload": "kaputt"}]})
    assert broken.status_code == 422
    assert stored(service.db, "x") is None


def test_a_document_number_taken_centrally_is_rejected_not_a_server_error(
        service: Service, stations: Stations) -> None:
    """Two counters whose names give the same number prefix ('Kasse 7', 'kasse-7': KASSE7)
    issue the same document and receipt numbers offline; the second to arrive is refused by
    the central database, its batch goes on."""
    n = next(_station_numbers)
    one, two = stations(f"Kasse {n}"), stations(f"kasse-{n}")
    first, second, moved = one.persons(9)[6:9]
    mine = one.run("meldebescheinigung", meldebescheinigung(first))
    theirs = two.run("meldebescheinigung", meldebescheinigung(second))
    move = two.run("ummeldung", ummeldung(moved, two.street()))
    number = certificate(mine)
    assert certificate(theirs) == number  # the premise of this test
    assert one.sync().applied == 1

    results = two.client.push(commands_of(two, theirs.command_id, move.command_id)).results
    assert [r.status for r in results] == ["rejected", "applied"]
    assert results[0].reason and "schon vergeben" in results[0].reason
    with service.db.transaction(write=False) as tx:
        owner = tx.execute("SELECT command_id FROM ledger WHERE kind = 'documents' AND key = ?",
                           (number,))
        left = tx.execute("SELECT count(*) FROM ledger WHERE command_id = ?",
                          (theirs.command_id,))
    assert owner == [(mine.command_id,)] and left == [(0,)]  # its savepoint was rolled back
    # Both counters printed and archived their document; the centre vouches for one only.
    kept = archive_pdf(one.store, number, blank_pdf("Kasse eins"))
    refused = archive_pdf(two.store, number, blank_pdf("Kasse zwei"))
    assert one.sync().archived == 1
    report = two.sync()  # the clerk gets Klärfälle with the reasons
    assert report.rejected == 2 and two.status_of(theirs.command_id) == "rejected"
    assert two.status_of(refused.command_id) == "rejected"  # no file for another's document
    assert two.status_of(move.command_id) == "applied"
    check = one.client.verify_document(number)
    assert check.workstation == one.name
    assert [f["sha256"] for f in check.files] == [kept.sha256]
    assert not one.client.verify_document(number, refused.sha256).known


# --- the change sequence -----------------------------------------------------------------------

FAMILIES = ("Wróbel", "Nowak", "Kowalski", "Zieliński", "Szymański", "Wójcik")
GIVEN = ("Łukasz", "Zofia", "Jan", "Agnieszka")


def test_concurrent_pushes_never_let_a_reader_skip_a_change(service: Service,
                                                           stations: Stations) -> None:
    """Writers push at once while a reader pages /v1/changes: whatever order the writers'
    transactions commit in, the reader must never pass a sequence number that later turns
    up below its position (it would never be read)."""
    writers = [stations(sync=False) for _ in GIVEN]
    batches: list[list[Command]] = []
    for w, ws in enumerate(writers):
        for i, family in enumerate(FAMILIES):
            ws.run("anmeldung", anmeldung(ws.street("Hauptstraße"), family, GIVEN[w],
                                          f"19{60 + w}-0{i + 1}-1{w}"))
        batches.append(outbox_commands(ws))
    start = service.central.high_water_mark()
    statuses, pages = race_the_feed(
        [(partial(CentralClient, service.url, ws.token), batch)
         for ws, batch in zip(writers, batches, strict=True)],
        partial(CentralClient, service.url, writers[0].token), start)
    assert statuses == ["applied"] * sum(map(len, batches))
    assert_feed_complete(service.central, pages, start, [c for b in batches for c in b])


# --- the document archive ----------------------------------------------------------------------

def test_an_archived_pdf_is_stored_once_and_verifiable(service: Service,
                                                      stations: Stations) -> None:
    ws = stations()
    issued = ws.run("meldebescheinigung", meldebescheinigung(ws.persons(10)[9]))
    number = certificate(issued)
    pdf = blank_pdf(number)
    archived = archive_pdf(ws.store, number, pdf)
    [command] = commands_of(ws, archived.command_id)
    report = ws.sync()
    assert report.archived == 1 and ws.status_of(archived.command_id) == "applied"
    # Sent: the register keeps the PDF once (document_files), not a second time in the outbox.
    [sent] = commands_of(ws, archived.command_id)
    assert "pdf_base64" not in sent.payload and sent.payload["sha256"] == archived.sha256
    with ws.store.transaction():
        kept = ws.store.conn.execute("SELECT pdf FROM document_files WHERE command_id = ?",
                                     (archived.command_id,)).fetchone()[0]
    assert bytes(kept) == pdf

    def files() -> list[tuple[Any, ...]]:
        with service.db.transaction(write=False) as tx:
            return tx.execute("SELECT sha256, kind, size, command_id, pdf FROM files "
                              "WHERE document_number = ?", (number,))

    [(sha, kind, size, command_id, content)] = files()
    assert (sha, kind, size, command_id) == (archived.sha256, "original", len(pdf),
                                             archived.command_id)
    assert bytes(content) == pdf
    check = ws.client.verify_document(number)
    assert check.known and check.type == "meldebescheinigung_einfach"
    assert check.workstation == ws.name
    assert [(f["sha256"], f["kind"], f["size"]) for f in check.files] == [
        (archived.sha256, "original", len(pdf))]
    assert ws.client.verify_document(number, archived.sha256).known
    assert not ws.client.verify_document(number, hashlib.sha256(b"forged").hexdigest()).known
    assert not ws.client.verify_document(number.replace(number[-6:], "999999")).known

    receipt = ws.client.archive(command)  # uploaded again: the answer got lost, say
    assert (receipt.status, receipt.sha256) == ("duplicate", archived.sha256)
    assert len(files()) == 1

    forged = command.model_copy(update={"command_id": uuid7(), "payload": {
        **command.payload, "sha256": hashlib.sha256(b"anders").hexdigest()}})
    damaged = command.model_copy(update={"command_id": uuid7(), "payload": {
        **command.payload, "pdf_base64": "kein base64!"}})
    for bad, says in ((forged, "Prüfsumme stimmt nicht"), (damaged, "beschädigt")):
        answer = ws.client.archive(bad)  # a refusal is an answer (a Klärfall), not an error
        assert answer.status == "rejected" and answer.reason and says in answer.reason
        assert stored(service.db, bad.command_id) == ("rejected", answer.reason)
    assert len(files()) == 1
    assert base64.b64decode(command.payload["pdf_base64"]) == pdf


def test_a_refused_archive_does_not_block_the_outbox(service: Service,
                                                     stations: Stations) -> None:
    ws = stations()
    first, second = ws.persons(14)[12:14]
    issued = ws.run("meldebescheinigung", meldebescheinigung(first))
    archived = archive_pdf(ws.store, certificate(issued), blank_pdf("beschädigt"))
    with ws.store.transaction():  # the queued file no longer matches its checksum
        ws.store.conn.execute("UPDATE outbox SET payload = json_set(payload, '$.sha256', ?) "
                              "WHERE command_id = ?", ("0" * 64, archived.command_id))
    later = ws.run("meldebescheinigung", meldebescheinigung(second))
    report = ws.sync()
    assert ws.status_of(later.command_id) == "applied"
    assert ws.status_of(archived.command_id) == "rejected"
    assert report.rejected == 1
    [case] = [c for c in open_conflicts(ws.store) if c["command_id"] == archived.command_id]
    assert "Prüfsumme" in case["reason"]


# --- tombstones --------------------------------------------------------------------------------

def test_a_central_deletion_removes_the_person_but_not_their_documents(
        service: Service, stations: Stations) -> None:
    ws = stations()
    person = ws.persons(12)[11]
    family, first = ws.store.conn.execute(
        "SELECT family_name, first_names FROM persons WHERE id = ?", (person,)).fetchone()
    issued = ws.run("meldebescheinigung", meldebescheinigung(person))
    ws.sync()
    assert person in {h.id for h in search(ws.store, f"{family} {first}")}

    service.central.delete_person(person)
    report = ws.sync()
    assert report.pulled >= 1 and report.checksum_ok
    q = ws.store.conn.execute
    assert q("SELECT count(*) FROM persons WHERE id = ?", (person,)).fetchone()[0] == 0
    assert q("SELECT count(*) FROM residences WHERE person_id = ?", (person,)).fetchone()[0] == 0
    assert q("SELECT count(*) FROM person_search_keys WHERE person_id = ?",
             (person,)).fetchone()[0] == 0
    assert person not in {h.id for h in search(ws.store, f"{family} {first}")}
    number = certificate(issued)
    assert q("SELECT person_id FROM documents WHERE number = ?", (number,)).fetchall() == [
        (person,)]  # what was handed out stays on record
    assert ws.client.verify_document(number).known
    assert person not in stations().aggregates()[0]  # a new workstation never sees them


# --- bootstrap ---------------------------------------------------------------------------------

class CuttingClient(CentralClient):
    """Kills the central service (kill -9) as soon as the first bootstrap page arrived."""

    def __init__(self, server: CentralServer, token: str) -> None:
        super().__init__(server.url, token)
        self.server = server
        self.pages = 0

    def bootstrap(self, after_kind: str, after_id: str, high_water_mark: int | None,
                  limit: int) -> BootstrapPage:
        page = super().bootstrap(after_kind, after_id, high_water_mark, limit)
        self.pages += 1
        if self.pages == 1:
            self.server.kill()
        return page


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with central_database(request.param, tmp_path) as url:
        yield url


def test_a_bootstrap_cut_by_a_killed_server_resumes_without_duplicates(
        database_url: str, tmp_path: Path) -> None:
    page_size = 50
    with ExitStack() as stack:
        server, central = stack.enter_context(running_central(database_url, tmp_path,
                                                              residents=120))
        ws = stack.enter_context(closing(Workstation(tmp_path / "ws", "mobil", central,
                                                     server.url)))
        total = sum(map(len, central_aggregates(central.db)))
        assert total > 3 * page_size
        start = central.high_water_mark()
        with pytest.raises(CentralUnavailable):
            SyncEngine(ws.store, CuttingClient(server, ws.token),
                       bootstrap_page=page_size).sync_once()
        saved = json.loads(get_setting(ws.store, BOOTSTRAP) or "null")
        assert saved["hwm"] == start and saved["after_id"]
        assert sum(map(len, ws.aggregates())) == page_size and get_setting(ws.store, CURSOR) is None

        # Meanwhile the centre moves on: a person the bootstrap has not reached is deleted.
        gone = max(central_aggregates(central.db)[0])
        central.delete_person(gone)
        restarted = CentralServer(database_url, tmp_path, port=server.port).start()
        try:
            report = ws.sync(bootstrap_page=page_size)
        finally:
            restarted.stop()
        assert report.bootstrapped == total - page_size - 1  # no page twice, `gone` skipped
        assert report.pulled == 1 and report.checksum_ok
        assert ws.aggregates() == central_aggregates(central.db)
        assert gone not in ws.aggregates()[0]
        q = ws.store.conn.execute
        assert q("SELECT count(*) FROM person_search_keys").fetchone()[0] == len(
            central_aggregates(central.db)[0])  # the index was built once, for everyone
        assert get_setting(ws.store, BOOTSTRAP) is None
        assert get_setting(ws.store, CURSOR) == str(central.high_water_mark())

