"""Reading a person's whole record, audited.

Every front end opens a person through `open_person`, which writes the audit entry (who, when,
why) before returning the data: there is no unaudited way to the full record.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from clerk_app import audit, clerks
from clerk_app.errors import NotFoundError
from clerk_app.models import (
    Address,
    FormerName,
    HouseholdMember,
    IdDocument,
    InformationBlock,
    PersonRecord,
    Relation,
    Residence,
    display_name,
    parse_date,
)
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts


def open_person(store: Store, person_id: str, purpose: str, detail: str | None = None,
                ) -> PersonRecord:
    """The full record of one person, with an audit entry for the read."""
    store.actor.require(clerks.PERSON_READ)
    record = load_person(store, person_id)
    audit.record(store, audit.READ, person_id, purpose, detail)
    return record


def load_person(store: Store, person_id: str) -> PersonRecord:
    """The full record without an audit entry: for the core's own rule checks only."""
    rows = fetch_dicts(store.conn, "SELECT * FROM persons WHERE id = ?", (person_id,))
    if not rows:
        raise NotFoundError("Die Person ist im Melderegister nicht (mehr) vorhanden.",
                            "person not found in the register")
    p = rows[0]
    return PersonRecord(
        id=p["id"], version=p["version"], family_name=p["family_name"],
        first_names=p["first_names"], everyday_name=p["everyday_name"],
        birth_name=p["birth_name"], doctorate=p["doctorate"],
        religious_name=p["religious_name"], artist_name=p["artist_name"],
        birth_date=parse_date(p["birth_date"]), birth_place=p["birth_place"],
        birth_country=p["birth_country"], sex=p["sex"],
        nationalities=tuple(json.loads(p["nationalities"] or "[]")),
        religion=p["religion"], marital_status=p["marital_status"],
        marital_date=parse_date(p["marital_date"]), marital_place=p["marital_place"],
        household_id=p["household_id"],
        former_names=tuple(_former_names(store, person_id)),
        residences=tuple(_residences(store, person_id)),
        household=tuple(_household(store, p["household_id"], person_id)),
        documents=tuple(_documents(store, person_id)),
        blocks=tuple(_blocks(store, person_id)),
        relations=tuple(_relations(store, person_id)),
    )


def _former_names(store: Store, person_id: str) -> list[FormerName]:
    return [FormerName(r["kind"], r["name"], parse_date(r["valid_until"]))
            for r in fetch_dicts(store.conn, "SELECT * FROM former_names WHERE person_id = ? "
                                             "ORDER BY id", (person_id,))]


def _residences(store: Store, person_id: str) -> list[Residence]:
    """Current residences first (main before secondary), then history, newest first."""
    rows = fetch_dicts(store.conn, """
        SELECT * FROM residences WHERE person_id = ?
        ORDER BY move_out IS NOT NULL, kind = 'neben', move_in DESC""", (person_id,))
    return [Residence(
        id=r["id"], kind=r["kind"], address=_address(r), move_in=parse_date(r["move_in"]),
        move_out=parse_date(r["move_out"]), previous_address=r["previous_address"])
        for r in rows]


def _address(r: dict[str, Any]) -> Address:
    return Address(street=r["street"] or "", house_number=r["house_number"] or "",
                   postal_code=r["postal_code"] or "", city=r["city"] or "",
                   district=r["district"] or "", country=r["country"] or "DEU",
                   foreign_address=r["foreign_address"] or "")


def _household(store: Store, household_id: str | None, person_id: str) -> list[HouseholdMember]:
    if not household_id:
        return []
    rows = fetch_dicts(store.conn, """
        SELECT id, family_name, first_names, doctorate, birth_date FROM persons
        WHERE household_id = ? AND id != ? ORDER BY birth_date""", (household_id, person_id))
    return [HouseholdMember(r["id"], display_name(r["family_name"], r["first_names"],
                                                  r["doctorate"]), parse_date(r["birth_date"]))
            for r in rows]


def _documents(store: Store, person_id: str) -> list[IdDocument]:
    return [IdDocument(r["id"], r["doc_type"], r["number"], r["authority"],
                       parse_date(r["issued_on"]), parse_date(r["valid_until"]))
            for r in fetch_dicts(store.conn, "SELECT * FROM id_documents WHERE person_id = ? "
                                             "ORDER BY valid_until DESC", (person_id,))]


def _blocks(store: Store, person_id: str) -> list[InformationBlock]:
    return [InformationBlock(r["id"], r["kind"], r["legal_basis"], r["reason"],
                             date.fromisoformat(r["since"]), parse_date(r["until"]))
            for r in fetch_dicts(store.conn, "SELECT * FROM information_blocks "
                                             "WHERE person_id = ? ORDER BY since", (person_id,))]


RELATIONS_SQL = """
SELECT r.kind, r.related_id, r.since, p.family_name, p.first_names, p.doctorate, p.birth_date
  FROM relations r LEFT JOIN persons p ON p.id = r.related_id
 WHERE r.person_id = ?
 ORDER BY CASE r.kind WHEN 'ehegatte' THEN 0 WHEN 'lebenspartner' THEN 0 WHEN 'vertreter' THEN 1
          WHEN 'elternteil' THEN 2 WHEN 'kind' THEN 3 ELSE 4 END, p.birth_date, r.related_id
"""


def _relations(store: Store, person_id: str) -> list[Relation]:
    """Spouses first, then representatives, parents, children (§ 3 (1) BMG), with the related
    persons' names; a related person not (yet) in this register keeps an empty name."""
    return [Relation(kind=r["kind"], person_id=r["related_id"],
                     display_name=display_name(r["family_name"], r["first_names"],
                                               r["doctorate"])
                     if r["family_name"] is not None else "",
                     birth_date=parse_date(r["birth_date"]), since=parse_date(r["since"]))
            for r in fetch_dicts(store.conn, RELATIONS_SQL, (person_id,))]
