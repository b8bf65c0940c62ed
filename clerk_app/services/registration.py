"""Anmeldung, Ummeldung and Abmeldung (§ 17 BMG) as counter services.

Each is one command (see `base`): `prepare` reads the whole form, collects every field problem
into one `FormError`, decides everything that depends on the register as it is now (which
dwellings end, which household the movers join) and mints the ids and the document number;
`apply` (shared by all three) only writes what the payload says, so the central service
re-applies the same payload to the same effect. The payload also carries the amtliche
Meldebestätigung exactly as printed.

Decisions (the law leaves them to the register):

* **Move-out date of the dwelling left** = the move date of the new one (same day). Dwellings
  are half-open intervals [move_in, move_out): on the moving day the person lives at the new
  address, the two rows meet without gap or overlap, and a move on the day of moving in stays
  possible. The Abmeldung closes with the date the citizen gives as Auszugsdatum.
* **Dwellings that end**: an Anmeldung or Ummeldung ends the person's current dwelling of the
  same class (alleinig/haupt count as one class, "the" dwelling; neben is the other), and any
  current dwelling at the new address. Registering a Nebenwohnung turns a remaining alleinige
  Wohnung into the Hauptwohnung; registering an alleinige Wohnung while a Nebenwohnung remains
  is refused (then it is a Hauptwohnung).
* **Moving abroad**: all dwellings in the city end, and the foreign address and country
  (ISO 3166-1 alpha-3 in `residences.country`, free text in `foreign_address`) are kept as a
  residence row that starts and ends on the day of leaving (move_in = move_out). It is history,
  never a current dwelling: everything that asks "where is the person registered?" (search,
  certificates, the person view) keeps reading `move_out IS NULL`, and an emigrant has no
  current dwelling.
* **Household**: the persons of one Anmeldung/Ummeldung share a household: the first existing
  person's household if none of its other members still lives elsewhere in the city, otherwise
  a new one (a family moving together keeps its household; a child moving out gets its own).
* **Relations** (§ 3 (1) Nr. 9, 15-17): an Anmeldung records the relations its persons name
  (spouse, partner, child, parent, legal representative), both sides, in the same command;
  relations name persons, so every move keeps them. A minor moving without a legal
  representative, or staying behind with no adult of the family, is saved only after the
  clerk acknowledged the warning (`clerk_app.relations`).
* **Late** (more than 14 days after the move): registered, `registrations.late = 1` and a
  notice in the result; never refused (§ 17, the lateness is an offence of the citizen).
* The **Meldebestätigung** (§ 24 (2)) is one document per registration, listing for each
  person (and, for an Abmeldung, each dwelling given up) only the fields of
  `MELDEBESTAETIGUNG_FIELDS`; the name in everyday use is marked with asterisks in the first
  names ("Anna *Maria*", `EVERYDAY_MARK`; DIN 91379 names cannot contain "*"), for the
  renderer to underline.

Form schemas: see the service classes' docstrings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clerk_app import audit, clerks, rules
from clerk_app.errors import NotFoundError
from clerk_app.form_reading import Section, country_name_de
from clerk_app.ids import new_id
from clerk_app.models import RESIDENCE_LABELS, PersonRecord, Residence
from clerk_app.names import DataType
from clerk_app.person_record import load_person
from clerk_app.persons import (
    DOMESTIC,
    MAIN_KINDS,
    DomesticAddress,
    NewPerson,
    choose_household,
    close_residence,
    domestic_current,
    ensure_household,
    household_others,
    insert_id_document,
    insert_person,
    insert_residence,
    likely_duplicates,
    read_new_person,
    resolve_address,
    set_residence_kind,
    touch_person,
)
from clerk_app.relations import Family, Mover, acknowledge_minors, apply_relations, read_family
from clerk_app.rules import RegistrationKind, format_date
from clerk_app.search_index import reindex_person
from clerk_app.services.base import IssuedDocument, ServiceContext

__all__ = [
    "ABMELDUNG_REASONS",
    "DOCUMENT_TYPE",
    "EVERYDAY_MARK",
    "MELDEBESTAETIGUNG_FIELDS",
    "Abmeldung",
    "Anmeldung",
    "Ummeldung",
    "mark_everyday_name",
]

# § 24 (2) BMG: the only data a Meldebestätigung may show. "Einzugsdatum" for Anmeldung and
# Ummeldung, "Auszugsdatum" for Abmeldung.
MELDEBESTAETIGUNG_FIELDS = (
    "Familienname", "Vornamen", "Doktorgrad", "Geburtsdatum", "Einzugsdatum", "Auszugsdatum",
    "Datum der Meldung", "Anschrift", "Wohnungsstatus",
)
DOCUMENT_TYPE = "meldebestaetigung"
NUMBER_PREFIX = "MBT"
EVERYDAY_MARK = "*"
TITLES = {"anmeldung": "Amtliche Meldebestätigung – Anmeldung",
          "ummeldung": "Amtliche Meldebestätigung – Ummeldung",
          "abmeldung": "Amtliche Meldebestätigung – Abmeldung"}
PURPOSES = {"anmeldung": "Anmeldung", "ummeldung": "Ummeldung", "abmeldung": "Abmeldung"}

ABMELDUNG_REASONS = {
    "ausland": "Wegzug ins Ausland",
    "nebenwohnung": "Aufgabe einer Nebenwohnung ohne neue Wohnung im Inland",
    "inland": "Umzug in eine andere Wohnung in Deutschland",
}
DOMESTIC_MOVE_REFUSED = ("Bei Umzug innerhalb Deutschlands meldet die neue Meldebehörde um – "
                         "keine Abmeldung nötig.")
LANDLORD_MISSING = ("Die Wohnungsgeberbestätigung (§ 19 BMG) muss vorgelegt werden – ein "
                    "Mietvertrag genügt nicht; Eigentümer geben eine Selbsterklärung ab.")
GERMANY = "DEU"
ASK_PERSONS = "mindestens eine Person"  # what an empty "persons" list asks for


# --- what the services decide in prepare -----------------------------------------------------

@dataclass(frozen=True)
class Registrant:
    """What the Meldebestätigung shows of a person (and nothing more)."""

    person_id: str
    family_name: str
    first_names: str
    everyday_name: str | None
    doctorate: str | None
    birth_date: date | None

    @classmethod
    def of_record(cls, record: PersonRecord) -> Registrant:
        return cls(record.id, record.family_name, record.first_names, record.everyday_name,
                   record.doctorate, record.birth_date)

    @classmethod
    def of_new(cls, person_id: str, person: NewPerson) -> Registrant:
        return cls(person_id, person.family_name, person.first_names, person.everyday_name,
                   person.doctorate, person.birth_date)

    @property
    def plain_name(self) -> str:
        """'Anna Maria Müller', as the landlord's confirmation names the persons."""
        return f"{self.first_names} {self.family_name}"


@dataclass
class PersonPlan:
    """One person's part of a registration: who, which dwellings end, which one begins."""

    registrant: Registrant
    new: NewPerson | None = None
    record: PersonRecord | None = None
    close: list[Residence] = field(default_factory=list)
    promote: list[str] = field(default_factory=list)
    residence: dict[str, Any] | None = None
    # (address, kind) of each dwelling the Meldebestätigung confirms for this person.
    confirmed: list[tuple[str, str]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """JSON for the command; the ID document's record id is minted here, in prepare,
        so that a re-applied payload writes the same row."""
        id_document = None
        if self.new is not None and self.new.id_document is not None:
            id_document = {**self.new.id_document, "id": new_id()}
        return {"person_id": self.registrant.person_id,
                "new": self.new.row() if self.new else None, "id_document": id_document,
                "close": [r.id for r in self.close], "promote": self.promote,
                "residence": self.residence}


# --- reading the form ------------------------------------------------------------------------

def _move_date(form: Section, key: str, today: date,
               problem_of: Callable[[date, date], str | None]) -> date | None:
    """The move-in or move-out date, checked against its § 17 rule (message next to it)."""
    moved = form.date(key, required=True)
    problem = problem_of(moved, today) if moved else None
    if problem:
        form.error(key, problem)
        return None
    return moved


def _existing(ctx: ServiceContext, entry: Section, seen: set[str]) -> PersonRecord | None:
    """An existing person named by id; each person only once per registration."""
    person_id = entry.text("person_id", required=True, max_length=64)
    if person_id is None:
        return None
    if person_id in seen:
        entry.error("person_id", "Die Person ist in dieser Meldung schon aufgeführt.")
        return None
    seen.add(person_id)
    try:
        return load_person(ctx.store, person_id)
    except NotFoundError as exc:
        entry.error("person_id", exc.message_de)
        return None


def _checked_new_person(ctx: ServiceContext, entry: Section, moved: date | None,
                        ) -> NewPerson | None:
    """A valid new person that is not a likely duplicate (or that the clerk checked)."""
    person = read_new_person(entry, ctx.today, moved)
    if person is None:
        return None
    hits = likely_duplicates(ctx.store, person.family_name, person.first_names,
                             person.birth_date, today=ctx.today)
    if hits:
        who = "; ".join(f"{h.display_name}, geb. {format_date(h.birth_date)}" for h in hits[:3])
        if not entry.confirmed("duplicate_checked",
                               f"Möglicherweise schon im Melderegister: {who}. Bitte die "
                               "vorhandene Person wählen oder bestätigen, dass es eine andere "
                               "Person ist."):
            return None
    return person


def _previous_address(form: Section) -> str | None:
    """The address before the move, as one line: domestic free text, or from abroad the
    address with the country (and the last domestic address, if the citizen had one)."""
    section = form.section("previous_address", required=True)
    if section is None:
        return None
    text = section.name("address", required=True, data_type=DataType.C)
    country = section.country("country") or GERMANY
    last_domestic = section.name("last_domestic_address", data_type=DataType.C)
    if text is None:
        return None
    if country == GERMANY:
        return text
    line = f"{text}, {country_name_de(country)}"
    return f"{line} (letzte Anschrift im Inland: {last_domestic})" if last_domestic else line


def _landlord(form: Section, move_date: date | None, address: DomesticAddress | None,
              plans: Sequence[PersonPlan]) -> dict[str, Any] | None:
    """The landlord's confirmation (§ 19 BMG) as presented: required, and recorded."""
    section = form.section("landlord", required=True)
    if section is None:
        return None
    section.confirmed("presented", LANDLORD_MISSING)
    own = section.flag("self_declaration")
    landlord = section.name("landlord_name", required=not own, data_type=DataType.B)
    owner = section.name("owner_name", data_type=DataType.B)
    landlord_address = section.name("landlord_address", required=not own,
                                    data_type=DataType.C)
    confirmed = section.date("move_in")
    if confirmed and move_date and confirmed != move_date:
        section.error("move_in", f"Die Wohnungsgeberbestätigung nennt den "
                                 f"{format_date(confirmed)} als Einzugsdatum – bitte abgleichen.")
    persons = section.strings("persons") or [p.registrant.plain_name for p in plans]
    return {"presented": True, "self_declaration": own, "landlord_name": landlord,
            "owner_name": owner, "landlord_address": landlord_address,
            "move_in": move_date.isoformat() if move_date else None,
            "dwelling": address.one_line() if address else None, "persons": persons}


# --- deciding which dwellings end and begin --------------------------------------------------

def _same_class(kind: str, other: str) -> bool:
    return (kind in MAIN_KINDS) == (other in MAIN_KINDS)


def _domestic_residence(address: DomesticAddress, kind: str, move_in: date,
                        previous: str | None) -> dict[str, Any]:
    return {"id": new_id(), "kind": kind, "street_id": address.street_id,
            "street": address.street, "house_number": address.house_number,
            "postal_code": address.postal_code, "city": address.city,
            "district": address.district, "country": DOMESTIC, "foreign_address": None,
            "move_in": move_in.isoformat(), "previous_address": previous}


def _check_order(form: Section, key: str, moved: date, closing: Iterable[Residence]) -> None:
    """A dwelling cannot end before it began."""
    for r in closing:
        if r.move_in and moved < r.move_in:
            form.error(key, f"Das Datum liegt vor dem Einzug in die bisherige Wohnung "
                            f"{r.address.one_line()} ({format_date(r.move_in)}).")


def _move_plan(form: Section, record: PersonRecord, kind: str, address: DomesticAddress,
               moved: date, leaving: list[Residence]) -> PersonPlan:
    """An existing person moving into `address`: ends `leaving` and any current dwelling at
    the new address, adjusts the kinds of the dwellings that remain."""
    current = domestic_current(record)
    target = address.as_address()
    close = leaving + [r for r in current if r.address == target and r not in leaving]
    remaining = [r for r in current if r not in close]
    if kind == "alleinig" and remaining:
        form.error("kind", f"{record.display_name} hat weiterhin eine Nebenwohnung in der "
                           "Stadt – bitte „Hauptwohnung“ wählen.")
    promote = [r.id for r in remaining if r.kind == "alleinig" and kind == "neben"]
    _check_order(form, "move_in", moved, close)
    return PersonPlan(Registrant.of_record(record), record=record, close=close,
                      promote=promote, confirmed=[(address.one_line(), kind)])


def _born_before(form: Section, key: str, registrant: Registrant, moved: date) -> None:
    if registrant.birth_date and moved < registrant.birth_date:
        form.error(key, f"Das Datum liegt vor dem Geburtsdatum von {registrant.plain_name}.")


# --- the Meldebestätigung --------------------------------------------------------------------

def mark_everyday_name(first_names: str, everyday_name: str | None) -> str:
    """'Anna Maria', 'Maria' -> 'Anna *Maria*': the everyday name marked (first occurrence)."""
    words = first_names.split()
    if everyday_name in words:
        index = words.index(everyday_name)
        words[index] = f"{EVERYDAY_MARK}{words[index]}{EVERYDAY_MARK}"
    return " ".join(words)


def _confirmation_fields(kind: RegistrationKind, plans: Sequence[PersonPlan], moved: date,
                         registered_on: date) -> list[list[str]]:
    """Per person and confirmed dwelling: exactly the data § 24 (2) allows, in that order."""
    date_label = "Auszugsdatum" if kind == "abmeldung" else "Einzugsdatum"
    fields: list[list[str]] = []
    for plan in plans:
        who = plan.registrant
        for address, residence_kind in plan.confirmed:
            fields += [["Familienname", who.family_name],
                       ["Vornamen", mark_everyday_name(who.first_names, who.everyday_name)],
                       ["Doktorgrad", who.doctorate or ""],
                       ["Geburtsdatum", format_date(who.birth_date)],
                       [date_label, format_date(moved)],
                       ["Datum der Meldung", format_date(registered_on)],
                       ["Anschrift", address],
                       ["Wohnungsstatus", RESIDENCE_LABELS[residence_kind]]]
    return fields


def _payload(ctx: ServiceContext, kind: RegistrationKind, plans: Sequence[PersonPlan],
             moved: date, landlord: dict[str, Any] | None, household_id: str | None,
             family: Family | None = None) -> dict[str, Any]:
    """The command's payload, after validation passed: ids, number, late flag, document."""
    notice = rules.late_notice(kind, moved, ctx.today)
    notices = [notice] if notice else []
    notices += _expired_documents(plans, ctx.today)
    document = {"number": ctx.number(NUMBER_PREFIX), "type": DOCUMENT_TYPE,
                "title": TITLES[kind], "person_id": plans[0].registrant.person_id,
                "fields": _confirmation_fields(kind, plans, moved, ctx.today)}
    return {"kind": kind, "registration_id": new_id(), "registered_on": ctx.today.isoformat(),
            "move_date": moved.isoformat(), "late": notice is not None, "notices": notices,
            "landlord": landlord, "household_id": household_id,
            "persons": [p.payload() for p in plans], "document": document,
            "relations": family.rows if family else []}


def _acknowledge_minors(ctx: ServiceContext, f: Section, plans: Sequence[PersonPlan],
                        moved: date | None, family: Family | None = None) -> None:
    """The warnings about minors moving or staying behind (`clerk_app.relations`), to be
    acknowledged by the clerk before the registration is saved."""
    if moved is None:
        return
    named = family.representatives if family else {}
    movers = [Mover(p.registrant.person_id, p.registrant.plain_name, p.registrant.birth_date,
                    p.record, tuple(r.address for r in p.close),
                    frozenset(named.get(p.registrant.person_id, ()))) for p in plans]
    acknowledge_minors(f, ctx.store, movers, moved)


def _expired_documents(plans: Sequence[PersonPlan], today: date) -> list[str]:
    notes = []
    for plan in plans:
        doc = plan.new.id_document if plan.new else None
        if doc and doc["valid_until"] and date.fromisoformat(doc["valid_until"]) < today:
            notes.append(f"Das Ausweisdokument von {plan.registrant.plain_name} ist seit "
                         f"{format_date(date.fromisoformat(doc['valid_until']))} abgelaufen.")
    return notes


def _household(ctx: ServiceContext, plans: Sequence[PersonPlan], address: DomesticAddress,
               ) -> str:
    """The household the persons moving together share (see the module's decisions)."""
    movers = [p.registrant.person_id for p in plans]
    first = next((p.record for p in plans if p.record is not None), None)
    others = household_others(ctx.store, first, movers)
    return choose_household(first, movers, others, address.as_address()) or new_id()


# --- apply: the same for all three -----------------------------------------------------------

def apply_registration(ctx: ServiceContext, payload: Mapping[str, Any]) -> None:
    """Write what the payload says: persons, dwellings, household, the registration, the
    Meldebestätigung, audit entries and the search index, in the caller's transaction."""
    household = payload["household_id"]
    if household:
        ensure_household(ctx, household)
    purpose = PURPOSES[payload["kind"]]
    detail = f"Meldebestätigung {payload['document']['number']}"
    for person in payload["persons"]:
        _apply_person(ctx, person, household, payload["move_date"], purpose, detail)
    apply_relations(ctx, payload.get("relations") or [],
                    [p["person_id"] for p in payload["persons"]], purpose, detail)
    ctx.conn.execute(
        "INSERT INTO registrations (id, command_id, kind, registered_on, move_date, late, "
        "landlord, persons) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (payload["registration_id"], ctx.command_id, payload["kind"], payload["registered_on"],
         payload["move_date"], int(payload["late"]),
         _json(payload["landlord"]) if payload["landlord"] else None,
         _json([p["person_id"] for p in payload["persons"]])))
    ctx.issue_document(_document(payload["document"]))
    ctx.notices.extend(payload["notices"])


def _apply_person(ctx: ServiceContext, person: Mapping[str, Any], household: str | None,
                  move_date: str, purpose: str, detail: str) -> None:
    person_id = person["person_id"]
    if person["new"] is not None:
        insert_person(ctx, person_id, person["new"], household)
        if person["id_document"]:
            insert_id_document(ctx, person["id_document"]["id"], person_id,
                               person["id_document"])
        ctx.audit(audit.CREATE, person_id, purpose, detail)
    else:
        touch_person(ctx, person_id, household)
        ctx.audit(audit.UPDATE, person_id, purpose, detail)
    for residence_id in person["close"]:
        close_residence(ctx, residence_id, move_date)
    for residence_id in person["promote"]:
        set_residence_kind(ctx, residence_id, "haupt")
    if person["residence"]:
        insert_residence(ctx, person_id, person["residence"])
    reindex_person(ctx.store.db, person_id)


def _document(doc: Mapping[str, Any]) -> IssuedDocument:
    return IssuedDocument(number=doc["number"], type=doc["type"], title=doc["title"],
                          person_id=doc["person_id"],
                          fields=tuple((str(label), str(value)) for label, value in doc["fields"]))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- the services ----------------------------------------------------------------------------

class Anmeldung:
    """Moving into the city (§ 17 (1) BMG): one or more persons moving in together.

    Form::

        {"persons": [{"person_id": "<uuid>"}                    # known to the register, or
                     {"family_name", "first_names", "birth_date", "birth_place",
                      "birth_country" (ISO alpha-3), "sex" (m/w/d/x),
                      "nationalities" (list of ISO alpha-3; XXA stateless),
                      "religion" (RELIGION_LABELS key), "marital_status" (MARITAL_LABELS key),
                      optional: "birth_name", "everyday_name" (one of the first names),
                      "doctorate", "religious_name", "artist_name", "marital_date",
                      "marital_place", "id_document": {"doc_type" (ID_DOCUMENT_TYPES key),
                      "number", "authority", "issued_on", "valid_until"},
                      "duplicate_checked": true (after the clerk checked likely_duplicates),
                      optional for new and known persons: "relations": [{"kind" (key of
                      relations.RELATION_KINDS: the person named is this one's ...),
                      "person": <position in "persons"> | "person_id": "<uuid>"}]}],
         "address": {"street_id": int, "house_number": "12a"},
         "kind": "alleinig" | "haupt" | "neben",
         "move_in": "YYYY-MM-DD" (or TT.MM.JJJJ),
         "previous_address": {"address": "text", "country": "DEU" (default) | ISO alpha-3,
                              "last_domestic_address": "text" (optional, from abroad)},
         "landlord": {"presented": true, "self_declaration": false,
                      "landlord_name", "owner_name" (if different), "landlord_address",
                      "move_in" (optional, must equal move_in), "persons" (optional names)},
         "minors_confirmed": true (the clerk read the warnings about minors; see
                               `clerk_app.relations.minor_warnings`)}
    """

    type = "anmeldung"
    permission = clerks.REGISTRATION

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        kind = f.choice("kind", RESIDENCE_LABELS, required=True)
        moved = _move_date(f, "move_in", ctx.today, rules.move_in_problem)
        address = resolve_address(ctx.store, f)
        previous = _previous_address(f)
        entries = f.sections("persons", ask=ASK_PERSONS)
        placed = self._plans(ctx, f, entries, kind, address, moved, previous)
        plans = list(placed.values())
        family = read_family(ctx.store, entries, {
            i: (p.registrant.person_id, p.registrant.birth_date) for i, p in placed.items()},
            moved or ctx.today)
        landlord = _landlord(f, moved, address, plans)
        _acknowledge_minors(ctx, f, plans, moved, family)
        f.raise_errors()
        assert moved is not None and address is not None  # no errors: both were read
        return _payload(ctx, "anmeldung", plans, moved, landlord,
                        _household(ctx, plans, address), family)

    def _plans(self, ctx: ServiceContext, f: Section, entries: Sequence[Section],
               kind: str | None, address: DomesticAddress | None, moved: date | None,
               previous: str | None) -> dict[int, PersonPlan]:
        """Each entry's plan by its position in the form (the relations name positions)."""
        plans: dict[int, PersonPlan] = {}
        seen: set[str] = set()
        for position, entry in enumerate(entries):
            plan = self._plan(ctx, f, entry, seen, kind, address, moved)
            if plan is None:
                continue
            if address and kind and moved:
                plan.residence = _domestic_residence(address, kind, moved, previous)
            plans[position] = plan
        return plans

    @staticmethod
    def _plan(ctx: ServiceContext, f: Section, entry: Section, seen: set[str],
              kind: str | None, address: DomesticAddress | None, moved: date | None,
              ) -> PersonPlan | None:
        if entry.data.get("person_id") is None:
            person = _checked_new_person(ctx, entry, moved)
            if person is None:
                return None
            return PersonPlan(Registrant.of_new(new_id(), person), new=person,
                              confirmed=[(address.one_line(), kind)] if address and kind
                              else [])
        record = _existing(ctx, entry, seen)
        if record is None or kind is None or address is None or moved is None:
            return None
        leaving = [r for r in domestic_current(record) if _same_class(r.kind, kind)]
        _born_before(f, "move_in", Registrant.of_record(record), moved)
        return _move_plan(f, record, kind, address, moved, leaving)

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        apply_registration(ctx, payload)


class Ummeldung:
    """Moving within the city: the same person records, a new dwelling, the old one kept as
    history (move_out = the move date) and named as the new one's previous address.

    Form::

        {"persons": [{"person_id": "<uuid>",
                      "residence_id": "<uuid>" (optional: which current dwelling is left;
                                                needed only with several Nebenwohnungen)}],
         "address": {"street_id": int, "house_number": "12a"},
         "kind": "alleinig" | "haupt" (moves the alleinige/Hauptwohnung) | "neben",
         "move_in": "YYYY-MM-DD",
         "landlord": {... as for the Anmeldung ...},
         "minors_confirmed": true (as for the Anmeldung)}
    """

    type = "ummeldung"
    permission = clerks.REGISTRATION

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        kind = f.choice("kind", RESIDENCE_LABELS, required=True)
        moved = _move_date(f, "move_in", ctx.today, rules.move_in_problem)
        address = resolve_address(ctx.store, f)
        plans: list[PersonPlan] = []
        seen: set[str] = set()
        for entry in f.sections("persons", ask=ASK_PERSONS):
            record = _existing(ctx, entry, seen)
            if record is None or kind is None or address is None or moved is None:
                continue
            plan = self._plan(f, entry, record, kind, address, moved)
            if plan is not None:
                plans.append(plan)
        landlord = _landlord(f, moved, address, plans)
        _acknowledge_minors(ctx, f, plans, moved)
        f.raise_errors()
        assert moved is not None and address is not None  # no errors: both were read
        return _payload(ctx, "ummeldung", plans, moved, landlord,
                        _household(ctx, plans, address))

    @staticmethod
    def _plan(f: Section, entry: Section, record: PersonRecord, kind: str,
              address: DomesticAddress, moved: date) -> PersonPlan | None:
        old = _left_dwelling(entry, record, kind, "bitte Anmeldung verwenden")
        if old is None:
            return None
        if old.address == address.as_address():
            f.error("address", "Die neue Anschrift ist die bisherige Anschrift.")
            return None
        _born_before(f, "move_in", Registrant.of_record(record), moved)
        plan = _move_plan(f, record, kind, address, moved, [old])
        plan.residence = _domestic_residence(address, kind, moved, old.address.one_line())
        return plan

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        apply_registration(ctx, payload)


def _left_dwelling(entry: Section, record: PersonRecord, kind: str, hint: str,
                   ) -> Residence | None:
    """The current dwelling a person gives up: of the same class as `kind`; chosen by the
    form's residence_id, or the only candidate. `hint` says what to do if there is none."""
    candidates = [r for r in domestic_current(record) if _same_class(r.kind, kind)]
    wanted = "alleinige Wohnung oder Hauptwohnung" if kind in MAIN_KINDS else "Nebenwohnung"
    chosen = entry.text("residence_id", max_length=64)
    if chosen is not None:
        found = [r for r in candidates if r.id == chosen]
        if not found:
            entry.error("residence_id", f"Diese Wohnung ist keine aktuelle {wanted} von "
                                        f"{record.display_name}.")
        return found[0] if found else None
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        entry.error("person_id", f"{record.display_name} hat keine {wanted} in der Stadt – "
                                 f"{hint}.")
    else:
        entry.error("residence_id", f"{record.display_name} hat mehrere Nebenwohnungen – bitte "
                                    "die bisherige Wohnung wählen.")
    return None


class Abmeldung:
    """Deregistration (§ 17 (2) BMG): only moving abroad, or giving up a Nebenwohnung without
    a new dwelling in Germany. Within Germany the new office registers the move instead.

    Form::

        {"persons": [{"person_id": "<uuid>",
                      "residence_id": "<uuid>" (optional, "nebenwohnung" with several)}],
         "reason": "ausland" | "nebenwohnung" | "inland" (refused, with the reason),
         "move_out": "YYYY-MM-DD" (at most 7 days ahead),
         "country": ISO alpha-3, not DEU (for "ausland"),
         "foreign_address": "text" (for "ausland"),
         "minors_confirmed": true (as for the Anmeldung)}
    """

    type = "abmeldung"
    permission = clerks.REGISTRATION

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form)
        reason = f.choice("reason", ABMELDUNG_REASONS, required=True)
        if reason == "inland":
            f.error("reason", DOMESTIC_MOVE_REFUSED)
        moved = _move_date(f, "move_out", ctx.today, rules.move_out_problem)
        abroad = self._abroad(f) if reason == "ausland" else None
        plans: list[PersonPlan] = []
        seen: set[str] = set()
        for entry in f.sections("persons", ask=ASK_PERSONS):
            record = _existing(ctx, entry, seen)
            if record is None or reason is None or reason == "inland" or moved is None:
                continue
            plan = self._plan(f, entry, record, moved, reason, abroad)
            if plan is not None:
                plans.append(plan)
        _acknowledge_minors(ctx, f, plans, moved)
        f.raise_errors()
        assert moved is not None
        return _payload(ctx, "abmeldung", plans, moved, None, None)

    @staticmethod
    def _abroad(f: Section) -> tuple[str, str] | None:
        country = f.country("country", required=True)
        if country == GERMANY:
            f.error("country", DOMESTIC_MOVE_REFUSED)
            return None
        address = f.name("foreign_address", required=True, data_type=DataType.C)
        return (country, address) if country and address else None

    @staticmethod
    def _plan(f: Section, entry: Section, record: PersonRecord, moved: date, reason: str,
              abroad: tuple[str, str] | None) -> PersonPlan | None:
        if reason == "ausland" and abroad is None:
            return None  # the country or address is missing: already reported
        if abroad is None:
            left = _left_dwelling(entry, record, "neben", "keine Abmeldung möglich")
            close = [left] if left else []
        else:
            close = domestic_current(record)
            if not close:
                entry.error("person_id", f"{record.display_name} ist in der Stadt nicht (mehr) "
                                         "gemeldet.")
        if not close:
            return None
        _check_order(f, "move_out", moved, close)
        plan = PersonPlan(Registrant.of_record(record), record=record, close=close,
                          confirmed=[(r.address.one_line(), r.kind) for r in close])
        if abroad is not None:
            plan.residence = _foreign_residence(abroad, moved, close)
        return plan

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        apply_registration(ctx, payload)


def _foreign_residence(abroad: tuple[str, str], moved: date, left: Sequence[Residence],
                       ) -> dict[str, Any]:
    """Where the person went abroad, kept as history (starts and ends on the day of leaving:
    see the module's decisions), with the dwelling left as its previous address."""
    main = next((r for r in left if r.kind in MAIN_KINDS), left[0])
    country, address = abroad
    return {"id": new_id(), "kind": "alleinig", "country": country, "foreign_address": address,
            "move_in": moved.isoformat(), "move_out": moved.isoformat(),
            "previous_address": main.address.one_line()}
