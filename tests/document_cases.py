"""One issued document of every type, through the real services on a real encrypted register.

Persons with diacritics from `factories.add_person` (Łukasz Wróbel, Nguyễn Thị Minh Khai,
Ingrid Ødegård), the street directory loaded as the registration tests do; the Ummeldung of
Wróbel and Nguyễn gives a Meldebestätigung of two persons, the everyday name marked. Issued
on `factories.TODAY` (the day after it is REPRINT_DAY).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clerk_app.config import Config
from clerk_app.services.base import ServiceResult
from clerk_app.store.db import Store
from clerk_app.streets import find_streets
from tests.factories import add_person, issue, load_streets, make_cfg

REPRINT_DAY = date(2026, 11, 26)
CASH = {"method": "bar", "given_cents": 2000}


@dataclass(frozen=True)
class Issued:
    """Numbers of the documents issued, and the persons they are about."""

    numbers: dict[str, str]
    wrobel: str
    nguyen: str
    odegard: str


def config(tmp_path: Path) -> Config:
    """A demo configuration whose register is the test's `store` (same file)."""
    return make_cfg(tmp_path / "data")


def number_of(result: ServiceResult, doc_type: str) -> str:
    (number,) = [d.number for d in result.documents if d.type == doc_type]
    return number


def issue_all(store: Store) -> Issued:
    """Issue every document type once (the sums of the daily closing follow from these)."""
    load_streets(store)
    wrobel = add_person(store, "Wróbel", "Łukasz Tomasz", "1984-02-29")
    nguyen = add_person(store, "Nguyễn", "Thị Minh Khai", "1987-10-03")
    odegard = add_person(store, "Ødegård", "Ingrid Sofie", "1959-12-01", street="Basler Straße",
                         number="20")
    with store.transaction() as db:
        db.execute("UPDATE persons SET everyday_name = 'Tomasz', doctorate = 'Dr.' "
                   "WHERE id = ?", (wrobel,))
        db.execute("UPDATE persons SET birth_place = 'Tromsø', birth_country = 'NOR' "
                   "WHERE id = ?", (odegard,))
    street = next(s for s in find_streets(store, "Turmstraße") if s.name == "Turmstraße")
    numbers: dict[str, str] = {}
    moved = issue(store, "ummeldung", {
        "persons": [{"person_id": wrobel}, {"person_id": nguyen}],
        "address": {"street_id": street.id, "house_number": "5"}, "kind": "haupt",
        "move_in": "2026-11-22",
        "landlord": {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
                     "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}})
    numbers["meldebestaetigung"] = number_of(moved, "meldebestaetigung")
    simple = issue(store, "meldebescheinigung", {"person_id": wrobel, "variant": "einfach",
                                               "payment": CASH})
    numbers["meldebescheinigung_einfach"] = number_of(simple, "meldebescheinigung_einfach")
    numbers["quittung"] = number_of(simple, "quittung")
    extended = issue(store, "meldebescheinigung", {
        "person_id": nguyen, "variant": "erweitert", "purpose": "Vorlage beim Konsulat",
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}})
    numbers["meldebescheinigung_erweitert"] = number_of(extended, "meldebescheinigung_erweitert")
    life = issue(store, "lebensbescheinigung", {
        "person_id": odegard, "institution": "Statens pensjonskasse, Norwegen",
        "id_document_checked": True})
    numbers["lebensbescheinigung"] = number_of(life, "lebensbescheinigung")
    request = issue(store, "personenstandsurkunde_antrag", {
        "person_id": odegard, "certificate": "geburt",
        "subject": {"names": "Ingrid Sofie Ødegård", "date": "01.12.1959", "place": "Tromsø"},
        "entitlement": {"basis": "selbst"}, "id_document_checked": True, "payment": CASH})
    numbers["personenstandsurkunde_antrag"] = number_of(request, "personenstandsurkunde_antrag")
    storno = issue(store, "storno", {"receipt_number": number_of(request, "quittung"),
                                   "reason": "Antrag zurückgenommen"})
    numbers["storno"] = number_of(storno, "storno")
    closing = issue(store, "tagesabschluss", {"counted_cash_cents": 700})
    numbers["tagesabschluss"] = number_of(closing, "tagesabschluss")
    return Issued(numbers, wrobel, nguyen, odegard)
