"""Anmeldung, Ummeldung, Abmeldung driven like a clerk drives them: a real encrypted demo
register, the real main window (F2-F4 from its key table), real key events.

Set SCREENSHOT_DIR to keep the dialogs' screenshots (they are always taken, into tmp_path
otherwise, so that rendering problems fail here too).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.id_scan import NewPersonPrefill
from clerk_app.ids import uuid7
from clerk_app.names import search_form
from clerk_app.parsing import country_code, parse_date_input
from clerk_app.services.registration import DOMESTIC_MOVE_REFUSED
from clerk_app.services.runner import run_service
from clerk_app.store import opening
from tests.factories import add_person
from tests.test_registration import landlord, new_person
from tests.test_relations import as_child_of, child
from tests.ui_support import Register, focused, module_register, type_keys, unnamed_controls
from ui.fields import remap_indexed_paths
from ui.function_keys import FUNCTION_KEYS
from ui.i18n import set_language
from ui.main_window import MainWindow
from ui.registration.actions import RegistrationActions
from ui.registration.anmeldung import AnmeldungDialog
from ui.registration.dialog import RegistrationDialog
from ui.registration.moves import AbmeldungDialog, UmmeldungDialog
from ui.registration.person_entry import PersonEntry

pytestmark = pytest.mark.usefixtures("german")

RESIDENTS = 800
TODAY = date.today()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    """A demo register of 800 residents (with the street directory) and one exact person."""
    people: dict[str, str] = {}
    with module_register(tmp_path_factory, RESIDENTS) as (data_dir, store):
        people["anna"] = add_person(store, "Müller", "Anna Maria", "1964-08-12")
    return data_dir, people


@pytest.fixture
def window(window: MainWindow) -> Iterator[MainWindow]:
    """The main window (its key table binds F2-F4 to the registration dialogs); an open
    registration dialog is thrown away unasked at the end."""
    yield window
    actions = window.findChild(RegistrationActions)
    if actions is not None and actions.dialog is not None:
        actions.dialog.confirm_discard = lambda: True
        actions.dialog.reject()


# --- driving ---------------------------------------------------------------------------------

class Keys:
    """Real key events to whatever has the keyboard (the completer's popup if open); counts
    every key press, as a clerk's hand would."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.count = 0        # every key press
        self.moves = 0        # presses that are not text: Tab, Enter, Space, F2, Alt+P …

    @staticmethod
    def target() -> QWidget:
        popup = QApplication.activePopupWidget()
        widget = popup if popup is not None else QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard"
        return widget

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
              times: int = 1) -> None:
        for _ in range(times):
            self.qtbot.keyClick(self.target(), key, modifier)
            self.count += 1
            self.moves += 1

    def type(self, text: str) -> None:
        """Characters into the widget focused at each one; non-ASCII as text events."""
        for ch in text:
            type_keys(self.qtbot, focused(), ch)
            self.count += 1

    def tab(self, times: int = 1) -> None:
        self.press(Qt.Key.Key_Tab, times=times)

    def field(self, text: str, tabs: int = 1) -> None:
        """Type into the focused field, then Tab on."""
        self.type(text)
        self.tab(tabs)


def dialog_of(window: MainWindow) -> RegistrationDialog:
    actions = window.findChild(RegistrationActions)
    assert actions is not None and actions.dialog is not None
    return actions.dialog


def open_with_key(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> RegistrationDialog:
    qtbot.keyClick(window.search, key)
    dialog = dialog_of(window)
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    return dialog


def settle(qtbot: QtBot, dialog: RegistrationDialog) -> None:
    """Wait for street lookups, house-number checks and submits in flight."""
    streets = [w for w in dialog.findChildren(QLineEdit) if hasattr(w, "pending")]
    qtbot.waitUntil(lambda: not dialog.busy and not any(s.pending for s in streets),
                    timeout=10_000)
    qtbot.wait(60)


def submit(qtbot: QtBot, keys: Keys, dialog: RegistrationDialog) -> None:
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, dialog)


def shot(widget: QWidget, name: str, tmp_path: Path, popup: QWidget | None = None) -> Path:
    """Grab the dialog as it opens on a counter's full-HD screen (the test screen is small),
    with an open pop-up (a window of its own) drawn where it stands."""
    if isinstance(widget, RegistrationDialog) and not widget.is_done:
        widget.fit_to_content(QSize(1920, 1040))
    folder = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    QApplication.processEvents()
    image = widget.grab()
    if popup is not None and popup.isVisible():
        painter = QPainter(image)
        painter.drawPixmap(popup.mapToGlobal(QPoint(0, 0)) - widget.mapToGlobal(QPoint(0, 0)),
                           popup.grab())
        painter.end()
    assert image.save(str(path))
    return path


def count(cfg: Config, sql: str, params: Any = ()) -> int:
    with opening.open_register(cfg) as store:
        return int(store.conn.execute(sql, params).fetchone()[0])


def open_person(qtbot: QtBot, window: MainWindow, person_id: str) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        window.open_person(person_id)


def anmeldung_entry(dialog: RegistrationDialog, index: int = 0) -> PersonEntry:
    assert isinstance(dialog, AnmeldungDialog)
    return dialog.entries[index]


def fill_person(keys: Keys, family: str, first: str, born: str, *, sex: str = "w",
                place: str = "Basel", country: str = "CHE", nationality: str = "CHE") -> None:
    """From the family name to the last field of the person's section, by keyboard."""
    keys.field(family)
    keys.field(first)
    keys.tab(3)                       # Rufname, Geburtsname, Doktorgrad
    keys.field(born)
    keys.field(place)
    keys.field(country)
    keys.field(sex)                   # the combo box selects by first letter
    keys.field(nationality)
    keys.field("r")                   # römisch-katholisch
    keys.field("l")                   # ledig


def fill_rest(keys: Keys, dialog: AnmeldungDialog, *, street: str = "basler 12",
              move_in: str | None = None) -> None:
    """Address, previous address and landlord, starting in the street field."""
    dialog.address.street.setFocus(Qt.FocusReason.TabFocusReason)
    keys.field(street, tabs=2)        # "basler 12": street and number in one go
    keys.tab()                        # Wohnungsstatus: alleinige Wohnung (default)
    if move_in is not None:
        keys.type(move_in)
    keys.tab()
    keys.field("Spalenberg 5, 4051 Basel")
    keys.field("CHE")
    keys.tab()                        # letzte Anschrift im Inland: none
    keys.press(Qt.Key.Key_Space)      # Wohnungsgeberbestätigung liegt vor
    keys.tab(2)
    keys.field("Wohnbau Loerrach GmbH")
    keys.field("Am Alten Markt 1, 79539 Loerrach")


def persons_named(cfg: Config, family: str) -> int:
    return count(cfg, "SELECT count(*) FROM persons WHERE family_name = ?", (family,))


def fill_new_dwelling(qtbot: QtBot, keys: Keys, dialog: RegistrationDialog, street: str) -> None:
    """An Ummeldung's new dwelling and landlord, from the street field on, by keyboard."""
    keys.field(street, tabs=2)        # street and number in one go
    keys.tab(2)                       # Wohnungsstatus as before, Einzugsdatum today
    keys.press(Qt.Key.Key_Space)      # Wohnungsgeberbestätigung liegt vor
    keys.tab(2)
    keys.field("Hausverwaltung Sutter")
    keys.type("Turmstraße 2, 79539 Lörrach")
    settle(qtbot, dialog)


# --- the field helpers (ui.fields, clerk_app.parsing) ---------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("12.08.1964", date(1964, 8, 12)), ("12.8.64", date(1964, 8, 12)),
    ("1.2.2003", date(2003, 2, 1)), ("12081964", date(1964, 8, 12)),
    ("120864", date(1964, 8, 12)), ("1964-08-12", date(1964, 8, 12)),
    (" 3.11.26 ", date(2026, 11, 3)), ("31.02.1990", None), ("12.08.", None), ("", None),
    ("heute", None),
])
def test_german_date_input(text: str, expected: date | None) -> None:
    assert parse_date_input(text, date(2026, 11, 12)) == expected


def test_two_digit_years_of_birth_dates_lie_in_the_past() -> None:
    today = date(2026, 11, 12)
    assert parse_date_input("1.1.30", today, future_years=0) == date(1930, 1, 1)
    assert parse_date_input("1.1.30", today, future_years=10) == date(2030, 1, 1)
    assert parse_date_input("1.1.26", today, future_years=0) == date(2026, 1, 1)


def test_country_codes_by_code_or_name() -> None:
    assert country_code("che") == "CHE"
    assert country_code("Schweiz") == "CHE"
    assert country_code("österr") == "AUT", "the start of one name"
    assert country_code("Tsch") is None, "Tschad or Tschechien"
    assert country_code("Atlantis") is None
    assert country_code("") is None


def test_list_positions_in_error_paths_become_row_keys() -> None:
    errors = {"persons.0.family_name": "a", "persons.1": "b", "persons": "c",
              "address.house_number": "d", "persons.7.sex": "e"}
    assert remap_indexed_paths(errors, "persons", ["3", "5"]) == {
        "persons.3.family_name": "a", "persons.5": "b", "persons": "c",
        "address.house_number": "d", "persons.7.sex": "e"}


# --- Anmeldung -------------------------------------------------------------------------------

def test_anmeldung_by_keyboard_alone(qtbot: QtBot, window: MainWindow, cfg: Config,
                                     tmp_path: Path) -> None:
    """F2, every field in screen order with Tab, Enter in the last field, Enter closes."""
    keys = Keys(qtbot)
    before = persons_named(cfg, "Kowalczyk")
    keys.press(Qt.Key.Key_F2)
    dialog = dialog_of(window)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    assert isinstance(dialog, AnmeldungDialog)
    entry = dialog.entries[0]
    assert focused() is entry.edits["family_name"], "the cursor starts in the family name"

    keys.field("Kowalczyk")
    keys.field("Jan Piotr")
    keys.field("Jan")                 # Rufname
    keys.tab(2)                       # Geburtsname, Doktorgrad
    assert focused() is entry.edits["birth_date"]
    keys.field("3.4.91")
    assert entry.date_edit("birth_date").text() == "03.04.1991", "shown as TT.MM.JJJJ"
    keys.field("Kraków")
    keys.field("pol")
    keys.field("m")
    assert focused() is entry.edits["nationalities"]
    keys.field("POL")
    keys.field("r")
    keys.field("l")
    keys.tab(2)                       # Familienstand seit, Ort der Eheschließung
    assert focused() is entry.edits["id_document.doc_type"]
    keys.field("a")                   # ausländischer Pass
    keys.field("EA1234567")
    keys.tab(2)                       # Behörde, ausgestellt am
    keys.field("1.1.2030")
    keys.tab(2)                       # Ordensname, Künstlername
    assert focused() is dialog.add_button
    keys.tab()
    assert focused() is dialog.address.street
    keys.field("basler 12")
    settle(qtbot, dialog)
    assert dialog.address.street.text() == "Basler Straße (Stadtmitte)"
    assert focused() is dialog.address.number and dialog.address.number.text() == "12"
    assert dialog.address.number_box.hint_label.text() == "79539 Lörrach (Stadtmitte)"
    keys.tab(2)                       # Wohnungsstatus (alleinig), Einzugsdatum (heute)
    assert focused() is dialog.address.moved
    keys.tab()
    keys.field("ul. Długa 5, 31-147 Kraków")
    keys.field("POL")
    assert dialog.previous.last_domestic.isEnabled(), "asked for when coming from abroad"
    keys.tab()
    assert focused() is dialog.landlord.presented
    keys.press(Qt.Key.Key_Space)
    keys.tab(2)
    keys.field("Wohnbau Loerrach GmbH")
    keys.field("Am Alten Markt 1, 79539 Loerrach")
    keys.tab()                        # Eigentümer: same as the landlord
    assert focused() is dialog.landlord.confirmed_date, "the last field"
    shot(dialog, "anmeldung-filled", tmp_path)
    keys.press(Qt.Key.Key_Return)     # Enter in the last field submits
    settle(qtbot, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    assert dialog.is_done and focused() is dialog.close_button
    assert result.documents[0].number.startswith("MBT-SCHALTER3-")
    number_label = dialog.result_page.findChild(QLabel, "documentNumber")
    assert number_label is not None and result.documents[0].number in number_label.text()
    text = dialog.document_text()
    assert "Kowalczyk" in text and "Basler Straße 12, 79539 Lörrach" in text
    assert "alleinige Wohnung" in text and "03.04.1991" in text
    shot(dialog, "anmeldung-done", tmp_path)
    # The whole Anmeldung of one new person (with an ID document and a previous address
    # abroad) took this many key presses, F2 and the closing Enter included:
    keys.press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    print(f"Anmeldung by keyboard: {keys.count} key presses, {keys.moves} of them not text")
    assert keys.moves <= 45, keys.moves
    assert persons_named(cfg, "Kowalczyk") == before + 1
    qtbot.waitUntil(lambda: window.person_view.record is not None
                    and window.person_view.record.id == result.changed_persons[0],
                    timeout=5000)
    assert "Basler Straße 12" in window.person_view.record_text()
    qtbot.waitUntil(lambda: window.search.hasFocus(), timeout=2000)


def test_tab_order_follows_the_screen(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    visited = [focused()]
    for _ in range(60):
        keys.tab()
        if focused() is visited[0]:
            break
        visited.append(focused())
    assert visited[-2:] == [dialog.submit_button, dialog.cancel_button]
    fields = visited[:-2]
    assert fields == [w for w in dialog.input_chain() if w.isVisible() and w.isEnabled()]
    content = dialog.scroll.widget()
    assert content is not None
    where = [w.mapTo(content, QPoint(0, 0)) for w in fields]
    for (a, b), (wa, wb) in zip(itertools.pairwise(where), itertools.pairwise(fields),
                                strict=True):
        same_row = abs(a.y() - b.y()) <= 8
        assert (same_row and b.x() > a.x()) or b.y() > a.y() + 8, \
            f"{wa.accessibleName()} -> {wb.accessibleName()}"
    keys.press(Qt.Key.Key_Backtab)   # Shift+Tab from the first field: round to the end
    assert focused() is dialog.cancel_button
    keys.press(Qt.Key.Key_Backtab)
    assert focused() is dialog.submit_button


def test_required_fields_are_marked(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    required = {b.path.split(".", 2)[-1] if b.path.startswith("persons.") else b.path
                for b in dialog.form.boxes if b.required}
    assert required == {"family_name", "first_names", "birth_date", "birth_place",
                        "birth_country", "sex", "nationalities", "religion", "marital_status",
                        "address.street_id", "address.house_number", "kind", "move_in",
                        "previous_address.address", "landlord.presented",
                        "landlord.landlord_name", "landlord.landlord_address"}
    for box in dialog.form.boxes:
        assert box.label is not None
        assert box.label.text().endswith(" *") == box.required, box.path
        assert ("Pflichtangabe" in box.widget.accessibleName()) == box.required, box.path
    assert "* Pflichtangabe" in dialog.legend.text()
    # An owner-occupier's self-declaration needs no landlord.
    dialog.landlord.own.setChecked(True)
    assert not dialog.landlord.landlord_box.required
    assert not dialog.landlord.landlord.isEnabled()


def test_every_control_has_an_accessible_name(qtbot: QtBot, window: MainWindow, cfg: Config,
                                              people: dict[str, str]) -> None:
    open_person(qtbot, window, household_of(cfg, 2)[0])
    for key in (Qt.Key.Key_F2, Qt.Key.Key_F3, Qt.Key.Key_F4):
        dialog = open_with_key(qtbot, window, key)
        unnamed = unnamed_controls(dialog)
        assert unnamed == [], type(dialog).__name__
        dialog.reject()
        qtbot.waitUntil(lambda d=dialog: not d.isVisible(), timeout=2000)
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def test_invalid_house_number_is_named_at_the_field_and_nothing_is_lost(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Hausnummernprobe", "Eva", "1.2.1980")
    fill_rest(keys, dialog, street="basler 400")
    settle(qtbot, dialog)
    message = "Hausnummer 400 gibt es in der Basler Straße nicht."
    assert dialog.address.number_box.error == message, "said as soon as the field is left"
    typed = dialog.form_data()
    submit(qtbot, keys, dialog)
    assert dialog.service_result is None
    assert dialog.form.errors()["address.house_number"] == message
    assert dialog.address.number_box.error_label.isVisible()
    label = dialog.address.number_box.error_label
    field = dialog.address.number
    assert abs(label.mapTo(dialog, QPoint(0, 0)).x() - field.mapTo(dialog, QPoint(0, 0)).x()) \
        < 4, "the message stands right under the field"
    assert dialog.form_data() == typed, "every typed value kept"
    assert focused() is dialog.address.number, "the cursor goes to the field"
    assert persons_named(cfg, "Hausnummernprobe") == 0
    shot(dialog, "anmeldung-house-number-error", tmp_path)
    keys.type("12")                   # the number is selected: typing replaces it
    submit(qtbot, keys, dialog)
    assert dialog.service_result is not None, dialog.form.errors()
    assert persons_named(cfg, "Hausnummernprobe") == 1


def test_a_refused_submit_names_every_problem_and_goes_to_the_first(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    """The person filled in, the address part (below the fold) not: the banner names every
    problem with its field, and cursor and scroll go to the first one."""
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    dialog.resize(900, 520)   # a small screen: the address is below the fold
    keys = Keys(qtbot)
    fill_person(keys, "Unvollständig", "Eva", "1.2.1980")
    dialog.scroll.verticalScrollBar().setValue(0)
    dialog.entries[0].edits["family_name"].setFocus()
    submit(qtbot, keys, dialog)
    assert dialog.service_result is None
    errors = dialog.form.errors()
    assert len(errors) >= 2, errors
    banner = dialog.banner.text()
    assert "Bitte die markierten Angaben prüfen" not in banner
    assert banner.startswith(f"⚠ Bitte {len(errors)} Angaben prüfen:"), banner
    for message in errors.values():
        assert message in banner, (message, banner)
    assert "Straße" in banner, "each problem is named with its field"
    first = dialog.form.first_error()
    assert first is not None and focused() is first.focus_widget()
    widget = first.focus_widget()
    viewport = dialog.scroll.viewport()
    top = widget.mapTo(viewport, QPoint(0, 0)).y()
    assert top >= 0 and top + widget.height() <= viewport.height(), "scrolled into view"
    assert dialog.scroll.verticalScrollBar().value() > 0
    shot(dialog, "anmeldung-fehler-liste", tmp_path)
    assert persons_named(cfg, "Unvollständig") == 0


def test_invalid_character_in_a_name_names_its_position(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    entry = anmeldung_entry(dialog)
    keys.field("Mül©ler")
    message = "Zeichen „©“ (U+00A9) an Position 4 ist in Namen nicht zulässig."
    box = dialog.form.box(entry.prefix + "family_name")
    assert box.error == message, "said when the field is left"
    assert box.widget.accessibleDescription() == message
    submit(qtbot, keys, dialog)
    assert dialog.form.box(entry.prefix + "family_name").error == message
    assert dialog.form.box(entry.prefix + "birth_date").error == "Bitte ausfüllen."
    assert focused() is entry.edits["family_name"], "first error in screen order"
    assert entry.text("family_name") == "Mül©ler"
    shot(dialog, "anmeldung-errors", tmp_path)


def test_cyrillic_name_gets_one_message_and_its_latin_form_by_keyboard(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Tab from a name in Cyrillic lands on the offer of its passport's Latin form; Space
    takes it, and Tab goes on to the next field."""
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    entry = anmeldung_entry(dialog)
    keys.field("Петров")
    family = dialog.form.box(entry.prefix + "family_name")
    assert family.error == ("Kyrillische Buchstaben sind in Namen nicht zulässig. Lateinisch "
                            "wie im Pass (ICAO 9303): Petrov")
    offer = focused()
    assert isinstance(offer, QPushButton) and offer.text() == "Übernehmen: Petrov"
    shot(dialog, "anmeldung-latin-form", tmp_path)
    keys.press(Qt.Key.Key_Space)
    assert entry.text("family_name") == "Petrov"
    assert family.error == ""
    assert not offer.isVisible()
    keys.tab()
    assert focused() is entry.edits["first_names"], "Tab goes on as before"
    keys.field("Иван")
    keys.press(Qt.Key.Key_Space)
    assert entry.text("first_names") == "Ivan"
    assert dialog.form.box(entry.prefix + "first_names").error == ""


def test_pasted_overlong_name_is_kept_and_refused_with_the_limit(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """A 5,000-character paste is neither cut to 200 nor accepted: the field names the limit."""
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    entry = anmeldung_entry(dialog)
    QApplication.clipboard().setText("Müller" * 800)
    keys.press(Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    keys.tab()
    assert len(entry.text("family_name")) == 4800, "nothing cut off"
    message = "Zu lang: 4800 Zeichen, höchstens 200 Zeichen möglich."
    assert dialog.form.box(entry.prefix + "family_name").error == message
    submit(qtbot, keys, dialog)
    assert dialog.form.box(entry.prefix + "family_name").error == message
    assert dialog.isVisible(), "nothing registered"


def test_impossible_and_future_birth_dates_are_named_as_such(
        qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    entry = anmeldung_entry(dialog)
    box = dialog.form.box(entry.prefix + "birth_date")
    entry.edits["birth_date"].setFocus()
    keys.field("31.02.2020")
    assert box.error == "Diesen Tag gibt es nicht (31.02.2020) – bitte das Datum prüfen."
    entry.edits["birth_date"].setFocus()
    entry.edits["birth_date"].selectAll()
    keys.field(f"01.01.{date.today().year + 1}")
    assert box.error == "Das Geburtsdatum liegt in der Zukunft."


def test_likely_duplicate_is_shown_and_can_be_created_anyway(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    before = persons_named(cfg, "Müller")
    fill_person(keys, "Mueller", "Anna", "12.08.1964")
    fill_rest(keys, dialog)
    submit(qtbot, keys, dialog)
    entry = dialog.entries[0]
    assert entry.duplicates.isVisible(), dialog.form.errors() or dialog.banner.message
    assert dialog.service_result is None, "nothing sent before the clerk decided"
    assert entry.duplicate_list.count() == 1
    assert entry.duplicate_list.item(0).text().startswith("Müller, Anna Maria · * 12.08.1964")
    assert focused() is entry.duplicate_list
    shot(dialog, "anmeldung-duplicate", tmp_path)
    keys.press(Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)   # Trotzdem neu anlegen
    settle(qtbot, dialog)
    assert dialog.service_result is not None, dialog.form.errors()
    assert persons_named(cfg, "Mueller") == 1 and persons_named(cfg, "Müller") == before
    assert entry.duplicate_checked() and not entry.checked_note.isHidden()


def test_likely_duplicate_can_be_taken_over(qtbot: QtBot, window: MainWindow, cfg: Config,
                                            people: dict[str, str]) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    persons = count(cfg, "SELECT count(*) FROM persons")
    fill_person(keys, "Müller", "Anna Maria", "12.8.64")
    fill_rest(keys, dialog, street="wallbrunn 3")
    submit(qtbot, keys, dialog)
    entry = dialog.entries[0]
    assert entry.duplicates.isVisible()
    listed = [entry.duplicate_list.item(i).data(Qt.ItemDataRole.UserRole).id
              for i in range(entry.duplicate_list.count())]
    assert people["anna"] in listed
    keys.press(Qt.Key.Key_Down, times=listed.index(people["anna"]))
    keys.press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)   # Vorhandene übernehmen
    settle(qtbot, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    assert result.changed_persons == (people["anna"],)
    assert count(cfg, "SELECT count(*) FROM persons") == persons, "no second Anna Maria"
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND move_out IS "
                      "NULL AND street = 'Wallbrunnstraße'", (people["anna"],)) == 1


def test_enter_twice_registers_once(qtbot: QtBot, window: MainWindow, cfg: Config) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Doppelklick", "Otto", "5.5.1955")
    fill_rest(keys, dialog)
    keys.tab()
    outbox = count(cfg, "SELECT count(*) FROM outbox WHERE type != 'archive_document'")
    keys.press(Qt.Key.Key_Return)
    keys.press(Qt.Key.Key_Return)     # before the worker answered
    settle(qtbot, dialog)
    assert dialog.service_result is not None
    assert persons_named(cfg, "Doppelklick") == 1
    assert count(cfg, "SELECT count(*) FROM outbox WHERE type != 'archive_document'") == outbox + 1
    # Even past the dialog's own guard, the command id (minted when it opened) holds.
    dialog._done = False
    dialog.submit()
    settle(qtbot, dialog)
    assert persons_named(cfg, "Doppelklick") == 1
    assert count(cfg, "SELECT count(*) FROM outbox WHERE type != 'archive_document'") == outbox + 1


def test_late_move_in_is_registered_with_the_notice(qtbot: QtBot, window: MainWindow,
                                                    tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Spaetmelder", "Paul", "7.7.1977", sex="m")
    moved = TODAY - timedelta(days=30)
    fill_rest(keys, dialog, move_in=f"{moved:%d.%m.%Y}")
    hint = dialog.address.moved_box.hint_label
    assert hint.isVisible() and "vor 30 Tagen" in hint.text(), "warned while typing"
    submit(qtbot, keys, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors()
    assert any(n.startswith("Verspätete Anmeldung (Einzug vor 30 Tagen") for n in result.notices)
    notice = dialog.result_page.findChild(QWidget, "noticeFrame")
    assert notice is not None and notice.isVisible()
    assert "Verspätete Anmeldung" in notice.accessibleDescription()
    shot(dialog, "anmeldung-late-done", tmp_path)


def test_two_persons_moving_in_together_share_a_household(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Zusammen", "Lea", "1.3.1990")
    keys.press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)   # Person hinzufügen
    assert len(dialog.entries) == 2
    assert focused() is dialog.entries[1].relation.kind
    keys.tab()                        # Beziehung zu Person 1: ohne Angabe
    assert focused() is dialog.entries[1].edits["family_name"]
    fill_person(keys, "Zusammen", "Max", "2.4.1989", sex="m")
    fill_rest(keys, dialog, street="wallbrunn 7")
    shot(dialog, "anmeldung-two-persons", tmp_path)
    submit(qtbot, keys, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors()
    assert len(result.changed_persons) == 2
    assert count(cfg, "SELECT count(DISTINCT household_id) FROM persons WHERE family_name = "
                      "'Zusammen'") == 1
    assert count(cfg, "SELECT count(*) FROM persons WHERE family_name = 'Zusammen' AND "
                      "household_id IS NOT NULL") == 2
    text = dialog.document_text()
    assert "Lea" in text and "Max" in text
    shot(dialog, "anmeldung-two-persons-done", tmp_path)


def test_errors_of_the_second_person_stand_in_its_section(qtbot: QtBot,
                                                          window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Erste", "Ida", "1.3.1990")
    first_key = dialog.entries[0].key
    keys.press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    keys.press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    dialog.remove_person(dialog.entries[1])   # the middle one goes: positions shift
    keys.field("Dritte")
    submit(qtbot, keys, dialog)
    second = dialog.entries[1]
    assert dialog.form.box(second.prefix + "first_names").error == "Bitte ausfüllen."
    assert dialog.form.box(f"persons.{first_key}.first_names").error == ""


def test_escape_asks_before_typed_data_is_lost(qtbot: QtBot, window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    keys = Keys(qtbot)
    keys.type("Vergesslich")
    answers: list[str] = []

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        answers.append(box.text())
        for button in box.buttons():
            if button.text() == button_text:
                button.click()

    QTimer.singleShot(50, lambda: answer("Weiter bearbeiten"))
    keys.press(Qt.Key.Key_Escape)
    assert answers == ["Eingaben verwerfen?"]
    assert dialog.isVisible()
    assert anmeldung_entry(dialog).text("family_name") == "Vergesslich"
    QTimer.singleShot(50, lambda: answer("Verwerfen"))
    dialog.activateWindow()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert len(answers) == 2


def test_escape_closes_at_once_when_nothing_was_typed(qtbot: QtBot,
                                                      window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    dialog.confirm_discard = lambda: pytest.fail("nothing typed: no question")
    Keys(qtbot).press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: window.search.hasFocus(), timeout=2000)


def test_open_person_can_join_the_anmeldung(qtbot: QtBot, window: MainWindow,
                                            people: dict[str, str]) -> None:
    open_person(qtbot, window, people["anna"])
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    assert "Müller, Anna Maria" in dialog.existing_button.text()
    Keys(qtbot).press(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    assert len(dialog.entries) == 1, "the empty first section takes the person"
    assert dialog.entries[0].existing is not None
    assert dialog.form_data()["persons"] == [{"person_id": people["anna"]}]
    assert not dialog.existing_button.isEnabled()


def test_scanned_card_without_match_prefills_the_anmeldung(qtbot: QtBot,
                                                           window: MainWindow) -> None:
    prefill = NewPersonPrefill("Oedegaard", "Ingrid", date(1985, 6, 1), "w", ("NOR",), "AP",
                               "NO1234567", date(2031, 5, 31))
    window.scan_prefill = prefill
    window.new_person_requested.emit(prefill)
    assert "F2" in window.statusBar().currentMessage()
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    entry = anmeldung_entry(dialog)
    assert entry.text("family_name") == "Oedegaard"
    assert entry.date_edit("birth_date").text() == "01.06.1985"
    assert entry.choice("sex").value() == "w"
    assert entry.text("nationalities") == "NOR"
    assert entry.choice("id_document.doc_type").value() == "AP"
    assert "Umlaute" in dialog.form.box(entry.prefix + "family_name").hint_label.text()
    assert not dialog.has_unsaved_input(), "read from the card, not typed"


# --- Ummeldung and Abmeldung -----------------------------------------------------------------

def household_of(cfg: Config, size: int, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Ids of a demo household of `size` members all living at one domestic address."""
    with opening.open_register(cfg) as store:
        rows = store.query(
            "SELECT p.household_id AS h, group_concat(p.id) AS ids, "
            "count(DISTINCT r.street || r.house_number) AS places, count(*) AS n "
            "FROM persons p JOIN residences r ON r.person_id = p.id AND r.move_out IS NULL "
            "AND r.country = 'DEU' AND r.kind IN ('alleinig', 'haupt') "
            "WHERE p.household_id IS NOT NULL GROUP BY p.household_id "
            "HAVING n = ? AND places = 1 ORDER BY p.household_id", (size,))
        for row in rows:
            ids = str(row["ids"]).split(",")
            total = store.conn.execute("SELECT count(*) FROM persons WHERE household_id = ?",
                                       (row["h"],)).fetchone()[0]
            if total == size and not set(ids) & exclude:
                return ids
    raise AssertionError("no such household in the demo register")


def test_f3_and_f4_need_an_open_person(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window.search, Qt.Key.Key_F3)
    assert "Ummeldung: Bitte zuerst die Person suchen" in window.statusBar().currentMessage()
    qtbot.keyClick(window.search, Qt.Key.Key_F4)
    assert "Abmeldung: Bitte zuerst die Person suchen" in window.statusBar().currentMessage()
    assert window.findChild(RegistrationActions).dialog is None  # type: ignore[union-attr]
    names = [a.iconText() for a in window.toolbar.actions() if a.text()]
    assert names[:3] == ["F2 Anmeldung", "F3 Ummeldung", "F4 Abmeldung"]


def test_ummeldung_moves_the_household(qtbot: QtBot, window: MainWindow, cfg: Config,
                                       tmp_path: Path) -> None:
    members = household_of(cfg, 3)
    open_person(qtbot, window, members[0])
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)
    assert isinstance(dialog, UmmeldungDialog)
    picker = dialog.picker
    assert picker.rows[0].person.id == members[0], "the open person first"
    assert {row.person.id for row in picker.rows} == set(members)
    assert [row.check.isChecked() for row in picker.rows] == [True, False, False], \
        "only the opened person is preselected (defect 6)"
    qtbot.waitUntil(lambda: picker.loaded, timeout=5000)
    assert all("…" not in row.address.text() for row in picker.rows)
    keys = Keys(qtbot)
    assert focused() is dialog.address.street
    assert dialog.submit_button.text() == "Ummelden (Strg+Enter)"
    for row in reversed(picker.rows[1:]):   # the clerk ticks who comes along
        keys.press(Qt.Key.Key_Backtab)
        assert focused() is row.check
        keys.press(Qt.Key.Key_Space)
    assert dialog.submit_button.text() == "Ummelden – 3 Personen (Strg+Enter)"
    keys.tab(2)
    assert focused() is dialog.address.street
    fill_new_dwelling(qtbot, keys, dialog, "wallbrunn 21")
    shot(dialog, "ummeldung-filled", tmp_path)
    submit(qtbot, keys, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    assert set(result.changed_persons) == set(members)
    shot(dialog, "ummeldung-done", tmp_path)
    assert count(cfg, "SELECT count(*) FROM residences WHERE move_out IS NULL AND street = "
                      "'Wallbrunnstraße' AND house_number = '21' AND person_id IN (?, ?, ?)",
                 tuple(members)) == 3
    qtbot.waitUntil(lambda: "Wallbrunnstraße 21" in window.person_view.record_text(),
                    timeout=5000)
    keys.press(Qt.Key.Key_Return)     # closes the dialog
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    record = window.person_view.record
    assert record is not None and record.id == members[0]
    assert "Wallbrunnstraße 21" in record.current_residences[0].address.one_line()
    born = record.birth_date
    assert born is not None
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    qtbot.keyClicks(window.search, f"{search_form(record.family_name)} {born:%d.%m.%Y}")
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    hit = next(h for h in window.model.hits if h.id == members[0])
    assert "Wallbrunnstraße 21" in hit.address


def test_after_an_ummeldung_the_hits_show_the_new_address(qtbot: QtBot, window: MainWindow,
                                                          cfg: Config) -> None:
    """The hit list is searched again once the service is done: no stale address beside the
    person just moved, the search and the selection as they were."""
    member = household_of(cfg, 1)[0]
    open_person(qtbot, window, member)
    record = window.person_view.record
    assert record is not None and record.birth_date is not None
    text = f"{search_form(record.family_name)} {record.birth_date:%d.%m.%Y}"
    window.focus_search()
    qtbot.keyClicks(window.search, text)
    qtbot.waitUntil(lambda: not window.busy and window.model.rowCount() > 0, timeout=5000)
    row = next(i for i, h in enumerate(window.model.hits) if h.id == member)
    window.table.selectRow(row)
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)

    def listed_address() -> str:
        return next(h.address for h in window.model.hits if h.id == member)

    assert "Wallbrunnstraße 21" not in listed_address()
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)
    assert isinstance(dialog, UmmeldungDialog)
    keys = Keys(qtbot)
    assert focused() is dialog.address.street
    fill_new_dwelling(qtbot, keys, dialog, "wallbrunn 21")
    submit(qtbot, keys, dialog)
    assert dialog.service_result is not None, dialog.form.errors() or dialog.banner.message
    qtbot.waitUntil(lambda: "Wallbrunnstraße 21" in listed_address(), timeout=5000)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.search.text() == text
    selected = window.selected_hit()
    assert selected is not None and selected.id == member
    keys.press(Qt.Key.Key_Return)     # closes the dialog
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    selected = window.selected_hit()
    assert selected is not None and selected.id == member
    assert "Wallbrunnstraße 21" in selected.address


def test_after_an_anmeldung_the_earlier_search_is_not_left_standing(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    """The hits of the citizen before (Müller) do not stay beside the person just
    registered: the stale search is cleared, the new person stays open."""
    window.focus_search()
    qtbot.keyClicks(window.search, "mueller anna maria")
    qtbot.waitUntil(lambda: not window.busy and window.model.rowCount() > 0, timeout=5000)
    assert people["anna"] in [h.id for h in window.model.hits]
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Neuzuzug", "Lea", "1.3.1990")
    fill_rest(keys, dialog, street="basler 12")
    settle(qtbot, dialog)
    submit(qtbot, keys, dialog)
    assert dialog.service_result is not None, dialog.form.errors()
    new_id = dialog.service_result.changed_persons[0]
    qtbot.waitUntil(lambda: window.person_view.record is not None
                    and window.person_view.record.id == new_id, timeout=5000)
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert people["anna"] not in [h.id for h in window.model.hits], "no stale hits"
    assert window.search.text() == ""
    keys.press(Qt.Key.Key_Return)     # closes the dialog
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    record = window.person_view.record
    assert record is not None and record.id == new_id, "the new person stays open"
    qtbot.waitUntil(window.search.hasFocus, timeout=2000)


def test_ummeldung_needs_the_landlord_confirmation(qtbot: QtBot, window: MainWindow,
                                                   cfg: Config, tmp_path: Path) -> None:
    members = household_of(cfg, 2)
    open_person(qtbot, window, members[0])
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)
    keys = Keys(qtbot)
    keys.field("wallbrunn 22", tabs=2)
    submit(qtbot, keys, dialog)
    assert dialog.service_result is None
    errors = dialog.form.errors()
    assert errors["landlord.presented"].startswith("Die Wohnungsgeberbestätigung (§ 19 BMG)")
    assert dialog.address.street.text() == "Wallbrunnstraße (Stadtmitte)"
    shot(dialog, "ummeldung-errors", tmp_path)


def test_abmeldung_abroad(qtbot: QtBot, window: MainWindow, cfg: Config,
                          tmp_path: Path) -> None:
    member = household_of(cfg, 1)[0]
    open_person(qtbot, window, member)
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F4)
    assert isinstance(dialog, AbmeldungDialog)
    assert dialog.reason() == "ausland"
    assert focused() is dialog.country, "the first thing to type: the state (issue 14)"
    keys = Keys(qtbot)
    keys.field("che")
    assert dialog.country_box.hint_label.text() == "Schweiz"
    keys.type("Spalenberg 5, 4051 Basel")
    shot(dialog, "abmeldung-filled", tmp_path)
    keys.press(Qt.Key.Key_Return)     # Enter in the last field
    settle(qtbot, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    assert result.changed_persons == (member,)
    assert "Auszugsdatum" in dialog.document_text()
    shot(dialog, "abmeldung-done", tmp_path)
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND move_out IS "
                      "NULL", (member,)) == 0
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND country = "
                      "'CHE'", (member,)) == 1
    qtbot.waitUntil(lambda: "keine aktuelle Wohnung gemeldet"
                    in window.person_view.record_text(), timeout=5000)


def test_abmeldung_within_germany_is_explained_at_once(qtbot: QtBot, window: MainWindow,
                                                       cfg: Config, tmp_path: Path) -> None:
    member = household_of(cfg, 1)[0]
    open_person(qtbot, window, member)
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F4)
    assert isinstance(dialog, AbmeldungDialog)
    keys = Keys(qtbot)
    keys.press(Qt.Key.Key_Backtab, times=2)   # back from the state over the date to the reason
    assert focused() is dialog.reason_buttons["ausland"]
    keys.press(Qt.Key.Key_Down, times=2)   # the arrow keys move through the reasons
    assert dialog.reason() == "inland"
    assert dialog.reason_box.error == DOMESTIC_MOVE_REFUSED
    assert not dialog.abroad.isVisible(), "no foreign address asked for"
    shot(dialog, "abmeldung-inland", tmp_path)
    submit(qtbot, keys, dialog)
    assert dialog.service_result is None
    assert dialog.form.errors()["reason"] == DOMESTIC_MOVE_REFUSED
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND move_out IS "
                      "NULL", (member,)) >= 1


def test_english_dialog(qtbot: QtBot, window: MainWindow) -> None:
    set_language("en")
    dialog = AnmeldungDialog(window.db, parent=window)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Registration"
    assert dialog.submit_button.text() == "Register (Ctrl+Enter)"
    texts = [b.label.text() for b in dialog.form.boxes if b.label is not None]
    assert "Family name *" in texts
    assert all(not any(c in t for c in "äöüß") for t in texts), texts


def test_ummeldung_asks_which_nebenwohnung_is_left(qtbot: QtBot, window: MainWindow,
                                                   cfg: Config) -> None:
    with opening.open_register(cfg) as store:
        pid = add_person(store, "Zweitwohner", "Karl", "1970-01-01")
        with store.transaction() as db:
            for number in ("3", "5"):
                db.execute(
                    "INSERT INTO residences (id, person_id, kind, street, house_number, "
                    "postal_code, city, district, move_in) VALUES (?, ?, 'neben', "
                    "'Turmstraße', ?, '79539', 'Lörrach', 'Stadtmitte', '2015-01-01')",
                    (f"neben-{number}-{pid}", pid, number))
    open_person(qtbot, window, pid)
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)
    assert isinstance(dialog, UmmeldungDialog)
    row = dialog.picker.rows[0]
    assert row.residence_box.isHidden(), "moving the Hauptwohnung: nothing to choose"
    dialog.address.kind.set_value("neben")
    assert not row.residence_box.isHidden(), "two Nebenwohnungen: which one is left?"
    assert row.residence in dialog.input_chain()
    row.residence.setFocus()
    keys = Keys(qtbot)
    keys.press(Qt.Key.Key_Down)       # the first of the two, by keyboard
    left = row.residence.value()
    assert left is not None and left.startswith("neben-")
    dialog.address.street.setFocus(Qt.FocusReason.TabFocusReason)
    keys.field("wallbrunn 40", tabs=2)
    dialog.landlord.presented.setFocus(Qt.FocusReason.TabFocusReason)
    keys.press(Qt.Key.Key_Space)
    dialog.landlord.own.setFocus(Qt.FocusReason.TabFocusReason)
    keys.press(Qt.Key.Key_Space)      # a self-declaration: no landlord to name
    submit(qtbot, keys, dialog)
    assert dialog.service_result is not None, dialog.form.errors() or dialog.banner.message
    assert count(cfg, "SELECT count(*) FROM residences WHERE id = ? AND move_out IS NOT NULL",
                 (left,)) == 1
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND kind = 'neben' "
                      "AND move_out IS NULL", (pid,)) == 2, "the other one stays, the new one"


def test_street_chosen_from_the_suggestions_by_keyboard(qtbot: QtBot, window: MainWindow,
                                                        tmp_path: Path) -> None:
    """"haupt" names four streets: ↓ and Enter in the suggestions choose one."""
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    street = dialog.address.street
    street.setFocus(Qt.FocusReason.TabFocusReason)
    Keys(qtbot).type("haupt")
    popup = street.completer_.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    labels = [street.completer_.model().index(i, 0).data()
              for i in range(street.completer_.model().rowCount())]
    assert labels == ["Hauptstraße (Brombach)", "Hauptstraße (Haagen)",
                      "Hauptstraße (Stadtmitte)", "Hauptstraße (Stetten)"]
    shot(dialog, "anmeldung-street-suggestions", tmp_path, popup)
    # The pop-up has the keyboard while it is open (sent to it directly: the test screen
    # does not give it the keyboard grab a real screen does).
    for _ in range(3):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert street.street is not None and street.street.label == "Hauptstraße (Stadtmitte)"
    assert street.text() == "Hauptstraße (Stadtmitte)"
    assert not popup.isVisible()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    Keys(qtbot).tab()
    assert focused() is dialog.address.number
    # Leaving the field with a text that names several streets says so in place.
    street.setFocus(Qt.FocusReason.TabFocusReason)
    Keys(qtbot).type("bahnhof")
    Keys(qtbot).tab()
    settle(qtbot, dialog)
    assert street.street is None
    assert dialog.address.street_box.error == \
        "Mehrere Straßen passen – bitte mit ↓ die richtige wählen."


def test_a_failure_of_the_register_keeps_the_form(qtbot: QtBot, window: MainWindow,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a field problem (the disk is full, the register locked): said in the banner,
    nothing typed is lost, and sending again works."""
    from clerk_app.errors import StoreError
    from clerk_app.services import runner as services_base

    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Festplatte", "Vera", "9.9.1999")
    fill_rest(keys, dialog)
    real = services_base.run_service

    def broken(*_args: object, **_kwargs: object) -> object:
        raise StoreError("Das Melderegister kann gerade nicht schreiben. Bitte erneut "
                         "versuchen.", "store not writable")

    monkeypatch.setattr(services_base, "run_service", broken)
    settle(qtbot, dialog)
    typed = dialog.form_data()
    submit(qtbot, keys, dialog)
    assert dialog.banner.message.startswith("Das Melderegister kann gerade nicht schreiben.")
    assert dialog.service_result is None and not dialog.is_done
    assert dialog.form_data() == typed
    monkeypatch.setattr(services_base, "run_service", real)
    submit(qtbot, keys, dialog)
    assert dialog.service_result is not None, dialog.form.errors()


def test_every_function_key_is_bound_once_from_the_one_table(qtbot: QtBot, cfg: Config) -> None:
    """F2-F12, Ctrl+Shift+O and Ctrl+Shift+K all come from `ui.function_keys`, registration
    first, each once (the demo clerk has every role, so every key); the queue panel's keys
    are not on the tool bar (and without `queue_counter` not there at all)."""
    w = MainWindow(cfg)
    qtbot.addWidget(w)
    texts = [a.iconText() for a in w.toolbar.actions() if a.text()]
    assert texts[:3] == ["F2 Anmeldung", "F3 Ummeldung", "F4 Abmeldung"]
    assert [k.key for k in FUNCTION_KEYS if k.on_toolbar] == [
        "F2", "F3", "F4", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "Ctrl+Shift+O",
        "Ctrl+Shift+K"]
    assert [t.split(" ", 1)[0] for t in texts] == [
        "F2", "F3", "F4", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "Strg+Umschalt+O",
        "Strg+Umschalt+K"]
    assert set(w.function_actions) == {k.key for k in FUNCTION_KEYS if not k.queue}
    assert texts.count("F2 Anmeldung") == 1
    assert len(w.findChildren(RegistrationActions)) == 1
    button = w.toolbar.widgetForAction(w.toolbar.actions()[0])
    assert button is not None and button.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert button.accessibleName() == "Anmeldung, Taste F2"


def test_a_street_answer_for_an_older_text_is_not_used(qtbot: QtBot,
                                                       window: MainWindow) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    street = dialog.address.street
    street.setFocus(Qt.FocusReason.TabFocusReason)
    keys = Keys(qtbot)
    keys.type("ba")
    street._lookup()                  # a lookup for "ba" is under way …
    keys.type("sler")                 # … while the clerk types on
    keys.tab()
    settle(qtbot, dialog)
    assert street.street is not None and street.street.label == "Basler Straße (Stadtmitte)"
    assert dialog.address.street_box.error == ""


def test_closing_while_the_worker_answers_is_harmless(qtbot: QtBot, window: MainWindow,
                                                      cfg: Config) -> None:
    members = household_of(cfg, 2)
    open_person(qtbot, window, members[0])
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)   # loads the members in the worker
    keys = Keys(qtbot)
    keys.type("basler 12")
    dialog.address.street._lookup()
    dialog.confirm_discard = lambda: True
    keys.press(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.service_dialog is None, timeout=2000)
    qtbot.wait(300)   # the answers arrive for a dialog that is gone: nothing happens
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window.search, Qt.Key.Key_F3)
    assert window.findChild(RegistrationActions).dialog is not None  # type: ignore[union-attr]


# --- families (§ 3 BMG) and the warnings about minors ------------------------------------------

def test_family_anmeldung_carries_the_name_over_and_records_the_child(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F2)
    assert isinstance(dialog, AnmeldungDialog)
    keys = Keys(qtbot)
    fill_person(keys, "Familie", "Lena", "1.3.1990")
    assert dialog.entries[0].relation.isHidden(), "the first person is the one related to"
    keys.press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)   # Person hinzufügen
    second = dialog.entries[1]
    assert second.text("family_name") == "Familie"
    assert focused() is second.relation.kind
    keys.field("k")                   # Beziehung zu Person 1: Kind
    assert second.relation.kind.value() == "kind"
    assert [box.isChecked() for box in second.relation.checks.values()] == [True]
    keys.tab()                        # gesetzlicher Vertreter: Person 1, ticked
    assert focused() is second.edits["family_name"]
    keys.tab()                        # the family name is kept
    keys.field("Paul")
    keys.tab(3)
    keys.field(f"2.4.{TODAY.year - 4}")
    keys.field("Lörrach")
    keys.field("DEU")
    keys.field("m")
    keys.field("DEU")
    keys.field("r")
    keys.field("l")
    fill_rest(keys, dialog, street="wallbrunn 9")
    shot(dialog, "anmeldung-family", tmp_path)
    submit(qtbot, keys, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    lena, paul = result.changed_persons
    assert count(cfg, "SELECT count(*) FROM relations WHERE person_id = ? AND related_id = ? "
                      "AND kind IN ('elternteil', 'vertreter')", (paul, lena)) == 2
    keys.press(Qt.Key.Key_Return)     # closes the dialog
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    open_person(qtbot, window, lena)
    text = window.person_view.record_text()
    assert "Familie (§ 3 BMG)" in text and "Familie, Paul" in text and "minderjährig" in text
    shot(window, "person-view-family", tmp_path)


def test_moving_a_mother_alone_warns_for_her_child_and_needs_the_tick(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    with opening.open_register(cfg) as store:
        street = store.conn.execute("SELECT id FROM streets WHERE name = 'Palmstraße'"
                                    ).fetchone()[0]
        form = {"persons": [new_person(family_name="Allein", id_document=None),
                            child(family_name="Allein", born=f"{TODAY.year - 3}-01-01",
                                  relations=as_child_of(0))],
                "address": {"street_id": street, "house_number": "8"}, "kind": "alleinig",
                "move_in": TODAY.isoformat(), "landlord": landlord(),
                "previous_address": {"address": "Musterweg 1, 10115 Berlin"}}
        mother, kid = run_service(store, "anmeldung", form, uuid7(), today=TODAY
                                  ).changed_persons
    open_person(qtbot, window, mother)
    dialog = open_with_key(qtbot, window, Qt.Key.Key_F3)
    assert isinstance(dialog, UmmeldungDialog)
    qtbot.waitUntil(lambda: dialog.picker.loaded, timeout=5000)
    assert [r.check.isChecked() for r in dialog.picker.rows] == [True, False]
    keys = Keys(qtbot)
    fill_new_dwelling(qtbot, keys, dialog, "wallbrunn 23")
    submit(qtbot, keys, dialog)
    assert dialog.service_result is None, "one Enter must not leave the child behind"
    assert not dialog.minors.isHidden()
    warning = dialog.form.errors()["minors_confirmed"]
    assert "Allein, Mia (minderjährig) bliebe ohne Erwachsenen" in warning
    assert focused() is dialog.minors.check
    shot(dialog, "ummeldung-minor-warning", tmp_path)
    keys.press(Qt.Key.Key_Space)      # read: the clerk ticks the box
    submit(qtbot, keys, dialog)
    result = dialog.service_result
    assert result is not None, dialog.form.errors() or dialog.banner.message
    assert result.changed_persons == (mother,)
    assert count(cfg, "SELECT count(*) FROM residences WHERE person_id = ? AND move_out IS "
                      "NULL AND street = 'Palmstraße'", (kid,)) == 1
