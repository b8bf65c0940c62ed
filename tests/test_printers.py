"""Printing to a real print system: cupsd started by the test (tests/cups_server.py) with a PDF
queue, a queue with wide hardware margins and a queue that rejects jobs; F5 in the real window
with the real printer lookup (`system_printer`), as on a workstation.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.seal import payload_of
from clerk_app.store import opening
from tests.cups_server import CupsServer, cups_server
from tests.factories import add_person, make_cfg, text_of
from tests.test_ui_printing import issue_meldebescheinigung, open_printing_window
from tests.ui_support import close_window
from ui import printing
from ui.certificate_dialogs import CertificateDialog
from ui.main_window import MainWindow
from ui.print_queue import JobState, job_state, queue_state
from ui.printing import PrinterChoice, PrinterSettings

pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture
def register(tmp_path: Path) -> tuple[Config, dict[str, str]]:
    cfg = make_cfg(tmp_path / "data")
    with opening.open_register(cfg, create=True) as store:
        people = {"anna": add_person(store, "Müller", "Anna Maria", "1964-08-12")}
    return cfg, people


@pytest.fixture
def cups() -> Iterator[CupsServer]:
    with cups_server() as server:
        server.add_queue("PDF", default=True)
        server.add_queue("Laser-Weitrand", wide_margins=True)
        server.add_queue("Abgelehnt")
        server.run("cupsreject", "Abgelehnt")
        yield server


def window(qtbot: QtBot, cfg: Config, printer: str, duplex: int | None = None) -> MainWindow:
    """The main window printing through the system's printers, `printer` remembered."""
    PrinterSettings(cfg).save(PrinterChoice(printer, None, duplex))
    w, _opened = open_printing_window(qtbot, cfg, printing.system_printer)
    return w


def press_f5(qtbot: QtBot, dialog: CertificateDialog) -> str:
    bar = dialog.print_bar
    assert bar is not None
    bar.outcome.clear()
    dialog.activateWindow()  # back from a message box, as the window manager does
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    qtbot.keyClick(dialog, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: bar.outcome.text() not in ("", "Wird gedruckt …"), timeout=20_000)
    return bar.outcome.text()


def numbers(dialog: CertificateDialog) -> list[str]:
    result = dialog.service_result
    assert result is not None
    return [d.number for d in result.documents]


def certificate(dialog: CertificateDialog) -> str:
    result = dialog.service_result
    assert result is not None
    return next(d.number for d in result.documents if d.type != "quittung")


def test_f5_lands_jobs_named_by_document_number_with_name_and_number_in_the_text(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    cfg, people = register
    w = window(qtbot, cfg, "PDF")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    message = press_f5(qtbot, dialog)
    assert message == "2 Dokument(e) an PDF gesendet."
    assert cups.jobs() == [("PDF", number) for number in numbers(dialog)]
    number = certificate(dialog)
    text = text_of(cups.documents()[numbers(dialog).index(number)].read_bytes())
    assert "Müller" in text and "Anna Maria" in text and number in text
    close_window(w)


def test_a_rejecting_queue_is_reported_and_nothing_is_said_to_be_sent(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    cfg, people = register
    w = window(qtbot, cfg, "Abgelehnt")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    message = press_f5(qtbot, dialog)
    assert message.startswith("Nicht gedruckt:")
    assert "„Abgelehnt“ nimmt zurzeit keine Aufträge an" in message
    assert "F5 druckt erneut" in message and "gesendet" not in message
    assert cups.jobs() == []
    cups.run("cupsaccept", "Abgelehnt")  # IT fixed the printer: F5 prints them now
    assert press_f5(qtbot, dialog) == "2 Dokument(e) an Abgelehnt gesendet."
    assert [name for _queue, name in cups.jobs()] == numbers(dialog)
    close_window(w)


def test_a_stopped_queue_is_reported(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    cfg, people = register
    cups.run("cupsdisable", "PDF")
    w = window(qtbot, cfg, "PDF")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    message = press_f5(qtbot, dialog)
    assert "Nicht gedruckt" in message and "angehalten" in message
    assert cups.jobs() == []
    close_window(w)


def test_a_job_that_never_reached_the_queue_is_found_missing(cups: CupsServer,
                                                             qapp: QApplication) -> None:
    """The check after the job, without the check before: Qt's engine reports success on a
    rejecting queue, the queue has no job of that name."""
    printer = QPrinter(QPrinterInfo.printerInfo("Abgelehnt"), QPrinter.PrinterMode.HighResolution)
    printer.setDocName("MB-TEST-1")
    since = time.time()
    painter = QPainter()
    assert painter.begin(printer)
    painter.drawText(100, 100, "Probe")
    assert painter.end()  # Qt says all is well …
    assert job_state("Abgelehnt", "MB-TEST-1", since) is None  # … but no job arrived
    state = queue_state("Abgelehnt")
    assert state is not None and not state.accepting and not state.ready
    printer = QPrinter(QPrinterInfo.printerInfo("PDF"), QPrinter.PrinterMode.HighResolution)
    printer.setDocName("MB-TEST-2")
    assert painter.begin(printer)
    painter.drawText(100, 100, "Probe")
    assert painter.end()
    assert job_state("PDF", "MB-TEST-2", since) in (JobState.PENDING, JobState.PROCESSING,
                                                     JobState.COMPLETED)


def test_wide_hardware_margins_print_the_whole_page_with_a_readable_qr_code(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg, people = register
    w = window(qtbot, cfg, "Laser-Weitrand")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    dialog.print_bar.set_numbers([certificate(dialog)])  # type: ignore[union-attr]
    assert press_f5(qtbot, dialog) == "1 Dokument(e) an Laser-Weitrand gesendet."
    assert "printing at the printer's margins, scaled to" in caplog.text
    (document,) = cups.documents()
    text = text_of(document.read_bytes())
    assert "Müller" in text and certificate(dialog) in text and "Seite 1 von 1" in text
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("pdftoppm and zbarimg (poppler-utils, zbar-tools) not installed")
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(document.read_bytes())
    subprocess.run(["pdftoppm", "-png", "-r", "300", str(pdf), str(tmp_path / "page")],
                   check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert payload_of(scanned).startswith("DS1:")  # the seal, behind the verification link
    close_window(w)


def test_remembered_duplex_on_a_queue_without_duplexer_is_told_once(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    cfg, people = register
    w = window(qtbot, cfg, "PDF", duplex=QPrinter.DuplexMode.DuplexLongSide.value)
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    first = press_f5(qtbot, dialog)
    assert first.startswith("2 Dokument(e) an PDF gesendet.")
    assert "„PDF“ kann nicht beidseitig drucken" in first
    assert press_f5(qtbot, dialog) == "2 Dokument(e) an PDF gesendet."
    close_window(w)


def answer(object_name: str, button: str | None, seen: list[str]) -> None:
    """Answer the message box `object_name` once it shows: click `button` (None: Escape)."""
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox) and box.objectName() == object_name:
        seen.append(box.text())
        chosen = next(b for b in box.buttons() if b.objectName() == button) if button \
            else box.escapeButton()
        assert chosen is not None
        chosen.click()
        return
    QTimer.singleShot(20, lambda: answer(object_name, button, seen))


def test_a_deleted_remembered_printer_is_asked_about(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    cfg, people = register
    cups.add_queue("Zimmer-12")
    w = window(qtbot, cfg, "Zimmer-12")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    cups.run("lpadmin", "-x", "Zimmer-12")
    seen: list[str] = []
    QTimer.singleShot(20, lambda: answer("printerGone", None, seen))
    message = press_f5(qtbot, dialog)
    assert "„Zimmer-12“ ist nicht mehr eingerichtet" in seen[0] and "„PDF“" in seen[0]
    assert message.startswith("Nicht gedruckt") and cups.jobs() == []

    QTimer.singleShot(20, lambda: answer("printerGone", "useReplacement", seen))
    assert press_f5(qtbot, dialog) == "2 Dokument(e) an PDF gesendet."
    assert PrinterSettings(cfg).load() == PrinterChoice("PDF")
    assert press_f5(qtbot, dialog) == "2 Dokument(e) an PDF gesendet."  # not asked again
    assert len(seen) == 2
    close_window(w)


def test_preview_prints_a_job_named_by_its_number_and_checks_it(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], cups: CupsServer) -> None:
    """Strg+P, then "Drucken" in the preview and OK in the print dialog, as the clerk does."""
    cfg, people = register
    w = window(qtbot, cfg, "PDF")
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    bar = dialog.print_bar
    assert bar is not None
    bar.set_numbers([certificate(dialog)])
    steps: list[str] = []

    def accept_print_dialog() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QPrintDialog):
            steps.append("print dialog")
            box.accept()
        else:
            QTimer.singleShot(20, accept_print_dialog)

    def print_from_preview() -> None:
        preview = QApplication.activeModalWidget()
        if not isinstance(preview, QPrintPreviewDialog):
            QTimer.singleShot(20, print_from_preview)
            return
        steps.append("preview")
        action = next(a for a in preview.findChildren(QAction) if a.text() in ("Print",
                                                                                "Drucken"))
        QTimer.singleShot(20, accept_print_dialog)
        action.trigger()

    QTimer.singleShot(20, print_from_preview)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    qtbot.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bar.outcome.text().startswith(("Gedruckt", "Nicht")),
                    timeout=20_000)
    assert steps == ["preview", "print dialog"]
    assert bar.outcome.text() == "Gedruckt auf PDF."
    assert cups.jobs() == [("PDF", certificate(dialog))]
    close_window(w)
