"""The clerk's main window: type-ahead search on top, hits on the left, the person on the right.

Keyboard flow (the common case needs no mouse): type a name, a birth date (TT.MM.JJJJ) or a
street with house number; ↑/↓ move through the hits while the cursor stays in the search
field; Enter opens the selected person (or the first hit); Esc clears everything for the next
citizen; Ctrl+F jumps back to the search field with its text selected. The search field, its
hints, the hit table and the ID-card scan are `ui.search_panel`; this window opens the person
the panel names and shows it (`ui.person_view`).

Every function key comes from one table (`ui.function_keys`): F2-F4 registration, F6
Meldebescheinigung, F7 Lebensbescheinigung, F8 Personenstandsurkunde, F9 the cash desk (Kasse),
F10 Zweitschrift, F12 Klärfälle. Each service is one dialog; when it is done the person is read
again, the search runs again (the hits show what the service changed: `refresh_search`) and
the cursor is back in the search.

An ID card scanned without a holder in the register is offered for the Anmeldung
(`new_person_requested`, with `scan_prefill` kept for F2).

The sync with the central service runs in the background (`ui.sync_worker`): the status bar
says online/offline, what waits for transfer and the open Klärfälle; F12 (or that status-bar
button) opens the Klärfälle to decide them (`ui.conflicts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMetaMethod, Qt, Signal, SignalInstance
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QShortcut,
    QStatusTipEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from clerk_app.clerks import CASH_REOPEN_DAY, Actor
from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.models import PersonHit, PersonRecord
from clerk_app.services.base import ServiceResult
from clerk_app.store.opening import actor_of
from ui.db_worker import COUNTER_PURPOSE, DbWorker
from ui.draft_keeper import drafts_status, startup_drafts
from ui.function_keys import bind_function_keys
from ui.help import DialogKeys, HelpDialog, screen_in_view
from ui.i18n import error_text, message_text, tr
from ui.operation import Op
from ui.person_view import PersonView
from ui.printing import PrintService
from ui.registration.actions import RegistrationActions
from ui.screen_lock import ScreenLock
from ui.search_panel import SearchPanel
from ui.status import MessageStatusBar, StatusBarWidgets
from ui.style import FOCUS_CSS
from ui.sync_worker import OK as SYNC_OK
from ui.sync_worker import SyncController

if TYPE_CHECKING:
    from clerk_app.documents import PersonDocument
    from clerk_app.id_scan import NewPersonPrefill
    from clerk_app.services.base import ServiceResult
    from ui.conflicts import ConflictsDialog
    from ui.queue.panel import QueuePanel

log = logging.getLogger(__name__)

STATUS_MS = 20_000
QUEUE_WIDTH = 400   # the queue panel's share of the 1280 px window


def ask_quit(parent: QWidget) -> bool:
    """Ctrl+Q with typed input in an open service: end anyway? Enter and Esc keep working."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(tr("Programm beenden?"))
    box.setText(tr("Programm beenden?"))
    box.setInformativeText(tr("Der offene Vorgang ist nicht abgeschlossen; die Eingaben "
                              "bleiben als Entwurf erhalten."))
    end = box.addButton(tr("Beenden"), QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(tr("Weiter arbeiten"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is end


class MainWindow(QMainWindow):
    """Search, hits and the open person on one screen; all register work in `DbWorker`."""

    # A scanned ID card whose holder is not in the register: the new-person (Anmeldung) form
    # takes this prefill (a `NewPersonPrefill`).
    new_person_requested = Signal(object)
    # A counter service completed (a `ServiceResult`), after the open person was re-read.
    service_completed = Signal(object)

    def __init__(self, cfg: Config, actor: Actor | None = None,
                 parent: QWidget | None = None, *, clerk_session: str | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        self._withdrawn = False   # the centre withdrew this workstation: only the notice
        # The logged-in clerk (the demo clerk in demo mode): every register read and service
        # of this window runs as this clerk.
        self.actor = actor_of(cfg, actor)
        self.clerk_session = clerk_session   # the central clerk session (None: offline, demo)
        self.setObjectName("mainWindow")
        self.setStyleSheet(FOCUS_CSS)   # its dialogs inherit it: the focus always visible
        title = tr("Melderegister – {office}").format(office=cfg.office_name)
        if cfg.is_demo:
            title += " – " + tr("DEMO")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(1280, 800)

        self.db = DbWorker(cfg, self.actor, self)
        self._register_open = False
        self.scan_prefill: NewPersonPrefill | None = None
        self.service_dialog: QDialog | None = None
        self.conflicts_dialog: ConflictsDialog | None = None   # Klärfälle (F12), at most one
        self.pending_drafts = 0     # drafts found at start (`_on_drafts`)

        self.person_view = PersonView()
        # Search field, hints and hits (ui.search_panel); the window keeps the person.
        self.search_panel = SearchPanel(self.db, self._open_person_id)
        self.search = self.search_panel.search
        self.message = self.search_panel.message
        self.count = self.search_panel.count
        self.model = self.search_panel.model
        self.table = self.search_panel.table
        self.search_panel.open_requested.connect(self.open_person)
        self.search_panel.next_citizen.connect(self._on_next_citizen)
        self.search_panel.emptied.connect(self._clear_person)
        self.search_panel.card_without_match.connect(self._offer_new_person)
        self.search.escape_pressed.connect(self.reset)
        self.person_view.person_link_activated.connect(self.open_person)
        self.person_view.reprint_requested.connect(self.reprint_document)
        # Archive, print and Zweitschrift (ui.printing); handed to each service dialog.
        self.printing = PrintService(cfg, self.db, self)
        self.printing.status.connect(self._show_status)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setAccessibleName(tr("Suchergebnisse und Person"))
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.person_view)
        self.splitter.setStretchFactor(0, 9)
        self.splitter.setStretchFactor(1, 11)
        self.splitter.setSizes([640, 620])

        self.status_bar = MessageStatusBar(self)
        self.setStatusBar(self.status_bar)
        self.status = StatusBarWidgets(cfg, self.actor, self.status_bar)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.setSpacing(4)
        outer.addWidget(self.search_panel)
        outer.addWidget(self.splitter, 1)
        outer.addWidget(self.status.sync_warning)   # full width, only while there is one
        outer.addWidget(self.status_bar.message_line)   # the status messages, wrapped
        self.setCentralWidget(central)

        # The sync with the central service runs in a thread of its own (ui.sync_worker);
        # it starts once the register is open and is nudged after every completed service.
        self.sync = SyncController(cfg, self.db, self, clerk_session=clerk_session)
        self.sync.changed.connect(self.status.show_sync)
        self.sync.persons_changed.connect(self._reread_after_sync)
        self.sync.withdrawn.connect(self._on_withdrawn)
        self.status.conflicts.clicked.connect(self.open_conflicts)
        self.service_completed.connect(lambda _result: self.sync.local_work_done())
        # F2/F3/F4: the registration dialogs' opener (the dialogs load on the first key).
        self.registration: RegistrationActions = RegistrationActions(self)
        # The queue panel (ui.queue.panel), where this workstation calls to a counter.
        self.queue_panel: QueuePanel | None = None
        if cfg.queue_counter:
            self._build_queue_panel()
        self._build_actions()
        QWidget.setTabOrder(self.search, self.table)
        QWidget.setTabOrder(self.table, self.person_view.focus_target)
        QWidget.setTabOrder(self.person_view.focus_target, self.person_view.documents)

        # F1 and Ctrl+Q inside a service dialog (the key table's actions do not reach it).
        self.dialog_keys = DialogKeys(self)
        self.help_dialog: HelpDialog | None = None
        # Asked before Ctrl+Q ends a service with typed input (tests replace it).
        self.confirm_quit: Callable[[], bool] = lambda: ask_quit(self)

        self.db.opened.connect(self._on_opened)
        self.db.person_done.connect(self._on_person_done)
        self.db.person_failed.connect(self._on_person_failed)
        self.db.lease_expired.connect(self._on_lease_expired)
        self.sync.synced.connect(self._renew_lease)
        self._lease_blocked = False
        self.statusBar().showMessage(tr("Melderegister wird geöffnet …"))
        self.search.setFocus()
        # Idle lock and Ctrl+L (ui.screen_lock); last, so that it finds every key to turn off.
        self.screen_lock: ScreenLock = ScreenLock(self, cfg.idle_lock_minutes)

    # Building

    def _build_actions(self) -> None:
        """The function keys, from the one table in `ui.function_keys`, on the tool bar."""
        self.toolbar = QToolBar(tr("Dienstleistungen"))
        self.toolbar.setObjectName("serviceBar")
        self.toolbar.setAccessibleName(tr("Dienstleistungen"))
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.function_actions = bind_function_keys(self, self.toolbar, self.menuBar())
        self.person_actions = [action for action in self.function_actions.values()
                               if action.property("needs_person")]
        self.certificate_actions = {"meldebescheinigung": self.function_actions["F6"],
                                    "lebensbescheinigung": self.function_actions["F7"],
                                    "personenstandsurkunde_antrag": self.function_actions["F8"]}
        if self.queue_panel is not None:
            self.queue_panel.add_buttons(self.function_actions)
        self.cash_action = self.function_actions["F9"]
        self.reprint_action = self.function_actions["F10"]
        self.conflicts_action = self.function_actions["F12"]
        self._update_actions()

    def _build_queue_panel(self) -> None:
        from ui.queue.panel import QueuePanel

        panel = QueuePanel(self.cfg, self.db, self._open_citizen, self.search.text,
                           clerk_session=self.clerk_session)
        dock = QDockWidget(tr("Warteschlange"), self)
        dock.setObjectName("queueDock")
        dock.setAccessibleName(tr("Warteschlange"))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [QUEUE_WIDTH], Qt.Orientation.Horizontal)
        self.search_panel.check_in_scanned.connect(panel.check_in)
        # The counter service done for the called visit: linked to it, with the citizen.
        self.service_completed.connect(
            lambda result: panel.service_completed(result, self._open_person_id()))
        self.queue_panel = panel

    def _open_citizen(self, person_id: str | None, name: str) -> None:
        """The called citizen is at the counter: their person opened if the visit knows it,
        else their name searched (a booked appointment), else the search ready to type."""
        if person_id:
            self.open_person(person_id)
        elif name:
            self.search_panel.search_for(name)
        self.focus_search(select=True)

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
        return self.search_panel.busy

    # Help and quitting

    def show_help(self) -> None:
        """F1: the keys and a short help for the screen in view (`ui.help`)."""
        if self.help_dialog is not None:
            self.help_dialog.raise_()
            return
        dialog = HelpDialog(self, screen_in_view(self))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_help_closed)
        self.help_dialog = dialog
        dialog.open()

    def _on_help_closed(self, _code: int) -> None:
        self.help_dialog = None

    def request_quit(self) -> None:
        """Ctrl+Q: close the program, with the usual guards: never while a service is being
        saved, and with typed input in an open service only after asking (it stays as a
        draft either way)."""
        from ui.form_dialog import FormDialog

        dialog = self.service_dialog
        if isinstance(dialog, FormDialog):
            if dialog.busy:
                self._show_status(tr("Bitte warten: Der Vorgang wird gerade gespeichert."))
                return
            if dialog.has_unsaved_input() and not self.confirm_quit():
                return
        self.close()

    # Start and stop

    def start(self) -> None:
        """Start the database worker (opens the register in its own thread)."""
        self.db.start()

    def event(self, event: QEvent) -> bool:
        """A tool-bar button's status tip goes to the message line (Qt would paint it into
        the bar itself, over a message the clerk has not read yet)."""
        if isinstance(event, QStatusTipEvent) and not self._withdrawn:
            self.status_bar.show_tip(event.tip())
            return True
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.dialog_keys.stop()
        if not self._withdrawn:   # else the panel went with the old central widget
            self.search_panel.stop()
        from ui.form_dialog import FormDialog

        dialog = self.service_dialog
        if isinstance(dialog, FormDialog):
            dialog.save_draft_now()   # queued before the worker closes the register
        if self.queue_panel is not None:
            self.queue_panel.stop()
        self.sync.shutdown()
        self.db.shutdown()
        super().closeEvent(event)

    def _on_opened(self) -> None:
        self._register_open = True
        # IT reads start times from the log; benchmarks/bench_installed_start.py times to it.
        log.info("window ready: register open")
        self.statusBar().clearMessage()
        self.search_panel.register_opened()
        self.printing.catch_up()   # documents a crash left without their PDF
        Op(self, startup_drafts, self._on_drafts, what="drafts at start").run(self.db)
        if self.queue_panel is not None:
            self.queue_panel.start()
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

    # The person on the right

    def _open_person_id(self) -> str | None:
        record = self.person_view.record
        return record.id if record is not None else None

    def _clear_person(self) -> None:
        self.person_view.clear()
        self._update_actions()

    def _on_next_citizen(self) -> None:
        """The clerk typed in the search: the last citizen's data and card go away."""
        if self.person_view.record is not None:
            self._clear_person()
        self.scan_prefill = None

    def selected_hit(self) -> PersonHit | None:
        return self.search_panel.selected_hit()

    def refresh_search(self, person_id: str | None = None) -> None:
        """Run the current search again (after a service: the hits show what changed; a
        search `person_id` is not among any more is cleared)."""
        self.search_panel.refresh_search(person_id)

    def open_person(self, person_id: str) -> None:
        self.db.open_person(person_id)
        self.statusBar().showMessage(tr("Person wird geöffnet …"))

    def _on_person_done(self, record: object) -> None:
        assert isinstance(record, PersonRecord)
        self.statusBar().clearMessage()
        self.search_panel.show_opened(record.id)
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

        if self._withdrawn:
            return
        for dialog in (self.service_dialog, self.conflicts_dialog):
            if dialog is not None:
                dialog.reject()
        self.search_panel.stop()
        self._withdrawn = True
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

        Op(self, lambda store: open_person(store, person_id, COUNTER_PURPOSE,
                                           "nach Abgleich neu gelesen"),
           shown, what="person read again after a sync").failure(
               lambda de, en: self._show_status(message_text(de, en))).run(self.db)

    # Documents of the open person and the Zweitschrift

    def _load_documents(self, person_id: str) -> None:
        from clerk_app.documents import person_documents

        Op(self, lambda store: person_documents(store, person_id),
           lambda docs: self._on_documents(person_id, docs), what="person documents").latest(
               "documents").failure(
                   lambda de, en: self._show_status(message_text(de, en))).run(self.db)

    def _on_documents(self, person_id: str, documents: list[PersonDocument]) -> None:
        record = self.person_view.record
        if record is None or record.id != person_id:
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

    def _on_person_failed(self, message_de: str, message_en: str) -> None:
        self.statusBar().clearMessage()
        self.search_panel.show_message(message_text(message_de, message_en))

    # Keys

    def focus_search(self, select: bool = True) -> None:
        """Ctrl+F: cursor to the search field, its text selected for typing over."""
        self.search_panel.focus(select)

    def reset(self) -> None:
        """Esc: empty search, no hits, no person: ready for the next citizen."""
        self.search_panel.clear()
        self._clear_person()
        self.scan_prefill = None
        self.focus_search()

    # An ID card without a holder in the register

    def _offer_new_person(self, prefill: NewPersonPrefill, summary: str) -> None:
        """Offer the Anmeldung with what the card says (`new_person_requested`)."""
        self.scan_prefill = prefill
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
            dialog = certificate_dialog(kind, record, self.db, self, demo=self.cfg.is_demo,
                                        printing=self.printing)
        except ClerkError as exc:   # e.g. the fee schedule lacks the service: say so
            log.error("cannot open the %s dialog: %s", kind, exc.message_en)
            self.search_panel.show_message(error_text(exc))
            return
        self._show_service_dialog(dialog, dialog.completed)

    def open_cash_desk(self) -> None:
        """F9: today's cash journal, Storno and the daily closing."""
        if self.raise_service_dialog():
            return
        from ui.cash_desk import CashDeskDialog

        dialog = CashDeskDialog(self.db, self, demo=self.cfg.is_demo, printing=self.printing,
                                may_reopen=self.actor.may(CASH_REOPEN_DAY))
        self._show_service_dialog(dialog, dialog.completed)

    def raise_service_dialog(self) -> bool:
        """One service at a time: a dialog already open comes to the front instead."""
        dialog = self.service_dialog
        if dialog is None:
            return False
        dialog.raise_()
        dialog.activateWindow()
        return True

    def _show_service_dialog(self, dialog: QDialog, completed: SignalInstance) -> None:
        """Show `dialog`; its `completed(ServiceResult)` signal, given explicitly, reads the
        open person again."""
        from ui.form_dialog import FormDialog

        self.service_dialog = dialog
        if isinstance(dialog, FormDialog):
            dialog.start_drafts(self.db)
        completed.connect(self._on_service_completed)
        dialog.finished.connect(self._on_service_dialog_closed)
        dialog.open()

    def _on_service_completed(self, result: object) -> None:
        """Read the open person again (the service may have changed it)."""
        from clerk_app.services.base import ServiceResult

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
        self.refresh_search(person_id)
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


