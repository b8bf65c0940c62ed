"""Drafts of service dialogs in the register: save, load, discard, purge, and `run_service`
removing the draft of its command in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from clerk_app.draft_store import discard_draft, load_drafts, purge_old_drafts, save_draft
from clerk_app.errors import FormError
from clerk_app.ids import uuid7
from clerk_app.services.runner import run_service
from clerk_app.store.db import Actor, Store
from tests.factories import COUNTER_ROLES, HouseholdService, registered

NOW = datetime(2026, 11, 25, 13, 32, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _service() -> Iterator[None]:
    with registered(HouseholdService()):
        yield


def drafts_count(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM drafts").fetchone()[0])


def test_save_load_discard(store: Store) -> None:
    first, second = uuid7(), uuid7()
    assert save_draft(store, "anmeldung", first, {"fields": {"a": "Müller"}}, now=NOW)
    assert save_draft(store, "meldebescheinigung", second, {"fields": {"purpose": "x"}},
                      person_id="p1", now=NOW + timedelta(minutes=1))
    drafts = load_drafts(store, "mmuster", "Schalter 3")
    assert [d.command_id for d in drafts] == [second, first]   # newest first
    assert drafts[0].person_id == "p1" and drafts[1].person_id is None
    assert drafts[1].data == {"fields": {"a": "Müller"}}
    assert drafts[1].updated_at == NOW
    assert (drafts[1].clerk, drafts[1].workstation) == ("mmuster", "Schalter 3")
    assert [d.command_id for d in load_drafts(store, "mmuster", "Schalter 3",
                                              kind="anmeldung")] == [first]
    assert load_drafts(store, "other", "Schalter 3") == []
    assert load_drafts(store, "mmuster", "Schalter 9") == []
    assert discard_draft(store, first)
    assert not discard_draft(store, first)
    assert [d.command_id for d in load_drafts(store, "mmuster", "Schalter 3")] == [second]


def test_save_is_an_upsert_by_command_id(store: Store) -> None:
    cid = uuid7()
    save_draft(store, "anmeldung", cid, {"v": 1}, now=NOW)
    save_draft(store, "anmeldung", cid, {"v": 2}, now=NOW + timedelta(seconds=5))
    (draft,) = load_drafts(store, "mmuster", "Schalter 3")
    assert draft.data == {"v": 2}
    assert draft.updated_at == NOW + timedelta(seconds=5)
    assert drafts_count(store) == 1


def test_drafts_are_the_actors_own(store: Store) -> None:
    other = Store(store.conn, store.path, Actor("kkollege", "Schalter 4", COUNTER_ROLES))
    save_draft(other, "anmeldung", uuid7(), {}, now=NOW)
    save_draft(store, "anmeldung", uuid7(), {}, now=NOW)
    assert len(load_drafts(store, "mmuster", "Schalter 3")) == 1
    assert len(load_drafts(store, "kkollege", "Schalter 4")) == 1


def test_old_drafts_are_purged(store: Store) -> None:
    old, fresh = uuid7(), uuid7()
    save_draft(store, "anmeldung", old, {}, now=NOW - timedelta(days=8))
    save_draft(store, "anmeldung", fresh, {}, now=NOW - timedelta(days=6))
    assert purge_old_drafts(store, now=NOW) == 1
    assert [d.command_id for d in load_drafts(store, "mmuster", "Schalter 3")] == [fresh]


def test_completed_service_deletes_its_draft_in_the_same_transaction(store: Store) -> None:
    cid, other = uuid7(), uuid7()
    save_draft(store, "test_household", cid, {"fields": {"id": "h1"}})
    save_draft(store, "test_household", other, {"fields": {"id": "h2"}})
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        run_service(store, "test_household", {"id": "h1"}, cid)
    finally:
        store.conn.set_trace_callback(None)
    assert [d.command_id for d in load_drafts(store, "mmuster", "Schalter 3")] == [other]
    # One transaction: the DELETE of the draft comes between BEGIN and the COMMIT that also
    # holds the outbox row.
    begin = next(i for i, s in enumerate(statements) if s.startswith("BEGIN"))
    commit = next(i for i, s in enumerate(statements) if s.startswith("COMMIT"))
    delete = next(i for i, s in enumerate(statements) if "DELETE FROM drafts" in s)
    outbox = next(i for i, s in enumerate(statements) if "INSERT INTO outbox" in s)
    assert begin < outbox < delete < commit
    assert sum(s.startswith("BEGIN") for s in statements) == 1


def test_failing_service_keeps_the_draft(store: Store) -> None:
    cid = uuid7()
    save_draft(store, "test_household", cid, {"fields": {"id": "crash"}})
    with pytest.raises(RuntimeError):
        run_service(store, "test_household", {"id": "crash"}, cid)
    with pytest.raises(FormError):
        run_service(store, "test_household", {"fail": "validation"}, cid)
    assert [d.command_id for d in load_drafts(store, "mmuster", "Schalter 3")] == [cid]


def test_no_draft_is_saved_for_a_completed_command(store: Store) -> None:
    cid = uuid7()
    run_service(store, "test_household", {"id": "h1"}, cid)
    assert not save_draft(store, "test_household", cid, {"late": "autosave"})
    assert drafts_count(store) == 0
