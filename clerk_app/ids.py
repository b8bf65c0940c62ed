"""Identifiers that workstations can mint offline without ever clashing."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): unique offline, sorts by creation.

    Used for command ids, the sync's idempotency key: the central service stores each one
    under a unique constraint, and their order helps when reading logs; and for new records'
    ids (`new_id`).
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def new_id() -> str:
    """The id of a new record (person, household, residence, relation...): time-ordered.

    A random id put every new row at a random place of each B-tree keyed by it (the table's
    id, and every index on a person or household id): one page read from disk per tree at a
    million residents, where the ids of this workstation's new rows now share the last few
    pages. Nothing relies on ids being random: the sync and its conflict rules compare
    versions, never ids, and order ids only to page through them; an id tells no more than
    the record's own `created_at`. 74 random bits keep ids minted offline apart.
    """
    return uuid7()
