"""The cash desk (F9 Kasse): today's cash journal of this workstation, the day's starting
float, Storno, Tagesabschluss.

One screen: the journal on top (every receipt of the day; reversals with their reason, card
payments with the terminal's receipt number), the totals per payment type and per service
with the expected cash (Bargeld Soll = Wechselgeld + cash taken − cash refunded), the day's
starting float (Wechselgeld: entered here if the first cash payment did not bring it), then
two parts side by side: Storno (receipt number and reason) and Tagesabschluss (counted cash,
the difference shown live). All are services of the core (`wechselgeld`, `storno`,
`tagesabschluss`) run through the DB worker, each with a command id minted when its form
opens, so Enter twice never books twice.
The daily closing is final, so it asks once more before it is booked.

Keys: ↑/↓ choose a receipt in the journal, Enter takes its number into the Storno form and
moves on to the reason; Enter in the reason books the Storno; Enter in the counted cash asks
to book the closing; Esc closes the dialog, back to the search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clerk_app.cashbook import (
    METHODS,
    ClosingTotals,
    JournalEntry,
    closing_preview,
    day_float,
    is_closed,
    journal_for_day,
)
from clerk_app.errors import ConfigError
from clerk_app.fees import fee_for, fee_schedule, format_cents
from clerk_app.ids import uuid7
from clerk_app.services.base import ServiceResult
from clerk_app.store.db import Store
from ui.cash_confirmation import ask_difference
from ui.db_worker import DbWorker
from ui.enter_key import EnterKeyFilter
from ui.fields import AmountEdit, ErrorLabel, FieldBox, Form, limit_length
from ui.formatting import fmt_date
from ui.i18n import message_text, tr, tr_label
from ui.operation import Op, ServiceOp
from ui.printing import PrintBar, PrintService
from ui.status import demo_badge
from ui.style import DIALOG_CSS, ERROR_RED, MUTED, OK_GREEN

COLUMNS = 8   # Zeit, Quittung, Dienstleistung, Zahlungsart, Betrag, Gegeben, Rückgeld, Hinweis


@dataclass(frozen=True)
class CashDay:
    """What the dialog shows for one workstation and day, read in one worker call."""

    workstation: str
    day: date
    entries: tuple[JournalEntry, ...]
    totals: ClosingTotals
    closed: bool
    service_names: dict[str, str]
    exemption_reasons: dict[str, str]
    float_recorded: bool   # the day's starting float is booked (`totals.float_cents`)

    @property
    def recorded_float_or_closed(self) -> bool:
        """Nothing to ask about the float: it is booked, or the day is closed."""
        return self.float_recorded or self.closed


def load_cash_day(store: Store, day: date) -> CashDay:
    """In the worker: journal, totals and closing state of this workstation's `day`."""
    workstation = store.actor.workstation
    entries = tuple(journal_for_day(store, workstation, day))
    names: dict[str, str] = {}
    for code in {e.service for e in entries}:
        try:
            names[code] = fee_for(code).name
        except ConfigError:   # a service since removed from the schedule: its code says it
            names[code] = code
    reasons = {code: e.reason for code, e in fee_schedule().exemptions.items()}
    return CashDay(workstation, day, entries, closing_preview(store, workstation, day),
                   is_closed(store, workstation, day), names, reasons,
                   day_float(store, workstation, day) is not None)


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


class CashDeskDialog(QDialog):
    """Kasse: journal of today, Storno, Tagesabschluss (see the module docstring)."""

    completed = Signal(object)   # a ServiceResult (Storno or Tagesabschluss)

    def __init__(self, db: DbWorker, parent: QWidget | None = None, *,
                 demo: bool = False, today: date | None = None,
                 printing: PrintService | None = None, may_reopen: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("cashDesk")
        title = tr("Kasse")
        if demo:
            title += " – " + tr("DEMO")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setStyleSheet(DIALOG_CSS)
        self.db = db
        self.printing = printing   # F5/Strg+P for a booked Storno or closing (None: none)
        self.day = today or date.today()
        self.cash_day: CashDay | None = None
        self.storno_command_id = uuid7()
        self.closing_command_id = uuid7()
        self.float_command_id = uuid7()
        self.results: list[ServiceResult] = []
        self._busy = False
        # Asked before the final closing; tests replace it.
        self.confirm_closing: Callable[[str], bool] = self._ask_closing
        # Asked for a cash difference (reason, Teamleitung's login and password); tests too.
        self.confirm_difference: Callable[[int], dict[str, str] | None] = \
            lambda cents: ask_difference(cents, self)
        # Teamleitung only: the reason for reopening a closed day (None = cancelled).
        self.may_reopen = may_reopen
        self.ask_reopen_reason: Callable[[], str | None] = self._ask_reopen_reason
        self.reopen_command_id = uuid7()

        self.heading = _bold(QLabel(tr("Kasse · Geschäftstag {day}").format(
            day=fmt_date(self.day))), 1.4)
        self.state_label = QLabel(tr("Kassenbuch wird geladen …"))
        self.state_label.setObjectName("cashState")
        self.state_label.setWordWrap(True)
        self.banner = ErrorLabel()
        self.banner.setObjectName("cashBanner")
        self.banner.setAccessibleName(tr("Hinweis zur Kasse"))
        self.feedback = QLabel()
        self.feedback.setObjectName("cashFeedback")
        self.feedback.setWordWrap(True)
        self.feedback.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.feedback.setStyleSheet(f"color: {OK_GREEN}; font-weight: bold;")
        self.feedback.setAccessibleName(tr("Ergebnis"))

        self.journal = QTableWidget(0, COLUMNS)
        self.journal.setObjectName("cashJournal")
        self.journal.setAccessibleName(tr("Kassenbuch des Tages"))
        self.journal.setAccessibleDescription(tr(
            "Quittungen des Tages; Enter übernimmt die gewählte Quittung in den Storno."))
        self.journal.setHorizontalHeaderLabels([
            tr("Zeit"), tr("Quittung"), tr("Dienstleistung"), tr("Zahlungsart"), tr("Betrag"),
            tr("Gegeben"), tr("Rückgeld"), tr("Hinweis")])
        self.journal.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.journal.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.journal.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.journal.setTabKeyNavigation(False)
        self.journal.setAlternatingRowColors(True)
        self.journal.setWordWrap(False)
        self.journal.verticalHeader().setVisible(False)
        header = self.journal.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS - 1, QHeaderView.ResizeMode.Stretch)
        # Enter in the journal takes the chosen receipt into the Storno form.
        EnterKeyFilter(self.journal, self.take_selected_receipt)
        self.journal.doubleClicked.connect(lambda _i: self.take_selected_receipt())

        self.totals_label = QLabel()
        self.totals_label.setObjectName("cashTotals")
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        self.totals_label.setAccessibleName(tr("Summen des Tages"))
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.storno_form = Form(self)
        self.closing_form = Form(self)
        self.float_form = Form(self)
        float_row = self._build_float()
        storno = self._build_storno()
        closing = self._build_closing()
        parts = QHBoxLayout()
        parts.setSpacing(12)
        parts.addWidget(storno, 1)
        parts.addWidget(closing, 1)

        self.close_button = QPushButton(tr("Schließen (Esc)"))
        self.close_button.setObjectName("cashClose")
        self.close_button.setAccessibleName(tr("Schließen"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.feedback, 1)
        buttons.addWidget(self.close_button)
        self._buttons = buttons
        self.print_bar: PrintBar | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(8)
        heading_row = QHBoxLayout()
        heading_row.addWidget(self.heading, 1)
        if demo:
            heading_row.addWidget(demo_badge(), 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(heading_row)
        outer.addWidget(self.state_label)
        outer.addWidget(self.banner)
        outer.addWidget(self.journal, 1)
        outer.addWidget(self.totals_label)
        outer.addWidget(float_row)
        outer.addLayout(parts)
        outer.addLayout(buttons)

        for first, second in ((self.journal, self.float_edit),
                              (self.float_edit, self.float_button),
                              (self.float_button, self.receipt), (self.receipt, self.reason),
                              (self.reason, self.storno_button),
                              (self.storno_button, self.counted),
                              (self.counted, self.closing_button),
                              (self.closing_button, self.close_button)):
            QWidget.setTabOrder(first, second)
        self.resize(980, 720)
        self.journal.setFocus()
        self.reload()

    # Building

    def _build_float(self) -> QWidget:
        """The day's starting float: a field and its button until it is booked, then the
        amount (it is booked once a day)."""
        row = QWidget()
        row.setObjectName("floatRow")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.float_edit = AmountEdit(tr("150 oder 150,00"), "00000,00")
        self.float_edit.setObjectName("cashFloat")
        self.float_edit.setPlaceholderText(tr("z. B. 150,00"))
        self.float_box = self.float_form.add(FieldBox(
            "float_cents", tr("&Wechselgeld zu Tagesbeginn (€)"), self.float_edit,
            required=True, checks=[self._float_missing]))
        self.float_button = QPushButton(tr("Wechselgeld &erfassen (Enter)"))
        self.float_button.setObjectName("floatButton")
        self.float_button.setAccessibleName(tr("Wechselgeld erfassen"))
        self.float_button.setAutoDefault(False)
        self.float_button.clicked.connect(self.book_float)
        self.float_edit.returnPressed.connect(self.book_float)
        self.float_label = QLabel()
        self.float_label.setObjectName("floatBooked")
        layout.addWidget(self.float_box)
        layout.addWidget(self.float_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(self.float_label, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addStretch(1)
        return row

    def _build_storno(self) -> QGroupBox:
        box = QGroupBox(tr("Storno"))
        box.setAccessibleName(tr("Storno"))
        grid = QGridLayout(box)
        grid.setContentsMargins(10, 8, 10, 8)
        self.receipt = QLineEdit()
        self.receipt.setObjectName("stornoReceipt")
        limit_length(self.receipt, 60)
        self.receipt.setPlaceholderText(tr("Q-…, oder im Kassenbuch wählen und Enter"))
        self.receipt_box = self.storno_form.add(FieldBox(
            "receipt_number", tr("&Quittungsnummer"), self.receipt, required=True))
        self.reason = QLineEdit()
        self.reason.setObjectName("stornoReason")
        limit_length(self.reason, 200)
        self.reason.setPlaceholderText(tr("z. B. falsche Dienstleistung gewählt"))
        self.reason_box = self.storno_form.add(FieldBox(
            "reason", tr("&Grund der Stornierung"), self.reason, required=True))
        self.storno_button = QPushButton(tr("Storno &buchen (Enter im Grund)"))
        self.storno_button.setObjectName("stornoButton")
        self.storno_button.setAccessibleName(tr("Storno buchen"))
        self.storno_button.setAutoDefault(False)
        self.storno_button.clicked.connect(self.book_storno)
        self.reason.returnPressed.connect(self.book_storno)
        self.receipt.returnPressed.connect(lambda: self.reason.setFocus())
        grid.addWidget(self.receipt_box, 0, 0)
        grid.addWidget(self.reason_box, 1, 0)
        grid.addWidget(self.storno_button, 2, 0, Qt.AlignmentFlag.AlignRight)
        grid.setRowStretch(3, 1)
        return box

    def _build_closing(self) -> QGroupBox:
        box = QGroupBox(tr("Tagesabschluss"))
        box.setAccessibleName(tr("Tagesabschluss"))
        grid = QGridLayout(box)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(12)
        grid.addWidget(QLabel(tr("Bargeld Soll:")), 0, 0)
        self.expected_label = _bold(QLabel("—"), 1.15)
        self.expected_label.setObjectName("expectedCash")
        grid.addWidget(self.expected_label, 0, 1)
        self.counted = AmountEdit(tr("154,50"), "")
        self.counted.setObjectName("countedCash")
        self.counted.setPlaceholderText(tr("z. B. 154,50"))
        self.counted_box = self.closing_form.add(FieldBox(
            "counted_cash_cents", tr("Ge&zählter Bargeldbestand (€)"), self.counted,
            required=True), "business_day")
        grid.addWidget(self.counted_box, 1, 0, 1, 2)
        self.difference_label = _bold(QLabel(), 1.15)
        self.difference_label.setObjectName("cashDifference")
        grid.addWidget(self.difference_label, 2, 0, 1, 2)
        note = QLabel(tr("Der Tagesabschluss ist endgültig: danach sind an diesem "
                         "Arbeitsplatz für heute keine Buchungen mehr möglich."))
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {MUTED};")
        grid.addWidget(note, 3, 0, 1, 2)
        self.closing_button = QPushButton(tr("&Tagesabschluss buchen …"))
        self.closing_button.setObjectName("closingButton")
        self.closing_button.setAccessibleName(tr("Tagesabschluss buchen"))
        self.closing_button.setAutoDefault(False)
        self.closing_button.clicked.connect(self.book_closing)
        self.counted.returnPressed.connect(self.book_closing)
        self.counted.textChanged.connect(self._update_difference)
        grid.addWidget(self.closing_button, 4, 0, 1, 2, Qt.AlignmentFlag.AlignRight)
        self.reopen_button = QPushButton(tr("Tag &wieder öffnen (Teamleitung) …"))
        self.reopen_button.setObjectName("reopenButton")
        self.reopen_button.setAutoDefault(False)
        self.reopen_button.clicked.connect(self.reopen_day)
        self.reopen_button.hide()
        grid.addWidget(self.reopen_button, 5, 0, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)
        return box

    def _ask_reopen_reason(self) -> str | None:
        text, ok = QInputDialog.getText(self, tr("Tag wieder öffnen"),
                                        tr("Grund für das Wiederöffnen (wird protokolliert):"))
        return text if ok else None

    def reopen_day(self) -> None:
        """Teamleitung reopens the closed day (the core checks the role and the reason)."""
        if self._busy or self.cash_day is None or not self.cash_day.closed:
            return
        reason = self.ask_reopen_reason()
        if reason is None:
            return
        form = {"reason": reason, "business_day": self.cash_day.day.isoformat()}
        ServiceOp(self, "tagesabschluss_aufheben", form, self.reopen_command_id).success(
            self._on_reopened).form_errors(self._on_reopen_errors).failure(
                self._on_failed).with_progress(self._set_busy).run(self.db)

    def _on_reopened(self, result: ServiceResult) -> None:
        self.reopen_command_id = uuid7()
        self.closing_command_id = uuid7()   # the day is closed anew by a new command
        self.results.append(result)
        self.completed.emit(result)
        self.feedback.setText(" ".join(result.notices))
        self.reload()

    def _on_reopen_errors(self, errors: dict[str, str]) -> None:
        self.banner.show_message(" ".join(errors.values()))

    # Loading

    def reload(self) -> None:
        day = self.day
        Op(self, lambda store: load_cash_day(store, day), self._on_loaded,
           what="cash journal").failure(self._on_failed).run(self.db)

    def _on_loaded(self, cash_day: CashDay) -> None:
        self.cash_day = cash_day
        self.heading.setText(tr("Kasse {workstation} · Geschäftstag {day}").format(
            workstation=cash_day.workstation, day=fmt_date(cash_day.day)))
        if cash_day.closed:
            state = tr("✔ Tagesabschluss erfolgt – für heute sind keine Buchungen mehr "
                       "möglich.")
        else:
            state = tr("Tagesabschluss noch offen · {n} Buchungen, {r} Stornierungen").format(
                n=cash_day.totals.entries, r=cash_day.totals.reversals)
        self.state_label.setText(state)
        self.state_label.setAccessibleDescription(state)
        self._fill_journal(cash_day)
        self.totals_label.setText(self._totals_html(cash_day))
        self.expected_label.setText(format_cents(cash_day.totals.expected_cash_cents))
        self.expected_label.setAccessibleName(tr("Bargeld Soll: {amount}").format(
            amount=self.expected_label.text()))
        open_ = not cash_day.closed
        for widget in (self.receipt, self.reason, self.storno_button, self.counted,
                       self.closing_button):
            widget.setEnabled(open_ and not self._busy)
        self.reopen_button.setVisible(cash_day.closed and self.may_reopen)
        self._show_float(cash_day)
        self._update_difference()

    def _show_float(self, cash_day: CashDay) -> None:
        asking = not cash_day.recorded_float_or_closed
        for widget in (self.float_box, self.float_button):
            widget.setVisible(asking)
        self.float_edit.setEnabled(asking and not self._busy)
        self.float_label.setVisible(not asking)
        amount = format_cents(cash_day.totals.float_cents)
        self.float_label.setText(tr("Wechselgeld zu Tagesbeginn: {amount}").format(
            amount=amount) if cash_day.float_recorded else tr("Kein Wechselgeld erfasst."))
        self.float_label.setAccessibleName(self.float_label.text())
        if asking and not cash_day.entries:
            self.float_edit.setFocus()   # the day's first cash action: the float

    def _float_missing(self) -> str | None:
        if not self.float_edit.text().strip():
            return tr("Bitte das Wechselgeld als Betrag eingeben, z. B. 150 oder 150,00.")
        return None

    def book_float(self) -> None:
        if self._busy or self.cash_day is None or self.cash_day.recorded_float_or_closed:
            return
        cents = self.float_edit.cents()
        if self.float_box.run_checks() or cents is None:
            self.float_edit.setFocus()
            return
        ServiceOp(self, "wechselgeld", {"float_cents": cents}, self.float_command_id).success(
            self._on_float_done).form_errors(
                lambda errors: self._show_errors(self.float_form, errors)).failure(
                    self._on_failed).with_progress(self._set_busy).run(self.db)

    def _on_float_done(self, result: ServiceResult) -> None:
        self.results.append(result)
        self.float_command_id = uuid7()
        self._say(" ".join(result.notices))
        self.float_form.mark_clean()
        self.completed.emit(result)
        self.reload()
        self.journal.setFocus()

    def _fill_journal(self, cash_day: CashDay) -> None:
        reversed_ids = {e.reverses for e in cash_day.entries if e.reverses is not None}
        self.journal.setRowCount(len(cash_day.entries))
        for row, entry in enumerate(cash_day.entries):
            notes = []
            if entry.is_reversal:
                notes.append(tr("Storno: {reason}").format(reason=entry.reason)
                             if entry.reason else tr("Storno"))
            elif entry.id in reversed_ids:
                notes.append(tr("storniert"))
            if entry.exemption and not entry.is_reversal:
                notes.append(cash_day.exemption_reasons.get(entry.exemption, entry.exemption))
            if entry.terminal_receipt:
                notes.append(tr("Terminal-Beleg {number}").format(
                    number=entry.terminal_receipt))
            note = " · ".join(notes)
            values = (entry.at[11:16], entry.receipt_number,
                      tr_label(cash_day.service_names.get(entry.service, entry.service)),
                      tr_label(METHODS.get(entry.method, entry.method)),
                      format_cents(entry.amount_cents),
                      format_cents(entry.given_cents) if entry.given_cents is not None else "",
                      format_cents(entry.change_cents) if entry.change_cents is not None
                      else "", note)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if column in (4, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.journal.setItem(row, column, item)
        if cash_day.entries:
            self.journal.selectRow(len(cash_day.entries) - 1)

    def _totals_html(self, cash_day: CashDay) -> str:
        totals = cash_day.totals

        def line(name: str, count: int, reversals: int, cents: int) -> str:
            extra = tr(" (davon {n} storniert)").format(n=reversals) if reversals else ""
            return (f"<tr><td style='padding-right:14px'>{name}</td>"
                    f"<td align='right' style='padding-right:14px'>{count} ×{extra}</td>"
                    f"<td align='right'>{format_cents(cents)}</td></tr>")

        by_method = "".join(line(tr_label(METHODS[m]), t.count, t.reversals, t.cents)
                            for m, t in totals.by_method.items())
        by_service = "".join(
            line(tr_label(cash_day.service_names.get(s, s)), t.count, t.reversals, t.cents)
            for s, t in totals.by_service.items()) or \
            f"<tr><td>{tr('noch keine Buchungen')}</td></tr>"
        return (
            "<table cellspacing='0'><tr>"
            f"<td valign='top' style='padding-right:36px'><b>{tr('Nach Zahlungsart')}</b>"
            f"<table>{by_method}</table></td>"
            f"<td valign='top' style='padding-right:36px'><b>{tr('Nach Dienstleistung')}</b>"
            f"<table>{by_service}</table></td>"
            f"<td valign='top'><b>{tr('Summe')}</b><br>{format_cents(totals.total_cents)}"
            f"<br><br><b>{tr('Bargeld Soll')}</b><br>"
            f"{format_cents(totals.expected_cash_cents)}<br>"
            f"<span style='color:{MUTED}'>"
            + tr("Wechselgeld {amount} + Bareinnahmen − Barerstattungen").format(
                amount=format_cents(totals.float_cents)) + "</span></td>"
            "</tr></table>")

    def _on_failed(self, message_de: str, message_en: str) -> None:
        self._set_busy(False)
        self.banner.show_message(message_text(message_de, message_en))

    # Storno

    def take_selected_receipt(self) -> None:
        """Enter in the journal: that receipt into the Storno form, cursor to the reason."""
        rows = self.journal.selectionModel().selectedRows()
        if not rows:
            return
        item = self.journal.item(rows[0].row(), 1)
        if item is not None and self.receipt.isEnabled():
            self.receipt.setText(item.text())
            self.receipt_box.set_error("")
            self.reason.setFocus()

    def book_storno(self) -> None:
        if self._busy or self.cash_day is None or self.cash_day.closed:
            return
        form = {"receipt_number": self.receipt.text(), "reason": self.reason.text()}
        self.storno_form.clear_errors()
        self.banner.show_message("")
        ServiceOp(self, "storno", form, self.storno_command_id).success(
            self._on_storno_done).form_errors(self._on_storno_errors).failure(
                self._on_failed).with_progress(self._set_busy).run(self.db)

    def _on_storno_errors(self, errors: dict[str, str]) -> None:
        self._show_errors(self.storno_form, errors)

    def _on_storno_done(self, result: ServiceResult) -> None:
        self.results.append(result)
        self.storno_command_id = uuid7()   # the next Storno is a new command
        receipt = result.receipt
        document = next((d for d in result.documents if d.type == "storno"), None)
        refund = format_cents(-receipt.amount_cents) if receipt is not None else ""
        text = tr("✔ Storno gebucht: Quittung {receipt} storniert, Stornobeleg {number}. "
                  "Zu erstatten: {amount}.").format(
                      receipt=receipt.number if receipt else "",
                      number=document.number if document else "", amount=refund)
        if receipt is not None and receipt.method != "bar":
            text = tr("✔ Storno gebucht: Quittung {receipt} storniert, Stornobeleg {number} "
                      "({method}, nichts bar zu erstatten).").format(
                          receipt=receipt.number, number=document.number if document else "",
                          method=tr_label(METHODS.get(receipt.method, receipt.method)))
        self._say(text)
        self._offer_print(result)
        self.receipt.clear()
        self.reason.clear()
        self.storno_form.mark_clean()
        self.completed.emit(result)
        self.reload()
        self.journal.setFocus()

    # Tagesabschluss

    def counted_cents(self) -> int | None:
        return self.counted.cents()

    def _update_difference(self, *_args: object) -> None:
        counted = self.counted_cents()
        if self.cash_day is None or counted is None:
            self.difference_label.setText(tr("Differenz: – (gezählten Bestand eingeben)"))
            self.difference_label.setStyleSheet(f"color: {MUTED};")
            return
        difference = counted - self.cash_day.totals.expected_cash_cents
        if difference == 0:
            text, colour = tr("Differenz: 0,00 € – Kasse stimmt"), OK_GREEN
        elif difference > 0:
            text, colour = tr("⚠ Differenz: +{amount} (Überschuss)").format(
                amount=format_cents(difference)), ERROR_RED
        else:
            text, colour = tr("⚠ Differenz: −{amount} (Fehlbetrag)").format(
                amount=format_cents(-difference)), ERROR_RED
        self.difference_label.setText(text)
        self.difference_label.setAccessibleName(text)
        self.difference_label.setStyleSheet(f"color: {colour};")

    def book_closing(self) -> None:
        if self._busy or self.cash_day is None or self.cash_day.closed:
            return
        self.closing_form.clear_errors()
        self.banner.show_message("")
        counted = self.counted_cents()
        if counted is None:
            problem = self.counted.problem() or tr(
                "Bitte den gezählten Bargeldbestand eingeben.")
            self._show_errors(self.closing_form, {"counted_cash_cents": problem})
            return
        expected = self.cash_day.totals.expected_cash_cents
        question = tr("Tagesabschluss für den {day} jetzt buchen?\n\nBargeld Soll: {expected}\n"
                      "Gezählt: {counted}\nDifferenz: {difference}\n\nDanach sind an diesem "
                      "Arbeitsplatz für heute keine Buchungen mehr möglich.").format(
                          day=fmt_date(self.cash_day.day), expected=format_cents(expected),
                          counted=format_cents(counted),
                          difference=format_cents(counted - expected))
        if not self.confirm_closing(question):
            self.counted.setFocus()
            return
        form: dict[str, Any] = {"counted_cash_cents": counted,
                                "business_day": self.cash_day.day.isoformat()}
        if counted != expected:
            confirmation = self.confirm_difference(counted - expected)
            if confirmation is None:
                self.counted.setFocus()
                return
            form.update(confirmation)
        ServiceOp(self, "tagesabschluss", form, self.closing_command_id).success(
            self._on_closing_done).form_errors(self._on_closing_errors).failure(
                self._on_failed).with_progress(self._set_busy).run(self.db)

    def _ask_closing(self, question: str) -> bool:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(tr("Tagesabschluss buchen?"))
        box.setText(question)
        book = box.addButton(tr("Tagesabschluss buchen"), QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(tr("Noch nicht"), QMessageBox.ButtonRole.RejectRole)
        book.setAccessibleName(tr("Tagesabschluss buchen"))
        keep.setAccessibleName(tr("Noch nicht"))
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is book

    def _on_closing_errors(self, errors: dict[str, str]) -> None:
        self._show_errors(self.closing_form, errors)

    def _on_closing_done(self, result: ServiceResult) -> None:
        self.results.append(result)
        document = next((d for d in result.documents if d.type == "tagesabschluss"), None)
        text = tr("✔ Tagesabschluss gebucht (Beleg {number}, im Melderegister gespeichert "
                  "und als PDF archiviert; F5 druckt ihn).").format(
                      number=document.number if document else "")
        if result.notices:
            text += " " + " ".join(result.notices)
        self._say(text)
        self._offer_print(result)
        self.closing_form.mark_clean()
        self.completed.emit(result)
        self.reload()
        self.close_button.setFocus()

    # Common

    def _offer_print(self, result: ServiceResult) -> None:
        """F5/Strg+P for the documents just booked (Stornobeleg or Tagesabschluss)."""
        numbers = [d.number for d in result.documents]
        if self.print_bar is None:
            if self.printing is None:
                return
            self.print_bar = PrintBar(self.printing, numbers)
            self._buttons.insertWidget(1, self.print_bar)
        else:
            self.print_bar.set_numbers(numbers)

    def _show_errors(self, form: Form, errors: dict[str, str]) -> None:
        unplaced = form.show_errors(errors)
        if unplaced:
            self.banner.show_message(" ".join(dict.fromkeys(unplaced.values())))
        form.focus_first_error()

    def _say(self, text: str) -> None:
        self.feedback.setText(text)
        self.feedback.setAccessibleDescription(text)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        closed = self.cash_day is not None and self.cash_day.closed
        for widget in (self.storno_button, self.closing_button, self.float_button):
            widget.setEnabled(not busy and not closed)

    def reject(self) -> None:
        if self._busy:
            return   # a booking is running: it finishes first
        super().reject()
