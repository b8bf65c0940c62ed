"""The register's records as the rest of the app sees them (§ 3 (1) BMG).

Plain frozen dataclasses: the UI, the command line and the sync layer read these and never
touch rows. Dates are `datetime.date`; codes (sex, residence kind) are the register's own
short codes, with German labels here so that every front end shows the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

SEX_LABELS = {"m": "männlich", "w": "weiblich", "d": "divers", "x": "ohne Angabe"}
RESIDENCE_LABELS = {"alleinig": "alleinige Wohnung", "haupt": "Hauptwohnung",
                    "neben": "Nebenwohnung"}
MARITAL_LABELS = {
    "LD": "ledig", "VH": "verheiratet", "VW": "verwitwet", "GS": "geschieden",
    "LP": "eingetragene Lebenspartnerschaft", "EA": "Ehe aufgehoben", "NB": "nicht bekannt",
}
RELIGION_LABELS = {"rk": "römisch-katholisch", "ev": "evangelisch", "ak": "altkatholisch",
                   "jd": "jüdisch", "--": "keine öffentlich-rechtliche Religionsgesellschaft"}


@dataclass(frozen=True)
class Address:
    """A domestic address from the street directory, or a foreign one (country + free text)."""

    street: str = ""
    house_number: str = ""
    postal_code: str = ""
    city: str = ""
    district: str = ""
    country: str = "DEU"
    foreign_address: str = ""

    def one_line(self) -> str:
        if self.country != "DEU":
            return f"{self.foreign_address}, {self.country}".strip(", ")
        return f"{self.street} {self.house_number}, {self.postal_code} {self.city}".strip(", ")


@dataclass(frozen=True)
class Residence:
    id: str
    kind: str
    address: Address
    move_in: date | None
    move_out: date | None
    previous_address: str | None = None

    @property
    def is_current(self) -> bool:
        return self.move_out is None

    @property
    def kind_label(self) -> str:
        return RESIDENCE_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class FormerName:
    kind: str
    name: str
    valid_until: date | None = None


@dataclass(frozen=True)
class IdDocument:
    id: str
    doc_type: str
    number: str
    authority: str | None
    issued_on: date | None
    valid_until: date | None

    def is_valid_on(self, day: date) -> bool:
        return self.valid_until is None or self.valid_until >= day


@dataclass(frozen=True)
class InformationBlock:
    """Auskunftssperre (§ 51 BMG) or bedingter Sperrvermerk (§ 52): no data leaves without care."""

    id: str
    kind: str
    legal_basis: str
    reason: str | None
    since: date
    until: date | None

    def is_active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    display_name: str
    birth_date: date | None


# A relation's kind as seen from the person whose record it is in (see `clerk_app.relations`).
RELATION_LABELS = {
    "ehegatte": "Ehegatte/Ehegattin",
    "lebenspartner": "Lebenspartner/Lebenspartnerin",
    "kind": "Kind",
    "elternteil": "Elternteil",
    "vertreter": "Gesetzlicher Vertreter",
    "vertreten": "Gesetzlich vertretene Person",
}


@dataclass(frozen=True)
class Relation:
    """A relation in the register (§ 3 (1) Nr. 9, 15-17 BMG): the related person is this
    person's `kind` ("kind": the related person is my child)."""

    kind: str
    person_id: str
    display_name: str
    birth_date: date | None
    since: date | None = None

    @property
    def label(self) -> str:
        return RELATION_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class PersonHit:
    """One line of a search result: enough to tell people apart, nothing more."""

    id: str
    family_name: str
    first_names: str
    doctorate: str | None
    birth_date: date | None
    address: str
    blocked: bool
    note: str = ""  # what else the search found the person by: "geb. Müller"

    @property
    def display_name(self) -> str:
        return display_name(self.family_name, self.first_names, self.doctorate)


@dataclass(frozen=True)
class PersonRecord:
    """Everything the register holds about one person, as shown in the person view."""

    id: str
    version: int
    family_name: str
    first_names: str
    everyday_name: str | None
    birth_name: str | None
    doctorate: str | None
    religious_name: str | None
    artist_name: str | None
    birth_date: date | None
    birth_place: str | None
    birth_country: str | None
    sex: str
    nationalities: tuple[str, ...]
    religion: str | None
    marital_status: str | None
    marital_date: date | None
    marital_place: str | None
    household_id: str | None
    former_names: tuple[FormerName, ...] = ()
    residences: tuple[Residence, ...] = ()
    household: tuple[HouseholdMember, ...] = ()
    documents: tuple[IdDocument, ...] = ()
    blocks: tuple[InformationBlock, ...] = field(default=())
    relations: tuple[Relation, ...] = ()

    @property
    def display_name(self) -> str:
        return display_name(self.family_name, self.first_names, self.doctorate)

    @property
    def current_residences(self) -> tuple[Residence, ...]:
        return tuple(r for r in self.residences if r.is_current)

    def active_blocks(self, day: date) -> tuple[InformationBlock, ...]:
        return tuple(b for b in self.blocks if b.is_active_on(day))


def display_name(family_name: str, first_names: str, doctorate: str | None = None) -> str:
    """'Dr. Müller, Anna Maria': family name first, as registers and clerks sort."""
    family = f"{doctorate} {family_name}" if doctorate else family_name
    return f"{family}, {first_names}" if first_names else family


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
