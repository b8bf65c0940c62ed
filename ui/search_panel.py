"""The search and ID-scan panel of the main window: the search field, its hints, the hit table.

Keyboard flow: type a name, a birth date (TT.MM.JJJJ) or a street with house number (searched
`DEBOUNCE_MS` after the last key, in the DB worker; the last keystroke wins); ↑/↓ move through
the hits while the cursor stays in the field; Enter opens the selected person (or the first
hit; a search in flight is waited for): `open_requested(person_id)`.

A handheld ID scanner types the machine-readable zone (MRZ) into the field like a keyboard,
with or without an Enter after each line. While the text looks like an MRZ no name search runs;
the Enters the scanner sends are noted as line ends, and `mrz_input.progress` decides when the
zone is complete and in which layout (an ID card's first 72 characters are no TD2 zone: the
zone is read when the line ends say so, no longer layout is possible, or the typing pauses for
`SCANNER_PAUSE_MS`). Then it is read (`id_scan.scan`, in the worker): one holder -> opened,
several -> listed, none -> `card_without_match(prefill, summary)`, a wrong check digit -> named
under the field; a zone that stops short says so instead of waiting for ever. The zone's text is
never logged.

The window owns the person on the right: the panel tells it when the clerk starts on the next
citizen (`next_citizen`, `emptied`) and asks it which person is open (to keep that hit selected
when the hits are read again).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeyEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clerk_app.models import PersonHit
from clerk_app.mrz import looks_like_mrz
from clerk_app.mrz_input import ZoneState, progress
from clerk_app.queue.booking_codes import QR_PREFIX
from ui.db_worker import DbWorker
from ui.enter_key import EnterKeyFilter
from ui.formatting import fmt_date
from ui.i18n import message_text, tr
from ui.operation import Op, drop
from ui.results_model import COL_ADDRESS, COL_BLOCK, COL_BORN, COL_NAME, ResultsModel
from ui.style import ERROR_RED

if TYPE_CHECKING:
    from clerk_app.id_scan import NewPersonPrefill, ScanOutcome
    from clerk_app.store.db import Store
    pass

DEBOUNCE_MS = 80
# A scanner types a zone in one burst: this long without a key, what arrived is all there is.
SCANNER_PAUSE_MS = 300
# Check-digit problems named under the field; a zone misread throughout is scanned again anyway.
MAX_SCAN_PROBLEMS = 2
RESULT_LIMIT = 50
MIN_CHARS = 2
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


def is_check_in_code(text: str) -> bool:
    """The field holds a confirmation's QR code (as the scanner types it), not a search."""
    return text.strip().upper().startswith(QR_PREFIX)


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




class SearchPanel(QWidget):
    """Search row and hint row (this widget) and the hit table (`table`, placed by the window)."""

    open_requested = Signal(str)             # a person id: open it
    next_citizen = Signal()                  # the clerk typed: the last citizen's data goes
    emptied = Signal()                       # the field was emptied (Esc, clear button, delete)
    card_without_match = Signal(object, str)  # NewPersonPrefill, its one-line summary
    check_in_scanned = Signal(str)           # a confirmation's QR code: check the booking in

    def __init__(self, db: DbWorker, open_person_id: Callable[[], str | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._open_person_id = open_person_id
        self._pending_open = False
        self._last_query = ""
        self._searching = False
        self._scanning = False      # an MRZ scan is in flight (op key "scan")
        self._refresh_seq = 0       # search number of the last `refresh_search`
        self._refresh_keep: str | None = None   # the person that refresh is for
        self._relisting = False     # a scan's hits are read again (op key "relist")
        self._zone_chars = ""       # the zone typed so far, without line breaks
        self._zone_ends: list[int] = []   # lengths of `_zone_chars` at the scanner's Enters
        self._read_zone = ""        # the zone last sent to be read (not read twice)
        self._read_at = -1e9        # time.monotonic() when it was sent
        self._build_search()
        self._build_results()
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        rows.addLayout(self._search_row)
        rows.addLayout(self._feedback_row)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)
        self._scanner_pause = QTimer(self)
        self._scanner_pause.setSingleShot(True)
        self._scanner_pause.setInterval(SCANNER_PAUSE_MS)
        self._scanner_pause.timeout.connect(lambda: self._follow_zone(paused=True))
        db.search_done.connect(self._on_search_done)
        db.search_failed.connect(self._on_search_failed)

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
        # Room for the block marker or a name the person was found by ("geb. Müller"); both,
        # or a longer name, are in the tooltip: the address keeps its room.
        header.resizeSection(COL_BLOCK, 16 + max(
            metrics.horizontalAdvance(self.model.block_text),
            metrics.horizontalAdvance("geb. Mustermann"),
            metrics.horizontalAdvance(self.model.headerData(
                COL_BLOCK, Qt.Orientation.Horizontal))))
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        # Enter in the hit table opens the selected person, as in the search field.
        EnterKeyFilter(self.table, self.open_selected)

    @property
    def busy(self) -> bool:
        """A search is waiting for its debounce or for the worker's answer."""
        return self._debounce.isActive() or self._searching or self._relisting

    def register_opened(self) -> None:
        """The register is open: run what was typed while it opened."""
        if self._last_query:
            self._run_search()

    def stop(self) -> None:
        """The window closes: no search starts any more."""
        self._debounce.stop()
        self._scanner_pause.stop()

    def focus(self, select: bool = True) -> None:
        """Cursor to the search field, its text selected for typing over."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if select:
            self.search.selectAll()

    def clear(self) -> None:
        """Empty field, no hits, no messages: ready for the next citizen."""
        self.search.clear()
        self._show_idle()

    def show_opened(self, person_id: str) -> None:
        """A person was opened: its hit selected if listed (else none, e.g. a household
        member), the hint line cleared."""
        self.message.clear()
        selected = self.selected_hit()
        if selected is None or selected.id != person_id:
            rows = [row for row, hit in enumerate(self.model.hits) if hit.id == person_id]
            if rows:
                self.table.selectRow(rows[0])
            else:
                self.table.clearSelection()

    # Search

    def _on_text_edited(self, text: str) -> None:
        self.next_citizen.emit()       # the last one's data goes away
        if is_check_in_code(text):     # a QR code being typed: no search, Enter checks in
            self._debounce.stop()
            self._show_idle()
            self.count.setText(tr("Terminbestätigung wird gelesen …"))
            return
        if is_mrz_typing(text):        # a scanner is typing a zone: no name search
            self._debounce.stop()
            self._follow_zone(paused=False)
            return
        self._scanner_pause.stop()
        self._zone_chars, self._zone_ends, self._read_zone = "", [], ""
        self._debounce.start()

    def _on_text_changed(self, text: str) -> None:
        if not text:   # Esc, the clear button, or everything deleted: ready for the next one
            self._debounce.stop()
            self._scanner_pause.stop()
            self.emptied.emit()
            self._show_idle()

    def _run_search(self) -> None:
        self._debounce.stop()
        text = self.search.text()
        if is_check_in_code(text):
            return
        if is_mrz_typing(text):
            self._follow_zone(paused=False)
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
        self._scanning = False
        drop(self, "scan")       # a scan in flight is for the last citizen
        self._pending_open = False
        self.model.clear()
        self.message.clear()
        self.count.clear()

    def refresh_search(self, person_id: str | None = None) -> None:
        """Run the current search again, e.g. after a service: the hits then show the new
        address. The selected hit stays selected where it is still listed. If `person_id`
        (the person the service was for, open on the right) is not among the new hits – a
        person just registered, one moved away from the address searched for – the search
        is of an earlier citizen and is cleared (`_forget_search`). The holders listed for a
        scanned ID card are read again."""
        if self._debounce.isActive() or self._scanning:
            return   # a search or scan of its own is on the way: its answer is fresh anyway
        if self._last_query:
            self._searching = True
            self._refresh_keep = person_id
            self._refresh_seq = self.db.search(self._last_query, RESULT_LIMIT)
        elif is_mrz_typing(self.search.text()) and self.model.rowCount():
            self._relist([hit.id for hit in self.model.hits])

    def _relist(self, person_ids: list[str]) -> None:
        text = self.search.text()
        today = date.today()
        self._relisting = True
        from clerk_app.search import hits_for

        Op(self, lambda store: hits_for(store, person_ids, today),
           lambda hits: self._on_relisted(text, hits), what="refresh hits").latest(
               "relist").failure(lambda _de, _en: self._on_relisted(text, None)).run(self.db)

    def _on_relisted(self, text: str, hits: list[PersonHit] | None) -> None:
        self._relisting = False
        if hits is not None and not self._scanning and self.search.text() == text:
            self._show_hits_keeping_selection(hits)

    def _show_hits_keeping_selection(self, hits: list[PersonHit]) -> None:
        """New hit lines for the same search: the selected hit (or else the open person)
        stays selected if listed."""
        selected = self.selected_hit()
        self.model.set_hits(hits)
        for wanted in (selected.id if selected else None, self._open_person_id()):
            row = next((row for row, hit in enumerate(hits) if hit.id == wanted), None)
            if wanted is not None and row is not None:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return

    def _on_search_done(self, seq: int, _text: str, hits: object, more: bool) -> None:
        self._searching = False
        assert isinstance(hits, list)
        if seq == self._refresh_seq:
            keep, self._refresh_keep = self._refresh_keep, None
            if keep is not None and all(hit.id != keep for hit in hits):
                self._forget_search()
                return
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

    def _forget_search(self) -> None:
        """An earlier citizen's search goes, the person open on the right stays (no
        `emptied`: that would close them)."""
        blocked = self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(blocked)
        self._show_idle()

    def _on_search_failed(self, _seq: int, message_de: str, message_en: str) -> None:
        self._searching = False
        self._pending_open = False
        self.model.clear()
        self.count.clear()
        self.show_message(message_text(message_de, message_en))

    def show_message(self, text: str) -> None:
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
        self._read_at = -1e9   # ↑/↓: the clerk chooses, so the next Enter is the clerk's
        rows = self.table.selectionModel().selectedRows()
        if rows:
            row = max(0, min(count - 1, rows[0].row() + delta))
        else:
            row = 0 if delta > 0 else count - 1
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def search_for(self, text: str) -> None:
        """Put `text` in the field and search it, as if typed (a called visit's name)."""
        self.search.setText(text)
        self._on_text_edited(text)

    def open_selected(self) -> None:
        """Enter: open the selected hit, or the first one; wait for a search in flight."""
        text = self.search.text()
        if is_check_in_code(text):
            self.search.clear()
            self.check_in_scanned.emit(text.strip())
            return
        if is_mrz_typing(self.search.text()):
            # A scanner's line break, or its Enter after the zone: never opens a guess. Once
            # a scan listed several holders, Enter opens the one chosen with ↑/↓ (an Enter
            # right after the zone came in is still the scanner's, even if the list is there).
            scanner_enter = time.monotonic() - self._read_at < SCANNER_PAUSE_MS / 1000
            if self._scanning or not self.model.rowCount() or scanner_enter:
                self._zone_line_end()
                return
            hit = self.selected_hit() or self.model.hit(0)
            if hit is not None:
                self.open_requested.emit(hit.id)
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
        self.open_requested.emit(hit.id)

    # ID scan (the zone's text goes to the worker only, never to a log or a message)

    def _zone_line_end(self) -> None:
        """The scanner sent a line break: it tells where a line of the layout ends."""
        length = len(self.search.text().strip())
        if length and length not in self._zone_ends:
            self._zone_ends.append(length)
        self._follow_zone(paused=False)

    def _follow_zone(self, *, paused: bool) -> None:
        """A zone is arriving: read it once complete, else wait (and say so), or after a
        pause say that it stopped short."""
        chars = self.search.text().strip()
        if not (chars.startswith(self._zone_chars) or self._zone_chars.startswith(chars)):
            self._zone_ends = []          # typed over, not continued: a new zone
        self._zone_ends = [end for end in self._zone_ends if end <= len(chars)]
        self._zone_chars = chars
        if chars == self._read_zone or not is_mrz_typing(chars):
            return                        # already read (its last Enter), or no zone at all
        zone = progress(chars, self._zone_ends, paused=paused)
        if zone.state is ZoneState.COMPLETE:
            self._scanner_pause.stop()
            self._read_zone = chars
            self._read_at = time.monotonic()
            self._run_scan(zone.zone)
            return
        self._show_idle()                 # a read in flight was for a shorter zone
        self._read_zone = ""
        if not paused:
            self.count.setText(tr("Ausweis wird gelesen …"))
            self._scanner_pause.start()
            return
        if zone.state is ZoneState.STOPPED and zone.expected_length is not None:
            self.show_message(tr("Ausweis nicht vollständig gelesen ({n} von {total} Zeichen). "
                                 "Bitte erneut scannen.").format(
                                     n=len(chars), total=zone.expected_length))
        elif zone.state is ZoneState.STOPPED:
            self.show_message(tr("Ausweis nicht vollständig gelesen ({n} Zeichen). "
                                 "Bitte erneut scannen.").format(n=len(chars)))
        else:
            self.show_message(tr("Ausweis nicht lesbar: die Zeichen passen zu keinem Ausweis- "
                                 "oder Passformat. Bitte erneut scannen."))
        self.search.selectAll()           # the next scan replaces it

    def _run_scan(self, text: str) -> None:
        self.db.cancel_search()
        self._searching = False
        self._pending_open = False
        self._last_query = ""
        self.model.clear()
        self.message.clear()
        self.count.setText(tr("Ausweis wird gelesen …"))
        self._scanning = True
        today = date.today()
        Op(self, lambda store: _scan_in_worker(store, text, today), self._on_scan_done,
           what="id scan").latest("scan").failure(self._on_scan_failed).run(self.db)

    def _on_scan_done(self, answer: tuple[ScanOutcome, list[PersonHit]]) -> None:
        self._scanning = False
        outcome, hits = answer
        self.search.selectAll()   # the next scan (or name) replaces the zone
        if outcome.problems_de:
            self.count.clear()
            problems = " ".join(outcome.problems_de[:MAX_SCAN_PROBLEMS])
            more = len(outcome.problems_de) - MAX_SCAN_PROBLEMS
            if more > 0:
                problems += " " + tr("(und {n} weitere)").format(n=more)
            self.show_message(tr("Ausweis nicht lesbar: {problems} Bitte erneut scannen "
                                  "oder den Namen eintippen.").format(problems=problems))
            return
        if hits:
            self.model.set_hits(hits)
            if len(hits) == 1:
                self.count.setText(tr("Ausweis gelesen: 1 Person gefunden"))
                self.table.selectRow(0)
                self.open_requested.emit(hits[0].id)
            else:
                self.count.setText(tr("Ausweis gelesen: {n} Personen – bitte mit ↑/↓ "
                                      "auswählen, Enter öffnet").format(n=len(hits)))
            return
        if outcome.prefill is not None:
            self._say_no_match(outcome.prefill)

    def _on_scan_failed(self, message_de: str, message_en: str) -> None:
        self._scanning = False
        self.count.clear()
        self.search.selectAll()
        self.show_message(message_text(message_de, message_en))

    def _say_no_match(self, prefill: NewPersonPrefill) -> None:
        """No holder in the register: say what the card says; the window offers the
        Anmeldung (`card_without_match`)."""
        summary = f"{prefill.family_name}, {prefill.first_names}"
        if prefill.birth_date is not None:
            summary += f" * {fmt_date(prefill.birth_date)}"
        self.count.setText(tr("Ausweis gelesen: keine Person im Melderegister – "
                              "{person}. Neuanmeldung mit diesen Daten möglich.").format(
                                  person=summary))
        self.count.setAccessibleDescription(self.count.text())
        self.card_without_match.emit(prefill, summary)


def _scan_in_worker(store: Store, text: str, today: date) -> tuple[ScanOutcome, list[PersonHit]]:
    """In the worker thread: read the zone, look the holder up, and the hit lines to list."""
    from clerk_app.id_scan import scan
    from clerk_app.search import hits_for

    outcome = scan(store, text, today=today)
    if not outcome.person_ids:
        return outcome, []
    return outcome, hits_for(store, list(outcome.person_ids), today)
