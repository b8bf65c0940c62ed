"""What a withdrawn workstation shows instead of everything else (see clerk_app.withdrawal):
a plain German notice, in the window when the centre says so during work, and alone at every
later start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from clerk_app.withdrawal import WITHDRAWN_DE, WITHDRAWN_EN
from ui.i18n import message_text, tr


class WithdrawnNotice(QWidget):
    """The title and the sentence, large, nothing to click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("withdrawnNotice")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 40, 40, 40)
        layout.addStretch(1)
        self.title = QLabel(tr("Arbeitsplatz zurückgezogen"))
        self.title.setObjectName("withdrawnTitle")
        self.title.setStyleSheet("#withdrawnTitle { font-size: 20pt; font-weight: bold; }")
        self.text = QLabel(message_text(WITHDRAWN_DE, WITHDRAWN_EN))
        self.text.setObjectName("withdrawnText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setStyleSheet("#withdrawnText { font-size: 13pt; }")
        for label in (self.title, self.text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAccessibleName(label.text())
            layout.addWidget(label)
        layout.addStretch(2)
        self.setAccessibleName(tr("Arbeitsplatz zurückgezogen"))


class WithdrawnDialog(QDialog):
    """The notice alone, at start: closing it ends the program."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("withdrawnDialog")
        self.setWindowTitle(tr("Arbeitsplatz zurückgezogen"))
        self.notice = WithdrawnNotice(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(buttons)
        self.setMinimumSize(640, 360)
