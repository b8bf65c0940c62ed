"""The walk-in ticket (Wartemarke): one layout for the 80 mm receipt printer and for A4.

The ticket is painted with `QPainter` straight onto the printer (or a `QPdfWriter` in tests
and where no printer is installed): a few lines, no HTML layout needed. On a roll printer the
page is the ticket (80 mm paper, 72 mm printable on the common ESC/POS models; the length is
ours to choose). On an ordinary printer the same ticket is drawn at the top of the A4 page in
a dashed frame to cut along, so a counter without a receipt printer can still hand one out.
Which one is decided by the printer's page width (`is_roll`).

No personal data on a ticket: a walk-in has no name in the queue, and the citizen keeps the
paper; the number is what the call display shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPen,
)

from ui.i18n import tr

ROLL_WIDTH_MM = 80.0
ROLL_PRINTABLE_MM = 72.0
ROLL_LENGTH_MM = 100.0
ROLL_MAX_WIDTH_MM = 90.0      # a page at most this wide is a receipt roll
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class TicketText:
    """What a ticket says: the office and location, the number, the services, when it was
    drawn, how many wait before (None: not known offline), and a priority note ("" none)."""

    office: str
    location: str
    number: str
    services: tuple[str, ...]
    drawn_at: datetime
    waiting_before: int | None = None
    priority: str = ""


def roll_page_layout() -> QPageLayout:
    """The page of an 80 mm roll: 80 x 100 mm, 4 mm side margins (72 mm printable)."""
    margin = (ROLL_WIDTH_MM - ROLL_PRINTABLE_MM) / 2
    size = QPageSize(QSizeF(ROLL_WIDTH_MM, ROLL_LENGTH_MM), QPageSize.Unit.Millimeter,
                     "Bon 80 mm", QPageSize.SizeMatchPolicy.ExactMatch)
    return QPageLayout(size, QPageLayout.Orientation.Portrait,
                       QMarginsF(margin, 3, margin, 3), QPageLayout.Unit.Millimeter)


def is_roll(device: QPagedPaintDevice) -> bool:
    width = device.pageLayout().pageSize().size(QPageSize.Unit.Millimeter).width()
    return width <= ROLL_MAX_WIDTH_MM


def paint_ticket(ticket: TicketText, device: QPagedPaintDevice) -> None:
    """Paint `ticket` on one page of `device` (a roll: the whole page; else the top of it)."""
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("the ticket printer refused the page")
    try:
        dots_per_mm = device.logicalDpiX() / MM_PER_INCH
        paint_rect = device.pageLayout().paintRectPixels(device.logicalDpiX())
        width = min(float(paint_rect.width()), ROLL_PRINTABLE_MM * dots_per_mm)
        height = min(float(paint_rect.height()), (ROLL_LENGTH_MM - 6) * dots_per_mm)
        if is_roll(device):
            _paint_lines(painter, ticket, QRectF(0, 0, width, height), dots_per_mm)
            return
        inset = 4 * dots_per_mm
        bottom = _paint_lines(painter, ticket, QRectF(inset, inset, width - 2 * inset, height),
                              dots_per_mm)
        _cut_frame(painter, QRectF(0, 0, width, bottom + inset), dots_per_mm)
    finally:
        painter.end()


def _cut_frame(painter: QPainter, rect: QRectF, dots_per_mm: float) -> None:
    pen = QPen(QColor("#000000"), 0.3 * dots_per_mm, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.drawRect(rect)
    _line(painter, QRectF(rect.left(), rect.bottom() + dots_per_mm, rect.width(),
                          4 * dots_per_mm), tr("✂ hier abtrennen"), 2.2 * dots_per_mm,
          bold=False, align=Qt.AlignmentFlag.AlignLeft)


def _paint_lines(painter: QPainter, ticket: TicketText, rect: QRectF,
                 dots_per_mm: float) -> float:
    """The ticket top down (sizes in mm of letter height, so roll and A4 look the same);
    where it ends."""
    y = rect.top()
    lines: list[tuple[str, float, bool]] = [
        (ticket.office, 3.2, True),
        (ticket.location, 2.6, False),
        ("", 2.0, False),
        (tr("Ihre Wartenummer"), 3.0, False),
        (ticket.number, 16.0, True),
    ]
    if ticket.priority:
        lines.append((ticket.priority, 3.0, True))
    lines += [(name, 2.8, False) for name in ticket.services]
    lines.append(("", 1.5, False))
    lines.append((tr("Gezogen am {date} um {time} Uhr").format(
        date=ticket.drawn_at.strftime("%d.%m.%Y"), time=ticket.drawn_at.strftime("%H:%M")),
        2.5, False))
    if ticket.waiting_before is not None:
        lines.append((tr("Vor Ihnen warten: {n}").format(n=ticket.waiting_before), 2.5, False))
    lines += [("", 1.5, False),
              (tr("Bitte achten Sie auf die Aufrufanzeige."), 2.5, False),
              (tr("Aufgerufen wird Ihre Nummer, nicht Ihr Name."), 2.5, False)]
    for text, size_mm, bold in lines:
        height = size_mm * dots_per_mm * 1.45
        if text:
            _line(painter, QRectF(rect.left(), y, rect.width(), height), text,
                  size_mm * dots_per_mm, bold=bold, align=Qt.AlignmentFlag.AlignHCenter)
        y += height
    return y


def _line(painter: QPainter, rect: QRectF, text: str, pixel_size: float, *, bold: bool,
          align: Qt.AlignmentFlag) -> None:
    """One line, shrunk to fit the ticket's width (a long service name stays on paper)."""
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setBold(bold)
    size = max(1.0, pixel_size)
    font.setPixelSize(int(size))
    while size > 4 and QFontMetricsF(font).horizontalAdvance(text) > rect.width():
        size *= 0.92
        font.setPixelSize(int(size))
    painter.setFont(font)
    painter.setPen(QColor("#000000"))
    painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), text)
