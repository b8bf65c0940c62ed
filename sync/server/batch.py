"""What a push batch reads from the central database, read once for the whole batch.

Replaying a command needs the aggregates and cash journal entries it names, and whether the
service holds anything about the command yet. Read command by command that is two or three
database round trips per command, which cost more than the replay itself (PostgreSQL fetches
each person's aggregate out of TOAST storage). So a batch reads all of it at its start, under
the change-sequence lock (no other writer changes any of it meanwhile), and keeps it current
with its own writes (`wrote`). A command that writes by another path (a Klärfall decision)
makes it stale: from there on the batch's commands read from the database again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sync.aggregates import HOUSEHOLD, KINDS, PERSON, Aggregate, canonical
from sync.protocol import Command
from sync.server.json_text import dumps, loads
from sync.server.replay import Hydrated, journal_row, referenced
from sync.server.storage import Tx

CHUNK = 400  # names per query: well under SQLite's parameter limit

# (kind, id, seq, data): an aggregate (kind 'person'/'household'; data None once deleted) or a
# cash journal entry (kind 'cash_journal', id = receipt number).
Row = tuple[str, str, int, str | None]
Written = list[tuple[str, str, int, Aggregate | None]]
# A command's row as stored: (status, reason, result as JSON, device id).
Stored = tuple[str, str | None, str, str]
FINAL = ("applied", "rejected", "discarded")  # a stored command in these is answered as it is


def read_named(tx: Tx, ids: Sequence[str], receipts: Sequence[str]) -> list[Row]:
    """Live aggregates with these ids and journal entries with these receipt numbers. `kind
    IN` lets both databases use the (kind, id) key: by id alone they scan the register."""
    rows: list[Row] = []
    for start in range(0, max(len(ids), len(receipts)), CHUNK):
        some_ids, some_receipts = ids[start:start + CHUNK], receipts[start:start + CHUNK]
        rows += [(str(k), str(i), int(s), d) for k, i, s, d in tx.execute(
            f"SELECT kind, id, seq, data FROM aggregates WHERE kind IN (?, ?) "
            f"AND id IN ({','.join('?' * len(some_ids)) or 'NULL'}) AND deleted = 0 UNION ALL "
            f"SELECT kind, key, 0, data FROM ledger WHERE kind = 'cash_journal' "
            f"AND key IN ({','.join('?' * len(some_receipts)) or 'NULL'})",
            [*KINDS, *some_ids, *some_receipts])]
    return rows


def hydrated(rows: Iterable[Row]) -> Hydrated:
    """The replay's input from rows as `read_named` gives them (each a fresh copy)."""
    state = Hydrated()
    for kind, rid, seq, data in rows:
        if data is None:
            continue
        if kind == PERSON:
            state.persons[rid] = (seq, loads(data))
        elif kind == HOUSEHOLD:
            state.households[rid] = (seq, loads(data))
        else:
            state.journal.append(journal_row(loads(data)))
    return state


def _stored_commands(tx: Tx, command_ids: Sequence[str]) -> tuple[dict[str, Stored], set[str]]:
    """Of these commands, the rows the service holds, and those a Klärfall has settled."""
    stored: dict[str, Stored] = {}
    settled: set[str] = set()
    for start in range(0, len(command_ids), CHUNK):
        chunk = command_ids[start:start + CHUNK]
        marks = ",".join("?" * len(chunk))
        stored |= {str(c): (str(s), r, str(res), str(d)) for c, s, r, res, d in tx.execute(
            f"SELECT command_id, status, reason, result, device_id FROM commands "
            f"WHERE command_id IN ({marks})", chunk)}
        settled |= {str(c) for (c,) in tx.execute(
            f"SELECT command_id FROM settled_commands WHERE command_id IN ({marks})", chunk)}
    return stored, settled


class BatchReads:
    """The batch's reads; one per push transaction, used only inside it."""

    def __init__(self, tx: Tx, commands: Sequence[Command]) -> None:
        self._named = {c.command_id: referenced(c) for c in commands}
        self._stored, settled = _stored_commands(tx, sorted(self._named))
        self._fresh = set(self._named) - set(self._stored) - settled
        # A command answered already is answered from its row: what it names is not read
        # (an outbox sent again after a lost answer costs little).
        replayed = [names for cid, names in self._named.items()
                    if self._stored.get(cid, ("",))[0] not in FINAL]
        ids = sorted({i for names, _ in replayed for i in names})
        receipts = sorted({r for _, numbers in replayed for r in numbers})
        self._rows: dict[str, Row] = {row[1]: row for row in read_named(tx, ids, receipts)}
        self._answered: set[str] = set()
        self._current = True

    def fresh(self, command_id: str) -> bool:
        """True: the service holds nothing about this command (no row, not settled by a
        Klärfall decision), so there is nothing to look up."""
        return command_id in self._fresh

    def stored_row(self, tx: Tx, command_id: str) -> list[Stored]:
        """The command's row as the service holds it now (none, or one)."""
        if self._current and command_id not in self._answered:
            return [self._stored[command_id]] if command_id in self._stored else []
        return [(str(s), r, str(res), str(d)) for s, r, res, d in tx.execute(
            "SELECT status, reason, result, device_id FROM commands WHERE command_id = ?",
            (command_id,))]

    def hydrate(self, command: Command) -> Hydrated | None:
        """The command's replay input as the database holds it now; None: read it there."""
        if not self._current or command.command_id not in self._named:
            return None
        ids, receipts = self._named[command.command_id]
        return hydrated(self._rows[name] for name in (*ids, *receipts) if name in self._rows)

    def wrote(self, changed: Written, ledger: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """A command's effect was stored: these aggregates (at their new seq), ledger rows."""
        for kind, rid, seq, data in changed:
            self._rows[rid] = (kind, rid, seq, canonical(data) if data else None)
        for table, key, row in ledger:
            if table == "cash_journal":
                self._rows[key] = (table, key, 0, dumps(row))

    def stored(self, command_id: str) -> None:
        """The command has been answered: the service holds its row now."""
        self._fresh.discard(command_id)
        self._answered.add(command_id)

    def stale(self) -> None:
        """Something was written by another path: read from the database from now on."""
        self._current = False
        self._fresh.clear()
