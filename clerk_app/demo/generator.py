"""The demo register's generator: households drawn one by one from the name pools.

All randomness comes from one `random.Random` in a fixed order (nothing iterates over a set,
"today" is `DEMO_AS_OF`, not the clock), so the same seed gives the same rows, byte for byte.
The generator only collects rows; `clerk_app.demo.build` writes them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Generic, TypeVar

from clerk_app import names
from clerk_app.demo.name_pools import (
    ARTIST_FIRST,
    ARTIST_LAST,
    BLOCK_REASONS,
    DOMESTIC_CITIES,
    FOREIGN_ORIGINS,
    GENERIC_STREETS,
    GERMAN_BIRTH_PLACES,
    MODERN_FEMALE,
    MODERN_MALE,
    NEUTRAL,
    RELIGIOUS_FEMALE,
    RELIGIOUS_MALE,
    Family,
    Origin,
)
from clerk_app.relations import INVERSE
from clerk_app.streets import Street

# "Today" in the demo world: fixed, so that a build is reproducible on any day. Documents and
# information blocks are valid or expired relative to this date.
DEMO_AS_OF = date(2026, 11, 1)
CITY = "Lörrach"
AUTHORITY = "Stadt Lörrach"
BLOCK_SHARE = 0.005  # residents with an information block (§ 51 BMG)
SECONDARY_SHARE = 0.05  # adults who also have a secondary residence
HISTORY_SHARE = 0.30  # households with an earlier address on record
# The first digital records: nothing is "created" in the register before this date.
REGISTER_START = date(1996, 1, 2).toordinal()
# The relation a marital status means between the two adults of a couple (§ 3 BMG).
PARTNER_KINDS = {"VH": "ehegatte", "LP": "lebenspartner"}
RELATION_NAMESPACE = uuid.UUID("5f0c2a9e-7d1b-4c3e-9a61-3b8d2f4e6a10")  # demo relation ids
# ID card / passport numbers: the alphabet of German document numbers (no vowels, no B, D,
# Q, S) so that no word and no confusion with digits arises.
DOC_LETTERS = "CFGHJKLMNPRTVWXYZ"
DOC_CHARS = DOC_LETTERS + "0123456789"

T = TypeVar("T")


class _Weighted(Generic[T]):
    """Weighted choice by bisection: `random.choices` rebuilds its tables on every call."""

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in items]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in items:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _one_street_per_name(streets: Sequence[Street]) -> list[Street]:
    """The first street of each name in the directory.

    The directory has a Hauptstraße in four districts, under other postcodes. Residents drawn
    into all of them gave the demo register "Hauptstraße 12, 79539" and "Hauptstraße 12,
    79541", both in Lörrach: an address no letter could be delivered to, and a clerk trying
    the demo takes it for a register error. One street per name keeps each address unique.
    """
    seen: set[str] = set()
    kept = []
    for street in streets:
        if street.name not in seen:
            seen.add(street.name)
            kept.append(street)
    return kept


@lru_cache(maxsize=1 << 16)
def _iso(ordinal: int) -> str:
    """Dates repeat (some 40,000 days over a century): each is formatted once."""
    return date.fromordinal(ordinal).isoformat()


def _uuid_text(value: int) -> str:
    """`str(uuid.UUID(int=value))` without building the object (a million residents have
    some four million ids)."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# The bits `uuid.UUID(..., version=n)` sets: the variant (RFC 4122) and the version.
_VARIANT_MASK = ~(0xC000 << 48) & ~(0xF000 << 64)
_VARIANT = 0x8000 << 48


def _random_uuid(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))`."""
    return _uuid_text((bits & _VARIANT_MASK) | _VARIANT | (4 << 76))


def _name_uuid(namespace: bytes, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))`."""
    digest = int.from_bytes(hashlib.sha1(namespace + name.encode()).digest()[:16], "big")
    return _uuid_text((digest & _VARIANT_MASK) | _VARIANT | (5 << 76))


@lru_cache(maxsize=256)
def _json_list(values: tuple[str, ...]) -> str:
    """Nationality lists repeat: a few dozen distinct ones."""
    return json.dumps(list(values))


def _add_years(ordinal: int, years: int) -> int:
    d = date.fromordinal(ordinal)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).toordinal()


@dataclass(slots=True)
class _Person:
    id: str
    origin: Origin
    sex: str
    birth: int  # date ordinal
    family: str
    pair: Family  # both forms of the family name, passed on to children and spouses
    first_names: list[str]
    birth_place: str
    birth_country: str | None
    nationalities: list[str]
    religion: str
    marital_status: str = "LD"
    marital_date: int | None = None
    marital_place: str | None = None
    birth_name: str | None = None
    doctorate: str | None = None
    religious_name: str | None = None
    artist_name: str | None = None
    everyday: str | None = None
    child: bool = False  # lives in the household as a child of the adults


@dataclass(slots=True)
class _Address:
    street_id: int | None
    street: str
    house_number: str
    postal_code: str
    city: str
    district: str | None

    def one_line(self) -> str:
        return f"{self.street} {self.house_number}, {self.postal_code} {self.city}"


@dataclass
class Rows:
    households: list[tuple[str, str]] = field(default_factory=list)
    persons: list[tuple[object, ...]] = field(default_factory=list)
    former: list[tuple[object, ...]] = field(default_factory=list)
    residences: list[tuple[object, ...]] = field(default_factory=list)
    documents: list[tuple[object, ...]] = field(default_factory=list)
    blocks: list[tuple[object, ...]] = field(default_factory=list)
    relations: list[tuple[object, ...]] = field(default_factory=list)
    members: list[list[str]] = field(default_factory=list)  # person ids per household


class Generator:
    """Draws households one by one; all randomness from `self.rng`, in a fixed order."""

    def __init__(self, rng: random.Random, streets: Sequence[Street], german: Origin,
                 as_of: date) -> None:
        self.rng = rng
        self.today = as_of.toordinal()
        self.german = german
        self.origins = _Weighted([(german, german.weight),
                                  *((o, o.weight) for o in FOREIGN_ORIGINS)])
        self.religions = {o.key: _Weighted(o.religions) for o in (german, *FOREIGN_ORIGINS)}
        self.german_places = _Weighted(GERMAN_BIRTH_PLACES)
        # Every house number of the directory is equally likely, so long streets get more
        # residents than a short lane.
        runs = [(street, segment.numbers()) for street in _one_street_per_name(streets)
                for segment in street.segments]
        self.runs = _Weighted([(run, float(len(run[1]))) for run in runs])
        self.doc_numbers: set[str] = set()  # membership only, never iterated
        self.rows = Rows()
        self.sf_cache: dict[str, str] = {}
        self.showcase = list(FOREIGN_ORIGINS)  # first households: one of each origin

    # small helpers
    def sf(self, text: str) -> str:
        """Search forms repeat (a few thousand distinct names): compute each once per build."""
        form = self.sf_cache.get(text)
        if form is None:
            form = self.sf_cache[text] = names.search_form(text)
        return form

    def uid(self) -> str:
        return _random_uuid(self.rng.getrandbits(128))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def birth_for_age(self, low: float, high: float) -> int:
        return self.today - int((low + self.rng.random() * (high - low)) * 365.2425)

    def timestamp(self, ordinal: int) -> str:
        ordinal = min(max(ordinal, REGISTER_START), self.today)
        seconds = 25_200 + self.rng.randrange(36_000)  # office hours, 07:00-17:00 UTC
        h, rest = divmod(seconds, 3600)
        return f"{_iso(ordinal)}T{h:02d}:{rest // 60:02d}:{rest % 60:02d}+00:00"

    # addresses
    def lorrach_address(self) -> _Address:
        street, numbers = self.runs.pick(self.rng)
        number = str(numbers[self.rng.randrange(len(numbers))])
        r = self.rng.random()
        if r < 0.05:
            number += "abc"[self.rng.randrange(3)]
        elif r < 0.06:
            number += "/1"
        segment = street.segment_for(number)
        assert segment is not None and street.id is not None
        return _Address(street.id, street.name, number, segment.postal_code, CITY,
                        street.district)

    def domestic_address(self) -> _Address:
        city, postal_code = self.rng.choice(DOMESTIC_CITIES)
        return _Address(None, self.rng.choice(GENERIC_STREETS), str(self.rng.randrange(1, 80)),
                        postal_code, city, None)

    # names
    def first_names(self, origin: Origin, sex: str, birth: int) -> list[str]:
        rng = self.rng
        if sex in ("d", "x") and self.chance(0.6):
            return [rng.choice(NEUTRAL)]
        female = sex == "w" or (sex in ("d", "x") and self.chance(0.5))
        pool = origin.female if female else origin.male
        if origin.vietnamese:
            given = [rng.choice(pool)] if self.chance(0.6) else rng.sample(pool, 2)
            return ["Thị" if female else "Văn", *given]
        if origin is self.german and birth > self.today - 20 * 365 and self.chance(0.5):
            pool = MODERN_FEMALE if female else MODERN_MALE
        r = rng.random()
        count = 1 if r < 0.55 else 2 if r < 0.9 else 3
        chosen = [rng.choice(pool) for _ in range(count)]
        return list(dict.fromkeys(chosen))

    def family(self, origin: Origin) -> Family:
        rng = self.rng
        family = rng.choice(origin.families)
        if origin.compound_family and self.chance(0.8):
            second = rng.choice(origin.families)[0]
            if second != family[0]:
                return (f"{family[0]} {second}", f"{family[0]} {second}")
        return family

    # persons
    def person(self, origin: Origin, sex: str, birth: int, family: Family, *,
               born_here: bool | None = None) -> _Person:
        rng = self.rng
        age = (self.today - birth) / 365.2425
        if born_here is None:
            # The older a person of a foreign family, the likelier they immigrated themselves.
            born_here = origin is self.german or self.chance(
                0.9 if age < 18 else 0.55 if age < 35 else 0.3 if age < 55 else 0.05)
        if born_here:
            if origin is self.german or origin.key == "CH":
                place, country = self.german_places.pick(rng)
                if origin.key == "CH" and self.chance(0.5):
                    place, country = rng.choice(origin.birth_places), origin.country_de
            else:
                place, country = ("Lörrach", None) if self.chance(0.6) else (
                    self.german_places.pick(rng))
        else:
            place, country = rng.choice(origin.birth_places), origin.country_de
        nationalities = self.nationalities(origin, born_here)
        first = self.first_names(origin, sex, birth)
        p = _Person(self.uid(), origin, sex, birth, family[1] if sex == "w" else family[0],
                    family, first, place, country, nationalities,
                    self.religions[origin.key].pick(rng))
        if len(first) > 1:
            p.everyday = first[-1] if origin.vietnamese else (
                first[0] if self.chance(0.7) else rng.choice(first[1:]))
        if age >= 28 and origin.key in ("DE", "CH", "PL", "FR", "CZ") and self.chance(0.04):
            p.doctorate = "Prof. Dr." if age >= 38 and self.chance(0.1) else "Dr."
        if age >= 20 and self.chance(0.001):
            p.artist_name = f"{rng.choice(ARTIST_FIRST)} {rng.choice(ARTIST_LAST)}"
        return p

    def nationalities(self, origin: Origin, born_here: bool) -> list[str]:
        r = self.rng.random()
        if origin is self.german:
            if r < 0.97:
                return ["DEU"]
            return ["DEU", self.rng.choice(("CHE", "ITA", "FRA", "USA", "AUT"))]
        code = origin.nationality
        if born_here:
            return ["DEU", code] if r < 0.5 else ["DEU"] if r < 0.8 else [code]
        return [code] if r < 0.75 else ["DEU", code] if r < 0.9 else ["DEU"]

    def sex(self, female_share: float = 0.5) -> str:
        r = self.rng.random()
        if r < 0.001:
            return "d"
        if r < 0.0015:
            return "x"
        return "w" if self.rng.random() < female_share else "m"

    def adult_age(self) -> tuple[float, float]:
        r = self.rng.random()
        for limit, band in ((0.18, (18, 25)), (0.43, (25, 35)), (0.60, (35, 50)),
                            (0.74, (50, 65)), (0.90, (65, 80))):
            if r < limit:
                return band
        return (80, 98)

    def marry(self, a: _Person, b: _Person, on: int) -> Family:
        """Marriage (or partnership before October 2017) of a and b; returns the family name
        their children take. Most couples take one name, some keep both, some add a
        hyphenated accompanying name ("Müller-Lüdenscheidt")."""
        rng = self.rng
        same_sex = a.sex == b.sex and a.sex in ("m", "w")
        status = "LP" if same_sex and on < date(2017, 10, 1).toordinal() else "VH"
        place = "Lörrach" if self.chance(0.5) else rng.choice((a.birth_place, b.birth_place))
        for p in (a, b):
            p.marital_status, p.marital_date, p.marital_place = status, on, place
        r = rng.random()
        if r < 0.70 or (r >= 0.88 and (" " in a.family or " " in b.family)):
            self.take_name(b, a)
            return a.pair
        if r < 0.78:
            self.take_name(a, b)
            return b.pair
        if r < 0.88:
            return a.pair if self.chance(0.7) else b.pair
        married = self.gendered(a, b)
        if married != b.family:
            b.birth_name = b.family
            b.family = f"{married}-{b.family}" if self.chance(0.5) else f"{b.family}-{married}"
        return a.pair

    def take_name(self, taker: _Person, giver: _Person) -> None:
        """The taker's family name becomes the giver's (a birth name only if it changed)."""
        name = self.gendered(giver, taker)
        if name != taker.family:
            taker.birth_name, taker.family = taker.family, name
        taker.pair = giver.pair

    def gendered(self, giver: _Person, taker: _Person) -> str:
        return giver.pair[1] if taker.sex == "w" else giver.pair[0]

    # households
    def household(self, remaining: int) -> int:
        rng = self.rng
        origin = self.showcase.pop(0) if self.showcase else self.origins.pick(rng)
        r = rng.random()
        if r < 0.40:
            members = self.single(origin)
        elif r < 0.66:
            members = self.couple(origin)[0]
        elif r < 0.88:
            members = self.family_household(origin, two_parents=True)
        elif r < 0.95:
            members = self.family_household(origin, two_parents=False)
        else:
            members = self.shared_flat(origin)
        members = members[:remaining]
        self.emit(members)
        return len(members)

    def single(self, origin: Origin) -> list[_Person]:
        rng = self.rng
        low, high = self.adult_age()
        birth = self.birth_for_age(low, high)
        sex = self.sex(0.55 if low >= 65 else 0.5)
        p = self.person(origin, sex, birth, self.family(origin))
        age = (self.today - birth) / 365.2425
        r = rng.random()
        if age >= 65:
            status = "VW" if r < 0.45 else "GS" if r < 0.65 else "VH" if r < 0.8 else "LD"
        elif age >= 30:
            status = "LD" if r < 0.5 else "GS" if r < 0.8 else "VH" if r < 0.95 else "VW"
        else:
            status = "LD" if r < 0.92 else "VH" if r < 0.98 else "GS"
        if status != "LD":
            married = _add_years(birth, 20 + rng.randrange(max(1, int(age) - 20)))
            p.marital_status = status
            if status == "VH":
                p.marital_date, p.marital_place = married, rng.choice(("Lörrach", p.birth_place))
            else:  # date of the divorce or of the spouse's death
                p.marital_date = married + rng.randrange(365, max(366, self.today - married))
            if self.chance(0.7 if sex == "w" else 0.08):
                p.birth_name = self.family(origin)[1 if sex == "w" else 0]
                if p.birth_name == p.family:
                    p.birth_name = None
        if (status == "LD" and age >= 40 and origin.key in ("DE", "PL", "IT", "HR")
                and self.chance(0.004)):
            p.religious_name = rng.choice(RELIGIOUS_FEMALE if sex == "w" else RELIGIOUS_MALE)
            p.religion = "rk"
        return [p]

    def couple(self, origin: Origin, age_band: tuple[float, float] | None = None,
               ) -> tuple[list[_Person], Family]:
        rng = self.rng
        low, high = age_band or self.adult_age()
        birth_a = self.birth_for_age(low, high)
        birth_b = birth_a + rng.randrange(-6 * 365, 6 * 365)
        birth_b = min(birth_b, self.today - 18 * 366)
        same_sex = self.chance(0.04)
        sex_a = self.sex(0.0)
        sex_b = ("w" if sex_a == "w" else "m") if same_sex else (
            "w" if sex_a == "m" else self.sex(0.9))
        origin_b = origin if self.chance(0.88) else self.origins.pick(rng)
        a = self.person(origin, sex_a, birth_a, self.family(origin))
        b = self.person(origin_b, sex_b, birth_b, self.family(origin_b))
        youngest_adult = max(birth_a, birth_b) + 18 * 366
        if self.chance(0.72) and youngest_adult < self.today - 60:
            on = youngest_adult + rng.randrange(max(30, self.today - youngest_adult - 30))
            return [a, b], self.marry(a, b, on)
        return [a, b], a.pair

    def family_household(self, origin: Origin, *, two_parents: bool) -> list[_Person]:
        rng = self.rng
        adults: list[_Person]
        if two_parents:
            adults, family = self.couple(origin, (26, 56))
        else:
            parent = self.single_parent(origin)
            adults, family = [parent], parent.pair
        # Children are born when the younger parent is 20 or older (a very young couple gets a
        # baby), at most 24 years ago (older children have left home).
        lowest = max(max(a.birth for a in adults) + 20 * 366, self.today - 24 * 366)
        lowest = min(lowest, self.today - 365)
        parent_nats = list(dict.fromkeys(n for a in adults for n in a.nationalities))
        others = [n for n in parent_nats if n != "DEU"]
        r = rng.random()
        count = 1 if r < 0.4 else 2 if r < 0.8 else 3 if r < 0.95 else 4
        children = []
        for _ in range(count):
            birth = lowest + rng.randrange(self.today - lowest)
            child = self.person(adults[0].origin, self.sex(), birth, family, born_here=True)
            if "DEU" in parent_nats:
                child.nationalities = ["DEU", others[0]] if others and self.chance(0.4) else [
                    "DEU"]
            else:
                child.nationalities = ["DEU", others[0]] if self.chance(0.5) else [others[0]]
            child.religion = adults[-1].religion if self.chance(0.85) else "--"
            child.child = True
            children.append(child)
        children.sort(key=lambda c: c.birth)
        return [*adults, *children]

    def single_parent(self, origin: Origin) -> _Person:
        birth = self.birth_for_age(24, 55)
        p = self.person(origin, "w" if self.chance(0.85) else "m", birth, self.family(origin))
        r = self.rng.random()
        p.marital_status = "LD" if r < 0.45 else "GS" if r < 0.9 else "VW"
        if p.marital_status != "LD":
            p.marital_date = self.today - self.rng.randrange(60, 12 * 365)
            if p.sex == "w" and self.chance(0.6):
                p.birth_name = self.family(origin)[1]
                if p.birth_name == p.family:
                    p.birth_name = None
        return p

    def shared_flat(self, origin: Origin) -> list[_Person]:
        members = []
        for i in range(2 + self.rng.randrange(3)):
            o = origin if i == 0 or self.chance(0.7) else self.origins.pick(self.rng)
            members.append(self.person(o, self.sex(), self.birth_for_age(19, 33),
                                       self.family(o)))
        return members

    # rows
    def emit(self, members: list[_Person]) -> None:
        """Write one household: persons, residences (current, history, secondary), documents."""
        if not members:
            return
        rng, rows = self.rng, self.rows
        household_id = self.uid()
        address = self.lorrach_address()
        # The household moved in together once its adults were of age.
        adults_from = max(p.birth for p in members if not p.child) + 18 * 366
        span = max(30, self.today - adults_from)
        move_in = self.today - int(span * rng.random() ** 1.7) - 1
        previous: _Address | None = None
        previous_in = 0
        if self.chance(HISTORY_SHARE) and move_in - adults_from > 400:
            previous = self.lorrach_address() if self.chance(0.6) else self.domestic_address()
            previous_in = adults_from + rng.randrange(move_in - adults_from - 365)
        abroad: str | None = None
        first = members[0]
        if first.origin is not self.german and first.birth_country and (
                previous is None or previous.city != CITY):
            abroad = f"{rng.choice(first.origin.cities_de)}, {first.origin.country_de}"
        rows.households.append((household_id, self.timestamp(move_in)))
        rows.members.append([p.id for p in members])
        for p in members:
            self.emit_person(p, household_id, address, move_in, previous, previous_in, abroad)
        self.emit_relations(members)

    def emit_relations(self, members: list[_Person]) -> None:
        """The household's relations (§ 3 BMG), both sides: married or partnered adults, the
        adults as parents of the children, and as legal representatives of the minors. Ids are
        derived from the persons, not drawn: the rest of the demo stays as it was."""
        adults = [p for p in members if not p.child]
        pairs: list[tuple[_Person, str, _Person]] = []
        if len(adults) == 2 and adults[0].marital_status == adults[1].marital_status and \
                adults[0].marital_status in PARTNER_KINDS and adults[0].marital_date and \
                adults[0].marital_date == adults[1].marital_date:   # married to each other
            pairs.append((adults[0], PARTNER_KINDS[adults[0].marital_status], adults[1]))
        for child in (p for p in members if p.child):
            minor = self.today - child.birth < 18 * 366
            for parent in adults:
                pairs.append((child, "elternteil", parent))
                if minor:
                    pairs.append((child, "vertreter", parent))
        for person, kind, related in pairs:
            for mine, theirs, k in ((person, related, kind), (related, person, INVERSE[kind])):
                self.rows.relations.append((
                    _name_uuid(RELATION_NAMESPACE.bytes, f"{mine.id}/{k}/{theirs.id}"),
                    mine.id, k, theirs.id, None))

    def emit_person(self, p: _Person, household_id: str, address: _Address, move_in: int,
                    previous: _Address | None, previous_in: int, abroad: str | None) -> None:
        rng, rows = self.rng, self.rows
        adult = self.today - p.birth >= 18 * 366
        born_in = p.birth >= move_in
        current_in = p.birth if born_in else move_in
        first_in = current_in
        has_secondary = adult and self.chance(SECONDARY_SHARE)
        prev_text: str | None = None
        if previous is not None and not born_in:
            hist_in = max(previous_in, p.birth)
            first_in = hist_in
            rows.residences.append((
                self.uid(), p.id, "alleinig", previous.street_id, previous.street,
                previous.house_number, previous.postal_code, previous.city, previous.district,
                "DEU", None, _iso(hist_in), _iso(move_in),
                abroad if previous.city != CITY else None))
            prev_text = previous.one_line()
        elif not born_in:
            prev_text = abroad
        rows.residences.append((
            self.uid(), p.id, "haupt" if has_secondary else "alleinig", address.street_id,
            address.street, address.house_number, address.postal_code, address.city,
            address.district, "DEU", None, _iso(current_in), None, prev_text))
        if has_secondary:
            other = self.lorrach_address() if self.chance(0.4) else self.domestic_address()
            since = max(p.birth + 18 * 366, self.today - rng.randrange(10 * 365))
            rows.residences.append((
                self.uid(), p.id, "neben", other.street_id, other.street, other.house_number,
                other.postal_code, other.city, other.district, "DEU", None, _iso(since), None,
                None))
        last_change = current_in
        if "DEU" in p.nationalities:
            last_change = max(last_change, self.documents(p))
        if p.birth_name:
            rows.former.append((p.id, "Geburtsname", p.birth_name,
                                _iso(p.marital_date) if p.marital_date else None))
        if p.marital_date:
            last_change = max(last_change, p.marital_date)
        first_names = " ".join(p.first_names)
        created = self.timestamp(first_in)
        updated = max(created, self.timestamp(last_change))
        rows.persons.append((
            p.id, 1, p.family, p.birth_name, first_names, p.everyday, p.doctorate,
            p.religious_name, p.artist_name, _iso(p.birth), p.birth_place, p.birth_country,
            p.sex, _json_list(tuple(p.nationalities)), p.religion, p.marital_status,
            _iso(p.marital_date) if p.marital_date else None, p.marital_place, household_id,
            self.sf(p.family), self.sf(first_names), created, updated))

    def documents(self, p: _Person) -> int:
        """German ID card (from 16 on, and for some children) and passport; some expired,
        some renewed with the old one still on record. Returns the last issue date."""
        rng = self.rng
        age = (self.today - p.birth) / 365.2425
        last = 0
        wanted = []
        if (age >= 16 and self.chance(0.97)) or (age < 16 and self.chance(0.15)):
            wanted.append("PA")
        if self.chance(0.35 if age >= 18 else 0.2):
            wanted.append("RP")
        for doc_type in wanted:
            # Valid 6 years if issued before the 24th birthday, else 10 (§ 6 PAuswG, § 5 PassG).
            recent = 6 * 365 if age < 30 else 10 * 365
            issued = self.today - rng.randrange(recent)
            if self.chance(0.08):  # only an expired document on record: a renewal is due
                issued -= recent + rng.randrange(4 * 365)
            issued = max(issued, p.birth + 30)
            issues = [issued]
            if self.chance(0.25) and issued - 10 * 365 > p.birth + 16 * 366:
                issues.insert(0, _add_years(issued, -10) + rng.randrange(-60, 60))
            for on in issues:
                years = 6 if on - p.birth < 24 * 365.2425 else 10
                self.rows.documents.append((
                    self.uid(), p.id, doc_type, self.doc_number(), AUTHORITY, _iso(on),
                    _iso(_add_years(on, years) - 1)))
                last = max(last, min(on, self.today))
        return last

    def doc_number(self) -> str:
        rng = self.rng
        while True:
            number = rng.choice(DOC_LETTERS) + "".join(rng.choices(DOC_CHARS, k=8))
            if number not in self.doc_numbers:
                self.doc_numbers.add(number)
                return number

    def information_blocks(self, residents: int) -> None:
        """Auskunftssperren (§ 51 BMG) for about 0.5 % of residents: whole households, since
        a family at risk shares the address. At least one, so even a tiny demo shows one."""
        rng, rows = self.rng, self.rows
        target = max(1, round(residents * BLOCK_SHARE)) if residents else 0
        order = list(range(len(rows.members)))
        rng.shuffle(order)
        blocked = 0
        for index in order:
            if blocked >= target:
                break
            since = self.today - rng.randrange(30, 6 * 365)
            until = None if self.chance(0.45) else _add_years(since, 2)
            reason = rng.choice(BLOCK_REASONS)
            for person_id in rows.members[index]:
                rows.blocks.append((self.uid(), person_id, "Auskunftssperre", "§ 51 BMG",
                                    reason, _iso(since), _iso(until) if until else None))
                blocked += 1
