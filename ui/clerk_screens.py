"""The screens of the Datenschutz and Administration roles, opened from their function keys
(`ui.function_keys`, which offers each key only to clerks whose roles grant its screen): the
access log of the open or selected person (F11), the clerk accounts (Ctrl+Shift+K)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from ui.i18n import tr

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def open_access_log(window: MainWindow) -> None:
    """F11: who looked at the open (or the selected) person, and why."""
    from ui.access_log_view import AccessLogDialog

    person = window.person_view.record or window.selected_hit()
    if person is None:
        window.statusBar().showMessage(tr("Bitte zuerst eine Person suchen und auswählen "
                                          "(F11: ihr Zugriffsprotokoll)."))
        return
    dialog = AccessLogDialog(window, person.id, person.display_name)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def open_inbox(window: MainWindow) -> None:
    """Ctrl+Shift+O: the Posteingang of online applications (one window of it)."""
    from ui.inbox_view import InboxDialog

    existing = window.findChild(InboxDialog)
    if existing is not None:
        existing.raise_()
        existing.activateWindow()
        existing.refresh()
        return
    dialog = InboxDialog(window)
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
