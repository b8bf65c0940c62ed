"""Loading the demo register into the central service: the same synthetic residents as a
demo workstation's (same generator, same seed, byte-identical rows), so a demo workstation
and a seeded central service agree from the first sync."""

from __future__ import annotations

from clerk_app.demo.build import build_demo_register
from clerk_app.store.db import Actor, open_scratch
from sync import aggregates
from sync.server.central import Central


def seed_demo(central: Central, residents: int, seed: int = 91379) -> int:
    """Build the demo register in memory and load its aggregates; returns how many."""
    with open_scratch(Actor("seed", "zentrale")) as store:
        build_demo_register(store, residents, seed)
        persons = aggregates.read_all_persons(store.conn)
        households = aggregates.read_households(store.conn)
    return central.load_aggregates(persons, households)
