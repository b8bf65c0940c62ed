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


def test_the_cash_day_reaches_the_central_ledger(central: tuple[CentralServer, Central],
                                                 tmp_path: Path) -> None:
    """The starting float, a card payment's terminal receipt and a Storno's reason are
    replayed centrally as on the workstation (the same `apply`)."""
    import json

    server, service = central
    station = Workstation(tmp_path / "ws", "mobil2", service, server.url)
    station.sync()
    (person,) = station.persons(1)
    station.run("wechselgeld", {"float_cents": 12_000})
    form = meldebescheinigung(person)
    form["payment"] = {"method": "karte", "terminal_receipt": "TR-0815"}
    receipt = station.run("meldebescheinigung", form).receipt
    assert receipt is not None
    station.run("storno", {"receipt_number": receipt.number, "reason": "doppelt gebucht"})
    report = station.sync()
    assert (report.applied, report.conflicts, report.rejected) == (3, 0, 0)
    with service.db.transaction(write=False) as tx:
        rows = {(kind, key): json.loads(data) for kind, key, data in tx.execute(
            "SELECT kind, key, data FROM ledger WHERE kind IN ('cash_floats', "
            "'cash_journal')")}
    floats = [v for (kind, _key), v in rows.items() if kind == "cash_floats"]
    assert [f["cents"] for f in floats] == [12_000]
    assert rows[("cash_journal", receipt.number)]["terminal_receipt"] == "TR-0815"
    assert rows[("cash_journal", f"{receipt.number}/storno")]["reason"] == "doppelt gebucht"
    station.close()
