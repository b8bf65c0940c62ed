"""What the queue UI's tests against the real central service share: the small waiting room
of `tests/data/queue-test.toml` (open every day) and the centre running on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sync.server.central import Central
from tests.sync_support import CentralServer, central_database, running_central

QUEUE_TOML = Path(__file__).parent / "data" / "queue-test.toml"


@contextmanager
def queue_centre(folder: Path) -> Iterator[tuple[CentralServer, Central]]:
    """The central service (SQLite, a child process on 127.0.0.1) with the test waiting
    room and no booking rate limit to speak of."""
    (folder / "machine.toml").write_text(
        f'queue_file = "{QUEUE_TOML}"\ncentral_booking_per_minute = 100000\n', "utf-8")
    with central_database("sqlite", folder) as url, running_central(url, folder) as pair:
        yield pair


def kill(server: CentralServer) -> None:
    """kill -9 the centre, and close the dead process's stderr pipe (a later `start` makes a
    new one)."""
    server.kill()
    if server.proc is not None and server.proc.stderr is not None:
        server.proc.stderr.close()
