"""Focus is always visible: every dialog opens with the keyboard on a text entry or on a
widget that shows a focus frame, and every kind of focusable widget shows one.

"Shows a focus frame" is measured, not assumed: the widget is grabbed with the focus and
without it, and the two pictures must differ (a radio button under Qt's Fusion style does
not, without the application's focus style sheet).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.factories import add_person
from tests.ui_support import Register, module_register, save_shot
from ui.main_window import MainWindow
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
