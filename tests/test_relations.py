"""Relations in the register (§ 3 (1) Nr. 9, 15-17 BMG) and the warnings about minors, on a real
encrypted register through `run_service`, as the UI runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from clerk_app.person_record import load_person
from clerk_app.relations import ACKNOWLEDGE_MINORS, age_on, is_minor
from clerk_app.store.db import Store
from tests import test_registration
from tests.factories import add_person, count
from tests.test_registration import (
    TODAY,
    anmeldung,
    errors_of,
    iso,
    landlord,
    new_person,
    run,
)

streets = test_registration.streets   # the street directory's fixture, shared


def child(first: str = "Mia", born: str = "2023-04-03", **changes: Any) -> dict[str, Any]:
    return new_person(first_names=first, everyday_name=None, birth_date=born, doctorate=None,
                      birth_name=None, marital_status="LD", marital_date=None,
                      marital_place=None, id_document=None, **changes)


def spouse() -> dict[str, Any]:
    return new_person(first_names="Jonas", everyday_name=None, sex="m", birth_name=None,
                      doctorate=None, birth_date="1988-02-02",
                      id_document={"doc_type": "PA", "number": "L01X00T48"},
                      relations=[{"kind": "ehegatte", "person": 0}])


def as_child_of(*parents: int) -> list[dict[str, Any]]:
    return [*({"kind": "elternteil", "person": p} for p in parents),
            *({"kind": "vertreter", "person": p} for p in parents)]


def kinds(store: Store, person_id: str) -> list[tuple[str, str]]:
    return sorted((r.kind, r.display_name) for r in load_person(store, person_id).relations)


def family(store: Store, streets: Callable[[str], int]) -> tuple[str, str, str]:
    """Mother, father and a 3-year-old registered together; their ids."""
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(), spouse(),
                                               child(relations=as_child_of(0, 1))))
    mother, father, mia = result.changed_persons
    return mother, father, mia


# --- age -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("born", "day", "years"), [
    (date(2008, 11, 12), date(2026, 11, 12), 18), (date(2008, 11, 13), date(2026, 11, 12), 17),
    (date(2008, 2, 29), date(2026, 2, 28), 17), (date(2008, 2, 29), date(2026, 3, 1), 18)])
def test_age_counts_completed_years(born: date, day: date, years: int) -> None:
    assert age_on(born, day) == years
    assert is_minor(born, day) == (years < 18)


def test_an_unknown_birth_date_is_not_a_minor() -> None:
    assert not is_minor(None, TODAY)


# --- the family Anmeldung ----------------------------------------------------------------------

def test_a_family_registers_with_its_relations_on_both_sides(
        store: Store, streets: Callable[[str], int]) -> None:
    mother, father, mia = family(store, streets)
    assert kinds(store, mother) == [("ehegatte", "Müller, Jonas"), ("kind", "Müller, Mia"),
                                    ("vertreten", "Müller, Mia")]
    assert kinds(store, father) == [("ehegatte", "Dr. Müller, Anna Maria"),
                                    ("kind", "Müller, Mia"), ("vertreten", "Müller, Mia")]
    assert kinds(store, mia) == [("elternteil", "Dr. Müller, Anna Maria"),
                                 ("elternteil", "Müller, Jonas"),
                                 ("vertreter", "Dr. Müller, Anna Maria"),
                                 ("vertreter", "Müller, Jonas")]
    assert count(store, "relations") == 10


def test_a_minor_without_a_legal_representative_needs_the_clerks_acknowledgement(
        store: Store, streets: Callable[[str], int]) -> None:
    form = anmeldung(streets("Hauptstraße"), new_person(), child())
    errors = errors_of(store, "anmeldung", form)
    assert list(errors) == [ACKNOWLEDGE_MINORS]
    assert "Für Mia Müller (minderjährig) ist kein gesetzlicher Vertreter angegeben" in \
        errors[ACKNOWLEDGE_MINORS]
    assert count(store, "persons") == 0
    result = run(store, "anmeldung", {**form, ACKNOWLEDGE_MINORS: True})
    assert len(result.changed_persons) == 2


def test_a_legal_representative_must_be_of_age(store: Store,
                                                streets: Callable[[str], int]) -> None:
    errors = errors_of(store, "anmeldung", anmeldung(
        streets("Hauptstraße"), child("Lea", "2012-01-01"),
        child(relations=[{"kind": "vertreter", "person": 0}]), **{ACKNOWLEDGE_MINORS: True}))
    assert errors == {"persons.1.relations.0.kind":
                      "Ein gesetzlicher Vertreter muss volljährig sein."}


def test_an_empty_list_of_relations_is_none(store: Store,
                                            streets: Callable[[str], int]) -> None:
    run(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(relations=[])))
    assert count(store, "relations") == 0


@pytest.mark.parametrize(("relation", "problem"), [
    ({"kind": "ehegatte", "person": 1}, "persons.1.relations.0.person"),
    ({"kind": "ehegatte", "person": "x"}, "persons.1.relations.0.person"),
    ({"kind": "onkel", "person": 0}, "persons.1.relations.0.kind"),
    ({"kind": "ehegatte", "person_id": "00000000-0000-0000-0000-000000000000"},
     "persons.1.relations.0.person_id")])
def test_a_wrong_relation_is_refused_at_its_field(
        store: Store, streets: Callable[[str], int], relation: dict[str, Any],
        problem: str) -> None:
    person = {**spouse(), "relations": [relation]}
    errors = errors_of(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(),
                                                     person))
    assert list(errors) == [problem]


def test_a_representative_already_in_the_register_gains_the_relation(
        store: Store, streets: Callable[[str], int]) -> None:
    """The father stays where he lives; his record gets the child, versioned and audited."""
    father = add_person(store, "Keller", "Tom", "1985-05-05")
    result = run(store, "anmeldung", anmeldung(
        streets("Hauptstraße"), new_person(),
        child(relations=[{"kind": "elternteil", "person_id": father},
                         {"kind": "vertreter", "person_id": father},
                         {"kind": "vertreter", "person": 0}])))
    assert father in result.changed_persons
    record = load_person(store, father)
    assert record.version == 2 and len(record.current_residences) == 1
    assert sorted(r.kind for r in record.relations) == ["kind", "vertreten"]


# --- moves keep relations; only the persons named move; warnings -----------------------------

def test_relations_are_kept_through_a_move_and_a_move_abroad(
        store: Store, streets: Callable[[str], int]) -> None:
    mother, father, mia = family(store, streets)
    run(store, "ummeldung", {"persons": [{"person_id": p} for p in (mother, father, mia)],
                             "address": {"street_id": streets("Palmstraße"),
                                         "house_number": "3"},
                             "kind": "alleinig", "move_in": iso(1), "landlord": landlord()})
    run(store, "abmeldung", {"persons": [{"person_id": p} for p in (mother, father, mia)],
                             "reason": "ausland", "move_out": iso(0), "country": "CHE",
                             "foreign_address": "Bahnhofstrasse 1, 8001 Zürich"})
    assert len(kinds(store, mia)) == 4 and len(kinds(store, mother)) == 3


def test_moving_the_parents_away_from_their_child_warns(
        store: Store, streets: Callable[[str], int]) -> None:
    mother, father, _ = family(store, streets)
    form = {"persons": [{"person_id": mother}, {"person_id": father}],
            "address": {"street_id": streets("Palmstraße"), "house_number": "3"},
            "kind": "alleinig", "move_in": iso(1), "landlord": landlord()}
    errors = errors_of(store, "ummeldung", form)
    assert errors == {ACKNOWLEDGE_MINORS: (
        "Müller, Mia (minderjährig) bliebe ohne Erwachsenen der Familie in der Wohnung "
        "Hauptstraße 12, 79539 Lörrach. Bitte prüfen und den Hinweis bestätigen.")}
    run(store, "ummeldung", {**form, ACKNOWLEDGE_MINORS: True})
    assert load_person(store, mother).current_residences[0].address.street == "Palmstraße"


def test_one_parent_moving_while_the_other_stays_with_the_child_does_not_warn(
        store: Store, streets: Callable[[str], int]) -> None:
    mother, _, _ = family(store, streets)
    run(store, "ummeldung", {"persons": [{"person_id": mother}],
                             "address": {"street_id": streets("Palmstraße"),
                                         "house_number": "3"},
                             "kind": "alleinig", "move_in": iso(1), "landlord": landlord()})


def test_a_minor_moving_without_a_representative_warns(
        store: Store, streets: Callable[[str], int]) -> None:
    _, _, mia = family(store, streets)
    errors = errors_of(store, "abmeldung", {
        "persons": [{"person_id": mia}], "reason": "ausland", "move_out": iso(0),
        "country": "CHE", "foreign_address": "Bahnhofstrasse 1, 8001 Zürich"})
    assert errors[ACKNOWLEDGE_MINORS].startswith(
        "Mia Müller ist minderjährig und zieht ohne einen gesetzlichen Vertreter um.")


def test_a_household_without_recorded_relations_warns_for_the_child_left_alone(
        store: Store, streets: Callable[[str], int]) -> None:
    """Register data from before relations: the household tells who lives together."""
    form = anmeldung(streets("Hauptstraße"), new_person(), child(), **{ACKNOWLEDGE_MINORS: True})
    mother, mia = run(store, "anmeldung", form).changed_persons
    with store.transaction() as db:
        db.execute("DELETE FROM relations")
    errors = errors_of(store, "ummeldung", {
        "persons": [{"person_id": mother}],
        "address": {"street_id": streets("Palmstraße"), "house_number": "3"},
        "kind": "alleinig", "move_in": iso(1), "landlord": landlord()})
    assert "Müller, Mia (minderjährig) bliebe ohne Erwachsenen" in errors[ACKNOWLEDGE_MINORS]
    assert load_person(store, mia).current_residences[0].address.street == "Hauptstraße"


def test_a_grown_child_is_no_minor(store: Store, streets: Callable[[str], int]) -> None:
    result = run(store, "anmeldung", anmeldung(streets("Hauptstraße"), new_person(),
                                               child("Tim", "2005-01-01")))
    _, tim = result.changed_persons
    run(store, "abmeldung", {"persons": [{"person_id": tim}], "reason": "ausland",
                             "move_out": iso(0), "country": "CHE",
                             "foreign_address": "Bahnhofstrasse 1, 8001 Zürich"})
