"""Reading person and address forms, and writing persons and residences, for the services.

Shared by every service that creates or moves persons (Anmeldung, Ummeldung, Abmeldung), so
that one set of rules decides what a valid new person, address or residence is, and one set of
writers keeps versions, search index and households consistent.

The forms are read with `clerk_app.form_reading.Section`, which collects every problem under the
field's path ("persons.0.family_name"); this module adds what a person or an address must be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from clerk_app import names, rules
from clerk_app.form_reading import Section, country_name_de
from clerk_app.models import (
    MARITAL_LABELS,
    RELIGION_LABELS,
    SEX_LABELS,
    Address,
    PersonHit,
    PersonRecord,
    Residence,
    parse_date,
)
from clerk_app.names import DataType
from clerk_app.services.base import ServiceContext
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts
from clerk_app.streets import parse_house_number, street_by_id

# Section and country_name_de live in clerk_app.form_reading; listed here too because the UI and the
# tests import them from here, with the person helpers.
__all__ = [
    "CITY",
    "DOMESTIC",
    "ID_DOCUMENT_TYPES",
    "MAIN_KINDS",
    "SPECIAL_NATIONALITIES",
    "DomesticAddress",
    "NewPerson",
    "Section",
    "choose_household",
    "close_residence",
    "country_name_de",
    "domestic_current",
    "ensure_household",
    "household_others",
    "insert_id_document",
    "insert_person",
    "insert_residence",
    "likely_duplicates",
    "nationality_label",
    "read_new_person",
    "resolve_address",
    "set_residence_kind",
    "touch_person",
]

# The city whose register this is: the street directory holds its streets only.
CITY = "Lörrach"
# `residences.country` of a domestic address (the schema's default): like foreign rows, the
# ISO 3166-1 alpha-3 code.
DOMESTIC = "DEU"
# Kinds that count as "the" dwelling: a person has at most one of them at a time.
MAIN_KINDS = frozenset({"alleinig", "haupt"})

ID_DOCUMENT_TYPES = {
    "PA": "Personalausweis", "VPA": "vorläufiger Personalausweis", "RP": "Reisepass",
    "VRP": "vorläufiger Reisepass", "KP": "Kinderreisepass",
    "AP": "ausländischer Pass oder Identitätsdokument",
}
# ICAO 9303 codes a nationality field may hold besides countries (stateless, refugees, unknown).
SPECIAL_NATIONALITIES = {"XXA": "staatenlos", "XXB": "Flüchtling (GFK)",
                         "XXC": "anderer Flüchtling", "XXX": "ungeklärt"}
_DOCUMENT_NUMBER_RE = re.compile(r"[A-Z0-9]{6,20}")


# --- nationalities -----------------------------------------------------------------------------

def nationality_label(code: str) -> str | None:
    """German label of a nationality code: a country, or an ICAO special code ('XXA')."""
    return SPECIAL_NATIONALITIES.get(code) or country_name_de(code)


# --- addresses ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DomesticAddress:
    """An address of the city, checked against the street directory."""

    street_id: int
    street: str
    house_number: str
    postal_code: str
    district: str
    city: str = CITY

    def as_address(self) -> Address:
        return Address(street=self.street, house_number=self.house_number,
                       postal_code=self.postal_code, city=self.city, district=self.district)

    def one_line(self) -> str:
        return self.as_address().one_line()


def resolve_address(store: Store, form: Section, key: str = "address") -> DomesticAddress | None:
    """The address section {street_id, house_number} as a directory address, or None with the
    problem recorded ("Hausnummer 999 gibt es in der Hauptstraße nicht.")."""
    section = form.section(key, required=True)
    if section is None:
        return None
    street_id = section.integer("street_id", required=True)
    number_text = section.text("house_number", required=True, max_length=20)
    if street_id is None:
        return None
    street = street_by_id(store, street_id)
    if street is None:
        section.error("street_id", "Bitte eine Straße aus dem Straßenverzeichnis wählen.")
        return None
    if number_text is None:
        return None
    number = parse_house_number(number_text)
    if number is None:
        section.error("house_number", f"„{number_text}“ ist keine gültige Hausnummer "
                                      "(z. B. 12, 12a oder 12/1).")
        return None
    segment = street.segment_for(number)
    if segment is None:
        section.error("house_number",
                      f"Hausnummer {number_text} gibt es in der {street.name} nicht.")
        return None
    return DomesticAddress(street_id, street.name, str(number), segment.postal_code,
                           street.district)


# --- new persons -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewPerson:
    """A person not yet in the register, as entered: every field of § 3 (1) the form collects."""

    family_name: str
    first_names: str
    birth_date: date
    sex: str
    birth_place: str
    birth_country: str
    nationalities: tuple[str, ...]
    religion: str
    marital_status: str
    birth_name: str | None = None
    everyday_name: str | None = None
    doctorate: str | None = None
    religious_name: str | None = None
    artist_name: str | None = None
    marital_date: date | None = None
    marital_place: str | None = None
    id_document: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        """The person as JSON-ready payload data (dates ISO)."""
        return {
            "family_name": self.family_name, "birth_name": self.birth_name,
            "first_names": self.first_names, "everyday_name": self.everyday_name,
            "doctorate": self.doctorate, "religious_name": self.religious_name,
            "artist_name": self.artist_name, "birth_date": self.birth_date.isoformat(),
            "birth_place": self.birth_place, "birth_country": self.birth_country,
            "sex": self.sex, "nationalities": list(self.nationalities),
            "religion": self.religion, "marital_status": self.marital_status,
            "marital_date": self.marital_date.isoformat() if self.marital_date else None,
            "marital_place": self.marital_place,
        }


def read_new_person(form: Section, today: date, moved_in: date | None = None,
                    ) -> NewPerson | None:
    """Validate a new person's fields; None (problems recorded) if any is missing or invalid.

    An invalid optional field (a doctorate with a stray character) also keeps the person from
    being created: nothing is silently dropped from what the citizen declared. `moved_in`:
    the person cannot have moved in before being born.
    """
    family = form.name("family_name", required=True)
    first = form.name("first_names", required=True)
    everyday = _everyday_name(form, first)
    born = _birth_date(form, today, moved_in)
    nationalities = _nationalities(form)
    place = form.name("birth_place", required=True, data_type=DataType.C)
    country = form.country("birth_country", required=True)
    sex = form.choice("sex", SEX_LABELS, required=True)
    religion = form.choice("religion", RELIGION_LABELS, required=True)
    marital = form.choice("marital_status", MARITAL_LABELS, required=True)
    marital_date = _marital_date(form, born, today)
    optional = {"birth_name": form.name("birth_name"), "doctorate": form.name("doctorate"),
                "religious_name": form.name("religious_name"),
                "artist_name": form.name("artist_name"),
                "marital_place": form.name("marital_place", data_type=DataType.C)}
    id_document = _id_document(form, today)
    if (family is None or first is None or born is None or nationalities is None
            or place is None or country is None or sex is None or religion is None
            or marital is None or form.has_errors()):
        return None
    return NewPerson(family_name=family, first_names=first, birth_date=born, sex=sex,
                     birth_place=place, birth_country=country,
                     nationalities=tuple(nationalities), religion=religion,
                     marital_status=marital, everyday_name=everyday, marital_date=marital_date,
                     id_document=id_document, **optional)


def _marital_date(form: Section, born: date | None, today: date) -> date | None:
    marital_date = form.date("marital_date")
    if marital_date and born and not born <= marital_date <= today:
        form.error("marital_date", "Datum des Familienstands muss zwischen Geburt und heute "
                                   "liegen.")
        return None
    return marital_date


def _everyday_name(form: Section, first_names: str | None) -> str | None:
    """The name in everyday use must be one of the first names; with a single first name it
    is that one."""
    everyday = form.name("everyday_name")
    if first_names is None:
        return everyday
    given = first_names.split()
    if everyday is None:
        return given[0] if len(given) == 1 else None
    if everyday not in given:
        form.error("everyday_name", "Der Rufname muss einer der Vornamen sein.")
        return None
    return everyday


def _birth_date(form: Section, today: date, moved_in: date | None) -> date | None:
    born = form.date("birth_date", required=True)
    problem = rules.birth_date_problem(born, today) if born else None
    # A birth date in the future is named as such: it is also after the move-in date, but
    # that is not the mistake.
    if not problem and born and moved_in and born > moved_in:
        problem = "Geburtsdatum liegt nach dem Einzugsdatum."
    if problem:
        form.error("birth_date", problem)
        return None
    return born


def _nationalities(form: Section) -> list[str] | None:
    codes = form.strings("nationalities")
    if not codes:
        form.error("nationalities", "Bitte mindestens eine Staatsangehörigkeit angeben "
                                    "(ISO-Code, z. B. DEU; staatenlos: XXA).")
        return None
    upper = [c.strip().upper() for c in codes]
    wrong = [c for c in upper if nationality_label(c) is None]
    if wrong:
        form.error("nationalities", f"Unbekannter Staatscode: {', '.join(wrong)}.")
        return None
    return list(dict.fromkeys(upper))


def _id_document(form: Section, today: date) -> dict[str, Any] | None:
    section = form.section("id_document")
    if section is None:
        return None
    doc_type = section.choice("doc_type", ID_DOCUMENT_TYPES, required=True)
    number_text = section.text("number", required=True, max_length=30)
    number = "".join(number_text.split()).upper() if number_text else None
    if number is not None and not _DOCUMENT_NUMBER_RE.fullmatch(number):
        section.error("number", "Ausweisnummer: 6 bis 20 Buchstaben oder Ziffern.")
        number = None
    issued_on = section.date("issued_on")
    if issued_on and issued_on > today:
        section.error("issued_on", "Ausstellungsdatum liegt nach heute.")
    valid_until = section.date("valid_until")
    if issued_on and valid_until and valid_until < issued_on:
        section.error("valid_until", "Gültig bis liegt vor dem Ausstellungsdatum.")
    authority = section.name("authority", data_type=DataType.C)
    if doc_type is None or number is None:
        return None
    return {"doc_type": doc_type, "number": number, "authority": authority,
            "issued_on": issued_on.isoformat() if issued_on else None,
            "valid_until": valid_until.isoformat() if valid_until else None}


# --- likely duplicates -------------------------------------------------------------------------

DUPLICATE_SQL = """
SELECT p.id, p.family_name, p.first_names, p.doctorate, p.birth_date, p.given_sf,
       (SELECT CASE WHEN r.country != 'DEU' THEN r.foreign_address || ', ' || r.country
                    ELSE r.street || ' ' || r.house_number || ', ' || r.postal_code || ' '
                         || r.city END
          FROM residences r WHERE r.person_id = p.id AND r.move_out IS NULL
         ORDER BY r.kind = 'neben', r.move_in DESC LIMIT 1) AS address,
       EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id
                  AND b.since <= :today AND (b.until IS NULL OR b.until >= :today)) AS blocked
  FROM persons p
 WHERE p.family_sf = :family AND p.birth_date = :born
 ORDER BY p.given_sf
"""


def likely_duplicates(store: Store, family_name: str, first_names: str, birth_date: date, *,
                      today: date | None = None) -> list[PersonHit]:
    """Persons already in the register who are probably the one being entered as new.

    Same family name in the DIN 91379 search form ("Mueller" = "Müller"), same birth date,
    and at least one first name in common ("Anna" matches "Anna Maria"): typing variants of the
    same person, or a person who moved away and comes back. The UI calls this before
    submitting a new person; the Anmeldung refuses to create one without the clerk's check.
    """
    given = set(names.search_tokens(first_names))
    rows = fetch_dicts(store.conn, DUPLICATE_SQL, {
        "family": names.search_form(family_name), "born": birth_date.isoformat(),
        "today": (today or date.today()).isoformat()})
    return [PersonHit(id=r["id"], family_name=r["family_name"], first_names=r["first_names"],
                      doctorate=r["doctorate"], birth_date=parse_date(r["birth_date"]),
                      address=r["address"] or "", blocked=bool(r["blocked"]))
            for r in rows if not given or given & set(r["given_sf"].split())]


# --- residences and households in the register -------------------------------------------------

def domestic_current(record: PersonRecord) -> list[Residence]:
    """The person's current dwellings in the city (a current foreign row is not one)."""
    return [r for r in record.current_residences if r.address.country == DOMESTIC]


def choose_household(first: PersonRecord | None, movers: Iterable[str],
                     others_at: Mapping[str, list[Residence]], new_address: Address,
                     ) -> str | None:
    """The existing household the movers keep, or None for a new one.

    The first existing person's household is kept if nobody else in it still lives somewhere
    else in the city: a family moving (back) together keeps its household; a grown-up child
    moving out on its own gets a new one. `others_at` gives the current domestic dwellings of
    the household's other members.
    """
    if first is None or not first.household_id:
        return None
    moving = set(movers)
    for member in first.household:
        if member.person_id in moving:
            continue
        if any(r.address != new_address for r in others_at.get(member.person_id, [])):
            return None
    return first.household_id


def household_others(store: Store, record: PersonRecord | None, movers: Iterable[str],
                     ) -> dict[str, list[Residence]]:
    """Current domestic dwellings of the other members of `record`'s household."""
    if record is None:
        return {}
    moving = set(movers)
    found: dict[str, list[Residence]] = {}
    for member in record.household:
        if member.person_id not in moving:
            rows = fetch_dicts(store.conn, "SELECT * FROM residences WHERE person_id = ? AND "
                                           "move_out IS NULL AND country = ?",
                               (member.person_id, DOMESTIC))
            found[member.person_id] = [_residence(r) for r in rows]
    return found


def _residence(r: Mapping[str, Any]) -> Residence:
    return Residence(id=r["id"], kind=r["kind"], address=Address(
        street=r["street"] or "", house_number=r["house_number"] or "",
        postal_code=r["postal_code"] or "", city=r["city"] or "", district=r["district"] or "",
        country=r["country"] or DOMESTIC, foreign_address=r["foreign_address"] or ""),
        move_in=parse_date(r["move_in"]), move_out=parse_date(r["move_out"]),
        previous_address=r["previous_address"])


# --- writing (inside the service's transaction) ------------------------------------------------

def ensure_household(ctx: ServiceContext, household_id: str) -> None:
    """Create the household row unless it exists (a re-applied payload finds it)."""
    ctx.conn.execute("INSERT OR IGNORE INTO households (id, created_at) VALUES (?, ?)",
                     (household_id, _stamp(ctx)))


def insert_person(ctx: ServiceContext, person_id: str, person: Mapping[str, Any],
                  household_id: str | None) -> None:
    """Write a new person (version 1) with search forms and, if given, the birth name as a
    former name (as the register keeps it) and the ID document."""
    stamp = _stamp(ctx)
    ctx.conn.execute(
        "INSERT INTO persons (id, family_name, birth_name, first_names, everyday_name, "
        "doctorate, religious_name, artist_name, birth_date, birth_place, birth_country, sex, "
        "nationalities, religion, marital_status, marital_date, marital_place, household_id, "
        "family_sf, given_sf, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (person_id, person["family_name"], person["birth_name"], person["first_names"],
         person["everyday_name"], person["doctorate"], person["religious_name"],
         person["artist_name"], person["birth_date"], person["birth_place"],
         person["birth_country"], person["sex"], json.dumps(person["nationalities"]),
         person["religion"], person["marital_status"], person["marital_date"],
         person["marital_place"], household_id, names.search_form(person["family_name"]),
         names.search_form(person["first_names"]), stamp, stamp))
    birth_name = person["birth_name"]
    if birth_name and birth_name != person["family_name"]:
        ctx.conn.execute("INSERT INTO former_names (person_id, kind, name, valid_until) "
                         "VALUES (?, 'Geburtsname', ?, ?)",
                         (person_id, birth_name, person["marital_date"]))


def insert_id_document(ctx: ServiceContext, document_id: str, person_id: str,
                       document: Mapping[str, Any]) -> None:
    """Record the ID document the person showed (type, number, authority, validity)."""
    ctx.conn.execute(
        "INSERT INTO id_documents (id, person_id, doc_type, number, authority, issued_on, "
        "valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (document_id, person_id, document["doc_type"], document["number"],
         document["authority"], document["issued_on"], document["valid_until"]))


def touch_person(ctx: ServiceContext, person_id: str, household_id: str | None) -> None:
    """Record the person's base version, then bump it (and set the household if given)."""
    ctx.touch("persons", person_id)
    ctx.conn.execute(
        "UPDATE persons SET version = version + 1, updated_at = ?, "
        "household_id = COALESCE(?, household_id) WHERE id = ?",
        (_stamp(ctx), household_id, person_id))


def close_residence(ctx: ServiceContext, residence_id: str, move_out: str) -> None:
    """End a dwelling: it stays in the register as history with its move-out date."""
    ctx.touch("residences", residence_id)
    ctx.conn.execute("UPDATE residences SET move_out = ?, version = version + 1 WHERE id = ?",
                     (move_out, residence_id))


def set_residence_kind(ctx: ServiceContext, residence_id: str, kind: str) -> None:
    """Change a dwelling's kind (an alleinige Wohnung becomes the Hauptwohnung once a
    Nebenwohnung is added), recording its base version first."""
    ctx.touch("residences", residence_id)
    ctx.conn.execute("UPDATE residences SET kind = ?, version = version + 1 WHERE id = ?",
                     (kind, residence_id))


def insert_residence(ctx: ServiceContext, person_id: str, residence: Mapping[str, Any]) -> None:
    """Write a new dwelling from payload data (domestic: street fields; foreign: country and
    free-text address; a foreign row also carries its move_out)."""
    ctx.conn.execute(
        "INSERT INTO residences (id, person_id, kind, street_id, street, house_number, "
        "postal_code, city, district, country, foreign_address, move_in, move_out, "
        "previous_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (residence["id"], person_id, residence["kind"], residence.get("street_id"),
         residence.get("street"), residence.get("house_number"), residence.get("postal_code"),
         residence.get("city"), residence.get("district"), residence["country"],
         residence.get("foreign_address"), residence["move_in"], residence.get("move_out"),
         residence.get("previous_address")))


def _stamp(ctx: ServiceContext) -> str:
    return ctx.now.isoformat(timespec="seconds")
