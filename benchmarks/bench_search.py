"""Type-ahead search on a 100,000-resident encrypted register, against a LIKE '%q%' scan.

    python benchmarks/bench_search.py [--residents 100000] [--like-every 1] [--repeat 1]

The queries are what clerks type, keystroke by keystroke: growing prefixes of family names,
"first family" pairs, birth dates, street + house number. The baseline scans the same data with
LIKE '%q%' in the same run; the figure is the ratio (machines here are noisy).
"""

from __future__ import annotations

import argparse
import random
import statistics

from common import demo_register, p95, timings

from clerk_app.search import search
from clerk_app.store.db import Store


def clerk_queries(store: Store, count: int, seed: int = 7) -> list[str]:
    """What clerks type about `count` residents drawn at random (by rowid: drawing them reads
    no more of a million-resident register than of a small one)."""
    rng = random.Random(seed)
    top = store.conn.execute("SELECT max(rowid) FROM persons").fetchone()[0]
    queries: list[str] = []
    drawn = 0
    while drawn < count:
        found = store.query("""
            SELECT p.family_name, p.first_names, p.birth_date, r.street, r.house_number
              FROM persons p JOIN residences r ON r.person_id = p.id AND r.move_out IS NULL
             WHERE p.rowid = ?""", (rng.randrange(1, top + 1),))
        if not found:
            continue
        p = found[0]
        drawn += 1
        family = p["family_name"].split("-")[0].split()[0]
        queries += [family[:n] for n in range(2, len(family) + 1)]
        queries.append(f"{p['first_names'].split()[0]} {family}")
        y, m, d = p["birth_date"].split("-")
        queries.append(f"{d}.{m}.{y}")
        queries.append(f"{p['street']} {p['house_number']}")
    return queries


def like_scan(store: Store, text: str) -> list[dict[str, object]]:
    """The naive way: LIKE '%q%' over the names, as an unindexed search would do."""
    return store.query(
        "SELECT id FROM persons WHERE family_name LIKE :p OR first_names LIKE :p "
        "OR birth_date LIKE :p ORDER BY family_name LIMIT 50", {"p": f"%{text}%"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--like-every", type=int, default=1,
                        help="time the LIKE scan on every n-th query only (a scan of a "
                             "million residents takes seconds)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each query n times and keep the fastest, on both sides (on "
                             "a machine shared with other jobs: the time the work takes, not "
                             "the time the process waited for a core)")
    args = parser.parse_args()
    store = demo_register(args.residents)
    queries = clerk_queries(store, args.people)
    for q in queries[:20]:  # warm the page cache for both sides alike
        search(store, q)
    for q in queries[:20:args.like_every]:
        like_scan(store, q)
    fts = [min(timings(lambda q=q: search(store, q), args.repeat)) for q in queries]
    like = [min(timings(lambda q=q: like_scan(store, q), args.repeat))
            for q in queries[::args.like_every]]
    print(f"queries: {len(queries)} on {args.residents} residents (encrypted)")
    print(f"type-ahead search: median {statistics.median(fts):.2f} ms, p95 {p95(fts):.2f} ms, "
          f"max {max(fts):.2f} ms")
    print(f"LIKE '%q%' baseline ({len(like)} queries): median {statistics.median(like):.2f} ms, "
          f"p95 {p95(like):.2f} ms")
    print(f"ratio (baseline median / search median): "
          f"{statistics.median(like) / statistics.median(fts):.1f}x; "
          f"(baseline p95 / search p95): {p95(like) / p95(fts):.1f}x")


if __name__ == "__main__":
    main()
