"""One person of an Anmeldung (`PersonEntry`): names (DIN 91379 checked), birth, sex, nationalities,
marital status, religion, ID documents, and the likely duplicates found before submitting.

One piece of ~400 lines: the fields, their checks and the duplicate hits of one person belong
together, and the Anmeldung repeats the whole section per person.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clerk_app import rules
from clerk_app.id_scan import NewPersonPrefill
from clerk_app.models import (
    MARITAL_LABELS,
    RELIGION_LABELS,
    SEX_LABELS,
    PersonHit,
)
from clerk_app.names import DataType
from clerk_app.persons import (
    ID_DOCUMENT_TYPES,
    nationality_label,
)
from ui.fields import (
    ChoiceBox,
    CountryEdit,
    DateEdit,
    ErrorLabel,
    ErrorSlot,
    FieldBox,
    Form,
    FormSection,
    equal_columns,
    place_in_grid,
)
from ui.formatting import fmt_date
from ui.i18n import tr
from ui.registration.common import (
    GERMANY,
    LatinFormOffer,
    PersonRef,
    codes_of,
    line_edit,
    name_check,
    translated,
)
from ui.registration.family import RelationRow
from ui.style import COLUMNS, MUTED, OK_GREEN

# --- the Anmeldung's persons -----------------------------------------------------------------

# The new person's name fields, in screen order (the first row of the section).
_NAME_FIELDS = ("family_name", "first_names", "everyday_name", "birth_name", "doctorate")


class PersonEntry(FormSection):
    """One person of an Anmeldung: a new person (all fields of § 3 (1) the register keeps) or
    a person already in the register. Field paths are "persons.<key>.<field>"; the dialog
    renames the core's list positions to these keys."""

    remove_requested = Signal(object)
    changed_mode = Signal()
    resolved = Signal()   # a duplicate question was answered

    def __init__(self, key: str, form: Form, today: date, existing: PersonRef | None = None,
                 ) -> None:
        super().__init__("")
        self.key = key
        self.form = form
        self.today = today
        self.existing: PersonRef | None = None
        self._from_typed = False
        self._checked_identity: tuple[str, str, date | None] | None = None
        self.prefix = f"persons.{key}."

        self.new_page = QWidget()
        grid = QGridLayout(self.new_page)
        grid.setContentsMargins(0, 0, 0, 0)
        equal_columns(grid)
        self._grid = grid
        self.edits: dict[str, QWidget] = {}
        self._offers: dict[str, LatinFormOffer] = {}   # under the name fields
        self._build_fields()
        self.grid.addWidget(self.new_page, 0, 0, 1, COLUMNS)

        self.existing_page = QWidget()
        existing_layout = QHBoxLayout(self.existing_page)
        existing_layout.setContentsMargins(0, 0, 0, 0)
        self.existing_label = QLabel()
        self.existing_label.setTextFormat(Qt.TextFormat.RichText)
        self.existing_label.setWordWrap(True)
        self.back_button = QPushButton(tr("Zurück zur Eingabe"))
        self.back_button.setAccessibleName(tr("Zurück zur Eingabe der neuen Person"))
        self.back_button.clicked.connect(self.back_to_new)
        existing_layout.addWidget(self.existing_label, 1)
        existing_layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        self.outer.addWidget(self.existing_page)

        # On top: a further person's relation to the first is asked first (Alt+P goes here).
        self.relation = RelationRow(form, self.prefix)
        self.relation.hide()   # the dialog shows it from the second person on
        self.outer.insertWidget(0, self.relation)

        self.duplicates = self._build_duplicate_panel()
        self.outer.addWidget(self.duplicates)

        self.error = ErrorLabel()
        self.outer.addWidget(self.error)
        bottom = QHBoxLayout()
        self.checked_note = QLabel()
        self.checked_note.setStyleSheet(f"color: {OK_GREEN};")
        self.checked_note.setWordWrap(True)
        self.checked_note.hide()
        bottom.addWidget(self.checked_note, 1)
        self.remove_button = QPushButton(tr("Person entfernen"))
        self.remove_button.setAccessibleName(tr("Diese Person aus der Anmeldung entfernen"))
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        bottom.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignRight)
        self.outer.addLayout(bottom)
        slot = ErrorSlot(self.error, self.first_widget())
        for path in ("persons." + key, self.prefix + "person_id",
                     self.prefix + "duplicate_checked"):
            form.add_target(path, slot)
        self._slot = slot
        self.set_existing(existing)

    # Building

    def _field(self, key: str, label: str, widget: QWidget, row: int, column: int, *,
               required: bool = False, checks: Sequence[Callable[[], str | None]] = (),
               hint: Callable[[], str] | None = None) -> FieldBox:
        box = self.form.add(FieldBox(self.prefix + key, label, widget, required=required,
                                     checks=checks, hint=hint))
        place_in_grid(self._grid, box, row, column)
        self.edits[key] = widget
        return box

    def _build_fields(self) -> None:
        labels = {"family_name": tr("Familienname"), "first_names": tr("Vornamen"),
                  "everyday_name": tr("Rufname"), "birth_name": tr("Geburtsname"),
                  "doctorate": tr("Doktorgrad")}
        for column, key in enumerate(_NAME_FIELDS):
            edit = line_edit()
            required = key in ("family_name", "first_names")
            checks = [name_check(edit)]
            if key == "everyday_name":
                checks.append(self._everyday_problem)
            box = self._field(key, labels[key], edit, 0, column, required=required,
                              checks=checks)
            if key != "doctorate":
                self._offers[key] = LatinFormOffer(box, edit)
        born = DateEdit(self.today, future_years=0)
        self._field("birth_date", tr("Geburtsdatum"), born, 1, 0, required=True,
                    checks=[lambda: rules.birth_date_problem(d, self.today)
                            if (d := born.date()) else None])
        place = line_edit()
        self._field("birth_place", tr("Geburtsort"), place, 1, 1, required=True,
                    checks=[name_check(place, DataType.C)])
        country = CountryEdit(GERMANY)
        box = self._field("birth_country", tr("Geburtsstaat"), country, 1, 2, required=True,
                          hint=country.hint)
        box.set_hint(country.hint())
        self._field("sex", tr("Geschlecht"), ChoiceBox(translated(SEX_LABELS)), 1, 3,
                    required=True)
        nationalities = line_edit(tr("z. B. DEU, CHE; staatenlos: XXA"), 60)
        nationalities.setText(GERMANY)
        box = self._field("nationalities", tr("Staatsangehörigkeiten"), nationalities, 1, 4,
                          required=True, checks=[self._nationality_problem],
                          hint=self._nationality_hint)
        box.set_hint(self._nationality_hint())
        self._field("religion", tr("Religion"), ChoiceBox(translated(RELIGION_LABELS)), 2, 0,
                    required=True)
        self._field("marital_status", tr("Familienstand"),
                    ChoiceBox(translated(MARITAL_LABELS)), 2, 1, required=True)
        self._field("marital_date", tr("Familienstand seit"), DateEdit(self.today,
                                                                        future_years=0), 2, 2)
        place2 = line_edit()
        self._field("marital_place", tr("Ort der Eheschließung"), place2, 2, 3,
                    checks=[name_check(place2, DataType.C)])
        self._field("id_document.doc_type", tr("Ausweisart"),
                    ChoiceBox(translated(ID_DOCUMENT_TYPES)), 3, 0)
        self._field("id_document.number", tr("Ausweisnummer"), line_edit("", 30), 3, 1)
        authority = line_edit()
        self._field("id_document.authority", tr("Ausstellende Behörde"), authority, 3, 2,
                    checks=[name_check(authority, DataType.C)])
        self._field("id_document.issued_on", tr("Ausgestellt am"),
                    DateEdit(self.today, future_years=0), 3, 3)
        self._field("id_document.valid_until", tr("Gültig bis"),
                    DateEdit(self.today, future_years=20), 3, 4)
        for column, (key, label) in enumerate((("religious_name", tr("Ordensname")),
                                               ("artist_name", tr("Künstlername")))):
            edit = line_edit()
            self._field(key, label, edit, 4, column, checks=[name_check(edit)])
        for key in ("family_name", "first_names", "birth_date"):
            widget = self.edits[key]
            assert isinstance(widget, QLineEdit)
            widget.textChanged.connect(lambda _t: self._identity_changed())

    def _build_duplicate_panel(self) -> QFrame:
        panel = QFrame()
        panel.setObjectName("duplicatePanel")
        panel.setStyleSheet("#duplicatePanel { background: #fff4d6; border: 1px solid #8a6d00;"
                            " border-radius: 4px; } #duplicatePanel QLabel { color: #000;"
                            " background: transparent; }")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(10, 6, 10, 8)
        self.duplicate_title = QLabel(tr("⚠ Möglicherweise schon im Melderegister – bitte "
                                         "vergleichen:"))
        self.duplicate_title.setWordWrap(True)
        self.duplicate_list = QListWidget()
        self.duplicate_list.setAccessibleName(tr("Mögliche Doppelerfassungen"))
        self.duplicate_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.take_button = QPushButton(tr("Vorhandene Person übernehmen (Alt+B)"))
        self.take_button.setAccessibleName(tr("Vorhandene Person übernehmen"))
        self.take_button.clicked.connect(self.take_selected)
        self.new_button = QPushButton(tr("Trotzdem neu anlegen (Alt+T)"))
        self.new_button.setAccessibleName(tr("Trotzdem neu anlegen"))
        self.new_button.clicked.connect(self.confirm_new)
        buttons = QHBoxLayout()
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        layout.addWidget(self.duplicate_title)
        layout.addWidget(self.duplicate_list)
        layout.addLayout(buttons)
        for keys, slot in (("Alt+B", self.take_selected), ("Alt+T", self.confirm_new)):
            shortcut = QShortcut(QKeySequence(keys), panel)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.duplicate_list.itemDoubleClicked.connect(lambda _item: self.take_selected())
        panel.hide()
        return panel

    def apply_prefill(self, prefill: NewPersonPrefill) -> None:
        """Fill the fields an ID card's machine-readable zone gives (a scan without a match);
        the hint under the family name says to take umlauts and accents from the card."""
        for key, value in (("family_name", prefill.family_name),
                           ("first_names", prefill.first_names),
                           ("nationalities", ", ".join(prefill.nationalities)),
                           ("id_document.number", prefill.document_number)):
            widget = self.edits[key]
            assert isinstance(widget, QLineEdit)
            if value:
                widget.setText(value)
        self.date_edit("birth_date").set_date(prefill.birth_date)
        self.date_edit("id_document.valid_until").set_date(prefill.valid_until)
        self.choice("sex").set_value(prefill.sex)
        if prefill.document_type in ID_DOCUMENT_TYPES:
            self.choice("id_document.doc_type").set_value(prefill.document_type)
        self.form.box(self.prefix + "family_name").set_hint(prefill.hint_de)
        self.form.box(self.prefix + "nationalities").set_hint(self._nationality_hint())

    def carry_family_name(self, family_name: str) -> None:
        """Start with the first person's family name (a family registering together); the
        clerk overwrites it where it differs."""
        widget = self.edits["family_name"]
        assert isinstance(widget, QLineEdit)
        widget.setText(family_name)
        widget.selectAll()   # typing replaces it, Tab keeps it

    # Reading

    def text(self, key: str) -> str:
        widget = self.edits[key]
        assert isinstance(widget, QLineEdit)
        return widget.text().strip()

    def date_edit(self, key: str) -> DateEdit:
        widget = self.edits[key]
        assert isinstance(widget, DateEdit)
        return widget

    def choice(self, key: str) -> ChoiceBox:
        widget = self.edits[key]
        assert isinstance(widget, ChoiceBox)
        return widget

    @property
    def is_new(self) -> bool:
        return self.existing is None

    def identity(self) -> tuple[str, str, date | None]:
        return (self.text("family_name").casefold(), self.text("first_names").casefold(),
                self.date_edit("birth_date").date())

    def needs_duplicate_check(self) -> bool:
        """A new person complete enough to look for, not yet confirmed by the clerk."""
        family, first, born = self.identity()
        return self.is_new and bool(family and first and born) \
            and self._checked_identity != self.identity()

    def duplicate_checked(self) -> bool:
        return self._checked_identity is not None and self._checked_identity == self.identity()

    def has_typed_data(self) -> bool:
        return any(box.changed() for box in self.form.boxes if box.path.startswith(self.prefix))

    def data(self) -> dict[str, Any]:
        if self.existing is not None:
            return {"person_id": self.existing.id}
        data: dict[str, Any] = {}
        for key in (*_NAME_FIELDS, "birth_place", "marital_place", "religious_name",
                    "artist_name"):
            if self.text(key):
                data[key] = self.text(key)
        for key in ("birth_date", "marital_date"):
            edit = self.date_edit(key)
            if not edit.is_blank():
                data[key] = edit.form_value()
        country = self.edits["birth_country"]
        assert isinstance(country, CountryEdit)
        if country.text().strip():
            data["birth_country"] = country.form_value()
        for key in ("sex", "religion", "marital_status"):
            value = self.choice(key).value()
            if value:
                data[key] = value
        nationalities = codes_of(self.text("nationalities"))
        if nationalities:
            data["nationalities"] = nationalities
        document = self._id_document()
        if document:
            data["id_document"] = document
        if self.duplicate_checked():
            data["duplicate_checked"] = True
        return data

    def _id_document(self) -> dict[str, Any] | None:
        doc: dict[str, Any] = {}
        doc_type = self.choice("id_document.doc_type").value()
        if doc_type:
            doc["doc_type"] = doc_type
        for key in ("number", "authority"):
            if self.text("id_document." + key):
                doc[key] = self.text("id_document." + key)
        for key in ("issued_on", "valid_until"):
            edit = self.date_edit("id_document." + key)
            if not edit.is_blank():
                doc[key] = edit.form_value()
        return doc or None

    # Checks while typing

    def _everyday_problem(self) -> str | None:
        everyday = self.text("everyday_name")
        given = self.text("first_names").split()
        if everyday and given and everyday not in given:
            return tr("Der Rufname muss einer der Vornamen sein.")
        return None

    def _nationality_problem(self) -> str | None:
        wrong = [c for c in codes_of(self.text("nationalities")) if nationality_label(c) is None]
        if wrong:
            return tr("Unbekannter Staatscode: {codes} – bitte ISO-Code mit drei Buchstaben "
                      "(z. B. DEU, CHE; staatenlos: XXA).").format(codes=", ".join(wrong))
        return None

    def _nationality_hint(self) -> str:
        labels = [nationality_label(c) for c in codes_of(self.text("nationalities"))]
        return ", ".join(label for label in labels if label)

    def _identity_changed(self) -> None:
        if self._checked_identity is not None and self._checked_identity != self.identity():
            self.checked_note.setText("")
            self.checked_note.hide()
        if self.duplicates.isVisible():
            self.duplicates.hide()
            self.changed_mode.emit()

    # Modes

    def set_title(self, number: int) -> None:
        if self.existing is not None:
            title = tr("Person {n} – im Melderegister").format(n=number)
        else:
            title = tr("Person {n} – neu").format(n=number)
        self.setTitle(title)
        self.setAccessibleName(title)

    def set_existing(self, person: PersonRef | None, *, from_typed: bool = False) -> None:
        self.existing = person
        self._from_typed = from_typed
        self.new_page.setVisible(person is None)
        self.existing_page.setVisible(person is not None)
        self.back_button.setVisible(person is not None and from_typed)
        self.duplicates.hide()
        if person is not None:
            self.existing_label.setText(
                f"<b>{html.escape(person.name)}</b> · * {html.escape(fmt_date(person.birth_date))}"
                + (f" · {html.escape(person.address)}" if person.address else "")
                + f"<br><span style='color:{MUTED}'>"
                + html.escape(tr("Im Melderegister vorhanden: die Anmeldung trägt die neue "
                                 "Wohnung bei dieser Person ein."))
                + "</span>")
            self.existing_label.setAccessibleName(person.line())
        self._slot.set_focus_widget(self.first_widget())
        self.changed_mode.emit()

    def back_to_new(self) -> None:
        self.set_existing(None)
        self.first_widget().setFocus()

    def show_duplicates(self, hits: Sequence[PersonHit]) -> None:
        self.duplicate_list.clear()
        for hit in hits:
            ref = PersonRef.of_hit(hit)
            text = ref.line()
            if hit.blocked:
                text += " · " + tr("⚠ Auskunftssperre")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, ref)
            self.duplicate_list.addItem(item)
        self.duplicate_list.setCurrentRow(0)
        rows = min(len(hits), 5)   # as tall as the hits (up to five, then it scrolls)
        self.duplicate_list.setFixedHeight(
            self.duplicate_list.sizeHintForRow(0) * rows
            + 2 * self.duplicate_list.frameWidth() + 4)
        self.duplicates.show()
        self.changed_mode.emit()

    def take_selected(self) -> None:
        item = self.duplicate_list.currentItem()
        if item is None or not self.duplicates.isVisible():
            return
        ref = item.data(Qt.ItemDataRole.UserRole)
        assert isinstance(ref, PersonRef)
        self.set_existing(ref, from_typed=True)
        self.resolved.emit()

    def confirm_new(self) -> None:
        if not self.duplicates.isVisible():
            return
        self._checked_identity = self.identity()
        self.duplicates.hide()
        self.checked_note.setText(tr("✔ Geprüft: andere Person als die Treffer im "
                                     "Melderegister – wird neu angelegt."))
        self.checked_note.show()
        self.changed_mode.emit()
        self.resolved.emit()

    def first_widget(self) -> QWidget:
        """Where the cursor goes in this section (for an error on the whole person too)."""
        if self.existing is None:
            return self.edits["family_name"]
        for button in (self.back_button, self.remove_button):
            if not button.isHidden():
                return button
        return self.existing_label

    def widgets(self) -> list[QWidget]:
        chain: list[QWidget] = []
        if not self.relation.isHidden():
            chain += self.relation.widgets()
        if self.existing is None:
            for key, edit in self.edits.items():   # built row by row, left to right
                chain += [edit, self._offers[key]] if key in self._offers else [edit]
        else:
            chain.append(self.back_button)
        if not self.duplicates.isHidden():
            chain += [self.duplicate_list, self.take_button, self.new_button]
        chain.append(self.remove_button)
        return chain


