"""Printing a walk-in ticket where this counter has one: the receipt printer, else the
ordinary one, else a PDF opened on screen.

The ticket printer is a fact of the machine like the document printer: `ticket_printer` in
the printer group of `arbeitsplatz.ini` (`ui.printing.PrinterSettings`), set by IT; when it is
empty or no longer installed, the workstation's remembered document printer prints the A4
form. A printer whose paper is at most 90 mm wide gets the 80 mm roll's page (`is_roll`), so
the driver cuts after each ticket. Where there is no printer at all (a laptop in a mobile
office before the printer is plugged in) the ticket is written as a PDF to the private
print folder and opened, as documents are; it carries no personal data, but one folder for
everything printed keeps the clean-up in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSettings
from PySide6.QtGui import QPdfWriter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from clerk_app.config import Config
from ui.i18n import tr
from ui.print_job import send_jobs
from ui.printing import (
    PrinterSettings,
    open_with_desktop,
    private_folder,
    system_printer,
    write_private_pdf,
)
from ui.queue.ticket import TicketText, is_roll, paint_ticket, roll_page_layout

log = logging.getLogger(__name__)

TICKET_PRINTER_KEY = "ticket_printer"
PDF_DPI = 300


def ticket_pdf(ticket: TicketText, *, roll: bool = False) -> bytes:
    """The ticket as a PDF (A4, or the roll's page)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(PDF_DPI)
    writer.setTitle(tr("Wartemarke {number}").format(number=ticket.number))
    if roll:
        writer.setPageLayout(roll_page_layout())
    paint_ticket(ticket, writer)
    del writer   # finishes the file
    buffer.close()
    return bytes(data.data())


class TicketPrinter:
    """`print(ticket)` -> the clerk's line saying where the ticket went."""

    def __init__(self, cfg: Config, *,
                 opener: Callable[[Path], bool] = open_with_desktop) -> None:
        self.cfg = cfg
        self.settings = PrinterSettings(cfg)
        self.opener = opener

    def ticket_printer_name(self) -> str:
        s = QSettings(str(self.settings.path), QSettings.Format.IniFormat)
        return str(s.value(f"{self.settings.group}/{TICKET_PRINTER_KEY}", "") or "")

    def printer(self) -> QPrinter | None:
        """The ticket printer if installed, else the document printer, else None."""
        name = self.ticket_printer_name()
        info = next((i for i in QPrinterInfo.availablePrinters() if i.printerName() == name),
                    None) if name else None
        printer: QPrinter | None
        if info is not None:
            printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        else:
            if name:
                log.warning("the configured ticket printer is not installed; using the "
                            "document printer")
            printer = system_printer(self.settings.load())
        if printer is not None and is_roll(printer):
            printer.setPageLayout(roll_page_layout())
        return printer

    def print(self, ticket: TicketText) -> str:
        printer = self.printer()
        if printer is None:
            return self._save_and_open(ticket)
        name = tr("Wartemarke {number}").format(number=ticket.number)
        try:
            outcome = send_jobs(printer, [(name, lambda device: paint_ticket(ticket, device))])
        except OSError as exc:
            log.error("ticket printing failed: %s", exc)
            return tr("Die Wartemarke {number} wurde nicht gedruckt: Der Drucker hat den "
                      "Druck abgelehnt. Bitte die Nummer ansagen oder aufschreiben.").format(
                          number=ticket.number)
        return outcome.message()

    def _save_and_open(self, ticket: TicketText) -> str:
        try:
            path = write_private_pdf(private_folder(self.cfg),
                                     f"wartemarke-{ticket.number}", ticket_pdf(ticket))
        except OSError as exc:
            log.error("ticket PDF not written: %s", exc)
            return tr("Kein Drucker eingerichtet und die Wartemarke konnte nicht gespeichert "
                      "werden. Bitte die Nummer {number} ansagen oder aufschreiben.").format(
                          number=ticket.number)
        if not self.opener(path):
            log.warning("the desktop could not open the ticket PDF")
        return tr("Kein Drucker eingerichtet: Wartemarke {number} als PDF geöffnet.").format(
            number=ticket.number)
