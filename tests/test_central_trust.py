# ruff: noqa: F811 - the service fixtures are shared with tests/test_sync_service.py
"""The central service trusts nothing a device says (issue 10), tried from outside over real
HTTP against the real service process, on SQLite and PostgreSQL: forged Klärfall decisions,
another device's ids, oversized and malformed requests, concurrent enrolment, withdrawn
devices, and the embedded database's encryption.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from clerk_app.ids import uuid7
from clerk_app.store.migrations import SCHEMA_VERSION
from sync.central_errors import CentralRefused
from sync.engine import open_conflicts, resolve_conflict
from sync.protocol import (
    API_PREFIX,
    DEVICE_REVOKED,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    RESOLUTION_COMMAND,
    SCHEMA_HEADER,
    Command,
)
from sync.server.central import Central
from sync.server.storage import open_database
from tests.sync_support import (
    ROOT,
    central_aggregates,
    central_database,
    meldebescheinigung,
    outbox_commands,
    today_iso,
    ummeldung,
)
from tests.test_documents import blank_pdf
from tests.test_sync_service import (  # noqa: F401 - fixtures
    Service,
    Stations,
    call,
    count,
    service,
    stations,
)

FORGED = "GEFAELSCHT"
_picked = itertools.count(1)


def fresh_person(ws: Any) -> str:
    """A person no other test of the module's service has touched (picked from the end; the
    service tests pick from the start), living in one dwelling only (so 'alleinig' fits)."""
    while True:
        person = str(ws.persons(80)[-next(_picked)])
        if not ws.store.conn.execute("SELECT 1 FROM residences WHERE person_id = ? AND "
                                     "kind = 'neben' AND move_out IS NULL", (person,)).fetchone():
            return person


def _decision(ws: Any, target: str, decision: str, **extra: Any) -> Command:
    return Command(command_id=uuid7(), type=RESOLUTION_COMMAND,
                   payload={"command_id": target, "decision": decision, **extra},
                   device=ws.name, clerk="angreifer", created_at=datetime.now(UTC).isoformat())


def _conflict(service: Service, stations: Stations) -> tuple[Any, Any, str, str]:
    """Two workstations; `two` moved a person `one` had moved first, a day later: (one, two,
    person, command id of two's conflicted move)."""
    one, two = stations(), stations()
    person = fresh_person(one)
    one.run("ummeldung", {**ummeldung(person, one.street("Palmstraße")),
                          "move_in": today_iso(2)})
    one.sync()
    move = two.run("ummeldung", ummeldung(person, two.street("Hauptstraße"), "9"))
    two.sync()
    assert two.status_of(move.command_id) == "conflict"
    return one, two, person, move.command_id


def _forged_record(ws: Any, person: str) -> dict[str, Any]:
    record = ws.aggregates()[0][person]
    record["person"]["family_name"] = FORGED
    record["person"]["version"] += 50
    return dict(record)


# --- 1. a 'local' decision is a replay, never records from a device --------------------------

def test_a_forged_local_decision_never_reaches_the_register_or_another_workstation(
        service: Service, stations: Stations) -> None:
    one, two, person, target = _conflict(service, stations)
    made_up = dict(_forged_record(two, person))
    made_up["person"] = {**made_up["person"], "id": uuid7()}  # and one who never existed
    forged = _decision(two, target, "local", records=[_forged_record(two, person), made_up],
                       central_versions={person: central_aggregates(service.db)[0][person]
                                         ["person"]["version"]})
    [answer] = two.client.push([forged]).results
    assert answer.status == "applied"  # the decision itself is fine; its records are ignored
    persons = central_aggregates(service.db)[0]
    assert FORGED not in json.dumps(persons)
    assert made_up["person"]["id"] not in persons
    one.sync()
    assert FORGED not in json.dumps(one.aggregates()[0])
    # The decision did what 'local' means: the counter's move, replayed on the central version.
    streets = {r["street"] for r in persons[person]["residences"] if r["move_out"] is None}
    assert streets == {"Hauptstraße"}


def test_records_that_are_not_records_are_a_refusal_not_a_server_error(
        service: Service, stations: Stations) -> None:
    _, two, person, target = _conflict(service, stations)
    for payload in ({"records": [{}]}, {"records": [{"person": {}}]}, {"records": "kaputt"},
                    {"central_versions": {person: 2**64}}, {"central_versions": []},
                    {"dependents": [{"x": 1}]}):
        answer = call(service, "POST", "/push", token=two.token, json={"commands": [
            _decision(two, target, "local").model_dump() | {
                "payload": {"command_id": target, "decision": "local", **payload}}]})
        assert answer.status_code in (200, 422), (payload, answer.text)
        if answer.status_code == 200:
            assert answer.json()["results"][0]["status"] in ("rejected", "conflict", "applied")
    assert FORGED not in json.dumps(central_aggregates(service.db)[0])


def test_the_local_decision_keeps_what_another_office_changed_on_other_fields(
        service: Service, stations: Stations) -> None:
    """Another office gives the person a Nebenwohnung (their main dwelling becomes 'haupt');
    offline, this office moves the main dwelling. 'Eigene Fassung': the move is replayed on
    the central version, the other office's Nebenwohnung stays."""
    one, two = stations(), stations()
    person = fresh_person(one)
    second_home = one.run("anmeldung", {
        "persons": [{"person_id": person}], "kind": "neben",
        "address": {"street_id": one.street("Palmstraße"), "house_number": "21"},
        "move_in": ummeldung(person, 0)["move_in"], "landlord": ummeldung(person, 0)["landlord"],
        "previous_address": {"address": "Basler Straße 1, 79540 Lörrach"},
        "minors_confirmed": True})   # the demo person picked may be a minor: not this test's point
    one.sync()
    assert one.status_of(second_home.command_id) == "applied"
    move = two.run("ummeldung", ummeldung(person, two.street("Hauptstraße"), "9"))
    two.sync()
    assert two.status_of(move.command_id) == "conflict"
    [case] = [c for c in open_conflicts(two.store) if c["command_id"] == move.command_id]
    contested = [f for r in case["server_records"] for f in r.get("contested", [])]
    # The other office changed the dwelling's kind, this one its move-out: no field both.
    assert not [f for f in contested if f.startswith("residences/")]
    resolve_conflict(two.store, move.command_id, "local")
    two.sync()
    assert two.status_of(move.command_id) == "applied"
    current = {(r["kind"], r["street"]) for r in
               central_aggregates(service.db)[0][person]["residences"] if r["move_out"] is None}
    assert ("neben", "Palmstraße") in current  # the other office's change stays
    assert any(street == "Hauptstraße" for _, street in current)  # the counter's move holds
    one.sync()
    two.sync()
    assert one.aggregates()[0][person] == central_aggregates(service.db)[0][person]


def test_a_conflict_answer_names_the_fields_both_sides_changed(
        service: Service, stations: Stations) -> None:
    _, two, person, target = _conflict(service, stations)
    [case] = [c for c in open_conflicts(two.store) if c["command_id"] == target]
    [record] = case["server_records"]
    # Both offices ended the same dwelling, on different days: that date is the clerk's
    # decision (and the household, where both gave the person a new one). Each opened a new
    # dwelling of its own: nothing the other changed.
    [left] = [r["id"] for r in case["local_records"][0]["residences"]
              if r["move_out"] == today_iso(1)]
    assert f"residences/{left}.move_out" in record["contested"]
    assert set(record["contested"]) <= {f"residences/{left}.move_out",
                                        f"persons/{person}.household_id"}


def test_a_decision_is_checked_against_every_person_it_touches(
        service: Service, stations: Stations) -> None:
    """The clerk saw the central version of the Klärfall's person; a person the command also
    touches moved on meanwhile: the decision comes back instead of overwriting it."""
    one, two, person, target = _conflict(service, stations)
    seen = central_aggregates(service.db)[0][person]["person"]["version"]
    one.run("ummeldung", ummeldung(person, one.street("Hauptstraße"), "40"))
    one.sync()  # the central version moved on after the clerk looked
    [answer] = two.client.push([_decision(two, target, "local",
                                          central_versions={person: seen})]).results
    assert answer.status == "conflict" and "erneut geändert" in (answer.reason or "")
    assert {r.id for r in answer.server_records} == {person}


# --- 2. the device comes from the token ---------------------------------------------------------

def test_a_device_cannot_push_as_another_or_settle_its_klaerfaelle(
        service: Service, stations: Stations) -> None:
    _, victim, person, target = _conflict(service, stations)
    attacker = stations()
    other = fresh_person(attacker)
    issued = attacker.run("meldebescheinigung", meldebescheinigung(other))
    [command] = outbox_commands(attacker)
    spoofed = command.model_copy(update={"device": victim.name, "clerk": "chefin"})
    assert attacker.client.push([spoofed]).results[0].status == "applied"
    with service.db.transaction(write=False) as tx:
        [(device, device_id, clerk, claimed)] = tx.execute(
            "SELECT device, device_id, clerk, clerk_claimed FROM commands "
            "WHERE command_id = ?", (issued.command_id,))
    assert device == attacker.name and device_id != "" and (clerk, claimed) == ("chefin", 1)
    assert device_id not in {d.device_id for d in service.central.devices()
                             if d.name == victim.name}
    # Settling the victim's Klärfall, either way: refused as unknown, nothing changes.
    before = central_aggregates(service.db)[0][person]
    for decision in ("local", "central"):
        [answer] = attacker.client.push([_decision(attacker, target, decision)]).results
        assert answer.status == "rejected" and "nicht bekannt" in (answer.reason or "")
    assert central_aggregates(service.db)[0][person] == before
    with service.db.transaction(write=False) as tx:
        assert tx.execute("SELECT status FROM commands WHERE command_id = ?",
                          (target,)) == [("conflict",)]
    # Nor may it re-send the victim's command id as its own.
    [victims] = [c for c in outbox_commands(victim, ("conflict",)) if c.command_id == target]
    [answer] = attacker.client.push([victims]).results
    assert answer.status == "rejected" and "anderen Arbeitsplatz" in (answer.reason or "")


def test_a_device_cannot_file_a_pdf_as_another_ones_document(service: Service,
                                                            stations: Stations) -> None:
    victim, attacker = stations(), stations()
    issued = victim.run("meldebescheinigung", meldebescheinigung(fresh_person(victim)))
    victim.sync()
    number = next(d.number for d in issued.documents if d.type.startswith("meldebescheinigung"))
    pdf = blank_pdf(FORGED)
    forged = Command(command_id=uuid7(), type="archive_document", device=attacker.name,
                     clerk="c", created_at=datetime.now(UTC).isoformat(), payload={
                         "pdf_base64": base64.b64encode(pdf).decode(),
                         "sha256": hashlib.sha256(pdf).hexdigest(), "kind": "original",
                         "document_number": number, "issued_command_id": issued.command_id})
    answer = attacker.client.archive(forged)
    assert answer.status == "rejected" and "anderen Arbeitsplatz" in (answer.reason or "")
    check = victim.client.verify_document(number)
    assert check.known and check.files == []
    assert not victim.client.verify_document(number, hashlib.sha256(pdf).hexdigest()).known


# --- 3. enrolment codes are spent atomically ----------------------------------------------------

@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_one_code_redeemed_by_eight_threads_at_once_gives_one_token(kind: str,
                                                                    tmp_path: Path) -> None:
    with central_database(kind, tmp_path) as url:
        db = open_database(url)
        try:
            central = Central(db)
            for _ in range(3):
                code = central.issue_enrolment_code("Mobil")
                start = threading.Barrier(8)
                tokens: list[str] = []
                refused: list[str] = []

                def redeem(code: str = code, start: threading.Barrier = start,
                           tokens: list[str] = tokens, refused: list[str] = refused) -> None:
                    start.wait()
                    try:
                        tokens.append(central.enrol(code, "Mobil")[1])
                    except Exception as exc:
                        refused.append(type(exc).__name__)

                threads = [threading.Thread(target=redeem) for _ in range(8)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                assert len(tokens) == 1 and refused == ["CentralError"] * 7
            assert len(central.devices()) == 3
        finally:
            db.close()


# --- 4. bounded requests, Problem answers -------------------------------------------------------

def raw(service: Service, method: str, path: str, *, token: str | None = None,
        body: Any = None) -> requests.Response:
    """A request with a body as given (not JSON-encoded by requests), versions and token."""
    headers = {"Content-Type": "application/json", PROTOCOL_HEADER: str(PROTOCOL_VERSION),
               SCHEMA_HEADER: str(SCHEMA_VERSION)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, f"{service.url}{API_PREFIX}{path}", data=body,
                            headers=headers, timeout=60)


def _is_problem(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text[:300]
    body = answer.json()
    assert body["message_de"] and body["message_en"]
    return dict(body)


def test_oversized_bodies_are_refused_before_they_are_read(service: Service,
                                                           stations: Stations) -> None:
    big = b'{"code": "' + b"A" * (5 << 20) + b'", "device_name": "x"}'
    _is_problem(raw(service, "POST", "/enrol", body=big), 413)

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(80):
            yield b" " * (1 << 16)

    ws = stations(sync=False)
    _is_problem(raw(service, "POST", "/access-log", token=ws.token, body=chunks()), 413)
    # An archive upload may be larger than a command, up to its own limit.
    archive = {"command_id": uuid7(), "type": "archive_document", "device": ws.name,
               "clerk": "c", "created_at": datetime.now(UTC).isoformat(),
               "payload": {"pdf_base64": "A" * (6 << 20), "sha256": "0" * 64}}
    answer = call(service, "POST", "/archive", token=ws.token, json=archive)
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", f"/changes?since={2**64}", None),
    ("GET", f"/changes?since={2**63}", None),
    ("GET", f"/bootstrap?high_water_mark={2**64}", None),
    ("GET", "/changes?limit=-1", None),
    ("POST", "/access-log", '{"entries": [{"id": 1e400, "at": "x", "clerk": "c", '
                            '"workstation": "w", "action": "read", "purpose": "p"}]}'),
    ("POST", "/access-log", '{"entries": [{"id": 1}]}'),
    ("POST", "/access-log", '{"entries": [{"id": 1, "at": "x", "clerk": "c", '
                            '"workstation": "w", "action": "read", "purpose": "' + "p" * 5000
                            + '"}]}'),
    ("POST", "/push", '{"commands": [{"command_id": "x", "type": "ummeldung", '
                      '"payload": {"n": 1e400}, "device": "d", "clerk": "c", '
                      '"created_at": "2026-01-01"}]}'),
    ("POST", "/push", '{"commands": [{"command_id": "x", "type": "ummeldung", '
                      '"payload": {}, "base_versions": {"persons/x": 18446744073709551616}, '
                      '"device": "d", "clerk": "c", "created_at": "2026-01-01"}]}'),
    ("POST", "/checksum", '{"exclude": "alle"}'),
    ("POST", "/push", "{kaputt"),
    ("GET", "/documents/" + "9" * 200, None),
])
def test_malformed_requests_get_a_4xx_problem_never_a_server_error(
        service: Service, stations: Stations, method: str, path: str, body: str | None) -> None:
    ws = stations(sync=False)
    answer = raw(service, method, path, token=ws.token, body=body)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    _is_problem(answer, answer.status_code)


def test_the_openapi_document_declares_the_token_and_the_version_headers(
        service: Service) -> None:
    spec = requests.get(f"{service.url}/openapi.json", timeout=10).json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"].lower() == "bearer" for s in schemes.values())
    push = spec["paths"]["/v1/push"]["post"]
    assert push["security"]
    headers = {p["name"]: p for p in push["parameters"] if p["in"] == "header"}
    assert headers["X-Clerk-Protocol"]["required"] and headers["X-Clerk-Schema"]["required"]
    for status in ("401", "403", "413", "422", "426"):
        assert push["responses"][status]["content"]["application/json"]["schema"]["$ref"] \
            .endswith("/Problem")
    assert requests.get(f"{service.url}/docs", timeout=10).status_code == 404


# --- 6. devices, withdrawal ---------------------------------------------------------------------

def _clerk_app(data: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clerk_app", "--data-dir", str(data),
                           "central", *args, "--database", url], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_it_lists_devices_and_a_withdrawn_one_is_refused_everywhere(
        service: Service, stations: Stations, tmp_path: Path) -> None:
    _, lost, _, _ = _conflict(service, stations)
    listed = _clerk_app(tmp_path, service.db.url, "devices", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = [d for d in json.loads(listed.stdout) if d["name"] == lost.name]
    assert row["last_contact"] and row["pending"] == 1 and row["revoked_at"] is None
    table = _clerk_app(tmp_path, service.db.url, "devices")
    assert lost.name in table.stdout and "letzter Kontakt" in table.stdout

    done = _clerk_app(tmp_path, service.db.url, "revoke-device", lost.name)
    assert done.returncode == 0 and "aus dem Abgleich genommen" in done.stdout
    assert _clerk_app(tmp_path, service.db.url, "revoke-device", "gibt es nicht").returncode == 2
    for method, path, body in [("GET", "/hello", None), ("GET", "/changes", None),
                               ("GET", "/bootstrap", None), ("POST", "/push", {"commands": []}),
                               ("POST", "/checksum", {}), ("POST", "/access-log",
                                                         {"entries": []}),
                               ("GET", "/documents/MB-X-2026-000001", None),
                               ("POST", "/archive", {}),
                               ("POST", "/enrol", {"code": "ABCD-EFGH", "device_name": "x"})]:
        answer = call(service, method, path, token=lost.token, json=body)
        assert _is_problem(answer, 403).get("code") == DEVICE_REVOKED, path
    with pytest.raises(CentralRefused):
        lost.client.changes(0, 1)


# --- 7. the embedded central database is encrypted ----------------------------------------------

def test_the_embedded_central_database_is_encrypted(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    db = open_database(url)
    Central(db).issue_enrolment_code("Schalter 1")
    db.close()
    raw = (tmp_path / "central.db").read_bytes()
    assert not raw.startswith(b"SQLite format 3") and b"Schalter 1" not in raw
    assert (tmp_path / "central.db.key").stat().st_mode & 0o777 == 0o600
    from clerk_app.errors import StoreError
    with pytest.raises(StoreError):
        open_database(url, "ab" * 32)
    # The key from the environment, as a container's secret (here: for a new database).
    monkeypatch.setenv("CLERK_APP_CENTRAL_KEY", "cd" * 32)
    other = tmp_path / "env" / "central.db"
    made = _clerk_app(tmp_path / "data", f"sqlite:///{other}", "enrol-code", "--device", "S")
    assert made.returncode == 0, made.stderr
    assert not (other.parent / "central.db.key").exists()
    open_database(f"sqlite:///{other}", "cd" * 32).close()
