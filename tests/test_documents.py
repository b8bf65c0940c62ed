"""Documents without painting: the render model of every issued type, the seal's content, the
HTML, and the archive (PDF + outbox in one transaction; originals never change)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
import sqlcipher3
from pypdf import PdfWriter

from clerk_app import documents
from clerk_app.config import Config
from clerk_app.documents import (
    ARCHIVE_COMMAND,
    ORIGINAL,
    SEALED_TYPES,
    TEMPLATES,
    ZWEITSCHRIFT,
    archive_pdf,
    archived_files,
    archived_pdf,
    build_model,
    document_html,
    documents_without_pdf,
    load_document,
    original_file_id,
    person_documents,
    record_reprint,
    sealed_facts,
    xmp_metadata,
)
from clerk_app.errors import NotFoundError, ValidationError
from clerk_app.office_seal import office_seal
from clerk_app.seal import SealError, SealKey, verify
from clerk_app.store.db import Store
from tests.document_cases import REPRINT_DAY, Issued, config, issue_all
from tests.factories import TODAY, count


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return config(tmp_path)


@pytest.fixture
def issued(store: Store) -> Issued:
    return issue_all(store)


@pytest.fixture
def key(cfg: Config, store: Store) -> SealKey:
    return office_seal(cfg, store)


def blank_pdf(text: str = "x") -> bytes:
    """A small real PDF (pypdf), for archive tests that need no rendering."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the model -------------------------------------------------------------------------------

def test_every_issued_type_has_a_template_and_a_model(store: Store, cfg: Config,
                                                      issued: Issued, key: SealKey) -> None:
    assert set(issued.numbers) == {*TEMPLATES, "storno"}
    for doc_type, number in issued.numbers.items():
        model = build_model(store, cfg, number, seal_key=key)
        assert model.document.doc_type == doc_type
        assert model.template == TEMPLATES.get(doc_type, "generic.html")
        assert model.issued_on == TODAY
        assert model.document.clerk == "mmuster" and model.document.workstation == "Schalter 3"
        assert (model.seal is not None) == (doc_type in SEALED_TYPES)
        assert bool(model.seal_modules) == (doc_type in SEALED_TYPES)
        assert not model.is_reprint and model.reprint_notice == ""


def test_letterhead_comes_from_the_configuration(store: Store, cfg: Config, issued: Issued,
                                                 key: SealKey) -> None:
    custom = cfg.__class__(**{**cfg.__dict__, "city_name": "Stadt Weil am Rhein",
                              "office_name": "Bürgerservice",
                              "office_address": "Rathausplatz 1, 79576 Weil am Rhein",
                              "office_hours": "Mo–Fr 8–12 Uhr",
                              "office_contact": "Telefon 07621 704-0"})
    model = build_model(store, custom, issued.numbers["quittung"], seal_key=key)
    html = document_html(model)
    for text in ("Stadt Weil am Rhein", "Bürgerservice", "Rathausplatz 1", "79576 Weil am Rhein",
                 "Mo–Fr 8–12 Uhr", "Telefon 07621 704-0", "Weil am Rhein, 25.11.2026"):
        assert text in html
    assert "Lörrach" not in html.replace("Wohnbau Lörrach", "")


def test_the_fee_and_receipt_are_on_the_certificate(store: Store, cfg: Config, issued: Issued,
                                                    key: SealKey) -> None:
    model = build_model(store, cfg, issued.numbers["meldebescheinigung_einfach"], seal_key=key)
    assert model.fee is not None
    assert model.fee.receipt_number == issued.numbers["quittung"]
    assert model.fee.text == f"7,00\xa0€ (Barzahlung), Quittung {issued.numbers['quittung']}"
    card = build_model(store, cfg, issued.numbers["meldebescheinigung_erweitert"], seal_key=key)
    assert card.fee is not None and "Kartenzahlung" in card.fee.text
    free = build_model(store, cfg, issued.numbers["lebensbescheinigung"], seal_key=key)
    assert free.fee is None and free.document.receipt_number is None


def test_sealed_facts_are_the_names_and_dates_as_printed(store: Store, cfg: Config,
                                                         issued: Issued) -> None:
    facts = sealed_facts(load_document(store, issued.numbers["meldebestaetigung"]), "08336050")
    assert facts.persons == (("Dr. Wróbel, Łukasz Tomasz", "29.02.1984"),
                             ("Nguyễn, Thị Minh Khai", "03.10.1987"))
    assert facts.doc_type == "meldebestaetigung" and facts.issued_on == TODAY
    simple = sealed_facts(load_document(store, issued.numbers["meldebescheinigung_einfach"]), "x")
    assert simple.persons == (("Dr. Wróbel, Łukasz Tomasz", "29.02.1984"),)
    life = sealed_facts(load_document(store, issued.numbers["lebensbescheinigung"]), "x")
    assert life.persons == (("Ødegård, Ingrid Sofie", "01.12.1959"),)
    request = sealed_facts(load_document(store, issued.numbers["personenstandsurkunde_antrag"]),
                           "x")
    assert request.persons == (("Ødegård, Ingrid Sofie", "01.12.1959"),)


def test_the_model_seal_verifies_to_the_document(store: Store, cfg: Config, issued: Issued,
                                                 key: SealKey) -> None:
    number = issued.numbers["meldebescheinigung_erweitert"]
    model = build_model(store, cfg, number, seal_key=key)
    assert model.seal is not None
    verified = verify(model.seal, key.public)
    assert verified.facts.number == number
    assert verified.facts.doc_type == "meldebescheinigung_erweitert"
    assert verified.facts.persons == (("Nguyễn, Thị Minh Khai", "03.10.1987"),)
    # The demo register seals specimens: the seal names "MUSTER-<office>".
    assert verified.facts.office_id == f"MUSTER-{cfg.office_id}" and verified.facts.is_specimen
    reprint = build_model(store, cfg, number, seal_key=key, reprint_on=REPRINT_DAY)
    assert reprint.seal == model.seal  # the reprint carries the original's seal


def test_a_certificate_is_never_built_without_its_seal(store: Store, cfg: Config,
                                                       issued: Issued) -> None:
    with pytest.raises(SealError):
        build_model(store, cfg, issued.numbers["meldebescheinigung_einfach"], seal_key=None)
    assert build_model(store, cfg, issued.numbers["quittung"], seal_key=None).seal is None


def test_unknown_number_is_not_found(store: Store, cfg: Config) -> None:
    with pytest.raises(NotFoundError):
        build_model(store, cfg, "MB-NOPE-2026-000001", seal_key=None)


# --- HTML ------------------------------------------------------------------------------------

def test_meldebestaetigung_groups_persons_and_underlines_the_everyday_name(
        store: Store, cfg: Config, issued: Issued, key: SealKey) -> None:
    model = build_model(store, cfg, issued.numbers["meldebestaetigung"], seal_key=key)
    persons = model.view["persons"]
    assert [dict(p)["Familienname"] for p in persons] == ["Wróbel", "Nguyễn"]
    assert all(label != "Doktorgrad" for label, _ in persons[1])  # empty: left out
    html = document_html(model)
    assert "Łukasz <u>Tomasz</u>" in html and "*" not in html
    assert "1. Person" in html and "2. Person" in html
    assert "gebräuchliche Vorname" in html


def test_html_escapes_register_text(store: Store, cfg: Config, issued: Issued,
                                    key: SealKey) -> None:
    model = build_model(store, cfg, issued.numbers["meldebescheinigung_erweitert"], seal_key=key)
    evil = model.document.__class__(**{**model.document.__dict__, "fields": (
        ("Familienname", "<b>Mallory</b> & *Co*"),)})
    html = document_html(model.__class__(**{**model.__dict__, "document": evil}))
    assert "&lt;b&gt;Mallory&lt;/b&gt; &amp; <u>Co</u>" in html


def test_daily_closing_is_laid_out_as_tables(store: Store, cfg: Config, issued: Issued) -> None:
    model = build_model(store, cfg, issued.numbers["tagesabschluss"], seal_key=None)
    view = model.view
    assert [r["label"] for r in view["methods"]] == ["Barzahlung", "Kartenzahlung",
                                                     "Gebührenfrei", "online bezahlt"]
    cash = view["methods"][0]
    assert (cash["count"], cash["reversals"], cash["amount"]) == ("2", "1", "7,00\xa0€")
    assert dict(view["totals"])["Differenz"] == "0,00\xa0€"
    assert dict(view["totals"])["Wechselgeld"] == "0,00\xa0€", "the float is in the count"
    html = document_html(model)
    assert "Nach Zahlungsart" in html and "Nach Dienstleistung" in html
    assert "Gegenzeichnung" in html


def test_xmp_declares_pdfa_1b_and_carries_the_seal(store: Store, cfg: Config, issued: Issued,
                                                   key: SealKey) -> None:
    from datetime import UTC, datetime

    model = build_model(store, cfg, issued.numbers["lebensbescheinigung"], seal_key=key)
    xmp = xmp_metadata(model, producer="Qt 6.11.3",
                       created=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
                       document_uuid="0f0e0d0c-0000-4000-8000-000000000000").decode()
    assert "<pdfaid:part>1</pdfaid:part>" in xmp and "<pdfaid:conformance>B" in xmp
    assert f"<clerkseal:Seal>{model.seal}</clerkseal:Seal>" in xmp
    assert "<xmp:CreateDate>2026-11-25T10:00:00Z</xmp:CreateDate>" in xmp
    assert "pdfaExtension:schemas" in xmp  # custom properties described for PDF/A
    assert "Ødegård" not in xmp  # no personal data in the metadata beyond the seal


# --- archive ---------------------------------------------------------------------------------

def test_archive_stores_the_pdf_and_queues_it_in_one_transaction(store: Store,
                                                                 issued: Issued) -> None:
    number = issued.numbers["meldebescheinigung_einfach"]
    pdf = blank_pdf()
    outbox_before = count(store, "outbox")
    archived = archive_pdf(store, number, pdf)
    assert archived.kind == ORIGINAL and archived.sha256 == hashlib.sha256(pdf).hexdigest()
    assert archived_pdf(store, archived.id) == pdf
    (row,) = store.query("SELECT * FROM outbox WHERE command_id = ?", (archived.command_id,))
    assert row["type"] == ARCHIVE_COMMAND and row["status"] == "pending"
    assert (row["device"], row["clerk"]) == ("Schalter 3", "mmuster")
    payload = json.loads(row["payload"])
    assert payload["document_number"] == number and payload["kind"] == ORIGINAL
    assert payload["sha256"] == archived.sha256
    assert base64.b64decode(payload["pdf_base64"]) == pdf
    assert count(store, "outbox") == outbox_before + 1


def test_the_original_file_is_found_by_number_and_a_reprint_is_not_it(store: Store,
                                                                       issued: Issued) -> None:
    number = issued.numbers["meldebescheinigung_einfach"]
    assert original_file_id(store, number) is None
    original = archive_pdf(store, number, blank_pdf())
    archive_pdf(store, number, blank_pdf("Zweitschrift"), reprint=True)
    assert original_file_id(store, number) == original.id


def test_a_persons_documents_are_listed_newest_first(store: Store, issued: Issued) -> None:
    listed = person_documents(store, issued.wrobel)
    numbers = [doc.number for doc in listed]
    assert issued.numbers["meldebescheinigung_einfach"] in numbers
    assert issued.numbers["lebensbescheinigung"] not in numbers   # Ødegård's
    assert all(load_document(store, n).person_id == issued.wrobel for n in numbers)
    assert [d.issued_on for d in listed] == sorted((d.issued_on for d in listed), reverse=True)
    assert person_documents(store, "no-such-person") == []


def test_archive_failure_leaves_neither_file_nor_outbox_row(store: Store, issued: Issued,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise sqlcipher3.OperationalError("disk I/O error")

    monkeypatch.setattr(documents, "append_outbox", broken)
    outbox_before = count(store, "outbox")
    with pytest.raises(sqlcipher3.OperationalError):
        archive_pdf(store, issued.numbers["quittung"], blank_pdf())
    assert count(store, "document_files") == 0 and count(store, "outbox") == outbox_before


def test_the_original_is_archived_once_and_never_changed(store: Store, issued: Issued) -> None:
    number = issued.numbers["lebensbescheinigung"]
    first = archive_pdf(store, number, blank_pdf("eins"))
    with pytest.raises(ValidationError) as err:
        archive_pdf(store, number, blank_pdf("zwei"))
    assert "bereits archiviert" in err.value.message_de
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("UPDATE document_files SET pdf = x'00' WHERE id = ?", (first.id,))
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("DELETE FROM document_files")
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("UPDATE documents SET content = '{}' WHERE number = ?", (number,))
    with pytest.raises(sqlcipher3.IntegrityError):
        store.conn.execute("DELETE FROM documents WHERE number = ?", (number,))
    assert archived_pdf(store, first.id) == blank_pdf("eins")


def test_reprints_are_new_files_and_audited(store: Store, issued: Issued) -> None:
    number = issued.numbers["meldebescheinigung_einfach"]
    original = archive_pdf(store, number, blank_pdf("original"))
    content_before = store.query("SELECT content FROM documents WHERE number = ?", (number,))
    audits_before = count(store, "audit_log", "action = 'reprint'")
    second = archive_pdf(store, number, blank_pdf("zweitschrift 1"), reprint=True)
    third = archive_pdf(store, number, blank_pdf("zweitschrift 2"), reprint=True)
    assert [f.kind for f in archived_files(store, number)] == [ORIGINAL, ZWEITSCHRIFT,
                                                               ZWEITSCHRIFT]
    assert archived_pdf(store, original.id) == blank_pdf("original")
    assert second.id != third.id
    assert store.query("SELECT content FROM documents WHERE number = ?", (number,)) == \
        content_before
    (entry, _) = store.query("SELECT * FROM audit_log WHERE action = 'reprint' ORDER BY id")
    assert count(store, "audit_log", "action = 'reprint'") == audits_before + 2
    assert entry["person_id"] == issued.wrobel and entry["detail"] == f"Dokument {number}"
    assert entry["purpose"] == "Zweitschrift: Meldebescheinigung"
    kinds = [json.loads(r["payload"])["kind"] for r in store.query(
        "SELECT payload FROM outbox WHERE type = ? ORDER BY seq", (ARCHIVE_COMMAND,))]
    assert kinds == [ORIGINAL, ZWEITSCHRIFT, ZWEITSCHRIFT]


def test_record_reprint_on_its_own_writes_one_entry(store: Store, issued: Issued) -> None:
    record_reprint(store, issued.numbers["lebensbescheinigung"])
    (entry,) = store.query("SELECT * FROM audit_log WHERE action = 'reprint'")
    assert entry["person_id"] == issued.odegard


def test_documents_without_pdf_are_found_oldest_first(store: Store, issued: Issued) -> None:
    missing = documents_without_pdf(store)
    every = [r["number"] for r in store.query("SELECT number FROM documents ORDER BY rowid")]
    assert missing == every and set(issued.numbers.values()) <= set(missing)
    assert missing[0] == issued.numbers["meldebestaetigung"]
    archive_pdf(store, issued.numbers["meldebestaetigung"], blank_pdf())
    archive_pdf(store, issued.numbers["quittung"], blank_pdf(), reprint=True)  # no original
    assert issued.numbers["meldebestaetigung"] not in documents_without_pdf(store)
    assert issued.numbers["quittung"] in documents_without_pdf(store)


def test_archive_refuses_what_is_not_a_pdf_or_not_issued(store: Store, issued: Issued) -> None:
    with pytest.raises(ValidationError):
        archive_pdf(store, issued.numbers["quittung"], b"hello")
    with pytest.raises(NotFoundError):
        archive_pdf(store, "Q-NOPE-2026-000001", blank_pdf())
    assert count(store, "document_files") == 0
