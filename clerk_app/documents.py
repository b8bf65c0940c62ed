"""Issued documents from content to archived PDF: everything except the painting.

A counter service records what a document says (`documents.content`, see `services.base`);
this module turns such a record into what the renderer needs (`RenderModel`: letterhead from
the configuration, number, issue date, clerk, fee and receipt, the seal, the Zweitschrift
mark), into HTML through the templates in `resources/templates`, and into PDF/A metadata. The
painting itself needs Qt and lives in `ui.rendering`; keeping the rest here lets the command
line, the tests and a later batch job reuse it without a GUI.

The archive keeps the PDF of every issued document in the encrypted register (table
`document_files`) and queues it for the central file (e-Akte) in the same transaction (outbox
command `archive_document`). Rules:

* The original is rendered once and never changed: one `original` row per document; the
  schema refuses UPDATE and DELETE on archived files and on issued documents.
* A reprint is a new file of kind `zweitschrift`, marked "ZWEITSCHRIFT – Ausdruck vom
  TT.MM.JJJJ" on every page, audited; its content is the original's.
* Rendering happens after the service's transaction; `documents_without_pdf` finds what a
  crash in between left unrendered, so the app can render it later (the content is stored,
  the issue date is the original's).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from clerk_app import __version__, audit, clerks
from clerk_app.cashbook import METHODS
from clerk_app.config import Config
from clerk_app.errors import NotFoundError, ValidationError
from clerk_app.fees import fee_schedule, format_cents
from clerk_app.ids import uuid7
from clerk_app.models import display_name
from clerk_app.seal import (
    SPECIMEN_NOTICE_DE,
    SealedFacts,
    SealError,
    SealKey,
    qr_modules,
    seal,
    seal_link,
    specimen_office_id,
)
from clerk_app.seal_metadata import (
    XMP_SEAL_NS,
    XMP_SEAL_PREFIX,
    read_seal_metadata,
    seal_from_pdf,
)
from clerk_app.store.db import Store
from clerk_app.store.outbox import append_outbox
from clerk_app.store.rows import fetch_dicts

__all__ = [
    "ARCHIVE_COMMAND",
    "ORIGINAL",
    "SEALED_TYPES",
    "SPECIMEN",
    "TEMPLATES",
    "ZWEITSCHRIFT",
    "ArchivedFile",
    "FeeLine",
    "Letterhead",
    "RenderModel",
    "StoredDocument",
    "archive_pdf",
    "archived_files",
    "archived_pdf",
    "build_model",
    "document_html",
    "documents_without_pdf",
    "format_date",
    "load_document",
    "read_seal_metadata",
    "record_reprint",
    "seal_from_pdf",
    "sealed_facts",
    "xmp_metadata",
]

ORIGINAL = "original"
ZWEITSCHRIFT = "zweitschrift"
SPECIMEN = "MUSTER"
ARCHIVE_COMMAND = "archive_document"
REPRINT = "reprint"  # audit action of a Zweitschrift

# Certificates carry the office seal (QR code); receipts and cash documents do not: they
# certify nothing about a person, and the cash journal is their proof.
SEALED_TYPES = frozenset({
    "meldebestaetigung", "meldebescheinigung_einfach", "meldebescheinigung_erweitert",
    "lebensbescheinigung", "personenstandsurkunde_antrag",
})
TEMPLATES = {
    "meldebestaetigung": "meldebestaetigung.html",
    "meldebescheinigung_einfach": "meldebescheinigung.html",
    "meldebescheinigung_erweitert": "meldebescheinigung.html",
    "lebensbescheinigung": "lebensbescheinigung.html",
    "personenstandsurkunde_antrag": "personenstandsurkunde_antrag.html",
    "quittung": "quittung.html",
    "tagesabschluss": "tagesabschluss.html",
}
# Documents about a payment itself: their fields say the amount; a "Gebühr:" line under them
# would read as a fee charged for the receipt or the reversal.
NO_FEE_LINE = frozenset({"quittung", "storno", "tagesabschluss"})
GENERIC_TEMPLATE = "generic.html"  # any other type (Stornobeleg, types added later)
TEMPLATE_PACKAGE = "resources"
TEMPLATE_FOLDER = "templates"
# Fonts tried in order after the configured one: all cover Latin Extended and Vietnamese
# (Nguyễn Thị Minh Khai), so no name is printed with a missing glyph.
FALLBACK_FONTS = ("DejaVu Sans", "Arial", "Noto Sans", "Liberation Sans")
EVERYDAY_MARK = "*"  # see services.registration: 'Anna *Maria*', underlined when printed

QR_MODULE_MM = 0.5
QR_MIN_WIDTH_PX = 110  # about 29 mm


def format_date(day: date | None) -> str:
    """TT.MM.JJJJ, as every German document prints a date; "" for none."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}" if day else ""


# --- the issued document ---------------------------------------------------------------------

@dataclass(frozen=True)
class StoredDocument:
    """An issued document as the register holds it (its content never changes)."""

    number: str
    doc_type: str
    title: str
    person_id: str | None
    fields: tuple[tuple[str, str], ...]
    receipt_number: str | None
    issued_at: datetime
    clerk: str
    workstation: str
    command_id: str

    @property
    def issued_on(self) -> date:
        """The day of issue at the workstation (the service's business day)."""
        return self.issued_at.astimezone().date()

    def value(self, label: str) -> str | None:
        return next((v for k, v in self.fields if k == label), None)


def load_document(store: Store, number: str) -> StoredDocument:
    """The issued document `number`; NotFoundError if the register has none."""
    rows = fetch_dicts(store.conn, "SELECT * FROM documents WHERE number = ?", (number,))
    if not rows:
        raise NotFoundError(f"Das Dokument {number} ist im Melderegister nicht vorhanden.",
                            "document not found")
    return _stored(rows[0])


def _stored(row: Mapping[str, Any]) -> StoredDocument:
    content = json.loads(row["content"])
    issued = datetime.fromisoformat(row["issued_at"])
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=UTC)
    return StoredDocument(
        number=row["number"], doc_type=row["type"], title=content["title"],
        person_id=row["person_id"],
        fields=tuple((str(k), str(v)) for k, v in content["fields"]),
        receipt_number=row["receipt_number"], issued_at=issued, clerk=row["clerk"],
        workstation=row["workstation"], command_id=row["command_id"])


# --- what goes around the content ------------------------------------------------------------

@dataclass(frozen=True)
class Letterhead:
    """The city's letterhead, from the configuration (IT changes it, not a developer)."""

    city: str
    office: str
    address: str
    hours: str
    contact: str = ""

    @classmethod
    def from_config(cls, cfg: Config) -> Letterhead:
        return cls(cfg.city_name, cfg.office_name, cfg.office_address, cfg.office_hours,
                   cfg.office_contact)

    @property
    def place(self) -> str:
        """The place before the date of a signature ('Lörrach, 25.11.2026'): the town of the
        office address without its postal code, else the city's name."""
        town = self.address.rsplit(",", 1)[-1].strip()
        town = re.sub(r"^\d{4,5}\s+", "", town)
        return town or self.city

    @property
    def one_line(self) -> str:
        return " · ".join(p for p in (self.city, self.office, self.address) if p)


@dataclass(frozen=True)
class FeeLine:
    """The fee as printed on a certificate: amount, how it was paid, the receipt."""

    receipt_number: str
    amount: str
    method: str
    exemption: str | None = None

    @property
    def text(self) -> str:
        if self.exemption:
            return f"gebührenfrei ({self.exemption}), Quittung {self.receipt_number}"
        return f"{self.amount} ({self.method}), Quittung {self.receipt_number}"


def fee_line(store: Store, receipt_number: str | None) -> FeeLine | None:
    """The payment booked under `receipt_number` (the original entry, not a reversal)."""
    if not receipt_number:
        return None
    row = store.conn.execute(
        "SELECT amount_cents, method, exemption FROM cash_journal WHERE receipt_number = ? "
        "AND reverses IS NULL", (receipt_number,)).fetchone()
    if row is None:
        return None
    amount, method, exemption = int(row[0]), str(row[1]), row[2]
    reason = None
    if exemption:
        known = fee_schedule().exemptions.get(str(exemption))
        reason = known.reason if known else str(exemption)
    return FeeLine(receipt_number, format_cents(amount), METHODS.get(method, method), reason)


# --- the seal's content ----------------------------------------------------------------------

def _plain(name: str) -> str:
    return name.replace(EVERYDAY_MARK, "")


def sealed_facts(doc: StoredDocument, office_id: str) -> SealedFacts:
    """What the seal of `doc` states: number, type, issue date, and each person's name and
    birth date exactly as the document prints them (the everyday-name mark dropped)."""
    persons: list[tuple[str, str]] = []
    if doc.doc_type == "personenstandsurkunde_antrag":
        applicant = doc.value("Antragsteller/in") or ""
        born = doc.value("Geburtsdatum der antragstellenden Person") or ""
        persons.append((applicant, born))
    else:
        # One group per person: a new group starts at each "Familienname" (Meldebestätigung
        # lists every person registering, and for an Abmeldung each dwelling given up).
        current: dict[str, str] = {}
        groups: list[dict[str, str]] = []
        for label, value in doc.fields:
            if label == "Familienname":
                current = {}
                groups.append(current)
            current.setdefault(label, value)
        for g in groups:
            name = display_name(g["Familienname"], _plain(g.get("Vornamen", "")),
                                g.get("Doktorgrad") or None)
            entry = (name, g.get("Geburtsdatum", ""))
            if entry not in persons:
                persons.append(entry)
    return SealedFacts(number=doc.number, doc_type=doc.doc_type, issued_on=doc.issued_on,
                       persons=tuple(persons), office_id=office_id)


# --- the render model ------------------------------------------------------------------------

@dataclass(frozen=True)
class RenderModel:
    """Everything a renderer needs to paint one document; no Qt, no register access."""

    document: StoredDocument
    letterhead: Letterhead
    template: str
    font_families: tuple[str, ...]
    issued_on: date
    office_id: str
    fee: FeeLine | None = None
    seal: str | None = None
    seal_key_id: str | None = None
    # What the QR code holds: the link to the verification page with `seal` after '#'
    # (`seal.seal_link`), or the bare seal where no page is configured.
    seal_url: str | None = None
    # The QR code of `seal_url` (rows of modules, quiet zone included), encoded once here: the
    # print dialogs paint one model to the preview, the printer and the archive PDF.
    seal_modules: tuple[bytes, ...] = ()
    reprint_on: date | None = None
    reprint_clerk: str | None = None
    view: Mapping[str, Any] = field(default_factory=dict)
    clerk_name: str = ""  # the issuing clerk's display name (the login is in the document)
    # From the demo register: "MUSTER" across every page, in each footer and in the seal, so
    # a demo printout never passes for a real certificate. Never set for production.
    specimen: bool = False

    @property
    def number(self) -> str:
        return self.document.number

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def qr_width(self) -> int:
        """Printed width of the QR code in CSS pixels (1/96 inch): half a millimetre a module,
        so a phone reads it at arm's length however many persons the seal names."""
        modules = len(self.seal_modules)
        return max(QR_MIN_WIDTH_PX, round(modules * QR_MODULE_MM / 25.4 * 96))

    @property
    def is_reprint(self) -> bool:
        return self.reprint_on is not None

    @property
    def reprint_notice(self) -> str:
        """'ZWEITSCHRIFT – Ausdruck vom 26.11.2026' (empty for an original)."""
        return f"ZWEITSCHRIFT – Ausdruck vom {format_date(self.reprint_on)}" \
            if self.reprint_on else ""

    @property
    def watermark(self) -> str:
        if self.specimen:
            return SPECIMEN
        return "ZWEITSCHRIFT" if self.is_reprint else ""

    @property
    def specimen_notice(self) -> str:
        """'MUSTER – Dokument aus dem Demo-Register, ohne Rechtswirkung' (empty for a real
        document): in every page's footer and at the top of the first."""
        return f"{SPECIMEN} – {SPECIMEN_NOTICE_DE}" if self.specimen else ""

    @property
    def pdf_title(self) -> str:
        """The PDF's title: type and number, no personal data (it shows in file lists)."""
        suffix = " (Zweitschrift)" if self.is_reprint else ""
        return f"{self.title} {self.number}{suffix}"

    @property
    def author(self) -> str:
        return ", ".join(p for p in (self.letterhead.city, self.letterhead.office) if p)

    @property
    def creator(self) -> str:
        return f"clerk-app {__version__}"

    @property
    def footer_left(self) -> str:
        return self.letterhead.one_line

    @staticmethod
    def page_label(page: int, pages: int) -> str:
        """'Seite 1 von 2', under the document number in every page's footer."""
        return f"Seite {page} von {pages}"


def build_model(store: Store, cfg: Config, number: str, *, seal_key: SealKey | None,
                reprint_on: date | None = None) -> RenderModel:
    """The render model of issued document `number`, sealed with `seal_key` where the type
    needs a seal; with `reprint_on` a Zweitschrift printed that day by the store's clerk.

    A certificate is never rendered without its seal (SealError), so no unsealed copy of a
    certificate can reach a citizen or the archive.
    """
    doc = load_document(store, number)
    payload = key_id = link = None
    modules: tuple[bytes, ...] = ()
    office_id = specimen_office_id(cfg.office_id) if cfg.is_demo else cfg.office_id
    if doc.doc_type in SEALED_TYPES:
        if seal_key is None:
            raise SealError(f"Das Dokument {number} kann ohne Dienstsiegel nicht erstellt "
                            "werden.", "a certificate needs the office seal key")
        payload = seal(sealed_facts(doc, office_id), seal_key)
        key_id = seal_key.key_id
        link = seal_link(payload, cfg.verification_url)
        modules = qr_modules(link)
    families = tuple(dict.fromkeys((cfg.document_font, *FALLBACK_FONTS)))
    return RenderModel(
        document=doc, letterhead=Letterhead.from_config(cfg),
        template=TEMPLATES.get(doc.doc_type, GENERIC_TEMPLATE), font_families=families,
        issued_on=doc.issued_on, office_id=office_id, specimen=cfg.is_demo,
        fee=fee_line(store, doc.receipt_number) if doc.doc_type not in NO_FEE_LINE else None,
        seal=payload, seal_key_id=key_id, seal_url=link, seal_modules=modules,
        reprint_on=reprint_on,
        reprint_clerk=store.actor.name if reprint_on else None, view=document_view(doc),
        clerk_name=clerk_display_name(store, doc.clerk))


def clerk_display_name(store: Store, login: str) -> str:
    """The name a document prints for the clerk who issued it: the logged-in clerk's own, or
    the one the central service confirmed at that clerk's last login here."""
    if login == store.actor.clerk:
        return store.actor.name
    row = store.conn.execute("SELECT display_name FROM clerk_logins WHERE login = ?",
                             (login,)).fetchone()
    return str(row[0]) if row else login


def document_view(doc: StoredDocument) -> dict[str, Any]:
    """Per-template structure read from the fields (the services store flat label/value
    pairs; some documents print them as groups or columns)."""
    if doc.doc_type == "meldebestaetigung":
        return {"persons": _person_groups(doc.fields),
                "everyday_marked": any(EVERYDAY_MARK in value for _, value in doc.fields)}
    if doc.doc_type == "tagesabschluss":
        return _closing_view(doc.fields)
    if doc.doc_type == "lebensbescheinigung":
        return _rows_and_text(doc.fields, "Bestätigung", "statement")
    if doc.doc_type == "personenstandsurkunde_antrag":
        return _rows_and_text(doc.fields, "Hinweis", "note")
    return {}


def _rows_and_text(fields: Sequence[tuple[str, str]], label: str, key: str) -> dict[str, Any]:
    """The fields as rows, except `label`, which the template prints as a paragraph."""
    return {"rows": [f for f in fields if f[0] != label],
            key: next((v for k, v in fields if k == label), "")}


def _person_groups(fields: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    groups: list[list[tuple[str, str]]] = []
    for label, value in fields:
        if label == "Familienname" or not groups:
            groups.append([])
        if value:  # an empty Doktorgrad is left out, not printed as a blank line
            groups[-1].append((label, value))
    return groups


_CLOSING_LINE = re.compile(r"(\d+) × – (.+?)(?: \(Stornierungen: (\d+)\))?")
_CLOSING_HEAD = ("Kasse", "Geschäftstag", "Buchungen", "Stornierungen")
# The cash count at the end; since schema 8 with the day's starting float (older closings
# were booked without one).
_CLOSING_TAILS = (("Summe", "Wechselgeld", "Bargeld Soll", "Bargeld gezählt", "Differenz"),
                  ("Summe", "Bargeld Soll", "Bargeld gezählt", "Differenz"))


def _closing_view(fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The daily closing as tables: per payment method and per service (count, reversals,
    amount) and the cash count. Falls back to plain rows if the fields change shape."""
    labels = [label for label, _ in fields]
    tail = next((len(t) for t in _CLOSING_TAILS if tuple(labels[-len(t):]) == t), 0)
    if tuple(labels[:4]) != _CLOSING_HEAD or not tail:
        return {}
    methods: list[dict[str, str]] = []
    services: list[dict[str, str]] = []
    for label, value in fields[4:-tail]:
        match = _CLOSING_LINE.fullmatch(value)
        if match is None:
            return {}
        row = {"label": label, "count": match[1], "amount": match[2],
               "reversals": match[3] or "0"}
        (methods if label in METHODS.values() else services).append(row)
    return {"head": list(fields[:4]), "methods": methods, "services": services,
            "totals": list(fields[-tail:])}


# --- HTML ------------------------------------------------------------------------------------

def _everyday(value: str) -> Markup:
    """Escape, then underline the everyday name marked as '*Maria*'."""
    text = str(Markup.escape(value))
    return Markup(re.sub(r"\*([^*\s]+)\*", r"<u>\1</u>", text))


def _lines(value: str) -> Markup:
    """'Luisenstraße 16, 79539 Lörrach' as two lines (letterhead address)."""
    return Markup("<br/>").join(Markup.escape(p.strip()) for p in value.split(",") if p.strip())


@cache
def _environment() -> Any:
    """Jinja2 environment over `resources/templates`, built once (templates compile once)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, TEMPLATE_FOLDER),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters["date"] = format_date
    env.filters["everyday"] = _everyday
    env.filters["lines"] = _lines
    return env


def document_html(model: RenderModel) -> str:
    """The document as HTML in the subset QTextDocument understands (tables for layout)."""
    template = _environment().get_template(model.template)
    return str(template.render(m=model, doc=model.document, lh=model.letterhead,
                               view=model.view))


# --- PDF/A metadata --------------------------------------------------------------------------

def _xmp_date(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def xmp_metadata(model: RenderModel, *, producer: str, created: datetime,
                 document_uuid: str) -> bytes:
    """The XMP packet of the PDF: the PDF/A-1b identification, the same title, author,
    creator, producer and dates as the document information dictionary (PDF/A requires
    them to agree), and the seal in a property of our own, described by a PDF/A extension
    schema so that validators accept it. `created` must be the moment the PDF writer stamps
    into the information dictionary (see `ui.rendering`)."""
    when = _xmp_date(created)
    specimen_prop = (f"<{XMP_SEAL_PREFIX}:Specimen>{SPECIMEN}</{XMP_SEAL_PREFIX}:Specimen>\n   "
                     if model.specimen else "")
    seal_props = ""
    if model.seal:
        seal_props = (f"<{XMP_SEAL_PREFIX}:Seal>{escape(model.seal)}</{XMP_SEAL_PREFIX}:Seal>\n"
                      f"   <{XMP_SEAL_PREFIX}:KeyId>{escape(model.seal_key_id or '')}"
                      f"</{XMP_SEAL_PREFIX}:KeyId>\n")
    properties = "".join(
        f"""      <rdf:li rdf:parseType="Resource">
       <pdfaProperty:name>{name}</pdfaProperty:name>
       <pdfaProperty:valueType>Text</pdfaProperty:valueType>
       <pdfaProperty:category>external</pdfaProperty:category>
       <pdfaProperty:description>{escape(text)}</pdfaProperty:description>
      </rdf:li>
""" for name, text in (
            ("DocumentNumber", "Number of the issued document"),
            ("DocumentType", "Type of the issued document"),
            ("Copy", "original or zweitschrift (reprint)"),
            ("Specimen", "Set for a specimen from the demo register (no legal effect)"),
            ("Seal", "Signed seal payload as in the QR code (clerk-app verify-document)"),
            ("KeyId", "Key id of the office seal key")))
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(model.pdf_title)}</rdf:li>
   </rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(model.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:format>application/pdf</dc:format>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{escape(producer)}</pdf:Producer>
   <pdf:Trapped>False</pdf:Trapped>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{escape(model.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
   <xmpMM:DocumentID>uuid:{document_uuid}</xmpMM:DocumentID>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>1</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <pdfaExtension:schemas>
    <rdf:Bag>
     <rdf:li rdf:parseType="Resource">
      <pdfaSchema:schema>clerk-app document seal</pdfaSchema:schema>
      <pdfaSchema:namespaceURI>{XMP_SEAL_NS}</pdfaSchema:namespaceURI>
      <pdfaSchema:prefix>{XMP_SEAL_PREFIX}</pdfaSchema:prefix>
      <pdfaSchema:property>
       <rdf:Seq>
{properties}       </rdf:Seq>
      </pdfaSchema:property>
     </rdf:li>
    </rdf:Bag>
   </pdfaExtension:schemas>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:{XMP_SEAL_PREFIX}="{XMP_SEAL_NS}">
   <{XMP_SEAL_PREFIX}:DocumentNumber>{escape(model.number)}</{XMP_SEAL_PREFIX}:DocumentNumber>
   <{XMP_SEAL_PREFIX}:DocumentType>{escape(model.document.doc_type)}</{XMP_SEAL_PREFIX}:DocumentType>
   <{XMP_SEAL_PREFIX}:Copy>{ZWEITSCHRIFT if model.is_reprint else ORIGINAL}</{XMP_SEAL_PREFIX}:Copy>
   {specimen_prop}{seal_props}</rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return text.encode("utf-8")


# --- the archive -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchivedFile:
    """One archived PDF (without its bytes: see `archived_pdf`)."""

    id: int
    document_number: str
    kind: str
    created_at: str
    clerk: str
    workstation: str
    command_id: str
    sha256: str
    size: int
    seal: str | None


def archive_pdf(store: Store, document_number: str, pdf_bytes: bytes, reprint: bool = False,
                *, now: datetime | None = None) -> ArchivedFile:
    """Store the PDF of an issued document and queue it for the e-Akte, in one transaction.

    The original (`reprint=False`) is archived once: a second original is refused, never
    swapped in. A reprint is archived as a new `zweitschrift` file and audited
    (`record_reprint`) in the same transaction.
    """
    if not pdf_bytes.startswith(b"%PDF-"):
        raise ValidationError("Die Datei ist kein PDF-Dokument.", "archive refused non-PDF")
    kind = ZWEITSCHRIFT if reprint else ORIGINAL
    if reprint:
        store.actor.require(clerks.DOCUMENT_REPRINT)
    moment = now or datetime.now(UTC)
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    payload_seal = seal_from_pdf(pdf_bytes)
    command_id = uuid7()
    with store.transaction():
        doc = load_document(store, document_number)
        if not reprint and store.conn.execute(
                "SELECT 1 FROM document_files WHERE document_number = ? AND kind = ?",
                (document_number, ORIGINAL)).fetchone():
            raise ValidationError(
                f"Das Original von {document_number} ist bereits archiviert und wird nicht "
                "ersetzt. Für einen weiteren Ausdruck bitte eine Zweitschrift erstellen.",
                "original already archived")
        created = moment.isoformat(timespec="seconds")
        cursor = store.conn.execute(
            "INSERT INTO document_files (document_number, kind, created_at, clerk, "
            "workstation, command_id, sha256, size, seal, pdf) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (document_number, kind, created, store.actor.clerk, store.actor.workstation,
             command_id, digest, len(pdf_bytes), payload_seal, pdf_bytes))
        append_outbox(store, command_id, ARCHIVE_COMMAND, {
            "document_number": document_number, "document_type": doc.doc_type, "kind": kind,
            "issued_command_id": doc.command_id, "created_at": created, "sha256": digest,
            "size": len(pdf_bytes), "seal": payload_seal,
            "pdf_base64": base64.b64encode(pdf_bytes).decode("ascii"),
        }, moment)
        if reprint:
            record_reprint(store, document_number)
        file_id = int(cursor.lastrowid or 0)
    return ArchivedFile(file_id, document_number, kind, created, store.actor.clerk,
                        store.actor.workstation, command_id, digest, len(pdf_bytes),
                        payload_seal)


def record_reprint(store: Store, number: str) -> None:
    """Audit a Zweitschrift: register data left the office on paper once more.

    Called by `archive_pdf(reprint=True)` inside its transaction; on its own it writes one
    entry. The original document and its files stay as they are.
    """
    doc = load_document(store, number)
    audit.record(store, REPRINT, doc.person_id, f"Zweitschrift: {doc.title}",
                 f"Dokument {number}")


def documents_without_pdf(store: Store) -> list[str]:
    """Numbers of issued documents without an archived original, oldest first: what a crash
    between a service and its rendering left, for the app to render now."""
    rows = store.conn.execute(
        "SELECT d.number FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_files f "
        "WHERE f.document_number = d.number AND f.kind = 'original') "
        "ORDER BY d.issued_at, d.rowid").fetchall()
    return [str(r[0]) for r in rows]


def archived_files(store: Store, number: str) -> list[ArchivedFile]:
    """The archived files of document `number`, original first."""
    rows = fetch_dicts(store.conn, "SELECT id, document_number, kind, created_at, clerk, "
                                   "workstation, command_id, sha256, size, seal "
                                   "FROM document_files WHERE document_number = ? ORDER BY id",
                       (number,))
    return [ArchivedFile(**row) for row in rows]


def original_file_id(store: Store, number: str) -> int | None:
    """The id of the archived original PDF of document `number` (None: not rendered yet)."""
    row = store.conn.execute("SELECT id FROM document_files WHERE document_number = ? "
                             "AND kind = ?", (number, ORIGINAL)).fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True)
class PersonDocument:
    """One line of a person's document list (for the Zweitschrift)."""

    number: str
    doc_type: str
    title: str
    issued_on: date


def person_documents(store: Store, person_id: str) -> list[PersonDocument]:
    """The documents issued for a person, newest first (for the Zweitschrift list)."""
    rows = store.conn.execute(
        "SELECT number FROM documents WHERE person_id = ? ORDER BY issued_at DESC, rowid DESC",
        (person_id,)).fetchall()
    found = []
    for (number,) in rows:
        doc = load_document(store, str(number))
        found.append(PersonDocument(doc.number, doc.doc_type, doc.title, doc.issued_on))
    return found


def archived_pdf(store: Store, file_id: int) -> bytes:
    """The bytes of one archived file, checked against its stored SHA-256."""
    row = store.conn.execute("SELECT pdf, sha256 FROM document_files WHERE id = ?",
                             (file_id,)).fetchone()
    if row is None:
        raise NotFoundError("Die archivierte Datei ist nicht vorhanden.",
                            "archived file not found")
    data = bytes(row[0])
    if hashlib.sha256(data).hexdigest() != row[1]:
        raise ValidationError("Die archivierte Datei ist beschädigt (Prüfsumme stimmt nicht).",
                              "archived file checksum mismatch")
    return data
