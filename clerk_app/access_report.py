"""Who looked at a person and why: the Datenschutz role's answer to a citizen's access request
(Art. 15 GDPR, § 10 BMG), from this workstation's access log.

The report is data plus a plain HTML page the window prints; reading it needs the
`access_log.read` permission and is itself logged with its purpose.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from clerk_app import audit
from clerk_app.person_record import load_person
from clerk_app.store.db import Store

ACTIONS = {audit.READ: "Einsicht", audit.SEARCH: "in Suchergebnis angezeigt",
           audit.CREATE: "angelegt", audit.UPDATE: "geändert", "issue": "Dokument ausgestellt",
           "reprint": "Zweitschrift gedruckt", audit.ACCESS_LOG: "Zugriffsprotokoll gelesen"}


@dataclass(frozen=True)
class AccessReport:
    person: str
    born: str
    made_at: datetime
    made_by: str
    entries: tuple[dict[str, object], ...]


def access_report(store: Store, person_id: str, purpose: str) -> AccessReport:
    """The access history of `person_id`, newest first (refused without access_log.read)."""
    entries = audit.access_history(store, person_id, purpose)
    person = load_person(store, person_id)
    born = f"{person.birth_date:%d.%m.%Y}" if person.birth_date else "—"
    return AccessReport(person.display_name, born, datetime.now(UTC), store.actor.name,
                        tuple(entries))


def describe(action: object) -> str:
    return ACTIONS.get(str(action), str(action))


def report_html(report: AccessReport, office: str) -> str:
    """A printable page: the person, then every access with clerk, workstation and purpose."""
    def cell(value: object) -> str:
        return f"<td>{html.escape(str(value or ''))}</td>"

    rows = "".join(
        "<tr>" + cell(local_time(str(e["at"]))) + cell(e["clerk"]) + cell(e["workstation"])
        + cell(describe(e["action"])) + cell(e["purpose"]) + "</tr>" for e in report.entries)
    return (f"<h2>Auskunft über Zugriffe auf Meldedaten (Art. 15 DSGVO, § 10 BMG)</h2>"
            f"<p>{html.escape(office)}<br/>Person: {html.escape(report.person)}, geboren "
            f"{html.escape(report.born)}<br/>Erstellt am {local_time(report.made_at.isoformat())} "
            f"von {html.escape(report.made_by)}</p>"
            "<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
            "<tr><th>Zeitpunkt</th><th>Sachbearbeitung</th><th>Arbeitsplatz</th>"
            f"<th>Vorgang</th><th>Zweck</th></tr>{rows}</table>"
            f"<p>{len(report.entries)} Einträge.</p>")


def local_time(iso: str) -> str:
    """An entry's UTC moment as the clerk reads it: local date and time."""
    try:
        return f"{datetime.fromisoformat(iso).astimezone():%d.%m.%Y %H:%M}"
    except ValueError:
        return iso
