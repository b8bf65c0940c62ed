"""Guards against a Qt binding that corrupts the interpreter (seen with PySide6 6.12.0).

There, every call of a Qt method returning nothing took one reference from `None`; on CPython
3.11, where `None` is not immortal, the app aborted after some thousands of calls: a clerk's
window would die mid-morning.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot


def test_void_qt_calls_keep_reference_counts(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        widget.setEnabled(True)
        widget.setVisible(False)
        widget.isVisible()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a >= b - 50 for a, b in zip(after, before, strict=True)), (before, after)
