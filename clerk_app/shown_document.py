"""What a document shows, read as its reader sees it: the QR code on the page and the printed text.

A seal in a PDF's metadata proves nothing about the page: a forger edits the printed name and
leaves the metadata alone, or copies another person's whole seal into it. So a document is
checked the way a landlord with a phone checks the paper: the page is rendered (PDFium), the QR
code is read off the pixels (zxing-cpp), its seal is verified, and the certified values are
compared with the page's text layer. A photo or scan (PNG, JPEG) has no text layer; its QR
code is read and checked the same way, and the reader compares the printed text by eye.

Comparison of the text: the persons are read back from the page with the labels the
templates print ("Familienname", "Vornamen", "Doktorgrad", "Geburtsdatum"; "Antragsteller/in"
on a request), built into names the way the seal builds them (`documents.sealed_facts`), and
must be exactly the sealed persons: a changed letter, an added person or a swapped QR code all
disagree. The number, issue date, title and issuing office (printed beside the code) must be on
the page too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clerk_app.errors import ValidationError
from clerk_app.models import display_name
from clerk_app.seal import PREFIX, PublicKeys, SealError, VerifiedDocument, payload_of, verify

if TYPE_CHECKING:
    from clerk_app.office_keys import KeyList

__all__ = ["IMAGE_SUFFIXES", "ShownDocument", "Verdict", "check_file", "disagreements",
           "printed_persons", "read_shown"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
# 150 dpi gives a 0.5 mm module three pixels: enough for the decoder, and a page renders in
# about 40 ms. A page whose code is not found there is tried once more at 300 dpi.
RENDER_DPI = (150, 300)
MAX_PAGES = 20  # a certificate has one or two; more means something else was given

_NOT_READABLE_DE = "Die Datei ist kein lesbares PDF-Dokument."
_NOT_IMAGE_DE = "Die Datei ist kein lesbares Bild (PNG oder JPEG)."


@dataclass(frozen=True)
class ShownDocument:
    """What a file shows: the text of every QR code on it, and its text layer (None for a
    photo or scan, which has none)."""

    codes: tuple[str, ...]
    text: str | None

    @property
    def seals(self) -> tuple[str, ...]:
        """The seal payloads among the codes (links to the verification page included)."""
        found = (payload_of(code) for code in self.codes)
        return tuple(dict.fromkeys(p for p in found if p.startswith(PREFIX)))


def read_shown(path: Path) -> ShownDocument:
    """Read the QR codes and the text of a PDF's pages, or the QR codes of a photo or scan.

    ValidationError (German message) for a file that is neither a readable PDF nor an image.
    """
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ShownDocument(_codes_in_image(path), None)
    return _read_pdf(path)


def _read_pdf(path: Path) -> ShownDocument:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError) as exc:
        raise ValidationError(_NOT_READABLE_DE,
                              f"not a readable PDF: {type(exc).__name__}") from exc
    try:
        pages = [pdf[i] for i in range(min(len(pdf), MAX_PAGES))]
        texts = [page.get_textpage().get_text_range() for page in pages]
        codes: tuple[str, ...] = ()
        for dpi in RENDER_DPI:
            codes = tuple(code for page in pages for code in _codes_on_page(page, dpi))
            if codes:
                break
        return ShownDocument(codes, "\n".join(texts))
    finally:
        pdf.close()


def _codes_on_page(page: Any, dpi: int) -> list[str]:
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    if bitmap.n_channels != 1:
        return _decode(bitmap.to_pil())
    return _decode(_GrayPixels(bitmap))


class _GrayPixels:
    """A rendered 8-bit grey page handed to the decoder as it lies in memory (NumPy's array
    interface), without converting it through Pillow: that import alone costs more than the
    decoding. Keeps the bitmap alive while the decoder reads it."""

    def __init__(self, bitmap: Any) -> None:
        import ctypes

        self.bitmap = bitmap
        self.__array_interface__ = {
            "shape": (bitmap.height, bitmap.width), "typestr": "|u1", "version": 3,
            "data": (ctypes.addressof(bitmap.buffer), True), "strides": (bitmap.stride, 1)}


def _codes_in_image(path: Path) -> tuple[str, ...]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(_NOT_IMAGE_DE,
                              f"not a readable image: {type(exc).__name__}") from exc
    return tuple(_decode(gray))


def _decode(image: Any) -> list[str]:
    import zxingcpp

    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(image, formats=qr_only)
    return [r.text for r in results if r.valid and r.text]


# --- the certified values against the text ---------------------------------------------------

_DATE = r"\d{2}\.\d{2}\.\d{4}"
# What may follow each name on the page (the next row's label): see the services' fields.
_AFTER_FAMILY = ("Geburtsname", "Früherer Name", "Vornamen")
_AFTER_FIRST = ("Gebräuchlicher Vorname", "Doktorgrad", "Ordensname", "Künstlername",
                "Geburtsdatum")
_APPLICANT = re.compile(
    rf"Antragsteller/in (.+?) Geburtsdatum der antragstellenden Person ({_DATE})?")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _value(group: str, label: str, followers: Iterable[str]) -> str | None:
    """The value after `label` in a person's rows, up to the next row's label."""
    start = group.find(label + " ")
    if start < 0:
        return None
    rest = group[start + len(label) + 1:] + " "
    ends = [i for f in followers if (i := rest.find(" " + f + " ")) >= 0]
    return rest[:min(ends)].strip() if ends else rest.strip()


def printed_persons(text: str) -> set[tuple[str, str]]:
    """The persons a page shows, as (name, birth date) built like the seal's."""
    flat = _flat(text)
    persons: set[tuple[str, str]] = set()
    for match in _APPLICANT.finditer(flat):
        persons.add((match[1].strip(), match[2] or ""))
    starts = [m.start() for m in re.finditer(r"(?:^| )Familienname ", flat)]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(flat)
        group = flat[start:end]
        family = _value(group, "Familienname", _AFTER_FAMILY) or ""
        first = _value(group, "Vornamen", _AFTER_FIRST) or ""
        doctorate = _value(group, "Doktorgrad", ("Geburtsdatum",))
        born = re.search(rf"Geburtsdatum ({_DATE})", group)
        persons.add((display_name(family, first, doctorate or None),
                     born[1] if born else ""))
    return persons


def _shown(flat: str, value: str) -> bool:
    """`value` on the page as a whole word sequence (not part of a longer number or name)."""
    return re.search(rf"(?<![\w-]){re.escape(_flat(value))}(?![\w-])", flat) is not None


def disagreements(document: VerifiedDocument, text: str) -> list[str]:
    """Where the page's text disagrees with what the seal certifies, one German line each
    (empty: the page shows exactly the certified values)."""
    facts = document.facts
    flat = _flat(text)
    problems: list[str] = []
    for label, value in (("Dokumentnummer", facts.number),
                         ("Ausstellungsdatum", facts.issued_on.strftime("%d.%m.%Y")),
                         ("Dokumentart", document.title),
                         ("Ausstellende Stelle", f"Dienststelle {facts.office_id}")):
        if not _shown(flat, value):
            problems.append(f"{label} „{value}“ steht nicht auf der Seite.")
    prefix = facts.number.split("-", 1)[0] + "-"
    others = sorted({n for n in re.findall(rf"(?<![\w-]){re.escape(prefix)}[\w-]+", flat)
                     if n != facts.number})
    for number in others:
        problems.append(f"Auf der Seite steht eine andere Dokumentnummer: „{number}“.")
    certified = set(facts.persons)
    printed = printed_persons(text)
    for name, born in sorted(certified - printed):
        problems.append(f"Bescheinigt, aber so nicht auf der Seite: {_person(name, born)}.")
    for name, born in sorted(printed - certified):
        problems.append(f"Auf der Seite, aber nicht bescheinigt: {_person(name, born)}.")
    return problems


def _person(name: str, born: str) -> str:
    return f"„{name}“, geboren {born}" if born else f"„{name}“"


# --- the verdict -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a file: what the seal certifies (None if no seal held) and
    every disagreement found; valid only with a seal and no disagreement."""

    document: VerifiedDocument | None
    problems: tuple[str, ...]
    text_compared: bool

    @property
    def valid(self) -> bool:
        return self.document is not None and not self.problems


_NO_SEAL_DE = ("Das Dokument trägt kein elektronisches Siegel; seine Angaben können nicht "
               "bestätigt werden.")
_NO_CODE_DE = ("Auf der Seite ist kein lesbarer Prüfcode (QR-Code), obwohl die Datei ein Siegel "
               "nennt: Seite und Siegel können nicht verglichen werden.")


def check_file(path: Path, keys: PublicKeys, key_list: KeyList | None = None) -> Verdict:
    """Check a document file as its reader sees it: the seal in the QR code on the page, that
    seal against `keys` and the centre's `key_list` (validity, revocation, office), the
    page's text against the certified values, and, in a PDF, the seal and number in the
    metadata against the page. ValidationError for an unreadable file."""
    from clerk_app.office_keys import key_problem
    from clerk_app.seal_metadata import read_seal_metadata

    shown = read_shown(path)
    metadata = read_seal_metadata(path) if shown.text is not None else {}
    if not shown.seals:
        return Verdict(None, (_NO_CODE_DE if metadata.get("Seal") else _NO_SEAL_DE,), False)
    if len(shown.seals) > 1:
        return Verdict(None, ("Die Seite trägt mehrere verschiedene Prüfcodes: das Dokument "
                              "darf nicht als echt gelten.",), False)
    (payload,) = shown.seals
    try:
        document = verify(payload, keys)
    except SealError as exc:
        return Verdict(None, (exc.message_de,), False)
    problems: list[str] = []
    revoked = key_problem(document, key_list)
    if revoked is not None:
        problems.append(revoked)
    if metadata.get("Seal", payload) != payload:
        problems.append("Die Metadaten der Datei enthalten ein anderes Siegel als der QR-Code "
                        "auf der Seite.")
    number = metadata.get("DocumentNumber", document.facts.number)
    if number != document.facts.number:
        problems.append(f"Das Siegel gehört zu einem anderen Dokument ({document.facts.number}) "
                        f"als diese Datei ({number}).")
    if shown.text is not None:
        problems += disagreements(document, shown.text)
    return Verdict(document, tuple(problems), shown.text is not None)
