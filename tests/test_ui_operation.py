"""`ui.operation.Op`: the one way from a widget to the register, on a real worker thread and a
real encrypted register: answers for a deleted or closed owner are dropped, the latest request
under a key wins, failures and progress are reported, a service's field errors stay apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from clerk_app.clerks import demo_actor
from clerk_app.errors import ClerkError
from clerk_app.ids import uuid7
from clerk_app.store import opening
from clerk_app.store.db import Store
from tests.factories import make_cfg
from ui.db_worker import DbWorker
from ui.operation import Op, ServiceOp, drop, owner_gone


@pytest.fixture
def db(qtbot: QtBot, tmp_path: Path) -> Iterator[DbWorker]:
    cfg = make_cfg(tmp_path / "data")
    with opening.open_register(cfg, create=True):
        pass
    worker = DbWorker(cfg, demo_actor(cfg.workstation))
    with qtbot.waitSignal(worker.opened, timeout=10_000):
        worker.start()
    yield worker
    worker.shutdown()


def slow(value: object, gate: threading.Event | None = None) -> object:
    """Work that waits (for `gate`, or a moment) so the UI can act before the answer."""
    def work(_store: Store) -> object:
        if gate is not None:
            gate.wait(5)
        else:
            time.sleep(0.05)
        return value
    return work


def test_the_answer_comes_on_the_ui_thread(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    seen: list[tuple[object, bool]] = []
    Op(owner, lambda store: store.schema_version,
       lambda v: seen.append((v, threading.current_thread() is threading.main_thread())),
       what="schema").run(db)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    value, on_ui_thread = seen[0]
    assert isinstance(value, int) and value > 0
    assert on_ui_thread


def test_a_deleted_owner_gets_no_answer(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    seen: list[object] = []
    gate = threading.Event()
    Op(owner, slow("late", gate), seen.append, what="late").run(db)
    owner.deleteLater()
    qtbot.waitUntil(lambda: owner_gone(owner), timeout=5000)
    gate.set()
    marker: list[object] = []
    Op(QObject(db), slow("after"), marker.append, what="after").run(db)   # queued behind it
    qtbot.waitUntil(lambda: bool(marker), timeout=5000)
    assert seen == []


def test_a_closed_dialog_gets_no_answer(qtbot: QtBot, db: DbWorker) -> None:
    dialog = QDialog()
    qtbot.addWidget(dialog)
    seen: list[object] = []
    failed: list[str] = []
    gate = threading.Event()
    Op(dialog, slow("late", gate), seen.append, what="late").failure(
        lambda de, _en: failed.append(de)).run(db)
    dialog.open()
    dialog.reject()
    assert owner_gone(dialog)
    gate.set()
    marker: list[object] = []
    Op(db, slow("after"), marker.append, what="after").run(db)
    qtbot.waitUntil(lambda: bool(marker), timeout=5000)
    assert seen == [] and failed == []


def test_the_latest_request_under_a_key_wins(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    seen: list[object] = []
    other: list[object] = []
    for text in ("m", "mu", "mue"):
        Op(owner, slow(text), seen.append, what="lookup").latest("search").run(db)
    Op(owner, slow("own key"), other.append, what="other").latest("other").run(db)
    qtbot.waitUntil(lambda: bool(other), timeout=5000)
    assert seen == ["mue"]
    assert other == ["own key"], "another key is not made stale"


def test_drop_makes_the_request_in_flight_stale(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    seen: list[object] = []
    Op(owner, slow("scan"), seen.append, what="scan").latest("scan").run(db)
    drop(owner, "scan")
    marker: list[object] = []
    Op(owner, slow("after"), marker.append, what="after").run(db)
    qtbot.waitUntil(lambda: bool(marker), timeout=5000)
    assert seen == []


def test_a_failure_is_said_in_german_and_progress_ends(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    steps: list[object] = []

    def broken(_store: Store) -> None:
        raise ClerkError("Das Melderegister ist gesperrt.", "register locked")

    Op(owner, broken, steps.append, what="broken").failure(
        lambda de, en: steps.append((de, en))).with_progress(
            lambda on: steps.append(f"busy {on}")).run(db)
    assert steps == ["busy True"]
    qtbot.waitUntil(lambda: len(steps) == 3, timeout=5000)
    assert steps[1:] == ["busy False", ("Das Melderegister ist gesperrt.", "register locked")]


def test_a_service_keeps_field_errors_apart(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    errors: list[dict[str, str]] = []
    other: list[object] = []
    ServiceOp(owner, "meldebescheinigung", {"person_id": "nobody", "variant": "einfach"},
              uuid7()).success(other.append).form_errors(errors.append).failure(
                  lambda de, _en: other.append(de)).run(db)
    qtbot.waitUntil(lambda: bool(errors or other), timeout=5000)
    assert other == []
    assert errors and all(isinstance(k, str) and v for k, v in errors[0].items())


def test_a_precheck_answer_stops_the_service(qtbot: QtBot, db: DbWorker) -> None:
    owner = QObject()
    answered: list[object] = []
    ran: list[object] = []
    ServiceOp(owner, "meldebescheinigung", {}, uuid7()).success(ran.append).form_errors(
        ran.append).precheck(lambda _store: "duplicates", answered.append).run(db)
    qtbot.waitUntil(lambda: bool(answered or ran), timeout=5000)
    assert answered == ["duplicates"] and ran == []
