"""The e-Akte hand-over: finished online applications as an xdomea 3.1 Abgabe (0401) ZIP,
checked against the official schema, and the DMS's import confirmation (0402) read back.

The official xdomea 3.1.0 XSD (KoSIT) is not shipped with the tests: the files carry no licence
statement of their own (the copy found, github.com/Landesarchiv-Thueringen/x-man,
server/xsd/3.1.0 with server/xsd/xoev/xoev-code.xsd beside it, sits in a GPL-3.0 repository
that did not write them), and this project commits no third-party files it has not cleared.
Point XDOMEA_XSD at `xdomea.xsd` of that release to validate; without it the tests check the
namespace and the structure the schema requires (the required elements, in order) themselves.
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from clerk_app import inbox, xdomea
from clerk_app.documents import archive_pdf
from clerk_app.errors import ValidationError
from clerk_app.services.runner import SERVICES, run_service
from clerk_app.store.db import Store
from tests.online_support import REQUESTS, a_pdf
from tests.test_cashbook import _Gebuehr

NS = {"x": xdomea.NS}
PARTIES = xdomea.Parties("Stadt Lörrach", "Bürgerbüro", "DMS der Stadt Lörrach")
NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
ONLINE = {"method": "online", "reference": "PAY-2026-000123", "paid_cents": 700}


@pytest.fixture(autouse=True)
def _fee_service() -> Iterator[None]:
    SERVICES["test_gebuehr"] = _Gebuehr()
    yield
    SERVICES.pop("test_gebuehr")


def finished_case(store: Store, kind: str, state: str = "done") -> str:
    sid = str(uuid.uuid4())
    inbox.store_items(store, [{"submission_id": sid, "kind": kind, "seq": 1,
                               "received_at": "2026-12-03T08:00:00+00:00", "state": "new",
                               "data": REQUESTS[kind], "attachments": []}])
    inbox.claim(store, sid)
    command_id = None
    if state == "done":
        result = run_service(store, "test_gebuehr", {"service": "meldebescheinigung_einfach",
                                                     "payment": ONLINE}, str(uuid.uuid4()))
        assert result.receipt is not None
        archive_pdf(store, result.receipt.number, a_pdf())
        command_id = result.command_id
    inbox.record_outcome(store, sid, state, "" if state == "done" else "unvollständig",
                         command_id=command_id)
    return sid


def schema() -> etree.XMLSchema | None:
    path = os.environ.get("XDOMEA_XSD")
    return etree.XMLSchema(etree.parse(path)) if path else None


def check(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert etree.QName(root).namespace == "urn:xoev-de:xdomea:schema:3.1.0"
    validator = schema()
    if validator is not None:
        validator.assertValid(root)
        return root
    head = root.find("x:Kopf", NS)
    assert head is not None
    assert [etree.QName(c).localname for c in head] == [
        "ProzessID", "Nachrichtentyp", "Erstellungszeitpunkt", "Absender", "Empfaenger",
        "Importbestaetigung", "Empfangsbestaetigung"]
    for vorgang in root.iterfind("x:Schriftgutobjekt/x:Vorgang", NS):
        assert vorgang.findtext("x:Identifikation/x:ID", namespaces=NS)
        for document in vorgang.iterfind("x:Dokument", NS):
            assert document.findtext("x:Version/x:Format/x:Primaerdokument/x:Dateiname",
                                     namespaces=NS)
    return root


def reply(root: etree._Element, failed: dict[str, str]) -> bytes:
    """What the DMS answers (0402), per Vorgang."""
    x = f"{{{xdomea.NS}}}"
    answer = etree.Element(f"{x}{xdomea.IMPORT_CONFIRMATION}", nsmap={"xdomea": xdomea.NS})
    head = etree.SubElement(answer, f"{x}Kopf")
    etree.SubElement(head, f"{x}ProzessID").text = root.findtext("x:Kopf/x:ProzessID",
                                                                 namespaces=NS)
    kind = etree.SubElement(head, f"{x}Nachrichtentyp",
                            listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp",
                            listVersionID="2.0")
    etree.SubElement(kind, "code").text = "0402"
    etree.SubElement(head, f"{x}Erstellungszeitpunkt").text = "2026-12-04T07:00:00Z"
    for tag in ("Absender", "Empfaenger"):
        contact = etree.SubElement(head, f"{x}{tag}")
        etree.SubElement(etree.SubElement(contact, f"{x}Institution"), f"{x}Name").text = "DMS"
    for vorgang_id in root.xpath("//x:Vorgang/x:Identifikation/x:ID/text()", namespaces=NS):
        obj = etree.SubElement(answer, f"{x}AbgegebenesObjekt")
        etree.SubElement(obj, f"{x}IDSGO").text = vorgang_id
        etree.SubElement(obj, f"{x}Erfolgreich").text = "0" if vorgang_id in failed \
            else "1"
        if vorgang_id in failed:
            etree.SubElement(obj, f"{x}Fehlermeldung").text = failed[vorgang_id]
    return etree.tostring(answer, xml_declaration=True, encoding="UTF-8")


def read_zip(path: Path) -> tuple[etree._Element, dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        [xml_name] = [n for n in names if n.endswith(".xml") and "Abgabe.Abgabe.0401" in n]
        files = {n: archive.read(n) for n in names if n != xml_name}
        return check(archive.read(xml_name)), files


def test_round_trip_export_reply_filed_and_error(store: Store, tmp_path: Path) -> None:
    done = finished_case(store, "meldebescheinigung")
    rejected = finished_case(store, "adressaenderung", "rejected")
    open_case = str(uuid.uuid4())
    inbox.store_items(store, [{"submission_id": open_case, "kind": "personenstandsurkunde",
                               "seq": 2, "received_at": "2026-12-03T09:00:00+00:00",
                               "state": "new", "data": REQUESTS["personenstandsurkunde"]}])
    path = xdomea.export_cases(store, tmp_path / "eakte", PARTIES, NOW)
    assert path is not None and path.parent == tmp_path / "eakte"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left
    root, files = read_zip(path)
    vorgaenge = root.findall("x:Schriftgutobjekt/x:Vorgang", NS)
    assert len(vorgaenge) == 2  # the open case is not handed over
    named = root.xpath("//x:Primaerdokument/x:Dateiname/text()", namespaces=NS)
    assert sorted(named) == sorted(files)  # every file named, every named file there
    assert sum(n.endswith(".pdf") for n in files) == 1
    assert {v.findtext("x:AllgemeineMetadaten/x:Kennzeichen", namespaces=NS)
            for v in vorgaenge} == {"102.31.1", "102.31.4"}
    assert xdomea.export_cases(store, tmp_path / "eakte", PARTIES, NOW) is None  # once

    by_case = {s: str(store.query("SELECT vorgang_id FROM eakte_exports WHERE "
                                  "submission_id = ?", (s,))[0]["vorgang_id"])
               for s in (done, rejected)}
    answer = tmp_path / "0402.xml"
    answer.write_bytes(reply(root, {by_case[rejected]: "Aktenzeichen unbekannt"}))
    check_reply = schema()
    if check_reply is not None:
        check_reply.assertValid(etree.parse(str(answer)))
    result = xdomea.read_reply(store, answer)
    assert (result.filed, result.errors, result.unknown) == (
        1, {rejected: "Aktenzeichen unbekannt"}, 0)
    assert xdomea.export_state(store, done) == ("filed", None)
    assert xdomea.export_state(store, rejected) == ("error", "Aktenzeichen unbekannt")
    again = xdomea.export_cases(store, tmp_path / "eakte", PARTIES, NOW)
    assert again is not None
    root_again, _ = read_zip(again)
    assert root_again.xpath("//x:Vorgang/x:Identifikation/x:ID/text()", namespaces=NS) == [
        by_case[rejected]]  # the failed case again, under its id


def test_a_kind_missing_in_the_filing_plan_is_refused(store: Store, tmp_path: Path) -> None:
    finished_case(store, "adressaenderung", "rejected")
    plan: dict[str, Any] = {k: v for k, v in xdomea.filing_plan().items()
                            if k != "adressaenderung"}
    with pytest.raises(ValidationError):
        xdomea.export_cases(store, tmp_path / "eakte", PARTIES, NOW, plan)
    assert not (tmp_path / "eakte").exists()


def test_a_reply_that_is_no_0402_is_refused(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "x.xml"
    bad.write_text("<nicht/>")
    with pytest.raises(ValidationError):
        xdomea.read_reply(store, bad)
    bad.write_text("<kaputt")
    with pytest.raises(ValidationError):
        xdomea.read_reply(store, bad)


def test_the_daily_command_exports_and_reads_the_reply(
        capsys: pytest.CaptureFixture[str]) -> None:
    from clerk_app.command_line import main
    from clerk_app.config import load_config
    from clerk_app.store.opening import open_register

    cfg = load_config()
    with open_register(cfg, create=True) as store:
        finished_case(store, "adressaenderung", "rejected")
    assert main(["eakte", "export"]) == 0
    [path] = (cfg.data_path / "eakte").iterdir()
    assert path.name in capsys.readouterr().out
    root, _ = read_zip(path)
    answer = cfg.data_path / "0402.xml"
    answer.write_bytes(reply(root, {}))
    assert main(["eakte", "reply", str(answer)]) == 0
    assert "1 Vorgänge abgelegt" in capsys.readouterr().out
    assert main(["eakte", "export"]) == 0
    assert "Nichts abzugeben" in capsys.readouterr().out
