"""Every document rendered to PDF/A-1b from real services on a real encrypted register, read
back as a citizen's PDF reader and an archive validator would: the text field by field (names
with diacritics exactly), the PDF/A declaration and its metadata, embedded fonts, the QR code
and its seal, the Zweitschrift mark, the same painting on a printer and in a worker thread,
and `clerk-app verify-document` on the files."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from clerk_app.clerks import demo_actor
from clerk_app.command_line import main
from clerk_app.config import Config
from clerk_app.documents import (
    SEALED_TYPES,
    RenderModel,
    archive_pdf,
    archived_files,
    archived_pdf,
    build_model,
    document_view,
    read_seal_metadata,
)
from clerk_app.office_seal import office_seal
from clerk_app.seal import SealKey, payload_of, qr_modules, seal_link, verify
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register
from tests.document_cases import REPRINT_DAY, Issued, config, issue_all
from tests.factories import text_of

pytestmark = pytest.mark.usefixtures("qapp")

ISSUE_DATE = "25.11.2026"

# Documents issued in the demo register print the demo clerk's display name.
DEMO_NAME = demo_actor("Schalter 3").name


@dataclass
class Rendered:
    cfg: Config
    store: Store
    issued: Issued
    key: SealKey
    models: dict[str, RenderModel]
    pdfs: dict[str, bytes]
    folder: Path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, qapp: Any) -> Iterator[Rendered]:
    """Every type issued and rendered once (rendering is the slow part), plus a Zweitschrift,
    on a demo register: `clerk-app --data-dir` finds its seal key in the register."""
    from ui.rendering import render_pdf

    folder = tmp_path_factory.mktemp("documents")
    cfg = config(folder)
    with open_register(cfg, create=True) as store:
        issued = issue_all(store)
        key = office_seal(cfg, store)
        models = {t: build_model(store, cfg, n, seal_key=key) for t, n in issued.numbers.items()}
        models["zweitschrift"] = build_model(
            store, cfg, issued.numbers["meldebescheinigung_einfach"], seal_key=key,
            reprint_on=REPRINT_DAY)
        pdfs = {name: render_pdf(model) for name, model in models.items()}
        for name, pdf in pdfs.items():
            (folder / f"{name}.pdf").write_bytes(pdf)
        yield Rendered(cfg, store, issued, key, models, pdfs, folder)


def plain(value: str) -> str:
    return " ".join(value.replace("*", "").split())


def xmp_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")


def xmp_value(xmp: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", xmp, re.S)
    assert match, name
    return match.group(1)


ALL = ["meldebestaetigung", "meldebescheinigung_einfach", "meldebescheinigung_erweitert",
       "lebensbescheinigung", "personenstandsurkunde_antrag", "quittung", "storno",
       "tagesabschluss", "zweitschrift"]


# --- PDF/A -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_pdfa_1b_declaration_and_consistent_metadata(rendered: Rendered, name: str) -> None:
    pdf = rendered.pdfs[name]
    assert pdf.startswith(b"%PDF-1.4")
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted
    xmp = xmp_of(pdf)
    assert xmp_value(xmp, "pdfaid:part") == "1"
    assert xmp_value(xmp, "pdfaid:conformance") == "B"
    info = reader.metadata
    assert info is not None
    model = rendered.models[name]
    assert info["/Title"] == model.pdf_title == re.sub(r"\s+", " ", xmp_value(
        xmp, "dc:title").replace('<rdf:Alt><rdf:li xml:lang="x-default">', "").replace(
        "</rdf:li>", "").replace("</rdf:Alt>", "")).strip()
    assert info["/Producer"] == xmp_value(xmp, "pdf:Producer")
    assert info["/Author"] == model.author and info["/Creator"] == model.creator
    created = info.creation_date
    assert created is not None
    assert created == datetime.fromisoformat(xmp_value(xmp, "xmp:CreateDate"))
    root = reader.trailer["/Root"]
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    assert intent.get_object()["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"
    assert "/ID" in reader.trailer
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
        annotations = page.get("/Annots")
        assert not (annotations.get_object() if annotations is not None else [])
    assert b"/JavaScript" not in pdf and b"/Launch" not in pdf and b"/EmbeddedFile" not in pdf


@pytest.mark.parametrize("name", ALL)
def test_every_font_is_embedded_and_no_image_is_transparent_or_lossy(rendered: Rendered,
                                                                     name: str) -> None:
    reader = PdfReader(io.BytesIO(rendered.pdfs[name]))
    fonts = 0
    for page in reader.pages:
        resources = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            for part in (descendants.get_object() if descendants else [font]):
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font
                fonts += 1
        for image in (resources.get("/XObject") or DictionaryObject()).values():
            image = image.get_object()
            assert "/SMask" not in image and image.get("/Filter") != "/DCTDecode"
    assert fonts >= 1


# --- text, field by field --------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_every_field_is_printed(rendered: Rendered, name: str) -> None:
    model = rendered.models[name]
    text = text_of(rendered.pdfs[name])
    doc = model.document
    position = 0
    for label, value in doc.fields:
        if not value:
            continue
        closing = re.fullmatch(r"(\d+) × – (.+?)(?: \(Stornierungen: (\d+)\))?", value)
        if doc.doc_type == "tagesabschluss" and closing:
            # Printed as a table row: label, bookings, reversals, amount.
            row = f"{label} {closing[1]} {closing[3] or 0} {plain(closing[2])}"
            assert row in text, row
            continue
        # Label and value side by side (a table row, or "Hinweis: ..."), in field order.
        found = max(text.find(f"{plain(label)}{sep} {plain(value)}", position)
                    for sep in ("", ":"))
        assert found >= 0, (label, value)
        position = found
    # The frame of every document: office, title, number, date, clerk, workstation, page.
    for expected in (model.title, "Stadt Lörrach", "Bürgerbüro Lörrach", "Luisenstraße 16",
                     "79539 Lörrach", "Öffnungszeiten: Mo–Fr 8–12 Uhr, Do 14–18 Uhr",
                     doc.number, ISSUE_DATE, DEMO_NAME, "Schalter 3", "Seite 1 von 1",
                     f"Lörrach, {ISSUE_DATE}"):
        assert expected in text, expected
    if doc.receipt_number and doc.receipt_number != doc.number:
        assert text.count(doc.receipt_number) >= 2  # reference block and fee line
    assert ("Elektronisches Siegel" in text) == (doc.doc_type in SEALED_TYPES)


def test_names_with_diacritics_are_printed_exactly(rendered: Rendered) -> None:
    mbt = text_of(rendered.pdfs["meldebestaetigung"])
    for name in ("Wróbel", "Łukasz Tomasz", "Nguyễn", "Thị Minh Khai"):
        assert name in mbt
    assert "Nguyễn" in text_of(rendered.pdfs["meldebescheinigung_erweitert"])
    assert "Ødegård" in text_of(rendered.pdfs["lebensbescheinigung"])
    assert "Ødegård, Ingrid Sofie" in text_of(rendered.pdfs["personenstandsurkunde_antrag"])
    assert "Tromsø" in text_of(rendered.pdfs["lebensbescheinigung"])


def test_fee_receipt_and_amounts_in_german(rendered: Rendered) -> None:
    numbers = rendered.issued.numbers
    certificate = text_of(rendered.pdfs["meldebescheinigung_einfach"])
    assert f"Gebühr: 7,00 € (Barzahlung), Quittung {numbers['quittung']}" in certificate
    receipt = text_of(rendered.pdfs["quittung"])
    for expected in ("Quittung", "Gebühr 7,00 €", "Gegeben 20,00 €", "Rückgeld 13,00 €",
                     "Betrag erhalten"):
        assert expected in receipt
    closing = text_of(rendered.pdfs["tagesabschluss"])
    for expected in ("Nach Zahlungsart", "Barzahlung 2 1 7,00 €", "Kartenzahlung 1 0 9,00 €",
                     "Differenz 0,00 €", "Bargeld gezählt 7,00 €"):
        assert expected in closing


# --- seal and QR code ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SEALED_TYPES))
def test_qr_code_in_the_pdf_is_exactly_the_sealed_payload(rendered: Rendered, name: str) -> None:
    pdf = rendered.pdfs[name]
    payload = read_seal_metadata(pdf)["Seal"]
    assert payload == rendered.models[name].seal
    verified = verify(payload, rendered.key.public)
    assert verified.facts.number == rendered.issued.numbers[name]
    reader = PdfReader(io.BytesIO(pdf))
    (image,) = [x.get_object() for x in reader.pages[0]["/Resources"]["/XObject"].values()]
    assert (image["/BitsPerComponent"], image["/ColorSpace"]) == (1, "/DeviceGray")
    width = int(image["/Width"])
    data = image.get_data()
    stride = (width + 7) // 8
    decode = image.get("/Decode")
    invert = isinstance(decode, ArrayObject) and [float(v) for v in decode] == [1.0, 0.0]
    dark = []
    for y in range(int(image["/Height"])):
        row = int.from_bytes(data[y * stride:(y + 1) * stride], "big") >> (stride * 8 - width)
        bits = [(row >> (width - 1 - x)) & 1 for x in range(width)]
        dark.append(bytes((b if invert else 1 - b) for b in bits))
    link = rendered.models[name].seal_url
    assert link == seal_link(payload, rendered.cfg.verification_url)
    assert link.startswith(rendered.cfg.verification_url + "#DS1:")
    assert tuple(dark) == qr_modules(link)


def test_qr_code_scans_from_the_printed_page(rendered: Rendered, tmp_path: Path) -> None:
    """What a phone does: read the QR code off the page (zbarimg, where installed)."""
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("pdftoppm and zbarimg (poppler-utils, zbar-tools) not installed")
    pdf = rendered.folder / "meldebestaetigung.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "300", str(pdf), str(tmp_path / "page")],
                   check=True)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert scanned == rendered.models["meldebestaetigung"].seal_url
    assert payload_of(scanned) == rendered.models["meldebestaetigung"].seal


# --- Zweitschrift ----------------------------------------------------------------------------

def test_zweitschrift_is_marked_on_every_page_and_the_original_stays(rendered: Rendered) -> None:
    number = rendered.issued.numbers["meldebescheinigung_einfach"]
    text = text_of(rendered.pdfs["zweitschrift"])
    assert "ZWEITSCHRIFT – Ausdruck vom 26.11.2026" in text
    assert f"Zweitschrift des am {ISSUE_DATE} ausgestellten Originals, ausgedruckt von " \
           f"{DEMO_NAME}" in text
    assert "ZWEITSCHRIFT" not in text_of(rendered.pdfs["meldebescheinigung_einfach"])
    assert read_seal_metadata(rendered.pdfs["zweitschrift"])["Copy"] == "zweitschrift"
    assert read_seal_metadata(rendered.pdfs["meldebescheinigung_einfach"])["Copy"] == "original"
    store = rendered.store
    original = archive_pdf(store, number, rendered.pdfs["meldebescheinigung_einfach"])
    copy = archive_pdf(store, number, rendered.pdfs["zweitschrift"], reprint=True)
    assert archived_pdf(store, original.id) == rendered.pdfs["meldebescheinigung_einfach"]
    assert [f.kind for f in archived_files(store, number)] == ["original", "zweitschrift"]
    assert copy.seal == original.seal == rendered.models["zweitschrift"].seal


def test_long_documents_break_into_pages_with_footer_and_mark_on_each(rendered: Rendered,
                                                                      ) -> None:
    from ui.rendering import render_pdf

    model = rendered.models["zweitschrift"]
    many = tuple((f"Frühere Wohnung {i}", f"Teststraße {i}, 79539 Lörrach") for i in range(70))
    long_model = replace(model, document=replace(model.document, fields=many))
    pdf = render_pdf(long_model)
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 2
    for index, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"Seite {index} von {pages}" in text
        assert "ZWEITSCHRIFT – Ausdruck vom 26.11.2026" in text
        assert model.number in text
    assert "Teststraße 69, 79539 Lörrach" in text_of(pdf)


# --- the closing block of a household's Meldebestätigung ------------------------------------

CLOSING = (f"Lörrach, {ISSUE_DATE}", "Im Auftrag", "(Sachbearbeitung)", "Elektronisches Siegel",
           "Jede Änderung macht es ungültig.")


@pytest.mark.parametrize("specimen", [True, False], ids=["demo", "production"])
@pytest.mark.parametrize("persons", range(2, 9))
def test_closing_block_of_a_household_is_never_split_across_pages(
        rendered: Rendered, persons: int, specimen: bool) -> None:
    """Households of 2 to 8 persons push "Im Auftrag", the signature and the seal's caption
    to every position on the page, the end of a page included: they stay on one page."""
    from ui.rendering import render_pdf

    model = rendered.models["meldebestaetigung"]
    one = model.document.fields[:model.document.fields.index(
        next(f for f in model.document.fields[1:] if f[0] == "Familienname"))]
    fields = tuple(f for i in range(persons)
                   for f in (("Familienname", f"Haushalt{i}"), *one[1:]))
    doc = replace(model.document, fields=fields)
    pdf = render_pdf(replace(model, document=doc, view=document_view(doc), specimen=specimen))
    pages = [" ".join(page.extract_text().split())
             for page in PdfReader(io.BytesIO(pdf)).pages]
    holding = {line: [i for i, text in enumerate(pages) if line in text] for line in CLOSING}
    assert all(len(found) == 1 for found in holding.values()), holding
    assert len({found[0] for found in holding.values()}) == 1, f"split: {holding}"
    assert f"Haushalt{persons - 1}" in " ".join(pages)


# --- the specimen mark (demo register) -------------------------------------------------------

SPECIMEN_NOTICE = "MUSTER – Dokument aus dem Demo-Register, ohne Rechtswirkung"


@pytest.mark.parametrize("name", ALL)
def test_demo_documents_are_marked_muster_on_every_page_and_in_the_seal(
        rendered: Rendered, name: str) -> None:
    pdf = rendered.pdfs[name]
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        text = " ".join(page.extract_text().split())
        assert SPECIMEN_NOTICE in text, "in every page's footer"
        assert "MUSTER" in text.replace(SPECIMEN_NOTICE, ""), "across the page, and on top"
    assert read_seal_metadata(pdf)["Specimen"] == "MUSTER"
    model = rendered.models[name]
    if model.seal:
        facts = verify(model.seal, rendered.key.public).facts
        assert facts.is_specimen and facts.office_id == f"MUSTER-{rendered.cfg.office_id}"
        assert f"Dienststelle MUSTER-{rendered.cfg.office_id}" in text_of(pdf)


def test_specimen_mark_on_each_page_of_a_long_document(rendered: Rendered) -> None:
    from ui.rendering import render_pdf

    model = rendered.models["meldebescheinigung_einfach"]
    many = tuple((f"Frühere Wohnung {i}", f"Teststraße {i}, 79539 Lörrach") for i in range(70))
    pdf = render_pdf(replace(model, document=replace(model.document, fields=many)))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert SPECIMEN_NOTICE in " ".join(page.extract_text().split())


def test_production_documents_never_carry_the_specimen_mark(rendered: Rendered,
                                                            tmp_path: Path) -> None:
    from ui.rendering import render_pdf

    production = replace(rendered.cfg, mode="production")
    for name in ("meldebestaetigung", "meldebescheinigung_einfach", "quittung"):
        model = build_model(rendered.store, production, rendered.issued.numbers[name],
                            seal_key=rendered.key)
        pdf = render_pdf(model)
        assert "MUSTER" not in text_of(pdf), name
        assert "Specimen" not in read_seal_metadata(pdf)
        assert b"MUSTER" not in pdf
        if model.seal:
            facts = verify(model.seal, rendered.key.public).facts
            assert not facts.is_specimen and facts.office_id == production.office_id
        if name == "meldebestaetigung":
            (tmp_path / "production.pdf").write_bytes(pdf)


def test_specimen_looks_like_one_as_png(rendered: Rendered, tmp_path: Path) -> None:
    """pdftoppm renders the first page; the PNG is kept for looking at it."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = tmp_path / "muster.pdf"
    pdf.write_bytes(rendered.pdfs["meldebestaetigung"])
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "muster")], check=True, timeout=60)
    png = next(tmp_path.glob("muster*.png"))
    assert png.stat().st_size > 10_000


# --- the same painting elsewhere -------------------------------------------------------------

def test_rendering_works_in_a_worker_thread(rendered: Rendered) -> None:
    from ui.rendering import render_pdf

    model = rendered.models["meldebestaetigung"]
    result: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result["pdf"] = render_pdf(model)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert not errors and "pdf" in result
    assert text_of(result["pdf"]) == text_of(rendered.pdfs["meldebestaetigung"])


def test_paint_draws_the_same_pages_on_a_printer(rendered: Rendered, tmp_path: Path) -> None:
    from PySide6.QtPrintSupport import QPrinter

    from ui.rendering import paint

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert paint(rendered.models["lebensbescheinigung"], printer) == 1
    printed = text_of(out.read_bytes())
    assert printed == text_of(rendered.pdfs["lebensbescheinigung"])


def test_pages_look_like_a_document_as_png(rendered: Rendered, tmp_path: Path) -> None:
    """pdftoppm at 80 dpi, as the issue asks for the visual check: an A4 page with ink on it
    (the visual review itself is done by a person: docs/sample-meldebescheinigung.png)."""
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed")
    from PySide6.QtGui import QImage

    for name in ("meldebescheinigung_einfach", "zweitschrift"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(rendered.folder / f"{name}.pdf"),
                        str(tmp_path / name)], check=True)
        image = QImage(str(tmp_path / f"{name}-1.png"))
        assert abs(image.width() - 661) <= 1 and abs(image.height() - 935) <= 1  # A4, 80 dpi
        dark = sum(1 for y in range(0, 935, 5) for x in range(0, 661, 5)
                   if QImage.pixelColor(image, x, y).lightness() < 128)
        assert dark > 200


# --- clerk-app verify-document ---------------------------------------------------------------

def cli(rendered: Rendered, *args: str) -> int:
    return main(["--data-dir", rendered.cfg.data_dir, "verify-document", *args])


def test_verify_document_prints_what_was_certified(rendered: Rendered,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = rendered.folder / "meldebestaetigung.pdf"
    assert cli(rendered, str(path), "--public-key", rendered.key.public_hex) == 0
    out = capsys.readouterr().out
    assert "Siegel gültig" in out
    for expected in ("Amtliche Meldebestätigung", rendered.issued.numbers["meldebestaetigung"],
                     ISSUE_DATE, "Dr. Wróbel, Łukasz Tomasz, geboren 29.02.1984",
                     "Nguyễn, Thị Minh Khai, geboren 03.10.1987", rendered.key.key_id):
        assert expected in out
    # Without --public-key: the register's settings hold the office's key.
    assert cli(rendered, str(path)) == 0
    assert "Siegel gültig" in capsys.readouterr().out


def test_verify_document_json(rendered: Rendered, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = rendered.folder / "lebensbescheinigung.pdf"
    assert cli(rendered, str(path), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["type"] == "lebensbescheinigung"
    assert data["persons"] == [{"name": "Ødegård, Ingrid Sofie", "birth_date": "01.12.1959"}]


def tampered(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """The file with one value in its (uncompressed) XMP changed in place, same length."""
    assert len(old) == len(new) and pdf.count(old) >= 1
    return pdf.replace(old, new, 1)


def test_verify_document_refuses_a_changed_seal(rendered: Rendered, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    pdf = rendered.pdfs["meldebescheinigung_einfach"]
    payload = read_seal_metadata(pdf)["Seal"]
    position = len(payload) // 2
    swapped = payload[:position] + ("7" if payload[position] != "7" else "8") + \
        payload[position + 1:]
    path = tmp_path / "changed.pdf"
    path.write_bytes(tampered(pdf, payload.encode(), swapped.encode()))
    assert cli(rendered, str(path), "--public-key", rendered.key.public_hex) == 1
    assert "UNGÜLTIG" in capsys.readouterr().err


def test_verify_document_refuses_a_seal_moved_to_another_document(
        rendered: Rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = rendered.pdfs["meldebescheinigung_einfach"]
    number = rendered.issued.numbers["meldebescheinigung_einfach"]
    other = number[:-1] + ("9" if number[-1] != "9" else "8")
    path = tmp_path / "moved.pdf"
    path.write_bytes(tampered(pdf, f">{number}<".encode(), f">{other}<".encode()))
    assert cli(rendered, str(path), "--public-key", rendered.key.public_hex) == 1
    assert "anderen Dokument" in capsys.readouterr().err


def test_verify_document_without_seal_key_or_file(rendered: Rendered, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    receipt = rendered.folder / "quittung.pdf"
    assert cli(rendered, str(receipt)) == 1
    assert "kein elektronisches Siegel" in capsys.readouterr().err
    assert cli(rendered, str(tmp_path / "missing.pdf")) == 2
    not_pdf = tmp_path / "x.pdf"
    not_pdf.write_text("hello", encoding="utf-8")
    assert cli(rendered, str(not_pdf)) == 1
    assert "kein lesbares PDF" in capsys.readouterr().err
    other = SealKey.generate()
    assert cli(rendered, str(rendered.folder / "lebensbescheinigung.pdf"), "--public-key",
               other.public_hex) == 1
    assert "unbekannten Schlüssel" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path / "empty"), "verify-document",
                 str(rendered.folder / "lebensbescheinigung.pdf")]) == 2
    assert "Kein öffentlicher Schlüssel" in capsys.readouterr().err


def test_doctor_prints_the_seal_fingerprint(rendered: Rendered,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    main(["--data-dir", rendered.cfg.data_dir, "doctor"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "Dokumentsiegel:" in x)
    assert line.startswith("[OK]") and rendered.key.key_id in line
    assert rendered.key.fingerprint in line and rendered.key.public_hex in line
