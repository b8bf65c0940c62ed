"""Set-up shared by the tests: a test configuration, a demo register, hand-made register rows
for tests that need a few exact persons, the street directory, services run on a fixed day,
an in-memory keyring, and reading a PDF's text. No Qt here (the UI tests' own helpers are in
`tests/ui_support.py`)."""

from __future__ import annotations

import dataclasses
import io
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from pypdf import PdfReader

from clerk_app.config import Config
from clerk_app.errors import FormError
from clerk_app.ids import uuid7
from clerk_app.names import search_form
from clerk_app.search_index import reindex_person
from clerk_app.services.base import Service, ServiceContext, ServiceResult
from clerk_app.services.runner import SERVICES, run_service
from clerk_app.store import opening
from clerk_app.store.db import Store
from clerk_app.streets import Street, store_street_directory

# The roles of the counter clerks the tests work as (services, cash desk, closing the day).
COUNTER_ROLES = ("sachbearbeitung", "kasse", "teamleitung")

# The day the service tests issue on (`issue`), and the moment.
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


# --- configuration and registers -------------------------------------------------------------

def make_cfg(data_dir: Path, **changes: object) -> Config:
    """A demo configuration for Schalter 3 (the demo clerk works there), with its data in
    `data_dir`."""
    values: dict[str, object] = {"mode": "demo", "demo_residents": 1500,
                                 "workstation": "Schalter 3", **changes}
    return dataclasses.replace(Config(), data_dir=str(data_dir), **values)  # type: ignore[arg-type]


@contextmanager
def demo_register(cfg: Config, residents: int) -> Iterator[Store]:
    """A new register for `cfg` with `residents` made-up residents (and the street
    directory), open for the hand-made persons a test module adds. The demo generator
    (Faker) is imported here, where it is used, not with the tests."""
    from clerk_app.demo.build import build_demo_register

    with opening.open_register(cfg, create=True) as store:
        build_demo_register(store, residents=residents)
        yield store


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


def load_streets(store: Store) -> list[Street]:
    """Load the street directory into `store`, in a transaction of its own."""
    return store_street_directory(store)


def count(store: Store, table: str, where: str = "1") -> int:
    """Rows of `table` (that match `where`)."""
    return int(store.conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])


# --- services ---------------------------------------------------------------------------------

def issue(store: Store, service: str, form: dict[str, Any],
          command_id: str | None = None) -> ServiceResult:
    """Run `service` at NOW on TODAY (a new command id unless one is given)."""
    return run_service(store, service, form, command_id or uuid7(), now=lambda: NOW,
                       today=TODAY)


# --- keys and documents ----------------------------------------------------------------------

class MemoryKeyring(KeyringBackend):
    """A real keyring backend (in memory) standing in for the Secret Service on CI."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@contextmanager
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The process's keyring is a fresh `MemoryKeyring` inside the block, the old one after."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def text_of(pdf: bytes) -> str:
    """All text of all pages, whitespace collapsed (pypdf separates Qt's words by tabs)."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFC", " ".join(text.split()))


class HouseholdService:
    """A minimal real service for the framework's own tests: creates a household; on request
    it fails validation ({"fail": "validation"}) or crashes half way ({"id": "crash"})."""

    type = "test_household"
    permission = "registration"

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        if form.get("fail") == "validation":
            raise FormError({"name": "Bitte einen Namen angeben."})
        return {"household_id": form["id"], "number": ctx.number("TST")}

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        ctx.conn.execute("INSERT INTO households (id, created_at) VALUES (?, ?)",
                         (payload["household_id"], ctx.now.isoformat()))
        if payload["household_id"] == "crash":
            raise RuntimeError("power cut half way")


@contextmanager
def registered(service: Service) -> Iterator[None]:
    """A test-only service known to `run_service` for the duration of the block."""
    SERVICES[service.type] = service
    try:
        yield
    finally:
        SERVICES.pop(service.type)
