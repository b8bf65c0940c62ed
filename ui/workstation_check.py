"""Before the window opens on a production register: is this workstation set up, and can its
key be read?

A workstation IT has not enrolled yet, a register without its key, a key without its register:
the clerk reads what happened and that IT is to be called (the words of
`clerk_app.store.workstation`), instead of the first error that the missing part happens to
cause. A locked keyring whose backend can ask for the password (the Secret Service) is offered
to be unlocked right here; the desktop shows its own password prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from clerk_app.config import Config
from clerk_app.errors import ClerkError, KeyringLockedError
from clerk_app.keys import unlock_keyring
from clerk_app.store.workstation import require_ready
from ui.i18n import error_text, tr
from ui.question_box import ask

log = logging.getLogger(__name__)

Unlock = Callable[[], bool]
ShowError = Callable[[QWidget | None, str, str], None]


def workstation_ready(cfg: Config, show_error: ShowError, *, parent: QWidget | None = None,
                      unlock: Unlock = unlock_keyring) -> bool:
    """True when the production register and its key are both here and readable; otherwise
    the clerk has been told why (and offered to unlock a locked keyring) and it is False.
    The demo register needs no check (it is built at first start)."""
    if cfg.is_demo:
        return True
    while True:
        try:
            require_ready(cfg)
            return True
        except KeyringLockedError as exc:
            log.warning("keyring locked at start")
            if not exc.can_prompt:
                show_error(parent, tr("Schlüsselspeicher gesperrt"), error_text(exc))
                return False
            if not offer_unlock(exc, parent):
                return False
            if not unlock():
                log.warning("keyring still locked after the unlock prompt")
        except ClerkError as exc:  # not set up, a part missing (each says what IT does)
            log.error("cannot open the register: %s", exc.message_en)
            show_error(parent, tr("Melderegister kann nicht geöffnet werden"), error_text(exc))
            return False


def offer_unlock(exc: KeyringLockedError, parent: QWidget | None) -> bool:
    """Ask the clerk: unlock the keyring now (True), or end the program (False)."""
    return ask(parent, name="keyringLocked", icon=QMessageBox.Icon.Warning,
               title=tr("Schlüsselspeicher gesperrt"), text=error_text(exc),
               yes=(tr("&Entsperren …"), "unlockButton"), no=tr("&Beenden"), default_yes=True)
