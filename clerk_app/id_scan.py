"""From a scanned ID card or passport to a person: open the match, or prefill a new one.

The MRZ spells names in its own transliteration ("MUELLER" for Müller, "OEDEGAARD" for
Ødegård). That is exactly the DIN 91379 search form for most letters, so the register is
searched by search form; a new-person form is prefilled with the transliteration in title
case and a hint that diacritics must be taken from the card's printed (visual) zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from clerk_app.mrz import MrzResult, parse
from clerk_app.names import search_form
from clerk_app.store.db import Store

SEX_TO_REGISTER = {"M": "m", "F": "w", "X": "x"}
DOC_TYPES = {"ID": "PA", "I": "PA", "P": "RP", "PP": "RP"}
# ICAO codes that differ from ISO 3166 alpha-3 (Germany is "D" in the MRZ).
ICAO_TO_ISO3 = {"D": "DEU"}
PREFILL_HINT_DE = ("Aus dem Ausweis gelesen (Schreibweise der maschinenlesbaren Zone). Umlaute "
                   "und Akzente bitte aus der Sichtzone des Ausweises übernehmen.")


@dataclass(frozen=True)
class NewPersonPrefill:
    """What the new-person form can take from the document."""

    family_name: str
    first_names: str
    birth_date: date | None
    sex: str | None
    nationalities: tuple[str, ...]
    document_type: str
    document_number: str
    valid_until: date | None
    hint_de: str = PREFILL_HINT_DE


@dataclass(frozen=True)
class ScanOutcome:
    """The scan, what it matched, and any check-digit problem to show the clerk."""

    mrz: MrzResult
    person_ids: tuple[str, ...] = ()
    prefill: NewPersonPrefill | None = None
    problems_de: tuple[str, ...] = field(default=())


def scan(store: Store, text: str, today: date | None = None) -> ScanOutcome:
    """Parse the scanned text (MrzFormatError if it is no MRZ) and look the holder up.

    With a wrong check digit nothing is looked up: the clerk sees which digit is wrong and
    scans again or types, rather than opening a person on a misread zone.
    """
    mrz = parse(text, today=today)
    if not mrz.is_valid:
        return ScanOutcome(mrz, problems_de=tuple(p.message_de for p in mrz.problems))
    ids = _by_document(store, mrz) or _by_name_and_birth(store, mrz)
    if ids:
        return ScanOutcome(mrz, person_ids=ids)
    return ScanOutcome(mrz, prefill=_prefill(mrz))


def _by_document(store: Store, mrz: MrzResult) -> tuple[str, ...]:
    rows = store.conn.execute("SELECT DISTINCT person_id FROM id_documents WHERE number = ?",
                              (mrz.document_number,)).fetchall()
    return tuple(r[0] for r in rows)


def _by_name_and_birth(store: Store, mrz: MrzResult) -> tuple[str, ...]:
    if mrz.birth_date is None:
        return ()
    rows = store.conn.execute(
        "SELECT id, given_sf FROM persons WHERE family_sf = ? AND birth_date = ?",
        (search_form(mrz.surname), mrz.birth_date.isoformat())).fetchall()
    given = {search_form(g) for g in mrz.given_names}
    return tuple(pid for pid, given_sf in rows if not given or given & set(given_sf.split()))


def _prefill(mrz: MrzResult) -> NewPersonPrefill:
    return NewPersonPrefill(
        family_name=_title(mrz.surname),
        first_names=" ".join(_title(g) for g in mrz.given_names),
        birth_date=mrz.birth_date,
        sex=SEX_TO_REGISTER.get(mrz.sex or ""),
        nationalities=(ICAO_TO_ISO3.get(mrz.nationality, mrz.nationality),),
        document_type=DOC_TYPES.get(mrz.document_code, mrz.document_code),
        document_number=mrz.document_number,
        valid_until=mrz.expiry_date,
    )


def _title(name: str) -> str:
    """'ERIKA MARIA' -> 'Erika Maria'; particles and diacritics the clerk takes from the card."""
    return "-".join(" ".join(w.capitalize() for w in part.split()) for part in name.split("-"))
