"""F9 Kasse: today's journal, Storno by receipt number with a reason, and the Tagesabschluss
with counted cash, expected cash and the difference, driven by keys on a real register."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clerk_app import cashbook
from clerk_app.config import Config
from clerk_app.fees import format_cents
from clerk_app.ids import uuid7
from clerk_app.login import DEMO_TEAMLEITUNG
from clerk_app.services.runner import run_service
from clerk_app.store import opening
from tests.factories import add_person, demo_register, make_cfg
from tests.ui_support import focused, norm, rows, save_shot, type_keys, unnamed_controls
from ui.cash_desk import CashDeskDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A register of its own (a closing ends the day) with four receipts of today."""
    cfg = make_cfg(tmp_path_factory.mktemp("cash"), workstation="Schalter 9")
    with demo_register(cfg, residents=300) as store:
        anna = add_person(store, "Müller", "Anna Maria", "1964-08-12")
        for payment in ({"method": "bar", "given_cents": 1000},
                        {"method": "karte", "terminal_receipt": "T-4711"},
                        {"exemption": "rente"}, {"method": "bar", "given_cents": 700}):
            run_service(store, "meldebescheinigung",
                        {"person_id": anna, "variant": "einfach", "payment": payment}, uuid7())
    return cfg


def open_cash_desk(qtbot: QtBot, w: MainWindow) -> CashDeskDialog:
    qtbot.keyClick(w.search, Qt.Key.Key_F9)
    dialog = w.service_dialog
    assert isinstance(dialog, CashDeskDialog)
    qtbot.waitUntil(lambda: dialog.cash_day is not None, timeout=5000)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    return dialog


def journal(cfg: Config) -> list[dict[str, Any]]:
    return rows(cfg, "SELECT * FROM cash_journal ORDER BY id")


def test_journal_and_totals_of_today(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_cash_desk(qtbot, window)
    assert dialog.journal.rowCount() == 4
    assert dialog.journal.hasFocus()
    row = [dialog.journal.item(0, c).text() for c in range(dialog.journal.columnCount())]
    assert row[1].startswith("Q-SCHALTER9-")
    assert row[2] == "Meldebescheinigung (einfach)" and row[3] == "Barzahlung"
    assert [norm(v) for v in row[4:7]] == ["7,00 €", "10,00 €", "3,00 €"]
    card = [dialog.journal.item(1, c).text() for c in range(dialog.journal.columnCount())]
    assert card[3] == "Kartenzahlung" and card[7] == "Terminal-Beleg T-4711"
    exempt = [dialog.journal.item(2, c).text() for c in range(8)]
    assert exempt[3] == "Gebührenfrei"
    assert exempt[7] == "Vorlage bei Rentenversicherungsträger"
    totals = norm(dialog.totals_label.text())
    assert "Barzahlung" in totals and "Kartenzahlung" in totals
    assert "14,00 €" in totals and "21,00 €" in totals   # cash; all three paid
    assert norm(dialog.expected_label.text()) == "14,00 €"
    assert "Tagesabschluss noch offen" in dialog.state_label.text()
    assert "Schalter 9" in dialog.heading.text()
    assert dialog.windowTitle() == "Kasse – DEMO"


def test_storno_by_keys(qtbot: QtBot, window: MainWindow, cfg: Config) -> None:
    dialog = open_cash_desk(qtbot, window)
    completed: list[object] = []
    window.service_completed.connect(completed.append)
    receipt = dialog.journal.item(0, 1).text()
    qtbot.keyClick(dialog.journal, Qt.Key.Key_Home)
    dialog.journal.selectRow(0)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)      # take the receipt, on to the reason
    assert dialog.receipt.text() == receipt
    assert dialog.reason.hasFocus()
    type_keys(qtbot, focused(), "falsche Dienstleistung")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)      # book
    qtbot.keyClick(focused(), Qt.Key.Key_Return)      # Enter twice: still one Storno
    qtbot.waitUntil(lambda: bool(dialog.results), timeout=5000)
    qtbot.waitUntil(lambda: dialog.journal.rowCount() == 5, timeout=5000)
    qtbot.wait(200)
    rows = journal(cfg)
    reversals = [r for r in rows if r["reverses"] is not None]
    assert len(reversals) == 1
    assert (reversals[0]["receipt_number"], reversals[0]["amount_cents"]) == (receipt, -700)
    assert "Storno gebucht" in dialog.feedback.text()
    assert "Zu erstatten: 7,00 €" in norm(dialog.feedback.text())
    assert dialog.journal.item(0, 7).text() == "storniert"
    assert dialog.journal.item(4, 7).text() == "Storno: falsche Dienstleistung", "its reason"
    assert norm(dialog.expected_label.text()) == "7,00 €"
    assert dialog.receipt.text() == "" and dialog.reason.text() == ""
    assert completed, "the window hears of it"


def test_storno_errors_stand_next_to_the_fields(qtbot: QtBot, window: MainWindow,
                                                 cfg: Config) -> None:
    dialog = open_cash_desk(qtbot, window)
    dialog.receipt.setFocus()
    type_keys(qtbot, focused(), "Q-GIBTS-NICHT")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)      # on to the reason
    qtbot.keyClick(focused(), Qt.Key.Key_Return)      # book without a reason
    qtbot.waitUntil(lambda: bool(dialog.reason_box.error), timeout=5000)
    assert dialog.reason_box.error == "Bitte den Grund der Stornierung angeben."
    assert dialog.reason.hasFocus()
    type_keys(qtbot, focused(), "Irrtum")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.receipt_box.error), timeout=5000)
    assert "ist im Kassenbuch nicht vorhanden" in dialog.receipt_box.error
    assert dialog.reason.text() == "Irrtum", "typed data kept"
    assert len(journal(cfg)) == 4


def test_tagesabschluss_with_difference(qtbot: QtBot, window: MainWindow, cfg: Config) -> None:
    dialog = open_cash_desk(qtbot, window)
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return len(asked) > 1      # "Noch nicht" the first time

    dialog.confirm_closing = confirm
    differences: list[int] = []

    def four_eyes(cents: int) -> dict[str, str]:
        differences.append(cents)   # the demo's Teamleitung confirms without a password
        return {"difference_reason": "Wechselgeld", "confirm_login": DEMO_TEAMLEITUNG,
                "confirm_password": ""}

    dialog.confirm_difference = four_eyes
    dialog.counted.setFocus()
    type_keys(qtbot, focused(), "12,50")
    assert norm(dialog.difference_label.text()) == "⚠ Differenz: −1,50 € (Fehlbetrag)"
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert len(asked) == 1 and "14,00 €" in norm(asked[0]) and "12,50 €" in norm(asked[0])
    assert not dialog.results, "not booked without the confirmation"
    save_shot(dialog, "screenshot-kasse.png")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.results), timeout=5000)
    qtbot.waitUntil(lambda: dialog.cash_day is not None and dialog.cash_day.closed,
                    timeout=5000)
    assert "Tagesabschluss gebucht" in dialog.feedback.text()
    assert "Kassendifferenz -1,50 €" in norm(dialog.feedback.text())
    assert "Tagesabschluss erfolgt" in dialog.state_label.text()
    assert not dialog.storno_button.isEnabled() and not dialog.counted.isEnabled()
    with opening.open_register(cfg) as store:
        closing = store.query("SELECT * FROM closings")
        assert cashbook.is_closed(store, "Schalter 9", dialog.day)
    assert len(closing) == 1
    assert (closing[0]["expected_cash_cents"], closing[0]["counted_cash_cents"],
            closing[0]["difference_cents"]) == (1400, 1250, -150)
    assert differences == [-150]
    assert (closing[0]["difference_reason"], closing[0]["confirmed_by"]) == (
        "Wechselgeld", DEMO_TEAMLEITUNG)
    save_shot(dialog, "screenshot-kasse-abschluss.png")
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
    qtbot.waitUntil(window.search.hasFocus, timeout=3000)


def test_counted_cash_that_is_no_amount(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_cash_desk(qtbot, window)
    dialog.confirm_closing = lambda _q: pytest.fail("must not ask")  # type: ignore[assignment]
    dialog.counted.setFocus()
    type_keys(qtbot, focused(), "viel")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert "„viel“ ist kein Betrag" in dialog.counted_box.error
    assert not dialog.results


def test_every_cash_desk_control_has_an_accessible_name(qtbot: QtBot,
                                                        window: MainWindow) -> None:
    dialog = open_cash_desk(qtbot, window)
    unnamed = unnamed_controls(dialog)
    assert unnamed == []


def test_the_starting_float_is_booked_in_the_cash_desk(qtbot: QtBot, window: MainWindow,
                                                       cfg: Config) -> None:
    """No cash payment brought the day's float: the Kasse asks for it; once booked it is
    counted into Bargeld Soll and not asked again."""
    dialog = open_cash_desk(qtbot, window)
    assert dialog.float_box.isVisible() and dialog.float_button.isVisible()
    before = dialog.cash_day.totals.expected_cash_cents if dialog.cash_day else 0
    dialog.float_edit.setFocus()
    qtbot.keyClicks(dialog.float_edit, "zehn")
    qtbot.keyClick(dialog.float_edit, Qt.Key.Key_Return)
    assert "Betrag" in dialog.float_box.error, "not an amount: said at the field"
    dialog.float_edit.clear()
    qtbot.keyClicks(dialog.float_edit, "150")
    qtbot.keyClick(dialog.float_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.cash_day is not None and dialog.cash_day.float_recorded,
                    timeout=5000)
    assert rows(cfg, "SELECT cents FROM cash_floats") == [{"cents": 15_000}]
    assert dialog.cash_day is not None
    assert dialog.cash_day.totals.expected_cash_cents == before + 15_000
    assert norm(dialog.expected_label.text()) == norm(format_cents(before + 15_000))
    assert not dialog.float_box.isVisible()
    assert norm(dialog.float_label.text()) == "Wechselgeld zu Tagesbeginn: 150,00 €"
    assert "Wechselgeld 150,00 € + Bareinnahmen" in norm(dialog.totals_label.text())
    save_shot(dialog, "screenshot-kasse-wechselgeld.png")
