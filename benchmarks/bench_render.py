"""Rendering a Meldebescheinigung to PDF/A, against a bare one-paragraph QTextDocument to PDF.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_render.py [--runs 40]

Both in the same process, warm (one render of each first: fonts and templates load once per
process), alternating so that machine noise hits both alike, the garbage collector paused during
the timed loop as `timeit` does; medians of `--runs`.

* Meldebescheinigung: what the app does for each issued certificate after the service:
  `documents.build_model` (read the document and the fee from the encrypted register, sign the
  seal) and `ui.rendering.render_pdf` (Jinja2 template, QR code, QTextDocument layout, PDF/A-1b
  with embedded fonts and XMP metadata, footer).
* Baseline: one paragraph of the same length as a certificate's text in a QTextDocument,
  drawn by a QPdfWriter (A4, 300 dpi, same font), the simplest way Qt makes a PDF.

Target: ratio ≤ 3.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import sample_certificate
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSizeF
from PySide6.QtGui import QFont, QPageSize, QPainter, QPdfWriter, QTextDocument

from clerk_app.documents import build_model
from ui.rendering import ensure_application, render_pdf

PARAGRAPH = ("Aus dem Melderegister der Stadt Lörrach wird bescheinigt, dass Łukasz Tomasz "
             "Wróbel, geboren am 29.02.1984, mit alleiniger Wohnung in der Turmstraße 5, "
             "79539 Lörrach, gemeldet ist.")


def bare_pdf() -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    font = QFont()
    font.setFamilies(["DejaVu Sans"])
    font.setPointSizeF(10)
    doc.setDefaultFont(font)
    doc.setPageSize(QSizeF(writer.width(), writer.height()))
    doc.setPlainText(PARAGRAPH)
    painter = QPainter(writer)
    doc.drawContents(painter, QRectF(0, 0, writer.width(), writer.height()))
    painter.end()
    buffer.close()
    return bytes(data.data())


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    ensure_application()
    with sample_certificate() as (cfg, store, number, key):

        def certificate() -> bytes:
            return render_pdf(build_model(store, cfg, number, seal_key=key))

        model = build_model(store, cfg, number, seal_key=key)

        def rendering() -> bytes:
            return render_pdf(model)

        certificate()
        bare_pdf()
        ours: list[float] = []
        render: list[float] = []
        bare: list[float] = []
        gc.collect()
        gc.disable()  # as timeit does: a cycle collection is noise, not rendering cost
        try:
            for _ in range(args.runs):
                ours.append(timed(certificate))
                render.append(timed(rendering))
                bare.append(timed(bare_pdf))
        finally:
            gc.enable()
        size_ours, size_bare = len(certificate()), len(bare_pdf())
    m_ours, m_render = statistics.median(ours), statistics.median(render)
    m_bare = statistics.median(bare)
    print(f"Meldebescheinigung (model + PDF/A): median {m_ours:.1f} ms, "
          f"min {min(ours):.1f} ms, {size_ours / 1024:.0f} KiB")
    print(f"Meldebescheinigung rendering alone (built model -> PDF/A): median "
          f"{m_render:.1f} ms, min {min(render):.1f} ms")
    print(f"bare one-paragraph QTextDocument -> PDF: median {m_bare:.1f} ms, "
          f"min {min(bare):.1f} ms, {size_bare / 1024:.0f} KiB")
    print(f"ratio rendering {m_render / m_bare:.2f}x (target <= 3x); "
          f"with building the model {m_ours / m_bare:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
