"""Small pieces the registration dialogs share: a person reference, name and code checks, the
late-registration hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLineEdit,
    QPushButton,
)

from clerk_app import rules
from clerk_app.latin_names import latin_suggestion, name_message
from clerk_app.models import (
    PersonHit,
    PersonRecord,
)
from clerk_app.names import DataType
from ui.fields import FieldBox, limit_length
from ui.formatting import fmt_date
from ui.i18n import tr, tr_label

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
    """DIN 91379 check of a name field, with the core's one-line message."""
    def check() -> str | None:
        text = edit.text().strip()
        return name_message(text, data_type) if text else None
    return check


class LatinFormOffer(QPushButton):
    """Under a name field holding Cyrillic letters: "Übernehmen: Ivan", the Latin form the
    citizen's passport prints (ICAO 9303). It follows the field in the Tab order, so Tab and
    Space (or a click) put it into the field; hidden while there is nothing to offer."""

    def __init__(self, box: FieldBox, edit: QLineEdit) -> None:
        super().__init__()
        self._box = box
        self._edit = edit
        self._latin = ""
        self.setObjectName("latinForm")
        self.setAutoDefault(False)
        self.hide()
        box.add_below(self)
        edit.textChanged.connect(self._update)
        self.clicked.connect(self._accept)

    def _update(self, text: str) -> None:
        latin = latin_suggestion(text.strip()) if text.strip() else None
        self._latin = latin or ""
        self.setText(tr("Übernehmen: {name}").format(name=self._latin))
        self.setAccessibleName(tr("Lateinische Schreibweise übernehmen: {name}").format(
            name=self._latin))
        self.setVisible(latin is not None)

    def _accept(self) -> None:
        if self._latin:
            self._edit.setText(self._latin)
            self._box.run_checks()
            self._edit.setFocus(Qt.FocusReason.OtherFocusReason)


def codes_of(text: str) -> list[str]:
    """'deu, che' -> ['DEU', 'CHE']."""
    return [c.upper() for c in _CODES_RE.split(text.strip()) if c]


def line_edit(placeholder: str = "", max_length: int = 200) -> QLineEdit:
    edit = QLineEdit()
    limit_length(edit, max_length)
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


