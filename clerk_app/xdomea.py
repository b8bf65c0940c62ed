"""Finished online applications handed to the e-Akte as xdomea "Abgabe" (message 0401), and
the document management system's answer (0402) read back.

One export is one ZIP in the configured folder, named for its ProzessID: the message XML and
the primary files. Each finished case (an inbox item done or rejected) is one `Vorgang` filed
under the Kennzeichen of its kind in the filing plan (`resources/filing_plan.toml`), with its
`Dokument`s: the application as it arrived (XML), and the documents the counter service issued
for it (their archived PDF/A originals, the receipt among them). The ZIP is written under a
temporary name and renamed, so the DMS never picks up half a file; the cases are recorded as
exported in the same transaction that names the file. The 0402 answers per object (IDSGO,
Erfolgreich, Fehlermeldung): a case is marked filed, or keeps its error for the clerk (and is
exported again by the next run).

The XML follows xdomea 3.1.0 (namespace `urn:xoev-de:xdomea:schema:3.1.0`). For the messages
used here (0401, 0402) 3.1.0 changed nothing but the namespace against 3.0.0: the element
names, their order and the code lists' versions are the same. The tests validate against the
official XSD where it is given (`XDOMEA_XSD`), else check the structure it requires.
"""

from __future__ import annotations

import os
import tomllib
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from clerk_app import audit
from clerk_app.errors import ValidationError
from clerk_app.online_requests import TITLES
from clerk_app.store.db import Store

NS = "urn:xoev-de:xdomea:schema:3.1.0"
ABGABE = ("0401", "Abgabe.Abgabe")
IMPORT_CONFIRMATION = "Abgabe.ImportBestaetigen.0402"
FORMAT_PDFA, FORMAT_XML = "044", "030"  # codeliste dateiformat
PLAN_PACKAGE, PLAN_FILE = "resources", "filing_plan.toml"
PURPOSE = "e-Akte: Abgabe abgeschlossener Online-Anträge"
ET.register_namespace("xdomea", NS)


@dataclass(frozen=True)
class PlanEntry:
    kennzeichen: str
    inhalt: str


@dataclass(frozen=True)
class Parties:
    """Who hands over (the office and its unit) and who receives (the DMS)."""

    sender: str
    sender_unit: str
    receiver: str


@dataclass(frozen=True)
class Reply:
    filed: int
    errors: dict[str, str]  # submission id -> the DMS's message
    unknown: int            # objects this register never exported


def filing_plan(text: str | None = None) -> dict[str, PlanEntry]:
    """The filing plan (the packaged one unless `text` is given)."""
    raw = text if text is not None else resources.files(PLAN_PACKAGE).joinpath(
        PLAN_FILE).read_text("utf-8")
    return {kind: PlanEntry(str(entry["kennzeichen"]), str(entry["inhalt"]))
            for kind, entry in tomllib.loads(raw).get("kinds", {}).items()}


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _contact(parent: ET.Element, tag: str, institution: str, unit: str | None = None) -> None:
    contact = _sub(parent, tag)
    _sub(_sub(contact, "Institution"), "Name", institution)
    if unit:
        _sub(_sub(contact, "Organisationseinheit"), "Name", unit)


@dataclass(frozen=True)
class _File:
    name: str
    content: bytes
    format_code: str
    title: str
    written_at: str


def _cases(store: Store) -> list[dict[str, Any]]:
    return store.query(
        "SELECT i.submission_id, i.kind, i.received_at, i.state, i.claimed_by, i.reason, "
        "i.data, i.command_id, e.vorgang_id FROM inbox_items i LEFT JOIN eakte_exports e "
        "ON e.submission_id = i.submission_id WHERE i.state IN ('done', 'rejected') AND "
        "(e.status IS NULL OR e.status = 'error') ORDER BY i.received_at, i.submission_id")


def _files(store: Store, case: dict[str, Any]) -> list[_File]:
    """The case's primary files: the application, then the issued documents' originals."""
    request = ET.Element("Antrag", {"art": case["kind"], "eingang": case["received_at"]})
    request.text = case["data"]
    files = [_File(f"antrag-{case['submission_id']}.xml",
                   ET.tostring(request, encoding="utf-8", xml_declaration=True), FORMAT_XML,
                   TITLES.get(case["kind"], case["kind"]), case["received_at"])]
    if case["command_id"]:
        for row in store.conn.execute(
                "SELECT d.number, d.type, f.created_at, f.pdf FROM documents d JOIN "
                "document_files f ON f.document_number = d.number AND f.kind = 'original' "
                "WHERE d.command_id = ? ORDER BY d.issued_at, d.number", (case["command_id"],)):
            files.append(_File(f"{row[0]}.pdf", bytes(row[3]), FORMAT_PDFA,
                               f"{row[1]} {row[0]}", row[2]))
    return files


def _vorgang(parent: ET.Element, case: dict[str, Any], vorgang_id: str,
             entry: PlanEntry, files: list[tuple[str, _File]]) -> None:
    title = TITLES.get(case["kind"], case["kind"])
    vorgang = _sub(_sub(parent, "Schriftgutobjekt"), "Vorgang")
    _sub(_sub(vorgang, "Identifikation"), "ID", vorgang_id)
    meta = _sub(vorgang, "AllgemeineMetadaten")
    _sub(meta, "Betreff", f"{title} (Online-Antrag {case['submission_id']})")
    _sub(meta, "Kennzeichen", entry.kennzeichen)
    if case["state"] == "rejected":
        _sub(meta, "Bemerkung", f"Abgelehnt: {case['reason'] or ''}")
    plan = _sub(meta, "Aktenplaneinheit")
    _sub(plan, "Kennzeichen", entry.kennzeichen)
    _sub(plan, "Inhaltsangabe", entry.inhalt)
    for number, (document_id, file) in enumerate(files, start=1):
        document = _sub(vorgang, "Dokument")
        ident = _sub(document, "Identifikation")
        _sub(ident, "ID", document_id)
        _sub(ident, "NummerImUebergeordnetenContainer", str(number))
        doc_meta = _sub(document, "AllgemeineMetadaten")
        _sub(doc_meta, "Betreff", file.title)
        _sub(doc_meta, "Kennzeichen", entry.kennzeichen)
        if case["claimed_by"]:
            _sub(document, "Bearbeiter", case["claimed_by"])
        version = _sub(document, "Version")
        _sub(version, "Nummer", "1")
        fmt = _sub(version, "Format")
        code_name = _sub(fmt, "Name", listURI="urn:xoev-de:xdomea:codeliste:dateiformat",
                         listVersionID="1.0")
        ET.SubElement(code_name, "code").text = file.format_code  # code lists: unqualified
        _sub(fmt, "Version", "")
        primary = _sub(fmt, "Primaerdokument")
        _sub(primary, "Dateiname", f"{document_id}_{file.name}")
        _sub(primary, "DatumUhrzeit", _datetime(file.written_at))


def _datetime(text: str) -> str:
    moment = datetime.fromisoformat(text)
    return moment.isoformat(timespec="seconds")


def export_cases(store: Store, folder: Path, parties: Parties, now: datetime,
                 plan: dict[str, PlanEntry] | None = None) -> Path | None:
    """Write one 0401 ZIP of every finished case not yet filed into `folder`; None if there
    is none. Cases whose kind the filing plan lacks are refused (ValidationError), not
    skipped: the records management must extend the plan first."""
    plan = plan if plan is not None else filing_plan()
    cases = _cases(store)
    if not cases:
        return None
    missing = sorted({c["kind"] for c in cases} - set(plan))
    if missing:
        raise ValidationError(f"Der Aktenplan hat kein Kennzeichen für: {', '.join(missing)}.",
                              f"filing plan lacks kinds {missing}")
    process_id = str(uuid.uuid4())
    message = ET.Element(_q(f"{ABGABE[1]}.{ABGABE[0]}"))
    head = _sub(message, "Kopf")
    _sub(head, "ProzessID", process_id)
    kind = _sub(head, "Nachrichtentyp", listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp",
                listVersionID="2.0")
    ET.SubElement(kind, "code").text = ABGABE[0]
    ET.SubElement(kind, "name").text = ABGABE[1]
    _sub(head, "Erstellungszeitpunkt", now.isoformat(timespec="seconds"))
    _contact(head, "Absender", parties.sender, parties.sender_unit)
    _contact(head, "Empfaenger", parties.receiver)
    _sub(head, "Importbestaetigung", "1")  # fixed by the schema: the DMS answers with 0402
    _sub(head, "Empfangsbestaetigung", "0")
    name = f"{process_id}_{ABGABE[1]}.{ABGABE[0]}"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.zip.part"
    vorgang_ids: dict[str, str] = {}
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for case in cases:
            vorgang_id = case["vorgang_id"] or str(uuid.uuid4())
            vorgang_ids[case["submission_id"]] = vorgang_id
            files = [(str(uuid.uuid4()), f) for f in _files(store, case)]
            _vorgang(message, case, vorgang_id, plan[case["kind"]], files)
            for document_id, file in files:
                archive.writestr(f"{document_id}_{file.name}", file.content)
        archive.writestr(f"{name}.xml", ET.tostring(message, encoding="utf-8",
                                                    xml_declaration=True))
    target = folder / f"{name}.zip"
    with store.transaction():
        for submission_id, vorgang_id in vorgang_ids.items():
            store.conn.execute(
                "INSERT INTO eakte_exports (submission_id, vorgang_id, process_id, exported_at, "
                "file, status) VALUES (?, ?, ?, ?, ?, 'exported') ON CONFLICT (submission_id) "
                "DO UPDATE SET process_id = excluded.process_id, exported_at = "
                "excluded.exported_at, file = excluded.file, status = 'exported', error = NULL",
                (submission_id, vorgang_id, process_id, now.isoformat(timespec="seconds"),
                 target.name))
        audit.record(store, audit.READ, None, PURPOSE, f"{len(cases)} Vorgänge, {target.name}")
        os.replace(partial, target)  # inside: a failed rename rolls the record back
    return target


def read_reply(store: Store, path: Path) -> Reply:
    """Read a 0402 (import confirmation) and mark each exported case filed or failed."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ValidationError(f"Die Rückmeldung {path.name} des DMS ist nicht lesbar.",
                              f"unreadable 0402 {path.name}: {exc}") from exc
    if root.tag != _q(IMPORT_CONFIRMATION):
        raise ValidationError(f"{path.name} ist keine Importbestätigung (0402).",
                              f"{path.name} is not a 0402 but {root.tag}")
    filed, errors, unknown = 0, {}, 0
    with store.transaction():
        for obj in root.iter(_q("AbgegebenesObjekt")):
            vorgang_id = (obj.findtext(_q("IDSGO")) or "").strip()
            ok = (obj.findtext(_q("Erfolgreich")) or "").strip() in ("true", "1")
            message = (obj.findtext(_q("Fehlermeldung")) or "").strip() or \
                "Das DMS hat den Vorgang nicht übernommen (ohne Begründung)."
            row = store.conn.execute("SELECT submission_id FROM eakte_exports WHERE "
                                     "vorgang_id = ?", (vorgang_id,)).fetchone()
            if row is None:
                unknown += 1
                continue
            store.conn.execute("UPDATE eakte_exports SET status = ?, error = ? "
                               "WHERE vorgang_id = ?",
                               ("filed" if ok else "error", None if ok else message,
                                vorgang_id))
            if ok:
                filed += 1
            else:
                errors[str(row[0])] = message
    return Reply(filed=filed, errors=errors, unknown=unknown)


def export_state(store: Store, submission_id: str) -> tuple[str, str | None] | None:
    """(status, error) of a case's hand-over to the e-Akte; None before the first export."""
    row = store.conn.execute("SELECT status, error FROM eakte_exports WHERE submission_id = ?",
                             (submission_id,)).fetchone()
    return (str(row[0]), row[1]) if row else None
