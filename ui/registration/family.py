"""A further person's relation to the first person of an Anmeldung ("Person hinzufügen"):
spouse, registered partner or child, and for a child the legal representatives among the
persons of the same Anmeldung (§ 3 (1) Nr. 9, 15-17 BMG).

The core names persons by their position in the form; the row knows the others by their
stable entry keys and turns them into positions when the form is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from clerk_app.models import RELATION_LABELS
from ui.fields import ChoiceBox, ErrorLabel, ErrorSlot, FieldBox, Form
from ui.i18n import tr, tr_label

# What a further person can be of the first one (the first person's side follows).
TO_FIRST = ("ehegatte", "lebenspartner", "kind")
PARTNERS = frozenset({"ehegatte", "lebenspartner"})


class RelationRow(QWidget):
    """"Beziehung zu Person 1" and, for a child, "Gesetzliche Vertreter" (check boxes)."""

    changed = Signal()

    def __init__(self, form: Form, prefix: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind = ChoiceBox({"": tr("ohne Angabe"),
                               **{k: tr_label(RELATION_LABELS[k]) for k in TO_FIRST}})
        self.kind.setAccessibleName(tr("Beziehung zu Person 1"))
        self.kind_box = form.add(FieldBox(prefix + "relations.0.kind",
                                          tr("Beziehung zu Person 1"), self.kind))
        layout.addWidget(self.kind_box, 1)
        self.representatives_label = QLabel(tr("Gesetzliche Vertreter:"))
        layout.addWidget(self.representatives_label)
        self.boxes_layout = QHBoxLayout()
        layout.addLayout(self.boxes_layout, 2)
        self.error = ErrorLabel()
        layout.addWidget(self.error, 2)
        self.checks: dict[str, QCheckBox] = {}
        self._partners: set[str] = set()
        form.add_target(prefix + "relations", ErrorSlot(self.error, self.kind))
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self._kind_changed()

    def is_child(self) -> bool:
        return self.kind.value() == "kind"

    def is_partner(self) -> bool:
        return self.kind.value() in PARTNERS

    def set_others(self, others: Sequence[tuple[str, int]], partners: set[str]) -> None:
        """The other persons of the Anmeldung as (entry key, number on screen); `partners`:
        the keys of the first person's spouse or partner (ticked with the first person when
        a child is chosen)."""
        ticked = {key for key, box in self.checks.items() if box.isChecked()}
        for box in self.checks.values():
            box.hide()
            box.deleteLater()
        self.checks = {}
        for key, number in others:
            box = QCheckBox(tr("Person {n}").format(n=number))
            box.setAccessibleName(tr("Person {n} ist gesetzlicher Vertreter").format(n=number))
            box.setChecked(key in ticked)
            self.boxes_layout.addWidget(box)
            self.checks[key] = box
        self._partners = partners
        self._show_representatives()

    def _kind_changed(self) -> None:
        if self.is_child() and not any(b.isChecked() for b in self.checks.values()):
            first = next(iter(self.checks), None)
            for key, box in self.checks.items():
                box.setChecked(key == first or key in self._partners)
        self._show_representatives()
        self.changed.emit()

    def _show_representatives(self) -> None:
        child = self.is_child()
        self.representatives_label.setVisible(child)
        for box in self.checks.values():
            box.setVisible(child)

    def data(self, position_of: Mapping[str, int]) -> list[dict[str, Any]]:
        """The entry's "relations": to the first person, and a child's representatives."""
        kind = self.kind.value()
        if not kind:
            return []
        mine = {"kind": "elternteil"} if kind == "kind" else {"kind": kind}
        relations = [{**mine, "person": 0}]
        if kind == "kind":
            relations += [{"kind": "vertreter", "person": position_of[key]}
                          for key, box in self.checks.items()
                          if box.isChecked() and key in position_of]
        return relations

    def widgets(self) -> list[QWidget]:
        chain: list[QWidget] = [self.kind]
        if self.is_child():
            chain += list(self.checks.values())
        return chain
