"""The login at start (and after a clerk logged out): name, password, and on the first login
or after a reset a new password.

The check runs off the event loop (argon2id takes a tenth of a second on purpose, and the
online login asks the central service): a worker thread opens its own connection to the
register, where the offline verifiers live, and answers with a `ClerkSession` or a German
message. The window never learns the password.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from clerk_app.clerks import system_actor
from clerk_app.config import Config
from clerk_app.login import ClerkSession, log_in
from ui.background_call import BackgroundCall
from ui.i18n import tr

LoginCall = Callable[[Config, str, str, str | None], ClerkSession]


def check_login(cfg: Config, login: str, password: str,
                new_password: str | None) -> ClerkSession:
    """One login attempt on the register of `cfg` (run in a worker thread)."""
    from clerk_app.store.opening import open_register

    with open_register(cfg, system_actor("login", cfg.workstation)) as store:
        return log_in(cfg, store, login, password, new_password=new_password)


class LoginDialog(QDialog):
    """Anmeldung: accepted with `session` set; rejected when the clerk closes it."""

    def __init__(self, cfg: Config, parent: QWidget | None = None, *,
                 login_call: LoginCall = check_login) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.session: ClerkSession | None = None
        self._login_call = login_call
        self._background = BackgroundCall(self)
        self.setObjectName("loginDialog")
        self.setWindowTitle(tr("Anmeldung – {office}").format(office=cfg.office_name))
        self.setAccessibleName(tr("Anmeldung"))
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        heading = QLabel(tr("Melderegister – {office}").format(office=cfg.office_name))
        heading.setObjectName("loginHeading")
        heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        layout.addWidget(heading)
        self.intro = QLabel(tr("Bitte mit dem persönlichen Konto anmelden. Zugriffe auf das "
                               "Melderegister werden protokolliert (§ 40 BMG)."))
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        form = QFormLayout()
        self.login = QLineEdit()
        self.login.setObjectName("loginName")
        self.login.setAccessibleName(tr("Anmeldename"))
        self.password = self._secret("loginPassword", tr("Passwort"))
        self.new_password = self._secret("newPassword", tr("Neues Passwort"))
        self.repeat = self._secret("repeatPassword", tr("Neues Passwort wiederholen"))
        form.addRow(tr("&Anmeldename:"), self.login)
        form.addRow(tr("&Passwort:"), self.password)
        self._new_rows = (QLabel(tr("&Neues Passwort:")), QLabel(tr("&Wiederholen:")))
        self._new_rows[0].setBuddy(self.new_password)
        self._new_rows[1].setBuddy(self.repeat)
        form.addRow(self._new_rows[0], self.new_password)
        form.addRow(self._new_rows[1], self.repeat)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("Anmelden"))
        self.ok.setObjectName("loginButton")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Beenden"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._show_new_password(False)
        self.login.setFocus()

    def _secret(self, name: str, label: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setAccessibleName(label)
        return edit

    def _show_new_password(self, shown: bool) -> None:
        for widget in (*self._new_rows, self.new_password, self.repeat):
            widget.setVisible(shown)
        self.login.setReadOnly(shown)
        if shown:
            self.intro.setText(tr("Erste Anmeldung oder zurückgesetztes Konto: Bitte ein "
                                  "neues Passwort festlegen – mindestens 12 Zeichen, gern ein "
                                  "Satz aus mehreren Wörtern."))
            self.new_password.setFocus()

    @property
    def busy(self) -> bool:
        return bool(self._background.busy)

    def submit(self) -> None:
        if self.busy:
            return
        new_password: str | None = None
        if self.new_password.isVisible():
            new_password = self.new_password.text()
            if new_password != self.repeat.text():
                self.message.setText(tr("Die beiden neuen Passwörter stimmen nicht überein."))
                return
        login, password = self.login.text(), self.password.text()
        self.message.setText(tr("Anmeldung wird geprüft …"))
        self.ok.setEnabled(False)
        cfg, call = self.cfg, self._login_call
        self._background.start(lambda: call(cfg, login, password, new_password),
                               self._on_done, self._on_failed, "login")

    def _on_done(self, session: object) -> None:
        self.ok.setEnabled(True)
        assert isinstance(session, ClerkSession)
        if session.must_change_password:
            self.message.clear()
            self._show_new_password(True)
            return
        self.session = session
        self.password.clear()
        self.new_password.clear()
        self.repeat.clear()
        self.accept()

    def _on_failed(self, message: str) -> None:
        from clerk_app.withdrawal import is_withdrawn

        if is_withdrawn(self.cfg):   # the login's contact with the centre withdrew it
            self.reject()            # the start shows the notice (`ui.start_window.run`)
            return
        self.ok.setEnabled(True)
        self.message.setText(message)
        field = self.new_password if self.new_password.isVisible() else self.password
        field.clear()
        field.setFocus()

    def done(self, result: int) -> None:
        self._background.finish()   # never leave a thread behind
        super().done(result)


def ask_login(cfg: Config, parent: QWidget | None = None) -> ClerkSession | None:
    """The login dialog, modal: the session, or None if the clerk closed it."""
    dialog = LoginDialog(cfg, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    session = dialog.session if accepted else None
    dialog.deleteLater()
    return session
