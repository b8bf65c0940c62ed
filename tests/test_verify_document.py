"""`clerk-app verify-document` checks what a document shows, not what its metadata says.

Real documents from the real services, rendered to PDF/A; the forgeries are made the way a
forger would: the page rendered again with a changed name around the genuine QR code, another
person's whole seal put into the metadata, a page carrying another document's QR code, and
photos (PNG, JPEG) of printed pages.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from clerk_app.command_line import main
from clerk_app.config import Config
from clerk_app.documents import SEALED_TYPES, RenderModel, build_model
from clerk_app.office_seal import office_seal
from clerk_app.seal import SealKey
from clerk_app.store.opening import open_register
from tests.document_cases import REPRINT_DAY, Issued, config, issue_all

pytestmark = pytest.mark.usefixtures("qapp")


@dataclass
class Documents:
    cfg: Config
    issued: Issued
    key: SealKey
    models: dict[str, RenderModel]
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.pdf"


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, qapp: Any) -> Iterator[Documents]:
    from ui.rendering import render_pdf

    folder = tmp_path_factory.mktemp("verify")
    cfg = config(folder)
    with open_register(cfg, create=True) as store:
        issued = issue_all(store)
        key = office_seal(cfg, store)
        models = {t: build_model(store, cfg, n, seal_key=key) for t, n in issued.numbers.items()}
        models["zweitschrift"] = build_model(store, cfg, issued.numbers["meldebestaetigung"],
                                             seal_key=key, reprint_on=REPRINT_DAY)
    for name, model in models.items():
        (folder / f"{name}.pdf").write_bytes(render_pdf(model))
    yield Documents(cfg, issued, key, models, folder)


def verify_document(docs: Documents, path: Path, *args: str) -> int:
    return main(["--data-dir", docs.cfg.data_dir, "verify-document", str(path),
                 "--public-key", docs.key.public_hex, *args])


def render_to(path: Path, model: RenderModel) -> Path:
    from ui.rendering import render_pdf

    path.write_bytes(render_pdf(model))
    return path


def with_field(model: RenderModel, label: str, value: str) -> RenderModel:
    """The model with the first field `label` printed as `value`, seal and QR code unchanged."""
    fields = list(model.document.fields)
    index = next(i for i, (k, _) in enumerate(fields) if k == label)
    fields[index] = (label, value)
    return replace(model, document=replace(model.document, fields=tuple(fields)))


@pytest.mark.parametrize("name", [*sorted(SEALED_TYPES), "zweitschrift"])
def test_a_genuine_document_is_valid_page_code_and_seal_agree(
        documents: Documents, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_document(documents, documents.path(name)) == 0
    out = capsys.readouterr().out
    assert "Siegel gültig" in out
    assert "Der Text der Seite stimmt mit diesen Angaben überein" in out
    assert documents.models[name].number in out


def test_a_changed_printed_name_is_refused(documents: Documents, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The genuine QR code and metadata, the family name on the page changed by one letter."""
    forged = with_field(documents.models["meldebescheinigung_einfach"], "Familienname",
                        "Wrobel")
    path = render_to(tmp_path / "forged.pdf", forged)
    assert verify_document(documents, path) == 1
    captured = capsys.readouterr()
    assert "UNGÜLTIG" in captured.err
    assert "Bescheinigt, aber so nicht auf der Seite: „Dr. Wróbel, Łukasz Tomasz“, geboren " \
           "29.02.1984" in captured.err
    assert "Auf der Seite, aber nicht bescheinigt: „Dr. Wrobel, Łukasz Tomasz“" in captured.err
    # What the seal does certify is still shown, for the person checking.
    assert "Dr. Wróbel, Łukasz Tomasz, geboren 29.02.1984" in captured.out


@pytest.mark.parametrize(("label", "value"), [
    ("Vornamen", "Łukasz Tomasz Jan"),      # a first name added
    ("Geburtsdatum", "28.02.1984"),         # the birth date one day off
    ("Doktorgrad", "Prof. Dr."),            # a title added
])
def test_any_changed_certified_value_on_the_page_is_refused(
        documents: Documents, tmp_path: Path, label: str, value: str) -> None:
    forged = with_field(documents.models["meldebescheinigung_einfach"], label, value)
    assert verify_document(documents, render_to(tmp_path / "forged.pdf", forged)) == 1


def test_a_person_added_to_the_page_is_refused(documents: Documents, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    model = documents.models["meldebescheinigung_einfach"]
    extra = (("Familienname", "Muster"), ("Vornamen", "Erika"), ("Geburtsdatum", "12.08.1964"))
    forged = replace(model, document=replace(model.document,
                                             fields=model.document.fields + extra))
    assert verify_document(documents, render_to(tmp_path / "added.pdf", forged)) == 1
    assert "Auf der Seite, aber nicht bescheinigt: „Muster, Erika“, geboren 12.08.1964" in \
        capsys.readouterr().err


def test_another_persons_seal_in_the_metadata_is_refused(
        documents: Documents, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The old check read only the metadata: a page of Wróbel whose metadata carries the whole
    (genuine) seal of Ødegård's Lebensbescheinigung passed as valid."""
    page = documents.models["meldebescheinigung_einfach"]
    other = documents.models["lebensbescheinigung"]
    forged = replace(page, seal=other.seal)  # the XMP packet is written from `seal`
    path = render_to(tmp_path / "metadata.pdf", forged)
    assert verify_document(documents, path) == 1
    assert "Die Metadaten der Datei enthalten ein anderes Siegel als der QR-Code" in \
        capsys.readouterr().err


def test_a_page_with_a_swapped_qr_code_is_refused(documents: Documents, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Wróbel's page carrying the QR code (and metadata) of Ødegård's genuine document."""
    page = documents.models["meldebescheinigung_einfach"]
    other = documents.models["lebensbescheinigung"]
    forged = replace(page, seal=other.seal, seal_url=other.seal_url,
                     seal_modules=other.seal_modules,
                     document=replace(page.document, number=other.number))
    path = render_to(tmp_path / "swapped.pdf", forged)
    assert verify_document(documents, path, "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is False and data["number"] == other.number
    problems = " ".join(data["disagreements"])
    assert "Dokumentart „Lebensbescheinigung“ steht nicht auf der Seite" in problems
    assert "Bescheinigt, aber so nicht auf der Seite: „Ødegård, Ingrid Sofie“" in problems


def page_image(pdf: Path, dpi: int) -> Any:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()


@pytest.mark.parametrize(("suffix", "dpi"), [(".png", 200), (".jpg", 150)])
def test_a_photo_or_scan_of_the_printed_page(documents: Documents, tmp_path: Path,
                                             suffix: str, dpi: int,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    image = page_image(documents.path("meldebestaetigung"), dpi)
    photo = tmp_path / f"scan{suffix}"
    image.convert("RGB").save(photo, quality=70) if suffix == ".jpg" else image.save(photo)
    assert verify_document(documents, photo) == 0
    out = capsys.readouterr().out
    assert "Siegel gültig" in out and "Nguyễn, Thị Minh Khai, geboren 03.10.1987" in out
    assert "Vom Foto wird nur der Prüfcode gelesen" in out


def test_a_photo_of_a_forged_code_or_of_no_code(documents: Documents, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from clerk_app.seal import qr_png, seal_link

    payload = documents.models["lebensbescheinigung"].seal
    assert payload is not None
    i = len(payload) // 2
    changed = payload[:i] + ("7" if payload[i] != "7" else "8") + payload[i + 1:]
    photo = tmp_path / "forged.png"
    photo.write_bytes(qr_png(seal_link(changed, documents.cfg.verification_url), scale=6))
    assert verify_document(documents, photo) == 1
    assert "UNGÜLTIG" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (400, 400), 255).save(blank)
    assert verify_document(documents, blank) == 1
    assert "kein elektronisches Siegel" in capsys.readouterr().err
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    assert verify_document(documents, broken) == 1
    assert "kein lesbares Bild" in capsys.readouterr().err


def test_a_pdf_whose_page_has_no_readable_code_but_metadata_names_a_seal(
        documents: Documents, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone blacked out the QR code: the metadata's seal alone is not trusted."""
    model = documents.models["lebensbescheinigung"]
    blank = tuple(bytes(len(row)) for row in model.seal_modules)
    path = render_to(tmp_path / "nocode.pdf", replace(model, seal_modules=blank))
    assert verify_document(documents, path) == 1
    assert "kein lesbarer Prüfcode" in capsys.readouterr().err


def test_the_json_of_a_valid_document_says_the_text_was_compared(
        documents: Documents, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_document(documents, documents.path("personenstandsurkunde_antrag"),
                           "--json") == 0
    data = json.loads(io.StringIO(capsys.readouterr().out).read())
    assert data["valid"] is True and data["text_compared"] is True
    assert data["disagreements"] == []
    assert data["persons"] == [{"name": "Ødegård, Ingrid Sofie", "birth_date": "01.12.1959"}]
