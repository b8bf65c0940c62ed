"""Loading the demo register into the central service: the same synthetic residents as a
demo workstation's (same generator, same seed, byte-identical rows), so a demo workstation
and a seeded central service agree from the first sync.

For the benchmarks' large registers (a million residents) `seed_copies` repeats a demo
register under fresh ids: the generator draws residents one by one in Python (minutes for a
million), copying them is a string substitution per aggregate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clerk_app.demo.build import build_demo_register
from clerk_app.store.db import Actor, open_scratch
from sync import aggregates
from sync.aggregates import HOUSEHOLD, PERSON
from sync.server.central import Central

# Residents the generator draws for `seed_copies`; the rest are copies of them.
COPY_BASE = 100_000
# The demo's ids are UUIDs of version 4 (random) or 5 (relations). A copy's ids are the same
# with the version digit replaced by the copy's mark: unique within the copy, and never equal
# to an id of another copy. The first copy keeps the ids (and is the demo register itself).
_MARKS = "-01236789abcdef"
_UUID = re.compile(r"\b([0-9a-f]{8}-[0-9a-f]{4}-)[45]([0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})\b")


def seed_demo(central: Central, residents: int, seed: int = 91379) -> int:
    """Build the demo register in memory and load its aggregates; returns how many."""
    with open_scratch(Actor("seed", "zentrale")) as store:
        build_demo_register(store, residents, seed)
        persons = aggregates.read_all_persons(store.conn)
        households = aggregates.read_households(store.conn)
    return central.load_aggregates(persons, households)


def seed_copies(central: Central, residents: int, seed: int = 91379,
                base: int = COPY_BASE) -> int:
    """Load `residents` persons: the demo register of `base` residents (`seed_demo` when
    there are no more), repeated under fresh ids (same names, addresses and households, as
    many times as needed; at most 15 copies). A last copy that is cut short keeps all its
    households, and its relations may name a person left out. Returns how many aggregates
    were loaded."""
    base = min(base, residents)
    copies = -(-residents // base)
    if copies > len(_MARKS):
        raise ValueError(f"{residents} residents are more than {len(_MARKS)} copies of {base}")
    with open_scratch(Actor("seed", "zentrale")) as store:
        build_demo_register(store, base, seed)
        persons = sorted((pid, aggregates.canonical(a))
                         for pid, a in aggregates.read_all_persons(store.conn).items())
        households = sorted((hid, aggregates.canonical(h))
                            for hid, h in aggregates.read_households(store.conn).items())

    def records() -> Iterator[tuple[str, str, str]]:
        for kind, items in ((HOUSEHOLD, households), (PERSON, persons)):
            for copy in range(copies):
                # The last copy's persons fill up to `residents` (its households all come).
                rows = items if kind == HOUSEHOLD else items[:residents - copy * base]
                for rid, text in rows:
                    yield kind, _copied(rid, copy), _copied(text, copy)

    return central.load_canonical(records())


def _copied(text: str, copy: int) -> str:
    """`text` with every id made the `copy`th copy's (the first copy: unchanged)."""
    if not copy:
        return text
    return _UUID.sub(rf"\g<1>{_MARKS[copy]}\g<2>", text)
