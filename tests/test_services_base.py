"""The service framework: one transaction per command, outbox row, idempotent per command id."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clerk_app.errors import FormError, ValidationError
from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.services.runner import run_service
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, HouseholdService, count, registered


@pytest.fixture(autouse=True)
def _service() -> Iterator[None]:
    with registered(HouseholdService()):
        yield


def test_completed_service_writes_effect_and_outbox_together(store: Store) -> None:
    cid = uuid7()
    result = run_service(store, "test_household", {"id": "h1"}, cid)
    assert result.command_id == cid and not result.replayed
    (row,) = store.query("SELECT * FROM outbox")
    assert (row["command_id"], row["type"], row["status"]) == (cid, "test_household", "pending")
    assert json.loads(row["payload"]) == {"household_id": "h1",
                                          "number": "TST-SCHALTER3-" + row["created_at"][:4]
                                          + "-000001"}
    assert count(store, "households") == 1


def test_double_submit_returns_the_stored_result(store: Store) -> None:
    cid = uuid7()
    first = run_service(store, "test_household", {"id": "h1"}, cid)
    second = run_service(store, "test_household", {"id": "h2"}, cid)
    assert second.replayed and second.command_id == first.command_id
    assert count(store, "households") == 1 and count(store, "outbox") == 1


@pytest.mark.parametrize("form", [{"id": "crash"}, {"id": "x", "fail": "validation"}])
def test_failure_leaves_nothing(store: Store, form: dict[str, Any]) -> None:
    with pytest.raises((RuntimeError, FormError)):
        run_service(store, "test_household", form, uuid7())
    assert [count(store, t) for t in ("households", "outbox", "counters")] == [0, 0, 0]


def test_two_threads_submitting_the_same_command_apply_it_once(tmp_path: Path) -> None:
    """Enter pressed twice, two workers: each with its own connection, as in the app."""
    key, path = new_key(), tmp_path / "r.db"
    open_store(path, key, Actor("a", "b", COUNTER_ROLES), create=True).close()
    cid, results, barrier = uuid7(), [], threading.Barrier(2)

    def submit() -> None:
        with open_store(path, key, Actor("a", "b", COUNTER_ROLES)) as store:
            barrier.wait()
            results.append(run_service(store, "test_household", {"id": "h1"}, cid))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.replayed for r in results) == [False, True]
    with open_store(path, key, Actor("a", "b", COUNTER_ROLES)) as store:
        assert count(store, "households") == 1 and count(store, "outbox") == 1


def test_unknown_service_is_refused(store: Store) -> None:
    with pytest.raises(ValidationError):
        run_service(store, "zaubern", {}, uuid7())
