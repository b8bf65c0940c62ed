"""The further members of a household for the same Meldebescheinigung (F6): none ticked at
first (only the person opened is preselected); each one ticked gets a document and a fee of
their own, issued in the same command (`meldebescheinigung_haushalt`).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from clerk_app.models import PersonRecord
from ui.fields import FieldBox, Form, FormSection
from ui.formatting import fmt_date
from ui.i18n import tr


class HouseholdMembers(FormSection):
    """A check box per further household member; `changed` when one is ticked or unticked."""

    changed = Signal()

    def __init__(self, record: PersonRecord, form: Form, parent: QWidget | None = None) -> None:
        super().__init__(tr("Auch für Haushaltsmitglieder ausstellen"), parent)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.checks: dict[str, QCheckBox] = {}
        for member in record.household:
            check = QCheckBox(f"{member.display_name} (* {fmt_date(member.birth_date)})")
            check.setAccessibleName(tr("Auch für {name}").format(name=member.display_name))
            check.toggled.connect(lambda _on: self.changed.emit())
            column.addWidget(check)
            self.checks[member.person_id] = check
        if self.checks:
            holder.setFocusProxy(next(iter(self.checks.values())))
        self.box = form.add(FieldBox("members", None, holder))
        self.place(self.box, 0, 0, 5)

    def members(self) -> list[str]:
        return [pid for pid, check in self.checks.items() if check.isChecked()]

    def widgets(self) -> list[QWidget]:
        return list(self.checks.values())
