"""Certificates at the counter, driven like a clerk drives them: real register, real window,
real keys. The speed test counts every key from the open person to a Meldebescheinigung
ready to print, paid in cash with the exact amount."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from clerk_app.cashbook import day_float, float_to_ask
from clerk_app.config import Config
from clerk_app.store import opening
from clerk_app.store.db import Store
from tests.factories import add_person, demo_register, make_cfg
from tests.ui_support import (
    Keys,
    Register,
    close_window,
    focused,
    module_register,
    norm,
    open_dialog,
    open_found_person,
    open_window,
    rows,
    save_shot,
    settle,
    start_window,
    unnamed_controls,
    wait_done,
)
from ui.certificate_dialogs import (
    CertificateDialog,
    LebensbescheinigungDialog,
    MeldebescheinigungDialog,
    PersonenstandsurkundeDialog,
)
from ui.i18n import set_language
from ui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("german")

RESIDENTS = 800


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    """A demo register of 800 residents plus hand-made persons with exact data."""
    people: dict[str, str] = {}
    with module_register(tmp_path_factory, RESIDENTS) as (data_dir, store):
        people["anna"] = add_person(store, "Müller", "Anna Maria", "1964-08-12")
        people["berta"] = add_person(store, "Sperrlich", "Berta", "1988-04-01", block=True)
        people["lena"] = add_person(store, "Quellmalz", "Lena", "1950-03-03")
        people["otto"] = add_person(store, "Zwirbel", "Otto", "1972-05-05",
                                    street="Turmstraße", number="5")
        people["ida"] = add_person(store, "Kleeberg", "Ida", "1980-10-10")
        people["karl"] = add_person(store, "Vogelsang", "Karl", "1966-06-06")
        people["eva"] = add_person(store, "Hausmann", "Eva", "1979-07-07", number="30")
        people["udo"] = add_person(store, "Hausmann", "Udo", "1977-01-02", number="30")
        with store.transaction() as db:
            db.execute("UPDATE persons SET birth_place = 'Lörrach' WHERE id = ?",
                       (people["otto"],))
            db.execute("INSERT INTO households (id, created_at) VALUES ('hausmann', 'x')")
            db.execute("UPDATE persons SET household_id = 'hausmann' WHERE id IN (?, ?)",
                       (people["eva"], people["udo"]))
    return data_dir, people


def counts(cfg: Config, person_id: str) -> dict[str, int]:
    with opening.open_register(cfg) as store:
        return _counts(store, person_id)


def _counts(store: Store, person_id: str) -> dict[str, int]:
    def one(sql: str, *args: Any) -> int:
        return int(store.conn.execute(sql, args).fetchone()[0])

    return {
        "certificates": one("SELECT count(*) FROM documents WHERE person_id = ? "
                            "AND type != 'quittung'", person_id),
        "receipts": one("SELECT count(*) FROM documents WHERE person_id = ? "
                        "AND type = 'quittung'", person_id),
        "journal": one("SELECT count(*) FROM cash_journal"),
        # Service commands; the PDFs archived in the background add archive_document rows.
        "outbox": one("SELECT count(*) FROM outbox WHERE type != 'archive_document'"),
    }


def journal_rows(cfg: Config, command_id: str) -> list[dict[str, Any]]:
    return rows(cfg, "SELECT * FROM cash_journal WHERE command_id = ?", command_id)


def wait_idle(qtbot: QtBot, dialog: CertificateDialog) -> None:
    qtbot.waitUntil(lambda: dialog.warnings_loaded and not dialog.busy, timeout=5000)


# --- the speed test --------------------------------------------------------------------------

def test_speed_meldebescheinigung_cash_exact_in_two_keys(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    """From the found person to a simple Meldebescheinigung ready to print, the fee paid in
    cash with the exact amount: F6, Enter."""
    open_found_person(qtbot, window, "mueller anna maria 12.08.1964", people["anna"])
    before = counts(cfg, people["anna"])
    keys = Keys(qtbot)

    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    assert isinstance(dialog, MeldebescheinigungDialog)
    keys.press(Qt.Key.Key_Return)      # at once: the warnings may still be on their way
    wait_done(qtbot, dialog)

    assert keys.count <= 5
    assert keys.count == 2
    save_shot(dialog, "screenshot-meldebescheinigung-ergebnis.png")
    result = dialog.service_result
    assert result is not None and result.receipt is not None
    document = dialog.result_view
    assert "Meldebescheinigung ausgestellt – bereit zum Drucken" in norm(document.text())
    assert result.documents[-1].number in norm(document.text())
    assert "gespeichert" in norm(document.text())
    assert "Rückgeld: 0,00 €" in norm(document.text())
    after = counts(cfg, people["anna"])
    assert after["certificates"] == before["certificates"] + 1
    assert after["receipts"] == before["receipts"] + 1
    assert after["journal"] == before["journal"] + 1
    assert after["outbox"] == before["outbox"] + 1
    (entry,) = journal_rows(cfg, dialog.command_id)
    assert (entry["method"], entry["amount_cents"], entry["given_cents"],
            entry["change_cents"]) == ("bar", 700, 700, 0)
    assert entry["service"] == "meldebescheinigung_einfach"
    with opening.open_register(cfg) as store:
        documents = store.query("SELECT type FROM documents WHERE command_id = ? ORDER BY type",
                                (dialog.command_id,))
        outbox = store.query("SELECT type FROM outbox WHERE command_id = ?",
                             (dialog.command_id,))
    assert [d["type"] for d in documents] == ["meldebescheinigung_einfach", "quittung"]
    assert [o["type"] for o in outbox] == ["meldebescheinigung"]

    keys.press(Qt.Key.Key_Return)      # closes the result, back to the search
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
    qtbot.waitUntil(window.search.hasFocus, timeout=3000)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)   # Enter again: only reopens the person
    qtbot.wait(300)
    assert counts(cfg, people["anna"]) == after, "nothing issued or charged twice"
    assert window.person_view.record is not None


def test_enter_twice_fast_issues_once(qtbot: QtBot, window: MainWindow, cfg: Config,
                                      people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    before = counts(cfg, people["lena"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    dialog.request_submit()
    dialog.request_submit()            # a double click on the button
    dialog.submit_button.click()
    wait_done(qtbot, dialog)
    dialog.request_submit()
    qtbot.wait(200)
    after = counts(cfg, people["lena"])
    assert after["certificates"] == before["certificates"] + 1
    assert after["journal"] == before["journal"] + 1
    assert after["outbox"] == before["outbox"] + 1


# --- Meldebescheinigung ----------------------------------------------------------------------

def test_cash_given_changes_live_and_issues_with_change(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    payment = dialog.payment
    assert payment.given.hasFocus() and payment.given.text() == "7,00"
    assert payment.given.selectedText() == "7,00", "typing replaces the prefilled fee"
    assert "7,00 €" in norm(payment.fee_label.text())
    keys.type("10")
    assert norm(payment.change_label.text()) == "Rückgeld: 3,00 €"
    save_shot(dialog, "screenshot-meldebescheinigung.png")
    keys.press(Qt.Key.Key_Return)
    wait_done(qtbot, dialog)
    assert keys.count == 4   # F6, 1, 0, Enter
    text = norm(dialog.result_view.text())
    assert "gegeben 10,00 €" in text and "Rückgeld: 3,00 €" in text
    (entry,) = journal_rows(cfg, dialog.command_id)
    assert (entry["given_cents"], entry["change_cents"]) == (1000, 300)


def test_too_little_cash_is_said_next_to_gegeben_and_typed_data_stays(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    before = counts(cfg, people["otto"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    assert isinstance(dialog, MeldebescheinigungDialog)
    wait_idle(qtbot, dialog)
    dialog.purpose.setFocus()
    keys.type("Vorlage beim Arbeitgeber")
    dialog.payment.given.setFocus()
    dialog.payment.given.selectAll()
    keys.type("5")
    assert norm(dialog.payment.change_label.text()) == "⚠ Es fehlen 2,00 €"
    keys.press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.payment.given_box.error), timeout=5000)
    assert norm(dialog.payment.given_box.error) == \
        "Der gegebene Betrag (5,00 €) ist kleiner als die Gebühr (7,00 €)."
    assert dialog.payment.given_box.error_label.isVisible()
    assert dialog.payment.given_box.error_label.text().startswith("⚠ ")
    assert not dialog.is_done
    assert dialog.purpose.text() == "Vorlage beim Arbeitgeber", "typed data kept"
    assert dialog.payment.given.text() == "5"
    assert dialog.payment.given.hasFocus(), "the cursor is at the field to correct"
    save_shot(dialog, "screenshot-meldebescheinigung-fehler.png")
    assert counts(cfg, people["otto"]) == before, "nothing issued, nothing charged"
    keys.type("10")                   # the field's text is selected: typing replaces it
    keys.press(Qt.Key.Key_Return)
    wait_done(qtbot, dialog)
    assert "Verwendungszweck" in norm(dialog.result_view.text())
    assert "Vorlage beim Arbeitgeber" in norm(dialog.result_view.text())


def test_not_an_amount_is_refused_before_the_register(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    keys.type("zehn")
    keys.press(Qt.Key.Key_Return)
    assert "„zehn“ ist kein Betrag" in dialog.payment.given_box.error
    assert not dialog.busy and not dialog.is_done


def test_exemption_shows_reason_and_legal_basis_on_the_result(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "kleeberg ida", people["ida"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    keys.press(Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)   # gebühren&frei
    payment = dialog.payment
    qtbot.waitUntil(payment.frei.isChecked, timeout=2000)   # a mnemonic clicks animated
    assert payment.frei.isChecked() and payment.exemption_box.isVisible()
    assert not payment.given_box.isVisible()
    assert payment.exemption.currentText() == "Vorlage bei Rentenversicherungsträger"
    assert "§ 64 Abs. 2 SGB X" in payment.exemption_box.hint_label.text()
    keys.press(Qt.Key.Key_Return)   # from the radio button to the exemption
    assert payment.exemption.hasFocus()
    keys.press(Qt.Key.Key_Return)   # the last field: issue
    wait_done(qtbot, dialog)
    text = norm(dialog.result_view.text())
    assert "gebührenfrei – Vorlage bei Rentenversicherungsträger (§ 64 Abs. 2 SGB X)" in text
    (entry,) = journal_rows(cfg, dialog.command_id)
    assert (entry["method"], entry["amount_cents"], entry["exemption"]) == \
        ("gebuehrenfrei", 0, "rente")


def test_card_payment(qtbot: QtBot, window: MainWindow, cfg: Config,
                      people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "kleeberg ida", people["ida"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    keys.press(Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dialog.payment.karte.isChecked, timeout=2000)
    assert dialog.payment.karte.isChecked() and dialog.payment.card_label.isVisible()
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)   # no terminal number
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.payment.terminal_box.error),
                    timeout=5000)
    assert focused() is dialog.payment.terminal, "the cursor goes to the missing number"
    keys.type("004711")
    keys.press(Qt.Key.Key_Return)   # the terminal's number is the last stop: issue
    wait_done(qtbot, dialog)
    assert "Kartenzahlung 7,00 €" in norm(dialog.result_view.text())
    (entry,) = journal_rows(cfg, dialog.command_id)
    assert (entry["method"], entry["amount_cents"], entry["given_cents"],
            entry["terminal_receipt"]) == ("karte", 700, None, "004711")


def test_the_first_cash_payment_of_the_day_brings_the_float(qtbot: QtBot,
                                                            tmp_path: Path) -> None:
    """No float recorded today: the cash payment asks for it (offered: the last day's, or
    0,00), above "Gegeben", so Enter in "Gegeben" still issues; once booked, not asked again."""
    cfg = make_cfg(tmp_path / "day")
    with demo_register(cfg, residents=0) as store:
        ida = add_person(store, "Kleeberg", "Ida", "1950-02-03")
        assert float_to_ask(store, cfg.workstation, date.today()) == 0
    window = open_window(qtbot, cfg)
    open_found_person(qtbot, window, "kleeberg ida", ida)
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    qtbot.waitUntil(dialog.payment.float_box.isVisible, timeout=3000)
    assert dialog.payment.float_edit.text() == "0,00"
    chain = dialog.input_chain()
    assert chain.index(dialog.payment.float_edit) == chain.index(dialog.payment.given) - 1
    dialog.payment.float_edit.setText("150")
    save_shot(dialog, "screenshot-wechselgeld.png")
    dialog.payment.given.setFocus()
    keys.press(Qt.Key.Key_Return)   # Enter in "Gegeben", the last field: issue
    wait_done(qtbot, dialog)
    with opening.open_register(cfg) as store:
        assert day_float(store, cfg.workstation, date.today()) == 15_000
        assert float_to_ask(store, cfg.workstation, date.today()) is None
    keys.press(Qt.Key.Key_Return)   # closes
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
    qtbot.waitUntil(window.search.hasFocus, timeout=3000)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    qtbot.wait(200)
    assert not dialog.payment.float_box.isVisible(), "once a day"
    close_window(window)


def test_extended_certificate_with_chosen_sections(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    assert isinstance(dialog, MeldebescheinigungDialog)
    wait_idle(qtbot, dialog)
    assert not dialog.sections_box.isVisible()
    keys.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)   # e&rweitert
    qtbot.waitUntil(dialog.erweitert.isChecked, timeout=2000)
    assert dialog.erweitert.isChecked() and dialog.sections_box.isVisible()
    assert dialog.payment.given.text() == "9,00", "the prefilled amount follows the fee"
    assert "9,00 €" in norm(dialog.payment.fee_label.text())
    for code, check in dialog.section_checks.items():
        check.setChecked(code == "geburt")
    save_shot(dialog, "screenshot-meldebescheinigung-erweitert.png")
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_done(qtbot, dialog)
    text = norm(dialog.result_view.text())
    assert "Erweiterte Meldebescheinigung" in text
    assert "Geburtsort" in text and "Lörrach" in text
    assert "Geschlecht" not in text
    (entry,) = journal_rows(cfg, dialog.command_id)
    assert (entry["service"], entry["amount_cents"]) == ("meldebescheinigung_erweitert", 900)


def test_extended_without_any_section_is_refused_in_place(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    dialog = open_dialog(qtbot, window, Keys(qtbot), Qt.Key.Key_F6)
    assert isinstance(dialog, MeldebescheinigungDialog)
    wait_idle(qtbot, dialog)
    dialog.erweitert.setChecked(True)
    for check in dialog.section_checks.values():
        check.setChecked(False)
    dialog.request_submit()
    assert "mindestens eine Angabe" in dialog.sections_box.error
    assert not dialog.busy


# --- blocks ----------------------------------------------------------------------------------

def test_blocked_person_warning_and_acknowledgement(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "sperrlich berta", people["berta"])
    before = counts(cfg, people["berta"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    box = dialog.warning_box
    assert box.isVisible()
    assert box.heading.text().startswith("AUSKUNFTSSPERRE")
    assert "Auskunftssperre (§ 51 BMG)" in box.text.text()
    assert "⚠" in box.text.text(), "not colour alone"
    assert box.accessibleName().startswith("AUSKUNFTSSPERRE")
    assert dialog.ack_box.isVisible() and not dialog.ack.isChecked()
    assert dialog.ack.hasFocus(), "the acknowledgement comes first"
    assert box.mapTo(dialog, box.rect().topLeft()).y() < \
        dialog.payment.mapTo(dialog, dialog.payment.rect().topLeft()).y(), "at the top"
    save_shot(dialog, "screenshot-meldebescheinigung-sperre.png")

    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)   # not acknowledged
    qtbot.waitUntil(lambda: bool(dialog.ack_box.error), timeout=5000)
    assert "Bitte bestätigen" in dialog.ack_box.error
    assert dialog.ack_box.error_label.isVisible()
    assert not dialog.is_done
    assert counts(cfg, people["berta"]) == before, "refused: nothing issued"
    assert dialog.ack.hasFocus()

    keys.press(Qt.Key.Key_Space)
    assert dialog.ack.isChecked()
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_done(qtbot, dialog)
    assert counts(cfg, people["berta"])["certificates"] == before["certificates"] + 1
    with opening.open_register(cfg) as store:
        detail = store.query("SELECT detail FROM audit_log WHERE person_id = ? AND "
                             "action = 'issue' ORDER BY rowid DESC LIMIT 1",
                             (people["berta"],))[0]["detail"]
    assert "Sperre zur Kenntnis genommen" in detail


def test_unblocked_person_has_no_warning(qtbot: QtBot, window: MainWindow,
                                         people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    dialog = open_dialog(qtbot, window, Keys(qtbot), Qt.Key.Key_F6)
    wait_idle(qtbot, dialog)
    assert not dialog.warning_box.isVisible()
    assert not dialog.ack_box.isVisible()
    assert dialog.ack not in dialog.input_chain()


# --- Lebensbescheinigung ---------------------------------------------------------------------

def test_lebensbescheinigung_end_to_end(qtbot: QtBot, window: MainWindow, cfg: Config,
                                        people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    before = counts(cfg, people["lena"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F7)
    assert isinstance(dialog, LebensbescheinigungDialog)
    assert dialog.institution.hasFocus()
    assert dialog.payment.free_label.isVisible() and not dialog.payment.given_box.isVisible()
    assert "gebührenfrei" in norm(dialog.payment.fee_label.text())
    keys.type("INPS Italien")
    keys.press(Qt.Key.Key_Return)                 # -> Aktenzeichen
    keys.type("4711")
    keys.press(Qt.Key.Key_Return)                 # -> Ausweis geprüft
    assert dialog.id_checked.hasFocus()
    keys.press(Qt.Key.Key_Return)                 # the last field, not ticked: refused
    qtbot.waitUntil(lambda: bool(dialog.id_box.error), timeout=5000)
    assert "gültigem Ausweis" in dialog.id_box.error
    assert dialog.institution.text() == "INPS Italien"
    save_shot(dialog, "screenshot-lebensbescheinigung-fehler.png")
    keys.press(Qt.Key.Key_Space)
    keys.press(Qt.Key.Key_Return)
    wait_done(qtbot, dialog)
    text = norm(dialog.result_view.text())
    assert "Lebensbescheinigung ausgestellt" in text
    assert "INPS Italien" in text and "4711" in text
    assert "Gebührenfrei – keine Quittung." in text
    after = counts(cfg, people["lena"])
    assert after["certificates"] == before["certificates"] + 1
    assert after["receipts"] == before["receipts"], "free: no receipt"
    assert after["journal"] == before["journal"]
    keys.press(Qt.Key.Key_Escape)                 # Esc closes the result too
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
    qtbot.waitUntil(window.search.hasFocus, timeout=3000)


def test_lebensbescheinigung_needs_the_institution(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F7)
    assert isinstance(dialog, LebensbescheinigungDialog)
    wait_idle(qtbot, dialog)
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(dialog.institution_box.error), timeout=5000)
    assert "anfordernde Stelle" in dialog.institution_box.error
    assert dialog.id_box.error
    assert dialog.institution.hasFocus()


# --- Personenstandsurkunde -------------------------------------------------------------------

def test_personenstandsurkunde_own_birth_end_to_end(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    before = counts(cfg, people["otto"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F8)
    assert isinstance(dialog, PersonenstandsurkundeDialog)
    wait_idle(qtbot, dialog)
    assert dialog.certificate.hasFocus()
    assert dialog.names.text() == "Otto Zwirbel", "own birth: prefilled from the register"
    assert dialog.event_date.text() == "05.05.1972"
    assert dialog.place.text() == "Lörrach"
    assert dialog.date_box.label is not None and dialog.date_box.label.text() == \
        "Geburtsdatum *"
    assert "12,00 €" in norm(dialog.payment.fee_label.text())
    keys.press(Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)   # A&nzahl
    assert dialog.copies.hasFocus()
    keys.press(Qt.Key.Key_Up)                                   # two copies
    assert "24,00 € – Antrag auf Personenstandsurkunde (2 × 12,00 €)" in \
        norm(dialog.payment.fee_label.text()), "the fee is per copy"
    keys.press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)   # Ausweis ge&prüft
    qtbot.waitUntil(dialog.id_checked.isChecked, timeout=2000)
    save_shot(dialog, "screenshot-personenstandsurkunde.png")
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_done(qtbot, dialog)
    assert keys.count == 5   # F8, Alt+N, ↑, Alt+P, Ctrl+Enter
    text = norm(dialog.result_view.text())
    assert "Antrag auf Personenstandsurkunde ausgestellt" in text
    assert "Geburtsurkunde" in text and "Standesamt" in text
    after = counts(cfg, people["otto"])
    assert after["certificates"] == before["certificates"] + 1
    assert after["journal"] == before["journal"] + 1
    with opening.open_register(cfg) as store:
        request = store.query("SELECT status, payload FROM requests WHERE command_id = ?",
                              (dialog.command_id,))
    assert len(request) == 1 and request[0]["status"] == "queued"
    assert '"copies": 2' in request[0]["payload"]
    with opening.open_register(cfg) as store:
        (entry,) = store.query("SELECT amount_cents FROM cash_journal WHERE command_id = ?",
                               (dialog.command_id,))
    assert entry["amount_cents"] == 2400


def test_personenstandsurkunde_death_of_a_parent_needs_the_entry_and_checks_it(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "vogelsang karl", people["karl"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F8)
    assert isinstance(dialog, PersonenstandsurkundeDialog)
    wait_idle(qtbot, dialog)
    dialog.certificate.set_value("tod")
    assert dialog.names.text() == "", "a death entry is not the applicant's own birth"
    assert dialog.names_box.label is not None
    assert dialog.names_box.label.text() == "Verstorbene Person *"
    dialog.basis.set_value("geschwister")
    assert dialog.interest_box.isVisible(), "siblings must state their interest"
    dialog.names.setFocus()
    keys.type("Karla Vogelsang")
    dialog.event_date.setFocus()
    keys.type("31.02.2001")
    dialog.id_checked.setChecked(True)
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(dialog.date_box.error), timeout=5000)
    assert dialog.date_box.error == "Den Tag „31.02.2001“ gibt es nicht."
    assert dialog.place_box.error and dialog.interest_box.error
    assert dialog.names.text() == "Karla Vogelsang"
    dialog.event_date.setText("2001")
    dialog.place.setText("Basel")
    dialog.interest.setText("Erbschaft")
    dialog.basis.set_value("geschwister")
    dialog.request_submit()
    wait_done(qtbot, dialog)
    assert "Sterbeurkunde" in norm(dialog.result_view.text())


# --- the window around the dialogs -----------------------------------------------------------

def test_function_keys_are_named_on_the_tool_bar(qtbot: QtBot, window: MainWindow,
                                                 people: dict[str, str]) -> None:
    texts = [a.iconText() for a in window.toolbar.actions()]
    for label in ("F6 Meldebescheinigung", "F7 Lebensbescheinigung",
                  "F8 Personenstandsurkunde", "F9 Kasse"):
        assert label in texts
    assert not window.certificate_actions["meldebescheinigung"].isEnabled(), "no person yet"
    assert window.cash_action.isEnabled()
    qtbot.keyClick(window.search, Qt.Key.Key_F6)
    assert window.service_dialog is None
    open_found_person(qtbot, window, "zwirbel otto", people["otto"])
    assert all(a.isEnabled() for a in window.certificate_actions.values())
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert not window.certificate_actions["meldebescheinigung"].isEnabled()


def test_esc_on_an_untouched_dialog_closes_it_and_a_typed_one_asks(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F7)
    wait_idle(qtbot, dialog)
    asked: list[bool] = []
    dialog.confirm_discard = lambda: asked.append(True) or False
    keys.type("DRV")
    keys.press(Qt.Key.Key_Escape)
    assert asked and dialog.isVisible(), "typed work is not thrown away unasked"
    dialog.confirm_discard = lambda: True
    keys.press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
    qtbot.waitUntil(window.search.hasFocus, timeout=3000)
    assert window.person_view.record is not None, "the person stays open"


def test_person_is_read_again_after_a_service(qtbot: QtBot, window: MainWindow,
                                              people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    completed: list[object] = []
    window.service_completed.connect(completed.append)
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        keys.press(Qt.Key.Key_Return)
    assert completed and dialog.is_done


def test_every_dialog_control_has_an_accessible_name(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "sperrlich berta", people["berta"])
    for key in (Qt.Key.Key_F6, Qt.Key.Key_F7, Qt.Key.Key_F8):
        dialog = open_dialog(qtbot, window, Keys(qtbot), key)
        wait_idle(qtbot, dialog)
        unnamed = unnamed_controls(dialog)
        assert unnamed == [], key
        dialog.done(0)
        qtbot.waitUntil(lambda: window.service_dialog is None, timeout=3000)
        qtbot.waitUntil(window.search.hasFocus, timeout=3000)


def test_english_dialog(qtbot: QtBot, register: Register) -> None:
    set_language("en")
    w = start_window(qtbot, MainWindow(make_cfg(register[0], language="en")))
    w.open_person(register[1]["otto"])
    qtbot.waitUntil(lambda: w.person_view.record is not None, timeout=5000)
    assert "F6 Registration certificate" in [a.iconText() for a in w.toolbar.actions()]
    w.open_certificate("meldebescheinigung")
    dialog = w.service_dialog
    assert isinstance(dialog, MeldebescheinigungDialog)
    assert dialog.windowTitle() == "Registration certificate – DEMO"
    badge = dialog.findChild(QLabel, "demoBadge")
    assert badge is not None and badge.text() == "DEMO – made-up data"
    assert dialog.payment.bar.text().replace("&", "") == "Cash"
    assert norm(dialog.payment.change_label.text()) == "Change: 0,00 €"
    dialog.done(0)
    settle(qtbot, w)
    w.close()


def test_one_service_dialog_at_a_time(qtbot: QtBot, window: MainWindow,
                                      people: dict[str, str]) -> None:
    open_found_person(qtbot, window, "quellmalz lena", people["lena"])
    dialog = open_dialog(qtbot, window, Keys(qtbot), Qt.Key.Key_F6)
    window.open_cash_desk()
    window.open_certificate("lebensbescheinigung")
    assert window.service_dialog is dialog, "the open dialog stays, nothing opens twice"


def test_meldebescheinigung_for_a_household_member_too(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    """Only the opened person is preselected; ticking a member says so on the button and
    charges the fee twice; one command issues both, each with its receipt."""
    open_found_person(qtbot, window, "hausmann eva", people["eva"])
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, window, keys, Qt.Key.Key_F6)
    assert isinstance(dialog, MeldebescheinigungDialog) and dialog.household is not None
    (udo,) = dialog.household.checks.values()
    assert not udo.isChecked()
    assert dialog.payment.given.hasFocus()
    keys.press(Qt.Key.Key_Backtab)     # Barzahlung
    keys.press(Qt.Key.Key_Backtab)     # back to the household member
    assert udo.hasFocus()
    keys.press(Qt.Key.Key_Space)
    assert dialog.submit_button.text() == "Ausstellen für 2 Personen (Strg+Enter)"
    assert "14,00 €" in norm(dialog.payment.fee_label.text())
    keys.press(Qt.Key.Key_Tab)
    keys.press(Qt.Key.Key_Tab)
    assert dialog.payment.given.hasFocus() and dialog.payment.given.text() == "14,00"
    keys.type("20")
    save_shot(dialog, "screenshot-meldebescheinigung-haushalt.png")
    keys.press(Qt.Key.Key_Return)
    wait_done(qtbot, dialog)
    result = dialog.service_result
    assert result is not None and result.type == "meldebescheinigung_haushalt"
    assert [d.person_id for d in result.documents if d.type != "quittung"] == [
        people["eva"], people["udo"]]
    text = norm(dialog.result_view.text())
    assert "2 × Meldebescheinigung, Gebühren zusammen 14,00 € (bar: gegeben 20,00 €, " \
        "Rückgeld 6,00 €); 2 Quittungen." in text
    assert "Rückgeld: 6,00 €" in text and "Hausmann" in text and "Udo" in text
    save_shot(dialog, "screenshot-meldebescheinigung-haushalt-ergebnis.png")
    journal = journal_rows(cfg, dialog.command_id)
    assert [(e["amount_cents"], e["given_cents"], e["change_cents"]) for e in journal] == [
        (700, 700, 0), (700, 1300, 600)]
