"""Painting a `clerk_app.letters.Letter` on A4 at the positions DIN 5008 (form B) gives.

Positions are the core's millimetres, turned into device pixels at the device's resolution, so
the PDF, the preview and the printer put the address exactly into the envelope's window; fold
and hole marks in the left margin. Works off the GUI thread, like `ui.rendering` (only a
`QGuiApplication` must exist, for the fonts).
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLineF, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from clerk_app import letters
from clerk_app.letters import Letter

FONT_FAMILY = "DejaVu Sans"
WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)


class _Page:
    """A painter on one page, placing in millimetres."""

    def __init__(self, painter: QPainter, dpi: float) -> None:
        self.painter = painter
        self.per_mm = dpi / 25.4

    def rect(self, x: float, y: float, width: float, height: float) -> QRectF:
        k = self.per_mm
        return QRectF(x * k, y * k, width * k, height * k)

    def text(self, x: float, y: float, width: float, height: float, text: str,
             points: float, flags: int = WRAP) -> float:
        """Draw `text` in the box; returns the height it took, in millimetres."""
        font = QFont(FONT_FAMILY)
        font.setPointSizeF(points)
        self.painter.setFont(font)
        box = self.rect(x, y, width, height)
        used = self.painter.boundingRect(box, flags, text)
        self.painter.drawText(box, flags, text)
        return used.height() / self.per_mm

    def mark(self, y: float, length: float) -> None:
        k = self.per_mm
        self.painter.drawLine(QLineF(3 * k, y * k, (3 + length) * k, y * k))


def paint_letter(letter: Letter, device: QPagedPaintDevice) -> None:
    """One page (letters from the inbox are short; longer text is cut at the page's foot)."""
    painter = QPainter(device)
    try:
        page = _Page(painter, device.logicalDpiY())
        pen = QPen(Qt.GlobalColor.darkGray)
        pen.setWidthF(page.per_mm * 0.2)
        painter.setPen(pen)
        for y in letters.FOLD_MARKS:
            page.mark(y, 5)
        page.mark(letters.HOLE_MARK, 7)
        painter.setPen(QPen(Qt.GlobalColor.black))
        city, office = letter.letterhead
        page.text(letters.LEFT_MARGIN, 15, 120, 9, city, 17)
        page.text(letters.LEFT_MARGIN, 24, 120, 6, office, 11)
        x, y, width, _ = letters.ADDRESS_FIELD
        page.text(x + 5, y + letters.RETURN_ZONE_HEIGHT - 5, width - 5, 5, letter.sender_line,
                  6.5, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom))
        rx, ry, rwidth, rheight = letters.RECIPIENT_ZONE
        page.text(rx + 5, ry, rwidth - 5, rheight, "\n".join(letter.recipient), 10)
        ix, iy, iwidth, _ = letters.INFO_BLOCK
        for n, (label, value) in enumerate(letter.info):
            page.text(ix, iy + n * 4.5, 32, 4.5, label, 7.5)
            page.text(ix + 32, iy + n * 4.5, iwidth - 32, 4.5, value, 7.5)
        text_width = letters.PAGE_WIDTH - letters.LEFT_MARGIN - letters.RIGHT_MARGIN
        left, top = letters.LEFT_MARGIN, letters.SUBJECT_TOP
        room = letters.PAGE_HEIGHT - 20
        top += page.text(left, top, text_width, room - top, letter.subject, 11) + 8.5
        for paragraph in (letter.salutation, *letter.paragraphs, letter.closing):
            top += page.text(left, top, text_width, room - top, paragraph, 10) + 4.2
        page.text(left, top + 8.5, text_width, room - top - 8.5, letter.signature, 10)
    finally:
        painter.end()


def letter_pdf(letter: Letter) -> bytes:
    """The letter as a PDF (for printing, the print queue, and the tests' look at it)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0),
                                     QPageLayout.Unit.Millimeter))
    writer.setTitle(letter.subject)
    paint_letter(letter, writer)
    buffer.close()
    return bytes(data.data())
