"""A handheld scanner types an ID card's machine-readable zone into the search field: the
holder opens, several holders are listed, an unknown holder is offered for the Anmeldung, a
wrong check digit is named under the field, and the zone never reaches a log."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clerk_app.id_scan import NewPersonPrefill
from clerk_app.store import opening
from tests.factories import add_person, make_cfg
from tests.ui_support import Register, module_register, settle
from ui import search_panel
from ui.main_window import MainWindow
from ui.search_panel import is_mrz_typing

pytestmark = pytest.mark.usefixtures("german")

# The ICAO / German specimen ID card (Erika Mustermann).
LINE1 = "IDD<<T220001293<<<<<<<<<<<<<<<"
LINE2 = "6408125<2010315D<<<<<<<<<<<<<4"
LINE3 = "MUSTERMANN<<ERIKA<<<<<<<<<<<<<"
# The name line carries no check digit: the same card for other (invented) holders.
UNKNOWN3 = "MUSTERFRAU<<ERIKA<<<<<<<<<<<<<"
TWINS3 = "BEISPIEL<<ERIKA<<<<<<<<<<<<<<<"


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    people: dict[str, str] = {}
    with module_register(tmp_path_factory, residents=800) as (data_dir, store):
        people["erika"] = add_person(store, "Mustermann", "Erika", "1964-08-12")
        people["twin1"] = add_person(store, "Beispiel", "Erika", "1964-08-12")
        people["twin2"] = add_person(store, "Beispiel", "Erika Maria", "1964-08-12",
                                     street="Basler Straße", number="7")
    return data_dir, people


def scan_card(qtbot: QtBot, w: MainWindow, *lines: str) -> None:
    """Type the zone as the scanner does: each line, then its Enter."""
    for line in lines:
        qtbot.keyClicks(w.search, line)
        qtbot.keyClick(w.search, Qt.Key.Key_Return)


def test_the_zone_is_recognised_while_it_is_typed() -> None:
    assert is_mrz_typing("IDD<<T2200")
    assert is_mrz_typing(LINE1 + LINE2 + LINE3)
    assert not is_mrz_typing("mueller anna")
    assert not is_mrz_typing("12.08.1964")
    assert not is_mrz_typing("Hauptstraße 12")


def test_scanned_card_opens_its_holder(qtbot: QtBot, window: MainWindow,
                                       people: dict[str, str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with qtbot.waitSignal(window.db.person_done, timeout=10_000):
        scan_card(qtbot, window, LINE1, LINE2, LINE3)
    record = window.person_view.record
    assert record is not None and record.id == people["erika"]
    assert window.count.text() == "Ausweis gelesen: 1 Person gefunden"
    assert window.message.text() == ""
    assert [h.id for h in window.model.hits] == [people["erika"]]
    assert window.search.hasFocus()
    assert window.search.selectedText() == window.search.text(), "the next scan replaces it"
    for secret in ("T22000129", "MUSTERMANN", "IDD<<", "6408125"):
        assert secret not in caplog.text, "the zone never goes to a log"


def test_no_name_search_while_the_zone_arrives(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.search, LINE1)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)   # the scanner's line break
    settle(qtbot, window)
    qtbot.wait(150)
    assert window.model.rowCount() == 0
    assert window.count.text() == "Ausweis wird gelesen …"
    assert window.message.text() == ""
    assert window.person_view.record is None


def test_wrong_check_digit_is_named_under_the_field(qtbot: QtBot, window: MainWindow,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    scan_card(qtbot, window, LINE1, LINE2.replace("6408125<", "6408126<"), LINE3)
    qtbot.waitUntil(lambda: bool(window.message.text()), timeout=10_000)
    text = window.message.text()
    assert text.startswith("⚠ Ausweis nicht lesbar")
    assert "Prüfziffer des Geburtsdatums ist falsch (gelesen 6, erwartet 5)" in text
    assert "erneut scannen" in text
    assert window.message.isVisible()
    assert window.person_view.record is None, "nothing opened on a misread zone"
    assert window.model.rowCount() == 0
    assert "6408126" not in caplog.text and "MUSTERMANN" not in caplog.text
    # The next scan replaces the bad one (the field's text is selected).
    with qtbot.waitSignal(window.db.person_done, timeout=10_000):
        scan_card(qtbot, window, LINE1, LINE2, LINE3)
    assert window.message.text() == ""


def test_unknown_holder_is_offered_for_the_anmeldung(qtbot: QtBot,
                                                      window: MainWindow) -> None:
    offered: list[object] = []
    window.new_person_requested.connect(offered.append)
    scan_card(qtbot, window, LINE1, LINE2, UNKNOWN3)
    qtbot.waitUntil(lambda: bool(offered), timeout=10_000)
    (prefill,) = offered
    assert isinstance(prefill, NewPersonPrefill)
    assert (prefill.family_name, prefill.first_names, prefill.birth_date) == \
        ("Musterfrau", "Erika", date(1964, 8, 12))
    assert prefill.document_number == "T22000129"
    assert window.scan_prefill == prefill, "kept for F2 Anmeldung"
    assert "keine Person im Melderegister – Musterfrau, Erika * 12.08.1964" in \
        window.count.text()
    assert "Sichtzone" in window.statusBar().currentMessage(), "the hint on umlauts"
    assert window.person_view.record is None
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.scan_prefill is None


def test_without_registration_dialogs_the_prefill_is_shown_in_the_status_line(
        qtbot: QtBot, window: MainWindow) -> None:
    from ui.registration.actions import RegistrationActions

    actions = window.findChild(RegistrationActions)
    assert actions is not None
    window.new_person_requested.disconnect(actions._on_scan_without_match)
    scan_card(qtbot, window, LINE1, LINE2, UNKNOWN3)
    qtbot.waitUntil(lambda: window.scan_prefill is not None, timeout=10_000)
    status = window.statusBar().currentMessage()
    assert status.startswith("Neuanmeldung: Musterfrau, Erika * 12.08.1964, Dokument T22000129.")
    assert "Sichtzone" in status


def test_several_holders_are_listed_and_enter_opens_the_chosen_one(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    scan_card(qtbot, window, LINE1, LINE2, TWINS3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
    qtbot.wait(100)
    assert window.person_view.record is None, "no guess among several"
    assert window.count.text().startswith("Ausweis gelesen: 2 Personen")
    assert {h.id for h in window.model.hits} == {people["twin1"], people["twin2"]}
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    chosen = window.selected_hit()
    assert chosen is not None
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    record = window.person_view.record
    assert record is not None and record.id == chosen.id


def test_holders_listed_for_a_card_are_read_again_on_refresh(
        qtbot: QtBot, window: MainWindow, register: Register) -> None:
    """After a service the window runs its search again; for a scanned card that is the
    holders listed: their lines are read again, the zone stays, the chosen one stays chosen."""
    data_dir, people = register
    scan_card(qtbot, window, LINE1, LINE2, TWINS3)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
    row = next(i for i, h in enumerate(window.model.hits) if h.id == people["twin2"])
    window.table.selectRow(row)
    zone = window.search.text()
    with opening.open_register(make_cfg(data_dir)) as store, store.conn:
        store.conn.execute("UPDATE residences SET house_number = '9' WHERE person_id = ? "
                           "AND move_out IS NULL", (people["twin2"],))
    window.refresh_search()
    assert window.busy
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.search.text() == zone
    chosen = window.selected_hit()
    assert chosen is not None and chosen.id == people["twin2"]
    assert chosen.address.startswith("Basler Straße 9,")


def test_a_pasted_zone_in_one_piece_works_too(qtbot: QtBot, window: MainWindow,
                                              people: dict[str, str]) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=10_000):
        qtbot.keyClicks(window.search, LINE1 + LINE2 + LINE3)
    record = window.person_view.record
    assert record is not None and record.id == people["erika"]


# ICAO 9303 specimens besides the ID card: the TD2 card of Utopia (no holder in this register)
# and the German passport (TD3) of Erika Mustermann.
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD3 = ("P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<",
       "C01X00T478D<<6408125F2702283<<<<<<<<<<<<<<<4")
SCANNER_KEY_MS = 4   # a fast keyboard-wedge scanner: the event loop runs between the keys


def scan_slowly(qtbot: QtBot, w: MainWindow, lines: tuple[str, ...], breaks: bool) -> None:
    """Type the zone key by key as a real scanner does, letting the window work in between
    (answers to reads started too early arrive while the rest of the zone is typed)."""
    for line in lines:
        qtbot.keyClicks(w.search, line, delay=SCANNER_KEY_MS)
        if breaks:
            qtbot.keyClick(w.search, Qt.Key.Key_Return, delay=SCANNER_KEY_MS)


@pytest.mark.parametrize("breaks", [True, False], ids=["line breaks", "one piece"])
@pytest.mark.parametrize("lines", [(LINE1, LINE2, LINE3), TD3], ids=["TD1", "TD3"])
def test_id_card_and_passport_typed_key_by_key_open_the_holder(
        qtbot: QtBot, window: MainWindow, people: dict[str, str],
        lines: tuple[str, ...], breaks: bool) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=10_000):
        scan_slowly(qtbot, window, lines, breaks)
    record = window.person_view.record
    assert record is not None and record.id == people["erika"]
    assert window.message.text() == "", "no check-digit errors from a wrong layout"
    assert window.count.text() == "Ausweis gelesen: 1 Person gefunden"
    assert window.search.text() == "".join(lines), "the whole zone, nothing typed over"


@pytest.mark.parametrize("breaks", [True, False], ids=["line breaks", "one piece"])
def test_td2_card_typed_key_by_key_is_read_as_td2(qtbot: QtBot, window: MainWindow,
                                                  breaks: bool) -> None:
    offered: list[NewPersonPrefill] = []
    window.new_person_requested.connect(offered.append)
    scan_slowly(qtbot, window, TD2, breaks)
    qtbot.waitUntil(lambda: bool(offered), timeout=10_000)
    assert (offered[0].family_name, offered[0].first_names, offered[0].birth_date) == \
        ("Eriksson", "Anna Maria", date(1974, 8, 12))
    assert window.message.text() == ""


def test_zone_that_stops_short_is_named_not_read_for_ever(qtbot: QtBot,
                                                          window: MainWindow) -> None:
    scan_slowly(qtbot, window, (LINE1, LINE2), breaks=True)
    qtbot.keyClicks(window.search, LINE3[:20], delay=SCANNER_KEY_MS)   # and then nothing
    assert window.count.text() == "Ausweis wird gelesen …"
    qtbot.waitUntil(lambda: bool(window.message.text()), timeout=5000)
    assert window.message.text() == \
        "⚠ Ausweis nicht vollständig gelesen (80 von 90 Zeichen). Bitte erneut scannen."
    assert window.count.text() == ""
    assert window.person_view.record is None
    # The next scan replaces the broken one.
    with qtbot.waitSignal(window.db.person_done, timeout=10_000):
        scan_slowly(qtbot, window, (LINE1, LINE2, LINE3), breaks=True)
    assert window.message.text() == ""


def test_misread_card_names_at_most_two_problems(qtbot: QtBot, window: MainWindow) -> None:
    bad2 = "6408126<2010316D<<<<<<<<<<<<<4"          # birth and expiry check digits fail
    bad1 = LINE1.replace("T22000129", "T22000128")   # and the document number's
    scan_slowly(qtbot, window, (bad1, bad2, LINE3), breaks=True)
    qtbot.waitUntil(lambda: bool(window.message.text()), timeout=10_000)
    text = window.message.text()
    assert text.count("Prüfziffer") == 2
    assert "(und 1 weitere)" in text


def test_scanners_last_enter_never_opens_one_of_several_holders(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scanner's Enter after the last line may come after the holders are listed: it is
    no choice. (The window for that Enter is widened here so that the test's timing does
    not matter.)"""
    monkeypatch.setattr(search_panel, "SCANNER_PAUSE_MS", 5_000)
    scan_slowly(qtbot, window, (LINE1, LINE2), breaks=True)
    qtbot.keyClicks(window.search, TWINS3, delay=SCANNER_KEY_MS)   # complete: read at once
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)                # the scanner's Enter
    qtbot.wait(200)
    assert window.person_view.record is None, "no guess among several"
