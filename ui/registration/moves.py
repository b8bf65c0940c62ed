"""Ummeldung and Abmeldung: the open person and the household members chosen in a list
(`PersonPicker`) move within the city or move out. Only the open person is ticked at first;
a minor moving without a legal representative, or left behind alone, is saved only after the
clerk ticks the warning's box (`MinorsAcknowledgement`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from clerk_app import rules
from clerk_app.models import (
    PersonRecord,
    Residence,
)
from clerk_app.names import DataType
from clerk_app.persons import (
    MAIN_KINDS,
    domestic_current,
)
from clerk_app.services.registration import DOMESTIC_MOVE_REFUSED
from clerk_app.store.db import Store
from ui.db_worker import DbWorker
from ui.fields import (
    ChoiceBox,
    CountryEdit,
    DateEdit,
    ErrorLabel,
    ErrorSlot,
    FieldBox,
    Form,
    FormSection,
)
from ui.formatting import fmt_date
from ui.i18n import tr, tr_label
from ui.operation import Op
from ui.printing import PrintService
from ui.registration.address import AddressSection, LandlordSection, StreetEdit
from ui.registration.common import GERMANY, PersonRef, line_edit, name_check
from ui.registration.dialog import RegistrationDialog
from ui.style import MUTED


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
    """Who takes part: the open person (ticked) and the household members (not ticked: one
    Enter must never move or deregister a whole family; the clerk ticks who comes along).
    `count_changed(n)` when a tick changes how many persons the submit touches."""

    count_changed = Signal(int)

    def __init__(self, title: str, record: PersonRecord, form: Form, db: DbWorker,
                 purpose: str) -> None:
        super().__init__(title + " *")
        members = [PersonRef.of_record(record)] + [
            PersonRef(m.person_id, m.display_name, m.birth_date) for m in record.household]
        self.rows = [PickRow(i, m, i == 0, form) for i, m in enumerate(members)]
        for row in self.rows:
            row.check.toggled.connect(lambda _on: self.count_changed.emit(len(self.chosen())))
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

            Op(self, load, self._on_members, what="load household members").run(db)

    def _on_members(self, records: list[PersonRecord]) -> None:
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
                 parent: QWidget | None = None, printing: PrintService | None = None) -> None:
        super().__init__(db, tr("Ummeldung"), tr("Ummelden"), today, parent, printing)
        self.done_title = tr("Ummeldung gespeichert")
        self.record = record
        main = next((r.kind for r in domestic_current(record) if r.kind in MAIN_KINDS), None)
        self.picker = PersonPicker(tr("Wer zieht um?"), record, self.form, db, "Ummeldung")
        self.picker.count_changed.connect(self.say_persons)
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

    def fields_chain(self) -> list[QWidget]:
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
                 parent: QWidget | None = None, printing: PrintService | None = None) -> None:
        super().__init__(db, tr("Abmeldung"), tr("Abmelden"), today, parent, printing)
        self.done_title = tr("Abmeldung gespeichert")
        self.record = record
        self.picker = PersonPicker(tr("Wer meldet sich ab?"), record, self.form, db,
                                   "Abmeldung")
        self.picker.count_changed.connect(self.say_persons)

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
        # The first thing to type: abroad the state, else the date (the reason is chosen
        # already; a radio button would swallow what the clerk types).
        (self.country if self.reason() == "ausland" else self.moved).setFocus()

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

    def fields_chain(self) -> list[QWidget]:
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

