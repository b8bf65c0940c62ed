"""Identifiers that workstations can mint offline without ever clashing."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): unique offline, sorts by creation.

    Used for command ids, the sync's idempotency key: the central service stores each one
    under a unique constraint, and their order helps when reading logs.
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
    """A random id for a new record (person, residence, document)."""
    return str(uuid.uuid4())
