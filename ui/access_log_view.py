"""The Datenschutz screen: who looked at the open person and why, printable for a citizen's
access request (Art. 15 GDPR, § 10 BMG).

Offered only to clerks whose roles grant `access_log.read` (the core refuses the read to
anyone else); the purpose of the look-up is asked first and logged with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
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

from clerk_app.access_report import (
    AccessReport,
    access_report,
    describe,
    local_time,
    report_html,
)
from ui.i18n import tr
from ui.operation import Op

if TYPE_CHECKING:
    from ui.main_window import MainWindow

def columns() -> list[str]:
    return [tr("Zeitpunkt"), tr("Sachbearbeitung"), tr("Arbeitsplatz"), tr("Vorgang"),
            tr("Zweck")]


class AccessLogDialog(QDialog):
    """Zugriffsprotokoll of one person."""

    def __init__(self, window: MainWindow, person_id: str, person_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.person_id = person_id
        self.report: AccessReport | None = None
        self.setObjectName("accessLogDialog")
        self.setWindowTitle(tr("Zugriffsprotokoll – {name}").format(name=person_name))
        self.setAccessibleName(tr("Zugriffsprotokoll"))
        self.resize(900, 520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.purpose = QLineEdit(tr("Auskunftsersuchen nach Art. 15 DSGVO"))
        self.purpose.setObjectName("accessPurpose")
        self.purpose.setAccessibleName(tr("Anlass der Einsicht"))
        form.addRow(tr("&Anlass:"), self.purpose)
        layout.addLayout(form)
        self.table = QTableWidget(0, len(columns()))
        self.table.setObjectName("accessEntries")
        self.table.setAccessibleName(tr("Zugriffe"))
        self.table.setHorizontalHeaderLabels(columns())
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table, 1)
        self.message = QLabel()
        self.message.setObjectName("accessMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.show_button = QPushButton(tr("&Anzeigen"))
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.load)
        self.print_button = QPushButton(tr("&Drucken (Strg+P)"))
        self.print_button.setEnabled(False)
        self.print_button.clicked.connect(self.print_dialog)
        close = QPushButton(tr("Schließen"))
        close.clicked.connect(self.reject)
        row.addWidget(self.show_button)
        row.addWidget(self.print_button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        shortcut = QShortcut(QKeySequence.StandardKey.Print, self)
        shortcut.activated.connect(self.print_dialog)
        self.purpose.setFocus()

    def load(self) -> None:
        purpose = self.purpose.text().strip()
        if not purpose:
            self.message.setText(tr("Bitte den Anlass der Einsicht angeben (er wird "
                                    "protokolliert)."))
            return
        person_id = self.person_id
        self.show_button.setEnabled(False)
        Op(self, lambda store: access_report(store, person_id, purpose), self._show,
           what="access log").failure(self._failed).run(self.window_.db)

    def _show(self, report: object) -> None:
        assert isinstance(report, AccessReport)
        self.report = report
        self.show_button.setEnabled(True)
        self.table.setRowCount(len(report.entries))
        for row, entry in enumerate(report.entries):
            values = (local_time(str(entry["at"])), entry["clerk"],
                      entry["workstation"], describe(entry["action"]), entry["purpose"])
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value or ""))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.message.setText(tr("{n} Einträge an diesem Arbeitsplatz.").format(
            n=len(report.entries)))
        self.print_button.setEnabled(True)

    def _failed(self, message_de: str, _message_en: str) -> None:
        self.show_button.setEnabled(True)
        self.message.setText(message_de)

    def print_to(self, printer: QPrinter) -> None:
        if self.report is None:
            return
        document = QTextDocument()
        document.setHtml(report_html(self.report, self.window_.cfg.office_name))
        document.print_(printer)

    def print_dialog(self) -> None:
        if self.report is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)
