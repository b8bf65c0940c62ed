"""Merging a Klärfall by field: what a command changed against the base version it was made
on, and what another office changed meanwhile.

The central service keeps every earlier version of a person (`aggregate_history`, written when
a newer one replaces it), so the base a command names by its versions can be found again. The
command is replayed on that base and on the central version; comparing the three, row by row
(the person row, each dwelling) and column by column:

- the command changed a field where its replay on the base differs from the base;
- another office changed it where the central version differs from the base;
- both, with different values: *contested*, the clerk decides (the Klärfall shows these);
- a 'local' decision takes the command's value for the fields it changed and keeps the central
  value for every other field (`merged`).

Only the command's own replay supplies values: nothing here comes from the workstation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sync import aggregates
from sync.aggregates import PERSON, Aggregate
from sync.protocol import AggregateRecord, Command
from sync.server.replay import Hydrated, Outcome, sandbox
from sync.server.storage import Tx

# Not the clerk's business when a record changes: never contested, never merged back.
BOOKKEEPING = frozenset({"version", "updated_at"})


def rows_of(data: Aggregate) -> dict[str, dict[str, Any]]:
    """A person aggregate's versioned rows by their base-version key ('residences/<id>')."""
    rows = {f"persons/{data['person']['id']}": data["person"]}
    rows.update({f"residences/{r['id']}": r for r in data.get("residences") or []})
    return rows


def base_state(tx: Tx, command: Command, state: Hydrated) -> Hydrated:
    """`state` with each person as the command's base versions name them (from the history;
    a person whose base is not found, or not named, stays as it is centrally)."""
    persons = dict(state.persons)
    for pid, (_, data) in state.persons.items():
        wanted = {k: v for k, v in command.base_versions.items()
                  if k in aggregates.versions_of(data) or k == f"persons/{pid}"}
        if not wanted or all(aggregates.versions_of(data).get(k) == v
                             for k, v in wanted.items()):
            continue
        for old_seq, old in tx.execute("SELECT seq, data FROM aggregate_history WHERE kind = ? "
                                       "AND id = ? ORDER BY seq DESC", (PERSON, pid)):
            earlier = json.loads(old) if old else None
            if earlier and all(aggregates.versions_of(earlier).get(k, v) == v
                               for k, v in wanted.items()):
                persons[pid] = (int(old_seq), earlier)
                break
    return Hydrated(persons=persons, households=state.households, journal=state.journal)


def _replayed(command: Command, state: Hydrated) -> dict[str, Aggregate]:
    outcome = sandbox().replay(command, state, force=True)
    if outcome.status != "applied":
        return {}
    return {i: data for kind, i, data in outcome.changed if kind == PERSON and data}


def _changed_columns(replayed: Mapping[str, Any], base: Mapping[str, Any]) -> set[str]:
    return {c for c in replayed if c not in BOOKKEEPING and replayed[c] != base.get(c)}


def mark_contested(command: Command, central: Hydrated, base: Hydrated,
                   records: Iterable[AggregateRecord]) -> None:
    """Name in each of `records` (the central versions answered with a conflict) the fields
    both the command and another office changed, to different values."""
    mine = _replayed(command, base)
    for record in records:
        if record.data is None or record.id not in mine or record.id not in base.persons:
            continue
        before = rows_of(base.persons[record.id][1])
        now = rows_of(record.data)
        for key, row in rows_of(mine[record.id]).items():
            if key not in before or key not in now:
                continue
            theirs = _changed_columns(now[key], before[key])
            record.contested += [f"{key}.{c}" for c in sorted(_changed_columns(row, before[key]))
                                 if c in theirs and row[c] != now[key].get(c)]


def merged(command: Command, outcome: Outcome, central: Hydrated, base: Hydrated) -> Outcome:
    """`outcome` (the command replayed on the central version) with every field the command
    did not change against its base set back to the central value: the command takes only
    its own changes, another office's stay."""
    mine = _replayed(command, base)
    changed: list[tuple[str, str, Aggregate | None]] = []
    for kind, rid, data in outcome.changed:
        if kind == PERSON and data and rid in mine and rid in base.persons and \
                rid in central.persons:
            data = copy.deepcopy(data)
            before = rows_of(base.persons[rid][1])
            now = rows_of(central.persons[rid][1])
            theirs_rows = rows_of(mine[rid])
            for key, row in rows_of(data).items():
                if key not in before or key not in now or key not in theirs_rows:
                    continue
                own = _changed_columns(theirs_rows[key], before[key])
                for column in row:
                    if column not in BOOKKEEPING and column not in own:
                        row[column] = now[key].get(column)
        changed.append((kind, rid, data))
    outcome.changed = changed
    return outcome
