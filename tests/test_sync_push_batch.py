"""A push batch reads what its commands need once, at its start (`sync.server.batch`), and
keeps that current with its own writes: a command that stands on an earlier command of the
same batch (a Meldebescheinigung after a move, the Storno of a receipt just paid) is replayed
on the state that earlier command left, exactly as when they come in separate batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.server.central import Central
from tests.sync_support import (
    CentralServer,
    Workstation,
    central_aggregates,
    central_database,
    command_counts,
    meldebescheinigung,
    running_central,
    ummeldung,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[
        tuple[CentralServer, Central]]:
    with central_database(request.param, tmp_path) as url, \
            running_central(url, tmp_path, residents=40) as pair:
        yield pair


def journal_keys(service: Central) -> list[str]:
    with service.db.transaction(write=False) as tx:
        return [k for (k,) in tx.execute(
            "SELECT key FROM ledger WHERE kind = 'cash_journal' ORDER BY key")]


@pytest.mark.parametrize("batch", [100, 1])
def test_commands_on_what_the_same_batch_wrote(central: tuple[CentralServer, Central],
                                              tmp_path: Path, batch: int) -> None:
    server, service = central
    station = Workstation(tmp_path / "ws", "mobil1", service, server.url)
    station.sync()
    paid, moved = station.persons(2)
    receipt = station.run("meldebescheinigung", meldebescheinigung(paid)).receipt
    assert receipt is not None
    station.run("storno", {"receipt_number": receipt.number, "reason": "Irrtum"})
    station.run("ummeldung", ummeldung(moved, station.street()))
    after_move = station.run("meldebescheinigung", meldebescheinigung(moved)).receipt
    assert after_move is not None

    report = station.sync(batch=batch)
    assert (report.applied, report.conflicts, report.rejected) == (4, 0, 0)
    assert command_counts(service.db) == {"applied": 4}
    assert journal_keys(service) == sorted([receipt.number, f"{receipt.number}/storno",
                                            after_move.number])
    assert station.aggregates() == central_aggregates(service.db)
    station.close()
