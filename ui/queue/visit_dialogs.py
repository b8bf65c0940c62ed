"""The small questions of the queue panel, in one dialog type: which services were done
(finish), where to (forward), which ticket (walk-in), why (cancel).

A `VisitDialog` has any of: a choice list (`QComboBox`: a counter, a ticket group, a
priority), ticks (`QCheckBox` per service) and a line of text (a reason). Enter confirms
(the first control has focus; Space ticks), Esc steps back and nothing happens. It is opened
with `open()`, not `exec()`: the window stays live behind it, and `chosen` carries the
answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.i18n import tr


@dataclass
class Answer:
    """What the clerk chose: the combo boxes' codes by name, the ticked codes, the text."""

    choices: dict[str, str] = field(default_factory=dict)
    ticked: list[str] = field(default_factory=list)
    text: str = ""


class VisitDialog(QDialog):
    """See the module docstring; build it with the `add_*` methods, then `open()`."""

    chosen = Signal(object)   # an Answer, once accepted

    def __init__(self, title: str, intro: str, ok: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("visitDialog")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._layout = QVBoxLayout(self)
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        self._layout.addWidget(intro_label)
        self._form = QFormLayout()
        self._layout.addLayout(self._form)
        self.combos: dict[str, QComboBox] = {}
        self.ticks: dict[str, QCheckBox] = {}
        self.line: QLineEdit | None = None
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("visitDialogOk")
        self.ok_button.setDefault(True)
        cancel = buttons.addButton(tr("Zurück (Esc)"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("visitDialogBack")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._buttons = buttons

    def add_choice(self, name: str, label: str, options: Sequence[tuple[str, str]],
                   current: str = "") -> QComboBox:
        """A combo box of `(code, text)` options under `name` in the answer."""
        combo = QComboBox()
        combo.setObjectName(f"choice_{name}")
        combo.setAccessibleName(label.replace("&", ""))
        for code, text in options:
            combo.addItem(text, code)
        if current:
            combo.setCurrentIndex(max(0, combo.findData(current)))
        caption = QLabel(label)
        caption.setBuddy(combo)
        self._form.addRow(caption, combo)
        self.combos[name] = combo
        return combo

    def add_ticks(self, label: str, options: Sequence[tuple[str, str, bool]]) -> None:
        """A check box per `(code, text, ticked)`."""
        heading = QLabel(label)
        self._form.addRow(heading)
        for code, text, ticked in options:
            box = QCheckBox(text)
            box.setObjectName(f"tick_{code}")
            box.setAccessibleName(text)
            box.setChecked(ticked)
            self._form.addRow(box)
            self.ticks[code] = box

    def add_line(self, label: str) -> QLineEdit:
        line = QLineEdit()
        line.setObjectName("visitDialogText")
        line.setAccessibleName(label.replace("&", ""))
        caption = QLabel(label)
        caption.setBuddy(line)
        self._form.addRow(caption, line)
        self.line = line
        return line

    def open(self) -> None:
        self._layout.addWidget(self._buttons)
        super().open()
        first = next(iter([*self.combos.values(), *self.ticks.values()]), self.line)
        if first is not None:
            first.setFocus()

    def answer(self) -> Answer:
        return Answer({name: str(combo.currentData()) for name, combo in self.combos.items()},
                      [code for code, box in self.ticks.items() if box.isChecked()],
                      self.line.text().strip() if self.line is not None else "")

    def accept(self) -> None:
        answer = self.answer()
        super().accept()
        self.chosen.emit(answer)
