"""Four eyes at the cash desk: a Tagesabschluss with a cash difference names its reason and
is confirmed by a second clerk with the Teamleitung role, who types their own login name and
password here (checked by the core against their last login at this workstation; the
password goes no further than the service's form)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from clerk_app.fees import format_cents
from ui.i18n import tr


class DifferenceConfirmation(QDialog):
    """Reason and the confirming Teamleitung clerk; `fields()` once accepted."""

    def __init__(self, difference_cents: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("differenceConfirmation")
        self.setWindowTitle(tr("Kassendifferenz bestätigen"))
        self.setAccessibleName(tr("Kassendifferenz bestätigen"))
        layout = QVBoxLayout(self)
        intro = QLabel(tr("Kassendifferenz {amount}: bitte den Grund angeben; eine zweite "
                          "Person mit der Rolle Teamleitung bestätigt mit ihrem "
                          "Anmeldenamen und Passwort.").format(
                              amount=format_cents(difference_cents)))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setObjectName("differenceReason")
        self.reason.setAccessibleName(tr("Grund der Differenz"))
        self.login = QLineEdit()
        self.login.setObjectName("confirmLogin")
        self.login.setAccessibleName(tr("Anmeldename der Teamleitung"))
        self.password = QLineEdit()
        self.password.setObjectName("confirmPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(tr("Passwort der Teamleitung"))
        form.addRow(tr("&Grund:"), self.reason)
        form.addRow(tr("&Teamleitung:"), self.login)
        form.addRow(tr("&Passwort:"), self.password)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Bestätigen"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason.setFocus()

    def fields(self) -> dict[str, str]:
        return {"difference_reason": self.reason.text(), "confirm_login": self.login.text(),
                "confirm_password": self.password.text()}


def ask_difference(difference_cents: int, parent: QWidget | None) -> dict[str, str] | None:
    """The confirmation's form fields, or None if the clerk cancelled."""
    dialog = DifferenceConfirmation(difference_cents, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    fields = dialog.fields() if accepted else None
    dialog.deleteLater()
    return fields
