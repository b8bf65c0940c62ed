"""The call display's board: the last calls as "number → counter", the newest on top and
highlighted. Numbers only, never names: the board is fed `ShownCall`s, which have none.

Readable from 8 m: the rows share the window's height, so on a 40" screen in full HD
(about 50 cm high) each of the seven rows is about 7 cm and its digits about 4 cm high, above
the usual 1 cm of letter height per 2.5 m of reading distance (DIN 1450's guidance for signs).
White on black (contrast 21:1); the newest call is black on yellow, larger, and marked with
"▶" and the word "Aufruf", so colour is never the only sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from ui.i18n import tr

BACKGROUND = QColor("#000000")
TEXT = QColor("#ffffff")
NEWEST_BACKGROUND = QColor("#ffd400")
NEWEST_TEXT = QColor("#000000")
MUTED = QColor("#c8c8c8")
ROWS = 6            # calls shown: the newest and five before it
ARROW = "→"


@dataclass(frozen=True)
class ShownCall:
    """One call as the waiting room may see it: the ticket or booking number, the counter's
    display name, when. `key` tells a new call of the same number (a recall) from the old."""

    number: str
    counter: str
    called_at: datetime
    key: str = ""


class CallBoard(QWidget):
    """Paints `calls` (newest first) filling the widget; `set_calls` replaces them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callBoard")
        self.setAccessibleName(tr("Aufrufanzeige"))
        self.setAutoFillBackground(False)
        self.setMinimumSize(480, 320)
        self._calls: tuple[ShownCall, ...] = ()
        self._notice = ""

    @property
    def calls(self) -> tuple[ShownCall, ...]:
        return self._calls

    def set_calls(self, calls: Sequence[ShownCall]) -> None:
        """Show the newest `ROWS` of `calls` (any order: sorted here by time, newest first)."""
        ordered = sorted(calls, key=lambda c: c.called_at, reverse=True)[:ROWS]
        self._calls = tuple(ordered)
        self.setAccessibleDescription(self.spoken())
        self.update()

    @property
    def notice(self) -> str:
        return self._notice

    def set_notice(self, text: str) -> None:
        """A small line at the foot ("" for none): e.g. that the display is catching up."""
        self._notice = text
        self.update()

    def spoken(self) -> str:
        """The board as text (screen readers, tests): "A 012 → Schalter 3; …"."""
        return "; ".join(f"{c.number} {ARROW} {c.counter}" for c in self._calls)

    # --- painting ------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        width, height = float(self.width()), float(self.height())
        # Heading and foot take one unit each; the newest row two; the others one.
        unit = height / (ROWS + 3.4)
        margin = unit * 0.35
        self._heading(painter, QRectF(margin, 0, width - 2 * margin, unit))
        top = unit
        for index in range(ROWS):
            rows = 2.0 if index == 0 else 1.0
            rect = QRectF(margin, top, width - 2 * margin, unit * rows)
            if index < len(self._calls):
                self._row(painter, rect, self._calls[index], newest=index == 0)
            elif index == 0:
                self._text(painter, rect, tr("Zurzeit kein Aufruf"), MUTED, unit * 0.45,
                           Qt.AlignmentFlag.AlignCenter)
            top += unit * rows + unit * 0.08
        if self._notice:
            self._text(painter, QRectF(margin, height - unit * 0.9, width - 2 * margin,
                                       unit * 0.8), self._notice, MUTED, unit * 0.3,
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.end()

    def _heading(self, painter: QPainter, rect: QRectF) -> None:
        left, right = self._columns(rect)
        size = rect.height() * 0.42
        self._text(painter, left, tr("Nummer"), MUTED, size, Qt.AlignmentFlag.AlignLeft
                   | Qt.AlignmentFlag.AlignVCenter)
        self._text(painter, right, tr("Schalter"), MUTED, size, Qt.AlignmentFlag.AlignLeft
                   | Qt.AlignmentFlag.AlignVCenter)
        painter.fillRect(QRectF(rect.left(), rect.bottom() - 3, rect.width(), 3), MUTED)

    def _row(self, painter: QPainter, rect: QRectF, call: ShownCall, *, newest: bool) -> None:
        left, right = self._columns(rect)
        colour = TEXT
        number = call.number
        if newest:
            painter.fillRect(rect, NEWEST_BACKGROUND)
            colour = NEWEST_TEXT
            number = f"▶ {number}"
            mark = QRectF(rect.left() + rect.height() * 0.15, rect.top(), rect.width(),
                          rect.height() * 0.3)
            self._text(painter, mark, tr("Aufruf"), colour, rect.height() * 0.2,
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            left = left.adjusted(rect.height() * 0.15, rect.height() * 0.15, 0, 0)
            right = right.adjusted(0, rect.height() * 0.15, 0, 0)
        size = rect.height() * (0.5 if newest else 0.72)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self._text(painter, left, number, colour, size, align)
        self._text(painter, right, f"{ARROW} {call.counter}", colour, size, align)

    @staticmethod
    def _columns(rect: QRectF) -> tuple[QRectF, QRectF]:
        split = rect.width() * 0.45
        return (QRectF(rect.left(), rect.top(), split, rect.height()),
                QRectF(rect.left() + split, rect.top(), rect.width() - split, rect.height()))

    @staticmethod
    def _text(painter: QPainter, rect: QRectF, text: str, colour: QColor, pixel_size: float,
              align: Qt.AlignmentFlag) -> None:
        """`text` in bold at `pixel_size`, shrunk until it fits `rect`'s width (a long
        counter name must not run off the screen)."""
        font = QFont(painter.font())
        font.setBold(True)
        size = max(8, int(pixel_size))
        font.setPixelSize(size)
        while size > 8 and QFontMetricsF(font).horizontalAdvance(text) > rect.width():
            size = int(size * 0.9)
            font.setPixelSize(size)
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(rect, int(align), text)
