"""The address sections of the registration dialogs: the street type-ahead (`StreetEdit`, streets
looked up in the DB worker), the new address, the previous address and the landlord's
confirmation (§ 19 BMG).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QLineEdit,
    QWidget,
)

from clerk_app import rules
from clerk_app.models import (
    RESIDENCE_LABELS,
)
from clerk_app.names import DataType
from clerk_app.persons import (
    DomesticAddress,
    Section,
    resolve_address,
)
from clerk_app.store.db import Store
from clerk_app.streets import Street, find_streets
from ui.db_worker import DbWorker
from ui.fields import (
    ChoiceBox,
    CountryEdit,
    DateEdit,
    FieldBox,
    Form,
    FormSection,
    limit_length,
)
from ui.i18n import tr
from ui.operation import Op
from ui.registration.common import (
    _TRAILING_NUMBER_RE,
    GERMANY,
    STREET_LIMIT,
    STREET_LOOKUP_MS,
    late_hint,
    line_edit,
    name_check,
    translated,
)

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
        self._running = False
        self._resolve_pending = False
        self.setPlaceholderText(tr("Straße eingeben, ↓ wählt"))
        limit_length(self, 100)
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
        self._running = True
        Op(self, lambda store: find_streets(store, query, STREET_LIMIT),
           lambda hits: self._on_hits(query, hits), what="street lookup").latest(
               "streets").failure(lambda _de, _en: self._on_hits(query, [])).run(self._db)

    def _on_hits(self, query: str, hits: list[Street]) -> None:
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
        form = {"address": {"street_id": street.id, "house_number": number}}

        def check(store: Store) -> tuple[DomesticAddress | None, dict[str, str]]:
            section = Section.root(form)
            return resolve_address(store, section), dict(section.errors)

        def done(answer: tuple[DomesticAddress | None, dict[str, str]]) -> None:
            address, errors = answer
            self.checked_address = address
            message = errors.get("address.house_number") or errors.get("address.street_id", "")
            self.number_box.set_error(message)
            self.number_box.set_hint(
                f"{address.postal_code} {address.city} ({address.district})" if address else "")

        Op(self, check, done, what="house number check").latest("number").run(self._db)


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


