"""The frame every registration dialog shares (`RegistrationDialog`): the command id minted on
opening, the submit through the DB worker, the result page with the Meldebestätigung and the
print bar.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from clerk_app.ids import uuid7
from clerk_app.models import (
    PersonRecord,
)
from clerk_app.relations import ACKNOWLEDGE_MINORS
from clerk_app.services.base import IssuedDocument, ServiceResult
from clerk_app.store.db import Store
from ui.db_worker import DbWorker
from ui.fields import notice_frame, remap_indexed_paths
from ui.form_dialog import FormDialog
from ui.formatting import NO_VALUE
from ui.i18n import tr
from ui.operation import ServiceOp, owner_gone
from ui.printing import PrintService, add_print_bar
from ui.registration.address import StreetEdit
from ui.registration.common import STREET_WAIT_MS, Duplicates
from ui.registration.minors import MinorsAcknowledgement
from ui.style import MUTED, OK_GREEN

# --- the dialogs -----------------------------------------------------------------------------

class RegistrationDialog(FormDialog):
    """What the three registration dialogs share: worker, command id, submit, result page.

    `completed(ServiceResult)` is emitted once the service succeeded (before the clerk closes
    the dialog); `result` holds it afterwards.
    """

    completed = Signal(object)
    draft_excluded: ClassVar[frozenset[str]] = frozenset({ACKNOWLEDGE_MINORS})
    service_type = ""
    done_title = ""

    def __init__(self, db: DbWorker, title: str, submit_text: str, today: date | None,
                 parent: QWidget | None, printing: PrintService | None) -> None:
        super().__init__(title, submit_text, parent)
        self.submit_text = submit_text
        self.db = db
        self.printing = printing   # F5/Strg+P on the result page (None: no print bar)
        self.today = today or date.today()
        self._fixed_today = today
        self.command_id = uuid7()
        self.service_result: ServiceResult | None = None
        # The row key of each person sent, in the order the core numbers them ("persons.1").
        self._sent_keys: list[str] = []
        self.minors = MinorsAcknowledgement(self.form)
        self.body.addWidget(self.minors)

    def say_persons(self, count: int) -> None:
        """The submit button says how many persons it registers when more than one ("an
        action that touches several persons says so before Enter does it")."""
        action = self.submit_text if count < 2 else tr("{action} – {n} Personen").format(
            action=self.submit_text, n=count)
        self.submit_button.setText(tr("{action} (Strg+Enter)").format(action=action))
        self.submit_button.setAccessibleName(action)

    # Tab order: the warning about minors (when shown) first, then the dialog's fields

    def input_chain(self) -> list[QWidget]:
        return self.minors.widgets() + self.fields_chain()

    def fields_chain(self) -> list[QWidget]:
        raise NotImplementedError

    # Submitting

    def form_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def remap_errors(self, errors: Mapping[str, str]) -> dict[str, str]:
        """The core's "persons.<position>…" paths renamed to the rows' keys."""
        return remap_indexed_paths(errors, "persons", self._sent_keys)

    def streets(self) -> list[StreetEdit]:
        """The street fields whose lookup a submit must wait for."""
        return []

    @property
    def draft_person_id(self) -> str | None:
        record = getattr(self, "record", None)   # Ummeldung, Abmeldung: the open person
        return record.id if isinstance(record, PersonRecord) else None

    def restore_draft(self, data: Mapping[str, Any]) -> None:
        super().restore_draft(data)
        for street in self.streets():
            street.resolve()   # the street typed is picked from the directory again

    def submit(self) -> None:
        """Send the form once every street typed is resolved (a fast typist's Ctrl+Enter can
        come before the street lookup's answer; the street is then looked up first)."""
        for street in self.streets():
            street.resolve()
        if any(street.pending or street.resolving for street in self.streets()):
            self.set_busy(True, tr("Straße wird gesucht …"))
            QTimer.singleShot(STREET_WAIT_MS, self, self._submit_when_ready)
            return
        self.send_form()

    def _submit_when_ready(self) -> None:
        if owner_gone(self):
            return   # closed while the street was looked up
        if any(street.pending or street.resolving for street in self.streets()):
            QTimer.singleShot(STREET_WAIT_MS, self, self._submit_when_ready)
            return
        self.set_busy(False)
        self.send_form()

    def duplicate_check(self) -> Callable[[Store], Duplicates | None] | None:
        """What to look up in the same worker call before the service runs (the Anmeldung's
        likely duplicates); nothing is sent while it finds something."""
        return None

    def send_form(self) -> None:
        """Run the service with the form as it is now."""
        form = self.form_data()   # read on the UI thread; the worker gets plain data
        form.update(self.minors.data())
        check = self.duplicate_check()
        self.set_busy(True, tr("Wird gespeichert …"))
        self.show_banner("")
        op = ServiceOp(self, self.service_type, form, self.command_id,
                       today=self._fixed_today).success(self._show_success).form_errors(
            lambda errors: self.on_service_errors(self.remap_errors(errors))).failure(
                self.on_service_failed)
        if check is not None:
            op.precheck(check, self._on_duplicates)
        op.run(self.db)

    def _on_duplicates(self, outcome: Duplicates) -> None:
        self.set_busy(False)
        self.on_duplicates(outcome)

    def on_duplicates(self, outcome: Duplicates) -> None:
        """Anmeldung only."""

    def on_service_errors(self, errors: Mapping[str, str]) -> None:
        if ACKNOWLEDGE_MINORS in errors and self.minors.isHidden():
            self.minors.reveal()
            self.refresh_tab_order()
        super().on_service_errors(errors)

    def on_service_failed(self, message_de: str, message_en: str) -> None:
        super().on_service_failed(message_de, message_en)
        self.submit_button.setFocus()   # Enter sends again

    # The result

    def _show_success(self, result: ServiceResult) -> None:
        self.service_result = result
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        title = QLabel("✔ " + self.done_title)
        title.setObjectName("resultTitle")
        title.setStyleSheet(f"color: {OK_GREEN}; font-size: 16pt; font-weight: bold;")
        title.setAccessibleName(self.done_title)
        layout.addWidget(title)
        if result.replayed:
            again = QLabel(tr("Diese Meldung war bereits gespeichert – nichts doppelt "
                              "eingetragen."))
            again.setWordWrap(True)
            layout.addWidget(again)
        if result.notices:
            layout.addWidget(notice_frame(result.notices))
        self._document_html = ""
        for doc in result.documents:
            number = QLabel(tr("{title} Nr. {number}").format(title=doc.title,
                                                              number=doc.number))
            number.setObjectName("documentNumber")
            number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            number.setStyleSheet("font-size: 13pt; font-weight: bold;")
            number.setWordWrap(True)
            number.setAccessibleName(number.text())
            layout.addWidget(number)
            intro = QLabel(tr("Inhalt der Meldebestätigung (§ 24 Abs. 2 BMG), zum Druck "
                              "gespeichert; der Rufname ist unterstrichen:"))
            intro.setStyleSheet(f"color: {MUTED};")
            intro.setWordWrap(True)
            layout.addWidget(intro)
            content = confirmation_html(doc)
            self._document_html += content
            view = QLabel(content)
            view.setObjectName("documentContent")
            view.setTextFormat(Qt.TextFormat.RichText)
            view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            view.setAccessibleName(tr("Inhalt der Meldebestätigung"))
            view.setAccessibleDescription(self.document_text())
            view.setStyleSheet("QLabel { background: white; border: 1px solid #b0b0b0; "
                               "padding: 10px; }")
            layout.addWidget(view)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(page)
        self.result_layout.addWidget(scroll)
        self.print_bar = add_print_bar(self.printing, self.result_layout,
                                       [d.number for d in result.documents])
        self.show_result_page()
        self.completed.emit(result)

    def document_text(self) -> str:
        """The Meldebestätigung's content shown, as plain text."""
        document = QTextDocument()
        document.setHtml(getattr(self, "_document_html", ""))
        return document.toPlainText()

    def fit_to_content(self, screen_size: QSize | None = None) -> None:
        """As tall as the form needs and 1180 pixels wide (five columns of fields), within
        the screen (`screen_size`: the available size, default the dialog's screen's)."""
        if screen_size is None:
            screen = self.screen()
            screen_size = screen.availableGeometry().size() if screen is not None \
                else QSize(1280, 900)
        content = self.scroll.widget()
        chrome = self.sizeHint().height() - self.stack.sizeHint().height()
        wanted = (content.sizeHint().height() if content is not None else 600) + chrome + 8
        height = max(420, min(wanted, max(600, screen_size.height() - 60)))
        self.resize(max(900, min(1180, screen_size.width() - 40)), height)


def confirmation_html(doc: IssuedDocument) -> str:
    """The Meldebestätigung's fields as the clerk checks them: one table per person and
    dwelling, the name in everyday use underlined (the core marks it "*Maria*")."""
    blocks: list[list[tuple[str, str]]] = []
    for label, value in doc.fields:
        if label == "Familienname" or not blocks:
            blocks.append([])
        blocks[-1].append((label, value))
    cells = []
    for block in blocks:
        rows = "".join(
            f"<tr><td style='color:{MUTED}; padding:2px 14px 2px 0'>{html.escape(label)}</td>"
            f"<td style='padding:2px 0'>{_field_html(label, value)}</td></tr>"
            for label, value in block)
        cells.append(f"<table cellspacing='0' cellpadding='0'>{rows}</table>")
    pairs = ["".join(f"<td valign='top' width='50%' style='padding:4px 24px 10px 0'>{c}</td>"
                     for c in cells[i:i + 2]) for i in range(0, len(cells), 2)]
    return "<table width='100%'>" + "".join(f"<tr>{p}</tr>" for p in pairs) + "</table>"


def _field_html(label: str, value: str) -> str:
    if not value:
        return NO_VALUE
    text = html.escape(value)
    if label == "Vornamen":
        text = re.sub(r"\*([^*\s]+)\*", r"<u>\1</u>", text)
    if label == "Familienname":
        text = f"<b>{text}</b>"
    return text


