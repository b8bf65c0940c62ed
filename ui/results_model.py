"""The hit list of the type-ahead search as a Qt table model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from clerk_app.models import PersonHit
from ui.formatting import fmt_date
from ui.i18n import tr

COL_NAME, COL_BORN, COL_ADDRESS, COL_BLOCK = range(4)
BLOCK_RED = QColor("#b00020")

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractTableModel):
    """Name, birth date, address and a worded marker for an information block."""

    def __init__(self) -> None:
        super().__init__()
        self._hits: list[PersonHit] = []
        self._headers = [tr("Name"), tr("Geburtsdatum"), tr("Anschrift"), tr("Hinweis")]
        self._block_text = tr("⚠ Sperre")
        self._block_spoken = tr("Auskunftssperre: keine Auskunft an Dritte")
        self._bold = QFont()
        self._bold.setBold(True)

    # The data

    def set_hits(self, hits: list[PersonHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def clear(self) -> None:
        self.set_hits([])

    def hit(self, row: int) -> PersonHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    @property
    def block_text(self) -> str:
        return self._block_text

    @property
    def hits(self) -> list[PersonHit]:
        return list(self._hits)

    # Qt's side

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role in (
                Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._headers[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole \
                and section == COL_BORN:
            return tr("Geburtsdatum (TT.MM.JJJJ)")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        hit = self.hit(index.row()) if index.isValid() else None
        if hit is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == COL_NAME:
                return hit.display_name
            if col == COL_BORN:
                return fmt_date(hit.birth_date)
            if col == COL_ADDRESS:
                return hit.address or tr("keine aktuelle Anschrift")
            block = "" if not hit.blocked else self._block_text \
                if role == Qt.ItemDataRole.DisplayRole else self._block_spoken
            return " · ".join(t for t in (block, hit.note) if t)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if col == COL_BLOCK:
                block = self._block_spoken if hit.blocked else tr("keine Sperre")
                return " · ".join(t for t in (block, hit.note) if t)
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_BLOCK and hit.blocked:
            return QBrush(BLOCK_RED)
        if role == Qt.ItemDataRole.FontRole and col == COL_BLOCK and hit.blocked:
            return self._bold
        if role == Qt.ItemDataRole.UserRole:
            return hit.id
        return None
