"""Archive, print and Zweitschrift through the real window: real encrypted register, real
services, real rendering in the DB worker; a QPrinter in PDF mode stands in for hardware, and
the desktop's PDF viewer is replaced by a recorder (no viewer opens in tests)."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from clerk_app.config import Config
from clerk_app.documents import (
    ARCHIVE_COMMAND,
    archived_files,
    archived_pdf,
    documents_without_pdf,
)
from clerk_app.ids import uuid7
from clerk_app.services.runner import run_service
from clerk_app.store import opening
from tests.factories import add_person, make_cfg, text_of
from tests.ui_support import (
    Keys,
    activate,
    close_window,
    open_dialog,
    open_found_person,
    rows,
    save_shot,
    start_window,
    wait_done,
)
from ui import printing
from ui.certificate_dialogs import CertificateDialog
from ui.main_window import MainWindow
from ui.printing import (
    PrinterChoice,
    PrinterSettings,
    choice_of,
    private_folder,
    purge_private_folder,
)

pytestmark = pytest.mark.usefixtures("german")


@pytest.fixture
def register(tmp_path: Path) -> tuple[Config, dict[str, str]]:
    """A fresh register with two persons (every test starts with no document)."""
    cfg = make_cfg(tmp_path / "data")
    with opening.open_register(cfg, create=True) as store:
        people = {"anna": add_person(store, "Müller", "Anna Maria", "1964-08-12"),
                  "otto": add_person(store, "Zwirbel", "Otto", "1972-05-05")}
    return cfg, people


class Opened:
    """Stands in for the desktop's PDF viewer (`found=False`: the desktop has none)."""

    def __init__(self, found: bool = True) -> None:
        self.paths: list[Path] = []
        self.found = found

    def __call__(self, path: Path) -> bool:
        self.paths.append(path)
        return self.found


def open_printing_window(qtbot: QtBot, cfg: Config,
                         printer: Any = None) -> tuple[MainWindow, Opened]:
    """The main window with a recorder for the PDF viewer and `printer` (none: as on CI),
    back once the start-up's catch-up archiving is done."""
    w = MainWindow(cfg)
    opened = Opened()
    w.printing.opener = opened
    w.printing.printer_factory = printer or (lambda _choice: None)   # no printer (as on CI)
    start_window(qtbot, w, w.printing.catch_up_done)
    activate(qtbot, w)
    return w, opened


def issue_meldebescheinigung(qtbot: QtBot, w: MainWindow, person: str) -> CertificateDialog:
    """F6, Enter: a simple Meldebescheinigung paid in cash, archived in the background."""
    open_found_person(qtbot, w, "mueller anna maria", person)
    keys = Keys(qtbot)
    dialog = open_dialog(qtbot, w, keys, Qt.Key.Key_F6)
    with qtbot.waitSignal(w.printing.archived, timeout=30_000):
        keys.press(Qt.Key.Key_Return)
        wait_done(qtbot, dialog)
    return dialog


# --- archive on issue and at start-up --------------------------------------------------------

def test_meldebescheinigung_is_archived_off_the_ui_thread(
        qtbot: QtBot, register: tuple[Config, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, people = register
    threads: list[str] = []
    renders: list[tuple[float, float]] = []
    real = printing.ensure_original

    def recording(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        start = time.monotonic()
        try:
            return real(*args)
        finally:
            renders.append((start, time.monotonic()))

    monkeypatch.setattr(printing, "ensure_original", recording)
    w, _opened = open_printing_window(qtbot, cfg)
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(time.monotonic())

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    try:
        dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    finally:
        timer.stop()
    result = dialog.service_result
    assert result is not None
    numbers = sorted(d.number for d in result.documents)   # certificate and receipt
    assert len(numbers) == 2
    assert threads and threading.main_thread().name not in threads
    # The UI thread kept turning while the PDFs were rendered: every render that lasted long
    # enough for the 10 ms timer saw a tick inside it (judged by order, not by a time limit
    # a loaded machine could exceed).
    assert renders
    for start, end in renders:
        assert end - start < 0.1 or any(start < t < end for t in ticks), (
            "the UI thread stood still while a PDF was rendered")
    files = rows(cfg, "SELECT document_number, kind, sha256, size FROM document_files "
                      "ORDER BY document_number")
    assert [(f["document_number"], f["kind"]) for f in files] == [
        (n, "original") for n in numbers]
    outbox = rows(cfg, "SELECT payload FROM outbox WHERE type = ?", ARCHIVE_COMMAND)
    assert len(outbox) == 2
    assert all(number in "".join(o["payload"] for o in outbox) for number in numbers)
    with opening.open_register(cfg) as store:
        assert documents_without_pdf(store) == []
    close_window(w)


def test_start_up_archives_documents_a_crash_left_without_pdf(
        qtbot: QtBot, register: tuple[Config, dict[str, str]]) -> None:
    cfg, people = register
    with opening.open_register(cfg) as store:   # the service ran, the app died before rendering
        run_service(store, "lebensbescheinigung", {
            "person_id": people["otto"], "institution": "Deutsche Rentenversicherung",
            "id_document_checked": True}, uuid7())
        left = documents_without_pdf(store)
    assert left
    folder = private_folder(cfg)
    folder.mkdir(parents=True)
    stale = folder / "ALT-1.pdf"
    stale.write_bytes(b"%PDF-old")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    w, _opened = open_printing_window(qtbot, cfg)   # waits for the catch-up to finish
    with opening.open_register(cfg) as store:
        assert documents_without_pdf(store) == []
        assert [f.kind for f in archived_files(store, left[0])] == ["original"]
    assert not stale.exists(), "print files older than a day are deleted at start-up"
    close_window(w)



def test_closing_the_window_does_not_wait_for_the_start_ups_catch_up(
        qtbot: QtBot, register: tuple[Config, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Many documents left without a PDF (the catch-up renders one per worker call): a clerk
    who closes the window meanwhile does not wait for all of them; the next start archives
    the rest."""
    cfg, people = register
    with opening.open_register(cfg) as store:
        for _ in range(30):
            run_service(store, "lebensbescheinigung", {
                "person_id": people["otto"], "institution": "Deutsche Rentenversicherung",
                "id_document_checked": True}, uuid7())
        left = documents_without_pdf(store)
    rendered: list[str] = []
    real = printing.ensure_original

    def recording(*args: Any) -> Any:
        rendered.append(args[-1])
        return real(*args)

    monkeypatch.setattr(printing, "ensure_original", recording)
    w = MainWindow(cfg)
    start_window(qtbot, w)
    qtbot.waitUntil(lambda: len(rendered) >= 1, timeout=30_000)
    close_window(w)
    assert len(rendered) < len(left), "the close waited for every catch-up render"
    with opening.open_register(cfg) as store:
        assert documents_without_pdf(store)
    w, _opened = open_printing_window(qtbot, cfg)   # the next start: the catch-up goes on
    with opening.open_register(cfg) as store:
        assert documents_without_pdf(store) == []
    close_window(w)

# --- F5 without a printer --------------------------------------------------------------------

def test_f5_without_printer_saves_a_private_pdf_and_opens_it(
        qtbot: QtBot, register: tuple[Config, dict[str, str]]) -> None:
    cfg, people = register
    w, opened = open_printing_window(qtbot, cfg)
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    bar = dialog.print_bar
    assert bar is not None
    assert bar.print_button.text() == "F5 Drucken"
    assert bar.preview_button.text().startswith("Strg+P Druckvorschau")
    widget = QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClick(widget, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: len(opened.paths) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: "gespeichert unter" in bar.outcome.text(), timeout=5000)
    message = bar.outcome.text()
    assert "Kein Drucker eingerichtet" in message and "nach einem Tag" in message
    folder = private_folder(cfg)
    assert str(folder) in message
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    result = dialog.service_result
    assert result is not None
    for path, doc in zip(opened.paths, result.documents, strict=True):
        assert path.parent == folder and path.name == f"{doc.number}.pdf"
        assert path.name in message
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with opening.open_register(cfg) as store:
            (original,) = archived_files(store, doc.number)
            assert path.read_bytes() == archived_pdf(store, original.id)
    assert str(folder) in w.statusBar().currentMessage()
    save_shot(dialog, "screenshot-druck-ergebnis.png")
    close_window(w)


def test_without_a_pdf_viewer_the_message_says_it_was_not_opened(
        qtbot: QtBot, register: tuple[Config, dict[str, str]]) -> None:
    """No printer and no program for PDF: saved, and said so, but never "geöffnet"; the long
    message is shown whole in its own line, not under the connection indicator."""
    cfg, people = register
    w, opened = open_printing_window(qtbot, cfg)
    opened.found = False
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    bar = dialog.print_bar
    assert bar is not None
    bar.print_preview()
    qtbot.waitUntil(lambda: len(opened.paths) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: "gespeichert unter" in bar.outcome.text(), timeout=5000)
    message = bar.outcome.text()
    assert "nicht geöffnet" in message and "und geöffnet" not in message, message
    assert "IT" in message
    status = w.statusBar()
    assert status.currentMessage() == message
    dialog.accept()
    qtbot.waitUntil(lambda: w.service_dialog is None)
    w.resize(1024, 700)
    QApplication.processEvents()
    line = w.status_bar.message_line
    assert line.isVisible() and line.text() == message
    top_left = line.mapTo(w, line.rect().topLeft())
    bottom_right = line.mapTo(w, line.rect().bottomRight())
    assert top_left.x() >= 0 and bottom_right.x() <= w.width(), "not cut at the right"
    connection = w.status.connection
    assert connection.isVisible()
    bar_top = connection.mapTo(w, connection.rect().topLeft()).y()
    assert bottom_right.y() < bar_top, "the message is above the connection indicator"
    assert line.heightForWidth(line.width()) <= line.height() + 1, "wrapped, shown whole"
    save_shot(w, "screenshot-meldung-ohne-pdf-programm.png")
    close_window(w)


# --- a printer: the QPrinter writes a PDF file -----------------------------------------------

def pdf_printer(out: Path) -> Any:
    made: list[QPrinter] = []

    def factory(choice: PrinterChoice) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out / f"printed-{len(made)}.pdf"))
        printing.apply_choice(printer, choice)
        made.append(printer)
        return printer

    factory.made = made  # type: ignore[attr-defined]
    return factory


def test_f5_prints_the_same_pages_as_the_archived_pdf(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], tmp_path: Path) -> None:
    cfg, people = register
    factory = pdf_printer(tmp_path)
    w, opened = open_printing_window(qtbot, cfg, factory)
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    assert dialog.print_bar is not None
    qtbot.keyClick(dialog, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: "gesendet" in dialog.print_bar.outcome.text(), timeout=10_000)
    assert opened.paths == []
    printed = tmp_path / "printed-0.pdf"
    assert printed.exists()
    result = dialog.service_result
    assert result is not None
    with opening.open_register(cfg) as store:
        certificate = next(d.number for d in result.documents if d.type != "quittung")
        (original,) = archived_files(store, certificate)
        archived = archived_pdf(store, original.id)
    # The printer got the documents one after the other; the file holds the last job, so
    # compare the certificate by printing it alone.
    dialog.print_bar.set_numbers([certificate])
    qtbot.keyClick(dialog, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: "1 Dokument(e)" in dialog.print_bar.outcome.text(), timeout=10_000)
    alone = tmp_path / f"printed-{len(factory.made) - 1}.pdf"
    assert text_of(alone.read_bytes()) == text_of(archived)
    close_window(w)


def test_preview_choice_is_remembered_across_windows(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], tmp_path: Path) -> None:
    cfg, people = register
    factory = pdf_printer(tmp_path)
    w, _opened = open_printing_window(qtbot, cfg, factory)
    shown: list[str] = []

    def clerk_chooses(printer: QPrinter, models: Any) -> bool:
        shown.extend(m.number for m in models)
        printer.setPaperSource(QPrinter.PaperSource.Middle)   # tray 2
        printer.setDuplex(QPrinter.DuplexMode.DuplexLongSide)   # a PDF printer ignores it
        return True

    w.printing.preview = clerk_chooses
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    qtbot.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    result = dialog.service_result
    assert result is not None
    assert shown == [d.number for d in result.documents]
    close_window(w)

    again = MainWindow(cfg)
    qtbot.addWidget(again)
    choice = again.printing.settings.load()
    assert choice.paper_source == QPrinter.PaperSource.Middle.value
    assert choice == choice_of(factory.made[-1])   # printer, tray and duplex as chosen
    again.close()


def test_real_preview_dialog_opens_with_the_document(
        qtbot: QtBot, register: tuple[Config, dict[str, str]], tmp_path: Path) -> None:
    cfg, people = register
    w, _opened = open_printing_window(qtbot, cfg, pdf_printer(tmp_path))
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    seen: list[str] = []

    def close_preview() -> None:
        preview = QApplication.activeModalWidget()
        if isinstance(preview, QPrintPreviewDialog):
            seen.append(preview.windowTitle())
            preview.reject()
        else:
            QTimer.singleShot(50, close_preview)

    result = dialog.service_result
    assert dialog.print_bar is not None and result is not None
    dialog.print_bar.set_numbers([d.number for d in result.documents if d.type != "quittung"])
    QTimer.singleShot(50, close_preview)
    dialog.print_bar.print_preview()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen[0].startswith("Druckvorschau – Meldebescheinigung")
    close_window(w)


def test_settings_are_kept_per_workstation(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    other = make_cfg(tmp_path, workstation="Schalter 4/links")
    PrinterSettings(cfg).save(PrinterChoice("Kyocera Schalter 3", 3, 1))
    assert PrinterSettings(cfg).load() == PrinterChoice("Kyocera Schalter 3", 3, 1)
    assert PrinterSettings(other).load() == PrinterChoice()


def test_purge_keeps_fresh_files(tmp_path: Path) -> None:
    fresh = printing.write_private_pdf(tmp_path / "p", "MB-1", b"%PDF-1")
    old = printing.write_private_pdf(tmp_path / "p", "MB-2", b"%PDF-2")
    os.utime(old, (time.time() - 90_000,) * 2)
    assert purge_private_folder(tmp_path / "p") == 1
    assert fresh.exists() and not old.exists()


# --- Zweitschrift from the person view -------------------------------------------------------

def test_zweitschrift_from_the_person_view(
        qtbot: QtBot, register: tuple[Config, dict[str, str]]) -> None:
    cfg, people = register
    w, opened = open_printing_window(qtbot, cfg)
    dialog = issue_meldebescheinigung(qtbot, w, people["anna"])
    result = dialog.service_result
    assert result is not None
    certificate = next(d.number for d in result.documents if d.type != "quittung")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)            # close the result page
    qtbot.waitUntil(lambda: w.service_dialog is None, timeout=3000)
    view = w.person_view
    qtbot.waitUntil(lambda: certificate in view.document_numbers, timeout=5000)
    with opening.open_register(cfg) as store:
        (original,) = archived_files(store, certificate)
        original_bytes = archived_pdf(store, original.id)

    qtbot.keyClick(w.search, Qt.Key.Key_Tab)              # hits
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)   # record
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)   # documents
    assert QApplication.focusWidget() is view.documents
    view.select_document(certificate)
    save_shot(w, "screenshot-person-dokumente.png")
    qtbot.keyClick(view.documents, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: len(opened.paths) == 1, timeout=15_000)

    with opening.open_register(cfg) as store:
        files = archived_files(store, certificate)
        assert [f.kind for f in files] == ["original", "zweitschrift"]
        assert files[0].sha256 == original.sha256 == hashlib.sha256(original_bytes).hexdigest()
        assert archived_pdf(store, files[0].id) == original_bytes
        copy = archived_pdf(store, files[1].id)
        audit = store.query("SELECT action, detail FROM audit_log WHERE detail = ?",
                            (f"Dokument {certificate}",))
    assert "ZWEITSCHRIFT" in text_of(copy)
    assert "ZWEITSCHRIFT" not in text_of(original_bytes)
    assert opened.paths[0].read_bytes() == copy
    assert "zweitschrift" in opened.paths[0].name
    assert [a["action"] for a in audit] == ["reprint"]
    qtbot.waitUntil(lambda: "gespeichert unter" in w.statusBar().currentMessage(), timeout=5000)
    close_window(w)
