"""Relations replicate: a family registered on one workstation reaches the central service
(a real `clerk-app central serve` process on 127.0.0.1, SQLite and PostgreSQL) and a second
workstation with both sides of every relation, and stay through a move made there. The
family's Meldebescheinigungen, issued at once, are replayed centrally as one command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clerk_app.person_record import load_person
from sync.server.central import Central
from tests.sync_support import (
    Workstation,
    assert_converged,
    central_aggregates,
    central_database,
    command_counts,
    landlord,
    running_central,
    sync_until_quiet,
    today_iso,
)
from tests.test_registration import new_person


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stations(request: pytest.FixtureRequest, tmp_path: Path,
                 ) -> Iterator[tuple[Central, Workstation, Workstation]]:
    with central_database(request.param, tmp_path) as url, \
            running_central(url, tmp_path / "central") as (server, central):
        one = Workstation(tmp_path / "ws", "schalter1", central, server.url)
        two = Workstation(tmp_path / "ws", "mobil2", central, server.url)
        try:
            yield central, one, two
        finally:
            one.close()
            two.close()


def family_form(street_id: int) -> dict[str, Any]:
    child = new_person(first_names="Mia", everyday_name=None, birth_date="2023-04-03",
                       doctorate=None, birth_name=None, marital_status="LD",
                       marital_date=None, marital_place=None, id_document=None,
                       relations=[{"kind": "elternteil", "person": 0},
                                  {"kind": "vertreter", "person": 0},
                                  {"kind": "vertreter", "person": 1}])
    father = new_person(first_names="Jonas", everyday_name=None, sex="m", birth_name=None,
                        doctorate=None, birth_date="1988-02-02", id_document=None,
                        relations=[{"kind": "ehegatte", "person": 0}])
    return {"persons": [new_person(id_document=None), father, child],
            "address": {"street_id": street_id, "house_number": "12"}, "kind": "alleinig",
            "move_in": today_iso(2), "previous_address": {"address": "Musterweg 1, Berlin"},
            "landlord": landlord()}


def registered_family(one: Workstation, two: Workstation) -> tuple[str, ...]:
    """The family registered on `one`, both workstations synced: mother, father, child."""
    result = one.run("anmeldung", family_form(one.street("Hauptstraße")))
    sync_until_quiet([one, two])
    return result.changed_persons


def test_relations_reach_the_centre_and_the_other_workstation_and_survive_a_move(
        two_stations: tuple[Central, Workstation, Workstation]) -> None:
    central, one, two = two_stations
    mother, father, mia = registered_family(one, two)
    persons, _ = central_aggregates(central.db)
    assert sorted(r["kind"] for r in persons[mia]["relations"]) == [
        "elternteil", "vertreter", "vertreter"]
    assert sorted(r["kind"] for r in persons[father]["relations"]) == ["ehegatte", "vertreten"]
    there = load_person(two.store, mia)
    assert sorted((r.kind, r.display_name) for r in there.relations) == [
        ("elternteil", "Dr. Müller, Anna Maria"), ("vertreter", "Dr. Müller, Anna Maria"),
        ("vertreter", "Müller, Jonas")]

    two.run("ummeldung", {"persons": [{"person_id": p} for p in (mother, father, mia)],
                          "address": {"street_id": two.street("Palmstraße"),
                                      "house_number": "3"},
                          "kind": "alleinig", "move_in": today_iso(1),
                          "landlord": landlord()})
    sync_until_quiet([one, two])
    assert_converged(central.db, [one, two])
    moved = load_person(one.store, mia)
    assert moved.current_residences[0].address.street == "Palmstraße"
    assert len(moved.relations) == 3


def test_a_household_certificate_is_replayed_centrally_with_a_document_per_person(
        two_stations: tuple[Central, Workstation, Workstation]) -> None:
    central, one, two = two_stations
    mother, father, mia = registered_family(one, two)
    result = two.run("meldebescheinigung_haushalt", {
        "person_id": mother, "members": [father, mia], "variant": "einfach",
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}})
    sync_until_quiet([one, two])
    assert command_counts(central.db) == {"applied": 2}
    with central.db.transaction(write=False) as tx:
        ledger = sorted(str(key) for (key,) in tx.execute(
            "SELECT key FROM ledger WHERE kind = 'documents'"))
    numbers = {d.number for d in result.documents}
    assert numbers <= set(ledger) and len(numbers) == 6   # 3 certificates, 3 receipts
    assert_converged(central.db, [one, two])
