"""Painting issued documents: PDF/A-1b for the citizen and the archive, the same code for paper.

`paint(model, device)` lays the document out on any `QPagedPaintDevice`: the `QPdfWriter` of
`render_pdf` or the `QPrinter` of `ui.printing` (F5, the preview), so the preview, the
printout and the archived PDF are the same pages. Layout: the HTML from `clerk_app.documents` in a
`QTextDocument` (letterhead, content, signature and the seal's QR code), cut into A4 pages;
footer (office, document number, "Seite x von y") and, on a reprint, the ZWEITSCHRIFT
watermark and notice painted on every page with `QPainter`.

PDF/A-1b: Qt writes the output intent (sRGB) and embeds every font as a subset; we supply the
XMP packet (`documents.xmp_metadata`) so that it can carry the seal, which means its dates
must equal the date Qt stamps into the information dictionary when painting begins. Qt gives
no way to set that date, so `render_pdf` reads it back and renders again in the rare case a
second boundary fell in between. No transparency anywhere (PDF/A-1 forbids it): the QR image
is opaque black on white, the watermark an opaque light grey painted under the text.

Everything here works off the GUI thread (QTextDocument, QImage and QPdfWriter are reentrant);
only a `QGuiApplication` must exist, for the fonts (`ensure_application` for scripts).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QRectF,
    QSizeF,
    Qt,
    QUrl,
    QUuid,
    qVersion,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
    QTextFormat,
    QTextTable,
)

from clerk_app.documents import RenderModel, document_html, xmp_metadata
from clerk_app.seal import qr_modules

log = logging.getLogger(__name__)

__all__ = [
    "MARGINS_MM",
    "RESOLUTION_DPI",
    "RenderError",
    "ensure_application",
    "page_layout",
    "paint",
    "render_pdf",
    "text_document",
]

RESOLUTION_DPI = 300
A4_WIDTH_MM, A4_HEIGHT_MM = 210.0, 297.0
# Left margin 25 mm as DIN 5008 (filing holes); the footer sits inside the bottom margin area.
MARGINS_MM = QMarginsF(25.0, 12.0, 20.0, 10.0)
FOOTER_MM = 13.0
BODY_POINT_SIZE = 10.0
FOOTER_POINT_SIZE = 7.5
WATERMARK_POINT_SIZE = 76.0
WATERMARK_GREY = QColor(224, 224, 224)
FOOTER_GREY = QColor(70, 70, 70)
QR_RESOURCE = "seal:qr"
MAX_ATTEMPTS = 4


class RenderError(RuntimeError):
    """A paint device refused the layout or the painter (a broken printer, a full disk)."""


def ensure_application() -> QGuiApplication:
    """The running Qt application, or a new QGuiApplication for scripts and benchmarks.

    Fonts need one; call from the main thread before rendering in workers.
    """
    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication([])
    assert isinstance(app, QGuiApplication)
    return app


def page_layout() -> QPageLayout:
    """A4 portrait with the document margins, for the PDF writer and for printers alike."""
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                       MARGINS_MM, QPageLayout.Unit.Millimeter)


def _px(mm: float, dpi: int) -> float:
    return mm * dpi / 25.4


def document_font(model: RenderModel, point_size: float = BODY_POINT_SIZE) -> QFont:
    """The document's font. Ligatures off: "Öffnungszeiten" or a name like "Pfiffner" must
    come out of the PDF as the letters typed (search in the e-Akte, copy and paste, screen
    readers), not as the ligature characters ﬀ and ﬁ."""
    font = QFont()
    font.setFamilies(list(model.font_families))
    font.setPointSizeF(point_size)
    for tag in ("liga", "clig", "dlig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


def qr_image(model: RenderModel) -> QImage:
    """The seal's QR code as a 1-bit image, one pixel a module, black on opaque white.

    Built straight from segno's module matrix (`model.seal_modules`), with the colour table
    Qt's PDF engine needs to write it as a lossless 1-bit image: any other format it converts
    to RGB and compresses as JPEG, which blurs the modules and costs time. The PDF scales it
    to its printed size without interpolation, so the modules stay sharp at any resolution.
    """
    rows = model.seal_modules or qr_modules(model.seal_url or model.seal or "")
    size = len(rows)
    line = (size + 31) // 32 * 4  # QImage scan lines are 32-bit aligned
    pad = line * 8 - size
    # Bit 0 = colour 0 = black (a dark module), bit 1 = white; most significant bit first.
    data = b"".join((int(row.translate(_MODULE_BITS), 2) << pad).to_bytes(line, "big")
                    for row in rows)
    image = QImage(data, size, size, line, QImage.Format.Format_Mono)
    image.setColorTable([QColor(Qt.GlobalColor.black).rgba(), QColor(Qt.GlobalColor.white).rgba()])
    return image.copy()  # own the pixels: `data` is freed when this function returns


# Module value (0 light, 1 dark) -> the ASCII bit of its pixel (colour index 1 white, 0 black).
_MODULE_BITS = bytes.maketrans(b"\x00\x01", b"10")


def text_document(model: RenderModel, device: QPagedPaintDevice, page: QSizeF) -> QTextDocument:
    """The document's content laid out for `device` in pages of `page` (device pixels).

    The layout uses the device's resolution, so a 10 pt font is 10 pt on paper whether the
    device is a 300 dpi PDF writer or a 600 dpi printer.
    """
    doc = QTextDocument()
    layout = doc.documentLayout()
    layout.setPaintDevice(device)
    doc.setDefaultFont(document_font(model))
    doc.setDocumentMargin(0)
    doc.setPageSize(page)
    if model.seal:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(QR_RESOURCE),
                        qr_image(model))
    doc.setHtml(document_html(model))
    _keep_closing_together(doc)
    return doc


# The closing block moves to the next page whole only if it is at most this part of a page;
# a longer last table (a list that ends the document) breaks as any table does.
CLOSING_MAX_PAGE_PART = 0.4


def _keep_closing_together(doc: QTextDocument) -> None:
    """Start the closing block (the document's last table: place and date, office, "Im
    Auftrag", the signature line, the seal's caption and QR code) on a new page if it would
    be split across two.

    Qt breaks a table row across pages wherever the page ends, and has no CSS
    `page-break-inside: avoid`; a Meldebestätigung for a household of three put "Im Auftrag"
    on one page and the signature and seal on the next. The block's laid-out position
    decides: it is moved (a page break before it) only when it straddles a page boundary.
    """
    page = doc.pageSize().height()
    tables = [frame for frame in doc.rootFrame().childFrames() if isinstance(frame, QTextTable)]
    if not tables or page <= 0:
        return
    closing = tables[-1]
    box = doc.documentLayout().frameBoundingRect(closing)
    if box.height() > page * CLOSING_MAX_PAGE_PART:
        return
    if int(box.top() // page) != int((box.bottom() - 1) // page):
        table_format = closing.format()
        table_format.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        closing.setFormat(table_format)


def paint(model: RenderModel, device: QPagedPaintDevice) -> int:
    """Paint the document onto `device` (QPdfWriter or QPrinter); returns the page count.

    Sets the device to A4 with the document margins before painting: the layout depends on
    them, and the same pages must come out of the printer as went into the archive. A printer
    that cannot print that close to the edge gets its own margins instead, and the very same
    pages are scaled down into its printable area (`fit_to_printer`), QR code included.
    """
    scale = 1.0
    if not device.setPageLayout(page_layout()):
        scale = fit_to_printer(device)
    painter = QPainter()
    if not painter.begin(device):
        raise RenderError("cannot paint on the device")
    # Never JPEG: the QR code must stay exact (Qt compresses other images lossily otherwise).
    painter.setRenderHint(QPainter.RenderHint.LosslessImageRendering)
    try:
        return _paint_pages(model, device, painter, scale)
    finally:
        painter.end()


def fit_to_printer(device: QPagedPaintDevice) -> float:
    """Set A4 with each margin the larger of the document's and the printer's unprintable
    area; returns the factor (at most 1) by which the document's pages must shrink to fit.
    RenderError if the printer refuses even its own margins."""
    current = device.pageLayout()
    current.setUnits(QPageLayout.Unit.Millimeter)
    least = current.minimumMargins()
    margins = QMarginsF(max(MARGINS_MM.left(), least.left()), max(MARGINS_MM.top(), least.top()),
                        max(MARGINS_MM.right(), least.right()),
                        max(MARGINS_MM.bottom(), least.bottom()))
    layout = QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                         margins, QPageLayout.Unit.Millimeter)
    if not device.setPageLayout(layout):
        raise RenderError("the paint device refused A4 even with its own margins")
    width = A4_WIDTH_MM - MARGINS_MM.left() - MARGINS_MM.right()
    height = A4_HEIGHT_MM - MARGINS_MM.top() - MARGINS_MM.bottom()
    scale = min(1.0, (A4_WIDTH_MM - margins.left() - margins.right()) / width,
                (A4_HEIGHT_MM - margins.top() - margins.bottom()) / height)
    log.warning("printer margins exceed the document's (%.1f/%.1f/%.1f/%.1f mm): printing at "
                "the printer's margins, scaled to %.1f %%", least.left(), least.top(),
                least.right(), least.bottom(), scale * 100)
    return scale


def _paint_pages(model: RenderModel, device: QPagedPaintDevice, painter: QPainter,
                 scale: float = 1.0) -> int:
    """Lay out and paint every page. With `scale` < 1 the page is laid out at the document's
    own size (the same page breaks as the archived PDF) and painted shrunk by it."""
    dpi = device.logicalDpiY()
    width, height = float(device.width()), float(device.height())
    if scale < 1.0:
        width = _px(A4_WIDTH_MM - MARGINS_MM.left() - MARGINS_MM.right(), dpi)
        height = _px(A4_HEIGHT_MM - MARGINS_MM.top() - MARGINS_MM.bottom(), dpi)
        painter.translate((device.width() - width * scale) / 2, 0)  # centred across
        painter.scale(scale, scale)
    footer = _px(FOOTER_MM, dpi)
    body = QSizeF(width, height - footer)
    doc = text_document(model, device, body)
    pages = doc.pageCount()
    for index in range(pages):
        if index and not device.newPage():
            raise RenderError("the paint device refused a new page")
        if model.watermark:
            _watermark(painter, model, width, body.height())
        painter.save()
        painter.translate(0, -index * body.height())
        doc.drawContents(painter, QRectF(0, index * body.height(), body.width(), body.height()))
        painter.restore()
        _footer(painter, model, index + 1, pages, QRectF(0, body.height(), width, footer), dpi)
    return pages


def _watermark(painter: QPainter, model: RenderModel, width: float, height: float) -> None:
    """'MUSTER' or 'ZWEITSCHRIFT' diagonally across the page, painted first so the text
    stays on top."""
    painter.save()
    painter.setFont(document_font(model, WATERMARK_POINT_SIZE))
    painter.setPen(WATERMARK_GREY)
    painter.translate(width / 2, height / 2)
    painter.rotate(-38)
    painter.drawText(QRectF(-width, -height / 2, 2 * width, height),
                     Qt.AlignmentFlag.AlignCenter, model.watermark)
    painter.restore()


def _footer(painter: QPainter, model: RenderModel, page: int, pages: int, area: QRectF,
            dpi: int) -> None:
    """Rule, office and address on the left; number and page on the right; the specimen and
    reprint notices in black on every page of a demo document or a Zweitschrift. One font
    face (see base.html)."""
    painter.save()
    font = document_font(model, FOOTER_POINT_SIZE)
    painter.setFont(font)
    metrics = QFontMetricsF(font, painter.device())
    line = metrics.height()
    top = area.top() + _px(4.0, dpi)
    painter.setPen(QPen(FOOTER_GREY, _px(0.2, dpi)))
    painter.drawLine(0, round(top), round(area.width()), round(top))
    painter.setPen(FOOTER_GREY)
    text_top = top + _px(1.2, dpi)
    number, page_text = model.number, model.page_label(page, pages)
    right_width = max(metrics.horizontalAdvance(number), metrics.horizontalAdvance(page_text))
    left_width = area.width() - right_width - _px(6.0, dpi)
    left = metrics.elidedText(model.footer_left, Qt.TextElideMode.ElideRight, left_width)
    align_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
    align_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
    painter.drawText(QRectF(0, text_top, left_width, line), align_left, left)
    painter.drawText(QRectF(0, text_top, area.width(), line), align_right, number)
    painter.drawText(QRectF(0, text_top + line, area.width(), line), align_right, page_text)
    notice = " · ".join(n for n in (model.specimen_notice, model.reprint_notice) if n)
    if notice:
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QRectF(0, text_top + line, left_width, line), align_left, notice)
    painter.restore()


# --- PDF/A -----------------------------------------------------------------------------------

_INFO_DATE = re.compile(rb"/CreationDate \(D:(\d{14})(Z|[+-]\d{2}'\d{2}')\)")
_INFO_PRODUCER = re.compile(rb"/Producer \(((?:[^\\)]|\\.)*)\)", re.DOTALL)


def _info_date(pdf: bytes) -> datetime | None:
    match = _INFO_DATE.search(pdf)
    if match is None:
        return None
    stamp = datetime.strptime(match[1].decode("ascii"), "%Y%m%d%H%M%S")
    offset = match[2].decode("ascii")
    if offset == "Z":
        return stamp.replace(tzinfo=UTC)
    sign = 1 if offset[0] == "+" else -1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return stamp.replace(tzinfo=timezone(sign * delta))


def _info_producer(pdf: bytes) -> str | None:
    match = _INFO_PRODUCER.search(pdf)
    if match is None:
        return None
    raw = re.sub(rb"\\(.)", rb"\1", match[1], flags=re.DOTALL)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")



def _write_pdf(model: RenderModel, created: datetime, document_uuid: uuid.UUID,
               producer: str) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPdfVersion(QPagedPaintDevice.PdfVersion.PdfVersion_A1b)
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle(model.pdf_title)
    writer.setAuthor(model.author)
    writer.setCreator(model.creator)
    writer.setDocumentId(QUuid(str(document_uuid)))
    writer.setDocumentXmpMetadata(QByteArray(xmp_metadata(
        model, producer=producer, created=created, document_uuid=str(document_uuid))))
    paint(model, writer)
    del writer  # flushes nothing more: the PDF is complete when the painter ends
    buffer.close()
    return bytes(data.data())


def render_pdf(model: RenderModel) -> bytes:
    """The document as PDF/A-1b (A4, 300 dpi, fonts embedded, seal in the XMP metadata)."""
    producer = f"Qt {qVersion()}"
    for _attempt in range(MAX_ATTEMPTS):
        created = datetime.now().astimezone().replace(microsecond=0)
        pdf = _write_pdf(model, created, uuid.uuid4(), producer)
        stamped_producer = _info_producer(pdf)
        if stamped_producer is not None and stamped_producer != producer:
            producer = stamped_producer  # a Qt build naming itself differently: follow it
            continue
        if _info_date(pdf) == created:
            return pdf
    raise RenderError("PDF metadata dates did not match after several attempts")
