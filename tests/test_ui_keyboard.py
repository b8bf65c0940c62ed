"""The keyboard-first window: focus always visible, every action in the menu with its key,
F1 help, Ctrl+Q.

Focus: every dialog opens with the keyboard on a text entry or on a widget that shows a focus
frame, and every kind of focusable widget shows one.

"Shows a focus frame" is measured, not assumed: the widget is grabbed with the focus and
without it, and the two pictures must differ (a radio button under Qt's Fusion style does
not, without the application's focus style sheet).

Menu and keys: every action in its menu with its key, made from the one key table; F1 shows
the keys and the help of the screen in view (the window or a dialog); Ctrl+Q quits, but asks
first when a service has typed input.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from tests.factories import add_person
from tests.ui_support import Register, module_register, open_window, save_shot
from ui.function_keys import FUNCTION_KEYS, key_name
from ui.help import HelpDialog
from ui.main_window import MainWindow
from ui.registration.moves import AbmeldungDialog
from ui.style import FOCUS_CSS

pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    with module_register(tmp_path_factory, 30) as (data_dir, store):
        people = {"anna": add_person(store, "Müller", "Anna Maria", "1964-08-12")}
    return data_dir, people


def picture(widget: QWidget) -> QImage:
    QApplication.processEvents()
    return widget.grab().toImage()


def shows_focus(qtbot: QtBot, widget: QWidget) -> bool:
    """The widget looks different with the keyboard focus than without it."""
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2000)
    focused = picture(widget)
    widget.clearFocus()
    qtbot.waitUntil(lambda: not widget.hasFocus(), timeout=2000)
    plain = picture(widget)
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    return focused != plain


def is_text_entry(widget: QWidget) -> bool:
    return isinstance(widget, QLineEdit) and not widget.isReadOnly()


@pytest.mark.parametrize("make", [
    lambda: QRadioButton("Wegzug ins Ausland"),
    lambda: QCheckBox("liegt vor"),
    lambda: QPushButton("Drucken"),
    lambda: QComboBox(),
    lambda: QLineEdit("Müller"),
    lambda: QTableWidget(2, 2),
], ids=["radio", "check", "button", "combo", "line", "table"])
def test_every_widget_kind_shows_its_focus(qtbot: QtBot, make: Callable[[], QWidget]) -> None:
    holder = QDialog()
    holder.setStyleSheet(FOCUS_CSS)
    widget = make()
    widget.setParent(holder)
    if isinstance(widget, QComboBox):
        widget.addItems(["Geburtsurkunde", "Eheurkunde"])
    widget.resize(240, 60)
    other = QLineEdit(holder)   # where the focus goes when the widget loses it
    other.move(0, 80)
    qtbot.addWidget(holder)
    holder.show()
    qtbot.waitExposed(holder)
    holder.activateWindow()
    qtbot.waitUntil(holder.isActiveWindow, timeout=2000)
    assert shows_focus(qtbot, widget)


def open_by_key(qtbot: QtBot, w: MainWindow, key: Qt.Key) -> QDialog:
    qtbot.keyClick(w.search, key)
    qtbot.waitUntil(lambda: w.service_dialog is not None and w.service_dialog.isVisible(),
                    timeout=3000)
    dialog = w.service_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    qtbot.wait(50)
    return dialog


@pytest.mark.parametrize(("key", "name"), [
    (Qt.Key.Key_F2, "anmeldung"), (Qt.Key.Key_F3, "ummeldung"), (Qt.Key.Key_F4, "abmeldung"),
    (Qt.Key.Key_F6, "meldebescheinigung"), (Qt.Key.Key_F7, "lebensbescheinigung"),
    (Qt.Key.Key_F8, "personenstandsurkunde"), (Qt.Key.Key_F9, "kasse"),
])
def test_each_dialog_opens_with_a_visible_focus(qtbot: QtBot, window: MainWindow,
                                                people: dict[str, str], key: Qt.Key,
                                                name: str) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        window.open_person(people["anna"])
    dialog = open_by_key(qtbot, window, key)
    focus = QApplication.focusWidget()
    assert focus is not None and dialog.isAncestorOf(focus), focus
    assert focus.isVisible()
    assert is_text_entry(focus) or shows_focus(qtbot, focus), (name, focus)
    if name == "abmeldung":
        assert is_text_entry(focus), "typed text goes into a field, not onto a radio button"
    save_shot(dialog, f"screenshot-fokus-{name}.png")
    from ui.form_dialog import FormDialog

    if isinstance(dialog, FormDialog):
        dialog.confirm_discard = lambda: True
    dialog.reject()


# --- the menu bar, F1 and Ctrl+Q ------------------------------------------------------------

def menus(w: MainWindow) -> dict[str, QMenu]:
    return {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()
            if isinstance(a.menu(), QMenu)}


def test_the_menu_bar_holds_every_key_of_the_table_once(window: MainWindow) -> None:
    found = menus(window)
    assert list(found) == ["Datei", "Bearbeiten", "Dienste", "Kasse", "Hilfe"]
    in_menus = [a for menu in found.values() for a in menu.actions() if not a.isSeparator()]
    assert sorted(a.shortcut().toString() for a in in_menus) == sorted(
        QKeySequence(k.key).toString() for k in FUNCTION_KEYS if not k.queue), \
        "every key of the table (the queue's only at a counter that calls)"
    for action in window.toolbar.actions():
        if action.text():
            assert action in in_menus, "one action: tool bar and menu share it"
    by_key = {a.shortcut().toString(): a for a in in_menus}
    assert by_key["Ctrl+Q"] in found["Datei"].actions()
    assert by_key["F9"] in found["Kasse"].actions()
    assert by_key["F1"] in found["Hilfe"].actions()
    assert by_key["F6"] in found["Dienste"].actions()
    assert by_key["F6"].text() == "Meldebescheinigung", "the key stands beside, not in, the text"


def test_no_two_keys_of_the_table_share_a_key_sequence() -> None:
    """The window's keys and the queue panel's are bound together at a calling counter: a
    sequence used twice would make Qt fire neither (an "ambiguous shortcut")."""
    sequences = [QKeySequence(k.key).toString() for k in FUNCTION_KEYS]
    assert sorted(s for s in set(sequences) if sequences.count(s) > 1) == []


def wait_help(qtbot: QtBot, w: MainWindow) -> HelpDialog:
    qtbot.waitUntil(lambda: w.help_dialog is not None and w.help_dialog.isVisible(),
                    timeout=3000)
    dialog = w.help_dialog
    assert dialog is not None
    return dialog


def test_f1_shows_the_keys_and_the_window_help(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClick(window.search, Qt.Key.Key_F1)
    help_ = wait_help(qtbot, window)
    assert "Suchen" in help_.text and "Esc" in help_.text
    keys = [key for key, _what in help_.keys]
    assert keys == [k.key for k in FUNCTION_KEYS if not k.queue], "the table, in its order"
    label = help_.findChild(QLabel, "helpKeys")
    assert label is not None and "Strg+Q" in label.text() and "F12" in label.text()
    save_shot(help_, "screenshot-hilfe.png")
    qtbot.waitUntil(help_.isActiveWindow, timeout=3000)
    focus = QApplication.focusWidget()
    assert focus is not None and help_.isAncestorOf(focus), focus
    qtbot.keyClick(focus, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.help_dialog is None, timeout=3000)


def test_f1_in_a_dialog_helps_with_that_dialog(qtbot: QtBot, window: MainWindow,
                                               people: dict[str, str]) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        window.open_person(people["anna"])
    qtbot.keyClick(window.search, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.service_dialog, AbmeldungDialog), timeout=3000)
    dialog = window.service_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    focus = QApplication.focusWidget()
    assert focus is not None
    qtbot.keyClick(focus, Qt.Key.Key_F1)
    help_ = wait_help(qtbot, window)
    assert help_.text.startswith("Abmeldung:"), help_.text
    assert "Abmeldung" in help_.windowTitle()
    assert ("Ctrl+Return", "abschließen") in help_.keys
    help_.reject()


def test_ctrl_q_quits_and_asks_when_a_service_has_typed_input(
        qtbot: QtBot, cfg: Config, people: dict[str, str]) -> None:
    w = open_window(qtbot, cfg)
    with qtbot.waitSignal(w.db.person_done, timeout=5000):
        w.open_person(people["anna"])
    qtbot.keyClick(w.search, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: isinstance(w.service_dialog, AbmeldungDialog), timeout=3000)
    dialog = w.service_dialog
    assert isinstance(dialog, AbmeldungDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    qtbot.keyClicks(dialog.country, "CHE")
    asked: list[bool] = []
    w.confirm_quit = lambda: asked.append(True) or False   # "Weiter arbeiten"
    qtbot.keyClick(dialog.country, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked == [True] and w.isVisible() and dialog.isVisible()
    w.confirm_quit = lambda: asked.append(True) or True    # "Beenden"
    qtbot.keyClick(dialog.country, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    assert len(asked) == 2


def test_ctrl_q_in_the_window_quits_without_a_question(qtbot: QtBot, cfg: Config) -> None:
    w = open_window(qtbot, cfg)
    w.confirm_quit = lambda: pytest.fail("nothing typed: no question")
    qtbot.keyClick(w.search, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)


def test_the_help_names_keys_the_german_way() -> None:
    assert key_name("Ctrl+Shift+K") == "Strg+Umschalt+K"
    assert key_name("Ctrl+Return") == "Strg+Enter"
