"""The workstation's sync in the window: status bar, background sync, Klärfälle dialog.

Real parts only: the central service runs as its own process on 127.0.0.1 (SQLite), the window
opens a workstation's encrypted register (enrolled with a one-time code), counter services run
through the window's DB worker, and the sync runs in the window's own sync thread. A second
workstation (`tests.sync_support.Workstation`) changes the same persons for real conflicts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtNetwork import QNetworkInformation
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QToolBar
from pytestqt.qtbot import QtBot

from clerk_app.clerks import Actor
from clerk_app.config import Config
from clerk_app.ids import uuid7
from clerk_app.keys import write_secret_file
from clerk_app.services.base import ServiceResult
from clerk_app.services.runner import run_service
from sync.server.central import Central
from sync.state import LAST_SUCCESS, set_setting
from tests.factories import COUNTER_ROLES, make_cfg
from tests.sync_support import (
    CentralServer,
    Workstation,
    central_aggregates,
    central_database,
    meldebescheinigung,
    running_central,
    ummeldung,
)
from tests.ui_support import close_window, open_window, save_shot, unnamed_controls
from ui import start_window, sync_worker
from ui.conflicts import ConflictsDialog, compare_rows
from ui.main_window import MainWindow
from ui.status import fmt_moment
from ui.withdrawn import WithdrawnDialog, WithdrawnNotice

pytestmark = pytest.mark.usefixtures("german")

RESIDENTS = 40
SYNC_MS = 30_000
STATIONS = itertools.count(11)


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CentralServer,
                                                                        Central]]:
    """One central service process for the module (each test has its own workstations)."""
    folder = tmp_path_factory.mktemp("central")
    with central_database("sqlite", folder) as url, \
            running_central(url, folder, residents=RESIDENTS) as pair:
        yield pair


@pytest.fixture(autouse=True)
def quick_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A nudge after 0.2 s and the first retry after 0.25–0.5 s: the tests need not wait."""
    monkeypatch.setattr(sync_worker, "NUDGE_MS", 200)
    monkeypatch.setattr(sync_worker, "RETRY_S", 0.5)


@dataclass
class Station:
    """The window's workstation: its register (open here too, for reading back) and config."""

    ws: Workstation
    cfg: Config


@pytest.fixture
def station(tmp_path: Path, central: tuple[CentralServer, Central]) -> Iterator[Station]:
    """An enrolled workstation whose register the window opens: the demo layout (register,
    key and device token side by side in the data folder), filled by the first sync."""
    server, hub = central
    folder = tmp_path / "station"
    ws = Workstation(folder, "demo-register", hub, server.url)
    write_secret_file(folder / "demo-register.key", ws.key)
    write_secret_file(folder / "demo-register.device-token", ws.token)
    # Document numbers carry the workstation's name: each station its own, as at the office.
    cfg = make_cfg(folder, central_url=server.url, workstation=f"Schalter {next(STATIONS)}")
    assert cfg.register_path == ws.path
    yield Station(ws, cfg)
    ws.close()


def open_synced(qtbot: QtBot, cfg: Config) -> MainWindow:
    """The window, started, once its first sync has ended."""
    w = open_window(qtbot, cfg)
    qtbot.waitUntil(lambda: w.sync.last_outcome is not None, timeout=SYNC_MS)
    return w


@pytest.fixture
def window(qtbot: QtBot, station: Station) -> Iterator[MainWindow]:
    w = open_synced(qtbot, station.cfg)
    yield w
    close_window(w)


def serve(qtbot: QtBot, w: MainWindow, service: str, form: dict[str, Any],
          person_id: str) -> ServiceResult:
    """A counter service through the window's DB worker, completed as a dialog completes
    it (`after_service`: the window then nudges the sync)."""
    result = run_at_counter(qtbot, w, service, form)
    w.after_service(result, person_id)
    return result


def run_at_counter(qtbot: QtBot, w: MainWindow, service: str,
                   form: dict[str, Any]) -> ServiceResult:
    """A counter service through the window's DB worker, not yet reported as completed."""
    done: list[ServiceResult] = []
    failed: list[str] = []
    command_id = uuid7()
    w.db.send(lambda store: run_service(store, service, form, command_id), done.append,
              lambda de, _en: failed.append(de), "test service")
    qtbot.waitUntil(lambda: bool(done or failed), timeout=10_000)
    assert not failed, failed
    return done[0]


def central_status(hub: Central, command_id: str) -> str | None:
    with hub.db.transaction(write=False) as tx:
        rows = list(tx.execute("SELECT status FROM commands WHERE command_id = ?",
                               (command_id,)))
    return str(rows[0][0]) if rows else None


def bar(w: MainWindow) -> dict[str, str]:
    """What the status bar says about the sync (the spoken names: words, not markup)."""
    status = w.status
    return {"connection": status.connection.accessibleName(),
            "pending": status.pending.text() if status.pending.isVisible() else "",
            "warning": status.sync_warning.text() if status.sync_warning.isVisible() else "",
            "conflicts": status.conflicts.text() if status.conflicts.isVisible() else ""}


# --- the status bar ----------------------------------------------------------------------------

def test_status_bar_counts_pending_work_and_goes_online_after_a_sync(
        qtbot: QtBot, window: MainWindow, station: Station,
        central: tuple[CentralServer, Central]) -> None:
    _server, hub = central
    assert window.sync.last_outcome is not None
    assert window.sync.last_outcome.kind == sync_worker.OK
    assert window.sync.last_outcome.report is not None
    assert window.sync.last_outcome.report.bootstrapped >= RESIDENTS, "first sync: bootstrap"
    qtbot.waitUntil(lambda: bar(window)["pending"] == "nichts zu übertragen", timeout=5000)
    assert bar(window)["connection"].startswith("Verbindung: Online, abgeglichen heute ")
    assert bar(window)["warning"] == "" and bar(window)["conflicts"] == ""

    person = station.ws.persons()[0]
    result = run_at_counter(qtbot, window, "ummeldung", ummeldung(person, station.ws.street()))
    window.sync.refresh_status()
    qtbot.waitUntil(lambda: bar(window)["pending"] == "1 nicht übertragen", timeout=5000)
    assert central_status(hub, result.command_id) is None, "not sent yet: pending"
    window.after_service(result, person)   # completed: the sync follows in a moment
    qtbot.waitUntil(lambda: bar(window)["pending"] == "nichts zu übertragen", timeout=SYNC_MS)
    assert central_status(hub, result.command_id) == "applied"
    assert window.sync.view.online
    assert window.sync.scheduled_in_ms is not None, "the next regular sync is scheduled"
    assert window.sync.scheduled_in_ms > 30_000, "regular interval (60 s), not a retry"


def test_server_stopped_shows_offline_keeps_the_work_and_it_goes_when_the_server_is_back(
        qtbot: QtBot, station: Station, central: tuple[CentralServer, Central],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the packaged app (no QtNetwork, so no reachability reports from the OS), the sync
    thread knocks at the central service's port; the backoff is set far out here, so only the
    knock can bring the work over quickly."""
    server, hub = central
    monkeypatch.setitem(sys.modules, "PySide6.QtNetwork", None)   # import fails, as bundled
    assert sync_worker.network_information() is None
    monkeypatch.setattr(sync_worker, "RETRY_S", 120.0)
    monkeypatch.setattr(sync_worker, "PROBE_MS", 100)
    w = open_synced(qtbot, station.cfg)
    try:
        assert w.sync.view.online
        server.stop()
        person = station.ws.persons()[3]
        result = serve(qtbot, w, "ummeldung", ummeldung(person, station.ws.street(), "11"),
                       person)
        qtbot.waitUntil(lambda: not w.sync.view.online, timeout=SYNC_MS)
        assert bar(w)["connection"].startswith("Verbindung: Offline, zuletzt abgeglichen heute")
        assert "nicht erreichbar" in w.status.connection.toolTip()
        assert "nicht übertragen" in bar(w)["pending"]
        assert station.ws.status_of(result.command_id) == "pending"
        delay = w.sync.scheduled_in_ms
        assert delay is not None and delay > 50_000, "backoff: the next try is far out"

        qtbot.wait(600)   # knocks every 0.1 s find the port closed
        server.start()
        qtbot.waitUntil(lambda: w.sync.view.online, timeout=10_000)
        qtbot.waitUntil(lambda: bar(w)["pending"] == "nichts zu übertragen", timeout=SYNC_MS)
        assert station.ws.status_of(result.command_id) == "applied"
        assert central_status(hub, result.command_id) == "applied"
    finally:
        if server.proc is None or server.proc.poll() is not None:
            server.start()
        close_window(w)


def test_network_return_reported_by_the_os_syncs_at_once(
        qtbot: QtBot, window: MainWindow) -> None:
    info = sync_worker.network_information()
    if info is None:
        pytest.skip("no QNetworkInformation reachability backend on this machine")
    assert window.sync.scheduled_in_ms is not None and window.sync.scheduled_in_ms > 30_000
    first = window.sync.last_outcome
    reachability = QNetworkInformation.Reachability
    info.reachabilityChanged.emit(reachability.Disconnected)
    assert not window.sync.view.online
    assert bar(window)["connection"].startswith("Verbindung: Offline")
    info.reachabilityChanged.emit(reachability.Online)
    qtbot.waitUntil(lambda: window.sync.last_outcome is not first, timeout=5000)
    assert window.sync.view.online


def test_a_workstation_not_enrolled_tells_the_clerk_to_call_it(qtbot: QtBot,
                                                                station: Station) -> None:
    """No device token: the clerk reads whom to call, never a shell command (that is in
    `clerk-app doctor`, for IT)."""
    station.cfg.register_path.with_suffix(".device-token").unlink()
    w = open_synced(qtbot, station.cfg)
    try:
        qtbot.waitUntil(lambda: bar(w)["warning"] != "", timeout=5000)
        warning = bar(w)["warning"]
        assert "noch nicht bei der Zentrale angemeldet" in warning, warning
        assert "IT anrufen" in warning, warning
        assert "clerk-app" not in warning and "enrol" not in warning, warning
    finally:
        close_window(w)


def test_refusal_is_shown_and_not_retried(qtbot: QtBot, station: Station) -> None:
    write_secret_file(station.cfg.register_path.with_suffix(".device-token"),
                      "kein-gueltiges-geraetetoken-0000000000000", replace=True)
    w = open_synced(qtbot, station.cfg)
    try:
        outcome = w.sync.last_outcome
        assert outcome is not None and outcome.kind == sync_worker.REFUSED
        qtbot.waitUntil(lambda: bar(w)["warning"] != "", timeout=5000)
        warning = bar(w)["warning"]
        assert warning.startswith("⚠ Abgleich mit der Zentrale gestoppt: Dieser Arbeitsplatz "
                                  "ist bei der Zentrale nicht"), warning
        assert "angemeldet" in warning
        assert bar(w)["connection"].startswith("Verbindung: Offline, noch nicht abgeglichen")
        assert w.sync.scheduled_in_ms is None, "no retry after a refusal"
        w.sync.sync_soon()
        qtbot.wait(500)
        assert w.sync.last_outcome is outcome and not w.sync.running
    finally:
        close_window(w)


def test_without_a_central_service_the_bar_says_offline_only(
        qtbot: QtBot, station: Station) -> None:
    cfg = make_cfg(station.cfg.register_path.parent)   # no central_url
    w = open_window(qtbot, cfg)
    try:
        qtbot.wait(300)
        assert bar(w)["connection"] == ("Verbindung: Offline, nur lokal – keine Zentrale "
                                        "eingerichtet")
        assert bar(w)["pending"] == ""
        assert w.sync.last_outcome is None and not w.sync.running
    finally:
        close_window(w)


def test_checksum_mismatch_warns_and_the_resync_mends_it(
        qtbot: QtBot, window: MainWindow, station: Station) -> None:
    ws = station.ws
    tampered, served = ws.persons()[1], ws.persons()[2]
    with ws.store.transaction():
        ws.store.conn.execute("UPDATE persons SET birth_place = 'Atlantis' WHERE id = ?",
                              (tampered,))
    serve(qtbot, window, "meldebescheinigung", meldebescheinigung(served), served)
    qtbot.waitUntil(lambda: bar(window)["warning"] != "", timeout=SYNC_MS)
    assert bar(window)["warning"].startswith("⚠ Der Abgleich mit der Zentrale hat "
                                             "Abweichungen gefunden")
    assert "Nicht übertragene Arbeit bleibt erhalten." in bar(window)["warning"]

    window.sync.sync_soon()   # the next sync resyncs
    qtbot.waitUntil(lambda: bar(window)["warning"] == "", timeout=SYNC_MS)
    place = ws.store.conn.execute("SELECT birth_place FROM persons WHERE id = ?",
                                  (tampered,)).fetchone()[0]
    assert place != "Atlantis"


def test_a_record_that_cannot_be_stored_here_is_shown_and_the_sync_goes_on(
        qtbot: QtBot, window: MainWindow, station: Station) -> None:
    ws = station.ws
    with ws.store.transaction():   # a held central household this register cannot take
        ws.store.conn.execute("INSERT INTO sync_held (kind, id, seq, deleted, data) "
                              "VALUES ('household', 'h-broken', 1, 0, '{}')")
    served = ws.persons()[3]
    serve(qtbot, window, "meldebescheinigung", meldebescheinigung(served), served)
    qtbot.waitUntil(lambda: "nicht gespeichert" in bar(window)["warning"], timeout=SYNC_MS)
    assert bar(window)["warning"].startswith("⚠ Ein Datensatz der Zentrale konnte auf "
                                             "diesem Arbeitsplatz nicht gespeichert werden")
    qtbot.waitUntil(lambda: bar(window)["pending"] == "nichts zu übertragen", timeout=SYNC_MS)
    assert bar(window)["connection"].startswith("Verbindung: Online")
    with ws.store.transaction():
        ws.store.conn.execute("DELETE FROM sync_held WHERE id = 'h-broken'")
    window.sync.sync_soon()
    qtbot.waitUntil(lambda: bar(window)["warning"] == "", timeout=SYNC_MS)


def test_the_open_person_is_read_again_after_a_sync_changed_them(
        qtbot: QtBot, tmp_path: Path, window: MainWindow, station: Station,
        central: tuple[CentralServer, Central]) -> None:
    server, hub = central
    person, other = station.ws.persons()[4:6]
    window.open_person(person)
    qtbot.waitUntil(lambda: window.person_view.record is not None, timeout=10_000)
    before = window.person_view.record_text()
    assert "Am Alten Markt" not in before
    office = Workstation(tmp_path / "office", "buero7", hub, server.url)
    office.sync()
    office.run("ummeldung", ummeldung(person, office.street("Am Alten Markt"), "12"))
    office.run("ummeldung", ummeldung(other, office.street("Am Alten Markt"), "14"))
    office.sync()
    office.close()
    window.table.setFocus()
    window.sync.sync_soon()
    qtbot.waitUntil(lambda: "Am Alten Markt 12" in window.person_view.record_text(),
                    timeout=SYNC_MS)
    record = window.person_view.record
    assert record is not None and record.id == person
    assert window.table.hasFocus()   # read again in place: the clerk stays where they were
    reads = [r for (r,) in station.ws.store.conn.execute(
        "SELECT detail FROM audit_log WHERE person_id = ? AND action = 'read'", (person,))]
    assert "nach Abgleich neu gelesen" in reads   # a look like any other: logged


# --- Klärfälle -------------------------------------------------------------------------------

def answer_confirmation(qtbot: QtBot, dialog: ConflictsDialog, seen: list[str]) -> None:
    """When the dialog's confirmation box is up: note its words and confirm with Alt+J
    (looks for it for up to 2 s)."""
    tries = iter(range(100))

    def look() -> None:
        boxes = [b for b in dialog.findChildren(QMessageBox) if b.isActiveWindow()]
        if not boxes:   # not up yet, or not yet active (its keys would go elsewhere)
            if next(tries, None) is not None:
                QTimer.singleShot(20, look)
            else:       # never hang the run: close a box that never got the keyboard
                for box in dialog.findChildren(QMessageBox):
                    box.reject()
            return
        box = boxes[0]
        seen.append(f"{box.text()}\n{box.informativeText()}")
        qtbot.keyClick(box, Qt.Key.Key_J, Qt.KeyboardModifier.AltModifier)

    QTimer.singleShot(0, look)


def residence_row(dialog: ConflictsDialog) -> tuple[str, str, str]:
    table = dialog.compare
    for row in range(table.rowCount()):
        label = table.item(row, 0)
        if label is not None and label.text().endswith("Wohnung (aktuell)"):
            cells = [table.item(row, c) for c in range(3)]
            assert all(c is not None for c in cells)
            return cells[0].text(), cells[1].text(), cells[2].text()  # type: ignore[union-attr]
    raise AssertionError("no line for the current dwelling")


def decide(qtbot: QtBot, dialog: ConflictsDialog, key: Qt.Key) -> str:
    """Alt+E / Alt+Z, confirmed; back once the decision is stored. (A mnemonic clicks its
    button a moment later, as a real key press does.)"""
    seen: list[str] = []
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    answer_confirmation(qtbot, dialog, seen)
    with qtbot.waitSignal(dialog.decided, timeout=10_000):
        qtbot.keyClick(dialog, key, Qt.KeyboardModifier.AltModifier)
    assert len(seen) == 1, "asked first"
    assert dialog.status.text().startswith("✔ Entscheidung gespeichert")
    return seen[0]


def current_street(aggregate: dict[str, Any]) -> str:
    return " ".join(f"{r['street']} {r['house_number']}" for r in aggregate["residences"]
                    if r["move_out"] is None)


def test_conflict_is_decided_in_the_klaerfaelle_dialog_and_all_converge(
        qtbot: QtBot, window: MainWindow, station: Station, tmp_path: Path,
        central: tuple[CentralServer, Central]) -> None:
    server, hub = central
    other = Workstation(tmp_path / "other", "schalter5", hub, server.url)
    try:
        other.sync()
        ws = station.ws
        ours, theirs = ws.persons()[4], ws.persons()[5]
        other.run("ummeldung", ummeldung(ours, other.street("Palmstraße"), "7"))
        other.run("ummeldung", ummeldung(theirs, other.street("Palmstraße"), "9"))
        other.sync()
        # Two citizens in quick succession: both done before the sync sends either.
        first = run_at_counter(qtbot, window, "ummeldung",
                               ummeldung(ours, ws.street("Hauptstraße"), "7"))
        second = run_at_counter(qtbot, window, "ummeldung",
                                ummeldung(theirs, ws.street("Hauptstraße"), "9"))
        window.after_service(first, ours)
        window.after_service(second, theirs)
        qtbot.waitUntil(lambda: window.sync.view.conflicts == 2, timeout=SYNC_MS)
        assert bar(window)["conflicts"] == "⚠ 2 Klärfälle (F12)"

        qtbot.mouseClick(window.status.conflicts, Qt.MouseButton.LeftButton)   # the bar's
        assert isinstance(window.conflicts_dialog, ConflictsDialog)
        qtbot.keyClick(window.conflicts_dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: window.conflicts_dialog is None, timeout=5000)
        assert window.search.hasFocus()
        qtbot.keyClick(window.search, Qt.Key.Key_F12)                          # or F12
        dialog = window.conflicts_dialog
        assert isinstance(dialog, ConflictsDialog)
        qtbot.waitUntil(lambda: len(dialog.conflicts) == 2, timeout=5000)
        assert dialog.table.item(0, 0).text() == "Ummeldung"  # type: ignore[union-attr]
        assert "an anderer Stelle geändert" in dialog.table.item(0, 3).text()  # type: ignore[union-attr]
        assert "Weitere Vorgänge zu derselben Person warten" in \
            dialog.findChild(QLabel, "conflictsIntro").text()  # type: ignore[union-attr]
        assert dialog.table.hasFocus()
        assert unnamed_controls(dialog) == []
        label, local, remote = residence_row(dialog)
        assert label == "≠ Wohnung (aktuell)"
        assert "Hauptstraße 7" in local and "Palmstraße 7" in remote
        assert "{" not in local + remote, "words, not raw data"
        save_shot(dialog, "screenshot-klaerfaelle.png")   # CLERK_UI_SHOTS=docs: for the docs

        words = decide(qtbot, dialog, Qt.Key.Key_E)   # the first: our version
        assert words.startswith("Eigene Fassung übernehmen?")
        assert "für alle Arbeitsplätze gültig" in words
        qtbot.waitUntil(lambda: len(dialog.conflicts) == 1, timeout=SYNC_MS)   # synced
        assert "Palmstraße 9" in residence_row(dialog)[2]
        words = decide(qtbot, dialog, Qt.Key.Key_Z)   # the second: the central version
        assert words.startswith("Zentrale Fassung übernehmen?")
        qtbot.waitUntil(lambda: not dialog.conflicts, timeout=SYNC_MS)
        qtbot.waitUntil(lambda: window.sync.view.conflicts == 0, timeout=5000)
        assert dialog.status.text() == "Keine offenen Klärfälle."
        assert dialog.close_button.hasFocus()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: window.conflicts_dialog is None, timeout=5000)
        assert bar(window)["conflicts"] == ""

        qtbot.waitUntil(lambda: bar(window)["pending"] == "nichts zu übertragen", timeout=SYNC_MS)
        other.sync()
        persons, households = central_aggregates(hub.db)
        assert station.ws.aggregates() == (persons, households)
        assert other.aggregates() == (persons, households)
        assert current_street(persons[ours]) == "Hauptstraße 7", "our version won"
        assert current_street(persons[theirs]) == "Palmstraße 9", "the central version stayed"
    finally:
        other.close()


# --- words -----------------------------------------------------------------------------------

def test_moments_read_the_german_way() -> None:
    today = date(2026, 11, 25)
    local = datetime(2026, 11, 25, 14, 5).astimezone()
    assert fmt_moment(local.astimezone(UTC).isoformat(), today) == "heute 14:05"
    yesterday = datetime(2026, 11, 24, 9, 12).astimezone()
    assert fmt_moment(yesterday.isoformat(), today) == "gestern 09:12"
    earlier = datetime(2026, 3, 2, 17, 30).astimezone()
    assert fmt_moment(earlier.isoformat(), today) == "02.03.2026 17:30"
    assert fmt_moment(None) == "" and fmt_moment("kaputt") == ""


def test_compare_rows_mark_what_differs_and_name_a_central_deletion() -> None:
    person = {"id": "p1", "family_name": "Kurt", "first_names": "Sevgi",
              "birth_date": "1992-04-26", "sex": "w", "nationalities": '["DEU", "TUR"]',
              "version": 2}
    residence = {"kind": "alleinig", "street": "Palmstraße", "house_number": "7",
                 "postal_code": "79539", "city": "Lörrach", "country": "DEU",
                 "move_in": "2026-11-24", "move_out": None}
    local = {"person": person, "residences": [residence], "former_names": [],
             "id_documents": [], "information_blocks": []}
    moved = {**local, "residences": [{**residence, "house_number": "9"}],
             "person": {**person, "version": 3}}
    rows = compare_rows({"local_records": [local], "base_versions": {"persons/p1": 1},
                         "server_records": [{"kind": "person", "id": "p1", "data": moved}]})
    assert rows[0].heading and rows[0].label == "Kurt, Sevgi * 26.04.1992"
    by_label = {r.label: r for r in rows[1:]}
    assert by_label["Staatsangehörigkeit"].local == "deutsch, türkisch"
    assert not by_label["Familienname"].differs
    dwelling = by_label["Wohnung (aktuell)"]
    assert dwelling.differs
    assert dwelling.local == "alleinige Wohnung: Palmstraße 7, 79539 Lörrach (seit 24.11.2026)"
    assert (by_label["Stand des Datensatzes"].local, by_label["Stand des Datensatzes"].central) \
        == ("Stand 1, hier geändert", "Stand 3")
    gone = compare_rows({"local_records": [local],
                         "server_records": [{"kind": "person", "id": "p1", "data": None}]})
    assert {r.central for r in gone[1:]} == {"in der Zentrale gelöscht"}


def test_compare_rows_name_the_fields_both_sides_changed() -> None:
    """The service names what this workstation and another office both changed: the clerk
    sees it as its own line, the dwelling by its address."""
    person = {"id": "p1", "family_name": "Kurt", "first_names": "Sevgi", "version": 3}
    dwelling = {"id": "r1", "kind": "alleinig", "street": "Palmstraße", "house_number": "7",
                "postal_code": "79539", "city": "Lörrach", "country": "DEU",
                "move_in": "2020-01-01", "move_out": "2026-11-24"}
    central = {"person": person, "residences": [dwelling], "former_names": [],
               "id_documents": [], "information_blocks": []}
    rows = compare_rows({"local_records": [central], "server_records": [
        {"kind": "person", "id": "p1", "data": central,
         "contested": ["residences/r1.move_out", "persons/p1.household_id"]}]})
    [both] = [r for r in rows if r.label == "Auf beiden Seiten geändert (Ihre Entscheidung)"]
    assert both.local.splitlines() == [
        "Auszug: 01.01.2020 – 24.11.2026: Palmstraße 7, 79539 Lörrach", "Haushalt"]
    plain = compare_rows({"local_records": [central], "server_records": [
        {"kind": "person", "id": "p1", "data": central}]})
    assert not [r for r in plain if r.label.startswith("Auf beiden Seiten")]


# --- the offline lease -------------------------------------------------------------------------

def test_after_the_offline_lease_the_window_syncs_first_then_opens_the_register(
        qtbot: QtBot, tmp_path: Path, central: tuple[CentralServer, Central]) -> None:
    server, hub = central
    folder = tmp_path / "laptop"
    ws = Workstation(folder, "register", hub, server.url)   # the production file name
    ws.sync()
    with ws.store.transaction():
        set_setting(ws.store, LAST_SUCCESS, (datetime.now(UTC) - timedelta(days=20))
                    .isoformat(timespec="seconds"))
    write_secret_file(folder / "register.key", ws.key)
    write_secret_file(folder / "device.token", ws.token)
    cfg = make_cfg(folder, mode="production", central_url=server.url,
                   key_file=str(folder / "register.key"),
                   device_token_file=str(folder / "device.token"))
    assert cfg.register_path == ws.path
    w = MainWindow(cfg, Actor("emuster", cfg.workstation, COUNTER_ROLES, "Erika Muster"))
    qtbot.addWidget(w)
    blocked: list[tuple[str, bool]] = []   # what the window showed while the lease was out
    w.db.lease_expired.connect(lambda *_: blocked.append((w.message.text(),
                                                          w.search.isEnabled())))
    w.show()
    w.start()
    try:
        qtbot.waitUntil(lambda: w.register_open, timeout=SYNC_MS)
        [(message, searchable)] = blocked
        assert "seit 20 Tagen nicht mit der Zentrale verbunden" in message and not searchable
        assert w.sync.last_outcome is not None and w.sync.last_outcome.kind == sync_worker.OK
        assert w.search.isEnabled() and w.message.text() == ""
    finally:
        close_window(w)
        ws.close()


def test_a_klaerfall_the_centre_never_saw_can_only_be_discarded(
        qtbot: QtBot, window: MainWindow, station: Station,
        central: tuple[CentralServer, Central]) -> None:
    """A move stored damaged here: in the Klärfälle dialog "Eigene Fassung" is off, Alt+Z
    asks "Vorgang verwerfen?", and the central version comes back with the next syncs."""
    _server, hub = central
    ws = station.ws
    person = ws.persons()[7]
    moved = run_at_counter(qtbot, window, "ummeldung",
                           ummeldung(person, ws.street("Hauptstraße"), "3"))
    with ws.store.transaction():   # a number beyond 64 bits: the protocol refuses it
        payload = json.loads(ws.store.conn.execute(
            "SELECT payload FROM outbox WHERE command_id = ?", (moved.command_id,)
        ).fetchone()[0])
        ws.store.conn.execute("UPDATE outbox SET payload = ? WHERE command_id = ?",
                              (json.dumps({**payload, "n": 2**70}), moved.command_id))
    window.after_service(moved, person)
    qtbot.waitUntil(lambda: window.sync.view.conflicts == 1, timeout=SYNC_MS)
    qtbot.keyClick(window.search, Qt.Key.Key_F12)
    dialog = window.conflicts_dialog
    assert isinstance(dialog, ConflictsDialog)
    qtbot.waitUntil(lambda: len(dialog.conflicts) == 1, timeout=5000)
    assert "fehlerhaft gespeichert" in dialog.reason.text()
    assert not dialog.local_button.isEnabled() and dialog.central_button.isEnabled()
    seen: list[str] = []
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    answer_confirmation(qtbot, dialog, seen)
    with qtbot.waitSignal(dialog.decided, timeout=10_000):
        qtbot.keyClick(dialog, Qt.Key.Key_Z, Qt.KeyboardModifier.AltModifier)
    assert seen and seen[0].startswith("Vorgang verwerfen?"), seen
    assert "nie erreicht" in seen[0]
    assert dialog.status.text().startswith("✔ Vorgang verworfen")
    qtbot.waitUntil(lambda: window.sync.view.conflicts == 0, timeout=SYNC_MS)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    window.sync.sync_soon()
    qtbot.waitUntil(lambda: ws.aggregates() == central_aggregates(hub.db), timeout=SYNC_MS)
    assert central_status(hub, moved.command_id) is None


# --- a withdrawn workstation -------------------------------------------------------------------

def test_a_withdrawn_workstation_shows_only_the_notice_now_and_at_the_next_start(
        qtbot: QtBot, window: MainWindow, station: Station,
        central: tuple[CentralServer, Central]) -> None:
    _server, hub = central
    person = station.ws.persons()[6]
    window.open_person(person)
    qtbot.waitUntil(lambda: window.person_view.record is not None, timeout=10_000)
    with hub.db.transaction(write=False) as tx:
        [(device,)] = tx.execute("SELECT device_id FROM devices WHERE token_sha256 = ?",
                                 (hashlib.sha256(station.ws.token.encode()).hexdigest(),))
    assert hub.revoke_device(device) == 1
    window.sync.sync_soon()
    qtbot.waitUntil(lambda: isinstance(window.centralWidget(), WithdrawnNotice), timeout=SYNC_MS)
    notice = window.centralWidget()
    assert isinstance(notice, WithdrawnNotice)
    assert notice.title.text() == "Arbeitsplatz zurückgezogen"
    assert "Melderegister, die Entwürfe und die Ausdrucke" in notice.text.text()
    assert window.person_view.record is None and not window.menuBar().isVisible()
    assert not any(a.isEnabled() for a in window.findChildren(QAction))
    assert not any(bar.isVisible() for bar in window.findChildren(QToolBar))
    save_shot(window, "withdrawn.png")
    folder = station.cfg.data_path
    assert not station.cfg.register_path.exists()
    assert not (folder / "demo-register.key").exists()
    assert not (folder / "demo-register.device-token").exists()
    close_window(window)

    shown: list[str] = []

    def look() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, WithdrawnDialog) and w.isVisible()]
        if not dialogs:
            QTimer.singleShot(50, look)
            return
        shown.append(dialogs[0].notice.text.text())
        dialogs[0].reject()

    QTimer.singleShot(50, look)
    assert start_window.run(station.cfg) == 1   # the next start: the notice, nothing else
    assert shown and "zurückgezogen" in shown[0]
    assert not station.cfg.register_path.exists()


def test_the_queue_feed_hearing_of_the_withdrawal_gives_way_to_the_notice(
        qtbot: QtBot, window: MainWindow, station: Station,
        central: tuple[CentralServer, Central]) -> None:
    """Not the sync but another contact (the queue panel's feed) is told first: the
    register goes at once and the window shows only the notice."""
    from sync.central_connection import connect
    from sync.central_errors import DeviceRevoked
    from sync.queue_client import QueueClient

    _server, hub = central
    with hub.db.transaction(write=False) as tx:
        [(device,)] = tx.execute("SELECT device_id FROM devices WHERE token_sha256 = ?",
                                 (hashlib.sha256(station.ws.token.encode()).hexdigest(),))
    assert hub.revoke_device(device) == 1
    client = connect(station.cfg)
    with pytest.raises(DeviceRevoked):
        QueueClient(client).visits_today("rathaus")
    client.close()
    qtbot.waitUntil(lambda: isinstance(window.centralWidget(), WithdrawnNotice), timeout=10_000)
    assert not station.cfg.register_path.exists()
    close_window(window)
