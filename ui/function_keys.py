"""Every key of the main window, in one table: F1 help, F2-F4 registration, F6-F8
certificates, F9 cash desk, F10 Zweitschrift, F11 access log (Datenschutz), F12 Klärfälle,
Ctrl+Shift+O the inbox of online applications (Posteingang), Ctrl+Shift+K clerk accounts
(Administration), the window's own keys (Ctrl+F search, Esc next citizen, Ctrl+L lock, Ctrl+Q
quit) and the queue panel's keys. A clerk gets only the keys whose screen their roles grant.

Each key is one `QAction`: in its menu of the window's menu bar (Datei, Bearbeiten, Dienste,
Kasse, Hilfe; Qt shows the key beside it) and, for the services, on the tool bar too, its key
shown first ("F6 Meldebescheinigung") and in the button's accessible name ("Meldebescheinigung,
Taste F6"); the buttons are no Tab stops (keys, not fields). F1's help lists the keys from
this table as well (`ui.help`). A key marked `needs_person` is enabled only while a person is open;
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
from PySide6.QtWidgets import QMenuBar, QToolBar

from ui import clerk_screens
from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.queue.panel import QueuePanel


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
    # The counter service it opens (a type of `clerk_app.services.runner.SERVICES`): the
    # queue panel offers the key for a visit that asks for that service.
    service: str = ""
    # A key of the queue panel: its button is on the panel, not the tool bar, and it exists
    # only where the workstation calls to a counter (`queue_counter`).
    queue: bool = False
    menu: str = "services"   # its menu: a key of `MENUS`
    on_toolbar: bool = True  # the services are; the window's own keys only in the menu


# The menu bar's menus in order: key -> title (translated when bound).
MENUS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("file", lambda: tr("&Datei")),
    ("edit", lambda: tr("&Bearbeiten")),
    ("services", lambda: tr("D&ienste")),
    ("cash", lambda: tr("&Kasse")),
    ("help", lambda: tr("&Hilfe")),
)


def _queue_key(key: str, text: Callable[[], str], run: Callable[[QueuePanel], object],
               tip: Callable[[], str] | None = None) -> FunctionKey:
    return FunctionKey(key, text, lambda w: w.queue_panel is not None and run(w.queue_panel),
                       tip, screen="queue", queue=True, on_toolbar=False)


FUNCTION_KEYS: tuple[FunctionKey, ...] = (
    FunctionKey("F2", lambda: tr("Anmeldung"), lambda w: w.registration.open_anmeldung(),
                lambda: tr("Anmeldung: Zuzug einer oder mehrerer Personen"), screen="registration",
                service="anmeldung"),
    FunctionKey("F3", lambda: tr("Ummeldung"), lambda w: w.registration.open_ummeldung(),
                lambda: tr("Ummeldung: Umzug der geöffneten Person und ihres Haushalts "
                           "innerhalb der Stadt"), screen="registration", service="ummeldung"),
    FunctionKey("F4", lambda: tr("Abmeldung"), lambda w: w.registration.open_abmeldung(),
                lambda: tr("Abmeldung: Wegzug ins Ausland oder Aufgabe einer Nebenwohnung"),
                group_ends=True, screen="registration", service="abmeldung"),
    FunctionKey("F6", lambda: tr("Meldebescheinigung"),
                lambda w: w.open_certificate("meldebescheinigung"), needs_person=True,
                screen="certificates", service="meldebescheinigung"),
    FunctionKey("F7", lambda: tr("Lebensbescheinigung"),
                lambda w: w.open_certificate("lebensbescheinigung"), needs_person=True,
                screen="certificates", service="lebensbescheinigung"),
    FunctionKey("F8", lambda: tr("Personenstandsurkunde"),
                lambda w: w.open_certificate("personenstandsurkunde_antrag"),
                needs_person=True, screen="certificates", service="personenstandsurkunde_antrag"),
    FunctionKey("F9", lambda: tr("Kasse"), lambda w: w.open_cash_desk(), screen="cash_desk",
                menu="cash"),
    FunctionKey("F10", lambda: tr("Zweitschrift"), lambda w: w.reprint_selected(),
                needs_person=True, screen="person"),
    FunctionKey("F11", lambda: tr("Zugriffsprotokoll"), lambda w: clerk_screens.open_access_log(w),
                lambda: tr("Zugriffsprotokoll der geöffneten oder ausgewählten Person "
                           "(Datenschutz)"), screen="access_log", menu="edit"),
    FunctionKey("F12", lambda: tr("Klärfälle"), lambda w: w.open_conflicts(), screen="conflicts",
                menu="edit"),
    FunctionKey("Ctrl+Shift+O", lambda: tr("Posteingang"),
                lambda w: clerk_screens.open_inbox(w),
                lambda: tr("Posteingang: Online-Anträge übernehmen, bearbeiten, beantworten"),
                screen="inbox"),
    FunctionKey("Ctrl+Shift+K", lambda: tr("Konten"), lambda w: clerk_screens.open_clerk_admin(w),
                lambda: tr("Konten der Sachbearbeitung verwalten (Administration)"),
                screen="clerks", menu="file"),
    FunctionKey("Ctrl+F", lambda: tr("Suchen"), lambda w: w.focus_search(),
                lambda: tr("Cursor in das Suchfeld"), menu="edit", on_toolbar=False),
    FunctionKey("Esc", lambda: tr("Nächste Bürgerin / nächster Bürger"), lambda w: w.reset(),
                lambda: tr("Suche und Person leeren"), menu="edit", on_toolbar=False),
    FunctionKey("Ctrl+L", lambda: tr("Bildschirm sperren"), lambda w: w.screen_lock.lock(),
                menu="file", on_toolbar=False),
    FunctionKey("Ctrl+Q", lambda: tr("Beenden"), lambda w: w.request_quit(),
                lambda: tr("Programm beenden (offene Eingaben bleiben als Entwurf)"),
                menu="file", on_toolbar=False),
    FunctionKey("F1", lambda: tr("Tasten und Hilfe"), lambda w: w.show_help(),
                lambda: tr("Alle Tasten und eine kurze Hilfe zum Bildschirm"), menu="help",
                on_toolbar=False),
    # The queue panel (ui.queue.panel): calling, and what becomes of the visit called.
    _queue_key("Ctrl+N", lambda: tr("Nächste Person aufrufen"), lambda p: p.call_next()),
    _queue_key("Ctrl+R", lambda: tr("Erneut aufrufen"), lambda p: p.recall()),
    _queue_key("Ctrl+E", lambda: tr("Erschienen"), lambda p: p.appear(),
               lambda: tr("Die aufgerufene Person ist da: Bedienung beginnt, Person wird "
                          "geöffnet")),
    _queue_key("Ctrl+Shift+E", lambda: tr("Nicht erschienen"), lambda p: p.not_appeared()),
    _queue_key("Ctrl+B", lambda: tr("Wieder einreihen"), lambda p: p.put_back(),
               lambda: tr("Gewählte (verpasste oder geparkte) oder aufgerufene Nummer zurück "
                          "in die Warteschlange")),
    _queue_key("Ctrl+Shift+P", lambda: tr("Parken"), lambda p: p.park(),
               lambda: tr("Person kommt mit einer Unterlage wieder")),
    _queue_key("Ctrl+Shift+W", lambda: tr("Weiterleiten …"), lambda p: p.forward()),
    _queue_key("Ctrl+Shift+A", lambda: tr("Abschließen …"), lambda p: p.finish()),
    _queue_key("Ctrl+Shift+X", lambda: tr("Stornieren …"), lambda p: p.cancel()),
    _queue_key("Ctrl+I", lambda: tr("Einchecken"), lambda p: p.check_in_typed(),
               lambda: tr("Termin einchecken: Buchungsnummer in das Suchfeld tippen oder "
                          "QR-Code scannen")),
    _queue_key("Ctrl+T", lambda: tr("Wartemarke …"), lambda p: p.draw_ticket()),
    _queue_key("Ctrl+Shift+L", lambda: tr("Warteliste"), lambda p: p.focus_lines()),
    _queue_key("Ctrl+Shift+S", lambda: tr("Statistik"), lambda p: p.open_statistics(),
               lambda: tr("Statistik der Warteschlange mit Diagrammen und CSV-Export")),
)


def key_name(key: str) -> str:
    """The key as German keyboards label it ("Strg+Umschalt+E", "Enter")."""
    return key.replace("Ctrl+", tr("Strg") + "+").replace("Shift+", tr("Umschalt") + "+") \
        .replace("Return", "Enter")


def granted_keys(window: MainWindow) -> list[FunctionKey]:
    """The keys this window's clerk gets (their roles grant the screen; the queue's keys
    only where the workstation calls to a counter)."""
    return [e for e in FUNCTION_KEYS if (not e.screen or window.actor.may_see(e.screen))
            and not (e.queue and window.queue_panel is None)]


def bind_function_keys(window: MainWindow, toolbar: QToolBar,
                       menubar: QMenuBar) -> dict[str, QAction]:
    """Make every key of `FUNCTION_KEYS` an action of `window`, in its menu of `menubar` and
    (the services) on `toolbar`; key -> action."""
    menus = {key: menubar.addMenu(title()) for key, title in MENUS}
    for key, menu in menus.items():
        menu.setObjectName(f"menu_{key}")
    actions: dict[str, QAction] = {}
    for entry in FUNCTION_KEYS:
        if entry.queue and window.queue_panel is None:
            continue   # no counter to call to at this workstation
        text = entry.text()
        action = QAction(text, window)   # the menu shows the key beside it
        # The button: the key first; on the narrow queue panel the key above the words.
        action.setIconText(f"{key_name(entry.key)}{chr(10) if entry.queue else ' '}{text}")
        action.setObjectName(f"action{entry.key}")
        action.setShortcut(QKeySequence(entry.key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text} ({key_name(entry.key)})")
        if entry.tip is not None:
            action.setStatusTip(entry.tip())
        action.triggered.connect(lambda _checked=False, e=entry: e.run(window))
        menus[entry.menu].addAction(action)
        if entry.on_toolbar:
            toolbar.addAction(action)
            button = toolbar.widgetForAction(action)
            if button is not None:
                button.setAccessibleName(f"{text}, {tr('Taste')} {key_name(entry.key)}")
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
