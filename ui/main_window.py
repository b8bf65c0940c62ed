"""The clerk's main window: type-ahead search on top, hits on the left, the person on the right.

Keyboard flow (the common case needs no mouse): type a name, a birth date (TT.MM.JJJJ) or a
street with house number; ↑/↓ move through the hits while the cursor stays in the search
field; Enter opens the selected person (or the first hit); Esc clears everything for the next
citizen; Ctrl+F jumps back to the search field with its text selected.

Services for the open person are function keys, named on the tool bar: F6 Meldebescheinigung,
F7 Lebensbescheinigung, F8 Personenstandsurkunde; F9 opens the cash desk (Kasse). Each service
is one dialog; when it is done the person is read again, the search runs again (the hits show
what the service changed: `refresh_search`) and the cursor is back in the search.

A handheld ID scanner types the machine-readable zone (MRZ) into the search field like a
keyboard. While the text looks like an MRZ no name search runs; once it is complete it is read
(`id_scan.scan`, in the worker): one holder -> opened, several -> listed, none -> the new-person
prefill is offered (`new_person_requested`), a wrong check digit -> named under the field. The
zone's text is never logged.

The sync with the central service runs in the background (`ui.sync_worker`): the status bar
says online/offline, what waits for transfer and the open Klärfälle; F12 (or that status-bar
button) opens the Klärfälle to decide them (`ui.conflicts`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QMetaMethod, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.id_scan import NewPersonPrefill, ScanOutcome, scan
from clerk_app.models import PersonHit, PersonRecord
from clerk_app.mrz import looks_like_mrz
from clerk_app.search import hits_for
from clerk_app.services.base import ServiceResult
from clerk_app.store.db import Store
from ui.db_worker import COUNTER_PURPOSE, DbWorker
from ui.draft_keeper import drafts_status, startup_drafts
from ui.formatting import fmt_date
from ui.forms import ERROR_RED, EnterKeyFilter, FormDialog
from ui.i18n import error_text, message_text, tr
from ui.person_view import PersonView
from ui.printing import PersonDocument, PrintService, person_documents
from ui.results_model import COL_ADDRESS, COL_BLOCK, COL_BORN, COL_NAME, ResultsModel
from ui.status import StatusBarWidgets
from ui.sync_worker import OK as SYNC_OK
from ui.sync_worker import SyncController

if TYPE_CHECKING:
    from ui.conflicts import ConflictsDialog

log = logging.getLogger(__name__)

DEBOUNCE_MS = 80
RESULT_LIMIT = 50
MIN_CHARS = 2
STATUS_MS = 20_000
# A date still being typed at the end of the field ("12.", "12.08", "12.08.19" is complete
# with a two-digit year, "12.08.196" is not): searched once it is complete.
PARTIAL_DATE_RE = re.compile(r"(?<![\d.])\d{1,2}\.(?:\d{1,2}(?:\.(?:\d|\d{3})?)?)?$")
# A scanner typing an MRZ: only MRZ characters, and already a filler '<' (no name has one).
# Until the zone is complete nothing is searched and Enter (the scanner's line break) is eaten.
MRZ_TYPING_RE = re.compile(r"[A-Za-z0-9<]*<[A-Za-z0-9<]*")


def is_mrz_typing(text: str) -> bool:
    """The search field holds (part of) a machine-readable zone, not a name search."""
    text = text.strip()
    return bool(text) and (MRZ_TYPING_RE.fullmatch(text) is not None or looks_like_mrz(text))


def effective_query(text: str) -> str:
    """What is worth searching for in `text` right now ('' = nothing yet)."""
    text = text.strip()
    text = PARTIAL_DATE_RE.sub("", text).strip()
    return text if len(text) >= MIN_CHARS else ""


class SearchField(QLineEdit):
    """The search field: ↑/↓/Bild↑/Bild↓ move through the hits, Enter opens, Esc clears."""

    move_selection = Signal(int)   # rows to move (negative = up)
    open_requested = Signal()
    escape_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Down:
            self.move_selection.emit(1)
        elif key == Qt.Key.Key_Up:
            self.move_selection.emit(-1)
        elif key == Qt.Key.Key_PageDown:
            self.move_selection.emit(10)
        elif key == Qt.Key.Key_PageUp:
            self.move_selection.emit(-10)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()
        elif key == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class MainWindow(QMainWindow):
    """Search, hits and the open person on one screen; all register work in `DbWorker`."""

    # A scanned ID card whose holder is not in the register: the new-person (Anmeldung) form
    # takes this prefill (a `NewPersonPrefill`).
    new_person_requested = Signal(object)
    # A counter service completed (a `ServiceResult`), after the open person was re-read.
    service_completed = Signal(object)

    def __init__(self, cfg: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self.setObjectName("mainWindow")
        title = tr("Melderegister – {office}").format(office=cfg.office_name)
        if cfg.is_demo:
            title += " – " + tr("DEMO")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(1280, 800)

        self.db = DbWorker(cfg, self)
        self._register_open = False
        self._pending_open = False
        self._last_query = ""
        self._searching = False
        self._scanning = 0          # request number of the MRZ scan in flight (0 = none)
        self._scan_seq = 0
        self._refresh_seq = 0       # search number of the last `refresh_search`
        self._relisting = 0         # request number of a scan's hits read again (0 = none)
        self._relist_seq = 0
        self.scan_prefill: NewPersonPrefill | None = None
        self.service_dialog: QDialog | None = None
        self.conflicts_dialog: ConflictsDialog | None = None   # Klärfälle (F12), at most one
        self.pending_drafts = 0     # drafts found at start (`_on_drafts`)

        self._build_search()
        self._build_results()
        self.person_view = PersonView()
        self.person_view.person_link_activated.connect(self.open_person)
        self.person_view.reprint_requested.connect(self.reprint_document)
        # Archive, print and Zweitschrift (ui.printing); dialogs find it as `printing`.
        self.printing = PrintService(cfg, self.db, self)
        self.printing.status.connect(self._show_status)
        self._documents_seq = 0

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setAccessibleName(tr("Suchergebnisse und Person"))
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.person_view)
        self.splitter.setStretchFactor(0, 9)
        self.splitter.setStretchFactor(1, 11)
        self.splitter.setSizes([640, 620])

        self.status = StatusBarWidgets(cfg, self.statusBar())
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.setSpacing(4)
        outer.addLayout(self._search_row)
        outer.addLayout(self._feedback_row)
        outer.addWidget(self.splitter, 1)
        outer.addWidget(self.status.sync_warning)   # full width, only while there is one
        self.setCentralWidget(central)

        # The sync with the central service runs in a thread of its own (ui.sync_worker);
        # it starts once the register is open and is nudged after every completed service.
        self.sync = SyncController(cfg, self.db, self)
        self.sync.changed.connect(self.status.show_sync)
        self.sync.persons_changed.connect(self._reread_after_sync)
        self.sync.withdrawn.connect(self._on_withdrawn)
        self.status.conflicts.clicked.connect(self.open_conflicts)
        self.service_completed.connect(lambda _result: self.sync.local_work_done())
        self._build_actions()
        QWidget.setTabOrder(self.search, self.table)
        QWidget.setTabOrder(self.table, self.person_view.focus_target)
        QWidget.setTabOrder(self.person_view.focus_target, self.person_view.documents)

        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.focus_search)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WindowShortcut)
        escape.activated.connect(self.reset)
        self._shortcuts = (find, escape)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)

        self.db.opened.connect(self._on_opened)
        self.db.search_done.connect(self._on_search_done)
        self.db.search_failed.connect(self._on_search_failed)
        self.db.person_done.connect(self._on_person_done)
        self.db.person_failed.connect(self._on_person_failed)
        self.db.lease_expired.connect(self._on_lease_expired)
        self.sync.synced.connect(self._renew_lease)
        self._lease_blocked = False
        self.statusBar().showMessage(tr("Melderegister wird geöffnet …"))
        self.search.setFocus()
        # F2/F3/F4 (Anmeldung, Ummeldung, Abmeldung) come from the registration dialogs.
        # Imported here, not at the top: that module imports this one. No fallback on
        # purpose: without it the window would lack the registration keys unnoticed.
        from ui import registration_actions

        registration_actions.install(self)

    # Building

    def _build_search(self) -> None:
        self.search = SearchField()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(
            tr("Name, Geburtsdatum (TT.MM.JJJJ) oder Straße Hausnummer – Strg+F"))
        self.search.setAccessibleName(tr("Suche im Melderegister"))
        self.search.setAccessibleDescription(tr(
            "Name, Geburtsdatum oder Anschrift eingeben; Pfeiltasten wählen einen Treffer, "
            "Enter öffnet ihn, Esc leert die Suche."))
        self.search.setClearButtonEnabled(True)
        font = QFont(self.search.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.search.setFont(font)
        self.search.setMinimumHeight(self.search.sizeHint().height() + 8)
        self.search.textEdited.connect(self._on_text_edited)
        self.search.textChanged.connect(self._on_text_changed)
        self.search.move_selection.connect(self.move_selection)
        self.search.open_requested.connect(self.open_selected)
        self.search.escape_pressed.connect(self.reset)

        label = QLabel(tr("&Suche:"))
        label.setBuddy(self.search)
        label_font = QFont(label.font())
        label_font.setPointSizeF(label_font.pointSizeF() * 1.15)
        label_font.setBold(True)
        label.setFont(label_font)
        self._search_row = QHBoxLayout()
        self._search_row.setSpacing(8)
        self._search_row.addWidget(label)
        self._search_row.addWidget(self.search, 1)

        self.message = QLabel()
        self.message.setObjectName("searchMessage")
        self.message.setAccessibleName(tr("Hinweis zur Suche"))
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(f"color: {ERROR_RED}; font-weight: bold;")
        self.count = QLabel()
        self.count.setObjectName("hitCount")
        self.count.setAccessibleName(tr("Trefferzahl"))
        self._feedback_row = QHBoxLayout()
        self._feedback_row.setContentsMargins(label.sizeHint().width() + 10, 0, 0, 2)
        self._feedback_row.addWidget(self.count)
        self._feedback_row.addWidget(self.message, 1)
        height = self.count.fontMetrics().height() + 4
        self.message.setMinimumHeight(height)
        self.count.setMinimumHeight(height)

    def _build_results(self) -> None:
        self.model = ResultsModel()
        self.table = QTableView()
        self.table.setObjectName("results")
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("Suchergebnisse"))
        self.table.setAccessibleDescription(tr("Treffer der Suche; Enter öffnet die Person."))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_BORN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_ADDRESS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_BLOCK, QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(40)
        header.resizeSection(COL_NAME, 205)
        bold = QFont(self.table.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        header.resizeSection(COL_BLOCK, 16 + max(
            metrics.horizontalAdvance(self.model.block_text),
            metrics.horizontalAdvance(self.model.headerData(
                COL_BLOCK, Qt.Orientation.Horizontal))))
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        # Enter in the hit table opens the selected person, as in the search field.
        EnterKeyFilter(self.table, self.open_selected)

    def _build_actions(self) -> None:
        """The function keys, each named on the tool bar ("F6 Meldebescheinigung")."""
        self.toolbar = QToolBar(tr("Dienstleistungen"))
        self.toolbar.setObjectName("serviceBar")
        self.toolbar.setAccessibleName(tr("Dienstleistungen"))
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.person_actions: list[QAction] = []
        self.certificate_actions: dict[str, QAction] = {}
        for key, kind, text in (
                ("F6", "meldebescheinigung", tr("Meldebescheinigung")),
                ("F7", "lebensbescheinigung", tr("Lebensbescheinigung")),
                ("F8", "personenstandsurkunde_antrag", tr("Personenstandsurkunde"))):
            action = self.add_function_action(
                key, text, lambda _checked=False, k=kind: self.open_certificate(k),
                needs_person=True)
            self.certificate_actions[kind] = action
        self.cash_action = self.add_function_action("F9", tr("Kasse"), self.open_cash_desk)
        self.reprint_action = self.add_function_action(
            "F10", tr("Zweitschrift"), lambda _checked=False: self.reprint_selected(),
            needs_person=True)
        self.conflicts_action = self.add_function_action(
            "F12", tr("Klärfälle"), lambda _checked=False: self.open_conflicts())
        self._update_actions()

    def add_function_action(self, key: str, text: str, slot: Callable[..., object], *,
                            needs_person: bool = False) -> QAction:
        """A function-key action on the tool bar, its key shown first ("F6 Meldebescheinigung").

        With `needs_person` it is enabled only while a person is open. For other modules too
        (the registration dialogs add F2/F3/F4 here).
        """
        action = QAction(f"{key} {text}", self)
        action.setObjectName(f"action{key}")
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text} ({key})")
        action.triggered.connect(slot)
        self.toolbar.addAction(action)
        button = self.toolbar.widgetForAction(action)
        if button is not None:
            button.setAccessibleName(f"{text}, {tr('Taste')} {key}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # keys, not Tab stops
        if needs_person:
            self.person_actions.append(action)
            action.setEnabled(self.person_view.record is not None)
        return action

    def _update_actions(self) -> None:
        open_ = self.person_view.record is not None
        for action in self.person_actions:
            action.setEnabled(open_)

    @property
    def register_open(self) -> bool:
        """The worker has opened the register: searches are answered."""
        return self._register_open

    @property
    def busy(self) -> bool:
        """A search is waiting for its debounce or for the worker's answer."""
        return self._debounce.isActive() or self._searching or bool(self._relisting)

    # Start and stop

    def start(self) -> None:
        """Start the database worker (opens the register in its own thread)."""
        self.db.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._debounce.stop()
        dialog = self.service_dialog
        if isinstance(dialog, FormDialog):
            dialog.save_draft_now()   # queued before the worker closes the register
        self.sync.shutdown()
        self.db.shutdown()
        super().closeEvent(event)

    def _on_opened(self) -> None:
        self._register_open = True
        self.statusBar().clearMessage()
        if self._last_query:
            self._run_search()
        self.printing.catch_up()   # documents a crash left without their PDF
        self.db.run(startup_drafts, self._on_drafts, None, "drafts at start")
        self.sync.start()

    def _on_lease_expired(self, message_de: str, message_en: str) -> None:
        """Too long without the centre (`clerk_app.offline_lease`): the register stays shut,
        the search with it; the sync runs, and its first success opens the register."""
        self._lease_blocked = True
        self.statusBar().clearMessage()
        self.search.setEnabled(False)
        self.message.setText(message_text(message_de, message_en))
        self.sync.start()

    def _renew_lease(self) -> None:
        outcome = self.sync.last_outcome
        if not self._lease_blocked or outcome is None or outcome.kind != SYNC_OK:
            return
        self._lease_blocked = False
        self.search.setEnabled(True)
        self.message.clear()
        self.db.reopen()

    def _on_drafts(self, kinds: list[str]) -> None:
        """The drafts kept from before (a crash, a closed window): say how to go on."""
        self.pending_drafts = len(kinds)
        if kinds:
            self.statusBar().showMessage(drafts_status(kinds))

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    # Search

    def _on_text_edited(self, text: str) -> None:
        if self.person_view.record is not None:
            self.person_view.clear()   # the next citizen: the last one's data goes away
            self._update_actions()
        self.scan_prefill = None
        if looks_like_mrz(text):       # the scanner typed the last character of the zone
            self._debounce.stop()
            self._run_scan(text)
            return
        self._debounce.start()

    def _on_text_changed(self, text: str) -> None:
        if not text:   # Esc, the clear button, or everything deleted: ready for the next one
            self._debounce.stop()
            self.person_view.clear()
            self._update_actions()
            self._show_idle()

    def _run_search(self) -> None:
        self._debounce.stop()
        text = self.search.text()
        if is_mrz_typing(text):
            if looks_like_mrz(text):
                self._run_scan(text)
            else:
                self._show_idle()
                self.count.setText(tr("Ausweis wird gelesen …"))
            return
        query = effective_query(text)
        if not query:
            if PARTIAL_DATE_RE.search(text.strip()):
                return   # a date half typed: keep the hits until it is complete
            self._show_idle()
            return
        self._last_query = query
        self._searching = True
        self.db.search(query, RESULT_LIMIT)

    def _show_idle(self) -> None:
        self.db.cancel_search()
        self._last_query = ""
        self._searching = False
        self._scanning = 0
        self._pending_open = False
        self.model.clear()
        self.message.clear()
        self.count.clear()

    def refresh_search(self) -> None:
        """Run the current search again, e.g. after a service: the hits then show the new
        address, or the person just registered. The selected hit stays selected where it is
        still listed. The holders listed for a scanned ID card are read again."""
        if self._debounce.isActive() or self._scanning:
            return   # a search or scan of its own is on the way: its answer is fresh anyway
        if self._last_query:
            self._searching = True
            self._refresh_seq = self.db.search(self._last_query, RESULT_LIMIT)
        elif is_mrz_typing(self.search.text()) and self.model.rowCount():
            self._relist([hit.id for hit in self.model.hits])

    def _relist(self, person_ids: list[str]) -> None:
        text = self.search.text()
        today = date.today()
        self._relist_seq += 1
        request = self._relisting = self._relist_seq
        self.db.run(lambda store: hits_for(store, person_ids, today),
                    lambda hits: self._on_relisted(request, text, hits),
                    lambda _de, _en: self._on_relisted(request, text, None), "refresh hits")

    def _on_relisted(self, request: int, text: str, hits: list[PersonHit] | None) -> None:
        if request != self._relisting:
            return
        self._relisting = 0
        if hits is not None and not self._scanning and self.search.text() == text:
            self._show_hits_keeping_selection(hits)

    def _show_hits_keeping_selection(self, hits: list[PersonHit]) -> None:
        """New hit lines for the same search: the selected hit (or else the open person)
        stays selected if listed."""
        selected = self.selected_hit()
        record = self.person_view.record
        self.model.set_hits(hits)
        for wanted in (selected.id if selected else None, record.id if record else None):
            row = next((row for row, hit in enumerate(hits) if hit.id == wanted), None)
            if wanted is not None and row is not None:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return

    def _on_search_done(self, seq: int, _text: str, hits: object, more: bool) -> None:
        self._searching = False
        assert isinstance(hits, list)
        if seq == self._refresh_seq:
            self._show_hits_keeping_selection(hits)
        else:
            self.model.set_hits(hits)
        self.message.clear()
        if not hits:
            self.count.setText(tr("Keine Treffer"))
        elif more:
            self.count.setText(tr("Mehr als {n} Treffer – bitte genauer suchen").format(
                n=RESULT_LIMIT))
        elif len(hits) == 1:
            self.count.setText(tr("1 Treffer"))
        else:
            self.count.setText(tr("{n} Treffer").format(n=len(hits)))
        self.count.setAccessibleDescription(self.count.text())
        if self._pending_open:
            self._pending_open = False
            if hits:
                self.open_selected()

    def _on_search_failed(self, _seq: int, message_de: str, message_en: str) -> None:
        self._searching = False
        self._pending_open = False
        self.model.clear()
        self.count.clear()
        self._show_message(message_text(message_de, message_en))

    def _show_message(self, text: str) -> None:
        self.message.setText("⚠ " + text)
        self.message.setAccessibleDescription(text)

    # Selection and opening

    def selected_hit(self) -> PersonHit | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.hit(rows[0].row()) if rows else None

    def move_selection(self, delta: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            row = max(0, min(count - 1, rows[0].row() + delta))
        else:
            row = 0 if delta > 0 else count - 1
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def open_selected(self) -> None:
        """Enter: open the selected hit, or the first one; wait for a search in flight."""
        if is_mrz_typing(self.search.text()):
            # A scanner's line break, or its Enter after the zone: never opens a guess. Once
            # a scan listed several holders, Enter opens the one chosen with ↑/↓.
            if self._scanning or not self.model.rowCount():
                return
            hit = self.selected_hit() or self.model.hit(0)
            if hit is not None:
                self.open_person(hit.id)
            return
        if self._debounce.isActive() or self._searching:
            if self._debounce.isActive():
                self._run_search()
            self._pending_open = bool(self._last_query)
            return
        hit = self.selected_hit() or self.model.hit(0)
        if hit is None:
            return
        if self.selected_hit() is None:
            self.table.selectRow(0)
        self.open_person(hit.id)

    def open_person(self, person_id: str) -> None:
        self.db.open_person(person_id)
        self.statusBar().showMessage(tr("Person wird geöffnet …"))

    def _on_person_done(self, _request: int, record: object) -> None:
        assert isinstance(record, PersonRecord)
        self.statusBar().clearMessage()
        self.message.clear()
        selected = self.selected_hit()
        if selected is None or selected.id != record.id:
            rows = [row for row, hit in enumerate(self.model.hits) if hit.id == record.id]
            if rows:
                self.table.selectRow(rows[0])
            else:
                self.table.clearSelection()   # e.g. a household member, not in the hits
        self.person_view.show_record(record)
        self._update_actions()
        self._load_documents(record.id)
        if self.service_dialog is None:
            self.focus_search(select=False)

    def _on_withdrawn(self) -> None:
        """The centre withdrew this workstation (the sync thread destroyed its register key
        and register): close everything that shows or holds citizens' data and show only the
        notice (`ui.withdrawn`)."""
        from clerk_app.withdrawal import remove_local_data
        from ui.withdrawn import WithdrawnNotice

        for dialog in (self.service_dialog, self.conflicts_dialog):
            if dialog is not None:
                dialog.reject()
        self.person_view.clear()
        self.db.shutdown()
        remove_local_data(self.cfg)   # what the sync thread could not delete while open here
        for action in self.findChildren(QAction):
            action.setEnabled(False)
        for shortcut in self.findChildren(QShortcut):
            shortcut.setEnabled(False)
        self.menuBar().hide()
        self.statusBar().hide()
        for toolbar in self.findChildren(QToolBar):
            toolbar.hide()
        notice = WithdrawnNotice()
        self.setCentralWidget(notice)
        notice.setFocus()

    def _reread_after_sync(self, person_ids: frozenset[str]) -> None:
        """The sync wrote the open person (another office's change, a Klärfall decided): show
        the record as it is now, in place (selection and focus stay where the clerk is)."""
        from clerk_app.person_record import open_person  # as DbWorker.open_person does

        record = self.person_view.record
        if record is None or record.id not in person_ids:
            return
        person_id = record.id

        def shown(fresh: object) -> None:
            current = self.person_view.record
            if isinstance(fresh, PersonRecord) and current is not None and \
                    current.id == person_id:
                self.person_view.show_record(fresh)
                self._load_documents(person_id)

        self.db.run(lambda store: open_person(store, person_id, COUNTER_PURPOSE,
                                              "nach Abgleich neu gelesen"),
                    shown, lambda de, en: self._show_status(message_text(de, en)),
                    "person read again after a sync")

    # Documents of the open person and the Zweitschrift

    def _load_documents(self, person_id: str) -> None:
        self._documents_seq += 1
        request = self._documents_seq
        self.db.run(lambda store: person_documents(store, person_id),
                    lambda docs: self._on_documents(request, person_id, docs),
                    lambda de, en: self._show_status(message_text(de, en)),
                    "person documents")

    def _on_documents(self, request: int, person_id: str,
                      documents: list[PersonDocument]) -> None:
        record = self.person_view.record
        if request != self._documents_seq or record is None or record.id != person_id:
            return
        selected = self.person_view.selected_document()
        self.person_view.show_documents(documents)
        if selected is not None:
            self.person_view.select_document(selected)

    def reprint_selected(self) -> None:
        """F10: a Zweitschrift of the document selected in the person's 'Dokumente'."""
        number = self.person_view.selected_document()
        if number is None:
            self._show_status(tr("Keine Dokumente zu dieser Person – keine Zweitschrift "
                                 "möglich."))
            return
        self.reprint_document(number)

    def reprint_document(self, number: str) -> None:
        self._show_status(tr("Zweitschrift von {number} wird erstellt …").format(
            number=number))
        record = self.person_view.record
        person_id = record.id if record is not None else None

        def done(text: str) -> None:
            self._show_status(text)
            if person_id is not None:
                self._load_documents(person_id)

        self.printing.reprint(number, report=done)

    def _on_person_failed(self, _request: int, message_de: str, message_en: str) -> None:
        self.statusBar().clearMessage()
        self._show_message(message_text(message_de, message_en))

    # Keys

    def focus_search(self, select: bool = True) -> None:
        """Ctrl+F: cursor to the search field, its text selected for typing over."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if select:
            self.search.selectAll()

    def reset(self) -> None:
        """Esc: empty search, no hits, no person: ready for the next citizen."""
        self.search.clear()
        self.person_view.clear()
        self.scan_prefill = None
        self._update_actions()
        self._show_idle()
        self.focus_search()

    # ID scan (the zone's text goes to the worker only, never to a log or a message)

    def _run_scan(self, text: str) -> None:
        self.db.cancel_search()
        self._searching = False
        self._pending_open = False
        self._last_query = ""
        self.model.clear()
        self.message.clear()
        self.count.setText(tr("Ausweis wird gelesen …"))
        self._scan_seq += 1
        request = self._scan_seq
        self._scanning = request
        today = date.today()
        self.db.run(lambda store: _scan_in_worker(store, text, today),
                    lambda answer: self._on_scan_done(request, answer),
                    lambda de, en: self._on_scan_failed(request, de, en), "id scan")

    def _on_scan_done(self, request: int, answer: tuple[ScanOutcome, list[PersonHit]]) -> None:
        if request != self._scanning:
            return   # the clerk typed on or pressed Esc meanwhile
        self._scanning = 0
        outcome, hits = answer
        self.search.selectAll()   # the next scan (or name) replaces the zone
        if outcome.problems_de:
            self.count.clear()
            self._show_message(tr("Ausweis nicht lesbar: {problems} Bitte erneut scannen "
                                  "oder den Namen eintippen.").format(
                                      problems=" ".join(outcome.problems_de)))
            return
        if hits:
            self.model.set_hits(hits)
            if len(hits) == 1:
                self.count.setText(tr("Ausweis gelesen: 1 Person gefunden"))
                self.table.selectRow(0)
                self.open_person(hits[0].id)
            else:
                self.count.setText(tr("Ausweis gelesen: {n} Personen – bitte mit ↑/↓ "
                                      "auswählen, Enter öffnet").format(n=len(hits)))
            return
        if outcome.prefill is not None:
            self._offer_new_person(outcome.prefill)

    def _on_scan_failed(self, request: int, message_de: str, message_en: str) -> None:
        if request != self._scanning:
            return
        self._scanning = 0
        self.count.clear()
        self.search.selectAll()
        self._show_message(message_text(message_de, message_en))

    def _offer_new_person(self, prefill: NewPersonPrefill) -> None:
        """No holder in the register: offer the Anmeldung with what the card says."""
        self.scan_prefill = prefill
        summary = f"{prefill.family_name}, {prefill.first_names}"
        if prefill.birth_date is not None:
            summary += f" * {fmt_date(prefill.birth_date)}"
        self.count.setText(tr("Ausweis gelesen: keine Person im Melderegister – "
                              "{person}. Neuanmeldung mit diesen Daten möglich.").format(
                                  person=summary))
        self.count.setAccessibleDescription(self.count.text())
        hint = prefill.hint_de
        if not self._has_new_person_receiver():
            hint = tr("Neuanmeldung: {person}, Dokument {number}. {hint}").format(
                person=summary, number=prefill.document_number, hint=hint)
        self.statusBar().showMessage(hint)
        self.new_person_requested.emit(prefill)

    def _has_new_person_receiver(self) -> bool:
        return self.isSignalConnected(QMetaMethod.fromSignal(self.new_person_requested))

    # Services

    def open_certificate(self, kind: str) -> None:
        """F6/F7/F8: the certificate dialog for the open person."""
        record = self.person_view.record
        if record is None or self.raise_service_dialog():
            return
        from ui.certificate_dialogs import certificate_dialog

        try:
            dialog = certificate_dialog(kind, record, self.db, self, demo=self.cfg.is_demo)
        except ClerkError as exc:   # e.g. the fee schedule lacks the service: say so
            log.error("cannot open the %s dialog: %s", kind, exc.message_en)
            self._show_message(error_text(exc))
            return
        self._show_service_dialog(dialog)

    def open_cash_desk(self) -> None:
        """F9: today's cash journal, Storno and the daily closing."""
        if self.raise_service_dialog():
            return
        from ui.cash_desk import CashDeskDialog

        self._show_service_dialog(CashDeskDialog(self.db, self, demo=self.cfg.is_demo))

    def raise_service_dialog(self) -> bool:
        """One service at a time: a dialog already open comes to the front instead."""
        dialog = self.service_dialog
        if dialog is None:
            return False
        dialog.raise_()
        dialog.activateWindow()
        return True

    def _show_service_dialog(self, dialog: QDialog) -> None:
        self.service_dialog = dialog
        if isinstance(dialog, FormDialog):
            dialog.start_drafts(self.db)
        completed = getattr(dialog, "completed", None)
        if completed is not None:
            completed.connect(self._on_service_completed)
        dialog.finished.connect(self._on_service_dialog_closed)
        dialog.open()

    def _on_service_completed(self, result: object) -> None:
        """Read the open person again (the service may have changed it)."""
        assert isinstance(result, ServiceResult)
        record = self.person_view.record
        self.after_service(result, record.id if record is not None else None)

    def after_service(self, result: ServiceResult, person_id: str | None) -> None:
        """A service completed (for every service dialog, also the registration ones): show
        `person_id` read again, run the search again (the hits may show what the service
        changed), then tell the others (`service_completed`)."""
        self.printing.archive_issued([d.number for d in result.documents])
        if person_id is not None:
            self.open_person(person_id)
        self.refresh_search()
        self.service_completed.emit(result)

    # Klärfälle

    def open_conflicts(self) -> None:
        """F12 or the status bar's Klärfälle: the open Klärfälle, to be decided."""
        if self.conflicts_dialog is not None:
            self.conflicts_dialog.raise_()
            self.conflicts_dialog.activateWindow()
            return
        # Imported on first use: it loads the sync engine, which the window's start does not need.
        from ui.conflicts import ConflictsDialog

        dialog = ConflictsDialog(self.db, self)
        dialog.decided.connect(self.sync.local_work_done)
        self.sync.synced.connect(dialog.reload)
        dialog.finished.connect(self._on_conflicts_closed)
        self.conflicts_dialog = dialog
        dialog.open()

    def _on_conflicts_closed(self, _code: int) -> None:
        dialog = self.conflicts_dialog
        self.conflicts_dialog = None
        if dialog is not None:
            self.sync.synced.disconnect(dialog.reload)
            dialog.deleteLater()
        self.sync.refresh_status()
        self.activateWindow()
        self.focus_search()

    def _on_service_dialog_closed(self, _code: int) -> None:
        dialog = self.service_dialog
        self.service_dialog = None
        if dialog is not None:
            dialog.deleteLater()
        self.activateWindow()
        self.focus_search()


def _scan_in_worker(store: Store, text: str, today: date) -> tuple[ScanOutcome, list[PersonHit]]:
    """In the worker thread: read the zone, look the holder up, and the hit lines to list."""
    outcome = scan(store, text, today=today)
    if not outcome.person_ids:
        return outcome, []
    return outcome, hits_for(store, list(outcome.person_ids), today)
