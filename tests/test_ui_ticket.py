"""The walk-in ticket on paper: the 80 mm roll's page and the A4 form say the same (number,
services, time, how many wait, the call-display hint, no name), and a workstation without a
printer opens the ticket as a PDF from its private print folder. Pages are rendered to PNG
(pdftoppm) for a look when CLERK_UI_SHOTS is set."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinterInfo
from pytestqt.qtbot import QtBot

from tests.factories import make_cfg
from tests.ui_support import SHOTS
from ui.queue.ticket import TicketText
from ui.queue.ticket_printing import TicketPrinter, ticket_pdf

pytestmark = pytest.mark.usefixtures("german")

TICKET = TicketText("Stadt Lörrach – Bürgerbüro", "Bürgerbüro Hauptstelle", "W 017",
                    ("Meldebescheinigung", "Antrag auf eine Personenstandsurkunde"),
                    datetime(2026, 12, 3, 10, 5), waiting_before=4, priority="Vorrang")
MM = 72 / 25.4


def page_text_and_size(pdf: bytes) -> tuple[str, float, float]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return (" ".join(page.extract_text().split()), float(page.mediabox.width) / MM,
            float(page.mediabox.height) / MM)


@pytest.mark.parametrize(("roll", "width_mm"), [(True, 80.0), (False, 210.0)])
def test_ticket_says_number_services_time_and_waiting(qtbot: QtBot, tmp_path: Path,
                                                      roll: bool, width_mm: float) -> None:
    pdf = ticket_pdf(TICKET, roll=roll)
    text, width, _height = page_text_and_size(pdf)
    assert width == pytest.approx(width_mm, abs=0.5)
    for words in ("W 017", "Meldebescheinigung", "Antrag auf eine Personenstandsurkunde",
                  "03.12.2026 um 10:05 Uhr", "Vor Ihnen warten: 4", "Vorrang",
                  "Aufgerufen wird Ihre Nummer, nicht Ihr Name."):
        assert words in text, words
    if SHOTS and shutil.which("pdftoppm"):
        source = tmp_path / "ticket.pdf"
        source.write_bytes(pdf)
        name = "wartemarke-bon" if roll else "wartemarke-a4"
        subprocess.run(["pdftoppm", "-r", "120", "-png", "-singlefile", str(source),
                        str(Path(SHOTS) / f"screenshot-{name}")], check=True)


def test_without_a_printer_the_ticket_opens_as_a_private_pdf(qtbot: QtBot,
                                                             tmp_path: Path) -> None:
    if QPrinterInfo.availablePrinters():
        pytest.skip("this machine has printers; the no-printer path needs none")
    opened: list[Path] = []
    printer = TicketPrinter(make_cfg(tmp_path), opener=lambda p: opened.append(p) or True)
    said = printer.print(TICKET)
    assert "W 017" in said and "PDF" in said
    assert len(opened) == 1 and opened[0].parent.stat().st_mode & 0o077 == 0
    assert opened[0].stat().st_mode & 0o077 == 0
    assert "W 017" in page_text_and_size(opened[0].read_bytes())[0]
