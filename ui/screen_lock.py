"""The window's lock: after `idle_lock_minutes` without input (BSI IT-Grundschutz) and on
Ctrl+L.

Locked, the register's content is hidden (the window shows only the lock panel; its docks,
such as the queue panel with a booked citizen's name, are hidden too), the open service
dialogs are hidden (which keeps their drafts in the encrypted register, for their
owner) and every key of the window is off. Unlocking needs the same clerk's password
(checked against the verifier of the login, in the database worker's thread); "Abmelden"
ends the session instead, so that another clerk can log in, who never sees the first
clerk's drafts (drafts belong to their clerk).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clerk_app.login import unlock
from ui.i18n import tr
from ui.operation import Op

if TYPE_CHECKING:
    from ui.main_window import MainWindow

# Wrong passwords in a row before the lock logs the clerk out.
MAX_UNLOCK_FAILURES = 5
INPUT_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                          QEvent.Type.MouseMove, QEvent.Type.Wheel,
                          QEvent.Type.TouchBegin})


class LockPanel(QWidget):
    """What a locked window shows: who locked it, the password field, Abmelden."""

    def __init__(self, name: str, demo: bool) -> None:
        super().__init__()
        self.setObjectName("lockPanel")
        self.setAccessibleName(tr("Gesperrt"))
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        box = QVBoxLayout()
        box.setSpacing(10)
        title = QLabel(tr("Arbeitsplatz gesperrt"))
        title.setObjectName("lockTitle")
        title.setStyleSheet("font-size: 18pt; font-weight: bold;")
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(title)
        who = QLabel(tr("Angemeldet: {name}. Zum Entsperren das Passwort eingeben.").format(
            name=name) if not demo else
            tr("Demo-Modus: Entsperren mit der Eingabetaste."))
        who.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        who.setWordWrap(True)
        box.addWidget(who)
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(tr("Passwort zum Entsperren"))
        self.password.setMaximumWidth(360)
        self.password.setEnabled(not demo)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.password)
        self.unlock_button = QPushButton(tr("&Entsperren"))
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        row.addWidget(self.unlock_button)
        self.logout_button = QPushButton(tr("&Abmelden"))
        self.logout_button.setObjectName("logoutButton")
        row.addWidget(self.logout_button)
        row.addStretch(1)
        box.addLayout(row)
        self.message = QLabel()
        self.message.setObjectName("unlockMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        box.addWidget(self.message)
        outer.addLayout(box)
        outer.addStretch(3)


class ScreenLock(QObject):
    """Watches the clerk's input; locks and unlocks `window`."""

    def __init__(self, window: MainWindow, idle_minutes: int) -> None:
        super().__init__(window)
        self.window = window
        self.locked = False
        self.logged_out = False
        self._failures = 0
        self._content: QWidget | None = None
        self._panel: LockPanel | None = None
        self._hidden_dialogs: list[QDialog] = []
        self._hidden_docks: list[QDockWidget] = []
        self._disabled: list[QAction | QShortcut] = []
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(idle_minutes * 60_000)
        self.idle.timeout.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.idle.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Any input restarts the idle time; Ctrl+L locks from anywhere, a service dialog
        too (an application event filter: a window shortcut is blocked by a modal dialog)."""
        if event.type() not in INPUT_EVENTS or self.locked:
            return False
        if isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_L and \
                event.modifiers() == Qt.KeyboardModifier.ControlModifier and \
                self._belongs_to_window(watched):
            self.lock()
            return True
        self.idle.start()
        return False

    def _belongs_to_window(self, watched: QObject) -> bool:
        """The window itself, or one of its dialogs (they are its children)."""
        widget = watched if isinstance(watched, QWidget) else None
        while widget is not None:
            if widget is self.window:
                return True
            widget = widget.parentWidget()
        return False

    def lock(self) -> None:
        if self.locked or self.logged_out:
            return
        self.locked = True
        self.idle.stop()
        window = self.window
        self._hidden_dialogs = [d for d in window.findChildren(QDialog) if d.isVisible()]
        for dialog in self._hidden_dialogs:
            dialog.hide()   # keeps its draft (FormDialog.hideEvent)
        self._hidden_docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
        for dock in self._hidden_docks:
            dock.hide()
        keys: list[QAction | QShortcut] = [*window.findChildren(QAction),
                                           *window.findChildren(QShortcut)]
        self._disabled = [k for k in keys if k.isEnabled()]
        for item in self._disabled:
            item.setEnabled(False)
        actor = window.actor
        self._panel = LockPanel(actor.name, actor.demo)
        self._panel.unlock_button.clicked.connect(self._try_unlock)
        self._panel.password.returnPressed.connect(self._try_unlock)
        self._panel.logout_button.clicked.connect(self.logout)
        self._content = window.takeCentralWidget()
        window.setCentralWidget(self._panel)
        (self._panel.password if not actor.demo else self._panel.unlock_button).setFocus()

    def _try_unlock(self) -> None:
        panel = self._panel
        if panel is None or not panel.unlock_button.isEnabled():
            return
        password = panel.password.text()
        panel.password.clear()
        panel.unlock_button.setEnabled(False)
        actor = self.window.actor
        Op(self, lambda store: unlock(store, actor, password), self._on_checked,
           what="unlock").failure(self._on_check_failed).run(self.window.db)

    def _on_checked(self, ok: object) -> None:
        panel = self._panel
        if panel is None:
            return
        panel.unlock_button.setEnabled(True)
        if ok is True:
            self._unlock()
            return
        self._failures += 1
        if self._failures >= MAX_UNLOCK_FAILURES:
            self.logout()
            return
        panel.message.setText(tr("Das Passwort ist falsch."))
        panel.password.setFocus()

    def _on_check_failed(self, message_de: str, _message_en: str) -> None:
        if self._panel is not None:
            self._panel.unlock_button.setEnabled(True)
            self._panel.message.setText(message_de)

    def _unlock(self) -> None:
        window = self.window
        self._failures = 0
        panel = window.takeCentralWidget()
        if panel is not None:
            panel.deleteLater()
        self._panel = None
        if self._content is not None:
            window.setCentralWidget(self._content)
            self._content.show()
        self._content = None
        for item in self._disabled:
            item.setEnabled(True)
        self._disabled = []
        for dialog in self._hidden_dialogs:
            dialog.show()
        self._hidden_dialogs = []
        for dock in self._hidden_docks:
            dock.show()
        self._hidden_docks = []
        self.locked = False
        self.idle.start()
        if not window.service_dialog:
            window.focus_search(select=False)

    def logout(self) -> None:
        """End the clerk's session: the window closes (its drafts stay for the clerk) and
        the login comes back (`ui.start_window.run`)."""
        self.logged_out = True
        self.idle.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.window.close()
