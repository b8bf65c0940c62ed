"""The warning about minors in the registration dialogs: shown when the core asks for it
(`clerk_app.relations.minor_warnings`: a minor moving without a legal representative, or left
behind without an adult of the family); the clerk reads it, ticks the box (Space) and submits
again. Never pre-ticked, never kept in a draft: it is a decision for this submit.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QFrame, QVBoxLayout, QWidget

from clerk_app.relations import ACKNOWLEDGE_MINORS
from ui.fields import FieldBox, Form
from ui.i18n import tr


class MinorsAcknowledgement(QFrame):
    """A yellow box with the core's warning as the check box's message."""

    def __init__(self, form: Form, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("minorsWarning")
        self.setStyleSheet("#minorsWarning { background: #fff4d6; border: 1px solid #8a6d00;"
                           " border-radius: 4px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        self.check = QCheckBox(tr("Hinweis zu Minderjährigen gelesen – trotzdem speichern"))
        self.check.setAccessibleName(tr("Hinweis zu Minderjährigen bestätigen"))
        self.box = form.add(FieldBox(ACKNOWLEDGE_MINORS, tr("⚠ Minderjährige"), self.check))
        layout.addWidget(self.box)
        self.hide()

    def reveal(self) -> None:
        """Show the box, not ticked (the core's warning arrives as its message)."""
        self.check.setChecked(False)
        self.show()

    def widgets(self) -> list[QWidget]:
        return [] if self.isHidden() else [self.check]

    def data(self) -> dict[str, Any]:
        return {ACKNOWLEDGE_MINORS: True} if not self.isHidden() and self.check.isChecked() \
            else {}
