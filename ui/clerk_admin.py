"""The Administration screen: clerk accounts at the central service (list, add, disable and
enable, reset with a new one-time password, roles, the secrecy binding of § 7 BMG).

Offered to clerks whose roles grant `clerks.manage`; the central service checks that same
permission on the administrator's clerk session for every call. Calls run off the event loop
(`BackgroundCall`). A one-time password is shown once, for handing over on paper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clerk_app.clerks import role_book
from ui.background_call import BackgroundCall
from ui.i18n import tr

if TYPE_CHECKING:
    from sync.protocol import ClerkAdminAnswer, ClerkAdminRequest

    AdminCall = Callable[[ClerkAdminRequest | None], ClerkAdminAnswer]


def central_admin(cfg: Any, clerk_session: str | None) -> AdminCall:
    """Calls to the central service with this workstation's token and the administrator's
    clerk session (None = list the accounts)."""
    def call(request: ClerkAdminRequest | None) -> ClerkAdminAnswer:
        from sync.central_connection import connect

        client = connect(cfg, clerk_session)
        try:
            return client.clerks() if request is None else client.administer_clerk(request)
        finally:
            client.close()

    return call


class ClerkAdminDialog(QDialog):
    COLUMNS = ("login", "display_name", "roles", "secrecy_date", "enabled", "locked")

    def __init__(self, call: AdminCall, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call = call
        self.accounts: list[dict[str, Any]] = []
        self.one_time_password: str | None = None
        self._background = BackgroundCall(self)
        self.setObjectName("clerkAdmin")
        self.setWindowTitle(tr("Konten der Sachbearbeitung"))
        self.setAccessibleName(tr("Konten der Sachbearbeitung"))
        self.resize(920, 560)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("clerkAccounts")
        self.table.setAccessibleName(tr("Konten"))
        self.table.setHorizontalHeaderLabels([
            tr("Anmeldename"), tr("Name auf Dokumenten"), tr("Rollen"),
            tr("Datengeheimnis seit"), tr("Aktiv"), tr("Gesperrt")])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._take_selected)
        layout.addWidget(self.table, 1)
        form = QFormLayout()
        self.login = QLineEdit()
        self.login.setObjectName("adminLogin")
        self.login.setAccessibleName(tr("Anmeldename"))
        self.name = QLineEdit()
        self.name.setObjectName("adminName")
        self.name.setAccessibleName(tr("Name auf Dokumenten"))
        roles_row = QHBoxLayout()
        self.roles: dict[str, QCheckBox] = {}
        for key, role in role_book().roles.items():
            box = QCheckBox(role.name)
            box.setObjectName(f"role_{key}")
            self.roles[key] = box
            roles_row.addWidget(box)
        roles_row.addStretch(1)
        self.secrecy = QDateEdit(QDate.currentDate())
        self.secrecy.setObjectName("adminSecrecy")
        self.secrecy.setCalendarPopup(True)
        self.secrecy.setDisplayFormat("dd.MM.yyyy")
        self.secrecy.setAccessibleName(tr("Verpflichtet auf das Datengeheimnis am"))
        form.addRow(tr("&Anmeldename:"), self.login)
        form.addRow(tr("&Name:"), self.name)
        form.addRow(tr("Rollen:"), roles_row)
        form.addRow(tr("&Datengeheimnis seit:"), self.secrecy)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for action, text in (("add", tr("Konto &anlegen")), ("roles", tr("&Rollen setzen")),
                             ("secrecy", tr("&Verpflichtung eintragen")),
                             ("reset", tr("&Zurücksetzen (Einmal-Passwort)")),
                             ("disable", tr("&Deaktivieren")), ("enable", tr("A&ktivieren"))):
            button = QPushButton(text)
            button.setObjectName(f"admin_{action}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, a=action: self.submit(a))
            self.buttons[action] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = QLabel()
        self.message.setObjectName("adminMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.reload()

    def reload(self) -> None:
        self._run(None)

    def submit(self, action: str) -> None:
        from sync.protocol import ClerkAdminRequest

        login = self.login.text().strip()
        if not login:
            self.message.setText(tr("Bitte den Anmeldenamen angeben."))
            return
        roles = [k for k, box in self.roles.items() if box.isChecked()]
        request = ClerkAdminRequest(
            action=action, login=login, display_name=self.name.text().strip() or None,  # type: ignore[arg-type]
            roles=roles if action in ("add", "roles") else None,
            secrecy_date=self.secrecy.date().toString("yyyy-MM-dd")
            if action in ("add", "secrecy") else None)
        self._run(request)

    def _run(self, request: ClerkAdminRequest | None) -> None:
        if self._background.busy:
            return
        for button in self.buttons.values():
            button.setEnabled(False)
        call = self.call
        self._background.start(lambda: call(request), self._on_answer, self._on_failed,
                               "clerk administration")

    def _on_answer(self, answer: object) -> None:
        for button in self.buttons.values():
            button.setEnabled(True)
        self.accounts = list(getattr(answer, "accounts", []))
        self.one_time_password = getattr(answer, "one_time_password", None)
        self.table.setRowCount(len(self.accounts))
        names = role_book()
        for row, account in enumerate(self.accounts):
            values = (account["login"], account["display_name"],
                      names.names(tuple(account["roles"])), account["secrecy_date"] or "—",
                      tr("ja") if account["enabled"] else tr("nein"),
                      tr("ja") if account["locked"] else tr("nein"))
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(str(value)))
        self.table.resizeColumnsToContents()
        if self.one_time_password:
            self.message.setText(tr("Einmal-Passwort (nur jetzt sichtbar, bei der ersten "
                                    "Anmeldung zu ändern): {password}").format(
                                        password=self.one_time_password))
        else:
            self.message.setText(tr("{n} Konten.").format(n=len(self.accounts)))

    def _on_failed(self, message: str) -> None:
        for button in self.buttons.values():
            button.setEnabled(True)
        self.message.setText(message)

    def _take_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        account = self.accounts[rows[0].row()]
        self.login.setText(account["login"])
        self.name.setText(account["display_name"])
        for key, box in self.roles.items():
            box.setChecked(key in account["roles"])
        if account["secrecy_date"]:
            self.secrecy.setDate(QDate.fromString(account["secrecy_date"], "yyyy-MM-dd"))

    def done(self, result: int) -> None:
        self._background.finish()
        super().done(result)
