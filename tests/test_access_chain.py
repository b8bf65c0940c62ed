"""The access log as a hash chain: a deleted, changed or inserted entry is found; the triggers
refuse UPDATE and DELETE; retention deletes behind a signed checkpoint and the rest of the
chain stays verifiable; each person of a shown search result is logged."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlcipher3

from clerk_app import access_chain, audit
from clerk_app.access_chain import apply_retention, retention_cutoff, verify
from clerk_app.seal import SealKey
from clerk_app.search import record_shown, search
from clerk_app.store.chain_hash import GENESIS, entry_hash
from clerk_app.store.db import Store
from tests.factories import add_person

KEY = SealKey.generate()
KEYS = {KEY.key_id: KEY.public}


def log_some(store: Store, n: int = 6) -> None:
    for i in range(n):
        audit.record(store, audit.READ, f"p{i}", "Auskunft", None)


def kinds(store: Store) -> set[str]:
    return {p.kind for p in verify(store, KEYS)}


def without_triggers(store: Store) -> None:
    """What someone holding the register key can do."""
    store.conn.execute("DROP TRIGGER audit_log_no_update")
    store.conn.execute("DROP TRIGGER audit_log_no_delete")


def test_entries_are_chained_and_the_chain_verifies(store: Store) -> None:
    log_some(store)
    rows = store.query("SELECT * FROM audit_log ORDER BY id")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert all(r["hash"] == entry_hash(r, r["prev_hash"]) for r in rows)
    assert verify(store, KEYS) == []


def test_triggers_refuse_update_and_delete(store: Store) -> None:
    log_some(store, 2)
    for sql in ("UPDATE audit_log SET clerk = 'niemand' WHERE id = 1",
                "DELETE FROM audit_log WHERE id = 2"):
        with pytest.raises(sqlcipher3.IntegrityError, match="append-only"):
            store.conn.execute(sql)
    assert len(store.query("SELECT * FROM audit_log")) == 2


def test_a_deleted_entry_is_found(store: Store) -> None:
    log_some(store)
    without_triggers(store)
    store.conn.execute("DELETE FROM audit_log WHERE id = 3")
    assert {"gap", "break"} <= kinds(store)


def test_the_deleted_last_entries_are_found_at_the_centre_not_here(store: Store) -> None:
    """Cutting the end leaves a consistent chain locally; the centre holds the later head
    (see test_clerk_accounts: the centre detects a gap)."""
    log_some(store)
    without_triggers(store)
    store.conn.execute("DELETE FROM audit_log WHERE id = 6")
    assert kinds(store) == set()


def test_a_changed_entry_is_found(store: Store) -> None:
    log_some(store)
    without_triggers(store)
    store.conn.execute("UPDATE audit_log SET purpose = 'Dienstlich' WHERE id = 4")
    problems = verify(store, KEYS)
    assert [(p.kind, p.entry_id) for p in problems] == [("changed", 4)]


def test_an_inserted_entry_is_found(store: Store) -> None:
    log_some(store)
    without_triggers(store)
    # Slipped in after entry 2: the later entries renumbered to make room.
    store.conn.execute("UPDATE audit_log SET id = id + 100 WHERE id > 2")
    store.conn.execute("UPDATE audit_log SET id = id - 99 WHERE id > 100")
    row = store.query("SELECT * FROM audit_log WHERE id = 2")[0]
    fake = {**row, "id": 3, "person_id": "jemand", "prev_hash": row["hash"]}
    store.conn.execute(
        "INSERT INTO audit_log (id, at, clerk, workstation, action, person_id, purpose, "
        "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (3, fake["at"], fake["clerk"], fake["workstation"], "read", "jemand", "x", None,
         fake["prev_hash"], entry_hash(fake | {"action": "read", "purpose": "x",
                                               "detail": None}, fake["prev_hash"])))
    assert kinds(store) & {"break", "changed"}


def test_retention_deletes_behind_a_signed_checkpoint_and_the_rest_verifies(
        store: Store) -> None:
    old = datetime(2024, 3, 1, tzinfo=UTC).isoformat(timespec="seconds")
    for i in range(3):
        access_chain.append(store.conn, {"at": old, "clerk": "a", "workstation": "w",
                                         "action": "read", "person_id": f"alt{i}",
                                         "purpose": "Auskunft"})
    log_some(store, 2)
    assert apply_retention(store, KEY, date(2025, 6, 1)) == 3
    assert [r["id"] for r in store.query("SELECT id FROM audit_log")] == [4, 5]
    assert verify(store, KEYS) == []
    log_some(store, 1)  # the chain goes on
    assert verify(store, KEYS) == []
    # The checkpoint is append-only, and a foreign key's signature does not verify.
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("DELETE FROM audit_checkpoints")
    other = SealKey.generate()
    assert {p.kind for p in verify(store, {KEY.key_id: other.public})} == {"checkpoint"}
    # Entries after the checkpoint are still refused deletion.
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("DELETE FROM audit_log WHERE id = 4")


def test_retention_keeps_twelve_months_and_clears_the_year_before() -> None:
    assert retention_cutoff(date(2026, 12, 31)) == date(2025, 12, 31)
    assert retention_cutoff(date(2028, 2, 29)) == date(2027, 2, 28)


def test_each_person_of_a_shown_search_result_is_logged(store: Store) -> None:
    ids = {add_person(store, "Brandt", first) for first in ("Erika", "Paul", "Ida")}
    hits = search(store, "brandt")
    record_shown(store, hits, "Suche am Schalter")
    rows = store.query("SELECT action, person_id, clerk FROM audit_log")
    assert {r["person_id"] for r in rows} == ids
    assert {(r["action"], r["clerk"]) for r in rows} == {("search", "mmuster")}
    assert verify(store, KEYS) == []


def test_command_line_checks_the_chain_and_applies_the_retention(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clerk_app.command_line import main
    from clerk_app.store.opening import open_register
    from tests.factories import make_cfg

    cfg = make_cfg(tmp_path / "data")
    with open_register(cfg, create=True) as store:
        access_chain.append(store.conn, {"at": "2020-01-01T00:00:00+00:00", "clerk": "a",
                                         "workstation": "w", "action": "read",
                                         "person_id": "p", "purpose": "x"})
        log_some(store, 2)
    assert main(["access-log", "verify"]) == 0
    assert "Kette intakt" in capsys.readouterr().out
    assert main(["access-log", "retention"]) == 0
    assert "1 Einträge" in capsys.readouterr().out
    assert main(["access-log", "verify"]) == 0
    with open_register(cfg) as store:
        without_triggers(store)
        store.conn.execute("UPDATE audit_log SET purpose = 'y' WHERE id = 3")
    assert main(["access-log", "verify"]) == 1
    assert "changed" in capsys.readouterr().out
