"""The Posteingang: online applications as the sync brought them, worked by keyboard.

Up/Down walk the list; each item shown is opened through the core (logged in the access log)
with its data and the register's matching persons. Alt+B takes it into work (one clerk at a
time: the central service decides), Alt+E runs the counter service the request asks for,
prefilled, for the chosen person and records it done (the sealed PDF goes to the citizen's
portal mailbox, or the cover letter for the post is printed), Alt+W accepts an online change
of address pending identification (the letter with the confirmation code is printed), Alt+L
rejects with a reason the citizen is told. Everything runs in the DB worker; the sync sends it.
Letters print the way documents do (`PrintService.print_letter`): to the remembered printer,
checked in its queue; without a printer saved privately and opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from clerk_app import inbox, letters
from clerk_app.access_report import local_time
from clerk_app.fees import format_cents
from clerk_app.ids import uuid7
from clerk_app.inbox import InboxLine, OpenedItem
from clerk_app.letters import Letter
from clerk_app.online_requests import (
    AddressChange,
    CivilStatusRequest,
    MeldebescheinigungRequest,
)
from clerk_app.services.runner import run_service
from ui.i18n import tr
from ui.operation import Op

if TYPE_CHECKING:
    from clerk_app.store.db import Store
    from ui.main_window import MainWindow

OPEN_STATES = ("new", "in_work", "waiting")
PrintedLetter = tuple[str, Letter, bytes]  # the print job's (and file's) name, letter, its PDF
ALL_STATES = (*OPEN_STATES, "done", "rejected")


def state_text(state: str) -> str:
    return {"new": tr("neu"), "in_work": tr("in Bearbeitung"),
            "waiting": tr("wartet auf Bürger/in"), "done": tr("erledigt"),
            "rejected": tr("abgelehnt")}[state]


def columns() -> list[str]:
    return [tr("Eingang"), tr("Antrag"), tr("Antragsteller/in"), tr("Status"),
            tr("Bearbeitung")]


class InboxDialog(QDialog):
    """Posteingang of the office's online applications."""

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.lines: list[InboxLine] = []
        self.count = ""
        self.opened: OpenedItem | None = None
        self.notice = ""   # what the last action did, shown once the list is read again
        self.printed = ""  # what became of the last action's letter (printed, saved)
        self.setObjectName("inboxDialog")
        self.setWindowTitle(tr("Posteingang – Online-Anträge"))
        self.setAccessibleName(tr("Posteingang"))
        self.resize(1100, 620)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.setObjectName("inboxFilter")
        self.filter.setAccessibleName(tr("Anzeigen"))
        self.filter.addItem(tr("Offene Anträge"), OPEN_STATES)
        self.filter.addItem(tr("Alle Anträge"), ALL_STATES)
        self.filter.currentIndexChanged.connect(lambda _i: self.refresh())
        filter_label = QLabel(tr("&Anzeigen:"))
        filter_label.setBuddy(self.filter)
        top.addWidget(filter_label)
        top.addWidget(self.filter)
        top.addStretch(1)
        layout.addLayout(top)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, len(columns()))
        self.table.setObjectName("inboxTable")
        self.table.setAccessibleName(tr("Online-Anträge"))
        self.table.setHorizontalHeaderLabels(columns())
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.currentCellChanged.connect(lambda row, *_: self._open_row(row))
        splitter.addWidget(self.table)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        self.detail = QTextBrowser()
        self.detail.setObjectName("inboxDetail")
        self.detail.setAccessibleName(tr("Angaben des Antrags"))
        detail_layout.addWidget(self.detail, 3)
        matches_label = QLabel(tr("&Passende Personen im Melderegister:"))
        self.matches = QListWidget()
        self.matches.setObjectName("inboxMatches")
        self.matches.setAccessibleName(tr("Passende Personen im Melderegister"))
        matches_label.setBuddy(self.matches)
        detail_layout.addWidget(matches_label)
        detail_layout.addWidget(self.matches, 1)
        splitter.addWidget(detail)
        splitter.setSizes([640, 460])
        layout.addWidget(splitter, 1)
        self.message = QLabel()
        self.message.setObjectName("inboxMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.claim_button = self._button(row, tr("Ü&bernehmen"), "inboxClaim", self.claim)
        self.done_button = self._button(row, tr("&Erledigen"), "inboxDone", self.complete)
        self.wait_button = self._button(row, tr("&Warten auf Bestätigung"), "inboxWait",
                                        self.await_confirmation)
        self.reject_button = self._button(row, tr("Ab&lehnen …"), "inboxReject", self.reject)
        self.release_button = self._button(row, tr("&Freigeben"), "inboxRelease", self.release)
        row.addStretch(1)
        self._button(row, tr("Schließen"), "inboxClose", self.reject_dialog)
        layout.addLayout(row)
        self._set_actions(None)
        self.table.setFocus()
        self.refresh()

    def _button(self, row: QHBoxLayout, text: str, name: str,
                slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text.replace("&", ""))
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # --- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        states = tuple(self.filter.currentData())
        Op(self, lambda store: inbox.lines(store, states), self._show_lines,
           what="inbox list").latest("lines").failure(self._say).run(self.window_.db)

    def _show_lines(self, lines: object) -> None:
        assert isinstance(lines, list)
        keep = self.opened.line.submission_id if self.opened else None
        self.lines = lines
        self.table.blockSignals(True)
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            holder = line.claimed_by or ""
            if line.pending:
                holder += tr(" (noch nicht abgeglichen)")
            values = (local_time(line.received_at), line.title, line.applicant,
                      state_text(line.state), holder)
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        rows = [i for i, line in enumerate(lines) if line.submission_id == keep] or \
            ([0] if lines else [])
        if rows:
            self.table.setCurrentCell(rows[0], 0)
            self._open_row(rows[0])
        else:
            self.opened = None
            self.detail.clear()
            self.matches.clear()
            self._set_actions(None)
        self.count = tr("{n} Anträge.").format(n=len(lines)) if lines else \
            tr("Keine Online-Anträge.")
        self._show_message()
        self.notice = ""

    def _show_message(self) -> None:
        self.message.setText(" ".join(filter(None, [self.notice, self.printed, self.count])))

    def _print_letter(self, letter: PrintedLetter) -> None:
        name, content, pdf = letter
        self.window_.printing.print_letter(name, content, pdf, report=self._printed)

    def _printed(self, text: str) -> None:
        try:
            self.printed = f"{self.printed} {text}".strip()
            self._show_message()
        except RuntimeError:  # the dialog was closed meanwhile
            pass

    def _open_row(self, row: int) -> None:
        if not 0 <= row < len(self.lines):
            return
        sid = self.lines[row].submission_id
        Op(self, lambda store: inbox.open_item(store, sid), self._show_item,
           what="inbox item").latest("item").failure(self._say).run(self.window_.db)

    def _show_item(self, opened: object) -> None:
        assert isinstance(opened, OpenedItem)
        self.opened = opened
        self.detail.setHtml(item_html(opened))
        self.matches.clear()
        for hit in opened.matches:
            born = f"{hit.birth_date:%d.%m.%Y}" if hit.birth_date else "?"
            entry = QListWidgetItem(f"{hit.family_name}, {hit.first_names} ({born}) – "
                                    f"{hit.address}")
            entry.setData(Qt.ItemDataRole.UserRole, hit.id)
            self.matches.addItem(entry)
        if opened.matches:
            self.matches.setCurrentRow(0)
        self._set_actions(opened)

    def _set_actions(self, opened: OpenedItem | None) -> None:
        me = self.window_.actor.clerk
        line = opened.line if opened else None
        mine = line is not None and line.state == "in_work" and line.claimed_by == me
        self.claim_button.setEnabled(line is not None and line.state == "new")
        self.release_button.setEnabled(mine)
        self.done_button.setEnabled(mine)
        self.reject_button.setEnabled(mine)
        self.wait_button.setEnabled(mine and opened is not None and
                                    isinstance(opened.request, AddressChange))

    # --- working ---------------------------------------------------------------------------

    def _selected(self) -> str:
        assert self.opened is not None
        return self.opened.line.submission_id

    def _then_refresh(self, done: str) -> Callable[[object], None]:
        def after(_result: object) -> None:
            self.notice, self.printed = done, ""
            self.window_.sync.local_work_done()
            self.refresh()
        return after

    def _work(self, work: Callable[[Store], object], done: str, what: str) -> None:
        Op(self, work, self._then_refresh(done), what=what).failure(self._say).run(
            self.window_.db)

    def claim(self) -> None:
        sid = self._selected()
        self._work(lambda store: inbox.claim(store, sid),
                   tr("Übernommen: Sie bearbeiten diesen Antrag."), "inbox claim")

    def release(self) -> None:
        sid = self._selected()
        self._work(lambda store: inbox.claim(store, sid, release=True),
                   tr("Freigegeben: der Antrag steht wieder allen offen."), "inbox release")

    def complete(self) -> None:
        """Run the requested service, prefilled, for the chosen person, and record it done."""
        opened = self.opened
        current = self.matches.currentItem()
        if opened is None or current is None:
            self.message.setText(tr("Bitte zuerst die passende Person im Melderegister "
                                    "wählen (Alt+P)."))
            return
        person_id = str(current.data(Qt.ItemDataRole.UserRole))
        command_id = uuid7()   # minted once per press: the worker's answer is idempotent
        cfg, keys = self.window_.cfg, self.window_.printing.seal_keys

        def work(store: Store) -> PostDelivery | None:
            from ui.printing import ensure_original

            service, form = inbox.service_form(store, opened, person_id)
            result = run_service(store, service, form, command_id)
            for issued in result.documents:
                ensure_original(store, cfg, keys, issued.number)
            request = opened.request
            electronic = isinstance(request, MeldebescheinigungRequest) and \
                request.delivery == "elektronisch"
            pdf = inbox.mailbox_document(store, command_id) if electronic else None
            inbox.record_outcome(store, opened.line.submission_id, "done", document=pdf,
                                 command_id=command_id)
            return None if electronic else _post_delivery(store, cfg, opened, person_id,
                                                          result.documents)

        def done(post: PostDelivery | None) -> None:
            said = tr("Erledigt. Die Antwort geht beim nächsten Abgleich an das Portal.")
            if post is not None and post.letter is None:
                said += " " + tr("Kein Anschreiben: Die Person hat keine Anschrift im Inland "
                                 "im Melderegister; bitte die Unterlagen selbst adressieren.")
            self._then_refresh(said)(post)
            if post is not None:
                if post.letter is not None:
                    self._print_letter(post.letter)
                self.window_.printing.print_documents(post.documents, report=self._printed)

        Op(self, work, done, what="inbox complete").failure(self._say).run(self.window_.db)

    def await_confirmation(self) -> None:
        """Accept pending identification: the letter with the code, to the new address."""
        opened = self.opened
        if opened is None or not isinstance(opened.request, AddressChange):
            return
        cfg, clerk = self.window_.cfg, self.window_.actor.name

        def work(store: Store) -> PrintedLetter:
            from ui.letter_rendering import letter_pdf

            code = letters.new_confirmation_code()
            assert isinstance(opened.request, AddressChange)
            letter = letters.confirmation_letter(cfg, opened.line.submission_id,
                                                 opened.request, code, date.today(), clerk)
            inbox.record_outcome(store, opened.line.submission_id, "waiting",
                                 "Bestätigungscode per Brief",
                                 confirmation_sha256=letters.code_digest(code))
            return (f"bestaetigungscode-{opened.line.submission_id[:8]}", letter,
                    letter_pdf(letter))

        def done(letter: PrintedLetter) -> None:
            self._then_refresh(tr("Angenommen vorbehaltlich der Bestätigung: der Brief mit "
                                  "dem Code wird gedruckt."))(letter)
            self._print_letter(letter)

        Op(self, work, done, what="inbox confirmation letter").failure(self._say).run(
            self.window_.db)

    def reject(self) -> None:
        sid = self._selected()
        reason, ok = QInputDialog.getText(self, tr("Antrag ablehnen"),
                                          tr("Grund der Ablehnung (die Bürgerin oder der "
                                             "Bürger erfährt ihn):"))
        if not ok:
            return
        self._work(lambda store: inbox.record_outcome(store, sid, "rejected", reason.strip()),
                   tr("Abgelehnt."), "inbox reject")

    def reject_dialog(self) -> None:
        QDialog.reject(self)

    def _say(self, message_de: str, _message_en: str) -> None:
        self.message.setText(message_de)


@dataclass(frozen=True)
class PostDelivery:
    """What goes by post: the cover letter (None without an address in Germany) and the
    documents in the envelope (by number)."""

    letter: PrintedLetter | None
    documents: list[str]


def _post_delivery(store: Store, cfg: Any, opened: OpenedItem, person_id: str,
                   documents: tuple[Any, ...]) -> PostDelivery:
    """The DIN 5008 cover letter to the register's address and the documents it encloses:
    all the service issued, but for a civil-status certificate only the receipt (the request
    itself goes to the registry office, which sends the certificate)."""
    from clerk_app.person_record import load_person
    from ui.letter_rendering import letter_pdf

    forwarded = isinstance(opened.request, CivilStatusRequest)
    enclosed = [d for d in documents if d.type == "quittung" or not forwarded]
    person = load_person(store, person_id)
    if not person.current_residences or \
            person.current_residences[0].address.country != "DEU":
        return PostDelivery(None, [d.number for d in enclosed])
    address = person.current_residences[0].address
    letter = letters.cover_letter(
        cfg, opened.line.submission_id, opened.request,
        f"{person.first_names} {person.family_name}", f"{address.street} "
        f"{address.house_number}", f"{address.postal_code} {address.city}",
        [d.title for d in enclosed], date.today(), store.actor.name)
    return PostDelivery((f"anschreiben-{opened.line.submission_id[:8]}", letter,
                         letter_pdf(letter)), [d.number for d in enclosed])


def item_html(opened: OpenedItem) -> str:
    """The request's data for the clerk to read (escaped: it came from the internet)."""
    data = opened.request.model_dump(mode="json")
    rows = "".join(f"<tr><td style='color:#555'>{escape(label)}</td><td>{escape(value)}</td></tr>"
                   for label, value in _flatten(data))
    state = state_text(opened.line.state)
    holder = f" ({escape(opened.line.claimed_by)})" if opened.line.claimed_by else ""
    reason = f"<p>{escape(opened.reason)}</p>" if opened.reason else ""
    attachments = "".join(f"<li>{escape(str(a.get('filename', '')))}</li>"
                          for a in opened.attachments)
    return (f"<h3>{escape(opened.line.title)}</h3><p>Status: {escape(state)}{holder}</p>"
            f"{reason}<table cellspacing='4'>{rows}</table>"
            + (f"<p>Anlagen:</p><ul>{attachments}</ul>" if attachments else ""))


LABELS = {"kind": "Art", "family_name": "Familienname", "first_names": "Vornamen",
          "birth_date": "Geburtsdatum", "email": "E-Mail", "variant": "Ausführung",
          "delivery": "Zustellung", "reference": "Zahlungsreferenz",
          "amount_cents": "Online bezahlt", "certificate": "Urkunde",
          "subject_names": "Eintrag über", "event_date": "Datum", "event_place": "Ort",
          "entitlement": "Berechtigung", "interest": "Interesse", "copies": "Anzahl",
          "street": "Straße", "house_number": "Hausnummer", "postcode": "PLZ", "city": "Ort",
          "move_in_date": "Einzug am"}


DATES = {"birth_date", "event_date", "move_in_date"}


def _flatten(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if key == "kind":
            continue
        if isinstance(value, dict):
            rows += _flatten(value)
        elif key == "amount_cents":
            rows.append((LABELS[key], format_cents(int(value))))
        elif key in DATES:
            rows.append((LABELS[key], f"{date.fromisoformat(str(value)):%d.%m.%Y}"))
        else:
            rows.append((LABELS.get(key, key), str(value)))
    return rows
