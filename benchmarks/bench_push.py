"""Push of a day's offline work: 10,000 commands applied once on the central service, against a
raw bulk insert of the rows they wrote, on the same database in the same run.

    python benchmarks/bench_push.py [--residents 100000] [--commands 10000]
                                    [--database postgresql|sqlite] [--baseline-runs 3]

Set-up (not timed): the central service (`clerk-app central serve`, a child process on
127.0.0.1) on a fresh database seeded with the demo register; a workstation with its own
encrypted register, enrolled and bootstrapped; then, offline, `--commands` counter services on
half as many persons: each person first gets an Ummeldung (every fifth) or a
Meldebescheinigung paid in cash, then a Meldebescheinigung, so a person's second command stands
on the version the first one made.

Measured: `SyncEngine.push` (batches of 100 over HTTP; each command replayed centrally with
its version check, its effect and its row stored in the batch's transaction). Checked after:
every command applied exactly once, every document, cash journal entry and registration
made offline in the central ledger once, nothing pending; then
the whole outbox is sent again (as if every answer had been lost) and nothing changes.

Baseline: the rows the push wrote (its `commands` rows, the `aggregates` rows with a change
number above the mark before the push, its `ledger` rows) read back and inserted into fresh
copies of those tables (same columns, keys and indexes) with one `executemany` per table in
one transaction, on the same database; median of `--baseline-runs`.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import measure_on_central

from sync.engine import SyncReport
from sync.server.storage import Database

TABLES = ("commands", "aggregates", "ledger")


def offline_work(station: Any, count: int) -> Counter[str]:
    """`count` commands on `count // 2` persons, run on the workstation without syncing."""
    from tests.sync_support import meldebescheinigung, ummeldung

    persons = station.persons(count // 2)
    if len(persons) * 2 < count:
        raise SystemExit(f"only {len(persons)} suitable persons; use more --residents")
    streets = [station.street(), station.street("Hauptstraße")]
    made: Counter[str] = Counter()
    for i in range(count):
        person = persons[i % len(persons)]
        if i < len(persons) and i % 5 == 0:
            form = ummeldung(person, streets[i % 2], str(1 + i % 40))
            form["kind"] = main_kind(station, person)
            station.run("ummeldung", form)
            made["ummeldung"] += 1
        else:
            station.run("meldebescheinigung", meldebescheinigung(person))
            made["meldebescheinigung"] += 1
    return made


def main_kind(station: Any, person_id: str) -> str:
    """'haupt' for a person who also has a Nebenwohnung, else 'alleinig' (what the clerk
    would choose; the service refuses the other)."""
    (kind,) = station.store.conn.execute(
        "SELECT kind FROM residences WHERE person_id = ? AND move_out IS NULL "
        "AND kind IN ('alleinig', 'haupt')", (person_id,)).fetchone()
    return str(kind)


def local_counts(station: Any) -> dict[str, int]:
    """Documents, cash journal entries and registrations made on the workstation: each must
    be in the central ledger exactly once."""
    return {t: station.store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("documents", "cash_journal", "registrations")}


def high_water_mark(db: Database) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.execute("SELECT value FROM counter WHERE name = 'seq'")[0][0])


def ledger_counts(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as tx:
        return {k: int(n) for k, n in tx.execute("SELECT kind, count(*) FROM ledger "
                                                 "GROUP BY kind")}


def pushed_rows(db: Database, mark: int) -> dict[str, list[tuple[Any, ...]]]:
    """What the push wrote (the central database held no commands or ledger rows before)."""
    with db.transaction(write=False) as tx:
        return {"commands": tx.execute("SELECT * FROM commands"),
                "aggregates": tx.execute("SELECT * FROM aggregates WHERE seq > ?", (mark,)),
                "ledger": tx.execute("SELECT * FROM ledger")}


def copy_tables(db: Database) -> None:
    """Empty `bench_<table>` twins of the pushed-to tables: same columns, keys, indexes."""
    with db.transaction() as tx:
        for table in TABLES:
            tx.execute(f"DROP TABLE IF EXISTS bench_{table}")
            if db.dialect == "postgresql":
                tx.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
                continue
            for (sql,) in tx.execute("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND "
                                     "sql IS NOT NULL ORDER BY type DESC", (table,)):
                tx.execute(re.sub(rf"\b{table}\b", f"bench_{table}",
                                  re.sub(rf"\b{table}_", f"bench_{table}_", sql)))


def bulk_insert(db: Database, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    copy_tables(db)
    started = time.perf_counter()
    with db.transaction() as tx:
        for table, items in rows.items():
            tx.executemany(f"INSERT INTO bench_{table} VALUES "
                           f"({', '.join('?' * len(items[0]))})", items)
    elapsed = time.perf_counter() - started
    with db.transaction() as tx:
        for table in TABLES:
            tx.execute(f"DROP TABLE bench_{table}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--baseline-runs", type=int, default=3)
    measure_on_central("push-", parser.parse_args(), measure)


def measure(args: argparse.Namespace, folder: Path, server: Any, central: Any) -> None:
    from tests.sync_support import Workstation, command_counts

    station = Workstation(folder, "mobil", central, server.url)
    station.sync()
    started = time.perf_counter()
    made = offline_work(station, args.commands)
    print(f"offline: {dict(made)} in {time.perf_counter() - started:.1f} s")
    mark = high_water_mark(central.db)

    report = SyncReport()
    started = time.perf_counter()
    station.engine().push(report)
    push = time.perf_counter() - started
    counts, ledger = command_counts(central.db), ledger_counts(central.db)
    if (counts, report.applied, station.pending()) != ({"applied": args.commands},
                                                       args.commands, 0) or \
            any(ledger.get(t) != n for t, n in local_counts(station).items()):
        raise SystemExit(f"push not applied exactly once: {report.summary_en()}, central "
                         f"{counts}, ledger {ledger}, pending {station.pending()}")

    rows = pushed_rows(central.db, mark)
    after = high_water_mark(central.db)
    with station.store.transaction():  # every answer lost: the whole outbox goes again
        station.store.conn.execute("UPDATE outbox SET status = 'pending'")
    again = SyncReport()
    started = time.perf_counter()
    station.engine().push(again)
    resend = time.perf_counter() - started
    if (command_counts(central.db), ledger_counts(central.db), high_water_mark(central.db),
            again.applied) != (counts, ledger, after, args.commands):
        raise SystemExit("the resent outbox changed the central register")
    station.close()

    baseline = statistics.median(bulk_insert(central.db, rows)
                                 for _ in range(args.baseline_runs))
    print(f"central database: {args.database}; register {args.residents} residents")
    print("rows the push wrote: " + ", ".join(f"{t} {len(r)}" for t, r in rows.items())
          + f" ({sum(map(len, rows.values()))} in all)")
    print(f"push of {args.commands} commands: {push:.2f} s "
          f"({args.commands / push:.0f} commands/s), exactly once")
    print(f"resend of the whole outbox (all duplicates, nothing changed): {resend:.2f} s")
    print(f"baseline executemany of the same rows in one transaction: {baseline:.3f} s "
          f"(median of {args.baseline_runs})")
    print(f"ratio push / baseline: {push / baseline:.1f}x (target <= 15x)")


if __name__ == "__main__":
    main()
