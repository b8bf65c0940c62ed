"""Enter on a list or table of the window does what the window means by it (open the chosen
hit, take the chosen receipt), not what Qt does with it. A module of its own: the main window
needs it at start, the dialogs' machinery (`ui.form_dialog`) only when a dialog opens.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget


class EnterKeyFilter(QObject):
    """Enter in `widget` (a list or table of the window) calls `action` instead: open the
    chosen hit, take the chosen receipt."""

    def __init__(self, widget: QWidget, action: Callable[[], object]) -> None:
        super().__init__(widget)
        self._action = action
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._action()
            return True
        return False
