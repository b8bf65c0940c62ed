"""Attacks on the central service from outside, beyond tests/test_central_trust.py (issue 10):
a device that uses a Klärfall decision to get a command through that the centre refused for
its clerk. Real service process on SQLite and PostgreSQL, workstations over real HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clerk_app.ids import uuid7
from sync.protocol import RESOLUTION_COMMAND, Command, CommandResult
from sync.server.central import Central
from sync.server.clerk_accounts import ClerkAccounts
from tests.sync_support import (
    Workstation,
    central_database,
    meldebescheinigung,
    running_central,
    ummeldung,
)

SECRECY = datetime(2026, 1, 15).date()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_decision_does_not_get_a_command_through_that_its_clerk_may_not_run(
        kind: str, tmp_path: Path) -> None:
    """A clerk without the permission for a service (here: Kasse, no certificates and no
    registration) has their commands refused at the centre. The same workstation then decides
    the Klärfall 'local' (or 'central') under a clerk who may resolve Klärfälle: the refused
    command must stay refused, neither its register change nor its documents on record."""
    with central_database(kind, tmp_path) as url, \
            running_central(url, tmp_path / "srv", residents=30) as (server, central):
        accounts = ClerkAccounts(central.db)
        accounts.add("clerk-ws1", "Kai Kasse", ["kasse"], SECRECY)
        accounts.add("chefin", "Rita Resolve", ["sachbearbeitung"], SECRECY)
        ws = Workstation(tmp_path / "ws", "ws1", central, server.url)
        try:
            ws.sync()
            person, mover = ws.persons(5)[-2:]
            refused = [ws.run("meldebescheinigung", meldebescheinigung(person)).command_id,
                       ws.run("ummeldung", ummeldung(mover, ws.street("Palmstraße")))
                       .command_id]
            ws.sync()
            assert [ws.status_of(c) for c in refused] == ["rejected", "rejected"]
            before = _central_state(central, person, mover)
            for target in refused:
                # 'local' comes back as the Klärfall, naming the refusal.
                answer = _decide(ws, target, "local")
                assert answer.status == "conflict" and "Rolle" in (answer.reason or "")
                assert _status(central, target) == "rejected"
                # 'central' closes it; nothing of the command is on record.
                assert _decide(ws, target, "central").result == {"target_status": "discarded"}
                assert _status(central, target) == "discarded"
            assert _central_state(central, person, mover) == before
        finally:
            ws.close()


def _central_state(central: Central, *persons: str) -> tuple[object, ...]:
    """The persons' central records and the count of the ledger's documents and payments."""
    with central.db.transaction(write=False) as tx:
        return (tx.execute("SELECT id, seq, data FROM aggregates WHERE kind = 'person' AND "
                           f"id IN ({', '.join('?' * len(persons))}) ORDER BY id", persons),
                tx.execute("SELECT count(*) FROM ledger WHERE kind <> 'access_log'"))


def _decide(ws: Workstation, target: str, decision: str) -> CommandResult:
    """The workstation's decision on its Klärfall `target`, by a clerk who may resolve one."""
    [answer] = ws.client.push([Command(
        command_id=uuid7(), type=RESOLUTION_COMMAND,
        payload={"command_id": target, "decision": decision}, device=ws.name, clerk="chefin",
        created_at=datetime.now(UTC).isoformat())]).results
    return answer


def _status(central: Central, command_id: str) -> str:
    with central.db.transaction(write=False) as tx:
        return str(tx.execute("SELECT status FROM commands WHERE command_id = ?",
                              (command_id,))[0][0])
