"""Name pools of the demo register: where its made-up residents' names come from.

Family names, first names, birth places and religions per origin (German, and the
countries Lörrach's residents come from), each checked against DIN 91379 so that every
generated name is one the register accepts. Only pools: the generator recombines them, so no
record describes a real individual. The German pools are topped up with a few thousand Faker
names once per build (seeded, so the build stays deterministic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clerk_app import names

# Family names are (male form, female form): Polish and Czech names change with sex
# (Wiśniewski / Wiśniewska, Dvořák / Dvořáková); for all others both forms are the same.

Family = tuple[str, str]


def _same(*family_names: str) -> tuple[Family, ...]:
    return tuple((n, n) for n in family_names)


def _split(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(";") if n.strip())


@dataclass(frozen=True)
class Origin:
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

FOREIGN_ORIGINS: tuple[Origin, ...] = (
    Origin(
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
    Origin(
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
    Origin(
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
    Origin(
        "RO", "ROU", "Rumänien", 1.5,
        _split("Ștefan; Ionuț; Mihai; Andrei; Răzvan; Bogdan; Cătălin; Gheorghe; Vlad; Sorin"),
        _split("Ioana; Andreea; Mădălina; Alexandra; Elena; Bianca; Cristina; Roxana; Irina; "
               "Georgiana"),
        _same(*_split("Popescu; Ionescu; Dumitrescu; Mihăilă; Constantinescu; Stănescu; "
                      "Rădulescu; Munteanu; Țurcanu; Moldovan; Lăzărescu; Florea; Tănase; Ene")),
        _split("București; Cluj-Napoca; Timișoara; Iași; Constanța; Brașov; Craiova; Sibiu"),
        _split("Bukarest; Klausenburg; Temeswar; Kronstadt"),
        (("--", 0.8), ("rk", 0.2))),
    Origin(
        "HR", "HRV", "Kroatien", 1.2,
        _split("Ivan; Marko; Josip; Tomislav; Krešimir; Dražen; Luka; Matej; Željko; Goran"),
        _split("Ana; Ivana; Marija; Petra; Mirjana; Snježana; Katarina; Lucija; Željka; "
               "Dubravka"),
        _same(*_split("Horvat; Kovačević; Babić; Marić; Jurić; Novak; Knežević; Vuković; Božić; "
                      "Pavlović; Blažević; Grgić; Šimić; Perić; Matić; Tomić")),
        _split("Zagreb; Split; Rijeka; Osijek; Zadar; Slavonski Brod; Varaždin; Dubrovnik"),
        _split("Zagreb; Split; Rijeka; Osijek"),
        (("rk", 0.85), ("--", 0.15))),
    Origin(
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
    Origin(
        "VN", "VNM", "Vietnam", 0.9,
        _split("Minh; Hùng; Dũng; Tuấn; Quang; Đức; Thành; Long; Hải; Phúc; Khoa; Bảo"),
        _split("Lan; Hương; Mai; Hoa; Thảo; Ngọc; Minh; Thu; Hằng; Phương; Linh; Trang; Yến"),
        _same("Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê",
              *_split("Phạm; Hoàng; Huỳnh; Phan; Vũ; Võ; Đặng; Bùi; Đỗ; Hồ; Ngô; Dương")),
        _split("Hà Nội; Hải Phòng; Đà Nẵng; Huế; Nha Trang; Cần Thơ; Vinh; Nam Định"),
        _split("Hanoi; Ho-Chi-Minh-Stadt; Hải Phòng; Đà Nẵng"),
        (("--", 0.85), ("rk", 0.15)), vietnamese=True),
    Origin(
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
    Origin(
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
    Origin(
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
    Origin(
        "NO", "NOR", "Norwegen", 0.3,
        _split("Øyvind; Bjørn; Sigurd; Håkon; Ørjan; Torbjørn; Åsmund"),
        _split("Åsa; Ingrid; Solveig; Sigrid; Ragnhild; Tuva; Signe"),
        _same(*_split("Ødegård; Bråten; Strøm; Løvås; Hågensen; Sæther; Kjærstad; Haugen; "
                      "Solberg")),
        _split("Oslo; Bergen; Trondheim; Tromsø; Stavanger; Ålesund"),
        _split("Oslo; Bergen; Trondheim"),
        (("ev", 0.6), ("--", 0.4))),
    Origin(
        "SE", "SWE", "Schweden", 0.3,
        _split("Björn; Åke; Göran; Lars; Pär; Måns; Nils"),
        _split("Åsa; Märta; Astrid; Linnéa; Maja; Elin; Saga"),
        _same(*_split("Björk; Lindqvist; Åberg; Lindström; Holmström; Öberg; Sjöberg; Ekström; "
                      "Nyström; Söderberg")),
        _split("Stockholm; Göteborg; Malmö; Uppsala; Västerås; Örebro; Linköping"),
        _split("Stockholm; Göteborg; Malmö"),
        (("ev", 0.55), ("--", 0.45))),
    Origin(
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


def german_origin(seed: int) -> Origin:
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
    return Origin(
        "DE", "DEU", "Deutschland", GERMAN_WEIGHT,
        (*_valid_pool(male), *GERMAN_MALE * 3), (*_valid_pool(female), *GERMAN_FEMALE * 3),
        _same(*(n for n in families if names.is_valid(n))), (), (), GERMAN_RELIGIONS)
