"""Hand-made register rows for tests that need a few exact persons, not a demo register."""

from __future__ import annotations

import uuid

from clerk_app.names import search_form
from clerk_app.search_index import reindex_person
from clerk_app.store.db import Store


def add_person(store: Store, family: str, first: str, born: str | None = "1964-08-12", *,
               street: str = "Hauptstraße", number: str = "12", block: bool = False,
               former: tuple[str, ...] = ()) -> str:
    """Insert one person with a current main residence (and optionally a block); returns id."""
    pid = str(uuid.uuid4())
    with store.transaction() as db:
        db.execute(
            "INSERT INTO persons (id, family_name, first_names, birth_date, family_sf, given_sf,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'x', 'x')",
            (pid, family, first, born, search_form(family), search_form(first)))
        db.execute(
            "INSERT INTO residences (id, person_id, kind, street, house_number, postal_code, "
            "city, district, move_in) VALUES (?, ?, 'haupt', ?, ?, '79539', 'Lörrach', "
            "'Stadtmitte', '2010-01-01')", (str(uuid.uuid4()), pid, street, number))
        for name in former:
            db.execute("INSERT INTO former_names (person_id, kind, name) "
                       "VALUES (?, 'Geburtsname', ?)", (pid, name))
        if block:
            db.execute("INSERT INTO information_blocks (id, person_id, kind, legal_basis, since)"
                       " VALUES (?, ?, 'Auskunftssperre', '§ 51 BMG', '2020-01-01')",
                       (str(uuid.uuid4()), pid))
        reindex_person(db, pid)
    return pid
