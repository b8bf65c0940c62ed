"""Anmeldung, Ummeldung and Abmeldung (§ 17 BMG): one dialog each, one screen with sections.

Built from `ui.forms` (see there for the keys: Tab in visual order, Enter = next field and
submit in the last one, Ctrl+Enter submits, Esc asks before typed data is thrown away).
Every register access goes through the window's `DbWorker`; the core decides (the services in
`clerk_app.services.registration`), the dialogs show its answers next to the fields.

* The command id is minted when a dialog opens: Enter twice, a double click or a retry after
  an error never registers twice (the core returns the stored result for a known id).
* Before an Anmeldung is sent, `likely_duplicates` runs for each new person (in the same worker
  call as the submit, which only happens if there are none): hits are shown inside that
  person's section with "Vorhandene Person übernehmen" (the registration then names the
  existing person) and "Trotzdem neu anlegen" (sends `duplicate_checked`).
* A rejected form (`FormError`) keeps everything typed; each message stands next to its field
  and the cursor goes to the first one. Other failures are said in the banner.
* On success the dialog shows the Meldebestätigung's number and content and the core's notices
  (a late registration), emits `completed(ServiceResult)` and closes on Enter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from clerk_app import rules
from clerk_app.id_scan import NewPersonPrefill
from clerk_app.ids import uuid7
from clerk_app.models import (
    MARITAL_LABELS,
    RELIGION_LABELS,
    RESIDENCE_LABELS,
    SEX_LABELS,
    PersonHit,
    PersonRecord,
    Residence,
)
from clerk_app.names import DataType, validate
from clerk_app.persons import (
    ID_DOCUMENT_TYPES,
    MAIN_KINDS,
    DomesticAddress,
    Section,
    domestic_current,
    likely_duplicates,
    nationality_label,
    resolve_address,
)
from clerk_app.services.base import IssuedDocument, ServiceResult
from clerk_app.services.registration import DOMESTIC_MOVE_REFUSED
from clerk_app.store.db import Store
from clerk_app.streets import Street, find_streets
from ui.db_worker import DbWorker
from ui.formatting import NO_VALUE, fmt_date
from ui.forms import (
    COLUMNS,
    MUTED,
    OK_GREEN,
    ChoiceBox,
    CountryEdit,
    DateEdit,
    ErrorLabel,
    ErrorSlot,
    FieldBox,
    Form,
    FormDialog,
    FormSection,
    equal_columns,
    notice_frame,
    place_in_grid,
    remap_indexed_paths,
)
from ui.i18n import tr, tr_label
from ui.service_call import run_service_call

STREET_LOOKUP_MS = 120
STREET_LIMIT = 20
STREET_WAIT_MS = 30
GERMANY = "DEU"
_TRAILING_NUMBER_RE = re.compile(r"^(.*?\D)\s*(\d{1,4}\s*[A-Za-z]?(?:\s*/\s*\d{1,3})?)\s*$")
_CODES_RE = re.compile(r"[\s,;/]+")


# --- small pieces ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonRef:
    """A person already in the register, as the dialogs show it (name, birth, address)."""

    id: str
    name: str
    birth_date: date | None
    address: str = ""

    @classmethod
    def of_record(cls, record: PersonRecord) -> PersonRef:
        current = record.current_residences
        return cls(record.id, record.display_name, record.birth_date,
                   current[0].address.one_line() if current else "")

    @classmethod
    def of_hit(cls, hit: PersonHit) -> PersonRef:
        return cls(hit.id, hit.display_name, hit.birth_date, hit.address)

    def line(self) -> str:
        parts = [self.name, f"* {fmt_date(self.birth_date)}"]
        if self.address:
            parts.append(self.address)
        return " · ".join(parts)


@dataclass(frozen=True)
class Duplicates:
    """Likely duplicates per person entry key; nothing was sent."""

    hits: dict[str, list[PersonHit]]


def name_check(edit: QLineEdit, data_type: DataType = DataType.A) -> Callable[[], str | None]:
    """DIN 91379 check of a name field, with the core's message (character and position)."""
    def check() -> str | None:
        text = edit.text().strip()
        if not text:
            return None
        problems = validate(text, data_type)
        return " ".join(p.message_de for p in problems) if problems else None
    return check


def codes_of(text: str) -> list[str]:
    """'deu, che' -> ['DEU', 'CHE']."""
    return [c.upper() for c in _CODES_RE.split(text.strip()) if c]


def line_edit(placeholder: str = "", max_length: int = 200) -> QLineEdit:
    edit = QLineEdit()
    edit.setMaxLength(max_length)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


def translated(labels: Mapping[str, str]) -> dict[str, str]:
    return {code: tr_label(label) for code, label in labels.items()}


def late_hint(moved: date | None, today: date) -> str:
    if moved is None or not rules.is_late(moved, today):
        return ""
    return tr("Einzug vor {days} Tagen – Frist von 2 Wochen überschritten; die Meldung wird "
              "aufgenommen und die Verspätung vermerkt.").format(
                  days=rules.days_since(moved, today))


# --- the street type-ahead -------------------------------------------------------------------

class StreetEdit(QLineEdit):
    """Street from the city's directory: type a part ("basler", "haupt brom"), the suggestions
    come from `find_streets` in the worker; ↓ and Enter choose one, and leaving the field
    picks the street by itself when the text names exactly one. A house number typed after
    the street ("basler 12") goes to the house-number field (`number_typed`)."""

    street_chosen = Signal()
    number_typed = Signal(str)

    def __init__(self, db: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._street: Street | None = None
        self._hits: list[Street] = []
        self._hits_for = ""
        self._seq = 0
        self._running = False
        self._resolve_pending = False
        self.setPlaceholderText(tr("Straße eingeben, ↓ wählt"))
        self.setMaxLength(100)
        self._model = QStringListModel(self)
        self.completer_ = QCompleter(self._model, self)
        self.completer_.setWidget(self)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setMaxVisibleItems(10)
        self.completer_.activated.connect(self._on_activated)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(STREET_LOOKUP_MS)
        self._timer.timeout.connect(self._lookup)
        self.textEdited.connect(self._on_edited)
        self.editingFinished.connect(self.resolve)

    @property
    def street(self) -> Street | None:
        return self._street

    @property
    def pending(self) -> bool:
        """A lookup is waiting or running (tests wait for it)."""
        return self._timer.isActive() or self._running

    @property
    def resolving(self) -> bool:
        """The street is to be picked from a lookup still to come."""
        return self._resolve_pending

    def choose(self, street: Street) -> None:
        self._street = street
        self._timer.stop()
        self._resolve_pending = False
        self.setText(street.label)
        popup = self.completer_.popup()
        if popup is not None:
            popup.hide()
        self.street_chosen.emit()

    def problem(self) -> str | None:
        if not self.text().strip() or self._street is not None or self.pending \
                or self._resolve_pending:
            return None
        if len(self._hits) > 1:
            return tr("Mehrere Straßen passen – bitte mit ↓ die richtige wählen.")
        return tr("Diese Straße gibt es im Straßenverzeichnis nicht – bitte prüfen.")

    def _query(self) -> tuple[str, str]:
        """(street part, house number part) of what is typed."""
        text = self.text().strip()
        match = _TRAILING_NUMBER_RE.match(text)
        return (match[1].strip(), re.sub(r"\s+", "", match[2])) if match else (text, "")

    def _on_edited(self, _text: str) -> None:
        self._timer.start()   # first: while a lookup is due the field has no complaint
        if self._street is not None:
            self._street = None
            self.street_chosen.emit()

    def _lookup(self) -> None:
        self._timer.stop()
        query, _number = self._query()
        if sum(ch.isalpha() for ch in query) < 2:
            self._hits, self._hits_for = [], query
            self._model.setStringList([])
            self._finish_resolve()
            return
        self._seq += 1
        seq = self._seq
        self._running = True
        self._db.run(lambda store: find_streets(store, query, STREET_LIMIT),
                     lambda hits: self._on_hits(seq, query, hits),
                     lambda _de, _en: self._on_hits(seq, query, []), "street lookup")

    def _on_hits(self, seq: int, query: str, hits: list[Street]) -> None:
        if not isValid(self) or seq != self._seq:
            return   # the dialog was closed meanwhile, or the clerk typed on
        self._running = False
        if query != self._query()[0]:   # typed on meanwhile: answers to an older text
            if not self._timer.isActive():
                self._lookup()
            return
        self._hits, self._hits_for = hits, query
        self._model.setStringList([s.label for s in hits])
        if self._resolve_pending:
            self._finish_resolve()
        elif self.hasFocus() and hits and self._street is None:
            self.completer_.complete(self.rect())   # as wide as the field

    def _on_activated(self, text: str) -> None:
        street = next((s for s in self._hits if s.label == text), None)
        if street is not None:
            self.choose(street)

    def resolve(self) -> None:
        """Pick the street if the text names exactly one (after the lookup, if needed)."""
        if self._street is not None or not self.text().strip():
            return
        query, _number = self._query()
        if self._timer.isActive() or self._running or self._hits_for != query:
            self._resolve_pending = True
            if not self._running:
                self._lookup()
            return
        self._resolve_pending = True
        self._finish_resolve()

    def _finish_resolve(self) -> None:
        if not self._resolve_pending:
            return
        self._resolve_pending = False
        query, number = self._query()
        wanted = query.casefold()
        exact = [s for s in self._hits if wanted in (s.label.casefold(), s.name.casefold())]
        street = self._hits[0] if len(self._hits) == 1 else (
            exact[0] if len(exact) == 1 else None)
        if street is None:
            self.street_chosen.emit()   # the field's check says why
            return
        self.choose(street)
        if number:
            self.number_typed.emit(number)


# --- sections shared by the dialogs ----------------------------------------------------------

class AddressSection(FormSection):
    """The new dwelling: street (type-ahead), house number (checked by the core's rule as soon
    as both are there: the postal code is shown, or why the number does not exist), kind and
    the date of the move."""

    def __init__(self, db: DbWorker, form: Form, today: date, *, title: str,
                 kind_default: str | None) -> None:
        super().__init__(title)
        self._db = db
        self._today = today
        self._seq = 0
        self.checked_address: DomesticAddress | None = None
        self.street = StreetEdit(db)
        self.number = line_edit(tr("z. B. 12a"), 20)
        self.kind = ChoiceBox(translated(RESIDENCE_LABELS), kind_default)
        self.moved = DateEdit(today, future_years=1)
        self.moved.set_date(today)
        self.street_box = form.add(FieldBox("address.street_id", tr("Straße"), self.street,
                                            required=True), "address")
        self.number_box = form.add(FieldBox("address.house_number", tr("Hausnummer"),
                                            self.number, required=True))
        self.kind_box = form.add(FieldBox("kind", tr("Wohnungsstatus"), self.kind,
                                          required=True))
        self.moved_box = form.add(FieldBox(
            "move_in", tr("Einzugsdatum"), self.moved, required=True,
            checks=[self._move_in_problem],
            hint=lambda: late_hint(self.moved.date(), self._today)))
        self.place(self.street_box, 0, 0, 2)
        self.place(self.number_box, 0, 2)
        self.place(self.kind_box, 0, 3)
        self.place(self.moved_box, 0, 4)
        self.street.street_chosen.connect(self._on_street)
        self.street.number_typed.connect(self._on_number_typed)
        self.number.editingFinished.connect(self.check_number)
        self.number.textEdited.connect(lambda _t: self.number_box.set_hint(""))

    def widgets(self) -> list[QWidget]:
        return [self.street, self.number, self.kind, self.moved]

    def data(self) -> dict[str, Any]:
        street = self.street.street
        address: dict[str, Any] = {"house_number": self.number.text().strip()}
        if street is not None:
            address["street_id"] = street.id
        elif self.street.text().strip():
            address["street_id"] = -1   # "not from the directory": the core says so
        data: dict[str, Any] = {"address": address, "move_in": self.moved.form_value()}
        if self.kind.value():
            data["kind"] = self.kind.value()
        return data

    def _move_in_problem(self) -> str | None:
        moved = self.moved.date()
        return rules.move_in_problem(moved, self._today) if moved else None

    def _on_street(self) -> None:
        self.street_box.run_checks()
        self.check_number()

    def _on_number_typed(self, number: str) -> None:
        if not self.number.text().strip():
            self.number.setText(number)
            self.check_number()

    def check_number(self) -> None:
        """Ask the core whether the street has this number (its message, or the postal code)."""
        street = self.street.street
        number = self.number.text().strip()
        self.checked_address = None
        if street is None or street.id is None or not number:
            self.number_box.set_hint("")
            return
        self._seq += 1
        seq = self._seq
        form = {"address": {"street_id": street.id, "house_number": number}}

        def check(store: Store) -> tuple[DomesticAddress | None, dict[str, str]]:
            section = Section.root(form)
            return resolve_address(store, section), dict(section.errors)

        def done(answer: tuple[DomesticAddress | None, dict[str, str]]) -> None:
            if not isValid(self) or seq != self._seq:
                return
            address, errors = answer
            self.checked_address = address
            message = errors.get("address.house_number") or errors.get("address.street_id", "")
            self.number_box.set_error(message)
            self.number_box.set_hint(
                f"{address.postal_code} {address.city} ({address.district})" if address else "")

        self._db.run(check, done, None, "house number check")


class PreviousAddressSection(FormSection):
    """Where the persons lived before: in Germany (free text) or abroad (with the state, and
    the last address in Germany if there was one)."""

    def __init__(self, form: Form) -> None:
        super().__init__(tr("Bisherige Anschrift"))
        self.address = line_edit(tr("Straße Nr., PLZ Ort"))
        self.country = CountryEdit(GERMANY)
        self.last_domestic = line_edit(tr("nur bei Zuzug aus dem Ausland"))
        self.address_box = form.add(FieldBox(
            "previous_address.address", tr("Bisherige Anschrift"), self.address, required=True,
            checks=[name_check(self.address, DataType.C)]), "previous_address")
        self.country_box = form.add(FieldBox("previous_address.country", tr("Staat"),
                                             self.country, hint=self.country.hint))
        self.last_box = form.add(FieldBox(
            "previous_address.last_domestic_address", tr("Letzte Anschrift im Inland"),
            self.last_domestic, checks=[name_check(self.last_domestic, DataType.C)]))
        self.country_box.set_hint(self.country.hint())
        self.place(self.address_box, 0, 0, 2)
        self.place(self.country_box, 0, 2)
        self.place(self.last_box, 0, 3, 2)
        self.country.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.last_domestic.setEnabled(self.country.code() not in (None, GERMANY))

    def widgets(self) -> list[QWidget]:
        return [self.address, self.country, self.last_domestic]

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"address": self.address.text().strip(),
                                "country": self.country.form_value() or GERMANY}
        if self.last_domestic.isEnabled() and self.last_domestic.text().strip():
            data["last_domestic_address"] = self.last_domestic.text().strip()
        return {"previous_address": data}


class LandlordSection(FormSection):
    """The Wohnungsgeberbestätigung (§ 19 BMG): presented (required), landlord, owner if
    different, the landlord's address; or the owner's self-declaration."""

    def __init__(self, form: Form, today: date) -> None:
        super().__init__(tr("Wohnungsgeberbestätigung"))
        self.presented = QCheckBox(tr("liegt vor (§ 19 BMG)"))
        self.own = QCheckBox(tr("Selbsterklärung: Eigentümer wohnt selbst"))
        self.landlord = line_edit(tr("Name oder Firma"))
        self.landlord_address = line_edit(tr("Straße Nr., PLZ Ort"))
        self.owner = line_edit()
        self.confirmed_date = DateEdit(today, future_years=1)
        self.confirmed_date.setPlaceholderText(tr("TT.MM.JJJJ (zum Abgleich)"))
        self.presented_box = form.add(FieldBox(
            "landlord.presented", tr("Wohnungsgeberbestätigung"), self.presented,
            required=True), "landlord")
        self.own_box = form.add(FieldBox("landlord.self_declaration", tr("Eigentümer"),
                                         self.own))
        self.landlord_box = form.add(FieldBox(
            "landlord.landlord_name", tr("Wohnungsgeber"), self.landlord, required=True,
            checks=[name_check(self.landlord, DataType.B)]))
        self.address_box = form.add(FieldBox(
            "landlord.landlord_address", tr("Anschrift des Wohnungsgebers"),
            self.landlord_address, required=True,
            checks=[name_check(self.landlord_address, DataType.C)]))
        self.owner_box = form.add(FieldBox(
            "landlord.owner_name", tr("Eigentümer, falls abweichend"), self.owner,
            checks=[name_check(self.owner, DataType.B)]))
        self.date_box = form.add(FieldBox("landlord.move_in", tr("Einzugsdatum laut Bestätigung"),
                                          self.confirmed_date))
        self.place(self.presented_box, 0, 0, 2)
        self.place(self.own_box, 0, 2, 3)
        self.place(self.landlord_box, 1, 0)
        self.place(self.address_box, 1, 1, 2)
        self.place(self.owner_box, 1, 3)
        self.place(self.date_box, 1, 4)
        self.own.toggled.connect(self._update)

    def _update(self) -> None:
        own = self.own.isChecked()
        for widget in (self.landlord, self.landlord_address, self.owner):
            widget.setEnabled(not own)
        self.landlord_box.set_required(not own)
        self.address_box.set_required(not own)

    def widgets(self) -> list[QWidget]:
        return [self.presented, self.own, self.landlord, self.landlord_address, self.owner,
                self.confirmed_date]

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"presented": self.presented.isChecked(),
                                "self_declaration": self.own.isChecked()}
        if not self.own.isChecked():
            for key, edit in (("landlord_name", self.landlord),
                              ("landlord_address", self.landlord_address),
                              ("owner_name", self.owner)):
                if edit.text().strip():
                    data[key] = edit.text().strip()
        if not self.confirmed_date.is_blank():
            data["move_in"] = self.confirmed_date.form_value()
        return {"landlord": data}


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
            self._field(key, labels[key], edit, 0, column, required=required, checks=checks)
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
        if self.existing is None:
            chain += list(self.edits.values())   # built row by row, left to right
        else:
            chain.append(self.back_button)
        if not self.duplicates.isHidden():
            chain += [self.duplicate_list, self.take_button, self.new_button]
        chain.append(self.remove_button)
        return chain


# --- the dialogs -----------------------------------------------------------------------------

class RegistrationDialog(FormDialog):
    """What the three registration dialogs share: worker, command id, submit, result page.

    `completed(ServiceResult)` is emitted once the service succeeded (before the clerk closes
    the dialog); `result` holds it afterwards.
    """

    completed = Signal(object)
    service_type = ""
    done_title = ""

    def __init__(self, db: DbWorker, title: str, submit_text: str, today: date | None,
                 parent: QWidget | None) -> None:
        super().__init__(title, submit_text, parent)
        self.db = db
        self.today = today or date.today()
        self._fixed_today = today
        self.command_id = uuid7()
        self.service_result: ServiceResult | None = None
        # The row key of each person sent, in the order the core numbers them ("persons.1").
        self._sent_keys: list[str] = []

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
        if not self.alive:
            return
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
        check = self.duplicate_check()
        self.set_busy(True, tr("Wird gespeichert …"))
        self.show_banner("")
        run_service_call(self.db, self.service_type, form, self.command_id, self._show_success,
                         lambda errors: self.on_service_errors(self.remap_errors(errors)),
                         self.on_service_failed, today=self._fixed_today, precheck=check,
                         on_prechecked=self._on_duplicates)

    def _on_duplicates(self, outcome: Duplicates) -> None:
        if self.alive:
            self.set_busy(False)
            self.on_duplicates(outcome)

    def on_duplicates(self, outcome: Duplicates) -> None:
        """Anmeldung only."""

    def on_service_failed(self, message_de: str, message_en: str) -> None:
        super().on_service_failed(message_de, message_en)
        if self.alive:
            self.submit_button.setFocus()   # Enter sends again

    # The result

    def _show_success(self, result: ServiceResult) -> None:
        if not self.alive:
            return
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
        from ui.printing import add_print_bar

        self.print_bar = add_print_bar(self, self.result_layout,
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


class AnmeldungDialog(RegistrationDialog):
    """Anmeldung: one or more persons moving in together, the new dwelling, the previous
    address and the landlord's confirmation – one screen. Alt+P adds a person; Alt+V adds the
    person open in the main window (`candidate`). `prefill` (an ID card scanned without a
    match) fills the first person's fields from the card."""

    service_type = "anmeldung"
    draft_kind = "anmeldung"

    def __init__(self, db: DbWorker, *, candidate: PersonRef | None = None,
                 prefill: NewPersonPrefill | None = None, today: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(db, tr("Anmeldung"), tr("Anmelden"), today, parent)
        self.done_title = tr("Anmeldung gespeichert")
        self.candidate = candidate
        self.entries: list[PersonEntry] = []
        self._next_key = 0

        self.persons_layout = QVBoxLayout()
        self.persons_layout.setSpacing(8)
        self.body.addLayout(self.persons_layout)
        add_row = QHBoxLayout()
        self.add_button = QPushButton(tr("Person hinzufügen (Alt+P)"))
        self.add_button.setAccessibleName(tr("Weitere neue Person hinzufügen"))
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(lambda: self.add_person(focus=True))
        add_row.addWidget(self.add_button)
        self.existing_button = QPushButton()
        self.existing_button.setAutoDefault(False)
        self.existing_button.clicked.connect(self.add_candidate)
        if candidate is not None:
            self.existing_button.setText(tr("Vorhandene Person hinzufügen: {name} (Alt+V)")
                                         .format(name=candidate.name))
            self.existing_button.setAccessibleName(
                tr("Vorhandene Person hinzufügen: {name}").format(name=candidate.name))
        self.existing_button.setVisible(candidate is not None)
        add_row.addWidget(self.existing_button)
        # Explicit shortcuts, not mnemonics: these work on every platform (mnemonics are off
        # on some), and say what they do in the button text.
        for keys, slot in (("Alt+P", lambda: self.add_person(focus=True)),
                           ("Alt+V", self.add_candidate)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        add_row.addStretch(1)
        self.body.addLayout(add_row)
        self.persons_error = ErrorLabel()
        self.body.addWidget(self.persons_error)
        self.form.add_target("persons", ErrorSlot(self.persons_error, self.add_button))

        self.address = AddressSection(db, self.form, self.today, title=tr("Neue Wohnung"),
                                      kind_default="alleinig")
        self.previous = PreviousAddressSection(self.form)
        self.landlord = LandlordSection(self.form, self.today)
        for section in (self.address, self.previous, self.landlord):
            self.body.addWidget(section)
        self.body.addStretch(1)

        self.form.extra_dirty = lambda: any(e.existing is not None for e in self.entries)
        first = self.add_person()
        if prefill is not None:
            first.apply_prefill(prefill)   # read from the card, not typed: nothing to lose yet
        self.form.mark_clean()
        self.fit_to_content()
        first.first_widget().setFocus()

    # Drafts: the persons by position (their row keys differ from dialog to dialog)

    def draft_data(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        prefixes = {e.prefix: f"persons.{i}." for i, e in enumerate(self.entries)}
        for path, value in self.field_values().items():
            prefix = next((p for p in prefixes if path.startswith(p)), None)
            fields[prefixes[prefix] + path[len(prefix):] if prefix else path] = value
        existing = {str(i): {"id": e.existing.id, "name": e.existing.name,
                             "birth_date": e.existing.birth_date.isoformat()
                             if e.existing.birth_date else None,
                             "address": e.existing.address}
                    for i, e in enumerate(self.entries) if e.existing is not None}
        return {"fields": fields, "persons": len(self.entries), "existing": existing}

    def restore_draft(self, data: Mapping[str, Any]) -> None:
        count = data.get("persons")
        self._reset_entries(count if isinstance(count, int) and 0 < count <= 20 else 1)
        existing = data.get("existing")
        for index, ref in (existing.items() if isinstance(existing, Mapping) else []):
            if not (str(index).isdigit() and int(index) < len(self.entries)
                    and isinstance(ref, Mapping)):
                continue
            born = ref.get("birth_date")
            person = PersonRef(str(ref.get("id", "")), str(ref.get("name", "")),
                               date.fromisoformat(born) if isinstance(born, str) else None,
                               str(ref.get("address") or ""))
            self.entries[int(index)].set_existing(person)
        taken = {e.existing.id for e in self.entries if e.existing is not None}
        self.existing_button.setEnabled(self.candidate is None
                                        or self.candidate.id not in taken)
        super().restore_draft(data)
        self._layout_changed()

    def _reset_entries(self, count: int) -> None:
        """Start the persons anew with `count` empty sections, keys "0", "1", …"""
        for entry in self.entries:
            self.form.remove_prefix(entry.prefix)
            entry.hide()
            entry.deleteLater()
        self.entries = []
        self._next_key = 0
        for _ in range(count):
            self.add_person()

    # Persons

    def add_person(self, existing: PersonRef | None = None, *, focus: bool = False,
                   ) -> PersonEntry:
        entry = PersonEntry(str(self._next_key), self.form, self.today, existing)
        self._next_key += 1
        entry.remove_requested.connect(self.remove_person)
        entry.changed_mode.connect(self._layout_changed)
        entry.resolved.connect(self._on_resolved)
        self.entries.append(entry)
        self.persons_layout.addWidget(entry)
        entry.show()   # at once, not when the layout gets to it: the next Tab goes there
        self._layout_changed()
        if focus:
            entry.first_widget().setFocus()
        return entry

    def add_candidate(self) -> None:
        if self.candidate is None or any(
                e.existing is not None and e.existing.id == self.candidate.id
                for e in self.entries):
            return
        lone = self.entries[0] if len(self.entries) == 1 else None
        if lone is not None and lone.is_new and not lone.has_typed_data():
            lone.set_existing(self.candidate)   # nothing typed yet: take the empty section
            entry = lone
        else:
            entry = self.add_person(self.candidate)
        self.existing_button.setEnabled(False)
        entry.set_title(self.entries.index(entry) + 1)
        self.refresh_tab_order()
        self.address.street.setFocus()   # the person is known: on to the new dwelling

    def remove_person(self, entry: object) -> None:
        if not isinstance(entry, PersonEntry) or len(self.entries) < 2:
            return
        index = self.entries.index(entry)
        self.entries.remove(entry)
        self.form.remove_prefix(entry.prefix)
        entry.hide()
        entry.deleteLater()
        if entry.existing is not None and self.candidate is not None \
                and entry.existing.id == self.candidate.id:
            self.existing_button.setEnabled(True)
        self._layout_changed()
        self.entries[min(index, len(self.entries) - 1)].first_widget().setFocus()

    def _layout_changed(self) -> None:
        for number, entry in enumerate(self.entries, start=1):
            entry.set_title(number)
            entry.remove_button.setVisible(len(self.entries) > 1)
        self.refresh_tab_order()

    def input_chain(self) -> list[QWidget]:
        chain: list[QWidget] = []
        for entry in self.entries:
            chain += entry.widgets()
        chain += [self.add_button, self.existing_button]
        for section in (self.address, self.previous, self.landlord):
            chain += section.widgets()
        return chain

    # Submitting

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"persons": [e.data() for e in self.entries]}
        data.update(self.address.data())
        data.update(self.previous.data())
        data.update(self.landlord.data())
        return data


    def streets(self) -> list[StreetEdit]:
        return [self.address.street]

    def send_form(self) -> None:
        self._sent_keys = [e.key for e in self.entries]
        super().send_form()

    def duplicate_check(self) -> Callable[[Store], Duplicates | None] | None:
        wanted = {e.key: e.identity() for e in self.entries if e.needs_duplicate_check()}
        if not wanted:
            return None
        today = self._fixed_today

        def check(store: Store) -> Duplicates | None:
            found: dict[str, list[PersonHit]] = {}
            for key, (family, first, born) in wanted.items():
                assert born is not None
                hits = likely_duplicates(store, family, first, born, today=today)
                if hits:
                    found[key] = hits
            return Duplicates(found) if found else None

        return check

    def on_duplicates(self, outcome: Duplicates) -> None:
        self.form.clear_errors()
        first: PersonEntry | None = None
        for entry in self.entries:
            hits = outcome.hits.get(entry.key)
            if hits:
                entry.show_duplicates(hits)
                first = first or entry
        self.show_banner(tr("Bitte zuerst prüfen: Die Person ist vielleicht schon im "
                            "Melderegister."))
        if first is not None:
            first.duplicate_list.setFocus()

    def _on_resolved(self) -> None:
        """A duplicate question answered: go on with the submit if no other is open."""
        if any(not e.duplicates.isHidden() for e in self.entries):
            next_open = next(e for e in self.entries if not e.duplicates.isHidden())
            next_open.duplicate_list.setFocus()
            return
        self.show_banner("")
        self.request_submit()


class PickRow:
    """One person of an Ummeldung/Abmeldung: tick box, current address, and which dwelling is
    left when the person has several Nebenwohnungen."""

    def __init__(self, index: int, member: PersonRef, checked: bool, form: Form) -> None:
        self.key = str(index)
        self.person = member
        self.record: PersonRecord | None = None
        self.check = QCheckBox(f"{member.name} (* {fmt_date(member.birth_date)})")
        self.check.setChecked(checked)
        self.box = form.add(FieldBox(f"persons.{index}.person_id", None, self.check))
        self.address = QLabel(member.address or "…")
        self.address.setStyleSheet(f"color: {MUTED};")
        self.address.setWordWrap(True)
        self.residence = ChoiceBox({})
        self.residence_box = form.add(FieldBox(f"persons.{index}.residence_id",
                                               tr("Bisherige Wohnung"), self.residence))
        self.residence_box.hide()
        form.add_target(f"persons.{index}", self.box)

    def set_record(self, record: PersonRecord) -> None:
        self.record = record
        current = domestic_current(record)
        self.address.setText("; ".join(
            f"{r.address.one_line()} ({tr_label(r.kind_label)})" for r in current)
            or tr("keine aktuelle Wohnung in der Stadt"))

    def offer_residences(self, kinds: frozenset[str]) -> None:
        """Show the dwelling choice if more than one current dwelling of `kinds` exists."""
        candidates: list[Residence] = []
        if self.record is not None:
            candidates = [r for r in domestic_current(self.record) if r.kind in kinds]
        needed = len(candidates) > 1
        if needed:
            previous = self.residence.value()
            self.residence.clear()
            for r in candidates:
                self.residence.addItem(r.address.one_line(), r.id)
            self.residence.set_value(previous)
        self.residence_box.setVisible(needed)

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"person_id": self.person.id}
        if not self.residence_box.isHidden() and self.residence.value():
            data["residence_id"] = self.residence.value()
        return data


class PersonPicker(FormSection):
    """Who takes part: the open person and the household members, all ticked at first."""

    def __init__(self, title: str, record: PersonRecord, form: Form, db: DbWorker,
                 purpose: str) -> None:
        super().__init__(title + " *")
        members = [PersonRef.of_record(record)] + [
            PersonRef(m.person_id, m.display_name, m.birth_date) for m in record.household]
        self.rows = [PickRow(i, m, True, form) for i, m in enumerate(members)]
        self.rows[0].set_record(record)
        for i, row in enumerate(self.rows):
            self.place(row.box, i, 0, 2)
            self.place(row.address, i, 2, 2)
            self.place(row.residence_box, i, 4)
        self.error = ErrorLabel()
        self.outer.addWidget(self.error)
        form.add_target("persons", ErrorSlot(self.error, self.rows[0].check))
        self.loaded = len(self.rows) == 1
        self.on_loaded: Callable[[], None] = lambda: None
        if len(self.rows) > 1:
            ids = [row.person.id for row in self.rows[1:]]

            def load(store: Store) -> list[PersonRecord]:
                from clerk_app.person_record import open_person
                return [open_person(store, pid, purpose) for pid in ids]

            db.run(load, self._on_members, lambda _de, _en: None, "load household members")

    def _on_members(self, records: list[PersonRecord]) -> None:
        if not isValid(self):
            return   # the dialog was closed meanwhile
        for row, record in zip(self.rows[1:], records, strict=False):
            row.set_record(record)
        self.loaded = True
        self.on_loaded()

    def widgets(self) -> list[QWidget]:
        chain: list[QWidget] = []
        for row in self.rows:
            chain.append(row.check)
            if not row.residence_box.isHidden():
                chain.append(row.residence)
        return chain

    def chosen(self) -> list[PickRow]:
        return [row for row in self.rows if row.check.isChecked()]

    def persons_data(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The rows ticked: their keys, and their "persons" entries of the form."""
        chosen = self.chosen()
        return [row.key for row in chosen], [row.data() for row in chosen]


class UmmeldungDialog(RegistrationDialog):
    """Ummeldung: the open person (and the household members ticked) move within the city."""

    service_type = "ummeldung"
    draft_kind = "ummeldung"

    def __init__(self, db: DbWorker, record: PersonRecord, *, today: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(db, tr("Ummeldung"), tr("Ummelden"), today, parent)
        self.done_title = tr("Ummeldung gespeichert")
        self.record = record
        main = next((r.kind for r in domestic_current(record) if r.kind in MAIN_KINDS), None)
        self.picker = PersonPicker(tr("Wer zieht um?"), record, self.form, db, "Ummeldung")
        self.address = AddressSection(db, self.form, self.today, title=tr("Neue Wohnung"),
                                      kind_default=main or "alleinig")
        self.landlord = LandlordSection(self.form, self.today)
        for section in (self.picker, self.address, self.landlord):
            self.body.addWidget(section)
        self.body.addStretch(1)
        self.address.kind.currentIndexChanged.connect(lambda _i: self._offer_residences())
        self.picker.on_loaded = self._offer_residences
        self._offer_residences()
        self.form.mark_clean()
        self.fit_to_content()
        self.address.street.setFocus()

    def _offer_residences(self) -> None:
        kind = self.address.kind.value()
        kinds = frozenset({"neben"}) if kind == "neben" else frozenset()
        for row in self.picker.rows:
            row.offer_residences(kinds)
        self.refresh_tab_order()

    def input_chain(self) -> list[QWidget]:
        return self.picker.widgets() + self.address.widgets() + self.landlord.widgets()

    def streets(self) -> list[StreetEdit]:
        return [self.address.street]

    def form_data(self) -> dict[str, Any]:
        self._sent_keys, persons = self.picker.persons_data()
        data: dict[str, Any] = {"persons": persons}
        data.update(self.address.data())
        data.update(self.landlord.data())
        return data




# Reasons offered for an Abmeldung, in the clerks' words ("inland" is refused by the core,
# with the explanation, as soon as it is chosen).
def abmeldung_reasons() -> dict[str, str]:
    return {"ausland": tr("Wegzug ins Ausland"),
            "nebenwohnung": tr("Nebenwohnung aufgeben (keine neue Wohnung im Inland)"),
            "inland": tr("Umzug innerhalb Deutschlands")}


class AbmeldungDialog(RegistrationDialog):
    """Abmeldung: moving abroad (with the state and the foreign address) or giving up a
    Nebenwohnung, for the open person and the household members ticked."""

    service_type = "abmeldung"
    draft_kind = "abmeldung"

    def __init__(self, db: DbWorker, record: PersonRecord, *, today: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(db, tr("Abmeldung"), tr("Abmelden"), today, parent)
        self.done_title = tr("Abmeldung gespeichert")
        self.record = record
        self.picker = PersonPicker(tr("Wer meldet sich ab?"), record, self.form, db,
                                   "Abmeldung")

        self.reason_section = FormSection(tr("Grund und Datum"))
        reasons = QWidget()
        reasons_layout = QVBoxLayout(reasons)
        reasons_layout.setContentsMargins(0, 0, 0, 0)
        reasons_layout.setSpacing(2)
        self.reason_group = QButtonGroup(self)
        self.reason_buttons: dict[str, QRadioButton] = {}
        for code, label in abmeldung_reasons().items():
            button = QRadioButton(label)
            button.setAccessibleName(tr("Grund: {reason}").format(reason=label))
            button.setProperty("code", code)
            self.reason_group.addButton(button)
            reasons_layout.addWidget(button)
            self.reason_buttons[code] = button
        only_neben = bool(domestic_current(record)) and all(
            r.kind == "neben" for r in domestic_current(record))
        self.reason_buttons["nebenwohnung" if only_neben else "ausland"].setChecked(True)
        reasons.setFocusProxy(self.reason_buttons["ausland"])
        self.reason_box = self.form.add(FieldBox(
            "reason", tr("Grund"), reasons, required=True, value=self.reason,
            checks=[self._reason_problem]))
        self.moved = DateEdit(self.today, future_years=1)
        self.moved.set_date(self.today)
        self.moved_box = self.form.add(FieldBox(
            "move_out", tr("Auszugsdatum"), self.moved, required=True,
            checks=[lambda: rules.move_out_problem(d, self.today)
                    if (d := self.moved.date()) else None]))
        self.reason_section.place(self.reason_box, 0, 0, 3)
        self.reason_section.place(self.moved_box, 0, 3)

        self.abroad = FormSection(tr("Neue Anschrift im Ausland"))
        self.country = CountryEdit()
        self.foreign_address = line_edit(tr("Straße Nr., PLZ Ort"))
        self.country_box = self.form.add(FieldBox(
            "country", tr("Staat"), self.country, required=True, hint=self.country.hint,
            checks=[self._country_problem]))
        self.foreign_box = self.form.add(FieldBox(
            "foreign_address", tr("Anschrift im Ausland"), self.foreign_address,
            required=True, checks=[name_check(self.foreign_address, DataType.C)]))
        self.abroad.place(self.country_box, 0, 0)
        self.abroad.place(self.foreign_box, 0, 1, 4)

        for section in (self.picker, self.reason_section, self.abroad):
            self.body.addWidget(section)
        self.body.addStretch(1)
        self.reason_group.buttonToggled.connect(self._on_reason)
        self.picker.on_loaded = self._on_reason_changed
        self._on_reason_changed()
        self.form.mark_clean()
        self.fit_to_content()
        focus = self.reason_group.checkedButton()
        if focus is not None:
            focus.setFocus()

    def reason(self) -> str | None:
        button = self.reason_group.checkedButton()
        return str(button.property("code")) if button is not None else None

    def _reason_problem(self) -> str | None:
        return DOMESTIC_MOVE_REFUSED if self.reason() == "inland" else None

    def _country_problem(self) -> str | None:
        return DOMESTIC_MOVE_REFUSED if self.country.code() == GERMANY else None

    def _on_reason(self, _button: object, checked: bool) -> None:
        if checked:
            self._on_reason_changed()

    def _on_reason_changed(self) -> None:
        reason = self.reason()
        button = self.reason_group.checkedButton()
        if button is not None:
            self.reason_box.widget.setFocusProxy(button)
        self.reason_box.run_checks()
        self.abroad.setVisible(reason == "ausland")
        kinds = frozenset({"neben"}) if reason == "nebenwohnung" else frozenset()
        for row in self.picker.rows:
            row.offer_residences(kinds)
        self.refresh_tab_order()

    def input_chain(self) -> list[QWidget]:
        chain = self.picker.widgets()
        checked = self.reason_group.checkedButton()
        if checked is not None:
            chain.append(checked)
        chain.append(self.moved)
        if self.reason() == "ausland":
            chain += [self.country, self.foreign_address]
        return chain

    def form_data(self) -> dict[str, Any]:
        self._sent_keys, persons = self.picker.persons_data()
        data: dict[str, Any] = {"persons": persons, "move_out": self.moved.form_value()}
        reason = self.reason()
        if reason:
            data["reason"] = reason
        if reason == "ausland":
            data["country"] = self.country.form_value()
            data["foreign_address"] = self.foreign_address.text().strip()
        return data

