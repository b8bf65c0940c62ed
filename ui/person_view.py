"""The open person: everything the register holds, readable at a glance, blocks impossible to miss.

An active information block (Auskunftssperre, § 51 BMG; bedingter Sperrvermerk, § 52 BMG) is a
red banner above everything else, with a warning icon and words: never colour alone.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedLayout,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
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
    Relation,
    Residence,
)
from clerk_app.relations import is_minor
from ui.enter_key import EnterKeyFilter
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

# Nationalities as the register stores them (ISO 3166-1 alpha-3); unknown codes as they are.
NATIONALITY_LABELS = {
    "DEU": "deutsch", "AUT": "österreichisch", "CHE": "schweizerisch", "FRA": "französisch",
    "ITA": "italienisch", "ESP": "spanisch", "PRT": "portugiesisch", "POL": "polnisch",
    "CZE": "tschechisch", "ROU": "rumänisch", "HRV": "kroatisch", "TUR": "türkisch",
    "VNM": "vietnamesisch", "NOR": "norwegisch", "SWE": "schwedisch", "USA": "amerikanisch",
}
# Kinds of former names in the register.
FORMER_NAME_KINDS = ("Geburtsname", "Ehename", "früherer Familienname", "früherer Vorname")
# Kinds of information blocks in the register.
BLOCK_KINDS = ("Auskunftssperre", "bedingter Sperrvermerk")


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
    """Placeholder with the key help while no one is open; the record once one is.

    The record is one read-only rich-text view (selectable, scrollable with the keyboard,
    read as a whole by screen readers); the information-block banners sit above it, outside
    the scrolling part, so they are always in sight.
    """

    person_link_activated = Signal(str)   # a household member's id: open that person
    reprint_requested = Signal(str)       # Enter in the document list: Zweitschrift of it

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
        self._browser = QTextBrowser()
        self._browser.setObjectName("personRecord")
        self._browser.setAccessibleName(tr("Daten der Person"))
        self._browser.setOpenLinks(False)
        self._browser.setOpenExternalLinks(False)
        self._browser.anchorClicked.connect(self._on_link)
        self._browser.setFrameShape(QFrame.Shape.StyledPanel)
        self._browser.document().setDocumentMargin(12)
        self._browser.document().setDefaultStyleSheet(RECORD_CSS)
        page_layout.addWidget(self._browser, 1)
        self._build_documents(page_layout)
        self._stack.addWidget(page)
        self._stack.setCurrentIndex(0)

    def _build_documents(self, layout: QVBoxLayout) -> None:
        """'Dokumente': the person's issued documents; Enter (or F10) prints a Zweitschrift
        of the selected one."""
        self.documents_label = QLabel(tr("&Dokumente (Enter oder F10: Zweitschrift drucken)"))
        self.documents_label.setObjectName("documentsLabel")
        font = QFont(self.documents_label.font())
        font.setBold(True)
        self.documents_label.setFont(font)
        self.documents = QTableWidget(0, 3)
        self.documents.setObjectName("personDocuments")
        self.documents.setAccessibleName(tr("Ausgestellte Dokumente"))
        self.documents.setAccessibleDescription(tr(
            "Pfeiltasten wählen ein Dokument, Enter oder F10 druckt eine Zweitschrift."))
        self.documents.setHorizontalHeaderLabels(
            [tr("Nummer"), tr("Dokument"), tr("Ausgestellt am")])
        self.documents.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.documents.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.documents.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.documents.setTabKeyNavigation(False)
        self.documents.setAlternatingRowColors(True)
        self.documents.setWordWrap(False)
        self.documents.setShowGrid(False)
        self.documents.verticalHeader().setVisible(False)
        header = self.documents.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.documents.setMaximumHeight(self.documents.fontMetrics().height() * 9)
        self.documents_label.setBuddy(self.documents)
        self.documents_empty = QLabel(tr("Keine ausgestellten Dokumente."))
        self.documents_empty.setObjectName("documentsEmpty")
        self.documents_empty.setStyleSheet(f"color: {MUTED};")
        EnterKeyFilter(self.documents, self._request_reprint)
        self.documents.doubleClicked.connect(lambda _index: self._request_reprint())
        layout.addWidget(self.documents_label)
        layout.addWidget(self.documents)
        layout.addWidget(self.documents_empty)
        self._document_numbers: list[str] = []
        self.show_documents([])

    def show_documents(self, documents: Sequence[object]) -> None:
        """List the person's documents (objects with number, title, issued_on)."""
        self.documents.setRowCount(0)
        self._document_numbers = []
        for row, doc in enumerate(documents):
            number = str(getattr(doc, "number", ""))
            title = tr_label(str(getattr(doc, "title", "")))
            issued = getattr(doc, "issued_on", None)
            self.documents.insertRow(row)
            for column, text in enumerate((number, title, fmt_date(issued))):
                item = QTableWidgetItem(text)
                self.documents.setItem(row, column, item)
            self._document_numbers.append(number)
        has = bool(self._document_numbers)
        self.documents.setVisible(has)
        self.documents_empty.setVisible(not has)
        if has:
            self.documents.selectRow(0)

    @property
    def document_numbers(self) -> list[str]:
        return list(self._document_numbers)

    def selected_document(self) -> str | None:
        rows = self.documents.selectionModel().selectedRows()
        if not rows or not self._document_numbers:
            return None
        return self._document_numbers[rows[0].row()]

    def select_document(self, number: str) -> None:
        if number in self._document_numbers:
            self.documents.selectRow(self._document_numbers.index(number))

    def _request_reprint(self) -> None:
        number = self.selected_document()
        if number is not None:
            self.reprint_requested.emit(number)

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
        return self._browser

    def record_text(self) -> str:
        """The record as plain text, as a screen reader gets it."""
        return self._browser.toPlainText()

    def record_html(self) -> str:
        return self._browser.toHtml()

    def clear(self) -> None:
        self._record = None
        self._clear_banners()
        self._browser.clear()
        self.show_documents([])
        self._stack.setCurrentIndex(0)

    def show_record(self, record: PersonRecord, today: date | None = None) -> None:
        today = today or date.today()
        if self._record is None or self._record.id != record.id:
            self.show_documents([])   # another person: their documents are loaded anew
        self._record = record
        self._clear_banners()
        for block in record.active_blocks(today):
            self._banners.addWidget(BlockBanner(block))
        self._browser.setHtml(record_html(record, today))
        self._browser.verticalScrollBar().setValue(0)
        self._stack.setCurrentIndex(1)

    def _clear_banners(self) -> None:
        while self._banners.count():
            item = self._banners.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "person":
            self.person_link_activated.emit(url.path())


RECORD_CSS = f"""
h1 {{ font-size: x-large; font-weight: bold; margin: 0 0 2px 0; }}
h2 {{ font-size: medium; font-weight: bold; margin-top: 14px; margin-bottom: 4px;
      color: #1a3a5c; }}
p {{ margin: 2px 0; }}
.muted {{ color: {MUTED}; }}
.expired {{ color: {BANNER_RED}; font-weight: bold; }}
td.k {{ color: {MUTED}; padding: 3px 12px 3px 0; white-space: nowrap; }}
td.v {{ padding: 3px 0; }}
a {{ color: #0b4f9c; }}
"""


def record_html(r: PersonRecord, today: date) -> str:
    """The whole record as rich text: header, names and personal data side by side, then
    residences, ID documents and household."""
    summary = [f"* {fmt_date(r.birth_date)}"]
    age = fmt_age(r.birth_date, today)
    if age:
        summary.append(age)
    summary.append(tr_label(SEX_LABELS.get(r.sex, r.sex)))
    out = [
        f"<h1>{_esc(r.display_name)}</h1>",
        f"<p>{_esc(' · '.join(summary))}</p>",
        f"<p class='muted' style='margin-bottom:6px'>"
        f"{_esc(tr('Zugriff protokolliert: Auskunft am Schalter'))}</p>",
        "<table width='100%' cellspacing='0' cellpadding='0' style='margin-top:6px'><tr>"
        f"<td width='50%' valign='top' style='padding-right:16px'>"
        f"{_section(tr('Namen'), _names_rows(r))}</td>"
        f"<td width='50%' valign='top'>{_section(tr('Personendaten'), _personal_rows(r))}</td>"
        "</tr></table>",
        _section(tr("Wohnungen"), _current_rows(r)),
    ]
    history = [res for res in r.residences if not res.is_current]
    if history:
        out.append(_section(tr("Frühere Wohnungen"), [
            (_period(res), f"{_esc(res.address.one_line())} "
                           f"<span class='muted'>({_esc(tr_label(res.kind_label))})</span>")
            for res in history]))
    out.append(_section(tr("Ausweisdokumente"), [
        (tr_label(DOC_TYPE_LABELS.get(d.doc_type, d.doc_type)), _document_html(d, today))
        for d in r.documents] or [(tr("Dokumente"), _esc(tr("keine erfasst")))]))
    if r.relations:
        out.append(_section(tr("Familie (§ 3 BMG)"), _relation_rows(r.relations, today)))
    out.append(_section(tr("Haushalt"), [
        (tr("Mitglied"),
         f"<a href='person:{_esc(m.person_id)}'>{_esc(m.display_name)}</a>"
         f" <span class='muted'>* {_esc(fmt_date(m.birth_date))}</span>")
        for m in r.household] or [(tr("Mitglieder"), _esc(tr("keine weiteren Personen")))]))
    former_blocks = [b for b in r.blocks if not b.is_active_on(today)]
    if former_blocks:
        out.append(_section(tr("Frühere Sperren"), [
            (f"{fmt_date(b.since)} – {fmt_date(b.until)}",
             _esc(f"{tr_label(b.kind)} ({b.legal_basis})")) for b in former_blocks]))
    return "".join(out)


def _relation_rows(relations: Sequence[Relation], today: date) -> list[tuple[str, str]]:
    """One row per related person: 'Kind: Müller, Mia * 03.04.2023 · minderjährig ·
    gesetzlich vertreten', the name a link that opens the person. A legal representation
    that goes with a parent's or child's relation is said in that row."""
    by_person: dict[str, list[Relation]] = {}
    for rel in relations:
        by_person.setdefault(rel.person_id, []).append(rel)
    rows = []
    for rels in by_person.values():
        main = next((x for x in rels if x.kind not in REPRESENTATION), rels[0])
        if not main.display_name:
            rows.append((tr_label(main.label), _esc(tr("nicht im Melderegister dieser Stadt"))))
            continue
        notes = [f"* {fmt_date(main.birth_date)}"]
        if any(x.kind in ("kind", "vertreten") for x in rels) and \
                is_minor(main.birth_date, today):
            notes.append(tr("minderjährig"))
        notes += [REPRESENTATION[x.kind]() for x in rels
                  if x is not main and x.kind in REPRESENTATION]
        rows.append((tr_label(main.label),
                     f"<a href='person:{_esc(main.person_id)}'>{_esc(main.display_name)}</a>"
                     f" <span class='muted'>{_esc(' · '.join(notes))}</span>"))
    return rows


# Said in the row of the parent or child it goes with.
REPRESENTATION = {"vertreten": lambda: tr("gesetzlich vertreten"),
                  "vertreter": lambda: tr("gesetzlicher Vertreter")}


def _section(title: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td class='k' valign='top'>{_esc(k[:1].upper() + k[1:])}</td>"
                   f"<td class='v' valign='top'>{v}</td></tr>" for k, v in rows)
    return f"<h2>{_esc(title)}</h2><table cellspacing='0' cellpadding='0'>{body}</table>"


def _names_rows(r: PersonRecord) -> list[tuple[str, str]]:
    rows = [(tr("Familienname"), f"<b>{_esc(r.family_name)}</b>")]
    if r.birth_name:
        rows.append((tr("Geburtsname"), _esc(r.birth_name)))
    rows.append((tr("Vornamen"), _first_names_html(r.first_names, r.everyday_name)))
    if r.doctorate:
        rows.append((tr("Doktorgrad"), _esc(r.doctorate)))
    if r.religious_name:
        rows.append((tr("Ordensname"), _esc(r.religious_name)))
    if r.artist_name:
        rows.append((tr("Künstlername"), _esc(r.artist_name)))
    for former in r.former_names:
        text = _esc(former.name)
        extra = [tr_label(former.kind)] if former.kind else []
        if former.valid_until:
            extra.append(tr("bis {day}").format(day=fmt_date(former.valid_until)))
        if extra:
            text += f" <span class='muted'>({_esc(', '.join(extra))})</span>"
        rows.append((tr("Früherer Name"), text))
    return rows


def _personal_rows(r: PersonRecord) -> list[tuple[str, str]]:
    place = r.birth_place or NO_VALUE
    if r.birth_country and r.birth_country not in ("DE", "DEU", "Deutschland"):
        place = f"{place} ({r.birth_country})"
    nationalities = ", ".join(tr_label(NATIONALITY_LABELS.get(code, code))
                              for code in r.nationalities)
    religion = RELIGION_LABELS.get(r.religion, r.religion) if r.religion else NO_VALUE
    marital = (tr_label(MARITAL_LABELS.get(r.marital_status, r.marital_status))
               if r.marital_status else NO_VALUE)
    if r.marital_date:
        marital += " " + tr("seit {day}").format(day=fmt_date(r.marital_date))
    if r.marital_place:
        marital += " " + tr("in {place}").format(place=r.marital_place)
    return [
        (tr("Geburtsdatum"), _esc(fmt_date(r.birth_date))),
        (tr("Geburtsort"), _esc(place)),
        (tr("Geschlecht"), _esc(tr_label(SEX_LABELS.get(r.sex, r.sex)))),
        (tr("Staatsangehörigkeit"), _esc(nationalities or NO_VALUE)),
        (tr("Religion"), _esc(tr_label(religion))),
        (tr("Familienstand"), _esc(marital)),
    ]


def _current_rows(r: PersonRecord) -> list[tuple[str, str]]:
    rows = []
    for res in r.current_residences:
        moved = tr("eingezogen am {day}").format(day=fmt_date(res.move_in))
        rows.append((tr_label(res.kind_label),
                     f"<b>{_esc(res.address.one_line())}</b> "
                     f"<span class='muted'>· {_esc(moved)}</span>"))
    return rows or [(tr("Aktuell"), _esc(tr("keine aktuelle Wohnung gemeldet")))]


def _first_names_html(first_names: str, everyday: str | None) -> str:
    """First names with the everyday name (Rufname) underlined and named in words."""
    if not first_names:
        return NO_VALUE
    if not everyday:
        return _esc(first_names)
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
    return " ".join(marked) + f" <span class='muted'>({_esc(hint)})</span>"


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
        parts.append(f"<span class='expired'>✖ {_esc(expired)}</span>")
    detail = []
    if doc.issued_on:
        detail.append(tr("ausgestellt am {day}").format(day=fmt_date(doc.issued_on)))
    if doc.authority:
        detail.append(tr("von {authority}").format(authority=doc.authority))
    if detail:
        parts.append(f"<span class='muted'>{_esc(' '.join(detail))}</span>")
    return " · ".join(parts)
