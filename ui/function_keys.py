"""Every function key of the main window, in one table: F2-F4 registration, F6-F8
certificates, F9 cash desk, F10 Zweitschrift, F11 access log (Datenschutz), F12 Klärfälle,
Ctrl+Shift+K clerk accounts (Administration). A clerk gets only the keys whose screen their
roles grant.

Each key is a `QAction` on the window's tool bar, its key shown first ("F6 Meldebescheinigung")
and in the button's accessible name ("Meldebescheinigung, Taste F6"); the buttons are no Tab
stops (keys, not fields). A key marked `needs_person` is enabled only while a person is open;
F3/F4 stay enabled and say in the status line what to do without one. The handlers are the
window's methods; the dialogs behind them are imported when a key is first pressed, not at
start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from ui import clerk_screens
from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow


@dataclass(frozen=True)
class FunctionKey:
    """One key: its text and status tip (translated when bound: the language is chosen at
    start), the handler."""

    key: str
    text: Callable[[], str]
    run: Callable[[MainWindow], object]
    tip: Callable[[], str] | None = None
    needs_person: bool = False
    group_ends: bool = False   # a separator on the tool bar after this key
    # The screen it opens (`[screens]` in resources/roles.toml): a clerk whose roles do not
    # grant it does not get the key (a courtesy: the core refuses the service itself).
    screen: str = ""


FUNCTION_KEYS: tuple[FunctionKey, ...] = (
    FunctionKey("F2", lambda: tr("Anmeldung"), lambda w: w.registration.open_anmeldung(),
                lambda: tr("Anmeldung: Zuzug einer oder mehrerer Personen"), screen="registration"),
    FunctionKey("F3", lambda: tr("Ummeldung"), lambda w: w.registration.open_ummeldung(),
                lambda: tr("Ummeldung: Umzug der geöffneten Person und ihres Haushalts "
                           "innerhalb der Stadt"), screen="registration"),
    FunctionKey("F4", lambda: tr("Abmeldung"), lambda w: w.registration.open_abmeldung(),
                lambda: tr("Abmeldung: Wegzug ins Ausland oder Aufgabe einer Nebenwohnung"),
                group_ends=True, screen="registration"),
    FunctionKey("F6", lambda: tr("Meldebescheinigung"),
                lambda w: w.open_certificate("meldebescheinigung"), needs_person=True,
                screen="certificates"),
    FunctionKey("F7", lambda: tr("Lebensbescheinigung"),
                lambda w: w.open_certificate("lebensbescheinigung"), needs_person=True,
                screen="certificates"),
    FunctionKey("F8", lambda: tr("Personenstandsurkunde"),
                lambda w: w.open_certificate("personenstandsurkunde_antrag"),
                needs_person=True, screen="certificates"),
    FunctionKey("F9", lambda: tr("Kasse"), lambda w: w.open_cash_desk(), screen="cash_desk"),
    FunctionKey("F10", lambda: tr("Zweitschrift"), lambda w: w.reprint_selected(),
                needs_person=True, screen="person"),
    FunctionKey("F11", lambda: tr("Zugriffsprotokoll"), lambda w: clerk_screens.open_access_log(w),
                lambda: tr("Zugriffsprotokoll der geöffneten oder ausgewählten Person "
                           "(Datenschutz)"), screen="access_log"),
    FunctionKey("F12", lambda: tr("Klärfälle"), lambda w: w.open_conflicts(), screen="conflicts"),
    FunctionKey("Ctrl+Shift+K", lambda: tr("Konten"), lambda w: clerk_screens.open_clerk_admin(w),
                lambda: tr("Konten der Sachbearbeitung verwalten (Administration)"),
                screen="clerks"),
)


def bind_function_keys(window: MainWindow, toolbar: QToolBar) -> dict[str, QAction]:
    """Put every key of `FUNCTION_KEYS` on `toolbar` as an action of `window`; key -> action."""
    actions: dict[str, QAction] = {}
    for entry in FUNCTION_KEYS:
        text = entry.text()
        action = QAction(f"{entry.key} {text}", window)
        action.setObjectName(f"action{entry.key}")
        action.setShortcut(QKeySequence(entry.key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text} ({entry.key})")
        if entry.tip is not None:
            action.setStatusTip(entry.tip())
        action.triggered.connect(lambda _checked=False, e=entry: e.run(window))
        toolbar.addAction(action)
        button = toolbar.widgetForAction(action)
        if button is not None:
            button.setAccessibleName(f"{text}, {tr('Taste')} {entry.key}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if entry.group_ends:
            toolbar.addSeparator()
        granted = not entry.screen or window.actor.may_see(entry.screen)
        action.setProperty("needs_person", entry.needs_person and granted)
        if not granted:   # off the tool bar and the keyboard for this clerk
            action.setVisible(False)
            action.setEnabled(False)
        actions[entry.key] = action
    return actions
