"""The Anmeldung (§ 17 Abs. 1 BMG): one or more persons move in; new persons or persons already
in the register (a likely duplicate taken over).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clerk_app.id_scan import NewPersonPrefill
from clerk_app.models import (
    PersonHit,
)
from clerk_app.persons import (
    likely_duplicates,
)
from clerk_app.store.db import Store
from ui.db_worker import DbWorker
from ui.fields import ErrorLabel, ErrorSlot
from ui.i18n import tr
from ui.printing import PrintService
from ui.registration.address import (
    AddressSection,
    LandlordSection,
    PreviousAddressSection,
    StreetEdit,
)
from ui.registration.common import Duplicates, PersonRef
from ui.registration.dialog import RegistrationDialog
from ui.registration.person_entry import PersonEntry


class AnmeldungDialog(RegistrationDialog):
    """Anmeldung: one or more persons moving in together, the new dwelling, the previous
    address and the landlord's confirmation – one screen. Alt+P adds a person; Alt+V adds the
    person open in the main window (`candidate`). `prefill` (an ID card scanned without a
    match) fills the first person's fields from the card."""

    service_type = "anmeldung"
    draft_kind = "anmeldung"

    def __init__(self, db: DbWorker, *, candidate: PersonRef | None = None,
                 prefill: NewPersonPrefill | None = None, today: date | None = None,
                 parent: QWidget | None = None, printing: PrintService | None = None) -> None:
        super().__init__(db, tr("Anmeldung"), tr("Anmelden"), today, parent, printing)
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
        """A further person section. Address, move-in date and landlord are the dialog's,
        shared by everyone; a new person typed after the first takes over the first one's
        family name (and a relation to the first person is asked)."""
        entry = PersonEntry(str(self._next_key), self.form, self.today, existing)
        self._next_key += 1
        if focus and existing is None and self.entries and self.entries[0].is_new:
            entry.carry_family_name(self.entries[0].text("family_name"))
        entry.remove_requested.connect(self.remove_person)
        entry.changed_mode.connect(self._layout_changed)
        entry.relation.changed.connect(self._relations_changed)
        entry.resolved.connect(self._on_resolved)
        self.entries.append(entry)
        self.persons_layout.addWidget(entry)
        entry.show()   # at once, not when the layout gets to it: the next Tab goes there
        self._layout_changed()
        if focus:   # a further person: first the relation to the first one, then the names
            (entry.relation.kind if not entry.relation.isHidden()
             else entry.first_widget()).setFocus()
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
        self.say_persons(len(self.entries))
        for number, entry in enumerate(self.entries, start=1):
            entry.set_title(number)
            entry.remove_button.setVisible(len(self.entries) > 1)
            entry.relation.setVisible(number > 1)
        self._relations_changed()

    def _relations_changed(self) -> None:
        """Offer each further person the others as legal representatives (a child's parents:
        the first person and their spouse or partner, ticked when "Kind" is chosen)."""
        partners = {e.key for e in self.entries[1:] if e.relation.is_partner()}
        for entry in self.entries[1:]:
            entry.relation.set_others(
                [(other.key, number) for number, other in enumerate(self.entries, start=1)
                 if other is not entry and not other.relation.is_child()], partners)
        self.refresh_tab_order()

    def fields_chain(self) -> list[QWidget]:
        chain: list[QWidget] = []
        for entry in self.entries:
            chain += entry.widgets()
        chain += [self.add_button, self.existing_button]
        for section in (self.address, self.previous, self.landlord):
            chain += section.widgets()
        return chain

    # Submitting

    def form_data(self) -> dict[str, Any]:
        position_of = {e.key: i for i, e in enumerate(self.entries)}
        persons = [e.data() for e in self.entries]
        for person, entry in zip(persons[1:], self.entries[1:], strict=True):
            relations = entry.relation.data(position_of)
            if relations:
                person["relations"] = relations
        data: dict[str, Any] = {"persons": persons}
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


