"""Printing and archiving issued documents: the archive PDF, the printer, the Zweitschrift.

* **Archive on issue.** Every document of a completed service (`ServiceResult.documents`) is
  rendered in the DB worker right after the service (`build_model` -> `render_pdf` ->
  `archive_pdf`, which stores the PDF and its outbox row for the e-Akte in one transaction).
  At start-up `catch_up` renders, one document per worker call (searches still get their
  turn in between), whatever `documents_without_pdf` lists: a crash between a service and its
  rendering loses nothing. Failures are logged in English without personal data and said once
  in the status line, in German.
* **Print.** "F5 Drucken" prints the documents of the completed service to the remembered
  printer without a dialog; "Strg+P Druckvorschau …" opens `QPrintPreviewDialog`, where the
  clerk chooses printer, tray and duplex; that choice is remembered per workstation
  (`PrinterSettings`). Letters (`print_letter`: the inbox's cover letters and letters with a
  confirmation code) go the same way as F5, each its own job checked in the queue. The
  render model is built in the worker; only the painting onto the `QPrinter` happens on the
  UI thread (the printer's engine wants it there).
* **No printer** (none installed, as on CI): the archived PDF is written into a private
  folder of this user (`<data_dir>/ausdrucke`, mode 0700, files 0600, named by document
  number), opened with the desktop's PDF viewer, and files there older than a day are deleted
  at start-up: PDFs carry personal data and must not linger as plain files.
* **Zweitschrift.** `reprint` builds the model with `reprint_on=today`, renders it, archives
  it as a `zweitschrift` (audited) and prints it as above; the original is never touched.

Where the printer choice lives: a small INI file (`QSettings`) in the data folder, grouped by
`cfg.workstation`. The printer's queue name is a fact of this machine, not register data: it
is not personal, needs no encryption, must not be synced to the central service, and is read
synchronously when F5 is pressed (no worker round trip before the print starts).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.withdrawal import PRINTOUTS_FOLDER
from ui.db_worker import DbWorker
from ui.i18n import message_text, tr
from ui.operation import Op
from ui.print_job import Job, check_jobs, document_jobs, send_jobs
from ui.printer_choice import ask_replacement, duplex_notice, replacement_printer

if TYPE_CHECKING:   # the documents, the seal and the renderer load with the first document
    from clerk_app.documents import RenderModel
    from clerk_app.letters import Letter
    from clerk_app.seal import SealKey
    from clerk_app.store.db import Store

log = logging.getLogger(__name__)

PRIVATE_FOLDER = PRINTOUTS_FOLDER
SETTINGS_FILE = "arbeitsplatz.ini"
MAX_AGE_S = 24 * 3600
STATUS_MS = 20_000

Opener = Callable[[Path], bool]
PrinterFactory = Callable[["PrinterChoice"], QPrinter | None]
Report = Callable[[str], None]


# --- the remembered printer ------------------------------------------------------------------

@dataclass(frozen=True)
class PrinterChoice:
    """Printer queue name ("" = the system's default), paper source (tray), duplex mode."""

    printer: str = ""
    paper_source: int | None = None
    duplex: int | None = None


class PrinterSettings:
    """The printer choice of this workstation, in `<data_dir>/arbeitsplatz.ini`."""

    def __init__(self, cfg: Config) -> None:
        self.path = cfg.data_path / SETTINGS_FILE
        name = re.sub(r"[\\/]", "_", cfg.workstation or "arbeitsplatz")
        self.group = f"printing/{name}"

    def _settings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def load(self) -> PrinterChoice:
        s = self._settings()
        s.beginGroup(self.group)
        printer = str(s.value("printer", "") or "")
        source = _int_or_none(s.value("paper_source"))
        duplex = _int_or_none(s.value("duplex"))
        s.endGroup()
        return PrinterChoice(printer, source, duplex)

    def save(self, choice: PrinterChoice) -> None:
        s = self._settings()
        s.beginGroup(self.group)
        s.setValue("printer", choice.printer)
        for key, value in (("paper_source", choice.paper_source), ("duplex", choice.duplex)):
            if value is None:
                s.remove(key)
            else:
                s.setValue(key, value)
        s.endGroup()
        s.sync()
        if s.status() != QSettings.Status.NoError:
            log.warning("cannot write the printer settings file")


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None and str(value) != "" else None
    except ValueError:
        return None


def _enum_value(value: object) -> int:
    raw = getattr(value, "value", value)
    return int(raw) if isinstance(raw, int) else 0


def choice_of(printer: QPrinter) -> PrinterChoice:
    """What the clerk chose in the print dialog, to remember."""
    return PrinterChoice(printer.printerName(), _enum_value(printer.paperSource()),
                         _enum_value(printer.duplex()))


def printers_available() -> bool:
    return bool(QPrinterInfo.availablePrinters())


def system_printer(choice: PrinterChoice) -> QPrinter | None:
    """A printer set up as remembered: the remembered queue if it still exists, else the
    system's default; None if this workstation has no printer at all."""
    infos = QPrinterInfo.availablePrinters()
    if not infos:
        return None
    info = next((i for i in infos if i.printerName() == choice.printer), None)
    if info is None:
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            info = infos[0]
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    apply_choice(printer, choice)
    return printer


def apply_choice(printer: QPrinter, choice: PrinterChoice) -> None:
    if choice.paper_source is not None:
        printer.setPaperSource(QPrinter.PaperSource(choice.paper_source))
    if choice.duplex is not None:
        printer.setDuplex(QPrinter.DuplexMode(choice.duplex))


def open_with_desktop(path: Path) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


# --- the private folder for PDFs opened without a printer ------------------------------------

def private_folder(cfg: Config) -> Path:
    return cfg.data_path / PRIVATE_FOLDER


def _ensure_private(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def write_private_pdf(folder: Path, name: str, pdf: bytes) -> Path:
    """`pdf` as `folder/name.pdf`, readable by this user only (0600 from the first byte)."""
    _ensure_private(folder)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    path = folder / f"{safe}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pdf)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def purge_private_folder(folder: Path, max_age_s: float = MAX_AGE_S,
                         now: float | None = None) -> int:
    """Delete the PDFs older than `max_age_s` in `folder`; returns how many."""
    if not folder.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - max_age_s
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError as exc:
            log.warning("cannot delete an old print file: %s", type(exc).__name__)
    return removed


# --- worker functions (run in the DB worker thread; no widgets) ------------------------------

@dataclass(frozen=True)
class Printable:
    """One document ready to print: its model and the archived PDF of exactly that model."""

    number: str
    model: RenderModel
    pdf: bytes


class _Keys:
    """The office seal key, loaded once in the worker thread."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._key: SealKey | None = None

    def get(self, store: Store) -> SealKey:
        from clerk_app.office_seal import office_seal

        if self._key is None:
            self._key = office_seal(self.cfg, store)
        return self._key


def ensure_original(store: Store, cfg: Config, keys: _Keys, number: str) -> Printable:
    """The document's model and its archived original; renders and archives it if missing."""
    from clerk_app.documents import archive_pdf, archived_pdf, build_model, original_file_id
    from ui.rendering import render_pdf

    model = build_model(store, cfg, number, seal_key=keys.get(store))
    file_id = original_file_id(store, number)
    if file_id is not None:
        return Printable(number, model, archived_pdf(store, file_id))
    pdf = render_pdf(model)
    archive_pdf(store, number, pdf)
    return Printable(number, model, pdf)


def make_reprint(store: Store, cfg: Config, keys: _Keys, number: str,
                 today: date) -> Printable:
    """A Zweitschrift of `number` printed today: rendered and archived (audited)."""
    from clerk_app.documents import archive_pdf, build_model
    from ui.rendering import render_pdf

    model = build_model(store, cfg, number, seal_key=keys.get(store), reprint_on=today)
    pdf = render_pdf(model)
    archive_pdf(store, number, pdf, reprint=True)
    return Printable(number, model, pdf)


# --- the service -----------------------------------------------------------------------------

class PrintService(QObject):
    """One per window: archives, prints, saves and reprints through the window's DbWorker.

    `opener` opens a saved PDF (the desktop's viewer; tests pass a recorder),
    `printer_factory` gives the printer for a remembered choice (None = no printer; tests
    pass a QPrinter writing a PDF file), `preview` shows the preview (tests replace it).
    """

    status = Signal(str)        # a German line for the status bar
    archived = Signal(object)   # list of document numbers archived by one call
    catch_up_done = Signal(int)

    def __init__(self, cfg: Config, db: DbWorker, parent: QWidget | None = None, *,
                 opener: Opener | None = None,
                 printer_factory: PrinterFactory | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.db = db
        self.widget = parent
        self.settings = PrinterSettings(cfg)
        self.opener: Opener = opener or open_with_desktop
        self.printer_factory: PrinterFactory = printer_factory or system_printer
        self.preview: Callable[[QPrinter, Sequence[RenderModel]], bool] = self._preview
        self.folder = private_folder(cfg)
        self._keys = _Keys(cfg)
        self._catching_up = 0
        self._catch_up_failures = 0

    @property
    def seal_keys(self) -> _Keys:
        """The office seal, fetched once: for other work in the worker that renders
        documents (the inbox's outcome)."""
        return self._keys

    # Archive

    def archive_issued(self, numbers: Sequence[str]) -> None:
        """Render and archive the originals of `numbers` in the worker (after a service)."""
        numbers = list(numbers)
        if not numbers:
            return
        cfg, keys = self.cfg, self._keys

        def work(store: Store) -> tuple[list[str], list[str]]:
            from clerk_app.documents import original_file_id

            done, failed = [], []
            for number in numbers:
                if original_file_id(store, number) is not None:
                    continue   # a replayed service: its PDF is archived already
                try:
                    ensure_original(store, cfg, keys, number)
                    done.append(number)
                except ClerkError as exc:
                    log.error("archiving a document failed: %s", exc.message_en)
                    failed.append(number)
                except Exception as exc:
                    log.exception("archiving a document failed: %s", type(exc).__name__)
                    failed.append(number)
            return done, failed

        Op(self, work, self._on_archived, what="archive documents").failure(
            self._on_archive_failed).run(self.db)

    def _on_archived(self, answer: tuple[list[str], list[str]]) -> None:
        done, failed = answer
        if done:
            self.archived.emit(done)
        if failed:
            self.status.emit(tr("Das PDF von {n} Dokument(en) konnte nicht archiviert werden; "
                                "es wird beim nächsten Programmstart erneut versucht.").format(
                                    n=len(failed)))

    def _on_archive_failed(self, message_de: str, message_en: str) -> None:
        self.status.emit(tr("Archivierung der Dokumente fehlgeschlagen: {message}").format(
            message=message_text(message_de, message_en)))

    def catch_up(self) -> None:
        """At start-up: delete old print files; render and archive, one document per worker
        call, every issued document without an archived PDF."""
        folder = self.folder

        def listing(store: Store) -> list[str]:
            from clerk_app.documents import documents_without_pdf

            purge_private_folder(folder)
            return documents_without_pdf(store)

        Op(self, listing, self._catch_up_list, what="list unarchived").failure(
            self._on_archive_failed).run(self.db)

    def _catch_up_list(self, numbers: list[str]) -> None:
        if not numbers:
            self.catch_up_done.emit(0)
            return
        log.info("archiving %d documents left without a PDF", len(numbers))
        self._catching_up = len(numbers)
        self._catch_up_failures = 0
        cfg, keys = self.cfg, self._keys
        for number in numbers:
            def work(store: Store, number: str = number) -> str:
                from clerk_app.documents import original_file_id

                if not self.db.is_running:   # the window is closing: the next start goes on
                    return number
                if original_file_id(store, number) is None:
                    ensure_original(store, cfg, keys, number)
                return number

            Op(self, work, lambda _n: self._catch_up_step(True),
               what="archive left document").failure(
                   lambda _de, _en: self._catch_up_step(False)).run(self.db)

    def _catch_up_step(self, ok: bool) -> None:
        self._catching_up -= 1
        if not ok:
            self._catch_up_failures += 1
        if self._catching_up:
            return
        if self._catch_up_failures:
            self.status.emit(tr("{n} Dokument(e) ohne archiviertes PDF konnten nicht "
                                "nachträglich archiviert werden; bitte die IT verständigen.")
                             .format(n=self._catch_up_failures))
        self.catch_up_done.emit(self._catch_up_failures)

    # Print

    def print_documents(self, numbers: Sequence[str], *, preview: bool = False,
                        report: Report | None = None) -> None:
        """F5 (or Strg+P with `preview`): the originals of `numbers` to the printer."""
        numbers = list(numbers)
        if not numbers:
            return
        cfg, keys = self.cfg, self._keys
        Op(self, lambda store: [ensure_original(store, cfg, keys, n) for n in numbers],
           lambda items: self._output(items, preview, report), what="print documents").failure(
               lambda de, en: self._say(tr("Drucken nicht möglich: {message}").format(
                   message=message_text(de, en)), report)).run(self.db)

    def reprint(self, number: str, *, report: Report | None = None,
                today: date | None = None) -> None:
        """F10: a Zweitschrift of `number`, archived, then printed (or saved and opened)."""
        cfg, keys = self.cfg, self._keys
        day = today or date.today()
        Op(self, lambda store: [make_reprint(store, cfg, keys, number, day)],
           lambda items: self._output(items, False, report), what="reprint document").failure(
               lambda de, en: self._say(tr("Zweitschrift nicht möglich: {message}").format(
                   message=message_text(de, en)), report)).run(self.db)

    def _output(self, items: list[Printable], preview: bool, report: Report | None) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        files = [(f"{i.number}-zweitschrift-{stamp}" if i.model.is_reprint else i.number,
                  i.pdf) for i in items]
        models = [item.model for item in items]
        if not preview:
            self._print(document_jobs(models), files, report)
            return
        # The preview's dialog shows the printer and lets the clerk change it: no question.
        found = self._printer(self.settings.load(), files, report)
        if found is None:
            return
        printer, notice = found
        since = time.time()
        if self.preview(printer, models):
            self.settings.save(choice_of(printer))
            checked = check_jobs(printer, models, since)
            said = tr("Gedruckt auf {printer}.").format(
                printer=printer.printerName() or tr("Standarddrucker")) \
                if checked.ok else checked.message()
            self._say(" ".join(filter(None, [said, notice])), report)

    def print_letter(self, name: str, letter: Letter, pdf: bytes, *,
                     report: Report | None = None) -> None:
        """A letter (DIN 5008, for the window envelope) the way documents go: to the
        remembered printer as one job named `name`, checked in its queue; without a printer,
        `pdf` (the same letter) is saved privately and opened."""
        from ui.letter_rendering import paint_letter

        self._print([(name, lambda device: paint_letter(letter, device))], [(name, pdf)],
                    report)

    def _print(self, jobs: Sequence[Job], files: list[tuple[str, bytes]],
               report: Report | None) -> None:
        """`jobs` (name, painter) to the remembered printer, each its own job checked in the
        queue (`print_job`); without a printer `files` (name, PDF) are saved and opened."""
        choice = self._confirmed_choice()
        if choice is None:
            self._say(tr("Nicht gedruckt: Der gemerkte Drucker ist nicht mehr eingerichtet. "
                         "Strg+P wählt einen anderen Drucker."), report)
            return
        found = self._printer(choice, files, report)
        if found is None:
            return
        printer, notice = found
        from ui.rendering import RenderError

        try:
            outcome = send_jobs(printer, jobs)
        except RenderError as exc:
            log.error("printing failed: %s", exc)
            self._say(tr("Der Drucker hat den Druck abgelehnt. Bitte Drucker prüfen oder "
                         "mit Strg+P einen anderen wählen."), report)
            return
        self._say(" ".join(filter(None, [outcome.message(), notice])), report)

    def _printer(self, choice: PrinterChoice, files: list[tuple[str, bytes]],
                 report: Report | None) -> tuple[QPrinter, str] | None:
        """The printer of `choice` and what to say of its duplex; None where there is no
        printer, after `files` were saved and opened instead."""
        printer = self.printer_factory(choice)
        if printer is None:
            self._save_and_open(files, report)
            return None
        return printer, duplex_notice(printer, choice.duplex, str(self.settings.path),
                                      self.settings.group)

    def _confirmed_choice(self) -> PrinterChoice | None:
        """The remembered choice; if its printer was deleted while others exist, the clerk
        is asked first (None: not to print), and the answer is remembered."""
        choice = self.settings.load()
        replacement = replacement_printer(choice.printer)
        if replacement is None:
            return choice
        if not ask_replacement(self.widget, choice.printer, replacement):
            return None
        choice = PrinterChoice(replacement)  # trays and duplex belonged to the old printer
        self.settings.save(choice)
        return choice

    def _preview(self, printer: QPrinter, models: Sequence[RenderModel]) -> bool:
        """The preview dialog for each document in turn; True if the clerk printed."""
        from ui.rendering import paint

        printed = False
        for model in models:
            printer.setDocName(model.number)  # the job's name in the queue
            dialog = QPrintPreviewDialog(printer, self.widget)
            dialog.setWindowTitle(tr("Druckvorschau – {title} {number}").format(
                title=model.title, number=model.number))
            dialog.paintRequested.connect(lambda p, m=model: paint(m, p))
            if dialog.exec() == QPrintPreviewDialog.DialogCode.Accepted:
                printed = True
            dialog.deleteLater()
        return printed

    def _save_and_open(self, files: list[tuple[str, bytes]], report: Report | None) -> None:
        folder = self.folder

        def write(_store: Store) -> list[Path]:
            return [write_private_pdf(folder, name, pdf) for name, pdf in files]

        def written(paths: list[Path]) -> None:
            shut = [path.name for path in paths if not self.opener(path)]
            if shut:
                log.warning("the desktop could not open %d saved PDF(s)", len(shut))
            self._say(saved_text(paths, shut, folder), report)

        Op(self, write, written, what="save print file").failure(lambda de, en: self._say(
            tr("Das PDF konnte nicht gespeichert werden: {message}").format(
                message=message_text(de, en)), report)).run(self.db)

    def _say(self, text: str, report: Report | None) -> None:
        self.status.emit(text)
        if report is not None:
            report(text)


def saved_text(paths: Sequence[Path], not_opened: Sequence[str], folder: Path) -> str:
    """What happened to PDFs saved for want of a printer: saved where, and opened only if
    the desktop really opened them (no viewer: the clerk opens the folder or calls IT)."""
    files = ", ".join(p.name for p in paths)
    if not not_opened:
        said = tr("Kein Drucker eingerichtet: {files} gespeichert unter {folder} und "
                  "geöffnet.").format(files=files, folder=folder)
    elif len(not_opened) == len(paths):
        said = tr("Kein Drucker eingerichtet: {files} gespeichert unter {folder}, aber nicht "
                  "geöffnet (kein Programm zum Anzeigen von PDF gefunden; bitte die IT "
                  "anrufen).").format(files=files, folder=folder)
    else:
        said = tr("Kein Drucker eingerichtet: {files} gespeichert unter {folder}; nicht "
                  "geöffnet werden konnte: {failed}.").format(
                      files=files, folder=folder, failed=", ".join(not_opened))
    return said + " " + tr("Nur für Sie lesbar; wird nach einem Tag automatisch gelöscht.")


# --- the buttons on a result page ------------------------------------------------------------

class PrintBar(QWidget):
    """"F5 Drucken" and "Strg+P Druckvorschau …" for the documents of a completed service,
    with the outcome of the last print under them. The keys work anywhere in the dialog."""

    def __init__(self, service: PrintService, numbers: Sequence[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("printBar")
        self.service = service
        self.numbers = list(numbers)
        self.print_button = QPushButton(tr("F5 Drucken"))
        self.print_button.setObjectName("printButton")
        self.print_button.setAccessibleName(tr("Drucken, Taste F5"))
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_now)
        self.preview_button = QPushButton(tr("Strg+P Druckvorschau …"))
        self.preview_button.setObjectName("previewButton")
        self.preview_button.setAccessibleName(tr("Druckvorschau, Strg+P"))
        self.preview_button.setAutoDefault(False)
        self.preview_button.clicked.connect(self.print_preview)
        self.outcome = QLabel()
        self.outcome.setObjectName("printOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAccessibleName(tr("Ergebnis des Druckens"))
        self.outcome.setMinimumHeight(self.outcome.fontMetrics().lineSpacing() * 3 + 4)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 4)
        column.setSpacing(4)
        row = QHBoxLayout()
        row.addWidget(self.print_button)
        row.addWidget(self.preview_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.outcome)
        self._shortcuts = []
        for key, slot in (("F5", self.print_now), ("Ctrl+P", self.print_preview)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

    def set_numbers(self, numbers: Sequence[str]) -> None:
        self.numbers = list(numbers)
        self.outcome.clear()

    def print_now(self) -> None:
        if self.isVisible() and self.numbers:
            self.outcome.setText(tr("Wird gedruckt …"))
            self.service.print_documents(self.numbers, report=self._report)

    def print_preview(self) -> None:
        if self.isVisible() and self.numbers:
            self.outcome.setText(tr("Druckvorschau wird vorbereitet …"))
            self.service.print_documents(self.numbers, preview=True, report=self._report)

    def _report(self, text: str) -> None:
        try:
            self.outcome.setText(text)
            self.outcome.setAccessibleDescription(text)
        except RuntimeError:   # the dialog was closed meanwhile
            pass


def add_print_bar(service: PrintService | None, layout: object,
                  numbers: Sequence[str]) -> PrintBar | None:
    """Put a PrintBar for `numbers` into `layout` (a QBoxLayout) if the dialog was given the
    window's print service; returns it (None without one, e.g. a dialog tested alone)."""
    if service is None or not numbers:
        return None
    bar = PrintBar(service, numbers)
    layout.addWidget(bar)  # type: ignore[attr-defined]
    return bar


__all__ = [
    "PrintBar",
    "PrintService",
    "PrinterChoice",
    "PrinterSettings",
    "add_print_bar",
    "printers_available",
    "purge_private_folder",
    "write_private_pdf",
]
