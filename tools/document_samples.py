"""Render one of every document type to PDF (and PNG pages), to look at them as a citizen would.

    QT_QPA_PLATFORM=offscreen python -m tools.document_samples out/
    python -m tools.document_samples out/ --png     # also pdftoppm -png -r 80 (poppler-utils)

Builds a small encrypted register in a temporary folder (never touches the real data folder),
registers three households through the real Anmeldung service (names with diacritics:
Łukasz Wróbel, Nguyễn Thị Minh Khai, Ødegård), issues every certificate, a receipt, a storno
and the daily closing through the real services, renders each with `ui.rendering`, plus a
Zweitschrift of the Meldebescheinigung. The demo seal's public key is written beside them
(`seal-public-key.txt`) for `clerk-app verify-document`.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from clerk_app.config import Config
from clerk_app.documents import build_model
from clerk_app.ids import uuid7
from clerk_app.office_seal import office_seal
from clerk_app.services.base import ServiceResult
from clerk_app.services.runner import run_service
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register
from clerk_app.streets import find_streets, store_street_directory

SAMPLE_DAY = date(2026, 11, 25)


def _run(store: Store, service: str, form: dict[str, Any], day: date) -> ServiceResult:
    moment = datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)
    return run_service(store, service, form, uuid7(), now=lambda: moment, today=day)


def _street(store: Store, name: str) -> int:
    found = [s for s in find_streets(store, name) if s.name == name]
    if not found or found[0].id is None:
        raise LookupError(f"street {name} not in the directory")
    return found[0].id


def _person(family: str, first: str, born: str, **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"family_name": family, "first_names": first, "birth_date": born,
                            "birth_place": "Lörrach", "birth_country": "DEU", "sex": "x",
                            "nationalities": ["DEU"], "religion": "--",
                            "marital_status": "LD"}
    data.update(more)
    return data


def issue_samples(store: Store, day: date = SAMPLE_DAY) -> dict[str, str]:
    """Issue one document of each type; returns document type -> number."""
    store_street_directory(store)
    moved = (day - timedelta(days=3)).isoformat()
    landlord = {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
                "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}
    docs: dict[str, str] = {}
    family = _run(store, "anmeldung", {
        "persons": [
            _person("Wróbel", "Łukasz Tomasz", "1984-02-29", everyday_name="Tomasz",
                    birth_place="Kraków", birth_country="POL", sex="m",
                    nationalities=["POL"], religion="rk", marital_status="VH",
                    marital_date="2012-07-07", marital_place="Kraków", doctorate="Dr."),
            _person("Nguyễn", "Thị Minh Khai", "1987-10-03", birth_place="Huế",
                    birth_country="VNM", sex="w", nationalities=["VNM", "DEU"],
                    marital_status="VH", marital_date="2012-07-07", marital_place="Kraków"),
        ],
        "address": {"street_id": _street(store, "Turmstraße"), "house_number": "5"},
        "kind": "alleinig", "move_in": moved,
        "previous_address": {"address": "ul. Floriańska 3, 31-019 Kraków", "country": "POL"},
        "landlord": landlord}, day)
    docs["meldebestaetigung"] = family.documents[0].number
    wrobel = family.changed_persons[0]
    single = _run(store, "anmeldung", {
        "persons": [_person("Ødegård", "Ingrid Sofie", "1959-12-01", everyday_name="Sofie",
                            birth_place="Tromsø", birth_country="NOR", sex="w",
                            nationalities=["NOR"], marital_status="VW")],
        "address": {"street_id": _street(store, "Basler Straße"), "house_number": "20"},
        "kind": "haupt", "move_in": moved,
        "previous_address": {"address": "Storgata 12, 9008 Tromsø", "country": "NOR"},
        "landlord": landlord}, day)
    odegard = single.changed_persons[0]
    cash = {"method": "bar", "given_cents": 2000}
    simple = _run(store, "meldebescheinigung", {"person_id": wrobel, "variant": "einfach",
                                                "payment": cash}, day)
    docs["meldebescheinigung_einfach"] = _of(simple, "meldebescheinigung_einfach")
    docs["quittung"] = _of(simple, "quittung")
    extended = _run(store, "meldebescheinigung", {
        "person_id": wrobel, "variant": "erweitert", "purpose": "Vorlage beim Konsulat",
        "payment": {"method": "karte", "terminal_receipt": "T-4711"}}, day)
    docs["meldebescheinigung_erweitert"] = _of(extended, "meldebescheinigung_erweitert")
    life = _run(store, "lebensbescheinigung", {
        "person_id": odegard, "institution": "Statens pensjonskasse, Norwegen",
        "reference": "NO-4711-0815", "id_document_checked": True}, day)
    docs["lebensbescheinigung"] = _of(life, "lebensbescheinigung")
    request = _run(store, "personenstandsurkunde_antrag", {
        "person_id": odegard, "certificate": "geburt",
        "subject": {"names": "Ingrid Sofie Ødegård", "date": "01.12.1959",
                    "place": "Tromsø (Norwegen)"},
        "entitlement": {"basis": "selbst"}, "copies": 2, "delivery": "post",
        "id_document_checked": True, "payment": {"method": "bar", "given_cents": 5000}}, day)
    docs["personenstandsurkunde_antrag"] = _of(request, "personenstandsurkunde_antrag")
    storno = _run(store, "storno", {"receipt_number": _of(request, "quittung"),
                                    "reason": "Antrag zurückgenommen"}, day)
    docs["storno"] = _of(storno, "storno")
    closing = _run(store, "tagesabschluss", {"counted_cash_cents": 700}, day)
    docs["tagesabschluss"] = _of(closing, "tagesabschluss")
    return docs


def _of(result: ServiceResult, doc_type: str) -> str:
    return next(d.number for d in result.documents if d.type == doc_type)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--png", action="store_true", help="also PNG pages (pdftoppm, 80 dpi)")
    args = parser.parse_args(argv)

    from ui.rendering import ensure_application, render_pdf

    ensure_application()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(Config(), data_dir=tmp, mode="demo",
                                  workstation="Schalter 3")
        with open_register(cfg, create=True) as store:
            numbers = issue_samples(store)
            key = office_seal(cfg, store)
            # The demo seal key dies with the temporary register: keep its public half, for
            # `clerk-app verify-document FILE.pdf --public-key OUT/seal-public-key.txt`.
            (args.output / "seal-public-key.txt").write_text(key.public_hex + "\n",
                                                             encoding="ascii")
            outputs = {name: build_model(store, cfg, number, seal_key=key)
                       for name, number in numbers.items()}
            outputs["meldebescheinigung_einfach_zweitschrift"] = build_model(
                store, cfg, numbers["meldebescheinigung_einfach"], seal_key=key,
                reprint_on=SAMPLE_DAY + timedelta(days=1))
            for name, model in outputs.items():
                path = args.output / f"{name}.pdf"
                path.write_bytes(render_pdf(model))
                sys.stdout.write(f"{path}\n")
                if args.png and shutil.which("pdftoppm"):
                    subprocess.run(["pdftoppm", "-png", "-r", "80", str(path),
                                    str(args.output / name)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
