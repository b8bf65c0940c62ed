"""The seal as a document's PDF carries it in its XMP metadata, read back.

Apart from `documents` so that `verify-document` reads it without importing the document
pipeline (templates, fees, cash book). Our own PDF/A-1 files hold exactly one XMP packet,
uncompressed (PDF/A-1 forbids a filter on the metadata stream): it is read straight from the
bytes. Any other file (an incremental update, a compressed or second metadata stream, an
edited copy) goes through pypdf's reading of the catalog, so the metadata compared is the one
a PDF reader shows.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from clerk_app.errors import ValidationError

__all__ = ["XMP_SEAL_NS", "XMP_SEAL_PREFIX", "read_seal_metadata", "seal_from_pdf"]

XMP_SEAL_NS = "https://clerk-app.invalid/ns/document-seal/1.0/"
XMP_SEAL_PREFIX = "clerkseal"
# The one metadata stream of our files: no filter between its dictionary and its bytes.
_PLAIN_STREAM = re.compile(rb"/Type /Metadata /Subtype /XML\s*/Length \d+\s*>>\s*stream\r?\n"
                           rb"(.*?)\r?\nendstream", re.DOTALL)
_REFERENCE = re.compile(rb"/Metadata \d+ \d+ R")
_NOT_READABLE_DE = "Die Datei ist kein lesbares PDF-Dokument."


def read_seal_metadata(pdf: bytes | Path) -> dict[str, str]:
    """Our own XMP properties of a PDF (Seal, KeyId, DocumentNumber, DocumentType, Copy);
    empty if it has none. ValidationError for a file that is not a readable PDF."""
    data = pdf if isinstance(pdf, bytes) else _read(pdf)
    if data.startswith(b"%PDF-") and data.count(b"/Type /Metadata") == 1 and \
            len(_REFERENCE.findall(data)) == 1:
        plain = _PLAIN_STREAM.search(data)
        if plain is not None:
            return _properties(plain[1])
    return _properties(_catalog_metadata(data))


def seal_from_pdf(pdf: bytes | Path) -> str | None:
    """The seal payload stored in a PDF's XMP metadata, or None."""
    return read_seal_metadata(pdf).get("Seal")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(_NOT_READABLE_DE,
                              f"cannot read PDF: {type(exc).__name__}") from exc


def _catalog_metadata(data: bytes) -> bytes:
    """The metadata stream the document catalog names, decoded (pypdf)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    from pypdf.generic import DictionaryObject, StreamObject

    try:
        reader = PdfReader(io.BytesIO(data))
        root = reader.trailer["/Root"].get_object()
        metadata = root.get("/Metadata") if isinstance(root, DictionaryObject) else None
        stream = metadata.get_object() if metadata is not None else None
        return stream.get_data() if isinstance(stream, StreamObject) else b""
    except (PdfReadError, OSError, KeyError, ValueError) as exc:
        raise ValidationError(_NOT_READABLE_DE,
                              f"not a readable PDF: {type(exc).__name__}") from exc


def _properties(packet: bytes) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    if not packet:
        return {}
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return {}
    found: dict[str, str] = {}
    for element in root.iter():
        if element.tag.startswith("{" + XMP_SEAL_NS + "}") and element.text:
            found[element.tag.split("}", 1)[1]] = element.text.strip()
    return found
