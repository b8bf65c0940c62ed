"""Anmeldung, Ummeldung, Abmeldung: the rules of § 17, 19, 24 BMG on a real encrypted register.

Every test runs the services through `run_service`, as the UI does: one transaction, one outbox
row, one Meldebestätigung. The business day is fixed (`TODAY`) so deadline boundaries are exact.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clerk_app import audit, rules
from clerk_app.errors import FormError
from clerk_app.keys import new_key
from clerk_app.person_record import load_person
from clerk_app.persons import country_name_de, likely_duplicates
from clerk_app.search import search
from clerk_app.services import registration
from clerk_app.services.base import ServiceContext, ServiceResult
from clerk_app.services.registration import (
    DOMESTIC_MOVE_REFUSED,
    MELDEBESTAETIGUNG_FIELDS,
    Anmeldung,
    mark_everyday_name,
)
from clerk_app.services.runner import run_service
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.streets import find_streets
from tests.factories import COUNTER_ROLES, add_person, count, load_streets

TODAY = date(2026, 11, 12)
GERMAN_DATE = re.compile(r"\d{2}\.\d{2}\.\d{4}")


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def streets(store: Store) -> Callable[[str], int]:
    """Load the street directory; returns a lookup of a Stadtmitte street's id by name."""
    load_streets(store)

    def street_id(name: str) -> int:
        found = [s for s in find_streets(store, name) if s.name == name
                 and s.district == "Stadtmitte"]
        assert found and found[0].id is not None
        return found[0].id

    return street_id


def iso(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def new_person(**changes: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "family_name": "Müller", "first_names": "Anna Maria", "everyday_name": "Maria",
        "birth_name": "Schulz", "doctorate": "Dr.", "birth_date": "1990-05-01",
        "birth_place": "Basel", "birth_country": "CHE", "sex": "w",
        "nationalities": ["DEU", "CHE"], "religion": "rk", "marital_status": "VH",
        "marital_date": "2015-06-20", "marital_place": "Lörrach",
        "id_document": {"doc_type": "PA", "number": "L01X00T47", "authority": "Stadt Basel",
                        "valid_until": "2030-01-31"},
    }
    person.update(changes)
    return person


def landlord(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
                            "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}
    data.update(changes)
    return data


def anmeldung(street_id: int, *persons: dict[str, Any], **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "persons": list(persons) or [new_person()],
        "address": {"street_id": street_id, "house_number": "12"},
        "kind": "alleinig", "move_in": iso(3),
        "previous_address": {"address": "Musterweg 1, 10115 Berlin"},
        "landlord": landlord(),
    }
    form.update(changes)
    return form


def run(store: Store, service: str, form: dict[str, Any], command_id: str | None = None,
        today: date = TODAY) -> ServiceResult:
    return run_service(store, service, form, command_id or str(uuid.uuid4()), today=today)


def errors_of(store: Store, service: str, form: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(FormError) as caught:
        run(store, service, form)
    return caught.value.errors


def one(store: Store, sql: str, params: Any = ()) -> dict[str, Any]:
    rows = store.query(sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def registered(store: Store, result: ServiceResult) -> str:
    """The single person a result changed."""
    assert len(result.changed_persons) == 1
    return result.changed_persons[0]


def labels(result: ServiceResult) -> list[str]:
    return [label for label, _ in result.documents[0].fields]


# --- Anmeldung -------------------------------------------------------------------------------

def test_anmeldung_writes_person_dwelling_household_and_registration(
        store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße")))
    pid = registered(store, result)
    person = one(store, "SELECT * FROM persons WHERE id = ?", (pid,))
    assert person["version"] == 1 and person["family_sf"] == "MUELLER"
    assert json.loads(person["nationalities"]) == ["DEU", "CHE"]
    assert person["everyday_name"] == "Maria" and person["household_id"]
    residence = one(store, "SELECT * FROM residences WHERE person_id = ?", (pid,))
    assert (residence["street"], residence["house_number"], residence["postal_code"],
            residence["city"], residence["kind"], residence["move_in"], residence["move_out"],
            residence["previous_address"]) == ("Hauptstraße", "12", "79539", "Lörrach",
                                               "alleinig", iso(3), None,
                                               "Musterweg 1, 10115 Berlin")
    reg = one(store, "SELECT * FROM registrations")
    assert (reg["kind"], reg["late"], reg["move_date"], json.loads(reg["persons"])) == (
        "anmeldung", 0, iso(3), [pid])
    assert json.loads(reg["landlord"])["landlord_name"] == "Wohnbau Lörrach GmbH"
    doc = one(store, "SELECT * FROM id_documents WHERE person_id = ?", (pid,))
    assert (doc["doc_type"], doc["number"]) == ("PA", "L01X00T47")
    assert one(store, "SELECT name FROM former_names WHERE person_id = ?", (pid,)) == {
        "name": "Schulz"}
    assert [h.id for h in search(store, "müller hauptstr 12", today=TODAY)] == [pid]
    assert result.notices == ()


@pytest.mark.parametrize(("days_ago", "late"), [(0, False), (14, False), (15, True)])
def test_anmeldung_deadline_is_two_weeks_after_moving_in(
        store: Store, streets: Callable[[str], int], days_ago: int, late: bool) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), move_in=iso(days_ago)))
    assert one(store, "SELECT late FROM registrations")["late"] == int(late)
    assert bool(result.notices) is late


def test_late_anmeldung_is_registered_with_the_notice(
        store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), move_in=iso(23)))
    assert result.notices == ("Verspätete Anmeldung (Einzug vor 23 Tagen, Frist 2 Wochen, "
                              "§ 17 Abs. 1 BMG) – vermerkt.",)
    assert count(store, "persons") == 1


def test_future_move_in_is_refused(store: Store, streets: Callable[[str], int]) -> None:
    errors = errors_of(store, "anmeldung", anmeldung(streets("Hauptstraße"), move_in=iso(-1)))
    assert errors["move_in"].startswith("Einzugsdatum liegt nach heute")


@pytest.mark.parametrize(("number", "message"), [
    ("999", "Hausnummer 999 gibt es in der Hauptstraße nicht."),
    ("x", "„x“ ist keine gültige Hausnummer (z. B. 12, 12a oder 12/1)."),
])
def test_house_number_must_exist_in_the_street(
        store: Store, streets: Callable[[str], int], number: str, message: str) -> None:
    form = anmeldung(streets("Hauptstraße"),
                     address={"street_id": streets("Hauptstraße"), "house_number": number})
    assert errors_of(store, "anmeldung", form)["address.house_number"] == message


def test_unknown_street_and_garbled_address_are_field_errors(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"), address={"street_id": 999999, "house_number": "1"})
    assert "address.street_id" in errors_of(store, "anmeldung", form)
    form = anmeldung(streets("Hauptstraße"), address={"street_id": "abc"}, persons=["nonsense"])
    errors = errors_of(store, "anmeldung", form)
    assert {"address.street_id", "address.house_number", "persons.0"} <= set(errors)


def test_house_number_is_stored_in_its_canonical_form(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"),
                     address={"street_id": streets("Hauptstraße"), "house_number": " 12 B "})
    run(store, "anmeldung", form)
    assert one(store, "SELECT house_number FROM residences")["house_number"] == "12b"


def test_invalid_names_are_named_with_field_and_position(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(),
                     new_person(family_name="Mül©ler", first_names="Ben\tJakob",
                                everyday_name="Paul"))
    errors = errors_of(store, "anmeldung", form)
    assert errors["persons.1.family_name"] == (
        "Zeichen „©“ (U+00A9) an Position 4 ist in Namen nicht zulässig.")
    assert "Position 4" in errors["persons.1.first_names"]
    assert "persons.0.family_name" not in errors


def test_everyday_name_must_be_one_of_the_first_names(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(everyday_name="Marie"))
    assert errors_of(store, "anmeldung", form)["persons.0.everyday_name"] == (
        "Der Rufname muss einer der Vornamen sein.")


@pytest.mark.parametrize(("changes", "key"), [
    ({"birth_date": iso(-1)}, "persons.0.birth_date"),
    ({"birth_date": "1899-12-31"}, "persons.0.birth_date"),
    ({"birth_date": "31.02.1990"}, "persons.0.birth_date"),
    ({"birth_date": iso(1)}, "persons.0.birth_date"),  # born after moving in (3 days ago)
    ({"sex": "f"}, "persons.0.sex"),
    ({"nationalities": ["GER"]}, "persons.0.nationalities"),
    ({"nationalities": []}, "persons.0.nationalities"),
    ({"birth_country": "Schweiz"}, "persons.0.birth_country"),
    ({"religion": "kath"}, "persons.0.religion"),
    ({"marital_date": "1980-01-01"}, "persons.0.marital_date"),
    ({"id_document": {"doc_type": "PA", "number": "123"}}, "persons.0.id_document.number"),
    ({"family_name": "  "}, "persons.0.family_name"),
])
def test_implausible_person_data_is_refused(store: Store, streets: Callable[[str], int],
                                            changes: dict[str, Any], key: str) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(**changes))
    assert key in errors_of(store, "anmeldung", form)


@pytest.mark.parametrize(("changes", "key", "message"), [
    # A date written right that does not exist is no format error.
    ({"birth_date": "31.02.2020"}, "persons.0.birth_date",
     "Diesen Tag gibt es nicht (31.02.2020)."),
    ({"birth_date": "2020-02-30"}, "persons.0.birth_date",
     "Diesen Tag gibt es nicht (2020-02-30)."),
    ({"birth_date": "31/02/2020"}, "persons.0.birth_date", "Kein gültiges Datum (TT.MM.JJJJ)."),
    # Born in the future is the mistake, not "born after moving in" (3 days ago).
    ({"birth_date": iso(-30)}, "persons.0.birth_date", "Das Geburtsdatum liegt in der Zukunft."),
    ({"birth_date": iso(1)}, "persons.0.birth_date", "Geburtsdatum liegt nach dem Einzugsdatum."),
    # Far too long is refused with the limit named, never cut and accepted.
    ({"family_name": "A" * 5000}, "persons.0.family_name",
     "Zu lang: 5000 Zeichen, höchstens 200 Zeichen möglich."),
    ({"birth_place": "B" * 201}, "persons.0.birth_place",
     "Zu lang: 201 Zeichen, höchstens 200 Zeichen möglich."),
])
def test_person_data_problems_say_what_is_wrong(store: Store, streets: Callable[[str], int],
                                                changes: dict[str, Any], key: str,
                                                message: str) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(**changes))
    assert errors_of(store, "anmeldung", form)[key] == message


def test_all_problems_are_reported_at_once(store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(family_name="X©"), move_in=iso(-2),
                     address={"street_id": streets("Hauptstraße"), "house_number": "999"},
                     kind="zweit", previous_address=None, landlord=None)
    assert set(errors_of(store, "anmeldung", form)) == {
        "persons.0.family_name", "move_in", "address.house_number", "kind",
        "previous_address", "landlord"}


def test_landlord_confirmation_is_required_and_recorded(
        store: Store, streets: Callable[[str], int]) -> None:
    street = streets("Hauptstraße")
    assert errors_of(store, "anmeldung", anmeldung(street, landlord=landlord(presented=False)))[
        "landlord.presented"].startswith("Die Wohnungsgeberbestätigung (§ 19 BMG)")
    errors = errors_of(store, "anmeldung", anmeldung(street, landlord={"presented": True}))
    assert {"landlord.landlord_name", "landlord.landlord_address"} <= set(errors)
    mismatch = landlord(move_in=iso(5))
    assert "landlord.move_in" in errors_of(store, "anmeldung", anmeldung(street,
                                                                         landlord=mismatch))
    own = {"presented": True, "self_declaration": True}
    run(store, "anmeldung", anmeldung(street, landlord=own))
    recorded = json.loads(one(store, "SELECT landlord FROM registrations")["landlord"])
    assert recorded["self_declaration"] is True
    assert recorded["persons"] == ["Anna Maria Müller"]
    assert recorded["dwelling"] == "Hauptstraße 12, 79539 Lörrach"


def test_previous_address_from_abroad_keeps_the_country(
        store: Store, streets: Callable[[str], int]) -> None:
    previous = {"address": "Rue du Rhône 5, 1204 Genève", "country": "CHE",
                "last_domestic_address": "Musterweg 1, 10115 Berlin"}
    run(store, "anmeldung", anmeldung(streets("Hauptstraße"), previous_address=previous))
    assert one(store, "SELECT previous_address FROM residences")["previous_address"] == (
        "Rue du Rhône 5, 1204 Genève, Schweiz (letzte Anschrift im Inland: Musterweg 1, "
        "10115 Berlin)")


# --- likely duplicates -----------------------------------------------------------------------

def test_likely_duplicates_match_search_form_birth_date_and_a_first_name(store: Store) -> None:
    anna = add_person(store, "Müller", "Anna Maria", "1990-05-01")
    add_person(store, "Müller", "Bernd", "1990-05-01")
    add_person(store, "Müller", "Anna", "1990-05-02")
    hits = likely_duplicates(store, "Mueller", "Anna", date(1990, 5, 1), today=TODAY)
    assert [h.id for h in hits] == [anna]
    assert hits[0].address == "Hauptstraße 12, 79539 Lörrach"
    assert likely_duplicates(store, "Müller", "Clara", date(1990, 5, 1)) == []


def test_new_person_that_is_a_likely_duplicate_needs_the_clerks_check(
        store: Store, streets: Callable[[str], int]) -> None:
    add_person(store, "Müller", "Maria", "1990-05-01")
    form = anmeldung(streets("Hauptstraße"), new_person(family_name="Mueller"))
    message = errors_of(store, "anmeldung", form)["persons.0.duplicate_checked"]
    assert "Müller, Maria, geb. 01.05.1990" in message
    assert count(store, "persons") == 1
    checked = anmeldung(streets("Hauptstraße"),
                        new_person(family_name="Mueller", duplicate_checked=True))
    run(store, "anmeldung", checked)
    assert count(store, "persons") == 2


# --- households and existing persons ---------------------------------------------------------

def test_persons_moving_in_together_share_one_household_and_one_registration(
        store: Store, streets: Callable[[str], int]) -> None:
    child = new_person(first_names="Ben", everyday_name=None, birth_date="2018-03-04",
                       doctorate=None, birth_name=None, marital_status="LD", marital_date=None,
                       marital_place=None, id_document=None,
                       relations=[{"kind": "elternteil", "person": 0},
                                  {"kind": "vertreter", "person": 0}])
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(), child))
    assert len(result.changed_persons) == 2
    assert len(store.query("SELECT DISTINCT household_id FROM persons")) == 1
    assert count(store, "households") == 1 and count(store, "registrations") == 1
    assert len(json.loads(one(store, "SELECT persons FROM registrations")["persons"])) == 2
    assert len(result.documents) == 1
    assert [v for label, v in result.documents[0].fields if label == "Vornamen"] == [
        "Anna *Maria*", "*Ben*"]


def test_existing_person_moving_back_gets_a_new_dwelling_and_keeps_history(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = add_person(store, "Schmidt", "Mia", "1980-01-01")
    with store.transaction() as db:
        db.execute("UPDATE residences SET move_out = '2020-01-01' WHERE person_id = ?", (pid,))
    result = run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid},
                                               kind="haupt"))
    record = load_person(store, pid)
    assert record.version == 2 and record.household_id
    assert [(r.address.street, r.kind, r.move_out) for r in record.residences] == [
        ("Palmstraße", "haupt", None), ("Hauptstraße", "haupt", date(2020, 1, 1))]
    assert result.changed_persons == (pid,)


def test_existing_persons_current_main_dwelling_ends_on_the_move_date(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = add_person(store, "Schmidt", "Mia", "1980-01-01")
    old = one(store, "SELECT id FROM residences WHERE person_id = ?", (pid,))["id"]
    command = str(uuid.uuid4())
    run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid}), command)
    closed = one(store, "SELECT move_out, version FROM residences WHERE id = ?", (old,))
    assert closed == {"move_out": iso(3), "version": 2}
    outbox = one(store, "SELECT base_versions FROM outbox WHERE command_id = ?", (command,))
    assert json.loads(outbox["base_versions"]) == {f"persons/{pid}": 1,
                                                   f"residences/{old}": 1}


def test_secondary_dwelling_turns_a_sole_dwelling_into_the_main_one(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"))))
    run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid}, kind="neben"))
    kinds = {(r.address.street, r.kind) for r in load_person(store, pid).current_residences}
    assert kinds == {("Hauptstraße", "haupt"), ("Palmstraße", "neben")}


def test_sole_dwelling_is_refused_while_a_secondary_one_remains(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             kind="haupt")))
    run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid}, kind="neben"))
    form = anmeldung(streets("Turmstraße"), {"person_id": pid}, kind="alleinig")
    assert "Nebenwohnung" in errors_of(store, "anmeldung", form)["kind"]


def test_unknown_or_repeated_person_id_is_a_field_error(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = add_person(store, "Schmidt", "Mia", "1980-01-01")
    form = anmeldung(streets("Palmstraße"), {"person_id": str(uuid.uuid4())},
                     {"person_id": pid}, {"person_id": pid})
    errors = errors_of(store, "anmeldung", form)
    assert set(errors) == {"persons.0.person_id", "persons.2.person_id"}


# --- Ummeldung -------------------------------------------------------------------------------

def ummeldung(street_id: int, *person_ids: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "persons": [{"person_id": p} for p in person_ids],
        "address": {"street_id": street_id, "house_number": "7"},
        "kind": "alleinig", "move_in": iso(1), "landlord": landlord(),
    }
    form.update(changes)
    return form


def test_ummeldung_keeps_history_and_search_follows_the_new_address(
        store: Store, streets: Callable[[str], int]) -> None:
    first = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), move_in=iso(100)))
    pid = registered(store, first)
    command = str(uuid.uuid4())
    result = run(store, "ummeldung", ummeldung(streets("Palmstraße"), pid), command)
    record = load_person(store, pid)
    assert [(r.address.one_line(), r.move_in, r.move_out, r.previous_address)
            for r in record.residences] == [
        ("Palmstraße 7, 79539 Lörrach", TODAY - timedelta(days=1), None,
         "Hauptstraße 12, 79539 Lörrach"),
        ("Hauptstraße 12, 79539 Lörrach", TODAY - timedelta(days=100),
         TODAY - timedelta(days=1), "Musterweg 1, 10115 Berlin")]
    assert record.version == 2
    assert [h.id for h in search(store, "palmstr 7", today=TODAY)] == [pid]
    assert search(store, "hauptstr 12", today=TODAY) == []
    assert result.documents[0].title == "Amtliche Meldebestätigung – Ummeldung"
    base = json.loads(one(store, "SELECT base_versions FROM outbox WHERE command_id = ?",
                          (command,))["base_versions"])
    assert base[f"persons/{pid}"] == 1 and len(base) == 2


def test_late_ummeldung_is_flagged(store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             move_in=iso(100))))
    result = run(store, "ummeldung", ummeldung(streets("Palmstraße"), pid, move_in=iso(20)))
    assert result.notices == ("Verspätete Ummeldung (Umzug vor 20 Tagen, Frist 2 Wochen, "
                              "§ 17 Abs. 1 BMG) – vermerkt.",)
    assert one(store, "SELECT late FROM registrations WHERE kind = 'ummeldung'") == {"late": 1}


def test_ummeldung_refusals(store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             move_in=iso(100))))
    same = ummeldung(streets("Hauptstraße"), pid,
                     address={"street_id": streets("Hauptstraße"), "house_number": "12"})
    assert errors_of(store, "ummeldung", same)["address"] == (
        "Die neue Anschrift ist die bisherige Anschrift.")
    assert "persons.0.person_id" in errors_of(store, "ummeldung",
                                              ummeldung(streets("Palmstraße"), pid,
                                                        kind="neben"))
    before_old = ummeldung(streets("Palmstraße"), pid, move_in=iso(101))
    assert "move_in" in errors_of(store, "ummeldung", before_old)
    assert "landlord" in errors_of(store, "ummeldung", ummeldung(streets("Palmstraße"), pid,
                                                                 landlord=None))
    future = ummeldung(streets("Palmstraße"), pid, move_in=iso(-1))
    assert errors_of(store, "ummeldung", future)["move_in"].startswith(
        "Einzugsdatum liegt nach heute")


def test_household_moving_together_keeps_it_a_member_moving_alone_gets_a_new_one(
        store: Store, streets: Callable[[str], int]) -> None:
    child = new_person(first_names="Ben", everyday_name=None, birth_date="2000-03-04",
                       doctorate=None, birth_name=None, marital_status="LD", marital_date=None,
                       marital_place=None, id_document=None)
    family = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(), child,
                                               move_in=iso(100)))
    mother, son = family.changed_persons
    household = load_person(store, mother).household_id
    run(store, "ummeldung", ummeldung(streets("Palmstraße"), mother, son, move_in=iso(50)))
    assert {load_person(store, p).household_id for p in (mother, son)} == {household}
    run(store, "ummeldung", ummeldung(streets("Turmstraße"), son))
    assert load_person(store, son).household_id not in (None, household)
    assert load_person(store, mother).household_id == household


# --- Abmeldung -------------------------------------------------------------------------------

def abmeldung(*person_ids: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"persons": [{"person_id": p} for p in person_ids],
                            "reason": "ausland", "move_out": iso(0), "country": "CHE",
                            "foreign_address": "Rue du Rhône 5, 1204 Genève"}
    form.update(changes)
    return form


def test_abmeldung_abroad_ends_all_dwellings_and_keeps_the_foreign_address(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             kind="haupt", move_in=iso(100))))
    run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid}, kind="neben",
                                      move_in=iso(90)))
    result = run(store, "abmeldung", abmeldung(pid, move_out=iso(-7)))
    record = load_person(store, pid)
    assert record.current_residences == ()
    foreign = [r for r in record.residences if r.address.country != "DEU"]
    assert [(r.address.one_line(), r.move_in, r.move_out, r.previous_address)
            for r in foreign] == [("Rue du Rhône 5, 1204 Genève, CHE", TODAY + timedelta(7),
                                   TODAY + timedelta(7), "Hauptstraße 12, 79539 Lörrach")]
    assert {r.move_out for r in record.residences} == {TODAY + timedelta(7)}
    assert search(store, "hauptstr", today=TODAY) == []
    assert [h.id for h in search(store, "müller anna", today=TODAY)] == [pid]
    assert [v for label, v in result.documents[0].fields if label == "Wohnungsstatus"] == [
        "Hauptwohnung", "Nebenwohnung"]
    assert one(store, "SELECT kind, landlord FROM registrations WHERE kind = 'abmeldung'") == {
        "kind": "abmeldung", "landlord": None}


@pytest.mark.parametrize(("days_ahead", "refused"), [(7, False), (8, True)])
def test_abmeldung_at_most_one_week_ahead(store: Store, streets: Callable[[str], int],
                                          days_ahead: int, refused: bool) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"))))
    form = abmeldung(pid, move_out=iso(-days_ahead))
    if refused:
        assert "frühestens eine Woche" in errors_of(store, "abmeldung", form)["move_out"]
    else:
        run(store, "abmeldung", form)
        assert count(store, "registrations") == 2


@pytest.mark.parametrize(("days_ago", "late"), [(14, False), (15, True)])
def test_abmeldung_deadline_is_two_weeks_after_moving_out(
        store: Store, streets: Callable[[str], int], days_ago: int, late: bool) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             move_in=iso(100))))
    result = run(store, "abmeldung", abmeldung(pid, move_out=iso(days_ago)))
    assert one(store, "SELECT late FROM registrations WHERE kind = 'abmeldung'")["late"] == late
    if late:
        assert result.notices == (f"Verspätete Abmeldung (Auszug vor {days_ago} Tagen, Frist "
                                  "2 Wochen, § 17 Abs. 2 BMG) – vermerkt.",)


def test_abmeldung_of_a_secondary_dwelling_keeps_the_main_one(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"),
                                                             kind="haupt", move_in=iso(100))))
    run(store, "anmeldung", anmeldung(streets("Palmstraße"), {"person_id": pid}, kind="neben",
                                      move_in=iso(90)))
    run(store, "abmeldung", abmeldung(pid, reason="nebenwohnung", country=None,
                                      foreign_address=None))
    current = load_person(store, pid).current_residences
    assert [(r.address.street, r.kind) for r in current] == [("Hauptstraße", "haupt")]
    assert [h.id for h in search(store, "hauptstr 12", today=TODAY)] == [pid]
    assert search(store, "palmstr", today=TODAY) == []


def test_abmeldung_refusals(store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"))))
    assert errors_of(store, "abmeldung", abmeldung(pid, reason="inland"))["reason"] == (
        DOMESTIC_MOVE_REFUSED)
    assert errors_of(store, "abmeldung", abmeldung(pid, country="DEU"))["country"] == (
        DOMESTIC_MOVE_REFUSED)
    no_secondary = abmeldung(pid, reason="nebenwohnung")
    errors = errors_of(store, "abmeldung", no_secondary)
    assert "keine Nebenwohnung" in errors["persons.0.person_id"]
    assert {"foreign_address"} == set(errors_of(store, "abmeldung",
                                                abmeldung(pid, foreign_address=" ")))
    run(store, "abmeldung", abmeldung(pid))
    again = errors_of(store, "abmeldung", abmeldung(pid))
    assert "nicht (mehr) gemeldet" in again["persons.0.person_id"]


# --- the Meldebestätigung --------------------------------------------------------------------

def test_meldebestaetigung_shows_exactly_the_allowed_fields(
        store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße")))
    doc = result.documents[0]
    assert labels(result) == [label for label in MELDEBESTAETIGUNG_FIELDS
                              if label != "Auszugsdatum"]
    values = dict(doc.fields)
    assert values == {
        "Familienname": "Müller", "Vornamen": "Anna *Maria*", "Doktorgrad": "Dr.",
        "Geburtsdatum": "01.05.1990", "Einzugsdatum": rules.format_date(TODAY - timedelta(3)),
        "Datum der Meldung": "12.11.2026", "Anschrift": "Hauptstraße 12, 79539 Lörrach",
        "Wohnungsstatus": "alleinige Wohnung"}
    stored = one(store, "SELECT * FROM documents")
    assert (stored["number"], stored["type"], stored["person_id"]) == (
        doc.number, "meldebestaetigung", registered(store, result))
    assert re.fullmatch(r"MBT-SCHALTER3-2026-\d{6}", doc.number)
    assert json.loads(stored["content"])["fields"] == [list(f) for f in doc.fields]


def test_abmeldung_confirmation_has_the_move_out_date_and_nothing_else(
        store: Store, streets: Callable[[str], int]) -> None:
    pid = registered(store, run(store, "anmeldung", anmeldung(streets("Hauptstraße"))))
    result = run(store, "abmeldung", abmeldung(pid))
    assert set(labels(result)) == set(MELDEBESTAETIGUNG_FIELDS) - {"Einzugsdatum"}
    assert dict(result.documents[0].fields)["Auszugsdatum"] == "12.11.2026"


def test_meldebestaetigung_leaks_no_other_register_data(
        store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße")))
    text = json.dumps(result.documents[0].fields, ensure_ascii=False)
    for secret in ("Basel", "CHE", "DEU", "rk", "Schulz", "L01X00T47", "Berlin", "Wohnbau",
                   "VH", "2015"):
        assert secret not in text
    for label, value in result.documents[0].fields:
        if "datum" in label.lower() and value:
            assert GERMAN_DATE.fullmatch(value)


def test_mark_everyday_name() -> None:
    assert mark_everyday_name("Anna Maria", "Maria") == "Anna *Maria*"
    assert mark_everyday_name("Anna Maria", None) == "Anna Maria"
    assert mark_everyday_name("Anna Anna", "Anna") == "*Anna* Anna"


# --- one command, all or nothing -------------------------------------------------------------

def test_double_submit_creates_one_person_and_one_registration(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"))
    first = run(store, "anmeldung", form, "cmd-1")
    second = run(store, "anmeldung", form, "cmd-1")
    assert second.replayed and second.documents == first.documents
    assert second.changed_persons == first.changed_persons
    assert (count(store, "persons"), count(store, "registrations"), count(store, "documents"),
            count(store, "outbox")) == (1, 1, 1, 1)
    assert one(store, "SELECT value FROM counters")["value"] == 1


def test_failing_service_leaves_nothing_behind(store: Store, streets: Callable[[str], int],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(registration, "reindex_person", broken)
    with pytest.raises(RuntimeError):
        run(store, "anmeldung", anmeldung(streets("Hauptstraße")))
    for table in ("persons", "residences", "households", "registrations", "documents",
                  "outbox", "counters", "audit_log", "id_documents", "former_names"):
        assert count(store, table) == 0, table


def test_refused_form_leaves_nothing_behind(store: Store, streets: Callable[[str], int]) -> None:
    errors_of(store, "anmeldung", anmeldung(streets("Hauptstraße"), move_in=iso(-1)))
    for table in ("persons", "outbox", "counters", "audit_log"):
        assert count(store, table) == 0, table


def test_outbox_row_and_audit_entries(store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße")), "cmd-2")
    pid = registered(store, result)
    row = one(store, "SELECT * FROM outbox")
    payload = json.loads(row["payload"])
    assert (row["type"], row["status"], json.loads(row["base_versions"])) == (
        "anmeldung", "pending", {})
    assert payload["persons"][0]["person_id"] == pid
    assert payload["document"]["number"] == result.documents[0].number
    entries = audit.entries_for(store, pid)
    assert [(e["action"], e["purpose"]) for e in entries] == [("create", "Anmeldung")]
    run(store, "ummeldung", ummeldung(streets("Palmstraße"), pid))
    latest = audit.entries_for(store, pid)[0]
    assert (latest["action"], latest["purpose"]) == ("update", "Ummeldung")


def test_the_payload_applies_to_the_same_effect_elsewhere(
        store: Store, streets: Callable[[str], int], tmp_path: Path) -> None:
    """The central service re-applies the payload: same rows, no new ids or numbers."""
    run(store, "anmeldung", anmeldung(streets("Hauptstraße")), "cmd-3")
    payload = json.loads(one(store, "SELECT payload FROM outbox")["payload"])
    with open_store(tmp_path / "central.db", new_key(), Actor("zentral", "Server", COUNTER_ROLES),
                    create=True) as central:
        load_streets(central)
        moment = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
        with central.transaction():
            Anmeldung().apply(ServiceContext(central, "cmd-3", moment, TODAY), payload)
            central.conn.execute("INSERT INTO outbox (command_id, type, payload, device, clerk, "
                                 "created_at) VALUES ('cmd-3', 'anmeldung', '{}', 'S', 'z', 'x')")
        for table, columns in (("persons", "id, family_name, first_names, household_id, "
                                           "nationalities, family_sf, version"),
                               ("residences", "id, person_id, street, house_number, move_in"),
                               ("registrations", "id, kind, move_date, late, persons"),
                               ("documents", "number, content")):
            sql = f"SELECT {columns} FROM {table} ORDER BY 1"
            assert central.query(sql) == store.query(sql), table
        assert count(central, "counters") == 0


# --- the date rules, over many dates ---------------------------------------------------------

days = st.integers(min_value=-400, max_value=400)


@given(days)
def test_late_exactly_when_more_than_two_weeks_ago(offset: int) -> None:
    moved = TODAY - timedelta(days=offset)
    assert rules.is_late(moved, TODAY) is (offset > 14)
    notice = rules.late_notice("anmeldung", moved, TODAY)
    assert (notice is not None) is (offset > 14)
    if notice:
        assert f"vor {offset} Tagen" in notice


@given(days)
def test_move_in_never_in_the_future_move_out_at_most_a_week_ahead(offset: int) -> None:
    day = TODAY + timedelta(days=offset)
    assert (rules.move_in_problem(day, TODAY) is None) is (offset <= 0)
    assert (rules.move_out_problem(day, TODAY) is None) is (offset <= 7)


@given(st.dates(min_value=date(1, 1, 1)))
def test_dates_round_trip_through_both_form_spellings(day: date) -> None:
    assert rules.parse_date_text(day.isoformat()) == day
    if day.year >= 1000:
        assert rules.parse_date_text(rules.format_date(day)) == day


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=40))
def test_service_records_lateness_as_the_rule_says(store: Store, streets: Callable[[str], int],
                                                   offset: int) -> None:
    name = f"Probe{chr(ord('a') + offset % 26)}"  # distinct persons, no duplicate refusal
    person = new_person(family_name=name, birth_date=f"19{50 + offset}-01-01",
                        duplicate_checked=True)  # hypothesis may repeat an offset
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), person,
                                               move_in=iso(offset)))
    late = one(store, "SELECT late FROM registrations r JOIN outbox o USING (command_id) "
                      "WHERE o.command_id = ?", (result.command_id,))["late"]
    assert bool(late) is (offset > 14)


def test_country_codes_are_iso_alpha3() -> None:
    assert country_name_de("CHE") == "Schweiz"
    assert country_name_de("DDR") is None and country_name_de("CH") is None
