"""The open person: everything the register holds, readable at a glance, blocks impossible to miss.

An active information block (Auskunftssperre, § 51 BMG; bedingter Sperrvermerk, § 52 BMG) is a
red banner above everything else, with a warning icon and words: never colour alone.
"""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedLayout,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from clerk_app.models import (
    MARITAL_LABELS,
    RELIGION_LABELS,
    SEX_LABELS,
    IdDocument,
    InformationBlock,
    PersonRecord,
    Residence,
)
from ui.formatting import NO_VALUE, fmt_age, fmt_date
from ui.i18n import tr, tr_label

BANNER_RED = "#b00020"
MUTED = "#505050"

# ID document codes as the register stores them; unknown codes are shown as they are.
DOC_TYPE_LABELS = {
    "PA": "Personalausweis", "ID": "Personalausweis", "RP": "Reisepass", "P": "Reisepass",
    "KP": "Kinderreisepass", "VP": "vorläufiger Personalausweis",
    "VR": "vorläufiger Reisepass", "AT": "elektronischer Aufenthaltstitel",
}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def _is_conditional(block: InformationBlock) -> bool:
    """A bedingter Sperrvermerk (§ 52 BMG) rather than an Auskunftssperre (§ 51 BMG)."""
    text = f"{block.kind} {block.legal_basis}".lower()
    return "52" in text or "bedingt" in text


class BlockBanner(QFrame):
    """One active information block: red, icon, capitals, legal basis."""

    def __init__(self, block: InformationBlock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blockBanner")
        self.setStyleSheet(
            f"#blockBanner {{ background: {BANNER_RED}; border: 3px solid #600010;"
            " border-radius: 4px; }"
            " #blockBanner QLabel { color: white; background: transparent; }")
        if _is_conditional(block):
            title = tr("BEDINGTER SPERRVERMERK – Auskunft an Dritte nur nach Anhörung")
        else:
            title = tr("AUSKUNFTSSPERRE – keine Auskunft an Dritte")
        details = [tr("Rechtsgrundlage: {basis}").format(basis=block.legal_basis),
                   tr("seit {day}").format(day=fmt_date(block.since))]
        if block.until is not None:
            details.append(tr("befristet bis {day}").format(day=fmt_date(block.until)))
        if block.reason:
            details.append(tr("Grund: {reason}").format(reason=block.reason))
        self.title_text = title
        self.detail_text = " · ".join(details)

        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(QSize(size, size)))
        icon.setAccessibleName(tr("Warnung"))
        title_label = QLabel(title)
        font = QFont(title_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title_label.setFont(font)
        title_label.setWordWrap(True)
        detail_label = QLabel(self.detail_text)
        detail_label.setWordWrap(True)

        text_box = QVBoxLayout()
        text_box.setSpacing(2)
        text_box.addWidget(title_label)
        text_box.addWidget(detail_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(12)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text_box, 1)
        self.setAccessibleName(title)
        self.setAccessibleDescription(self.detail_text)


class PersonView(QWidget):
    """Placeholder with the key help while no one is open; the record once one is."""

    person_link_activated = Signal(str)   # a household member's id: open that person

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(tr("Personenansicht"))
        self._record: PersonRecord | None = None
        self._stack = QStackedLayout(self)

        self._placeholder = QLabel(self._help_html())
        self._placeholder.setObjectName("personPlaceholder")
        self._placeholder.setTextFormat(Qt.TextFormat.RichText)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._placeholder.setAccessibleName(tr("Keine Person geöffnet"))
        self._placeholder.setStyleSheet(f"color: {MUTED};")
        self._stack.addWidget(self._placeholder)

        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(6)
        self._banners = QVBoxLayout()
        self._banners.setSpacing(4)
        page_layout.addLayout(self._banners)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setAccessibleName(tr("Daten der Person"))
        self._scroll.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        page_layout.addWidget(self._scroll, 1)
        self._stack.addWidget(page)
        self._stack.setCurrentIndex(0)

    @staticmethod
    def _help_html() -> str:
        rows = [
            (tr("Tippen"), tr("Name, Geburtsdatum oder Straße Hausnummer")),
            (tr("↑ / ↓"), tr("Treffer auswählen")),
            (tr("Enter"), tr("Person öffnen")),
            (tr("Esc"), tr("neue Suche")),
            (tr("Strg+F"), tr("zurück zur Suche")),
        ]
        body = "".join(
            f"<tr><td align='right' style='padding:3px 12px'><b>{_esc(k)}</b></td>"
            f"<td style='padding:3px 12px'>{_esc(v)}</td></tr>" for k, v in rows)
        return (f"<p style='font-size:large'>{_esc(tr('Keine Person geöffnet'))}</p>"
                f"<table>{body}</table>")

    # What the window calls

    @property
    def record(self) -> PersonRecord | None:
        return self._record

    @property
    def focus_target(self) -> QWidget:
        """The widget that takes the keyboard in this view (for the window's tab order)."""
        return self._scroll

    @property
    def banner_texts(self) -> list[str]:
        return [w.title_text for w in self.findChildren(BlockBanner)]

    def clear(self) -> None:
        self._record = None
        self._clear_banners()
        old = self._scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self._stack.setCurrentIndex(0)

    def show_record(self, record: PersonRecord, today: date | None = None) -> None:
        today = today or date.today()
        self._record = record
        self._clear_banners()
        for block in record.active_blocks(today):
            self._banners.addWidget(BlockBanner(block))
        old = self._scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self._scroll.setWidget(self._build(record, today))
        self._scroll.verticalScrollBar().setValue(0)
        self._stack.setCurrentIndex(1)

    def _clear_banners(self) -> None:
        while self._banners.count():
            item = self._banners.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    # Building the page

    def _build(self, r: PersonRecord, today: date) -> QWidget:
        page = QWidget()
        page.setObjectName("personPage")
        col = QVBoxLayout(page)
        col.setContentsMargins(4, 0, 8, 8)
        col.setSpacing(10)

        name = QLabel(_esc(r.display_name))
        name.setObjectName("personName")
        font = QFont(name.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.45)
        name.setFont(font)
        name.setWordWrap(True)
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        name.setAccessibleName(tr("Name: {name}").format(name=r.display_name))
        col.addWidget(name)

        summary = [f"* {fmt_date(r.birth_date)}"]
        age = fmt_age(r.birth_date, today)
        if age:
            summary.append(age)
        summary.append(tr_label(SEX_LABELS.get(r.sex, r.sex)))
        sub = QLabel(" · ".join(summary))
        sub.setAccessibleName(" · ".join(summary))
        col.addWidget(sub)
        note = QLabel(tr("Zugriff protokolliert: Auskunft am Schalter"))
        note.setStyleSheet(f"color: {MUTED};")
        col.addWidget(note)

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self._names_box(r), 1)
        top.addWidget(self._personal_box(r), 1)
        col.addLayout(top)
        col.addWidget(self._residences_box(r))
        bottom = QHBoxLayout()
        bottom.setSpacing(10)
        bottom.addWidget(self._household_box(r), 1)
        bottom.addWidget(self._documents_box(r, today), 1)
        col.addLayout(bottom)
        former_blocks = [b for b in r.blocks if not b.is_active_on(today)]
        if former_blocks:
            col.addWidget(self._former_blocks_box(former_blocks))
        col.addStretch(1)
        return page

    @staticmethod
    def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        box.setAccessibleName(title)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(5)
        return box, form

    @staticmethod
    def _row(form: QFormLayout, label: str, value_html: str, spoken: str | None = None,
             ) -> QLabel:
        caption = QLabel(label)
        caption.setStyleSheet(f"color: {MUTED};")
        value = QLabel(value_html)
        value.setTextFormat(Qt.TextFormat.RichText)
        value.setWordWrap(True)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        value.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        plain = spoken if spoken is not None else html.unescape(_strip_tags(value_html))
        value.setAccessibleName(f"{label.rstrip(':')}: {plain}")
        caption.setBuddy(value)
        form.addRow(caption, value)
        return value

    def _names_box(self, r: PersonRecord) -> QGroupBox:
        box, form = self._group(tr("Namen"))
        self._row(form, tr("Familienname:"), _esc(r.family_name))
        if r.birth_name:
            self._row(form, tr("Geburtsname:"), _esc(r.birth_name))
        first, spoken = _first_names_html(r.first_names, r.everyday_name)
        self._row(form, tr("Vornamen:"), first, spoken)
        if r.doctorate:
            self._row(form, tr("Doktorgrad:"), _esc(r.doctorate))
        if r.religious_name:
            self._row(form, tr("Ordensname:"), _esc(r.religious_name))
        if r.artist_name:
            self._row(form, tr("Künstlername:"), _esc(r.artist_name))
        for former in r.former_names:
            text = _esc(former.name)
            extra = [tr_label(former.kind)] if former.kind else []
            if former.valid_until:
                extra.append(tr("bis {day}").format(day=fmt_date(former.valid_until)))
            if extra:
                text += f" <span style='color:{MUTED}'>({_esc(', '.join(extra))})</span>"
            self._row(form, tr("Früherer Name:"), text)
        return box

    def _personal_box(self, r: PersonRecord) -> QGroupBox:
        box, form = self._group(tr("Personendaten"))
        self._row(form, tr("Geburtsdatum:"), _esc(fmt_date(r.birth_date)))
        place = r.birth_place or NO_VALUE
        if r.birth_country and r.birth_country not in ("DE", "Deutschland"):
            place = f"{place} ({r.birth_country})"
        self._row(form, tr("Geburtsort:"), _esc(place))
        self._row(form, tr("Geschlecht:"), _esc(tr_label(SEX_LABELS.get(r.sex, r.sex))))
        self._row(form, tr("Staatsangehörigkeit:"),
                  _esc(", ".join(r.nationalities) if r.nationalities else NO_VALUE))
        religion = RELIGION_LABELS.get(r.religion, r.religion) if r.religion else NO_VALUE
        self._row(form, tr("Religion:"), _esc(tr_label(religion)))
        marital = (tr_label(MARITAL_LABELS.get(r.marital_status, r.marital_status))
                   if r.marital_status else NO_VALUE)
        if r.marital_date:
            marital += " " + tr("seit {day}").format(day=fmt_date(r.marital_date))
        if r.marital_place:
            marital += " " + tr("in {place}").format(place=r.marital_place)
        self._row(form, tr("Familienstand:"), _esc(marital))
        return box

    def _residences_box(self, r: PersonRecord) -> QGroupBox:
        box, form = self._group(tr("Wohnungen"))
        current = r.current_residences
        if not current:
            self._row(form, tr("Aktuell:"), _esc(tr("keine aktuelle Wohnung gemeldet")))
        for res in current:
            text = (f"<b>{_esc(res.address.one_line())}</b><br>"
                    f"<span style='color:{MUTED}'>"
                    f"{_esc(tr('eingezogen am {day}').format(day=fmt_date(res.move_in)))}"
                    "</span>")
            self._row(form, tr_label(res.kind_label) + ":", text)
        history = [res for res in r.residences if not res.is_current]
        if history:
            caption = QLabel(tr("Frühere Wohnungen"))
            font = QFont(caption.font())
            font.setBold(True)
            caption.setFont(font)
            form.addRow(caption)
            for res in history:
                self._row(form, _period(res) + ":",
                          f"{_esc(res.address.one_line())} "
                          f"<span style='color:{MUTED}'>({_esc(tr_label(res.kind_label))})"
                          "</span>")
        return box

    def _household_box(self, r: PersonRecord) -> QGroupBox:
        box, form = self._group(tr("Haushalt"))
        if not r.household:
            self._row(form, tr("Mitglieder:"), _esc(tr("keine weiteren Personen")))
        for member in r.household:
            label = self._row(
                form, tr("Mitglied:"),
                f"<a href='person:{_esc(member.person_id)}'>{_esc(member.display_name)}</a>"
                f" <span style='color:{MUTED}'>* {_esc(fmt_date(member.birth_date))}</span>",
                f"{member.display_name}, * {fmt_date(member.birth_date)}")
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextBrowserInteraction)
            label.setToolTip(tr("Person öffnen"))
            label.linkActivated.connect(self._on_link)
        return box

    def _documents_box(self, r: PersonRecord, today: date) -> QGroupBox:
        box, form = self._group(tr("Ausweisdokumente"))
        if not r.documents:
            self._row(form, tr("Dokumente:"), _esc(tr("keine erfasst")))
        for doc in r.documents:
            self._row(form, tr_label(DOC_TYPE_LABELS.get(doc.doc_type, doc.doc_type)) + ":",
                      _document_html(doc, today))
        return box

    def _former_blocks_box(self, blocks: list[InformationBlock]) -> QGroupBox:
        box, form = self._group(tr("Frühere Sperren"))
        for b in blocks:
            period = f"{fmt_date(b.since)} – {fmt_date(b.until)}"
            self._row(form, period + ":", _esc(f"{b.kind} ({b.legal_basis})"))
        return box

    def _on_link(self, href: str) -> None:
        if href.startswith("person:"):
            self.person_link_activated.emit(href.removeprefix("person:"))


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for ch in text.replace("<br>", " "):
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


def _first_names_html(first_names: str, everyday: str | None) -> tuple[str, str]:
    """First names with the everyday name (Rufname) underlined and named in words."""
    if not first_names:
        return NO_VALUE, NO_VALUE
    if not everyday:
        return _esc(first_names), first_names
    words = first_names.split()
    target = everyday.split()
    marked: list[str] = []
    found = False
    i = 0
    while i < len(words):
        if not found and words[i:i + len(target)] == target:
            marked.append(f"<u>{_esc(' '.join(target))}</u>")
            i += len(target)
            found = True
        else:
            marked.append(_esc(words[i]))
            i += 1
    hint = tr("Rufname: {name}").format(name=everyday)
    text = " ".join(marked) + f" <span style='color:{MUTED}'>({_esc(hint)})</span>"
    return text, f"{first_names} ({hint})"


def _period(res: Residence) -> str:
    return f"{fmt_date(res.move_in)} – {fmt_date(res.move_out)}"


def _document_html(doc: IdDocument, today: date) -> str:
    parts = [f"<b>{_esc(doc.number)}</b>"]
    if doc.valid_until is None:
        parts.append(_esc(tr("ohne Ablaufdatum")))
    elif doc.is_valid_on(today):
        parts.append(_esc(tr("gültig bis {day}").format(day=fmt_date(doc.valid_until))))
    else:
        expired = tr("ABGELAUFEN am {day}").format(day=fmt_date(doc.valid_until))
        parts.append(f"<span style='color:{BANNER_RED}'><b>✖ {_esc(expired)}</b></span>")
    detail = []
    if doc.issued_on:
        detail.append(tr("ausgestellt am {day}").format(day=fmt_date(doc.issued_on)))
    if doc.authority:
        detail.append(tr("von {authority}").format(authority=doc.authority))
    text = " · ".join(parts)
    if detail:
        text += f"<br><span style='color:{MUTED}'>{_esc(' '.join(detail))}</span>"
    return text
