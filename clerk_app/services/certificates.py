"""Certificates issued at the counter: Meldebescheinigung, Lebensbescheinigung, and the request
for a civil-status certificate (Personenstandsurkunde) that the registry office issues.

Each is one command (see `base`): `prepare` checks the whole form at once (every field error in
one `FormError`, so the clerk sees all of them next to the fields), takes the payment, mints the
numbers, and writes into the payload a snapshot of exactly what the document says. `apply` only
writes what the payload says: the document, the payment, the audit entry (and for the
civil-status request the queued request). So the central service archives exactly what was
printed at the counter, and a later change of the register never changes a document already
handed out.

Rules that hold for all three:

* A person with an information block (Auskunftssperre) gets a document only after the clerk
  has acknowledged the block in the form (`block_acknowledged`); the acknowledgement is written
  into the audit entry. No document ever shows block data.
* No document shows ID-document data (numbers, validity, revocation data).
* Each issue is audited with the action `issue` (not `read`): the access log must say that
  register data left the office on paper, for which purpose, and on which document.
* Dates on documents are TT.MM.JJJJ; names are printed exactly as the register holds them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from clerk_app import blocks, cashbook, clerks, rules
from clerk_app.errors import NotFoundError
from clerk_app.fees import fee_for, format_cents
from clerk_app.form_reading import Section, country_name_de
from clerk_app.models import (
    MARITAL_LABELS,
    RELIGION_LABELS,
    SEX_LABELS,
    PersonRecord,
    Residence,
)
from clerk_app.person_record import load_person
from clerk_app.services.base import IssuedDocument, ServiceContext
from clerk_app.store.db import Store

__all__ = [
    "CERTIFICATE_KINDS",
    "ENTITLEMENTS",
    "EXTENDED_SECTIONS",
    "ISSUE",
    "HaushaltsMeldebescheinigung",
    "Lebensbescheinigung",
    "Meldebescheinigung",
    "PersonenstandsurkundeAntrag",
    "certificate_warnings",
]

# Audit action of every certificate: data left the office on a document. A plain "read" would
# hide that from a data-protection request (§ 10 BMG: who received which data).
ISSUE = "issue"

MAX_COPIES = 10  # more copies of one civil-status certificate is a typing error

# --- Meldebescheinigung ----------------------------------------------------------------------

MB_TYPES = {"einfach": "meldebescheinigung_einfach", "erweitert": "meldebescheinigung_erweitert"}
MB_TITLES = {"einfach": "Meldebescheinigung", "erweitert": "Erweiterte Meldebescheinigung"}

# What the extended form may add to the simple one (§ 18 (2) BMG: further data of § 3 (1)),
# grouped so that a citizen can ask for only what the receiving authority needs (the law lets
# the extended form show less). Default: all groups. Never a group: information blocks, ID
# documents (numbers, validity, revocation data), household members.
EXTENDED_SECTIONS = {
    "namen": "Frühere Namen, Geburtsname, Ordens- und Künstlername",
    "geburt": "Geburtsort (und Staat bei Geburt im Ausland)",
    "geschlecht": "Geschlecht",
    "staatsangehoerigkeit": "Staatsangehörigkeiten",
    "religion": "Zugehörigkeit zu einer öffentlich-rechtlichen Religionsgesellschaft",
    "familienstand": "Familienstand, bei Ehe oder Lebenspartnerschaft mit Datum und Ort",
    "fruehere_anschriften": "Frühere Anschriften mit Ein- und Auszugsdatum",
    "sterbedatum": "Hinweis, dass kein Sterbedatum gespeichert ist",
}

# ISO 3166-1 alpha-3 codes as the register stores nationalities -> the adjective a German
# certificate prints. Unlisted codes are printed as the code: never guessed.
NATIONALITY_LABELS = {
    "DEU": "deutsch", "AFG": "afghanisch", "ALB": "albanisch", "AUT": "österreichisch",
    "BEL": "belgisch", "BGR": "bulgarisch", "BIH": "bosnisch-herzegowinisch",
    "CHE": "schweizerisch", "CHN": "chinesisch", "CZE": "tschechisch", "DNK": "dänisch",
    "ESP": "spanisch", "FIN": "finnisch", "FRA": "französisch", "GBR": "britisch",
    "GRC": "griechisch", "HRV": "kroatisch", "HUN": "ungarisch", "IND": "indisch",
    "IRN": "iranisch", "IRQ": "irakisch", "ITA": "italienisch", "LUX": "luxemburgisch",
    "NLD": "niederländisch", "NOR": "norwegisch", "POL": "polnisch", "PRT": "portugiesisch",
    "ROU": "rumänisch", "RUS": "russisch", "SRB": "serbisch", "SVK": "slowakisch",
    "SVN": "slowenisch", "SWE": "schwedisch", "SYR": "syrisch", "TUR": "türkisch",
    "UKR": "ukrainisch", "USA": "US-amerikanisch", "VNM": "vietnamesisch",
    "XKX": "kosovarisch", "XXA": "staatenlos", "XXX": "ungeklärt",
}
GERMANY = {"", "DE", "DEU", "Deutschland"}

# --- Personenstandsurkunde -------------------------------------------------------------------

CERTIFICATE_KINDS = {"geburt": "Geburtsurkunde", "ehe": "Eheurkunde", "tod": "Sterbeurkunde"}
# Labels of the event's date and place on the request, per certificate.
EVENT_LABELS = {
    "geburt": ("Betroffene Person", "Geburtsdatum", "Geburtsort"),
    "ehe": ("Ehegatten", "Tag der Eheschließung", "Ort der Eheschließung"),
    "tod": ("Verstorbene Person", "Sterbedatum", "Sterbeort"),
}
# Who may receive a civil-status certificate (§ 62 (1) PStG): the persons the entry is about,
# their spouses or life partners, ancestors and descendants; siblings for a birth or death
# entry with a legitimate interest; anyone else with a legal interest made credible.
ENTITLEMENTS = {
    "selbst": "Person, auf die sich der Eintrag bezieht",
    "ehegatte": "Ehegatte oder Lebenspartner",
    "vorfahr": "Vorfahr (z. B. Eltern, Großeltern)",
    "abkoemmling": "Abkömmling (z. B. Kind, Enkel)",
    "geschwister": "Geschwister (berechtigtes Interesse)",
    "rechtliches_interesse": "Andere Person mit rechtlichem Interesse",
}
NEEDS_INTEREST = {"geschwister", "rechtliches_interesse"}
DELIVERIES = {"post": "Versand per Post an die Anschrift der antragstellenden Person",
              "abholung": "Abholung im Bürgerbüro"}
MIN_APPLICANT_AGE = 16  # § 62 (1) sentence 3 PStG
REQUEST_TYPE = "personenstandsurkunde"
REGISTRY_OFFICE = "Standesamt"


# --- warnings before issuing -----------------------------------------------------------------

def certificate_warnings(store: Store, person_id: str, today: date) -> list[str]:
    """German warnings for the UI to show before a certificate form is filled in.

    One per active information block (what to do: hand over only to the person, check the
    identity), and one if the person has no current residence (no Meldebescheinigung or
    Lebensbescheinigung is possible then). Reads no more than needed and writes no audit entry:
    the clerk has opened the person already, which was audited. NotFoundError for an unknown id.
    """
    if store.conn.execute("SELECT 1 FROM persons WHERE id = ?", (person_id,)).fetchone() is None:
        raise NotFoundError("Die Person ist im Melderegister nicht (mehr) vorhanden.",
                            "person not found in the register")
    warnings = [blocks.block_warning(b) for b in blocks.active_blocks(store, person_id, today)]
    current = store.conn.execute("SELECT 1 FROM residences WHERE person_id = ? "
                                 "AND move_out IS NULL", (person_id,)).fetchone()
    if current is None:
        warnings.append(_NO_RESIDENCE)
    return warnings


_NO_RESIDENCE = ("Für diese Person ist keine aktuelle Wohnung eingetragen: eine "
                 "Meldebescheinigung oder Lebensbescheinigung ist nicht möglich.")


# --- reading the form ------------------------------------------------------------------------

def _person(ctx: ServiceContext, f: Section) -> PersonRecord | None:
    raw = f.data.get("person_id")
    if not isinstance(raw, str) or not raw.strip():
        f.error("person_id", "Bitte die Person auswählen.")
        return None
    person_id = f.text("person_id", max_length=64)  # no invisible characters, no pasted text
    if person_id is None:
        return None
    try:
        return load_person(ctx.store, person_id)
    except NotFoundError as exc:
        f.error("person_id", exc.message_de)
        return None


def _acknowledged_blocks(ctx: ServiceContext, f: Section,
                         person: PersonRecord | None) -> list[dict[str, Any]]:
    """The active blocks the clerk acknowledged, as payload data; an error if not acknowledged.

    The block is checked on the day of issue, on the register as it is in this transaction.
    """
    acknowledged = f.flag(blocks.ACKNOWLEDGE_FIELD)
    if person is None:
        return []
    active = person.active_blocks(ctx.today)
    if active and not acknowledged:
        f.error(blocks.ACKNOWLEDGE_FIELD, blocks.acknowledgement_error(active))
    return [blocks.block_snapshot(b) for b in active]


def _payment(ctx: ServiceContext, f: Section, service_code: str,
             copies: int = 1) -> dict[str, Any]:
    """Fix the payment with the cashbook, which records its field errors in the form's.

    The cashbook mints the receipt number; if the form fails after all, the transaction rolls
    back and the number with it (the series stays gap-free). A closed business day is not a
    field error and propagates as the cashbook's ValidationError.
    """
    payment = f.group("payment")
    return {} if payment is None else cashbook.read_payment(ctx, service_code, payment,
                                                            copies)


# --- document content ------------------------------------------------------------------------

def _date(value: date | None) -> str:
    return blocks.fmt_date(value) if value else "nicht bekannt"


def _residence_line(r: Residence) -> str:
    line = r.address.one_line()
    if r.move_in:
        line += f", eingezogen am {blocks.fmt_date(r.move_in)}"
    return line


def _earlier_residence_line(r: Residence) -> str:
    span = [f"eingezogen am {blocks.fmt_date(r.move_in)}"] if r.move_in else []
    if r.move_out:
        span.append(f"ausgezogen am {blocks.fmt_date(r.move_out)}")
    return f"{r.address.one_line()} ({', '.join([r.kind_label, *span])})"


def _current_residence_fields(person: PersonRecord) -> list[tuple[str, str]]:
    """Each current residence as (kind, address with move-in date): main or sole first."""
    return [(_capital(r.kind_label), _residence_line(r)) for r in person.current_residences]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name_fields(person: PersonRecord) -> list[tuple[str, str]]:
    fields = [("Vornamen", person.first_names)]
    if person.everyday_name:
        fields.append(("Gebräuchlicher Vorname", person.everyday_name))
    if person.doctorate:
        fields.append(("Doktorgrad", person.doctorate))
    return fields


def _birth_place(person: PersonRecord) -> str:
    place = person.birth_place or ""
    country = (person.birth_country or "").strip()
    if country not in GERMANY:
        country = country_name_de(country.upper()) or country  # the register keeps codes
        place = f"{place}, {country}" if place else country
    return place or "nicht bekannt"


def _former_name_fields(person: PersonRecord) -> list[tuple[str, str]]:
    """Former names by kind; the birth name once even if both columns hold it."""
    fields: list[tuple[str, str]] = []
    for former in person.former_names:
        value = former.name
        if former.valid_until:
            value += f" (bis {blocks.fmt_date(former.valid_until)})"
        fields.append((former.kind or "Früherer Name", value))
    listed_birth_names = {f.name for f in person.former_names if f.kind == "Geburtsname"}
    if person.birth_name and person.birth_name not in listed_birth_names:
        fields.insert(0, ("Geburtsname", person.birth_name))
    return fields


def _nationalities(codes: tuple[str, ...]) -> str:
    return ", ".join(NATIONALITY_LABELS.get(c, c) for c in codes) or "nicht bekannt"


def _marital_fields(person: PersonRecord) -> list[tuple[str, str]]:
    if not person.marital_status:
        return []
    fields = [("Familienstand", MARITAL_LABELS.get(person.marital_status,
                                                   person.marital_status))]
    # § 3 (1) BMG: date and place only for a marriage or partnership that exists.
    if person.marital_status == "VH":
        labels = ("Tag der Eheschließung", "Ort der Eheschließung")
    elif person.marital_status == "LP":
        labels = ("Tag der Begründung der Lebenspartnerschaft",
                  "Ort der Begründung der Lebenspartnerschaft")
    else:
        return fields
    if person.marital_date:
        fields.append((labels[0], blocks.fmt_date(person.marital_date)))
    if person.marital_place:
        fields.append((labels[1], person.marital_place))
    return fields


def _earlier_address_fields(person: PersonRecord) -> list[tuple[str, str]]:
    """Earlier residences, then addresses before a move-in that are not residences here
    (moved in from elsewhere or from abroad), each once."""
    fields = [("Frühere Wohnung", _earlier_residence_line(r))
              for r in person.residences if not r.is_current]
    known = {r.address.one_line() for r in person.residences}
    for r in person.residences:
        previous = (r.previous_address or "").strip()
        if previous and previous not in known:
            known.add(previous)
            fields.append(("Zuzug aus", previous))
    return fields


def meldebescheinigung_fields(person: PersonRecord, variant: str,
                              sections: tuple[str, ...], purpose: str,
                              ) -> tuple[tuple[str, str], ...]:
    """What a Meldebescheinigung says, in the order of § 3 (1) BMG.

    Simple (§ 18 (1)): family name, first names (everyday name marked as its own field),
    doctorate, date of birth, current residences with kind and move-in date. Extended
    (§ 18 (2)): the chosen `sections` added in their places. Block and ID-document data are not
    read here at all, so no section can leak them. Empty optional data is left out rather than
    printed as a blank line.
    """
    extended = variant == "erweitert"
    chosen = set(sections) if extended else set()
    fields: list[tuple[str, str]] = [("Familienname", person.family_name)]
    if "namen" in chosen:
        fields += _former_name_fields(person)
    fields += _name_fields(person)
    if "namen" in chosen:
        if person.religious_name:
            fields.append(("Ordensname", person.religious_name))
        if person.artist_name:
            fields.append(("Künstlername", person.artist_name))
    fields.append(("Geburtsdatum", _date(person.birth_date)))
    if "geburt" in chosen:
        fields.append(("Geburtsort", _birth_place(person)))
    if "geschlecht" in chosen:
        fields.append(("Geschlecht", SEX_LABELS.get(person.sex, person.sex)))
    if "staatsangehoerigkeit" in chosen:
        label = "Staatsangehörigkeiten" if len(person.nationalities) > 1 else \
            "Staatsangehörigkeit"
        fields.append((label, _nationalities(person.nationalities)))
    if "religion" in chosen and person.religion:
        fields.append(("Religionsgesellschaft",
                       RELIGION_LABELS.get(person.religion, person.religion)))
    if "familienstand" in chosen:
        fields += _marital_fields(person)
    fields += _current_residence_fields(person)
    if "fruehere_anschriften" in chosen:
        fields += _earlier_address_fields(person)
    if "sterbedatum" in chosen:
        # § 18 (2) BMG allows stating that no date of death is stored: pension funds ask.
        fields.append(("Sterbedatum", "im Melderegister nicht gespeichert"))
    if purpose:
        fields.append(("Verwendungszweck", purpose))
    return tuple(fields)


def _document_payload(number: str, doc_type: str, title: str,
                      fields: tuple[tuple[str, str], ...], receipt_number: str | None,
                      ) -> dict[str, Any]:
    """The printed document as payload data: JSON lists, rebuilt by `_document` in apply."""
    return {"number": number, "type": doc_type, "title": title,
            "fields": [list(f) for f in fields], "receipt_number": receipt_number}


def _document(payload: Mapping[str, Any], person_id: str) -> IssuedDocument:
    doc = payload["document"]
    return IssuedDocument(number=doc["number"], type=doc["type"], title=doc["title"],
                          person_id=person_id,
                          fields=tuple((str(label), str(value)) for label, value in doc["fields"]),
                          receipt_number=doc["receipt_number"])


def _touch_person(ctx: ServiceContext, person: PersonRecord) -> dict[str, int]:
    """Record the versions the document was read from, for the sync's check.

    The person, and every residence printed: an address changed centrally meanwhile makes
    this document a case for the clerk (Klärfall), not a silent stale certificate.
    """
    versions = {f"persons/{person.id}": ctx.touch("persons", person.id)}
    for r in person.current_residences:
        versions[f"residences/{r.id}"] = ctx.touch("residences", r.id)
    return versions


def _issue(ctx: ServiceContext, payload: Mapping[str, Any], audit_purpose: str) -> None:
    """The common end of every apply: check the person exists, book the payment, file the
    document, write the audit entry (with the block acknowledgement, if any)."""
    person_id = str(payload["person_id"])
    ctx.touch("persons", person_id)
    receipt = cashbook.apply_payment(ctx, payload["payment"], person_id)
    document = _document(payload, person_id)
    ctx.issue_document(document)
    detail = [f"Dokument {document.number}"]
    if receipt is not None:
        detail.append(f"Quittung {receipt.number}")
    note = blocks.audit_note(payload["block_acknowledgement"])
    if note:
        detail.append(note)
    ctx.audit(ISSUE, person_id, audit_purpose, "; ".join(detail))


def _purpose(title: str, text: str) -> str:
    return f"{title}: {text}" if text else title


# --- the services ----------------------------------------------------------------------------

class Meldebescheinigung:
    """Meldebescheinigung, simple or extended (§ 18 BMG).

    Form: person_id, variant ("einfach" | "erweitert"), purpose (optional text, printed as
    "Verwendungszweck"), sections (optional, extended only: codes of EXTENDED_SECTIONS; default
    all), payment (see `cashbook.prepare_payment`), block_acknowledged.
    """

    type = "meldebescheinigung"
    permission = clerks.CERTIFICATES
    FIELDS: ClassVar[frozenset[str]] = frozenset({
        "person_id", "variant", "purpose", "sections", "payment", blocks.ACKNOWLEDGE_FIELD})

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form, allowed=self.FIELDS)
        person = _person(ctx, f)
        variant = f.choice("variant", MB_TITLES, required=True,
                           ask="die Art der Meldebescheinigung")
        purpose = f.text("purpose", noun="Verwendungszweck") or ""
        sections = self._sections(f, variant)
        acknowledged = _acknowledged_blocks(ctx, f, person)
        if person is not None and not person.current_residences:
            f.error("person_id", _NO_RESIDENCE)
        payment = _payment(ctx, f, MB_TYPES[variant]) if variant else {}
        f.raise_errors()
        assert person is not None and variant is not None
        versions = _touch_person(ctx, person)
        fields = meldebescheinigung_fields(person, variant, sections, purpose)
        return {
            "person_id": person.id, "person_versions": versions, "variant": variant,
            "purpose": purpose, "sections": list(sections), "issued_on": ctx.today.isoformat(),
            "block_acknowledgement": acknowledged, "payment": payment,
            "document": _document_payload(ctx.number("MB"), MB_TYPES[variant],
                                          MB_TITLES[variant], fields,
                                          payment.get("receipt_number")),
        }

    @staticmethod
    def _sections(f: Section, variant: str | None) -> tuple[str, ...]:
        raw = f.data.get("sections")
        if raw is None:
            return tuple(EXTENDED_SECTIONS) if variant == "erweitert" else ()
        if variant != "erweitert":
            if not raw:
                return ()  # an empty choice is no choice: nothing to object to
            f.error("sections", "Zusätzliche Angaben gibt es nur bei der erweiterten "
                                "Meldebescheinigung.")
            return ()
        if not isinstance(raw, list | tuple) or not all(isinstance(s, str) for s in raw):
            f.error("sections", "Die zusätzlichen Angaben sind ungültig.")
            return ()
        unknown = [s for s in raw if s not in EXTENDED_SECTIONS]
        if unknown:
            f.error("sections", f"Unbekannte zusätzliche Angabe „{unknown[0]}“.")
            return ()
        # The schedule's order, whatever order the UI sent: the document reads the same.
        return tuple(s for s in EXTENDED_SECTIONS if s in raw)

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        _issue(ctx, payload, _purpose(payload["document"]["title"], payload["purpose"]))


class HaushaltsMeldebescheinigung:
    """Meldebescheinigungen for several members of one household at once: one dialog, one
    command, one transaction; a document and a fee per person (the schedule's fee of the
    variant, each with its own receipt, so that one person's certificate can be reversed on
    its own).

    Form: as `Meldebescheinigung` (person_id: the person opened at the counter), plus members
    (ids of further persons of the same household). The payment is the household's: cash given
    once for all; each receipt is exact, the last one takes the rest and shows the change.
    A member with an information block is refused here (issued on its own, with the block
    acknowledged: the household's papers are handed to one person).
    """

    type = "meldebescheinigung_haushalt"
    permission = clerks.CERTIFICATES
    FIELDS: ClassVar[frozenset[str]] = Meldebescheinigung.FIELDS | {"members"}
    MAX_MEMBERS = 20

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form, allowed=self.FIELDS)
        person = _person(ctx, f)
        members = self._members(ctx, f, person)
        variant = f.choice("variant", MB_TITLES, required=True,
                           ask="die Art der Meldebescheinigung")
        purpose = f.text("purpose", noun="Verwendungszweck") or ""
        sections = Meldebescheinigung._sections(f, variant)
        acknowledged = _acknowledged_blocks(ctx, f, person)
        everyone = [person, *members] if person is not None else []
        for who in everyone:
            if not who.current_residences:
                f.error("person_id" if who is person else "members",
                        f"{who.display_name}: {_NO_RESIDENCE}")
        payments = _shared_payments(ctx, f, MB_TYPES[variant], len(everyone)) \
            if variant and everyone else []
        f.raise_errors()
        assert variant is not None
        title = MB_TITLES[variant]
        certificates = []
        for who, payment in zip(everyone, payments or [{}] * len(everyone), strict=True):
            fields = meldebescheinigung_fields(who, variant, sections, purpose)
            certificates.append({
                "person_id": who.id, "person_versions": _touch_person(ctx, who),
                "block_acknowledgement": acknowledged if who is person else [],
                "payment": payment,
                "document": _document_payload(ctx.number("MB"), MB_TYPES[variant], title,
                                               fields, payment.get("receipt_number"))})
        return {"variant": variant, "purpose": purpose, "sections": list(sections),
                "issued_on": ctx.today.isoformat(), "certificates": certificates,
                "summary": _household_summary(title, payments)}

    def _members(self, ctx: ServiceContext, f: Section, person: PersonRecord | None,
                 ) -> list[PersonRecord]:
        """Further persons of the opened person's household, each once, none blocked."""
        ids = f.strings("members", max_length=64)
        if not ids:
            f.error("members", "Bitte mindestens ein weiteres Haushaltsmitglied wählen.")
            return []
        if len(ids) > self.MAX_MEMBERS:
            f.error("members", f"Höchstens {self.MAX_MEMBERS} Personen auf einmal.")
            return []
        if person is None:
            return []
        household = {m.person_id for m in person.household}
        found: list[PersonRecord] = []
        for member_id in dict.fromkeys(ids):
            if member_id not in household:
                f.error("members", "Eine gewählte Person gehört nicht zum Haushalt.")
                return []
            member = load_person(ctx.store, member_id)
            if member.active_blocks(ctx.today):
                f.error("members", f"Für {member.display_name} besteht eine Auskunftssperre: "
                                   "bitte einzeln ausstellen.")
            found.append(member)
        return found

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        purpose = _purpose(MB_TITLES[payload["variant"]], payload["purpose"])
        for certificate in payload["certificates"]:
            _issue(ctx, certificate, purpose)
        ctx.notices.append(payload["summary"])


def _household_summary(title: str, payments: list[dict[str, Any]]) -> str:
    """'3 × Meldebescheinigung, Gebühren zusammen 21,00 € (bar: gegeben 50,00 €, Rückgeld
    29,00 €)': what the clerk says to the citizen, the receipts being one per person."""
    count = len(payments)
    total = sum(p.get("amount_cents") or 0 for p in payments)
    text = f"{count} × {title}, Gebühren zusammen {format_cents(total)}"
    if payments and payments[0].get("method") == "bar":
        given = sum(p["given_cents"] for p in payments)
        text += (f" (bar: gegeben {format_cents(given)}, Rückgeld "
                 f"{format_cents(payments[-1]['change_cents'])})")
    elif payments and payments[0].get("method") == "karte":
        text += " (Kartenzahlung)"
    elif payments and payments[0].get("exemption"):
        text += f" (gebührenfrei: {payments[0]['exemption_reason']})"
    return text + f"; {count} Quittungen." if payments and payments[0].get("receipt_number") \
        else text + "."


def _shared_payments(ctx: ServiceContext, f: Section, service_code: str, count: int,
                     ) -> list[dict[str, Any]]:
    """One payment per person for a fee paid once: the method and exemption are shared; cash
    given is split so that each receipt is exact and the last one shows the change."""
    group = f.group("payment")
    if group is None:
        return []
    data = dict(group.data)
    given = data.get("given_cents")
    shares: list[object] = [given] * count
    if data.get("method") == "bar" and isinstance(given, int) and not isinstance(given, bool):
        fee = fee_for(service_code).cents
        total = fee * count
        if given < total:
            group.error("given", f"Der gegebene Betrag ({format_cents(given)}) ist "
                                 f"kleiner als die Gebühren ({count} × "
                                 f"{format_cents(fee)} = "
                                 f"{format_cents(total)}).")
            return []
        shares = [*([fee] * (count - 1)), given - fee * (count - 1)]
    # The day's starting float is counted once, with the first receipt (a second entry for the
    # same drawer and day would be refused by the register).
    later = {k: v for k, v in data.items() if k != "float_cents"}
    return [cashbook.read_payment(ctx, service_code, Section(
        {**(later if i else data), "given_cents": share} if "given_cents" in data
        else (later if i else data), group.prefix, group.errors))
        for i, share in enumerate(shares)]


class Lebensbescheinigung:
    """Life certificate: the person is registered here and appeared alive, in person, with ID.

    Form: person_id, institution (required: who asks, e.g. the pension fund and its country),
    reference (optional: the fund's reference or insurance number), id_document_checked (must
    be true), payment (optional; the service is free), block_acknowledged.
    """

    type = "lebensbescheinigung"
    permission = clerks.CERTIFICATES
    FIELDS: ClassVar[frozenset[str]] = frozenset({
        "person_id", "institution", "reference", "id_document_checked", "payment",
        blocks.ACKNOWLEDGE_FIELD})

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form, allowed=self.FIELDS)
        person = _person(ctx, f)
        institution = f.text("institution", required=True, noun="Anfordernde Stelle",
                             ask="die anfordernde Stelle (z. B. Rentenkasse und Land)") or ""
        reference = f.text("reference", noun="Aktenzeichen") or ""
        f.confirmed("id_document_checked", "Eine Lebensbescheinigung wird nur bei persönlicher "
                                           "Vorsprache mit gültigem Ausweis ausgestellt: bitte "
                                           "die Prüfung des Ausweises bestätigen.")
        acknowledged = _acknowledged_blocks(ctx, f, person)
        if person is not None and not person.current_residences:
            f.error("person_id", _NO_RESIDENCE)
        payment = _payment(ctx, f, "lebensbescheinigung")
        f.raise_errors()
        assert person is not None
        versions = _touch_person(ctx, person)
        fields: list[tuple[str, str]] = [("Familienname", person.family_name)]
        if person.birth_name:
            fields.append(("Geburtsname", person.birth_name))
        fields += _name_fields(person)
        fields += [("Geburtsdatum", _date(person.birth_date)),
                   ("Geburtsort", _birth_place(person))]
        fields += _current_residence_fields(person)
        fields += [("Anfordernde Stelle", institution)]
        if reference:
            fields.append(("Aktenzeichen der anfordernden Stelle", reference))
        fields.append(("Bestätigung", (
            "Die genannte Person ist im Melderegister mit der angegebenen Wohnung gemeldet. "
            f"Sie hat am {blocks.fmt_date(ctx.today)} persönlich vorgesprochen, sich mit einem "
            "gültigen amtlichen Ausweis ausgewiesen und ist am Leben.")))
        return {
            "person_id": person.id, "person_versions": versions, "institution": institution,
            "reference": reference, "id_document_checked": True,
            "issued_on": ctx.today.isoformat(), "block_acknowledgement": acknowledged,
            "payment": payment,
            "document": _document_payload(ctx.number("LB"), "lebensbescheinigung",
                                          "Lebensbescheinigung", tuple(fields),
                                          payment.get("receipt_number")),
        }

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        _issue(ctx, payload, _purpose("Lebensbescheinigung", payload["institution"]))


_YEAR_RE = re.compile(r"\d{4}")
_GERMAN_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def parse_event_date(text: str, today: date) -> tuple[str, str] | str:
    """A civil-status event's date as the applicant knows it -> (stored form, printed form),
    or a German error message.

    Accepted: TT.MM.JJJJ, JJJJ-MM-TT, or only the year JJJJ (old entries, grandparents: the
    registry office searches by year). Stored as ISO date or year; never in the future.
    """
    text = text.strip()
    if _YEAR_RE.fullmatch(text):
        year = int(text)
        if not 1800 <= year <= today.year:
            return f"Das Jahr {text} ist nicht plausibel."
        return text, text
    match = _GERMAN_DATE_RE.fullmatch(text)
    try:
        day = (date(int(match[3]), int(match[2]), int(match[1])) if match
               else date.fromisoformat(text))
    except ValueError:
        if match or rules.is_date_text(text):   # "31.02.2001": written right, no such day
            return f"Den Tag „{text}“ gibt es nicht."
        return f"„{text}“ ist kein gültiges Datum (TT.MM.JJJJ oder nur das Jahr)."
    if day > today:
        return "Das Datum liegt in der Zukunft."
    return day.isoformat(), blocks.fmt_date(day)


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class PersonenstandsurkundeAntrag:
    """Request for a birth, marriage or death certificate, forwarded to the registry office.

    The counter checks entitlement (§ 62 PStG) and identity, takes the fee and queues the
    request (table `requests`, status "queued"; it travels in the outbox like every command).
    The citizen gets a confirmation with the request number; the certificate itself comes
    from the registry office.

    Form: person_id (the applicant), certificate ("geburt" | "ehe" | "tod"), subject
    {names, date, place, registry_number?}, entitlement {basis, interest?}, copies (int 1-10),
    delivery ("post" | "abholung", default "post"), id_document_checked (must be true),
    payment, block_acknowledged.
    """

    type = "personenstandsurkunde_antrag"
    permission = clerks.CERTIFICATES
    FIELDS: ClassVar[frozenset[str]] = frozenset({
        "person_id", "certificate", "subject", "entitlement", "copies", "delivery",
        "id_document_checked", "payment", blocks.ACKNOWLEDGE_FIELD})

    def prepare(self, ctx: ServiceContext, form: dict[str, Any]) -> dict[str, Any]:
        f = Section.root(form, allowed=self.FIELDS)
        person = _person(ctx, f)
        kind = f.choice("certificate", CERTIFICATE_KINDS, required=True, ask="die Urkunde")
        subject = self._subject(ctx, f, kind)
        entitlement = self._entitlement(f, kind)
        copies = self._copies(f)
        # By post unless chosen otherwise; a wrong choice is recorded, so nothing is sent.
        delivery = f.choice("delivery", DELIVERIES, ask="die Zustellung") or "post"
        f.confirmed("id_document_checked", "Bitte bestätigen, dass der Ausweis der "
                                           "antragstellenden Person geprüft wurde.")
        acknowledged = _acknowledged_blocks(ctx, f, person)
        if person is not None and person.birth_date is not None and \
                _age_on(person.birth_date, ctx.today) < MIN_APPLICANT_AGE:
            f.error("person_id", "Personenstandsurkunden können erst ab 16 Jahren beantragt "
                                 "werden (§ 62 Abs. 1 Satz 3 PStG).")
        if person is not None and delivery == "post" and not person.current_residences:
            f.error("delivery", "Für die antragstellende Person ist keine aktuelle Anschrift "
                                "eingetragen: bitte Abholung wählen.")
        payment = _payment(ctx, f, "personenstandsurkunde_antrag", copies)
        f.raise_errors()
        assert person is not None and kind is not None
        versions = _touch_person(ctx, person)
        number = ctx.number("PSA")
        address = person.current_residences[0].address.one_line() \
            if person.current_residences else ""
        applicant = {"person_id": person.id, "family_name": person.family_name,
                     "first_names": person.first_names, "doctorate": person.doctorate,
                     "birth_date": person.birth_date.isoformat() if person.birth_date else None,
                     "address": address}
        request = {
            "request_number": number, "to": REGISTRY_OFFICE, "certificate": kind,
            "certificate_name": CERTIFICATE_KINDS[kind], "copies": copies,
            "subject": subject, "entitlement": entitlement, "delivery": delivery,
            "applicant": applicant, "id_document_checked": True,
            "requested_on": ctx.today.isoformat(),
            "receipt_number": payment.get("receipt_number"),
            "fee_cents": payment.get("amount_cents", 0), "exemption": payment.get("exemption"),
        }
        fields = self._fields(person, number, kind, subject, entitlement, copies, delivery,
                              address)
        return {
            "person_id": person.id, "person_versions": versions, "request": request,
            "issued_on": ctx.today.isoformat(), "block_acknowledgement": acknowledged,
            "payment": payment,
            "document": _document_payload(number, "personenstandsurkunde_antrag",
                                          "Antrag auf Personenstandsurkunde", fields,
                                          payment.get("receipt_number")),
        }

    @staticmethod
    def _subject(ctx: ServiceContext, f: Section, kind: str | None) -> dict[str, str]:
        section = f.section("subject", required=True, ask="Namen, Datum und Ort des Eintrags",
                            allowed={"names", "date", "place", "registry_number"})
        if section is None:
            return {}
        labels = EVENT_LABELS.get(kind or "geburt", EVENT_LABELS["geburt"])

        def text(key: str, noun: str, ask: str) -> str:
            return section.text(key, required=True, noun=noun, ask=ask) or ""

        names = text("names", labels[0], f"die Namen ({labels[0]})")
        date_text = text("date", labels[1], f"das Datum ({labels[1]})")
        place = text("place", labels[2], f"den Ort ({labels[2]})")
        registry_number = section.text("registry_number", noun="Registernummer") or ""
        subject = {"names": names, "date": "", "date_printed": "", "place": place,
                   "registry_number": registry_number}
        if date_text:
            parsed = parse_event_date(date_text, ctx.today)
            if isinstance(parsed, str):
                section.error("date", parsed)
            else:
                subject["date"], subject["date_printed"] = parsed
        return subject

    @staticmethod
    def _entitlement(f: Section, kind: str | None) -> dict[str, str]:
        section = f.group("entitlement", allowed={"basis", "interest"})
        if section is None:
            return {}
        basis = section.choice("basis", ENTITLEMENTS, required=True,
                               ask="die Berechtigung (§ 62 PStG)")
        interest = section.text("interest", required=basis in NEEDS_INTEREST, noun="Interesse",
                                ask="das berechtigte oder rechtliche Interesse") or ""
        if basis == "selbst" and kind == "tod":
            section.error("basis", "Eine Sterbeurkunde kann nicht für die antragstellende "
                                   "Person selbst beantragt werden.")
        if basis == "geschwister" and kind == "ehe":
            # § 62 (1) sentence 2 PStG: the sibling rule covers birth and death entries only.
            section.error("basis", "Geschwister erhalten eine Eheurkunde nur mit rechtlichem "
                                   "Interesse: bitte „rechtliches Interesse“ wählen und "
                                   "begründen.")
        return {"basis": basis or "", "interest": interest}

    @staticmethod
    def _copies(f: Section) -> int:
        value = f.data.get("copies", 1)
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 1 <= value <= MAX_COPIES:
            f.error("copies", f"Die Anzahl muss eine ganze Zahl von 1 bis {MAX_COPIES} sein.")
            return 1
        return value

    @staticmethod
    def _fields(person: PersonRecord, number: str, kind: str, subject: Mapping[str, str],
                entitlement: Mapping[str, str], copies: int, delivery: str,
                address: str) -> tuple[tuple[str, str], ...]:
        labels = EVENT_LABELS[kind]
        fields: list[tuple[str, str]] = [
            ("Antragsnummer", number),
            ("Urkunde", CERTIFICATE_KINDS[kind]),
            ("Anzahl", str(copies)),
            (labels[0], subject["names"]),
            (labels[1], subject["date_printed"]),
            (labels[2], subject["place"]),
        ]
        if subject["registry_number"]:
            fields.append(("Registernummer", subject["registry_number"]))
        fields += [("Antragsteller/in", person.display_name),
                   ("Geburtsdatum der antragstellenden Person", _date(person.birth_date))]
        if address:
            fields.append(("Anschrift", address))
        fields.append(("Berechtigung (§ 62 PStG)", ENTITLEMENTS[entitlement["basis"]]))
        if entitlement["interest"]:
            fields.append(("Begründetes Interesse", entitlement["interest"]))
        fields += [("Zustellung", DELIVERIES[delivery]),
                   ("Weitergeleitet an", REGISTRY_OFFICE),
                   ("Hinweis", "Die Urkunde stellt das Standesamt aus. Bitte bei Rückfragen die "
                               "Antragsnummer angeben.")]
        return tuple(fields)

    def apply(self, ctx: ServiceContext, payload: dict[str, Any]) -> None:
        request = payload["request"]
        ctx.touch("persons", payload["person_id"])  # a clear error, not a foreign-key failure
        ctx.conn.execute(
            "INSERT INTO requests (id, command_id, type, person_id, payload, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)",
            (request["request_number"], ctx.command_id, REQUEST_TYPE, payload["person_id"],
             _json(request), ctx.now.isoformat(timespec="seconds")))
        _issue(ctx, payload, _purpose("Antrag auf Personenstandsurkunde",
                                      request["certificate_name"]))


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
