"""Which screens the logged-in clerk is offered (a courtesy: the core refuses the services
themselves), and the Datenschutz role's key for the access log of the open person.

The screens' permissions are data (`[screens]` in `resources/roles.toml`); a key whose screen
the clerk's roles do not grant is taken off the tool bar and out of the keyboard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow

# The tool bar's keys (their action names) by the screen they open.
SCREENS = {"actionF2": "registration", "actionF3": "registration", "actionF4": "registration",
           "actionF6": "certificates", "actionF7": "certificates", "actionF8": "certificates",
           "actionF9": "cash_desk", "actionF10": "person", "actionF12": "conflicts"}
ACCESS_LOG_KEY = "F11"
ADMIN_KEY = "Ctrl+Shift+K"


def install(window: MainWindow) -> None:
    """Hide the keys the clerk may not use; add F11 (the access log of the open or selected
    person) for Datenschutz, who may search but not open a person's record."""
    actor = window.actor
    for action in window.findChildren(QAction):
        screen = SCREENS.get(action.objectName())
        if screen is not None and not actor.may_see(screen):
            action.setVisible(False)
            action.setEnabled(False)
            if action in window.person_actions:
                window.person_actions.remove(action)
    if actor.may_see("clerks"):
        window.add_function_action(ADMIN_KEY, tr("Konten"),
                                   lambda _checked=False: open_clerk_admin(window))
    if actor.may_see("access_log"):
        window.add_function_action(ACCESS_LOG_KEY, tr("Zugriffsprotokoll"),
                                   lambda _checked=False: open_access_log(window))


def open_access_log(window: MainWindow) -> None:
    from ui.access_log_view import AccessLogDialog

    person = window.person_view.record or window.selected_hit()
    if person is None:
        window.statusBar().showMessage(tr("Bitte zuerst eine Person suchen und auswählen "
                                          "(F11: ihr Zugriffsprotokoll)."))
        return
    dialog = AccessLogDialog(window, person.id, person.display_name)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def open_clerk_admin(window: MainWindow) -> None:
    """The Administration screen; the accounts live at the central service."""
    from ui.clerk_admin import ClerkAdminDialog, central_admin

    if not window.cfg.central_url:
        window.statusBar().showMessage(tr("Konten werden an der Zentrale verwaltet; es ist "
                                          "keine Zentrale eingerichtet."))
        return
    dialog = ClerkAdminDialog(central_admin(window.cfg, window.clerk_session), window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
