"""The synthetic demo register: a made-up town population in the real data model.

Why: clerks train, the UI is shown and the app is load-tested on a register that looks and
behaves like Lörrach's (families in one household, people who moved, names from Kraków to
Hanoi, expired ID cards, information blocks) without one real person in it. Every name is
drawn at random from name pools and recombined; no record describes a real individual.

Deterministic on purpose: the same seed gives the same register, row for row, so a bug seen
in a demo or a benchmark can be reproduced on another machine. Therefore everything random
comes from one `random.Random(seed)` (and a Faker instance seeded with the same seed, used only
to fill the German name pools once), nothing iterates over a set, and "today" is the fixed
`DEMO_AS_OF` rather than the clock.

Fast on purpose: the app builds the register at first start (50,000 residents by default), so
the whole build is one transaction with bulk inserts, and Faker (slow per call) is asked for a
few thousand names once instead of once per person.
"""

from __future__ import annotations

import bisect
import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from clerk_app import names
from clerk_app.errors import StoreError
from clerk_app.search_index import reindex_all
from clerk_app.store.db import Store
from clerk_app.streets import Street, load_street_directory

__all__ = ["DEMO_AS_OF", "DemoSummary", "build_demo_register"]

# "Today" in the demo world: fixed, so that a build is reproducible on any day. Documents and
# information blocks are valid or expired relative to this date.
DEMO_AS_OF = date(2026, 11, 1)
CITY = "Lörrach"
AUTHORITY = "Stadt Lörrach"
BLOCK_SHARE = 0.005  # residents with an information block (§ 51 BMG)
SECONDARY_SHARE = 0.05  # adults who also have a secondary residence
HISTORY_SHARE = 0.30  # households with an earlier address on record
PROGRESS_STEP = 1000
BATCH = 5000
BUILD_CACHE_KIB = -65536  # PRAGMA cache_size during the build: 64 MiB
# The first digital records: nothing is "created" in the register before this date.
REGISTER_START = date(1996, 1, 2).toordinal()
# ID card / passport numbers: the alphabet of German document numbers (no vowels, no B, D,
# Q, S) so that no word and no confusion with digits arises.
DOC_LETTERS = "CFGHJKLMNPRTVWXYZ"
DOC_CHARS = DOC_LETTERS + "0123456789"

T = TypeVar("T")


@dataclass(frozen=True)
class DemoSummary:
    """What the build wrote: shown after `clerk-app demo-data` and checked by the tests."""

    persons: int
    households: int
    residences: int
    blocks: int
    streets: int

    def __str__(self) -> str:
        return (f"{self.persons} Personen, {self.households} Haushalte, "
                f"{self.residences} Wohnungen, {self.blocks} Auskunftssperren, "
                f"{self.streets} Straßen")


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


# --- name pools -------------------------------------------------------------------------------
# Family names are (male form, female form): Polish and Czech names change with sex
# (Wiśniewski / Wiśniewska, Dvořák / Dvořáková); for all others both forms are the same.

Family = tuple[str, str]


def _same(*family_names: str) -> tuple[Family, ...]:
    return tuple((n, n) for n in family_names)


def _split(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(";") if n.strip())


@dataclass(frozen=True)
class _Origin:
    """Where a family's names come from: name pools, birth places, nationality, religion."""

    key: str
    nationality: str  # ISO 3166-1 alpha-3
    country_de: str  # the state's German name, for birth country and foreign addresses
    weight: float  # share of households
    male: tuple[str, ...]
    female: tuple[str, ...]
    families: tuple[Family, ...]
    birth_places: tuple[str, ...]  # as written in the documents (local spelling)
    cities_de: tuple[str, ...]  # German exonyms, for "moved in from Krakau, Polen"
    religions: tuple[tuple[str, float], ...]
    vietnamese: bool = False  # middle name Văn / Thị + given name(s); everyday name last
    compound_family: bool = False  # Spanish: two family names


GERMAN_FAMILIES = _split("""
    Müller; Schmidt; Schneider; Fischer; Weber; Meyer; Wagner; Becker; Schulz; Hoffmann; Koch;
    Schäfer; Bauer; Richter; Klein; Wolf; Schröder; Neumann; Zimmermann; Braun; Krüger; Hofmann;
    Hartmann; Lange; Schmitt; Werner; Krause; Meier; Lehmann; Schmid; Maier; Köhler; Herrmann;
    Walter; König; Mayer; Huber; Kaiser; Fuchs; Lang; Scholz; Möller; Weiß; Jung; Hahn;
    Schubert; Vogel; Friedrich; Keller; Günther; Frank; Berger; Winkler; Roth; Beck; Lorenz;
    Baumann; Albrecht; Schuster; Simon; Ludwig; Böhm; Winter; Kraus; Schumacher; Krämer; Vogt;
    Stein; Jäger; Sommer; Groß; Seidel; Brandt; Haas; Schreiber; Graf; Dietrich; Ziegler; Kuhn;
    Kühn; Pohl; Engel; Horn; Busch; Bergmann; Voigt; Sauer; Arnold; Pfeiffer; Hug; Riesterer;
    Kiefer; Wenk; Sutter; Grether; Schmidlin; Bühler; Zimmerlin; Eichin; Blum; Brutschin;
    Kaltenbach; Rümmele; Ruf; Rüdlin; Frey; Hauber; Wehrle; Dreher; Gempp; Glattacker; Senn;
    Leisinger; Thoma; Ebner; Schwab; Kunzelmann; Trefzer; Bächle; Höferlin; Gersbach; Strübin;
    Märklin; Wößner; Dörflinger; Ölschläger; Häußler; Weißenberger; Schöpflin; Lüttin
""")
GERMAN_PARTICLE_FAMILIES = _split(
    "von Bergen; von der Heide; vom Hofe; zur Linden; von Rheinfelden; van der Meulen")
GERMAN_MALE = _split("""
    Thomas; Michael; Andreas; Stefan; Frank; Markus; Christian; Peter; Jürgen; Wolfgang; Klaus;
    Martin; Uwe; Jörg; Matthias; Bernd; Sebastian; Tobias; Florian; Dominik; Manfred; Günter;
    Hans-Peter; Karl-Heinz; Klaus-Dieter; Jan; Lukas; Tim; Jonas; Fabian; Björn; Sören; René
""")
GERMAN_FEMALE = _split("""
    Sabine; Andrea; Petra; Claudia; Susanne; Monika; Stefanie; Nicole; Birgit; Katrin; Julia;
    Anna; Sarah; Laura; Lena; Katharina; Ursula; Renate; Gisela; Ingrid; Helga; Brigitte;
    Anna-Lena; Marie-Luise; Lea; Jana; Jessica; Daniela; Bärbel; Gudrun; Hannelore; Zoë; Chantal
""")
MODERN_MALE = _split(
    "Noah; Leon; Paul; Ben; Finn; Elias; Felix; Emil; Luis; Henry; Jonas; Matteo; Theo; Anton")
MODERN_FEMALE = _split(
    "Emilia; Mia; Sophia; Hannah; Emma; Lina; Mila; Ella; Clara; Lea; Marie; Ida; Frieda; Amélie")
NEUTRAL = _split("Kim; Alex; Robin; Sascha; Luca; Charlie; Jo; Noa; Toni; Kai; Eike; Mika")
GERMAN_BIRTH_PLACES: tuple[tuple[tuple[str, str | None], float], ...] = (
    (("Lörrach", None), 40), (("Weil am Rhein", None), 6), (("Rheinfelden (Baden)", None), 5),
    (("Schopfheim", None), 4), (("Müllheim", None), 2), (("Freiburg im Breisgau", None), 7),
    (("Kandern", None), 1), (("Grenzach-Wyhlen", None), 1), (("Bad Säckingen", None), 2),
    (("Karlsruhe", None), 2), (("Stuttgart", None), 3), (("Mannheim", None), 2),
    (("Berlin", None), 3), (("Hamburg", None), 2), (("München", None), 3), (("Köln", None), 2),
    (("Leipzig", None), 2), (("Dresden", None), 1), (("Görlitz", None), 0.5),
    (("Basel", "Schweiz"), 6), (("Riehen", "Schweiz"), 1), (("Mulhouse", "Frankreich"), 1),
)
DOMESTIC_CITIES: tuple[tuple[str, str], ...] = (
    ("Freiburg im Breisgau", "79098"), ("Weil am Rhein", "79576"),
    ("Rheinfelden (Baden)", "79618"), ("Schopfheim", "79650"), ("Müllheim", "79379"),
    ("Kandern", "79400"), ("Steinen", "79585"), ("Grenzach-Wyhlen", "79639"),
    ("Karlsruhe", "76133"), ("Stuttgart", "70173"), ("Mannheim", "68159"),
    ("Konstanz", "78462"), ("Offenburg", "77652"), ("Berlin", "10115"), ("Hamburg", "20095"),
    ("München", "80331"), ("Köln", "50667"), ("Leipzig", "04109"), ("Dresden", "01067"),
    ("Frankfurt am Main", "60311"), ("Heidelberg", "69117"), ("Ulm", "89073"),
)
GENERIC_STREETS = _split("""
    Goethestraße; Bahnhofstraße; Hauptstraße; Schillerstraße; Lindenweg; Kirchplatz; Am Markt;
    Gartenstraße; Rosenweg; Bergstraße; Friedhofstraße; Feldweg; Mühlenweg; Am Sportplatz;
    Kastanienallee; Waldstraße; Ringstraße; Schulstraße
""")
RELIGIOUS_FEMALE = _split("Maria Benedikta; Scholastika; Maria Hildegard; Maria Magdalena")
RELIGIOUS_MALE = _split("Anselm; Bonifatius; Gregor Maria; Columban; Bernhard Maria")
ARTIST_FIRST = _split("Lumi; Kalle; Mira; Jo; Finn; Lou; Nika; Tami; Bo; Juna")
ARTIST_LAST = _split("""
    Sternwald; Funkenflug; Wellenreiter; Donnerhall; Silberstreif; Glockenblum; Nebelhorn;
    Kieselbach; Wolkenbruch; Abendsegler
""")
BLOCK_REASONS = ("Gefahr für Leib und Leben", "Gefahr für Leib und Leben",
                 "Gefahr für die persönliche Freiheit", "ähnliche schutzwürdige Interessen")

FOREIGN_ORIGINS: tuple[_Origin, ...] = (
    _Origin(
        "TR", "TUR", "Türkei", 5.0,
        _split("Çağlar; Mehmet; Mustafa; Ahmet; Emre; Burak; Murat; Hüseyin; Yusuf; Ömer; Oğuz; "
               "Serkan; Barış; Kaan; Uğur; İsmail"),
        _split("Ayşe; Fatma; Elif; Zeynep; Gülşen; Şeyma; Büşra; Merve; Özlem; İlayda; Hülya; "
               "Derya; Sevgi; Gökçe; Nurşen"),
        _same(*_split("Öztürk; Şahin; Yıldız; Yılmaz; Kaya; Demir; Çelik; Aydın; Arslan; Doğan; "
                      "Koç; Kılıç; Güneş; Aksoy; Özdemir; Kurt; Aslan; Polat; Çetin; Korkmaz; "
                      "Bulut; Ünal; Taş")),
        _split("İstanbul; Ankara; İzmir; Bursa; Konya; Kayseri; Trabzon; Gaziantep; Adana"),
        _split("Istanbul; Ankara; Izmir; Bursa; Konya"),
        (("--", 1.0),)),
    _Origin(
        "PL", "POL", "Polen", 3.0,
        _split("Łukasz; Piotr; Krzysztof; Tomasz; Paweł; Michał; Jakub; Grzegorz; Mateusz; "
               "Wojciech; Marcin; Bartłomiej; Przemysław; Jędrzej"),
        _split("Agnieszka; Małgorzata; Katarzyna; Magdalena; Joanna; Zofia; Wiktoria; Urszula; "
               "Jadwiga; Bożena; Grażyna; Żaneta; Dorota"),
        (("Wiśniewski", "Wiśniewska"), ("Kowalski", "Kowalska"), ("Lewandowski", "Lewandowska"),
         ("Dąbrowski", "Dąbrowska"), ("Zieliński", "Zielińska"), ("Kamiński", "Kamińska"),
         ("Szymański", "Szymańska"), ("Jabłoński", "Jabłońska"), ("Michalski", "Michalska"),
         ("Górski", "Górska"), ("Szczepański", "Szczepańska"), ("Wróbel", "Wróbel"),
         ("Nowak", "Nowak"), ("Woźniak", "Woźniak"), ("Kaczmarek", "Kaczmarek"),
         ("Wójcik", "Wójcik"), ("Mazur", "Mazur"), ("Krawczyk", "Krawczyk"),
         ("Sikora", "Sikora"), ("Król", "Król"), ("Żak", "Żak"), ("Stępień", "Stępień")),
        _split("Kraków; Wrocław; Łódź; Gdańsk; Poznań; Katowice; Szczecin; Białystok; Opole"),
        _split("Krakau; Breslau; Danzig; Posen; Kattowitz; Warschau; Łódź"),
        (("rk", 0.8), ("--", 0.2))),
    _Origin(
        "IT", "ITA", "Italien", 2.5,
        _split("Niccolò; Giuseppe; Francesco; Luca; Matteo; Lorenzo; Alessandro; Davide; "
               "Salvatore; Gianluca"),
        _split("Giulia; Chiara; Francesca; Federica; Martina; Alessia; Ilaria; Benedetta; "
               "Rosaria; Concetta"),
        _same(*_split("Rossi; Russo; Ferrari; Esposito; Bianchi; Romano; Colombo; Ricci; "
                      "D'Angelo; Dell'Acqua; Lo Russo; De Luca; Santoro; Mancini; Greco; "
                      "Di Stefano; Fontana; Caruso; Galli")),
        _split("Milano; Napoli; Palermo; Catania; Bari; Torino; Cosenza; Reggio Calabria; Foggia"),
        _split("Mailand; Neapel; Palermo; Turin; Bari"),
        (("rk", 0.75), ("--", 0.25))),
    _Origin(
        "RO", "ROU", "Rumänien", 1.5,
        _split("Ștefan; Ionuț; Mihai; Andrei; Răzvan; Bogdan; Cătălin; Gheorghe; Vlad; Sorin"),
        _split("Ioana; Andreea; Mădălina; Alexandra; Elena; Bianca; Cristina; Roxana; Irina; "
               "Georgiana"),
        _same(*_split("Popescu; Ionescu; Dumitrescu; Mihăilă; Constantinescu; Stănescu; "
                      "Rădulescu; Munteanu; Țurcanu; Moldovan; Lăzărescu; Florea; Tănase; Ene")),
        _split("București; Cluj-Napoca; Timișoara; Iași; Constanța; Brașov; Craiova; Sibiu"),
        _split("Bukarest; Klausenburg; Temeswar; Kronstadt"),
        (("--", 0.8), ("rk", 0.2))),
    _Origin(
        "HR", "HRV", "Kroatien", 1.2,
        _split("Ivan; Marko; Josip; Tomislav; Krešimir; Dražen; Luka; Matej; Željko; Goran"),
        _split("Ana; Ivana; Marija; Petra; Mirjana; Snježana; Katarina; Lucija; Željka; "
               "Dubravka"),
        _same(*_split("Horvat; Kovačević; Babić; Marić; Jurić; Novak; Knežević; Vuković; Božić; "
                      "Pavlović; Blažević; Grgić; Šimić; Perić; Matić; Tomić")),
        _split("Zagreb; Split; Rijeka; Osijek; Zadar; Slavonski Brod; Varaždin; Dubrovnik"),
        _split("Zagreb; Split; Rijeka; Osijek"),
        (("rk", 0.85), ("--", 0.15))),
    _Origin(
        "FR", "FRA", "Frankreich", 1.2,
        _split("François; Jérôme; Benoît; Loïc; Gaël; Frédéric; Rémi; Stéphane; Hervé; Noël; "
               "Aurélien"),
        _split("Hélène; Élodie; Chloé; Amélie; Gaëlle; Françoise; Noémie; Cécile; Anaïs; Léa; "
               "Maëlle"),
        _same(*_split("Lefèvre; Girard; Rousseau; Dubois; Moreau; Mercier; Lemaître; Fontaine; "
                      "Chevalier; Bélanger; Gauthier; Faure; Bénard; Dupré; Lacroix; Ménard; "
                      "Le Goff; Le Bihan")),
        _split("Mulhouse; Strasbourg; Colmar; Saint-Louis; Besançon; Lyon; Paris; Nancy; "
               "Sélestat"),
        _split("Mülhausen; Straßburg; Saint-Louis; Colmar; Paris"),
        (("rk", 0.6), ("--", 0.4))),
    _Origin(
        "VN", "VNM", "Vietnam", 0.9,
        _split("Minh; Hùng; Dũng; Tuấn; Quang; Đức; Thành; Long; Hải; Phúc; Khoa; Bảo"),
        _split("Lan; Hương; Mai; Hoa; Thảo; Ngọc; Minh; Thu; Hằng; Phương; Linh; Trang; Yến"),
        _same("Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê",
              *_split("Phạm; Hoàng; Huỳnh; Phan; Vũ; Võ; Đặng; Bùi; Đỗ; Hồ; Ngô; Dương")),
        _split("Hà Nội; Hải Phòng; Đà Nẵng; Huế; Nha Trang; Cần Thơ; Vinh; Nam Định"),
        _split("Hanoi; Ho-Chi-Minh-Stadt; Hải Phòng; Đà Nẵng"),
        (("--", 0.85), ("rk", 0.15)), vietnamese=True),
    _Origin(
        "ES", "ESP", "Spanien", 0.8,
        _split("José; Jesús; Álvaro; Íñigo; Raúl; Sebastián; Andrés; Joaquín; Martín; Ramón"),
        _split("María; Begoña; Inés; Lucía; Ángela; Mónica; Nuria; Sofía; Pilar; Maite"),
        _same(*_split("Núñez; García; Fernández; Muñoz; Ibáñez; Peña; Martínez; Gómez; López; "
                      "Sánchez; Pérez; Rodríguez; Jiménez; Álvarez; Ortiz; Castaño; Gutiérrez; "
                      "Domínguez")),
        _split("Madrid; Barcelona; Valencia; Sevilla; Málaga; Zaragoza; Bilbao; A Coruña; "
               "Córdoba"),
        _split("Madrid; Barcelona; Valencia; Sevilla"),
        (("rk", 0.7), ("--", 0.3)), compound_family=True),
    _Origin(
        "PT", "PRT", "Portugal", 0.8,
        _split("João; Gonçalo; Sebastião; Tomé; Luís; Rúben; André; Vítor; Hélder; Simão"),
        _split("Conceição; Inês; Mariana; Leonor; Adélia; Fátima; Graça; Margarida; Joana; "
               "Lúcia"),
        _same(*_split("Gonçalves; Magalhães; Araújo; Simões; Fernandes; Ribeiro; Sá; "
                      "Gonçalves da Silva; Pereira; Guimarães; Brandão; Loureiro; Assunção; "
                      "Lopes")),
        _split("Lisboa; Porto; Braga; Coimbra; Guimarães; Funchal; Faro; Viseu"),
        _split("Lissabon; Porto; Braga; Coimbra"),
        (("rk", 0.75), ("--", 0.25))),
    _Origin(
        "CZ", "CZE", "Tschechien", 0.6,
        _split("Jiří; Tomáš; Lukáš; Václav; Ondřej; Petr; Jakub; Radek; Zdeněk; Bořek"),
        _split("Šárka; Kateřina; Lenka; Zuzana; Tereza; Veronika; Markéta; Jitka; Růžena; "
               "Květoslava"),
        (("Dvořák", "Dvořáková"), ("Šťastný", "Šťastná"), ("Novák", "Nováková"),
         ("Svoboda", "Svobodová"), ("Černý", "Černá"), ("Procházka", "Procházková"),
         ("Kučera", "Kučerová"), ("Veselý", "Veselá"), ("Horák", "Horáková"),
         ("Němec", "Němcová"), ("Pokorný", "Pokorná"), ("Růžička", "Růžičková"),
         ("Beneš", "Benešová"), ("Fiala", "Fialová"), ("Sedláček", "Sedláčková"),
         ("Doležal", "Doležalová")),
        _split("Praha; Brno; Ostrava; Plzeň; Olomouc; České Budějovice; Hradec Králové; Liberec"),
        _split("Prag; Brünn; Pilsen; Olmütz"),
        (("--", 0.7), ("rk", 0.3))),
    _Origin(
        "NO", "NOR", "Norwegen", 0.3,
        _split("Øyvind; Bjørn; Sigurd; Håkon; Ørjan; Torbjørn; Åsmund"),
        _split("Åsa; Ingrid; Solveig; Sigrid; Ragnhild; Tuva; Signe"),
        _same(*_split("Ødegård; Bråten; Strøm; Løvås; Hågensen; Sæther; Kjærstad; Haugen; "
                      "Solberg")),
        _split("Oslo; Bergen; Trondheim; Tromsø; Stavanger; Ålesund"),
        _split("Oslo; Bergen; Trondheim"),
        (("ev", 0.6), ("--", 0.4))),
    _Origin(
        "SE", "SWE", "Schweden", 0.3,
        _split("Björn; Åke; Göran; Lars; Pär; Måns; Nils"),
        _split("Åsa; Märta; Astrid; Linnéa; Maja; Elin; Saga"),
        _same(*_split("Björk; Lindqvist; Åberg; Lindström; Holmström; Öberg; Sjöberg; Ekström; "
                      "Nyström; Söderberg")),
        _split("Stockholm; Göteborg; Malmö; Uppsala; Västerås; Örebro; Linköping"),
        _split("Stockholm; Göteborg; Malmö"),
        (("ev", 0.55), ("--", 0.45))),
    _Origin(
        "CH", "CHE", "Schweiz", 3.0,
        _split("Urs; Beat; Reto; Jürg; Ueli; Daniel; Thomas; Lukas; Simon; Andreas"),
        _split("Regula; Corinne; Barbara; Nadine; Séverine; Franziska; Sandra; Rahel; Seraina"),
        _same(*_split("Brunner; Keller; Meier; Huber; Baumann; Frei; Zürcher; Stöckli; Bürgi; "
                      "Wüthrich; Schnyder; Aebischer; Käser; Gisler; Amstutz; Hänggi; Tschudin; "
                      "Bühlmann; Imhof; Zimmerli")),
        _split("Basel; Riehen; Zürich; Bern; Luzern; Liestal; Aarau; Olten; Muttenz; Pratteln"),
        _split("Basel; Riehen; Zürich; Bern"),
        (("rk", 0.3), ("ev", 0.35), ("--", 0.35))),
)
GERMAN_RELIGIONS = (("rk", 0.37), ("ev", 0.27), ("ak", 0.005), ("jd", 0.003), ("--", 0.352))
GERMAN_WEIGHT = 78.0


def _valid_pool(pool: Sequence[str]) -> tuple[str, ...]:
    """NFC, DIN 91379-valid, duplicates removed, order kept (never a set: determinism)."""
    out = [names.normalize(n) for n in pool]
    return tuple(dict.fromkeys(n for n in out if n and names.is_valid(n)))


def _german_origin(seed: int) -> _Origin:
    """German name pools: a few thousand Faker names once, plus the region's common names
    (weighted, so "Müller" and "Riesterer" are as frequent as they should be)."""
    from faker import Faker  # deferred: slow to import, needed only when a demo is built

    fake = Faker("de_DE")
    fake.seed_instance(seed)
    last = [fake.last_name() for _ in range(3000)]
    # Faker's list holds oddities ("Koch II", "auch Schlauchin"): one word, or a particle name.
    last = [n for n in last if " " not in n]
    # "Hans Peter" is one first name: written with a hyphen so that each space separates two
    # first names (the everyday name is one of them); "Hans D." is no first name at all.
    male = [fake.first_name_male().replace(" ", "-") for _ in range(2500)]
    female = [fake.first_name_female().replace(" ", "-") for _ in range(2500)]
    male, female = ([n for n in pool if "." not in n] for pool in (male, female))
    families = [*last, *GERMAN_FAMILIES * 6, *GERMAN_PARTICLE_FAMILIES]
    return _Origin(
        "DE", "DEU", "Deutschland", GERMAN_WEIGHT,
        (*_valid_pool(male), *GERMAN_MALE * 3), (*_valid_pool(female), *GERMAN_FEMALE * 3),
        _same(*(n for n in families if names.is_valid(n))), (), (), GERMAN_RELIGIONS)


# --- the generator ----------------------------------------------------------------------------

def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _add_years(ordinal: int, years: int) -> int:
    d = date.fromordinal(ordinal)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).toordinal()


@dataclass(slots=True)
class _Person:
    id: str
    origin: _Origin
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
class _Rows:
    households: list[tuple[str, str]] = field(default_factory=list)
    persons: list[tuple[object, ...]] = field(default_factory=list)
    former: list[tuple[object, ...]] = field(default_factory=list)
    residences: list[tuple[object, ...]] = field(default_factory=list)
    documents: list[tuple[object, ...]] = field(default_factory=list)
    blocks: list[tuple[object, ...]] = field(default_factory=list)
    members: list[list[str]] = field(default_factory=list)  # person ids per household


class _Generator:
    """Draws households one by one; all randomness from `self.rng`, in a fixed order."""

    def __init__(self, rng: random.Random, streets: Sequence[Street], german: _Origin,
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
        runs = [(street, segment.numbers()) for street in streets for segment in street.segments]
        self.runs = _Weighted([(run, float(len(run[1]))) for run in runs])
        self.doc_numbers: set[str] = set()  # membership only, never iterated
        self.rows = _Rows()
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
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

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
    def first_names(self, origin: _Origin, sex: str, birth: int) -> list[str]:
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

    def family(self, origin: _Origin) -> Family:
        rng = self.rng
        family = rng.choice(origin.families)
        if origin.compound_family and self.chance(0.8):
            second = rng.choice(origin.families)[0]
            if second != family[0]:
                return (f"{family[0]} {second}", f"{family[0]} {second}")
        return family

    # persons
    def person(self, origin: _Origin, sex: str, birth: int, family: Family, *,
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

    def nationalities(self, origin: _Origin, born_here: bool) -> list[str]:
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

    def single(self, origin: _Origin) -> list[_Person]:
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

    def couple(self, origin: _Origin, age_band: tuple[float, float] | None = None,
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

    def family_household(self, origin: _Origin, *, two_parents: bool) -> list[_Person]:
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

    def single_parent(self, origin: _Origin) -> _Person:
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

    def shared_flat(self, origin: _Origin) -> list[_Person]:
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
            p.sex, json.dumps(p.nationalities), p.religion, p.marital_status,
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


# --- the build --------------------------------------------------------------------------------

INSERTS = {
    "households": "INSERT INTO households (id, created_at) VALUES (?, ?)",
    "persons": (
        "INSERT INTO persons (id, version, family_name, birth_name, first_names, everyday_name, "
        "doctorate, religious_name, artist_name, birth_date, birth_place, birth_country, sex, "
        "nationalities, religion, marital_status, marital_date, marital_place, household_id, "
        "family_sf, given_sf, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    "former": "INSERT INTO former_names (person_id, kind, name, valid_until) VALUES (?, ?, ?, ?)",
    "residences": (
        "INSERT INTO residences (id, person_id, kind, street_id, street, house_number, "
        "postal_code, city, district, country, foreign_address, move_in, move_out, "
        "previous_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    "documents": (
        "INSERT INTO id_documents (id, person_id, doc_type, number, authority, issued_on, "
        "valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    "blocks": (
        "INSERT INTO information_blocks (id, person_id, kind, legal_basis, reason, since, "
        "until) VALUES (?, ?, ?, ?, ?, ?, ?)"),
}


def build_demo_register(store: Store, residents: int = 50_000, seed: int = 91379,
                        progress: Callable[[int, int], None] | None = None, *,
                        as_of: date = DEMO_AS_OF) -> DemoSummary:
    """Fill an empty register with `residents` synthetic residents of Lörrach.

    One transaction: the register holds the whole demo or nothing (an interrupted first start
    leaves no half-built register behind). Also loads the street directory and rebuilds the
    search index. `progress(done, total)` is called every thousand residents (for a progress
    bar at first start). Same seed, same `as_of` -> the same rows, byte for byte.
    """
    if residents < 0:
        raise ValueError("residents must not be negative")
    rng = random.Random(seed)
    german = _german_origin(seed)
    # Random UUID keys scatter the index writes; a bigger page cache for the build keeps the
    # B-trees in memory (100,000 residents: 14 s instead of 19 s on a 2-core laptop).
    cache_size = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute(f"PRAGMA cache_size = {BUILD_CACHE_KIB}")
    try:
        summary = _build(store, rng, german, residents, progress, as_of)
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(cache_size)}")
    if progress:
        progress(residents, residents)
    return summary


def _build(store: Store, rng: random.Random, german: _Origin, residents: int,
           progress: Callable[[int, int], None] | None, as_of: date) -> DemoSummary:
    with store.transaction() as db:
        if db.conn.execute("SELECT EXISTS (SELECT 1 FROM persons)").fetchone()[0]:
            raise StoreError(
                "Das Melderegister enthält bereits Personen; Demodaten werden nur in ein "
                "leeres Register geschrieben.",
                "demo data refused: the register already holds persons")
        streets = load_street_directory(db)
        gen = _Generator(rng, streets, german, as_of)
        done, reported = 0, 0
        while done < residents:
            done += gen.household(residents - done)
            if progress and done - reported >= PROGRESS_STEP:
                reported = done
                progress(done, residents)
        gen.information_blocks(residents)
        rows = gen.rows
        summary = DemoSummary(persons=len(rows.persons), households=len(rows.households),
                              residences=len(rows.residences), blocks=len(rows.blocks),
                              streets=len(streets))
        for table, data in (("households", rows.households), ("persons", rows.persons),
                            ("former", rows.former), ("residences", rows.residences),
                            ("documents", rows.documents), ("blocks", rows.blocks)):
            for start in range(0, len(data), BATCH):
                db.conn.executemany(INSERTS[table], data[start:start + BATCH])
            data.clear()  # the rows are in the register now; keep the peak memory down
        del gen, rows
        reindex_all(db)
    return summary
