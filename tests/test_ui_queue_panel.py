"""The queue panel in the real main window on a real register, walked by keys: a booking
checked in by scanning its QR code, "Nächste Person aufrufen" (the due appointment first; a
double press calls one), "Erschienen" opens the person, F6 and Enter issue the
Meldebescheinigung and that finishes the visit; a missed number put back from the list; a
walk-in ticket drawn and (without a printer) opened as a PDF."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.ids import uuid7
from clerk_app.queue.booking_codes import qr_payload
from clerk_app.queue.local_queue import LocalQueue
from clerk_app.queue.states import VisitState
from clerk_app.store import opening
from tests.factories import add_person, demo_register, make_cfg
from tests.queue_support import MONDAY_9, Clock, booking
from tests.ui_support import (
    Keys,
    focused,
    open_found_person,
    rows,
    save_shot,
    type_keys,
    unnamed_controls,
)
from ui.certificate_dialogs import MeldebescheinigungDialog
from ui.main_window import MainWindow
from ui.queue.desk import queue_config
from ui.queue.panel import QueuePanel
from ui.queue.statistics_dialog import StatisticsDialog
from ui.queue.visit_dialogs import VisitDialog

pytestmark = pytest.mark.usefixtures("german")

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def register(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Schalter 3's register: two walk-in tickets waiting (one with priority) and Anna's
    appointment of a minute ago, booked online (not yet checked in)."""
    cfg = make_cfg(tmp_path_factory.mktemp("queue"), queue_counter="schalter_3")
    people: dict[str, str] = {}
    with demo_register(cfg, residents=200) as store:
        people["anna"] = add_person(store, "Müller", "Anna Maria", "1964-08-12")
        queue = LocalQueue(store, queue_config())
        people["ticket"] = queue.draw_ticket("B").label
        people["urgent"] = queue.draw_ticket("B", priority=2).label
        appointment = dataclasses.replace(
            booking("hauptstelle", datetime.now(UTC) - timedelta(minutes=1),
                    name="Anna Maria Müller"), person_id=people["anna"])
        queue.import_visits([appointment])
        people["booking"] = appointment.booking_number or ""
        people["visit"] = appointment.id
    return Path(cfg.data_dir), people


@pytest.fixture
def cfg(register: tuple[Path, dict[str, str]]) -> Config:
    return make_cfg(register[0], queue_counter="schalter_3")


def panel_of(window: MainWindow) -> QueuePanel:
    assert window.queue_panel is not None
    return window.queue_panel


def visits(cfg: Config) -> dict[str, dict[str, Any]]:
    return {r["label"]: r for r in rows(cfg, "SELECT label, state, data FROM queue_visits")}


def press(qtbot: QtBot, window: MainWindow, key: Qt.Key,
          modifier: Qt.KeyboardModifier = CTRL) -> None:
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)   # a dialog just closed
    widget = QApplication.focusWidget()
    qtbot.keyClick(widget if widget is not None and widget.window() is window else window,
                   key, modifier)


def test_check_in_call_appear_serve_and_the_visit_is_finished(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    assert panel.view is not None and len(panel.view.waiting) == 2
    assert "Schalter 3" in panel.heading.text()

    # The scanner types the confirmation's QR code into the search field, then Enter.
    type_keys(qtbot, window.search, qr_payload(people["booking"]))
    assert window.model.rowCount() == 0     # no name search for a QR code
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Eingecheckt" in panel.message.text(), timeout=5000)
    assert window.search.text() == ""
    assert panel.view is not None and panel.view.waiting[0].id == people["visit"]

    # Strg+N twice in a row: one call, the due appointment before the tickets.
    press(qtbot, window, Qt.Key.Key_N)
    press(qtbot, window, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.current is not None,
                    timeout=5000)
    qtbot.wait(100)
    called = [r for r in visits(cfg).values() if r["state"] == VisitState.CALLED.value]
    assert [r["label"] for r in called] == [people["booking"]]
    assert panel.number.text() == people["booking"]
    assert "1. von 3 Aufrufen" in panel.details.text()
    save_shot(window, "screenshot-warteschlange.png")

    # Strg+E: she is here; her person opens (the visit knows her), then F6 and Enter.
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        press(qtbot, window, Qt.Key.Key_E)
    assert window.person_view.record is not None
    assert window.person_view.record.id == people["anna"]
    dialog = issue_meldebescheinigung(qtbot, window)
    # The Meldebescheinigung was her only service: the visit is finished with it.
    qtbot.waitUntil(lambda: visits(cfg)[people["booking"]]["state"] == "finished",
                    timeout=5000)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.current is None,
                    timeout=5000)
    data = visits(cfg)[people["booking"]]["data"]
    assert dialog.service_result is not None and dialog.service_result.command_id in data
    assert unnamed_controls(panel) == []


def test_missed_put_back_from_the_list_and_a_walk_in_ticket(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    press(qtbot, window, Qt.Key.Key_N)       # the raised priority first (no booking due)
    qtbot.waitUntil(lambda: panel.number.text() == people["urgent"], timeout=5000)
    press(qtbot, window, Qt.Key.Key_R)       # too soon after the call: refused, said why
    qtbot.waitUntil(lambda: panel.message.text().startswith("⚠"), timeout=5000)
    press(qtbot, window, Qt.Key.Key_E, CTRL_SHIFT)   # nicht erschienen
    qtbot.waitUntil(lambda: panel.view is not None and len(panel.view.missed) == 1,
                    timeout=5000)
    assert panel.number.text() == "–"
    press(qtbot, window, Qt.Key.Key_L, CTRL_SHIFT)   # to the list
    assert panel.lines.hasFocus()
    missed = [panel.lines.topLevelItem(i) for i in range(panel.lines.topLevelItemCount())]
    row = next(item for item in missed if item is not None and item.text(0) == people["urgent"])
    panel.lines.setCurrentItem(row)
    press(qtbot, window, Qt.Key.Key_B)               # wieder einreihen
    qtbot.waitUntil(lambda: panel.view is not None and not panel.view.missed, timeout=5000)
    assert visits(cfg)[people["urgent"]]["state"] == "queued"

    # Parked (comes back with a paper), then called back from the list with Enter.
    press(qtbot, window, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: panel.number.text() == people["urgent"], timeout=5000)
    press(qtbot, window, Qt.Key.Key_P, CTRL_SHIFT)
    qtbot.waitUntil(lambda: panel.view is not None and len(panel.view.parked) == 1,
                    timeout=5000)
    press(qtbot, window, Qt.Key.Key_L, CTRL_SHIFT)
    parked = [panel.lines.topLevelItem(i) for i in range(panel.lines.topLevelItemCount())]
    panel.lines.setCurrentItem(next(item for item in parked
                                    if item is not None and item.text(0) == people["urgent"]))
    qtbot.keyClick(panel.lines, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.number.text() == people["urgent"], timeout=5000)
    assert visits(cfg)[people["urgent"]]["state"] == "called"
    press(qtbot, window, Qt.Key.Key_B)               # put back the one called
    qtbot.waitUntil(lambda: visits(cfg)[people["urgent"]]["state"] == "queued", timeout=5000)

    opened: list[Path] = []
    panel.ticket_printer.opener = lambda path: opened.append(path) or True
    press(qtbot, window, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: isinstance(panel._dialog, VisitDialog)
                    and panel._dialog.isActiveWindow(), timeout=3000)
    assert panel._dialog is not None
    save_shot(panel._dialog, "screenshot-wartemarke-ziehen.png")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Wartemarke" in panel.message.text(), timeout=5000)
    drawn = sorted(label for label in visits(cfg) if label.startswith("B"))
    assert len(drawn) == 3 and opened and drawn[-1] in opened[0].name


def test_no_counter_no_queue_keys(qtbot: QtBot, cfg: Config) -> None:
    from tests.ui_support import close_window, open_window

    plain = dataclasses.replace(cfg, queue_counter="")
    window = open_window(qtbot, plain)
    try:
        assert window.queue_panel is None
        assert "Ctrl+N" not in window.function_actions
    finally:
        close_window(window)
    with opening.open_register(cfg) as store:
        assert store.schema_version >= 8


def test_statistics_charts_and_csv(qtbot: QtBot, window: MainWindow, cfg: Config,
                                   tmp_path: Path) -> None:
    """A Monday at Schalter 3: B500 waited 7 minutes and was served in 6; B501, called
    after 13 minutes, did not come."""
    clock = Clock()
    with opening.open_register(cfg) as store:
        queue = LocalQueue(store, queue_config(), clock=clock)
        first = queue.draw_ticket("B")
        queue.draw_ticket("B")
        clock.advance(minutes=7)
        assert queue.call_next("schalter_3", uuid7()) == queue.visit(first.id)
        queue.appear(first.id, "schalter_3")
        clock.advance(minutes=6)
        queue.finish(first.id, "schalter_3", ["meldebescheinigung"])
        second = queue.call_next("schalter_3", uuid7())
        assert second is not None
        queue.not_appeared(second.id, "schalter_3")
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    press(qtbot, window, Qt.Key.Key_S, CTRL_SHIFT)
    dialog = panel.statistics
    assert isinstance(dialog, StatisticsDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    monday = MONDAY_9.date()
    dialog.first.setDate(QDate(monday.year, monday.month, monday.day))
    dialog.last.setDate(QDate(monday.year, monday.month, monday.day))
    qtbot.keyClick(focused(), Qt.Key.Key_Return)       # Enter computes
    qtbot.waitUntil(lambda: dialog.stats is not None
                    and dialog.stats.first_day == monday, timeout=5000)
    assert dialog.summary.text().startswith("Bedient: 1 (mit Termin 0, ohne Termin 1)")
    assert "Nicht erschienen: 1" in dialog.summary.text()
    assert dialog.waiting.accessibleDescription() == \
        "9 Uhr: Durchschnitt 10 min, Höchstwert 13 min"
    assert dialog.service.accessibleDescription() == \
        "Meldebescheinigung: Durchschnitt 6 min, Höchstwert 6 min"
    assert dialog.table.item(0, 0).text() == "Schalter 3"
    save_shot(dialog, "screenshot-warteschlange-statistik.png")
    target = tmp_path / "statistik.csv"
    dialog.save(target)   # the file dialog's answer (Strg+S asks for the name)
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("bereich;schluessel;tag;standort;bedient_termin")
    assert f"tag;;{monday.isoformat()};hauptstelle;0;1;0;1;0" in text
    assert "Gespeichert" in dialog.message.text()


def open_question(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> VisitDialog:
    press(qtbot, window, key, CTRL_SHIFT)
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel._dialog is not None and panel._dialog.isActiveWindow(),
                    timeout=3000)
    assert panel._dialog is not None
    return panel._dialog


def test_check_in_typed_forward_finish_with_ticks_and_cancel(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    # The booking number read out and typed (with the hyphen of the print), then Strg+I.
    number = people["booking"]
    type_keys(qtbot, window.search, f"{number[:4]}-{number[4:]}".lower())
    press(qtbot, window, Qt.Key.Key_I)
    qtbot.waitUntil(lambda: "Eingecheckt" in panel.message.text(), timeout=5000)

    press(qtbot, window, Qt.Key.Key_N)     # the appointment, due
    qtbot.waitUntil(lambda: panel.number.text() == number, timeout=5000)
    dialog = open_question(qtbot, window, Qt.Key.Key_W)   # weiterleiten
    assert dialog.combos["counter"].currentData() == ""
    dialog.combos["counter"].setCurrentIndex(dialog.combos["counter"].findData("schalter_1"))
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.current is None,
                    timeout=5000)
    forwarded = json.loads(visits(cfg)[number]["data"])
    assert forwarded["state"] == "queued" and forwarded["target_counter"] == "schalter_1"

    press(qtbot, window, Qt.Key.Key_N)     # now the raised-priority ticket
    qtbot.waitUntil(lambda: panel.number.text() == people["urgent"], timeout=5000)
    press(qtbot, window, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: "in Bearbeitung" in panel.details.text(), timeout=5000)
    dialog = open_question(qtbot, window, Qt.Key.Key_A)   # abschließen
    assert focused() is dialog.ticks["meldebescheinigung"]
    qtbot.keyClick(focused(), Qt.Key.Key_Space)           # nothing done: refused, said why
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.message.text().startswith("⚠"), timeout=5000)
    assert visits(cfg)[people["urgent"]]["state"] == "in_service"
    dialog = open_question(qtbot, window, Qt.Key.Key_A)
    assert dialog.ticks["meldebescheinigung"].isChecked()
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: visits(cfg)[people["urgent"]]["state"] == "finished",
                    timeout=5000)
    assert json.loads(visits(cfg)[people["urgent"]]["data"])["services_done"] == \
        ["meldebescheinigung"]

    press(qtbot, window, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: panel.number.text() == people["ticket"], timeout=5000)
    dialog = open_question(qtbot, window, Qt.Key.Key_X)   # stornieren
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)          # Esc: nothing happens
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)
    assert visits(cfg)[people["ticket"]]["state"] == "called"
    dialog = open_question(qtbot, window, Qt.Key.Key_X)
    type_keys(qtbot, focused(), "doppelt gezogen")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: visits(cfg)[people["ticket"]]["state"] == "cancelled",
                    timeout=5000)


def test_the_lock_hides_the_queue_panel_and_its_keys(qtbot: QtBot, window: MainWindow) -> None:
    """A booked citizen's name is on the panel: locked, nothing of it shows and no key acts."""
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    dock = panel.parentWidget()
    assert dock is not None and dock.isVisible()
    press(qtbot, window, Qt.Key.Key_L)
    assert window.screen_lock.locked
    assert not dock.isVisible() and not panel.isVisible()
    assert not window.function_actions["Ctrl+N"].isEnabled()
    lock_panel = window.screen_lock._panel
    assert lock_panel is not None
    lock_panel.unlock_button.click()          # the demo clerk: no password
    qtbot.waitUntil(lambda: not window.screen_lock.locked, timeout=5000)
    assert dock.isVisible() and window.function_actions["Ctrl+N"].isEnabled()


def test_a_walk_in_served_remembers_the_person_found(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    panel = panel_of(window)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=5000)
    press(qtbot, window, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: panel.number.text() == people["urgent"], timeout=5000)
    press(qtbot, window, Qt.Key.Key_E)       # a walk-in: the search is ready for the name
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.current is not None
                    and panel.view.current.state is VisitState.IN_SERVICE, timeout=5000)
    open_found_person(qtbot, window, "mueller anna maria 12.08.1964", people["anna"])
    issue_meldebescheinigung(qtbot, window)
    qtbot.waitUntil(lambda: visits(cfg)[people["urgent"]]["state"] == "finished",
                    timeout=5000)
    assert json.loads(visits(cfg)[people["urgent"]]["data"])["person_id"] == people["anna"]


def issue_meldebescheinigung(qtbot: QtBot, window: MainWindow) -> MeldebescheinigungDialog:
    """F6 and Enter for the open person, as the clerk does, until the result page shows."""
    keys = Keys(qtbot)
    keys.press(Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: isinstance(window.service_dialog, MeldebescheinigungDialog)
                    and window.service_dialog.isActiveWindow(), timeout=5000)
    dialog = window.service_dialog
    assert isinstance(dialog, MeldebescheinigungDialog)
    keys.press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.is_done, timeout=5000)
    return dialog
