"""Klärfälle: counter work the central service could not take as it was, decided by a clerk.

A Klärfall arises when another workstation changed the same person first (a conflict), or
when the central service refused a command. The dialog (F12 in the main window, or the
status bar's Klärfälle button) lists the open ones: the service (German name), when it was
done, the person, the reason. Selecting one shows this workstation's version and the central
version of each person side by side: names, dwellings, documents, record version, in words,
never raw data; a line that differs is marked "≠" and shaded (the mark says it without
colour).

Two decisions, each confirmed first with what it will do:

* "Eigene Fassung übernehmen" (Alt+E): the persons as this workstation has them become the
  central version.
* "Zentrale Fassung übernehmen" (Alt+Z): the central version stays and replaces the one here.

A Klärfall this workstation found itself (a command stored damaged or too large for the
centre, which never saw it) can only be discarded: Alt+E is off, and Alt+Z confirms
"Vorgang verwerfen?" (the central version returns with the next sync).

Either way the documents and payments of the counter work stay recorded. The decision is
stored through the DB worker as a new command (`sync.engine.resolve_conflict`, never on the
UI thread) and `decided` asks the window for a sync soon. Until a Klärfall is decided,
further work on the same person waits; all other work is transferred as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clerk_app.models import MARITAL_LABELS, RESIDENCE_LABELS, SEX_LABELS, Address
from sync.engine import conflicts_for_review, resolve_conflict
from ui.db_worker import DbWorker
from ui.formatting import NO_VALUE, fmt_date
from ui.i18n import message_text, tr, tr_label
from ui.operation import Op
from ui.person_view import DOC_TYPE_LABELS, NATIONALITY_LABELS
from ui.status import fmt_moment
from ui.style import ERROR_RED, MUTED, NOTICE_BACKGROUND, OK_GREEN

Record = Mapping[str, Any]
DIFFERS = "≠"
HEADING_BACKGROUND = "#e8e8e8"
LOCAL, CENTRAL = "local", "central"


def command_label(kind: str) -> str:
    """The German name of a command type (the clerks' words); unknown types as they are."""
    labels = {
        "anmeldung": tr("Anmeldung"), "ummeldung": tr("Ummeldung"),
        "abmeldung": tr("Abmeldung"), "meldebescheinigung": tr("Meldebescheinigung"),
        "lebensbescheinigung": tr("Lebensbescheinigung"),
        "personenstandsurkunde_antrag": tr("Personenstandsurkunde"),
        "storno": tr("Storno"), "tagesabschluss": tr("Tagesabschluss"),
        "archive_document": tr("Archivierung eines Dokuments"),
        "klaerfall_loesung": tr("Entscheidung eines Klärfalls"),
    }
    return labels.get(kind, kind)


# --- the two versions, in words ---------------------------------------------------------------

@dataclass(frozen=True)
class CompareRow:
    """One line of the side-by-side view; a heading line names the person."""

    label: str
    local: str = ""
    central: str = ""
    heading: bool = False

    @property
    def differs(self) -> bool:
        return not self.heading and self.local != self.central


def person_name(record: Record | None) -> str:
    """'Kurt, Sevgi * 26.04.1992' from a person aggregate ('' without one)."""
    if not record:
        return ""
    person = record["person"]
    name = f"{person.get('family_name') or ''}, {person.get('first_names') or ''}".strip(", ")
    born = _day(person.get("birth_date"))
    return f"{name} * {fmt_date(born)}" if born else name


def persons_of(conflict: Record) -> str:
    """The persons of a Klärfall, for the list and the confirmation."""
    names = [person_name(r) for r in conflict["local_records"]]
    if not names:
        names = [person_name(r["data"]) for r in conflict["server_records"] if r.get("data")]
    return "; ".join(n for n in names if n) or NO_VALUE


def compare_rows(conflict: Record) -> list[CompareRow]:
    """Both versions of every person of the Klärfall, line by line (see CompareRow)."""
    local = {r["person"]["id"]: r for r in conflict["local_records"]}
    central = {r["id"]: r.get("data") for r in conflict["server_records"]
               if r.get("kind") == "person"}
    contested = {r["id"]: r.get("contested") or [] for r in conflict["server_records"]}
    rows: list[CompareRow] = []
    for pid in dict.fromkeys([*local, *central]):
        mine, theirs = local.get(pid), central.get(pid)
        rows.append(CompareRow(person_name(mine or theirs), heading=True))
        missing = tr("nicht übermittelt") if pid not in central else \
            tr("in der Zentrale gelöscht")
        for label, render in _fields():
            left = render(mine) if mine else NO_VALUE
            right = render(theirs) if theirs else missing
            if left or right:
                rows.append(CompareRow(label, left or NO_VALUE, right or NO_VALUE))
        if contested.get(pid):
            both = contested_text(contested[pid], theirs)
            rows.append(CompareRow(tr("Auf beiden Seiten geändert (Ihre Entscheidung)"),
                                   both, both))
        base = conflict.get("base_versions", {}).get(f"persons/{pid}")
        rows.append(CompareRow(tr("Stand des Datensatzes"), _local_stand(mine, base),
                               _stand(theirs) if theirs else missing))
    return rows


def contested_text(fields: Iterable[str], central: Record | None) -> str:
    """The fields both this workstation and another office changed, as the service named them
    ('residences/<id>.move_out'), one a line: 'Auszug: Palmstraße 7, 79539 Lörrach'."""
    dwellings = {f"residences/{r['id']}": r for r in (central or {}).get("residences", ())}
    lines = []
    for field_name in fields:
        record, _, column = field_name.rpartition(".")
        label = _column_labels().get(column, column)
        dwelling = dwellings.get(record)
        lines.append(f"{label}: {_residence(dwelling)}" if dwelling else label)
    return _lines(lines)


def _column_labels() -> dict[str, str]:
    """The register's columns a Klärfall may name as changed on both sides, as the clerk
    knows them."""
    return {"move_out": tr("Auszug"), "move_in": tr("Einzug"), "kind": tr("Art der Wohnung"),
            "household_id": tr("Haushalt"), "family_name": tr("Familienname"),
            "first_names": tr("Vornamen"), "birth_name": tr("Geburtsname"),
            "marital_status": tr("Familienstand"), "nationalities": tr("Staatsangehörigkeit"),
            "house_number": tr("Hausnummer"), "street": tr("Straße")}


def _stand(record: Record) -> str:
    return tr("Stand {version}").format(version=record["person"].get("version"))


def _local_stand(record: Record | None, base: object) -> str:
    """The version the work here started from (what the central service compared), not the
    local number it raised: 'Stand 1, hier geändert' against a central 'Stand 2'."""
    if base is not None:
        return tr("Stand {version}, hier geändert").format(version=base)
    return _stand(record) if record else NO_VALUE


def _fields() -> list[tuple[str, Callable[[Record], str]]]:
    """What is compared, in the order of the person view (labels in the UI language)."""
    return [
        (tr("Familienname"), lambda r: _text(r["person"].get("family_name"))),
        (tr("Vornamen"), lambda r: _text(r["person"].get("first_names"))),
        (tr("Geburtsname"), lambda r: _text(r["person"].get("birth_name"))),
        (tr("Geburtsdatum"), lambda r: _date_text(r["person"].get("birth_date"))),
        (tr("Geburtsort"), lambda r: _text(r["person"].get("birth_place"))),
        (tr("Geschlecht"), lambda r: _label(SEX_LABELS, r["person"].get("sex"))),
        (tr("Staatsangehörigkeit"), lambda r: _nationalities(r["person"].get("nationalities"))),
        (tr("Familienstand"), lambda r: _label(MARITAL_LABELS,
                                               r["person"].get("marital_status"))),
        (tr("Wohnung (aktuell)"), lambda r: _residences(r, current=True)),
        (tr("Frühere Wohnungen"), lambda r: _residences(r, current=False)),
        (tr("Frühere Namen"), lambda r: _lines(f"{tr_label(n['kind'])}: {n['name']}"
                                               for n in r.get("former_names", ()))),
        (tr("Ausweisdokumente"), _documents),
        (tr("Auskunftssperren"), _blocks),
    ]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _date_text(value: object) -> str:
    day = _day(value)
    return fmt_date(day) if day else ""


def _label(labels: Mapping[str, str], code: object) -> str:
    return "" if code is None else tr_label(labels.get(str(code), str(code)))


def _nationalities(value: object) -> str:
    """The register keeps them as a JSON list of ISO codes: 'deutsch, türkisch'."""
    try:
        codes = json.loads(str(value)) if value else []
    except ValueError:
        codes = [value]
    if not isinstance(codes, list):
        codes = [codes]
    return ", ".join(tr_label(NATIONALITY_LABELS.get(str(c), str(c))) for c in codes)


def _lines(items: Iterable[str]) -> str:
    return "\n".join(items)


def _residences(record: Record, *, current: bool) -> str:
    rows = [r for r in record.get("residences", ()) if (r.get("move_out") is None) == current]
    rows.sort(key=lambda r: str(r.get("move_in") or ""), reverse=True)
    return _lines(_residence(r) for r in rows)


def _residence(row: Record) -> str:
    address = Address(street=row.get("street") or "", house_number=row.get("house_number") or "",
                      postal_code=row.get("postal_code") or "", city=row.get("city") or "",
                      country=row.get("country") or "DEU",
                      foreign_address=row.get("foreign_address") or "").one_line()
    moved_in, moved_out = _day(row.get("move_in")), _day(row.get("move_out"))
    if moved_out is None:
        kind = _label(RESIDENCE_LABELS, row.get("kind"))
        return f"{kind}: {address} (" + tr("seit {day}").format(day=fmt_date(moved_in)) + ")"
    return f"{fmt_date(moved_in)} – {fmt_date(moved_out)}: {address}"   # as the person view


def _documents(record: Record) -> str:
    return _lines(
        f"{_label(DOC_TYPE_LABELS, d.get('doc_type'))} {d.get('number', '')}, "
        + tr("gültig bis {day}").format(day=fmt_date(_day(d.get("valid_until"))))
        for d in record.get("id_documents", ()))


def _blocks(record: Record) -> str:
    return _lines(
        f"{tr_label(str(b.get('kind', '')))}, "
        + tr("seit {day}").format(day=fmt_date(_day(b.get("since"))))
        for b in record.get("information_blocks", ()) if not b.get("until"))


def state_text(conflict: Record) -> str:
    """Where the Klärfall stands, in words."""
    if conflict["state"] == "resolving":
        if conflict.get("decision") == LOCAL:
            return tr("entschieden: eigene Fassung – wird übertragen")
        return tr("entschieden: zentrale Fassung – wird übertragen")
    if conflict["status"] == "rejected":
        return tr("von der Zentrale abgelehnt")
    return tr("an anderer Stelle geändert")


# --- the dialog --------------------------------------------------------------------------------

class ConflictsDialog(QDialog):
    """The Klärfälle list with both versions of the selected one and the two decisions."""

    decided = Signal()   # a decision was stored: the window syncs soon

    def __init__(self, db: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictsDialog")
        title = tr("Klärfälle")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(1180, 760)
        self._db = db
        self._busy = False
        self._discarding = False   # the decision in flight discards a never-sent command
        self.conflicts: list[dict[str, Any]] = []

        self.table = self._build_list()
        self.reason = QLabel()
        self.reason.setObjectName("conflictReason")
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.reason.setAccessibleName(tr("Grund des Klärfalls"))
        self.compare = self._build_compare()
        buttons = self._build_buttons()
        heading, intro, legend = self._texts(title)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.reason)
        layout.addWidget(self.compare, 4)
        layout.addWidget(legend)
        layout.addLayout(buttons)
        QWidget.setTabOrder(self.table, self.compare)
        QWidget.setTabOrder(self.compare, self.local_button)
        QWidget.setTabOrder(self.local_button, self.central_button)
        QWidget.setTabOrder(self.central_button, self.close_button)
        self._update_buttons()
        self.reload()

    @staticmethod
    def _texts(title: str) -> tuple[QLabel, QLabel, QLabel]:
        """Heading, the explanation (why, and that work on the same person waits), legend."""
        heading = QLabel(title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        intro = QLabel(tr(
            "Diese Vorgänge hat die Zentrale nicht so übernommen, wie sie hier erfasst wurden: "
            "Die Person wurde inzwischen an einem anderen Arbeitsplatz geändert, oder die "
            "Zentrale hat den Vorgang abgelehnt. Bitte je Klärfall entscheiden, welche Fassung "
            "gilt. Weitere Vorgänge zu derselben Person warten, bis der Klärfall entschieden "
            "ist; alle anderen Vorgänge werden wie gewohnt übertragen."))
        intro.setWordWrap(True)
        intro.setObjectName("conflictsIntro")
        legend = QLabel(tr("{mark} und gelb hinterlegt: Angaben, die sich unterscheiden · "
                           "↑/↓: Klärfall wählen · Esc: schließen").format(mark=DIFFERS))
        legend.setStyleSheet(f"color: {MUTED};")
        legend.setWordWrap(True)
        return heading, intro, legend

    def _build_buttons(self) -> QHBoxLayout:
        """The feedback line and the decisions (Alt+E, Alt+Z) beside Schließen (Esc)."""
        self.status = QLabel()
        self.status.setObjectName("conflictsStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleName(tr("Bearbeitungsstand"))
        self.local_button = self._button(tr("&Eigene Fassung übernehmen (Alt+E)"),
                                         tr("Eigene Fassung übernehmen"), "takeLocal",
                                         lambda: self.decide(LOCAL))
        self.central_button = self._button(tr("&Zentrale Fassung übernehmen (Alt+Z)"),
                                           tr("Zentrale Fassung übernehmen"), "takeCentral",
                                           lambda: self.decide(CENTRAL))
        self.close_button = self._button(tr("Schließen (Esc)"), tr("Schließen"), "closeButton",
                                         self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.local_button)
        buttons.addWidget(self.central_button)
        buttons.addWidget(self.close_button)
        return buttons

    def _build_list(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setObjectName("conflictList")
        table.setAccessibleName(tr("Offene Klärfälle"))
        table.setHorizontalHeaderLabels([tr("Vorgang"), tr("Person"), tr("Erfasst"),
                                         tr("Stand")])
        _plain_table(table)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        table.itemSelectionChanged.connect(self._show_selected)
        return table

    def _build_compare(self) -> QTableWidget:
        table = QTableWidget(0, 3)
        table.setObjectName("conflictCompare")
        table.setAccessibleName(tr("Eigene und zentrale Fassung im Vergleich"))
        table.setHorizontalHeaderLabels([tr("Angabe"),
                                         tr("Eigene Fassung (dieser Arbeitsplatz)"),
                                         tr("Zentrale Fassung")])
        _plain_table(table)
        table.setStyleSheet("QTableWidget::item { padding: 2px 4px; }")
        table.setWordWrap(True)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        return table

    def _button(self, text: str, name: str, object_name: str,
                slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(object_name)
        button.setAccessibleName(name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    # Loading

    def reload(self) -> None:
        """Read the open Klärfälle again (the DB worker); the selection stays if listed."""
        Op(self, conflicts_for_review, self._on_loaded, what="open Klärfälle").latest(
            "list").failure(self._on_failed).run(self._db)

    def _on_loaded(self, conflicts: list[dict[str, Any]]) -> None:
        selected = self.selected()
        keep = selected["command_id"] if selected else None
        self.conflicts = conflicts
        self.table.blockSignals(True)   # one refresh of the comparison below, not one per row
        self.table.setRowCount(len(conflicts))
        for row, conflict in enumerate(conflicts):
            for column, text in enumerate((command_label(conflict["type"]),
                                           persons_of(conflict),
                                           fmt_moment(conflict["created_at"]),
                                           state_text(conflict))):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        rows = [r for r, c in enumerate(conflicts) if c["command_id"] == keep]
        if conflicts:
            self.table.selectRow(rows[0] if rows else 0)
        self.table.blockSignals(False)
        self._show_selected()
        (self.table if conflicts else self.close_button).setFocus()
        if not self._busy and not conflicts:
            self._say(tr("Keine offenen Klärfälle."), MUTED)

    def _on_failed(self, message_de: str, message_en: str) -> None:
        self._busy = False
        self._say("⚠ " + message_text(message_de, message_en), ERROR_RED)
        self._update_buttons()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.conflicts[rows[0].row()] if rows else None

    def _show_selected(self) -> None:
        conflict = self.selected()
        self.compare.setRowCount(0)
        if conflict is None:
            self.reason.clear()
            self._update_buttons()
            return
        self.reason.setText(tr("{service}, erfasst {when}: {reason}").format(
            service=command_label(conflict["type"]), when=fmt_moment(conflict["created_at"]),
            reason=conflict["reason"] or state_text(conflict)))
        self._fill_compare(compare_rows(conflict))
        self._update_buttons()

    def _fill_compare(self, rows: Sequence[CompareRow]) -> None:
        table = self.compare
        table.setRowCount(len(rows))
        bold = QFont(table.font())
        bold.setBold(True)
        shade = QBrush(QColor(NOTICE_BACKGROUND))
        for index, row in enumerate(rows):
            if row.heading:
                item = QTableWidgetItem(row.label)
                item.setFont(bold)
                item.setBackground(QBrush(QColor(HEADING_BACKGROUND)))
                table.setItem(index, 0, item)
                table.setSpan(index, 0, 1, 3)
                continue
            label = f"{DIFFERS} {row.label}" if row.differs else row.label
            for column, text in enumerate((label, row.local, row.central)):
                item = QTableWidgetItem(text)
                if row.differs:
                    item.setFont(bold)
                    item.setBackground(shade)
                    item.setToolTip(tr("Angaben unterscheiden sich"))
                table.setItem(index, column, item)
        table.resizeRowsToContents()

    def _update_buttons(self) -> None:
        conflict = self.selected()
        open_ = conflict is not None and conflict["state"] == "open" and not self._busy
        # A command the centre never saw can only be discarded (sync.engine.NEVER_SENT).
        self.local_button.setEnabled(open_ and not (conflict or {}).get("never_sent"))
        self.central_button.setEnabled(open_)

    # Deciding

    def decide(self, decision: str) -> None:
        """Alt+E / Alt+Z: confirm, then store the decision through the DB worker."""
        conflict = self.selected()
        if conflict is None or conflict["state"] != "open" or self._busy or \
                (decision == LOCAL and conflict.get("never_sent")):
            return
        if not self._confirm(decision, conflict):
            return
        self._busy = True
        self._update_buttons()
        self._say(tr("Entscheidung wird gespeichert …"), MUTED)
        command_id = str(conflict["command_id"])
        self._discarding = bool(conflict.get("never_sent"))
        Op(self, lambda store: resolve_conflict(store, command_id, decision), self._on_decided,
           what="resolve Klärfall").failure(self._on_failed).run(self._db)

    def _confirm(self, decision: str, conflict: Record) -> bool:
        service, persons = command_label(conflict["type"]), persons_of(conflict)
        box = QMessageBox(self)
        box.setObjectName("confirmDecision")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(tr("Klärfall entscheiden"))
        box.setStyleSheet("#qt_msgbox_informativelabel { min-width: 460px; }")   # fewer lines
        if conflict.get("never_sent"):
            box.setText(tr("Vorgang verwerfen?"))
            box.setInformativeText(tr(
                "Dieser Vorgang ({service}) hat die Zentrale nie erreicht und wird verworfen. "
                "Für {persons} wird die zentrale Fassung mit dem nächsten Abgleich wieder "
                "hergestellt; bitte den Vorgang danach neu erfassen.").format(
                    persons=persons, service=service))
            yes_text = tr("&Ja, Vorgang verwerfen")
        elif decision == LOCAL:
            box.setText(tr("Eigene Fassung übernehmen?"))
            box.setInformativeText(tr(
                "Die Angaben zu {persons}, wie sie an diesem Arbeitsplatz stehen ({service}), "
                "werden für alle Arbeitsplätze gültig. Die Änderung, die an anderer Stelle "
                "gemacht wurde, wird damit ersetzt. Ausgestellte Dokumente und Zahlungen "
                "bleiben erfasst.").format(persons=persons, service=service))
            yes_text = tr("&Ja, eigene Fassung übernehmen")
        else:
            box.setText(tr("Zentrale Fassung übernehmen?"))
            box.setInformativeText(tr(
                "Für {persons} bleibt die zentrale Fassung gültig und ersetzt die Angaben an "
                "diesem Arbeitsplatz; die hier erfasste Änderung ({service}) wird im "
                "Melderegister nicht wirksam. Ausgestellte Dokumente und Zahlungen bleiben "
                "erfasst.").format(persons=persons, service=service))
            yes_text = tr("&Ja, zentrale Fassung übernehmen")
        yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
        no = box.addButton(tr("Abbrechen"), QMessageBox.ButtonRole.RejectRole)
        yes.setAccessibleName(yes_text.replace("&", ""))
        no.setAccessibleName(tr("Abbrechen"))
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.exec()
        confirmed = box.clickedButton() is yes
        box.deleteLater()
        self.activateWindow()   # the keys (Alt+E, Alt+Z, Esc) work here again
        return confirmed

    def _on_decided(self, _resolution_id: str) -> None:
        self._busy = False
        self._say(tr("✔ Vorgang verworfen; die zentrale Fassung wird mit dem nächsten Abgleich "
                     "wieder hergestellt.") if self._discarding else
                  tr("✔ Entscheidung gespeichert; sie wird mit dem nächsten Abgleich an die "
                     "Zentrale übertragen."), OK_GREEN)
        self.decided.emit()
        self.reload()

    def _say(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour};")
        self.status.setAccessibleDescription(text)


def _plain_table(table: QTableWidget) -> None:
    """Read-only, no grid, no row numbers, Tab leaves the table."""
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.setAlternatingRowColors(False)
    table.setShowGrid(False)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setHighlightSections(False)
    table.horizontalHeader().setDefaultAlignment(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
