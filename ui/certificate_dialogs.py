"""The certificate dialogs: Meldebescheinigung, Lebensbescheinigung, Antrag auf
Personenstandsurkunde, each one screen for the open person.

Top to bottom: whom it is for; the warnings of `certificate_warnings` (a red box with a ⚠ and
words; for a blocked person a check box "Sperre zur Kenntnis genommen" that must be ticked);
the service's fields; the payment (`ui.payment`). Enter in the last field (or Ctrl+Enter
anywhere) issues; the result page shows the document number, title and content, the receipt
and the change, and Enter or Esc closes it, back to the search.

Keys of the common case, from the open person: F6, Enter = a simple Meldebescheinigung paid
in cash with the exact amount (the cursor starts in "Gegeben", prefilled with the fee).

The command id is minted when the dialog opens, so Enter twice or a double click never
issues or charges twice.

One module of ~770 lines on purpose: the frame (`CertificateDialog`) is ~200 lines and each of
the three certificates ~150; they are one family that changes together (a new field in the
frame, a new warning) and are opened through one table (`DIALOGS`). A fourth certificate
would be the moment to give each its own module.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QStyle,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from clerk_app import blocks
from clerk_app.cashbook import float_to_ask, is_closed
from clerk_app.fees import Fee, fee_for, format_cents
from clerk_app.ids import uuid7
from clerk_app.models import PersonRecord
from clerk_app.services.base import IssuedDocument, ServiceResult
from clerk_app.services.certificates import (
    CERTIFICATE_KINDS,
    DELIVERIES,
    ENTITLEMENTS,
    EVENT_LABELS,
    EXTENDED_SECTIONS,
    MB_TYPES,
    NEEDS_INTEREST,
    HaushaltsMeldebescheinigung,
    certificate_warnings,
)
from clerk_app.store.db import Store
from ui.db_worker import DbWorker
from ui.fields import ChoiceBox, FieldBox, FormSection, limit_length
from ui.form_dialog import FormDialog
from ui.formatting import fmt_date
from ui.household_members import HouseholdMembers
from ui.i18n import message_text, tr, tr_label
from ui.operation import Op, ServiceOp
from ui.payment import PaymentSection
from ui.printing import PrintService, add_print_bar
from ui.status import demo_badge
from ui.style import MUTED, OK_GREEN

BANNER_RED = "#b00020"


def _warnings_in_worker(store: Store, person_id: str,
                        today: date) -> tuple[list[str], bool]:
    """The warnings to show before issuing, and whether an information block is in force."""
    return (certificate_warnings(store, person_id, today),
            bool(blocks.active_blocks(store, person_id, today)))


class WarningBox(QFrame):
    """The warnings before issuing: red, an icon and a heading in words, never colour alone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificateWarnings")
        self.setStyleSheet(
            f"#certificateWarnings {{ background: {BANNER_RED}; border: 3px solid #600010;"
            " border-radius: 4px; }"
            " #certificateWarnings QLabel { color: white; background: transparent; }")
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAccessibleName(tr("Warnung"))
        self.heading = QLabel()
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.heading)
        texts.addWidget(self.text)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(12)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(texts, 1)
        self.warnings: list[str] = []
        self.hide()

    def set_warnings(self, warnings: list[str], blocked: bool) -> None:
        self.warnings = list(warnings)
        heading = (tr("AUSKUNFTSSPERRE – nur an die betroffene Person, Identität prüfen")
                   if blocked else tr("ACHTUNG – bitte vor dem Ausstellen beachten"))
        self.heading.setText(heading)
        self.text.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.setAccessibleName(heading)
        self.setAccessibleDescription(" ".join(warnings))
        self.setVisible(bool(warnings))


class CertificateDialog(FormDialog):
    """The frame every certificate dialog shares; subclasses add their fields and form."""

    completed = Signal(object)   # the ServiceResult, once issued

    service_type: ClassVar[str] = ""
    title_text: ClassVar[str] = ""
    # Confirmations are given anew for each citizen: never restored from a draft.
    draft_excluded: ClassVar[frozenset[str]] = frozenset({blocks.ACKNOWLEDGE_FIELD,
                                                          "id_document_checked"})

    def __init__(self, record: PersonRecord, db: DbWorker, parent: QWidget | None = None,
                 *, demo: bool = False, today: date | None = None,
                 printing: PrintService | None = None) -> None:
        super().__init__(self.window_title(), tr("Ausstellen"), parent)
        self.printing = printing   # F5/Strg+P on the result page (None: no print bar)
        if demo:
            self.setWindowTitle(f"{self.windowTitle()} – {tr('DEMO')}")
        self.setObjectName(f"dialog_{self.service_type}")
        self.record = record
        self.db = db
        self.today = today or date.today()
        self.command_id = uuid7()   # one per dialog: a second submit returns the stored result
        self.service_result: ServiceResult | None = None
        self.warnings_loaded = False
        self.blocked = False
        self._submit_waiting = False

        self.person_label = QLabel(self._person_text())
        self.person_label.setObjectName("certificatePerson")
        self.person_label.setTextFormat(Qt.TextFormat.PlainText)
        self.person_label.setWordWrap(True)
        font = QFont(self.person_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.person_label.setFont(font)
        person_row = QHBoxLayout()
        person_row.addWidget(self.person_label, 1)
        if demo:
            person_row.addWidget(demo_badge(), 0, Qt.AlignmentFlag.AlignTop)
        self.body.addLayout(person_row)

        self.warning_box = WarningBox()
        self.body.addWidget(self.warning_box)
        self.ack = QCheckBox(tr("&Sperre zur Kenntnis genommen: Aushändigung nur an die "
                                "betroffene Person, Identität geprüft *"))
        bold = QFont(self.ack.font())
        bold.setBold(True)
        self.ack.setFont(bold)
        self.ack.setObjectName("blockAcknowledged")
        self.ack_box = _confirmation_box(blocks.ACKNOWLEDGE_FIELD, self.ack)
        self.ack_box.hide()
        self.form.add(self.ack_box)
        self.body.addWidget(self.ack_box)
        self.status.setText(tr("Hinweise werden geprüft …"))

        self.build_fields()
        self.payment = PaymentSection(self.initial_fee())
        self.payment.register(self.form)
        self.payment.layout_changed.connect(self.refresh_tab_order)
        self.body.addWidget(self.payment)
        self.body.addStretch(1)
        self.form.mark_clean()   # filled in by the dialog (fee, exemptions), nothing typed yet
        self.refresh_tab_order()
        self.fit_height()
        self.initial_focus().setFocus(Qt.FocusReason.OtherFocusReason)
        if self.initial_focus() is self.payment.given:
            self.payment.given.selectAll()

        person_id = record.id
        day = self.today
        Op(self, lambda store: _warnings_in_worker(store, person_id, day), self._on_warnings,
           what="certificate warnings").failure(self._on_warnings_failed).run(db)
        Op(self, lambda store: is_closed(store, store.actor.workstation, day),
           self.payment.set_day_closed, what="day closed").run(db)
        Op(self, lambda store: float_to_ask(store, store.actor.workstation, day),
           self._on_float_offer, what="day float").run(db)

    @property
    def draft_person_id(self) -> str | None:
        return self.record.id

    def restore_draft(self, data: Mapping[str, Any]) -> None:
        super().restore_draft(data)
        self.fit_height()

    def fit_height(self) -> None:
        """As tall as the form needs (no scrolling for the common case), within the screen."""
        content = self.findChild(QWidget, "formContent")
        wanted = content.sizeHint().height() + 170 if content is not None else 600
        screen = self.screen().availableGeometry().height() if self.screen() else 900
        self.resize(800, max(self.height() if self.isVisible() else 0, 460,
                             min(wanted, screen - 80)))

    # For subclasses

    @classmethod
    def window_title(cls) -> str:
        return cls.title_text

    def build_fields(self) -> None:
        """Add the service's sections to `self.body` and their boxes to `self.form`."""

    def field_chain(self) -> list[QWidget]:
        """The service's own focus stops, in visual order."""
        return []

    def initial_fee(self) -> Fee:
        return fee_for(self.service_type)

    def service_form(self) -> dict[str, Any]:
        """The form for `run_service`, without payment and block acknowledgement."""
        raise NotImplementedError

    def local_errors(self) -> dict[str, str]:
        """Errors to show without asking the register (what the core cannot be sent)."""
        return {}

    def default_focus(self) -> QWidget:
        return self.payment.given

    def service_to_run(self) -> str:
        """The command type a submit runs (the Meldebescheinigung's differs for a household)."""
        return self.service_type

    # The frame

    def initial_focus(self) -> QWidget:
        return self.default_focus()

    def input_chain(self) -> list[QWidget]:
        payment = getattr(self, "payment", None)   # None while the fields are being built
        chain: list[QWidget] = [self.ack] if self.ack_box.isVisibleTo(self) else []
        return chain + self.field_chain() + (payment.input_chain() if payment else [])

    def _person_text(self) -> str:
        r = self.record
        parts = [tr("Für: {name}").format(name=r.display_name)]
        if r.birth_date is not None:
            parts.append(f"* {fmt_date(r.birth_date)}")
        if r.current_residences:
            parts.append(r.current_residences[0].address.one_line())
        return " · ".join(parts)

    def _on_float_offer(self, offer: int | None) -> None:
        self.payment.ask_float(offer)
        self.refresh_tab_order()

    def _on_warnings(self, answer: tuple[list[str], bool]) -> None:
        warnings, blocked = answer
        self.warnings_loaded = True
        self.blocked = blocked
        self.warning_box.set_warnings(warnings, blocked)
        self.ack_box.setVisible(blocked)
        self.status.setText("")
        self.refresh_tab_order()
        if blocked:
            self.ack.setFocus(Qt.FocusReason.OtherFocusReason)
        self._release_waiting_submit()

    def _on_warnings_failed(self, message_de: str, message_en: str) -> None:
        self.warnings_loaded = True
        self.status.setText("")
        self.show_banner(message_text(message_de, message_en))
        self._release_waiting_submit()

    def _release_waiting_submit(self) -> None:
        if self._submit_waiting:
            self._submit_waiting = False
            self.set_busy(False)
            if not self.blocked:
                self.request_submit()

    def full_form(self) -> dict[str, Any]:
        form = {"person_id": self.record.id, **self.service_form()}
        payment = self.payment.form()
        if payment or not self.payment.is_free:
            form["payment"] = payment
        form[blocks.ACKNOWLEDGE_FIELD] = self.ack.isChecked()
        return form

    def submit(self) -> None:
        # Mistakes the clerk can mend now are shown at once, before any wait.
        errors = {**self.local_errors(), **self.payment.local_errors()}
        if errors:
            self.show_form_errors(errors)
            return
        if not self.warnings_loaded:
            # Enter faster than the warnings came: issue once they are shown (a block stops
            # it there, to be acknowledged first).
            self._submit_waiting = True
            self.set_busy(True, tr("Hinweise werden geprüft …"))
            return
        self.form.clear_errors()
        self.show_banner("")
        self.set_busy(True, tr("Wird ausgestellt …"))
        ServiceOp(self, self.service_to_run(), self.full_form(), self.command_id).success(
            self._on_done).form_errors(self.on_service_errors).failure(
                self.on_service_failed).run(self.db)

    def _on_done(self, result: ServiceResult) -> None:
        self.service_result = result
        self._fill_result(result)
        self.show_result_page()
        self.completed.emit(result)

    # The result page

    def _fill_result(self, result: ServiceResult) -> None:
        document = main_document(result)
        view = ResultView(result, document)
        self.result_view = view
        self.result_layout.addWidget(view)
        self.print_bar = add_print_bar(self.printing, self.result_layout,
                                       [d.number for d in result.documents])


def main_document(result: ServiceResult) -> IssuedDocument | None:
    """The document the service is about (not its receipt)."""
    return next((d for d in result.documents if d.type != "quittung"), None)


def _confirmation_box(path: str, check: QCheckBox) -> FieldBox:
    """A check box that must be ticked: its text ends in the required mark " *", which a
    screen reader gets in words ("Pflichtangabe") instead."""
    box = FieldBox(path, None, check, required=True)
    spoken = check.text().replace("&", "").removesuffix(" *")
    check.setAccessibleName(tr("{name} (Pflichtangabe)").format(name=spoken))
    return box


def _labels(table: Mapping[str, str]) -> dict[str, str]:
    """A core code -> German label table in the UI language."""
    return {code: tr_label(label) for code, label in table.items()}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=False)


class ResultView(QWidget):
    """What was issued: number, title, content; the receipt and the change; ready to print."""

    def __init__(self, result: ServiceResult, document: IssuedDocument | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificateResult")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = document.title if document is not None else result.type
        self.headline = QLabel(tr("✔ {title} ausgestellt – bereit zum Drucken").format(
            title=tr_label(title)))
        self.headline.setObjectName("resultHeadline")
        font = QFont(self.headline.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.headline.setFont(font)
        self.headline.setStyleSheet(f"color: {OK_GREEN};")
        self.headline.setWordWrap(True)
        self.headline.setAccessibleName(self.headline.text())
        layout.addWidget(self.headline)

        certificates = [d for d in result.documents if d.type != "quittung"]
        number = ", ".join(d.number for d in certificates)
        stored = tr("Dokument Nr. {number} ist im Melderegister gespeichert und wird als PDF "
                    "archiviert. F5 druckt, Strg+P zeigt die Druckvorschau.") \
            if len(certificates) < 2 else tr(
                "Dokumente Nr. {number} sind im Melderegister gespeichert und werden als PDF "
                "archiviert. F5 druckt alle, Strg+P zeigt die Druckvorschau.")
        self.stored = QLabel(stored.format(number=number))
        self.stored.setObjectName("resultStored")
        self.stored.setWordWrap(True)
        self.stored.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.stored)

        self.payment_label = QLabel(payment_summary(result))
        self.payment_label.setObjectName("resultPayment")
        self.payment_label.setWordWrap(True)
        self.payment_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.payment_label.setAccessibleName(tr("Zahlung"))
        self.payment_label.setAccessibleDescription(self.payment_label.text())
        layout.addWidget(self.payment_label)

        self.change_label = QLabel()
        self.change_label.setObjectName("resultChange")
        receipt = result.receipt
        if receipt is not None and receipt.method == "bar" and receipt.change_cents is not None:
            self.change_label.setText(tr("Rückgeld: {amount}").format(
                amount=format_cents(receipt.change_cents)))
            big = QFont(self.change_label.font())
            big.setBold(True)
            big.setPointSizeF(big.pointSizeF() * 1.6)
            self.change_label.setFont(big)
            self.change_label.setAccessibleName(self.change_label.text())
            layout.addWidget(self.change_label)

        for notice in result.notices[1 if result.type == HOUSEHOLD_TYPE else 0:]:
            label = QLabel("⚠ " + notice)
            label.setWordWrap(True)
            layout.addWidget(label)

        self.content = QTextBrowser()
        self.content.setObjectName("resultContent")
        self.content.setAccessibleName(tr("Inhalt des Dokuments"))
        self.content.setHtml("".join(document_html(d) for d in certificates)
                             if len(certificates) > 1 else document_html(document))
        self.content.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout.addWidget(self.content, 1)

    def text(self) -> str:
        """Everything the page says, as a screen reader reads it."""
        parts = [self.headline.text(), self.stored.text(), self.payment_label.text(),
                 self.change_label.text(), self.content.toPlainText()]
        return "\n".join(p for p in parts if p)


def document_html(document: IssuedDocument | None) -> str:
    if document is None:
        return ""
    rows = "".join(
        f"<tr><td style='color:{MUTED}; padding:2px 14px 2px 0' valign='top'>{_esc(k)}</td>"
        f"<td style='padding:2px 0' valign='top'>{_esc(v)}</td></tr>"
        for k, v in document.fields)
    return (f"<p style='font-size:large'><b>{_esc(document.title)}</b> "
            f"<span style='color:{MUTED}'>Nr. {_esc(document.number)}</span></p>"
            f"<table cellspacing='0' cellpadding='0'>{rows}</table>")


def payment_summary(result: ServiceResult) -> str:
    """'Quittung Q-…: Barzahlung 7,00 € · gegeben 10,00 € · Rückgeld 3,00 €'."""
    receipt = result.receipt
    if result.type == HOUSEHOLD_TYPE and result.notices:
        return result.notices[0]   # the household's sum: one receipt per person
    if receipt is None:
        return tr("Gebührenfrei – keine Quittung.")
    if receipt.method == "bar":
        return tr("Quittung {number}: Barzahlung {amount} · gegeben {given} · Rückgeld "
                  "{change}").format(number=receipt.number,
                                     amount=format_cents(receipt.amount_cents),
                                     given=format_cents(receipt.given_cents or 0),
                                     change=format_cents(receipt.change_cents or 0))
    if receipt.method == "karte":
        return tr("Quittung {number}: Kartenzahlung {amount}").format(
            number=receipt.number, amount=format_cents(receipt.amount_cents))
    return tr("Quittung {number}: gebührenfrei – {reason}").format(
        number=receipt.number, reason=receipt.exemption_reason or "")


# --- Meldebescheinigung ----------------------------------------------------------------------

HOUSEHOLD_TYPE = HaushaltsMeldebescheinigung.type   # several members of a household at once


class MeldebescheinigungDialog(CertificateDialog):
    """Simple or extended (the extended one with the sections the citizen needs)."""

    service_type = "meldebescheinigung"
    draft_kind = "meldebescheinigung"
    title_text = "Meldebescheinigung"

    @classmethod
    def window_title(cls) -> str:
        return tr("Meldebescheinigung")

    def build_fields(self) -> None:
        section = FormSection(tr("Meldebescheinigung"))
        self.einfach = QRadioButton(tr("&einfach – {amount}").format(
            amount=format_cents(fee_for(MB_TYPES["einfach"]).cents)))
        self.einfach.setObjectName("variantEinfach")
        self.erweitert = QRadioButton(tr("e&rweitert – {amount}").format(
            amount=format_cents(fee_for(MB_TYPES["erweitert"]).cents)))
        self.erweitert.setObjectName("variantErweitert")
        self.einfach.setAccessibleName(tr("einfache Meldebescheinigung"))
        self.erweitert.setAccessibleName(tr("erweiterte Meldebescheinigung"))
        self.variants = QButtonGroup(self)
        self.variants.addButton(self.einfach)
        self.variants.addButton(self.erweitert)
        self.einfach.setChecked(True)
        variant_widget = QWidget()
        row = QHBoxLayout(variant_widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(18)
        row.addWidget(self.einfach)
        row.addWidget(self.erweitert)
        row.addStretch(1)
        variant_widget.setFocusProxy(self.einfach)
        self.variant_box = self.form.add(FieldBox("variant", tr("Art"), variant_widget,
                                                  value=self.variant))
        self.variant_widget = variant_widget
        section.place(self.variant_box, 0, 0, 2)

        self.purpose = QLineEdit()
        self.purpose.setObjectName("purpose")
        limit_length(self.purpose, 200)
        self.purpose.setPlaceholderText(tr("z. B. Vorlage beim Arbeitgeber"))
        self.purpose_box = self.form.add(FieldBox(
            "purpose", tr("&Verwendungszweck (wird gedruckt, freiwillig)"), self.purpose))
        section.place(self.purpose_box, 0, 2, 3)

        self.section_checks: dict[str, QCheckBox] = {}
        sections_widget = QWidget()
        grid = QGridLayout(sections_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        for index, (code, label) in enumerate(EXTENDED_SECTIONS.items()):
            check = QCheckBox(tr_label(label))
            check.setObjectName(f"section_{code}")
            check.setAccessibleName(tr_label(label))
            check.setChecked(True)
            self.section_checks[code] = check
            grid.addWidget(check, index, 0)
        sections_widget.setFocusProxy(next(iter(self.section_checks.values())))
        self.sections_box = self.form.add(FieldBox(
            "sections", tr("Angaben der erweiterten Meldebescheinigung (nur was die Stelle "
                           "braucht)"), sections_widget, value=self.sections))
        self.sections_box.hide()
        section.place(self.sections_box, 1, 0, 5)
        self.body.addWidget(section)
        self.variants.buttonToggled.connect(self._on_variant)
        self.household: HouseholdMembers | None = None
        if self.record.household:
            self.household = HouseholdMembers(self.record, self.form)
            self.household.changed.connect(self._on_members)
            self.body.addWidget(self.household)

    def members(self) -> list[str]:
        return self.household.members() if self.household is not None else []

    def service_to_run(self) -> str:
        return HOUSEHOLD_TYPE if self.members() else self.service_type

    def _fee(self) -> Fee:
        """The variant's fee, once per person (the household's members ticked)."""
        fee = fee_for(MB_TYPES[self.variant()])
        persons = 1 + len(self.members())
        return fee if persons == 1 else replace(fee, cents=fee.cents * persons,
                                                name=f"{persons} × {fee.name}")

    def _on_members(self) -> None:
        """Say before Enter how many persons get a certificate (and pay for it)."""
        persons = 1 + len(self.members())
        action = tr("Ausstellen") if persons == 1 else tr("Ausstellen für {n} Personen").format(
            n=persons)
        self.submit_button.setText(tr("{action} (Strg+Enter)").format(action=action))
        self.submit_button.setAccessibleName(action)
        self.payment.set_fee(self._fee())
        self.refresh_tab_order()

    def variant(self) -> str:
        return "erweitert" if self.erweitert.isChecked() else "einfach"

    def sections(self) -> list[str]:
        return [code for code, check in self.section_checks.items() if check.isChecked()]

    def initial_fee(self) -> Fee:
        return self._fee()

    def _on_variant(self, *_args: object) -> None:
        extended = self.variant() == "erweitert"
        self.sections_box.setVisible(extended)
        self.variant_widget.setFocusProxy(self.erweitert if extended else self.einfach)
        self.payment.set_fee(self._fee())
        self.refresh_tab_order()
        if extended:
            self.fit_height()

    def field_chain(self) -> list[QWidget]:
        chain: list[QWidget] = [self.erweitert if self.variant() == "erweitert"
                                else self.einfach, self.purpose]
        if self.variant() == "erweitert":
            chain += list(self.section_checks.values())
        if self.household is not None:
            chain += self.household.widgets()
        return chain

    def local_errors(self) -> dict[str, str]:
        if self.variant() == "erweitert" and not self.sections():
            return {"sections": tr("Bitte mindestens eine Angabe der erweiterten "
                                   "Meldebescheinigung wählen (oder „einfach“).")}
        return {}

    def service_form(self) -> dict[str, Any]:
        form: dict[str, Any] = {"variant": self.variant(), "purpose": self.purpose.text()}
        if self.variant() == "erweitert":
            form["sections"] = self.sections()
        if self.members():
            form["members"] = self.members()
        return form


# --- Lebensbescheinigung ---------------------------------------------------------------------

class LebensbescheinigungDialog(CertificateDialog):
    """The office confirms on a pension fund's request that the person lives here and
    appeared in person with ID (usually free)."""

    service_type = "lebensbescheinigung"
    draft_kind = "lebensbescheinigung"
    title_text = "Lebensbescheinigung"

    @classmethod
    def window_title(cls) -> str:
        return tr("Lebensbescheinigung")

    def build_fields(self) -> None:
        section = FormSection(tr("Lebensbescheinigung"))
        self.institution = QLineEdit()
        self.institution.setObjectName("institution")
        limit_length(self.institution, 200)
        self.institution.setPlaceholderText(tr("z. B. Deutsche Rentenversicherung, "
                                               "INPS Italien"))
        self.institution_box = self.form.add(FieldBox(
            "institution", tr("&Anfordernde Stelle (Rentenkasse, Land)"), self.institution,
            required=True))
        section.place(self.institution_box, 0, 0, 3)
        self.reference = QLineEdit()
        self.reference.setObjectName("reference")
        limit_length(self.reference, 200)
        self.reference_box = self.form.add(FieldBox(
            "reference", tr("Akten&zeichen / Versicherungsnummer"), self.reference))
        section.place(self.reference_box, 0, 3, 2)
        self.id_checked = QCheckBox(tr("Person ist persönlich erschienen, Ausweis ge&prüft *"))
        self.id_checked.setObjectName("idDocumentChecked")
        self.id_box = self.form.add(_confirmation_box("id_document_checked", self.id_checked))
        section.place(self.id_box, 1, 0, 5)
        self.body.addWidget(section)

    def default_focus(self) -> QWidget:
        return self.institution

    def field_chain(self) -> list[QWidget]:
        return [self.institution, self.reference, self.id_checked]

    def service_form(self) -> dict[str, Any]:
        return {"institution": self.institution.text(), "reference": self.reference.text(),
                "id_document_checked": self.id_checked.isChecked()}


# --- Antrag auf Personenstandsurkunde --------------------------------------------------------

class PersonenstandsurkundeDialog(CertificateDialog):
    """The request for a birth, marriage or death certificate, forwarded to the registry
    office; the open person is the applicant."""

    service_type = "personenstandsurkunde_antrag"
    draft_kind = "personenstandsurkunde_antrag"
    title_text = "Antrag auf Personenstandsurkunde"

    @classmethod
    def window_title(cls) -> str:
        return tr("Antrag auf Personenstandsurkunde")

    def initial_fee(self) -> Fee:
        return fee_for(self.service_type).times(self.copies.value())

    def build_fields(self) -> None:
        request = FormSection(tr("Urkunde und Eintrag"))
        self.certificate = ChoiceBox(_labels(CERTIFICATE_KINDS), "geburt")
        self.certificate.setObjectName("certificateKind")
        self.certificate_box = self.form.add(FieldBox(
            "certificate", tr("&Urkunde"), self.certificate, required=True))
        request.place(self.certificate_box, 0, 0, 2)
        self.copies = QSpinBox()
        self.copies.setObjectName("copies")
        self.copies.setRange(1, 10)
        self.copies.setValue(1)
        self.copies_box = self.form.add(FieldBox("copies", tr("A&nzahl"), self.copies,
                                                 required=True, value=self.copies.value))
        self.copies.lineEdit().setAccessibleName(self.copies.accessibleName())
        # The fee is per copy: the amount to take follows the number.
        self.copies.valueChanged.connect(lambda _n: self.payment.set_fee(self.initial_fee()))
        request.place(self.copies_box, 0, 2)
        self.names = QLineEdit()
        self.names.setObjectName("subjectNames")
        limit_length(self.names, 200)
        self.names_box = self.form.add(FieldBox("subject.names", tr("Namen im Eintrag"),
                                                self.names, required=True), "subject")
        request.place(self.names_box, 1, 0, 3)
        self.event_date = QLineEdit()
        self.event_date.setObjectName("subjectDate")
        self.event_date.setMaxLength(20)
        self.event_date.setPlaceholderText(tr("TT.MM.JJJJ oder nur JJJJ"))
        self.date_box = self.form.add(FieldBox("subject.date", tr("Datum"), self.event_date,
                                               required=True))
        request.place(self.date_box, 1, 3, 2)
        self.place = QLineEdit()
        self.place.setObjectName("subjectPlace")
        limit_length(self.place, 200)
        self.place_box = self.form.add(FieldBox("subject.place", tr("Ort"), self.place,
                                                required=True))
        request.place(self.place_box, 2, 0, 3)
        self.registry_number = QLineEdit()
        self.registry_number.setObjectName("registryNumber")
        limit_length(self.registry_number, 200)
        self.registry_box = self.form.add(FieldBox(
            "subject.registry_number", tr("&Registernummer (falls bekannt)"),
            self.registry_number))
        request.place(self.registry_box, 2, 3, 2)
        self.body.addWidget(request)

        applicant = FormSection(tr("Berechtigung und Zustellung"))
        self.basis = ChoiceBox(_labels(ENTITLEMENTS), "selbst")
        self.basis.setObjectName("entitlementBasis")
        self.basis_box = self.form.add(FieldBox(
            "entitlement.basis", tr("Berec&htigung (§ 62 PStG)"), self.basis, required=True),
            "entitlement")
        applicant.place(self.basis_box, 0, 0, 4)
        self.delivery = ChoiceBox(_labels(DELIVERIES), "post")
        self.delivery.setObjectName("delivery")
        self.delivery_box = self.form.add(FieldBox("delivery", tr("Zus&tellung"),
                                                   self.delivery, required=True))
        applicant.place(self.delivery_box, 2, 0, 4)
        self.interest = QLineEdit()
        self.interest.setObjectName("interest")
        limit_length(self.interest, 200)
        self.interest_box = self.form.add(FieldBox(
            "entitlement.interest", tr("Berechtigtes oder rechtliches &Interesse"),
            self.interest, required=True))
        self.interest_box.hide()
        applicant.place(self.interest_box, 1, 0, 5)
        self.id_checked = QCheckBox(tr("Ausweis der antragstellenden Person ge&prüft *"))
        self.id_checked.setObjectName("idDocumentChecked")
        self.id_box = self.form.add(_confirmation_box("id_document_checked", self.id_checked))
        applicant.place(self.id_box, 3, 0, 5)
        self.body.addWidget(applicant)

        self._prefilled: dict[QLineEdit, str] = {}
        self.certificate.currentIndexChanged.connect(self._on_choice)
        self.basis.currentIndexChanged.connect(self._on_choice)
        self._on_choice()
        self.form.mark_clean()

    def _on_choice(self, *_args: object) -> None:
        kind = self.certificate.value() or "geburt"
        for box, label in zip((self.names_box, self.date_box, self.place_box),
                              EVENT_LABELS[kind], strict=True):
            box.set_label(tr_label(label))
        needs_interest = (self.basis.value() or "") in NEEDS_INTEREST
        self.interest_box.setVisible(needs_interest)
        self._prefill_own_birth(kind == "geburt" and self.basis.value() == "selbst")
        self.refresh_tab_order()

    def _prefill_own_birth(self, own_birth: bool) -> None:
        """The applicant's own birth certificate: the entry is the applicant's birth, so the
        register's data prefills it; fields the clerk typed into are never touched."""
        r = self.record
        values = {self.names: f"{r.first_names} {r.family_name}".strip(),
                  self.event_date: fmt_date(r.birth_date) if r.birth_date else "",
                  self.place: r.birth_place or ""}
        for edit, value in values.items():
            ours = self._prefilled.get(edit)
            if ours is not None and edit.text() != ours:
                continue   # the clerk changed it
            edit.setText(value if own_birth else "")
            self._prefilled[edit] = edit.text()

    def default_focus(self) -> QWidget:
        return self.certificate

    def field_chain(self) -> list[QWidget]:
        chain: list[QWidget] = [self.certificate, self.copies, self.names, self.event_date,
                                self.place, self.registry_number, self.basis]
        if self.interest_box.isVisibleTo(self):
            chain.append(self.interest)
        return [*chain, self.delivery, self.id_checked]

    def service_form(self) -> dict[str, Any]:
        subject = {"names": self.names.text(), "date": self.event_date.text(),
                   "place": self.place.text()}
        if self.registry_number.text().strip():
            subject["registry_number"] = self.registry_number.text()
        entitlement = {"basis": self.basis.value() or ""}
        if self.interest_box.isVisibleTo(self):
            entitlement["interest"] = self.interest.text()
        return {"certificate": self.certificate.value() or "", "subject": subject,
                "entitlement": entitlement, "copies": self.copies.value(),
                "delivery": self.delivery.value() or "",
                "id_document_checked": self.id_checked.isChecked()}


DIALOGS: Mapping[str, type[CertificateDialog]] = {
    "meldebescheinigung": MeldebescheinigungDialog,
    "lebensbescheinigung": LebensbescheinigungDialog,
    "personenstandsurkunde_antrag": PersonenstandsurkundeDialog,
}


def certificate_dialog(kind: str, record: PersonRecord, db: DbWorker,
                       parent: QWidget | None = None, *, demo: bool = False,
                       printing: PrintService | None = None) -> CertificateDialog:
    """The dialog of the certificate service `kind` for the open person `record`."""
    return DIALOGS[kind](record, db, parent, demo=demo, printing=printing)


__all__ = [
    "DIALOGS",
    "CertificateDialog",
    "LebensbescheinigungDialog",
    "MeldebescheinigungDialog",
    "PersonenstandsurkundeDialog",
    "ResultView",
    "WarningBox",
    "certificate_dialog",
]
