"""Online applications in tests: a running central service with its intake, a portal, and
valid data of each kind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfWriter

from sync.portal import PortalClient
from sync.server.central import Central
from sync.server.intake import Intake
from sync.server.intake_keys import IntakeKeys, KeyFolder
from tests.sync_support import CentralServer, running_central

APPLICANT = {"family_name": "Wróbel", "first_names": "Łukasz", "birth_date": "1991-03-04",
             "email": "l.wrobel@example.org"}
PAYMENT = {"reference": "PAY-2026-000123", "amount_cents": 700}
REQUESTS: dict[str, dict[str, Any]] = {
    "meldebescheinigung": {"kind": "meldebescheinigung", "applicant": APPLICANT,
                           "variant": "einfach", "delivery": "elektronisch",
                           "payment": PAYMENT},
    "personenstandsurkunde": {"kind": "personenstandsurkunde", "applicant": APPLICANT,
                              "certificate": "geburt", "subject_names": "Łukasz Wróbel",
                              "event_date": "1985-03-02", "event_place": "Lörrach",
                              "entitlement": "selbst", "copies": 2,
                              "payment": {"reference": "PAY-2026-000124", "amount_cents": 2400}},
    "adressaenderung": {"kind": "adressaenderung", "applicant": APPLICANT,
                        "new_address": {"street": "Palmstraße", "house_number": "7",
                                        "postcode": "79539", "city": "Lörrach"},
                        "move_in_date": date.today().isoformat(),
                        "landlord": {"name": "Wohnbau Lörrach GmbH",
                                     "address": "Am Alten Markt 1, 79539 Lörrach"}},
}


@dataclass
class Office:
    server: CentralServer
    central: Central
    intake: Intake
    portal: PortalClient


@contextmanager
def running_office(db_url: str, data_dir: Path) -> Iterator[Office]:
    """The central service (demo mode: its intake keys in the data folder) and a portal."""
    with running_central(db_url, data_dir) as (server, central):
        keys = IntakeKeys(central.db, KeyFolder(data_dir / "intake-keys"))
        intake = Intake(central.db, keys)
        portal = PortalClient(server.url, intake.issue_portal_token("serviceportal"))
        try:
            yield Office(server, central, intake, portal)
        finally:
            portal.close()


def a_pdf() -> bytes:
    """A real (blank, one-page A4) PDF, standing in for a rendered document."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
