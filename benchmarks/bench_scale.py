"""The counter's steps on a small and a large register, in one run: size must not matter.

    python benchmarks/bench_scale.py [--small 100000] [--large 1000000] [--runs 5] [--steps 30]

Both demo registers are built once into `benchmarks/out/` (ignored by git) and reused. For
each, alternating between the two so that machine noise hits both alike:

* the start to a usable window (a fresh process each run, as `bench_startup.py`);
* opening a person (the full record, audited), a Meldebescheinigung and an Anmeldung of one
  person (`run_service`, one transaction each), on persons drawn at random;
* the register file per resident (after a checkpoint), and its free pages.

Figures: medians, and the ratio large / small (targets: start ≤ 1.1x, the steps ≤ 1.2x).
The steps are timed twice: by the wall clock, and by the CPU time of the calling thread
(user and system: decrypting pages read from the OS cache counts, waiting for a core on a
loaded machine does not), the figure that stays comparable when other jobs share the cores.
`--runs 0` leaves the starts out.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench_startup import APP, REPO, start
from common import demo_config, demo_register, timings

from clerk_app.ids import uuid7
from clerk_app.person_record import open_person
from clerk_app.services.runner import run_service
from clerk_app.store.db import Store
from clerk_app.streets import find_streets

CASH = {"method": "bar", "given_cents": 2000}


FIRST = ("Łukasz", "Jan", "Piotr", "Tomasz", "Paweł", "Marek", "Adam", "Michał")


def anmeldung(street_id: int, rng: random.Random) -> dict[str, Any]:
    """A new resident from abroad (a different first name and birth date each time, so that
    no duplicate check holds the service up)."""
    born = date(1960, 1, 1).toordinal() + rng.randrange(40 * 365)
    return {"persons": [{"family_name": "Wróbel", "first_names": rng.choice(FIRST),
                         "birth_date": date.fromordinal(born).isoformat(), "sex": "m",
                         "birth_place": "Kraków", "birth_country": "POL",
                         "nationalities": ["POL"], "religion": "rk", "marital_status": "LD",
                         "duplicate_checked": True}],
            "address": {"street_id": street_id, "house_number": "3"}, "kind": "alleinig",
            "move_in": date.today().isoformat(),
            "landlord": {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
                         "landlord_address": "Am Alten Markt 1, 79539 Lörrach"},
            "previous_address": {"address": "ul. Długa 5, 30-001 Kraków"}}


def random_persons(store: Store, count: int, rng: random.Random) -> list[str]:
    """Persons by random rowid (no scan of the register to draw them) who live here and have
    no information block (a Meldebescheinigung would need the clerk's acknowledgement)."""
    top = store.conn.execute("SELECT max(rowid) FROM persons").fetchone()[0]
    found: list[str] = []
    while len(found) < count:
        row = store.conn.execute(
            "SELECT id FROM persons p WHERE rowid >= ? AND NOT EXISTS (SELECT 1 FROM "
            "information_blocks b WHERE b.person_id = p.id) AND EXISTS (SELECT 1 FROM "
            "residences r WHERE r.person_id = p.id AND r.move_out IS NULL) LIMIT 1",
            (rng.randrange(1, top + 1),)).fetchone()
        if row:
            found.append(row[0])
    return found


def steps(store: Store, count: int, seed: int) -> dict[str, Callable[[], object]]:
    """One call of each counter step per entry, each on a person of its own."""
    rng = random.Random(seed)
    persons = iter(random_persons(store, 2 * count, rng))
    street = next(s.id for s in find_streets(store, "Palmstraße") if s.id is not None)
    return {
        "open person": lambda: open_person(store, next(persons), "Auskunft am Schalter"),
        "Meldebescheinigung": lambda: run_service(
            store, "meldebescheinigung",
            {"person_id": next(persons), "variant": "einfach", "payment": CASH}, uuid7()),
        "Anmeldung": lambda: run_service(store, "anmeldung", anmeldung(street, rng), uuid7()),
    }


def file_figures(store: Store, residents: int) -> str:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    free = int(store.conn.execute("PRAGMA freelist_count").fetchone()[0])
    page = int(store.conn.execute("PRAGMA page_size").fetchone()[0])
    return (f"{size / 2**20:.0f} MiB, {size / residents:.0f} bytes per resident, "
            f"{free * page / 2**20:.1f} MiB free pages")


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ms"


def cpu_ms(fn: Callable[[], object]) -> float:
    """The calling thread's CPU time of one call, in milliseconds."""
    started = time.thread_time()
    fn()
    return (time.thread_time() - started) * 1000


def report(times: dict[tuple[int, str], list[float]], sizes: tuple[int, int], name: str,
           ) -> None:
    small, large = (times.get((n, name)) for n in sizes)
    if small and large:
        print(f"{name}: {median_ms(small)} at {sizes[0]}, {median_ms(large)} at {sizes[1]}: "
              f"ratio {statistics.median(large) / statistics.median(small):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    sizes = (args.small, args.large)
    stores = {n: demo_register(n) for n in sizes}
    for n, store in stores.items():
        print(f"register of {n} residents: {file_figures(store, n)}")

    times: dict[tuple[int, str], list[float]] = {}
    calls = {n: steps(store, 2 * args.steps, seed=n) for n, store in stores.items()}
    for n in sizes:  # warm: statements compiled, templates loaded, pages cached
        for fn in calls[n].values():
            fn()
    for _ in range(args.steps - 1):
        for n in sizes:
            for name, fn in calls[n].items():
                times.setdefault((n, name), []).extend(timings(fn))
                times.setdefault((n, f"{name} (CPU)"), []).append(cpu_ms(fn))
    for store in stores.values():
        store.close()

    codes = {n: APP.format(repo=str(REPO), data_dir=demo_config(n).data_dir) for n in sizes}
    for n in sizes:
        start(codes[n])  # warm the page cache for both alike
    for _ in range(args.runs):
        for n in sizes:
            times.setdefault((n, "start"), []).append(start(codes[n])[0])

    for name in ("start", "open person", "Meldebescheinigung", "Anmeldung"):
        report(times, sizes, name)
        report(times, sizes, f"{name} (CPU)")


if __name__ == "__main__":
    main()
