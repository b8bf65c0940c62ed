"""Relations in the register (§ 3 (1) Nr. 9, 15-17 BMG): spouses and registered partners,
children and parents, legal representatives and the minors they represent.

A relation is stored on both sides, one row in each person's aggregate (`relations`, schema
version 8): "Anna's spouse is Ben" and "Ben's spouse is Anna". Each person's record then says
whole who belongs to them, replicates as one aggregate, and is kept through moves (a relation
names persons, never a household or an address).

Children and legal representatives are two relations, not one: the register keeps the minor
children (Nr. 17) and the legal representatives (Nr. 9) apart, because a parent need not hold
custody and a guardian need not be a parent.

The move rules (`minor_warnings`) name what a clerk must see before a minor is moved or left
behind: a minor moving without any of their legal representatives, and a minor who would stay
at an address no adult of their family still lives at. Both are warnings to acknowledge, not
refusals: a 17-year-old may move out with the representatives' consent, which the register
does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clerk_app import audit
from clerk_app.errors import NotFoundError
from clerk_app.form_reading import Section
from clerk_app.ids import new_id
from clerk_app.models import RELATION_LABELS, Address, PersonRecord
from clerk_app.person_record import load_person
from clerk_app.services.base import ServiceContext
from clerk_app.store.db import Store

__all__ = [
    "ACKNOWLEDGE_MINORS",
    "ADULT_AGE",
    "INVERSE",
    "RELATION_KINDS",
    "Family",
    "Mover",
    "acknowledge_minors",
    "age_on",
    "apply_relations",
    "is_minor",
    "minor_warnings",
    "read_family",
]

# The relation's kind, as it is seen from the person whose row it is: "kind" = the related
# person is my child.
RELATION_KINDS = RELATION_LABELS
INVERSE = {"ehegatte": "ehegatte", "lebenspartner": "lebenspartner", "kind": "elternteil",
           "elternteil": "kind", "vertreter": "vertreten", "vertreten": "vertreter"}
ADULT_AGE = 18  # § 2 BGB: of age at 18; legal representation ends then
# The form's box for the move warnings about minors (same key in all three registrations).
ACKNOWLEDGE_MINORS = "minors_confirmed"
_ADULT_SIDE = {"vertreter": "Ein gesetzlicher Vertreter muss volljährig sein."}
_MINOR_SIDE = {"vertreten": "Gesetzlich vertreten werden hier nur Minderjährige."}


# --- age ---------------------------------------------------------------------------------------

def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day` (a birthday on 29 February counts from 1 March)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def is_minor(birth_date: date | None, day: date) -> bool:
    """Under 18 on `day`; an unknown birth date is not taken for a minor's."""
    return birth_date is not None and age_on(birth_date, day) < ADULT_AGE


# --- what a registration form asks for ------------------------------------------------------

@dataclass
class Family:
    """The relations a registration adds: the rows to write (both sides of each), and per
    person the legal representatives named in it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    representatives: dict[str, set[str]] = field(default_factory=dict)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, person_id: str, kind: str, related_id: str, since: date) -> None:
        """Both rows of one relation, ids minted now (in prepare: a re-applied payload writes
        the same rows); a relation named twice (from both sides) is added once."""
        if (person_id, kind, related_id) in self._seen:
            return
        self._seen |= {(person_id, kind, related_id), (related_id, INVERSE[kind], person_id)}
        if kind == "vertreter":
            self.representatives.setdefault(person_id, set()).add(related_id)
        elif kind == "vertreten":
            self.representatives.setdefault(related_id, set()).add(person_id)
        for mine, theirs, k in ((person_id, related_id, kind),
                                (related_id, person_id, INVERSE[kind])):
            self.rows.append({"id": new_id(), "person_id": mine, "kind": k,
                              "related_id": theirs, "since": since.isoformat()})


def read_family(store: Store, entries: Sequence[Section],
                people: Mapping[int, tuple[str, date | None]], day: date) -> Family:
    """The relations the form's persons name: each entry's "relations": [{"kind": ...,
    "person": <position in the form>} or {"kind": ..., "person_id": "<uuid>"}] ("the person
    named is my <kind>"). `people`: position -> (person id, birth date) of the entries that
    were read without problems. Problems are recorded under "persons.<i>.relations.<j>.…";
    relations the register already holds are not added again."""
    family = Family()
    for position, entry in enumerate(entries):
        value = entry.data.get("relations")
        if value is None or value == []:
            continue
        if not isinstance(value, list):
            entry.error("relations", "Die Angaben zur Familie sind unvollständig.")
            continue
        for item in entry.sections("relations"):
            _read_one(store, item, position, people, day, family)
    return family


def _read_one(store: Store, item: Section, position: int,
              people: Mapping[int, tuple[str, date | None]], day: date, family: Family) -> None:
    kind = item.choice("kind", RELATION_KINDS, required=True)
    other = _related(store, item, position, people)
    me = people.get(position)
    if kind is None or other is None or me is None:
        return
    related_id, born = other
    if kind in _ADULT_SIDE and is_minor(born, day):
        item.error("kind", _ADULT_SIDE[kind])
    elif kind in _MINOR_SIDE and born is not None and not is_minor(born, day):
        item.error("kind", _MINOR_SIDE[kind])
    elif store.conn.execute("SELECT 1 FROM relations WHERE person_id = ? AND kind = ? AND "
                            "related_id = ?", (me[0], kind, related_id)).fetchone() is None:
        family.add(me[0], kind, related_id, day)


def _related(store: Store, item: Section, position: int,
             people: Mapping[int, tuple[str, date | None]]) -> tuple[str, date | None] | None:
    """The related person: another entry of the form, or a person in the register."""
    if item.data.get("person") is not None:
        index = item.integer("person")
        if index is None:
            return None
        if index == position or index < 0:
            item.error("person", "Bitte eine andere Person dieser Meldung wählen.")
            return None
        return people.get(index)   # None: that entry has its own problems (or is missing)
    related_id = item.text("person_id", required=True, max_length=64)
    if related_id is None:
        return None
    me = people.get(position)
    if me is not None and me[0] == related_id:
        item.error("person_id", "Eine Person kann nicht mit sich selbst verwandt sein.")
        return None
    record = _load(store, related_id)
    if record is None:
        item.error("person_id", "Die Person ist im Melderegister nicht (mehr) vorhanden.")
        return None
    return related_id, record.birth_date


# --- writing (in the service's transaction) ---------------------------------------------------

def apply_relations(ctx: ServiceContext, rows: Iterable[Mapping[str, Any]],
                    written: Iterable[str], purpose: str, detail: str) -> None:
    """Write relation rows from a payload. A person outside `written` (already changed by the
    command) gains a row of their own aggregate: their version is recorded and raised, and
    the change audited, as for any change of a person. In a lenient central replay (a
    Klärfall decided) a person no longer there gets no row (it would make them a tombstone)."""
    done = set(written)
    missing: set[str] = set()
    for row in rows:
        person_id = row["person_id"]
        if person_id in missing:
            continue
        if person_id not in done:
            if not ctx.touch("persons", person_id):   # 0: gone, in a lenient replay only
                missing.add(person_id)
                continue
            ctx.conn.execute("UPDATE persons SET version = version + 1, updated_at = ? "
                             "WHERE id = ?", (ctx.now.isoformat(timespec="seconds"), person_id))
            ctx.audit(audit.UPDATE, person_id, purpose, detail)
            done.add(person_id)
        ctx.conn.execute(
            "INSERT OR IGNORE INTO relations (id, person_id, kind, related_id, since) "
            "VALUES (?, ?, ?, ?, ?)",
            (row["id"], person_id, row["kind"], row["related_id"], row["since"]))


# --- moves and minors -------------------------------------------------------------------------

@dataclass(frozen=True)
class Mover:
    """A person of a registration: their record (None for a new person), birth date, the
    addresses they leave, and their legal representatives named in this registration."""

    person_id: str
    name: str
    birth_date: date | None
    record: PersonRecord | None
    leaving: tuple[Address, ...]
    representatives: frozenset[str] = frozenset()


def minor_warnings(store: Store, movers: Sequence[Mover], day: date) -> list[str]:
    """What the clerk must acknowledge before minors move or stay behind (German, one
    sentence each): a new minor without a legal representative named, a minor moving without
    any of their legal representatives (where none is recorded: without any adult), and a
    minor who stays at an address that no adult of their family (household, parents, legal
    representatives) keeps living at."""
    moving = {m.person_id for m in movers}
    adult_moves = any(m.birth_date is not None and not is_minor(m.birth_date, day)
                      for m in movers)
    warnings: list[str] = []
    for mover in movers:
        if not is_minor(mover.birth_date, day):
            continue
        representatives = _representatives(mover)
        if representatives and not representatives & moving:
            warnings.append(f"{mover.name} ist minderjährig und zieht ohne einen "
                            "gesetzlichen Vertreter um.")
        elif not representatives and mover.record is None:
            warnings.append(f"Für {mover.name} (minderjährig) ist kein gesetzlicher Vertreter "
                            "angegeben.")
        elif not representatives and not adult_moves:
            warnings.append(f"{mover.name} ist minderjährig; kein gesetzlicher Vertreter ist "
                            "eingetragen, und kein Erwachsener ist in dieser Meldung.")
    return warnings + _left_behind(store, movers, moving, day)


def acknowledge_minors(form: Section, store: Store, movers: Sequence[Mover], day: date) -> None:
    """Unless the clerk ticked the box: the warnings about minors as the box's problem."""
    warnings = minor_warnings(store, movers, day)
    if warnings:
        form.confirmed(ACKNOWLEDGE_MINORS, " ".join(warnings) + " Bitte prüfen und den "
                       "Hinweis bestätigen.")


def _representatives(mover: Mover) -> set[str]:
    known = {r.person_id for r in mover.record.relations if r.kind == "vertreter"} \
        if mover.record is not None else set()
    return known | set(mover.representatives)


def _left_behind(store: Store, movers: Sequence[Mover], moving: set[str], day: date,
                 ) -> list[str]:
    """Minors of the movers' families who stay at an address a mover leaves, with no adult of
    their family staying there."""
    left = {a for m in movers for a in m.leaving}
    candidates: dict[str, None] = {}
    for mover in movers:
        if mover.record is None:
            continue
        for member in mover.record.household:
            candidates.setdefault(member.person_id)
        for relation in mover.record.relations:
            if relation.kind in ("kind", "vertreten"):
                candidates.setdefault(relation.person_id)
    found: list[str] = []
    for child_id in (c for c in candidates if c not in moving):
        child = _load(store, child_id)
        if child is None or not is_minor(child.birth_date, day):
            continue
        stays = {r.address for r in child.current_residences} & left
        for address in sorted(stays, key=Address.one_line):
            if not _adult_stays(store, child, address, moving, day):
                found.append(f"{child.display_name} (minderjährig) bliebe ohne Erwachsenen "
                             f"der Familie in der Wohnung {address.one_line()}.")
    return found


def _adult_stays(store: Store, child: PersonRecord, address: Address, moving: set[str],
                 day: date) -> bool:
    family = [m.person_id for m in child.household] + [
        r.person_id for r in child.relations if r.kind in ("elternteil", "vertreter")]
    for person_id in dict.fromkeys(family):
        if person_id in moving:
            continue
        adult = _load(store, person_id)
        if adult is not None and not is_minor(adult.birth_date, day) and any(
                r.address == address for r in adult.current_residences):
            return True
    return False


def _load(store: Store, person_id: str) -> PersonRecord | None:
    try:
        return load_person(store, person_id)
    except NotFoundError:
        return None
