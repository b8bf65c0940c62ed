"""Information blocks (Auskunftssperren, § 51 BMG; bedingte Sperrvermerke, § 52 BMG) at the counter.

A block exists because someone's life or freedom may be in danger if their address becomes
known. The register keeps the data, but nothing may leave it without care: a certificate for a
blocked person goes only to that person, after the clerk has checked who stands at the counter.
This module holds the rule's wording and the check that every issuing service applies, so the
warning shown before issuing, the refusal without acknowledgement and the audit entry all say
the same thing about the same blocks.

What never happens here: block data is never printed on a document. The functions return text
for the clerk's screen and the audit log only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from clerk_app.models import InformationBlock, parse_date
from clerk_app.store.db import Store
from clerk_app.store.rows import fetch_dicts

__all__ = [
    "ACKNOWLEDGE_FIELD",
    "acknowledgement_error",
    "active_blocks",
    "audit_note",
    "block_from_snapshot",
    "block_snapshot",
    "block_warning",
    "blocked_family_names",
    "fmt_date",
]

# The form field (of every issuing service) in which the clerk confirms having seen the block.
ACKNOWLEDGE_FIELD = "block_acknowledged"


def fmt_date(value: date) -> str:
    """TT.MM.JJJJ: the only date format on German documents and in German messages.

    The core cannot use the UI's formatter (no Qt in the core), and strftime depends on the
    locale; this is exact and locale-free.
    """
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def active_blocks(store: Store, person_id: str, today: date) -> tuple[InformationBlock, ...]:
    """The blocks of one person in force on `today` (started, not yet expired).

    Reads the block table directly, without the rest of the record: the UI asks this before a
    form opens, and that read must stay cheap and must not count as opening the whole record.
    """
    rows = fetch_dicts(store.conn, "SELECT * FROM information_blocks WHERE person_id = ? "
                                   "ORDER BY since, id", (person_id,))
    blocks = (InformationBlock(r["id"], r["kind"], r["legal_basis"], r["reason"],
                               date.fromisoformat(r["since"]), parse_date(r["until"]))
              for r in rows)
    return tuple(b for b in blocks if b.is_active_on(today))


def blocked_family_names(store: Store, limit: int = 10) -> list[str]:
    """Family names of persons with an open-ended block, alphabetical (for the developer
    tools' demo screenshots: a blocked person to show)."""
    rows = store.conn.execute(
        "SELECT p.family_name FROM information_blocks b JOIN persons p ON p.id = b.person_id "
        "WHERE b.until IS NULL ORDER BY p.family_name LIMIT ?", (limit,)).fetchall()
    return [str(row[0]) for row in rows]


def _describe(block: InformationBlock, *, article: bool = True) -> str:
    """'eine Auskunftssperre (§ 51 BMG) seit 01.01.2020 bis 31.12.2026' (with its article:
    a Sperrvermerk is masculine, a Sperre feminine; kinds are the register's free text)."""
    text = f"{block.kind} ({block.legal_basis}) seit {fmt_date(block.since)}"
    if block.until is not None:
        text += f" bis {fmt_date(block.until)}"
    if not article:
        return text
    return ("ein " if block.kind.strip().lower().endswith("vermerk") else "eine ") + text


def block_warning(block: InformationBlock) -> str:
    """The warning the clerk sees before issuing anything for a blocked person.

    It says what to do, not only what is recorded: hand the document only to the person
    concerned, and check their identity. The reason of the block is left out on purpose: the
    clerk does not need it for this decision, and it is often the most sensitive detail.
    """
    return (f"Für diese Person besteht {_describe(block)}. Bescheinigung nur an die "
            "betroffene Person selbst, Identität prüfen.")


def acknowledgement_error(blocks: tuple[InformationBlock, ...]) -> str:
    """The message next to the acknowledgement box when the clerk has not ticked it."""
    listed = "; ".join(_describe(b) for b in blocks)
    return (f"Für diese Person besteht {listed}. Bitte bestätigen, dass die Bescheinigung nur "
            "an die betroffene Person selbst ausgehändigt wird und deren Identität geprüft "
            "wurde.")


def block_snapshot(block: InformationBlock) -> dict[str, Any]:
    """The block as it stands in a command's payload: which block the clerk acknowledged.

    JSON-safe and without the reason (the payload travels to the central service, which has
    the block already; the reason adds nothing to the proof of acknowledgement).
    """
    return {"id": block.id, "kind": block.kind, "legal_basis": block.legal_basis,
            "since": block.since.isoformat(),
            "until": block.until.isoformat() if block.until else None}


def block_from_snapshot(data: dict[str, Any]) -> InformationBlock:
    """The inverse of `block_snapshot` (reason unknown), for texts built from a payload."""
    return InformationBlock(str(data["id"]), str(data["kind"]), str(data["legal_basis"]), None,
                            date.fromisoformat(data["since"]), parse_date(data.get("until")))


def audit_note(acknowledged: list[dict[str, Any]]) -> str:
    """The sentence in the audit entry that proves the block was seen before issuing.

    Empty when there was no block: then there was nothing to acknowledge.
    """
    if not acknowledged:
        return ""
    listed = "; ".join(_describe(block_from_snapshot(b), article=False) for b in acknowledged)
    return (f"Sperre zur Kenntnis genommen: {listed}; Aushändigung nur an die betroffene "
            "Person, Identität geprüft")
