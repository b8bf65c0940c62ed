"""First sync of a workstation: bootstrap of the whole register from the central service,
against a bulk insert of the same rows into the same kind of store.

    python benchmarks/bench_bootstrap.py [--residents 100000] [--database sqlite|postgresql]
                                         [--runs 1]

The central service (`clerk-app central serve`, a child process on 127.0.0.1) is seeded with
the demo register, by a process of its own (beyond 100,000 residents: copies of the
100,000-resident demo register under fresh ids, `common.seed_in_child`). Measured:
`SyncEngine.sync_once()` on a fresh encrypted register (street directory loaded, device
enrolled): the bootstrap pages over HTTP (gzip), bulk-written into the register and indexed
as they come; then the empty pull and the checksum comparison. Baseline, in
the same run: the same rows (read from the central database beforehand, not timed) inserted
into a fresh encrypted register (street directory loaded) with one `executemany` per table in
one transaction (foreign keys off, as the bootstrap has them), and the search index built with
`reindex_all`: both end states hold the register and its search index. Runs alternate; the bootstrap
goes first, so that the process's peak resident memory after it is the bootstrap's (the
baseline's rows are read into memory only then; the seeding ran in another process).

While the bootstrap runs, a counter thread (its own connection to the same register, as the
window's DB worker has) serves an Anmeldung every quarter second; each one's time from start
to commit is measured: the bootstrap must never make a counter wait more than a moment
(target < 0.5 s for the slowest).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from common import measure_on_central

from clerk_app.clerks import SACHBEARBEITUNG
from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.search_index import reindex_all
from clerk_app.services.runner import run_service
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.streets import load_street_directory
from sync.aggregates import CHILDREN
from sync.engine import SyncEngine, SyncReport

Rows = dict[str, list[dict[str, Any]]]


def register_rows(persons: Mapping[str, Any], households: Mapping[str, Any]) -> Rows:
    """The central aggregates as the register's table rows, in foreign-key order."""
    rows: Rows = {"households": list(households.values()),
                  "persons": [a["person"] for a in persons.values()]}
    for table in CHILDREN:
        rows[table] = [row for a in persons.values() for row in a[table]]
    return rows


def fresh_store(path: Path) -> Store:
    store = open_store(path, new_key(), Actor("bench", "bench"), create=True)
    with store.transaction() as db:
        load_street_directory(db)
    return store


def bulk_insert(store: Store, rows: Rows) -> float:
    """The baseline: plain `executemany` per table in one transaction, then the index;
    returns the seconds the index took."""
    conn = store.conn
    conn.execute("PRAGMA foreign_keys = OFF")
    with store.transaction() as db:
        for table, items in rows.items():
            columns: Sequence[str] = list(items[0]) if items else ()
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})",
                             [tuple(r[c] for c in columns) for r in items])
        started = time.perf_counter()
        reindex_all(db)
        index = time.perf_counter() - started
    conn.execute("PRAGMA foreign_keys = ON")
    return index


class Counter(threading.Thread):
    """A counter serving citizens on the same workstation: an Anmeldung every `pause`
    seconds on its own connection, each one timed from start to commit."""

    def __init__(self, path: Path, key: str, forms: Sequence[dict[str, Any]],
                 pause: float = 0.25) -> None:
        super().__init__(name="bench-counter", daemon=True)
        self.path, self.key, self.forms, self.pause = path, key, forms, pause
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.seconds: list[float] = []

    @property
    def served(self) -> int:
        """Citizens served: the timed ones and the first (warm-up) one."""
        return len(self.seconds) + 1

    def run(self) -> None:
        store = open_store(self.path, self.key, Actor("counter", "bench", (SACHBEARBEITUNG,)))
        try:
            # The day's first service loads the services' modules: not the bootstrap's doing.
            run_service(store, "anmeldung", self.forms[-1], uuid7())
            self.ready.set()
            while not self.stop.wait(self.pause):
                form = self.forms[len(self.seconds)]  # another citizen each time
                started = time.perf_counter()
                run_service(store, "anmeldung", form, uuid7())
                self.seconds.append(time.perf_counter() - started)
        finally:
            store.close()


def timed_bootstrap(engine: SyncEngine, into: dict[str, float],
                    counter: Counter | None = None) -> None:
    """Let the engine's own `sync_once` run unchanged, noting how long its bootstrap took
    (and serving at the `counter` while it runs)."""
    bootstrap: Callable[[SyncReport], None] = engine.bootstrap

    def run(report: SyncReport) -> None:
        if counter is not None:
            counter.start()
            counter.ready.wait()
        started = time.perf_counter()
        try:
            bootstrap(report)
        finally:
            into["bootstrap"] = time.perf_counter() - started
            if counter is not None:
                counter.stop.set()
                counter.join()

    engine.bootstrap = run  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=1)
    measure_on_central("bootstrap-", parser.parse_args(), measure)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args: argparse.Namespace, folder: Path, server: Any, central: Any) -> None:
    from tests.sync_support import Workstation, anmeldung, central_aggregates

    baseline, index, sync, bootstrap, waits = [], [], [], [], []
    peak = 0.0
    rows: Rows = {}
    for run in range(args.runs):
        station = Workstation(folder, f"ws{run}", central, server.url)
        engine = station.engine()
        phases: dict[str, float] = {}
        street = station.street("Hauptstraße")
        counter = Counter(station.path, station.key, [
            anmeldung(street, born=(date(1950, 1, 1) + timedelta(days=n)).isoformat())
            for n in range(10_000)])
        timed_bootstrap(engine, phases, counter)
        started = time.perf_counter()
        report = engine.sync_once()
        sync.append(time.perf_counter() - started)
        bootstrap.append(phases["bootstrap"])
        waits += counter.seconds
        local = station.store.conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        station.close()
        # The first bootstrap ran before this process read the rows for the baseline: its
        # peak is the workstation's (the central service is a process of its own).
        peak = peak or peak_rss_mb()
        if not rows:
            persons, households = central_aggregates(central.db)
            rows = register_rows(persons, households)
        if (report.bootstrapped, local, report.checksum_ok) != (
                len(persons) + len(households), len(persons) + counter.served, True):
            raise SystemExit(f"bootstrap incomplete: {report.summary_en()}, {local} persons")

        store = fresh_store(folder / f"baseline-{run}.db")
        started = time.perf_counter()
        index.append(bulk_insert(store, rows))
        baseline.append(time.perf_counter() - started)
        store.close()
        for path in folder.glob("*.db*"):
            path.unlink()
    base, boot, whole = (statistics.median(v) for v in (baseline, bootstrap, sync))
    print(f"register: {len(persons)} persons, {len(households)} households, "
          f"{sum(map(len, rows.values()))} rows; central database: {args.database}")
    print(f"baseline bulk insert + search index: {base:.2f} s "
          f"(of which the search index {statistics.median(index):.2f} s)")
    print(f"bootstrap (pages over HTTP, gzip, bulk write, search index): {boot:.2f} s, "
          f"peak resident memory of the process {peak:.0f} MB (target <= 400 MB)")
    print(f"first sync (bootstrap + pull + checksum check): {whole:.2f} s")
    print(f"ratio bootstrap / baseline: {boot / base:.2f}x (target <= 2.5x); "
          f"first sync / baseline: {whole / base:.2f}x (medians of {args.runs} runs)")
    print(f"counter during the bootstrap: {len(waits)} Anmeldungen, median "
          f"{statistics.median(waits):.3f} s, slowest {max(waits):.3f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()
