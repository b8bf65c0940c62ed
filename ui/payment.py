"""The payment part of every service dialog: fee, payment type, cash given and change.

Shows the fee from the city's schedule (`clerk_app.fees`), lets the clerk choose Barzahlung
(the default), Kartenzahlung or gebührenfrei (an exemption, shown with its reason and legal
basis), and produces the payment form the cashbook expects (`cashbook.prepare_payment`). For
cash the "Gegeben" field is prefilled with the exact fee, so the common case (the citizen pays
exactly) needs no key at all; typing another amount shows the change live ("Rückgeld: 3,00 €").
A free service (0 €) says "gebührenfrei" and asks nothing. A card payment asks for the
card terminal's receipt number (on the receipt and in the journal). The first cash payment of
the day also asks for the day's starting float (Wechselgeld, `ask_float`), offered with the
float of the workstation's last day; it is booked with the payment.

The fields are `ui.fields.FieldBox`es under the cashbook's error paths (`payment.method`,
`payment.given`, `payment.exemption`), registered in the dialog's `Form` by `register`, so a
core FormError lands next to the field like every other error.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from clerk_app.fees import Fee, format_cents
from ui.fields import AmountEdit, ChoiceBox, FieldBox, Form
from ui.i18n import tr, tr_label
from ui.style import ERROR_RED, OK_GREEN

BAR, KARTE, FREI = "bar", "karte", "gebuehrenfrei"


def amount_text(cents: int) -> str:
    """'7,00': an amount as a clerk types it (the euro sign stands next to the field)."""
    return f"{cents // 100},{cents % 100:02d}"


class PaymentSection(QGroupBox):
    """Fee and payment of one service; `form()` is the service form's `payment` entry."""

    changed = Signal()           # anything the clerk changed (method, amount, exemption)
    layout_changed = Signal()    # fields appeared or disappeared: the dialog re-chains Tab

    def __init__(self, fee: Fee, parent: QWidget | None = None) -> None:
        super().__init__(tr("Gebühr und Zahlung"), parent)
        self.setObjectName("payment")
        self.setAccessibleName(tr("Gebühr und Zahlung"))
        self._fee = fee
        self._prefilled = ""   # what we put into "Gegeben" (not typed by the clerk)

        self.fee_label = QLabel()
        self.fee_label.setObjectName("feeAmount")
        self.fee_label.setTextFormat(Qt.TextFormat.PlainText)
        big = QFont(self.fee_label.font())
        big.setBold(True)
        big.setPointSizeF(big.pointSizeF() * 1.2)
        self.fee_label.setFont(big)

        self.bar = QRadioButton(tr("&Barzahlung"))
        self.bar.setObjectName("payBar")
        self.karte = QRadioButton(tr("&Kartenzahlung"))
        self.karte.setObjectName("payKarte")
        self.frei = QRadioButton(tr("gebühren&frei"))
        self.frei.setObjectName("payFrei")
        self.methods = QButtonGroup(self)
        self.methods_widget = QWidget()
        self.methods_widget.setObjectName("paymentMethods")
        row = QHBoxLayout(self.methods_widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(18)
        for button in (self.bar, self.karte, self.frei):
            self.methods.addButton(button)
            row.addWidget(button)
        row.addStretch(1)
        self.bar.setChecked(True)
        self.method_box = FieldBox("payment.method", tr("Zahlungsart"), self.methods_widget,
                                   value=lambda: self.method)
        self.method_box.setObjectName("paymentMethodBox")
        for button, name in ((self.bar, tr("Barzahlung")), (self.karte, tr("Kartenzahlung")),
                             (self.frei, tr("gebührenfrei mit Befreiungsgrund"))):
            button.setAccessibleName(name)

        self.given = AmountEdit(tr("10 oder 7,50"))
        self.given.setObjectName("given")
        self.given.setAccessibleDescription(tr(
            "Vorbelegt mit der Gebühr; bei anderem Betrag überschreiben, z. B. 10 oder 7,50."))
        self.change_label = QLabel()
        self.change_label.setObjectName("change")
        self.change_label.setTextFormat(Qt.TextFormat.PlainText)
        self.change_label.setAccessibleName(tr("Rückgeld"))
        self.change_label.setFont(big)
        self.given_box = FieldBox("payment.given", tr("&Gegeben (€)"), self.given,
                                  required=True, beside=self.change_label)
        self.given_box.setObjectName("givenBox")

        self.card_label = QLabel()
        self.card_label.setObjectName("cardHint")
        self.card_label.setWordWrap(True)
        self.terminal = QLineEdit()
        self.terminal.setObjectName("terminalReceipt")
        self.terminal.setMaxLength(20)
        self.terminal.setPlaceholderText(tr("Belegnummer vom Terminal-Ausdruck"))
        self.terminal_box = FieldBox("payment.terminal_receipt",
                                     tr("Beleg-Nr. des &Terminals"), self.terminal,
                                     required=True)
        self.terminal_box.setObjectName("terminalBox")

        # The day's starting float, asked at the first cash payment (`ask_float`).
        self.float_offer: int | None = None
        self.float_edit = AmountEdit(tr("150 oder 150,00"))
        self.float_edit.setObjectName("dayFloat")
        self.float_box = FieldBox("payment.float_cents", tr("Wechselgeld &zu Tagesbeginn (€)"),
                                  self.float_edit, required=True,
                                  hint=lambda: tr("Einmal am Tag: das Bargeld in der Kasse vor "
                                                  "der ersten Zahlung; es zählt zum Bargeld "
                                                  "Soll des Tagesabschlusses."))
        self.float_box.setObjectName("floatBox")

        self.exemption = ChoiceBox({})
        self.exemption.setObjectName("exemption")
        self.exemption_box = FieldBox("payment.exemption", tr("Befreiungsgrun&d"),
                                      self.exemption, required=True,
                                      hint=self._exemption_hint)
        self.exemption_box.setObjectName("exemptionBox")

        self.free_label = QLabel()
        self.free_label.setObjectName("freeHint")
        self.free_label.setWordWrap(True)

        # After the day's Tagesabschluss the drawer is counted: no cash (nor any other
        # booking, the core refuses them) is offered until Teamleitung reopens the day.
        self.day_closed = False
        self.closed_label = QLabel(tr("Der Tagesabschluss für heute ist erfolgt: an diesem "
                                      "Arbeitsplatz wird heute nichts mehr kassiert. Die "
                                      "Teamleitung kann den Tag in der Kasse (F9) wieder "
                                      "öffnen."))
        self.closed_label.setObjectName("dayClosedHint")
        self.closed_label.setWordWrap(True)
        self.closed_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.closed_label.hide()

        box = QVBoxLayout(self)
        box.setContentsMargins(10, 8, 10, 8)
        box.setSpacing(6)
        fee_row = QHBoxLayout()
        fee_row.setSpacing(12)
        fee_row.addWidget(QLabel(tr("Gebühr:")))
        fee_row.addWidget(self.fee_label, 1)
        box.addLayout(fee_row)
        # The float above "Gegeben": Enter in "Gegeben" (the last field) still issues at once.
        for widget in (self.method_box, self.float_box, self.given_box, self.card_label,
                       self.terminal_box, self.exemption_box, self.free_label,
                       self.closed_label):
            box.addWidget(widget)
        self.terminal.setFixedWidth(self.given.width() * 2)
        self.terminal.textChanged.connect(lambda _t: self.changed.emit())

        self.methods.buttonToggled.connect(self._on_method)
        self.given.textChanged.connect(self._update_change)
        self.exemption.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.set_fee(fee)

    def register(self, form: Form) -> None:
        """Put the payment fields into the dialog's form (errors, dirty check)."""
        form.add(self.method_box, "payment")
        form.add(self.given_box)
        form.add(self.terminal_box)
        form.add(self.exemption_box)
        form.add(self.float_box)

    # State

    @property
    def fee(self) -> Fee:
        return self._fee

    @property
    def is_free(self) -> bool:
        return self._fee.cents == 0

    @property
    def method(self) -> str:
        if self.is_free or self.frei.isChecked():
            return FREI
        return KARTE if self.karte.isChecked() else BAR

    def set_fee(self, fee: Fee) -> None:
        """Show the fee of `fee` (e.g. when the clerk switches to the extended certificate);
        a prefilled "Gegeben" follows the fee, an amount the clerk typed stays."""
        self._fee = fee
        amount = format_cents(fee.cents)
        name = tr_label(fee.name)
        if fee.cents and fee.copies > 1:
            self.fee_label.setText(tr("{amount} – {service} ({copies} × {unit})").format(
                amount=amount, service=name, copies=fee.copies,
                unit=format_cents(fee.unit_cents)))
        elif fee.cents:
            self.fee_label.setText(f"{amount} – {name}")
        else:
            self.fee_label.setText(tr("gebührenfrei ({service})").format(service=name))
        self.fee_label.setAccessibleName(tr("Gebühr: {amount}").format(amount=amount))
        if self.given.text() == self._prefilled:
            self._prefilled = amount_text(fee.cents)
            self.given.setText(self._prefilled)
            self.given_box.mark_clean()
            self.given_box.set_error("")
        self.card_label.setText(tr("{amount} am Kartenterminal kassieren, dann ausstellen.")
                                .format(amount=amount))
        self.free_label.setText(tr("Keine Gebühr – es ist nichts zu kassieren."))
        current = self.exemption.value()
        self.exemption.blockSignals(True)
        self.exemption.clear()
        for exemption in fee.exemptions:
            self.exemption.addItem(exemption.reason, exemption.code)
        self.exemption.set_value(current if fee.exemption(current or "") else (
            fee.exemptions[0].code if fee.exemptions else None))
        self.exemption.blockSignals(False)
        self.frei.setVisible(bool(fee.exemptions))
        if self.frei.isChecked() and not fee.exemptions:
            self.bar.setChecked(True)
        self._on_method()

    def ask_float(self, offer: int | None) -> None:
        """The day's float is not recorded yet: ask it with the cash payment, `offer`
        filled in (None: it is recorded, ask nothing)."""
        self.float_offer = offer
        if offer is not None:
            self.float_edit.setText(amount_text(offer))
            self.float_box.mark_clean()
            self.float_box.run_checks()   # shows its hint: what the float is for
        self._on_method()

    def set_day_closed(self, closed: bool) -> None:
        """The workstation's day is closed: offer no payment (see `closed_label`)."""
        self.day_closed = closed
        self._on_method()

    def _on_method(self, *_args: object) -> None:
        method = self.method
        free = self.is_free
        paying = not free and not self.day_closed
        self.method_box.setVisible(paying)
        self.given_box.setVisible(paying and method == BAR)
        self.change_label.setVisible(paying and method == BAR)
        self.card_label.setVisible(paying and method == KARTE)
        self.terminal_box.setVisible(paying and method == KARTE)
        self.exemption_box.setVisible(paying and method == FREI)
        self.float_box.setVisible(self.asks_float)
        self.free_label.setVisible(free)
        self.closed_label.setVisible(not free and self.day_closed)
        checked = self.methods.checkedButton()
        if checked is not None:
            self.methods_widget.setFocusProxy(checked)
        if method == FREI:
            self.exemption_box.run_checks()
        else:
            self.exemption_box.set_error("")
        self.method_box.set_error("")
        self._update_change()
        self.layout_changed.emit()
        self.changed.emit()

    @property
    def asks_float(self) -> bool:
        """The day's float goes with this payment (a cash payment, the first of the day)."""
        return (self.float_offer is not None and not self.is_free and not self.day_closed
                and self.method == BAR)

    def given_cents(self) -> int | None:
        """What "Gegeben" says, in cents; None if it is not an amount."""
        return self.given.cents()

    def _update_change(self, *_args: object) -> None:
        given = self.given_cents()
        fee = self._fee.cents
        if not self.given.text().strip():
            text, colour = tr("Rückgeld: – (Betrag eingeben)"), ERROR_RED
        elif given is None:
            text, colour = tr("⚠ kein gültiger Betrag"), ERROR_RED
        elif given < fee:
            text, colour = tr("⚠ Es fehlen {amount}").format(
                amount=format_cents(fee - given)), ERROR_RED
        else:
            text, colour = tr("Rückgeld: {amount}").format(
                amount=format_cents(given - fee)), OK_GREEN
        self.change_label.setText(text)
        self.change_label.setAccessibleDescription(text)
        self.change_label.setStyleSheet(f"color: {colour};")
        if self.given_box.error and given is not None and given >= fee:
            self.given_box.set_error("")
        self.changed.emit()

    def _exemption_hint(self) -> str:
        exemption = self._fee.exemption(self.exemption.value() or "")
        if exemption is None:
            return ""
        return tr("Rechtsgrundlage: {basis}").format(basis=exemption.legal_basis)

    # For the dialog

    def input_chain(self) -> list[QWidget]:
        """The payment's stops for Tab/Enter, in order: the chosen method, then its field."""
        if self.is_free:
            return []
        checked = self.methods.checkedButton()
        chain: list[QWidget] = [checked] if checked is not None else []
        if self.asks_float:
            chain.append(self.float_edit)
        if self.method == BAR:
            chain.append(self.given)
        elif self.method == KARTE:
            chain.append(self.terminal)
        elif self.method == FREI:
            chain.append(self.exemption)
        return chain

    def local_errors(self) -> dict[str, str]:
        """What can be said before asking the register (an amount that is no amount)."""
        if self.is_free or self.method != BAR:
            return {}
        problems = {"payment.given": self.given.problem(),
                    "payment.float_cents": self.float_edit.problem() if self.asks_float
                    else None}
        return {path: problem for path, problem in problems.items() if problem}

    def form(self) -> dict[str, Any]:
        """The `payment` entry of the service form (see `cashbook.prepare_payment`)."""
        if self.is_free:
            return {}
        if self.method == FREI:
            return {"exemption": self.exemption.value()}
        if self.method == KARTE:
            return {"method": KARTE, "terminal_receipt": self.terminal.text().strip() or None}
        cash: dict[str, Any] = {"method": BAR, "given_cents": self.given_cents()}
        if self.asks_float:
            cash["float_cents"] = self.float_edit.cents()
        return cash
