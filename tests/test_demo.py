"""The synthetic demo register, built on a real encrypted register file.

Small builds (2,000 residents; 5,000 for the name check) keep the tests fast; the full-size
timing is measured by hand (see the build's docstring), never asserted here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clerk_app import names
from clerk_app.demo.build import DemoSummary, build_demo_register
from clerk_app.demo.generator import DEMO_AS_OF
from clerk_app.errors import StoreError
from clerk_app.keys import new_key
from clerk_app.models import MARITAL_LABELS, RELIGION_LABELS
from clerk_app.search import search
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.streets import read_directory, valid_house_number
from tests.factories import COUNTER_ROLES

RESIDENTS = 2000
NAME_SAMPLE = 5000
NAME_COLUMNS = ("family_name", "birth_name", "first_names", "everyday_name", "religious_name",
                "artist_name")
TABLES = {
    "persons": "rowid", "households": "rowid", "residences": "rowid", "former_names": "id",
    "id_documents": "rowid", "information_blocks": "rowid", "streets": "id",
    "street_segments": "id",
}


def _open(path: Path) -> Store:
    return open_store(path, new_key(), Actor("test", "ws", COUNTER_ROLES), create=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary]]:
    """One demo register for the read-only tests of this module."""
    with _open(tmp_path_factory.mktemp("demo") / "r.db") as store:
        yield store, build_demo_register(store, RESIDENTS)


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {table: store.conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in TABLES.items()}


def _count(store: Store, sql: str) -> int:
    return int(store.conn.execute(sql).fetchone()[0])


# --- determinism ------------------------------------------------------------------------------

def test_same_seed_gives_identical_data(tmp_path: Path) -> None:
    with _open(tmp_path / "a.db") as a, _open(tmp_path / "b.db") as b:
        summary_a = build_demo_register(a, RESIDENTS, seed=7)
        summary_b = build_demo_register(b, RESIDENTS, seed=7)
        assert summary_a == summary_b
        dump_a, dump_b = _dump(a), _dump(b)
    for table in TABLES:
        assert dump_a[table] == dump_b[table], table


def test_other_seed_gives_other_data(tmp_path: Path,
                                     built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    with _open(tmp_path / "c.db") as other:
        build_demo_register(other, RESIDENTS, seed=1)
        assert _dump(other)["persons"] != _dump(store)["persons"]
        assert _dump(other)["streets"] == _dump(store)["streets"]


# --- counts -----------------------------------------------------------------------------------

def test_counts_are_plausible(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    assert summary.persons == RESIDENTS == _count(store, "SELECT count(*) FROM persons")
    assert summary.households == _count(store, "SELECT count(*) FROM households")
    assert summary.residences == _count(store, "SELECT count(*) FROM residences")
    assert summary.blocks == _count(store, "SELECT count(*) FROM information_blocks")
    assert summary.streets == len(read_directory()) == _count(store,
                                                              "SELECT count(*) FROM streets")
    # About two persons per household, as in a German town.
    assert 1.6 <= summary.persons / summary.households <= 2.6
    # Everyone has a current address; some also history or a secondary residence.
    assert summary.persons * 1.1 <= summary.residences <= summary.persons * 1.8
    assert 1 <= summary.blocks <= summary.persons * 0.02
    assert "Personen" in str(summary)


def test_every_person_belongs_to_a_household(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    assert _count(store, "SELECT count(*) FROM persons WHERE household_id IS NULL") == 0
    assert _count(store, "SELECT count(*) FROM households h WHERE NOT EXISTS "
                         "(SELECT 1 FROM persons p WHERE p.household_id = h.id)") == 0
    sizes = {r["n"] for r in store.query(
        "SELECT count(*) AS n FROM persons GROUP BY household_id")}
    assert {1, 2, 3, 4} <= sizes


def test_search_index_covers_everyone(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    assert _count(store, "SELECT count(*) FROM person_search_keys") == RESIDENTS


# --- residences -------------------------------------------------------------------------------

def test_exactly_one_current_main_residence_at_a_valid_address(
        built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    rows = store.query("""
        SELECT person_id, count(*) AS n, street_id, house_number, postal_code, city, district,
               street
          FROM residences WHERE move_out IS NULL AND kind IN ('alleinig', 'haupt')
         GROUP BY person_id""")
    assert len(rows) == RESIDENTS
    streets = {s.key: s for s in read_directory()}
    by_id = {r["id"]: streets[r["key"]] for r in store.query("SELECT id, key FROM streets")}
    for r in rows:
        assert r["n"] == 1
        assert r["city"] == "Lörrach"
        assert valid_house_number(store, r["street_id"], r["house_number"]), r
        street = by_id[r["street_id"]]
        assert r["street"] == street.name and r["district"] == street.district
        assert r["postal_code"] == street.postal_code_for(r["house_number"])


def test_no_street_and_house_number_under_two_postcodes(
        built: tuple[Store, DemoSummary]) -> None:
    """An address in the city is street and house number: the same pair under two postcodes
    (or two directory streets of one name) is no deliverable address."""
    store, _ = built
    ambiguous = store.query("""
        SELECT street, house_number, count(DISTINCT postal_code) AS codes,
               count(DISTINCT street_id) AS streets
          FROM residences WHERE city = 'Lörrach'
         GROUP BY street, house_number
        HAVING codes > 1 OR streets > 1""")
    assert ambiguous == []
    # Also by street alone: a name is one street of the directory, so one district.
    names = store.query("""
        SELECT street FROM residences WHERE city = 'Lörrach'
         GROUP BY street HAVING count(DISTINCT street_id) > 1""")
    assert names == []


def test_residence_kinds_and_history(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    # 'haupt' exactly for persons with a current secondary residence, 'alleinig' otherwise.
    mismatched = _count(store, """
        SELECT count(*) FROM residences r WHERE r.move_out IS NULL AND r.kind != 'neben'
           AND (r.kind = 'haupt') != EXISTS (SELECT 1 FROM residences n
                WHERE n.person_id = r.person_id AND n.kind = 'neben' AND n.move_out IS NULL)""")
    assert mismatched == 0
    secondary = _count(store, "SELECT count(DISTINCT person_id) FROM residences "
                              "WHERE kind = 'neben'")
    assert 0.02 * RESIDENTS <= secondary <= 0.08 * RESIDENTS
    history = _count(store, "SELECT count(DISTINCT person_id) FROM residences "
                            "WHERE move_out IS NOT NULL")
    assert 0.15 * RESIDENTS <= history <= 0.45 * RESIDENTS
    assert _count(store, "SELECT count(*) FROM residences WHERE move_out <= move_in") == 0
    outside_life = store.query(
        "SELECT r.id FROM residences r JOIN persons p ON p.id = r.person_id "
        "WHERE r.move_in < p.birth_date OR r.move_in > ?", (DEMO_AS_OF.isoformat(),))
    assert outside_life == []
    from_abroad = store.query("SELECT previous_address FROM residences "
                              "WHERE previous_address LIKE '%, Polen' "
                              "OR previous_address LIKE '%, Türkei' LIMIT 1")
    assert from_abroad


def test_household_members_share_the_address(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    addresses: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for r in store.query("""
            SELECT p.household_id, r.street_id, r.house_number FROM persons p
              JOIN residences r ON r.person_id = p.id
             WHERE r.move_out IS NULL AND r.kind IN ('alleinig', 'haupt')"""):
        addresses[r["household_id"]].add((r["street_id"], r["house_number"]))
    assert all(len(a) == 1 for a in addresses.values())
    # Families: children younger than their parents, sharing the family name mostly.
    families = store.query("""
        SELECT household_id FROM persons GROUP BY household_id
        HAVING count(*) >= 3 AND min(birth_date) < date(?, '-30 years')
           AND max(birth_date) > date(?, '-10 years')""",
                           (DEMO_AS_OF.isoformat(), DEMO_AS_OF.isoformat()))
    assert len(families) > RESIDENTS * 0.03


# --- names ------------------------------------------------------------------------------------

def test_every_name_is_din_91379_type_a(tmp_path: Path) -> None:
    with _open(tmp_path / "names.db") as store:
        build_demo_register(store, NAME_SAMPLE, seed=2024)
        rows = store.query(f"SELECT {', '.join(NAME_COLUMNS)} FROM persons")
        former = [r["name"] for r in store.query("SELECT name FROM former_names")]
    assert len(rows) == NAME_SAMPLE
    checked = 0
    for value in [v for r in rows for v in r.values() if v] + former:
        assert names.validate(value, names.DataType.A) == [], value
        assert names.normalize(value) == value, value
        checked += 1
    assert checked > NAME_SAMPLE * 2


def test_search_forms_stored(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    for r in store.query("SELECT family_name, first_names, family_sf, given_sf FROM persons"):
        assert r["family_sf"] == names.search_form(r["family_name"])
        assert r["given_sf"] == names.search_form(r["first_names"])
        assert re.fullmatch(r"[A-Z0-9 ]+", r["family_sf"])


def test_names_across_the_din_91379_range(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    text = " ".join(f"{r['family_name']} {r['first_names']}" for r in store.query(
        "SELECT family_name, first_names FROM persons"))
    markers = {
        "German": "äöüß", "Polish": "łśźżąęńŁŚŻ", "Turkish": "şğıİçŞÇ",
        "Czech": "řěůšťŘŠ", "Nordic": "øåæØÅ",
        "Vietnamese": "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐơư",
        "Romance": "éèêçñãõíóú",
    }
    for group, chars in markers.items():
        assert any(c in text for c in chars), group
    assert re.search(r"\b[A-ZÄÖÜ][a-zäöüß]+-[A-ZÄÖÜ][a-zäöüß]+\b", text), "double names"


def test_non_ascii_names_are_found_by_their_ascii_spelling(
        built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    people = store.query("""
        SELECT id, family_name, first_names, family_sf FROM persons
         WHERE family_name != family_sf AND upper(family_name) != family_sf
         ORDER BY rowid LIMIT 40""")
    assert len(people) >= 20
    for p in people:
        query = f"{p['family_sf'].lower()} {names.search_tokens(p['first_names'])[0].lower()}"
        hits = search(store, query, limit=200, today=DEMO_AS_OF)
        assert p["id"] in {h.id for h in hits}, (p["family_name"], query)


def test_birth_names_are_recorded_as_former_names(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    married = store.query("SELECT id, birth_name, family_name, marital_date FROM persons "
                          "WHERE birth_name IS NOT NULL")
    assert len(married) > RESIDENTS * 0.08
    former = {(r["person_id"], r["name"]): r for r in store.query(
        "SELECT * FROM former_names WHERE kind = 'Geburtsname'")}
    for p in married:
        assert p["birth_name"] != p["family_name"]
        row = former[(p["id"], p["birth_name"])]
        assert row["valid_until"] == p["marital_date"]
    assert len(former) == len(married)


def test_everyday_name_is_one_of_the_first_names(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    rows = store.query("SELECT first_names, everyday_name FROM persons "
                       "WHERE everyday_name IS NOT NULL")
    assert len(rows) > RESIDENTS * 0.2
    for r in rows:
        assert r["everyday_name"] in r["first_names"].split(" ")


def test_person_attributes_use_the_register_codes(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    rows = store.query("SELECT * FROM persons")
    sexes = {r["sex"] for r in rows}
    assert {"m", "w"} <= sexes <= {"m", "w", "d", "x"}
    assert sum(r["sex"] in ("m", "w") for r in rows) > RESIDENTS * 0.99
    assert {r["marital_status"] for r in rows} <= set(MARITAL_LABELS)
    assert {"LD", "VH", "VW", "GS"} <= {r["marital_status"] for r in rows}
    assert {r["religion"] for r in rows} <= set(RELIGION_LABELS)
    nationalities = [json.loads(r["nationalities"]) for r in rows]
    assert all(n and all(re.fullmatch("[A-Z]{3}", c) for c in n) for n in nationalities)
    assert any(len(n) == 2 for n in nationalities), "dual nationalities"
    assert {"DEU", "TUR", "POL"} <= {c for n in nationalities for c in n}
    assert {"Dr.", "Prof. Dr."} & {r["doctorate"] for r in rows}
    assert all(r["birth_date"] <= DEMO_AS_OF.isoformat() for r in rows)
    assert all(r["birth_place"] for r in rows)
    assert all(r["created_at"].endswith("+00:00") and r["created_at"] <= r["updated_at"]
               for r in rows)
    married = [r for r in rows if r["marital_status"] in ("VH", "LP")]
    assert all(r["marital_date"] for r in married)


# --- documents and blocks ---------------------------------------------------------------------

def test_id_documents(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    docs = store.query("SELECT d.*, p.nationalities, p.birth_date FROM id_documents d "
                       "JOIN persons p ON p.id = d.person_id")
    assert len(docs) > RESIDENTS * 0.6
    assert {d["doc_type"] for d in docs} == {"PA", "RP"}
    numbers = [d["number"] for d in docs]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}", n) for n in numbers)
    assert all("DEU" in json.loads(d["nationalities"]) for d in docs)
    assert all(d["authority"] == "Stadt Lörrach" for d in docs)
    assert all(d["birth_date"] <= d["issued_on"] < d["valid_until"] for d in docs)
    today = DEMO_AS_OF.isoformat()
    expired = sum(d["valid_until"] < today for d in docs)
    assert 0.05 * len(docs) < expired < 0.5 * len(docs)


def test_information_blocks(built: tuple[Store, DemoSummary]) -> None:
    store, summary = built
    blocks = store.query("SELECT * FROM information_blocks")
    assert len(blocks) == summary.blocks >= RESIDENTS * 0.004
    assert {b["kind"] for b in blocks} == {"Auskunftssperre"}
    assert {b["legal_basis"] for b in blocks} == {"§ 51 BMG"}
    assert all(b["reason"] for b in blocks)
    assert all(b["until"] is None or b["until"] > b["since"] for b in blocks)
    active = [b for b in blocks if b["since"] <= DEMO_AS_OF.isoformat()
              and (b["until"] is None or b["until"] >= DEMO_AS_OF.isoformat())]
    assert active
    # The block shows in the search hit list.
    person = store.query("SELECT family_sf, given_sf, birth_date FROM persons WHERE id = ?",
                         (active[0]["person_id"],))[0]
    born = date.fromisoformat(person["birth_date"]).strftime("%d.%m.%Y")
    hits = search(store, f"{person['family_sf']} {born}", today=DEMO_AS_OF)
    assert any(h.blocked for h in hits)


# --- the build itself -------------------------------------------------------------------------

def test_build_refuses_a_register_that_holds_persons(built: tuple[Store, DemoSummary]) -> None:
    store, _ = built
    with pytest.raises(StoreError):
        build_demo_register(store, 10)
    assert _count(store, "SELECT count(*) FROM persons") == RESIDENTS


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    with _open(tmp_path / "p.db") as store:
        cache_before = store.conn.execute("PRAGMA cache_size").fetchone()[0]
        summary = build_demo_register(store, 2500, seed=3,
                                      progress=lambda done, total: calls.append((done, total)))
        cache_after = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    assert summary.persons == 2500
    assert calls[-1] == (2500, 2500)
    assert len(calls) >= 3
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert cache_after == cache_before  # the build's bigger page cache is given back


def test_tiny_and_empty_builds(tmp_path: Path) -> None:
    with _open(tmp_path / "t.db") as store:
        summary = build_demo_register(store, 3)
        assert summary.persons == 3
        assert summary.blocks >= 1
    with _open(tmp_path / "e.db") as store:
        summary = build_demo_register(store, 0)
        assert (summary.persons, summary.households, summary.blocks) == (0, 0, 0)
        assert summary.streets == len(read_directory())


HASH_SCRIPT = """
import hashlib, sys
from pathlib import Path
from clerk_app.demo.build import build_demo_register
from clerk_app.keys import new_key
from clerk_app.store.db import Actor, open_store
store = open_store(Path(sys.argv[1]), new_key(), Actor("test", "ws"), create=True)
build_demo_register(store, 300, seed=5)
digest = hashlib.sha256()
for table in ("persons", "residences", "former_names", "id_documents", "information_blocks"):
    rows = store.conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    digest.update(repr(rows).encode())
print(digest.hexdigest())
"""


def test_same_seed_same_data_across_processes(tmp_path: Path) -> None:
    """String hashing is randomised per process: a set iterated anywhere in the generator
    would make two processes differ even though one process is always self-consistent."""
    digests = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", HASH_SCRIPT, str(tmp_path / f"h{hash_seed}.db")],
            env=env, capture_output=True, text=True, check=True, timeout=120,
            cwd=Path(__file__).resolve().parents[1])
        digests.append(done.stdout.strip())
    assert digests[0] == digests[1] != ""
