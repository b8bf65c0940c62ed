"""Real parts for the sync tests: a central service process on 127.0.0.1 (SQLite file or a fresh
PostgreSQL database), workstations with their own encrypted registers, enrolled with real
one-time codes, and the counter services they run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from clerk_app.ids import uuid7
from clerk_app.keys import new_key
from clerk_app.services.base import ServiceResult, run_service
from clerk_app.store.db import Actor, open_store
from clerk_app.streets import find_streets, load_street_directory
from sync import aggregates
from sync.client import CentralClient
from sync.engine import SyncEngine, SyncReport
from sync.server.central import Central
from sync.server.seed import seed_demo
from sync.server.storage import Database, open_database

PG_ADMIN = os.environ.get("CLERK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
CASH = {"method": "bar", "given_cents": 2000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not (the reason a test is skipped with)."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no PostgreSQL for these tests
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"


@contextmanager
def central_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty central database URL of `kind` ('sqlite' or 'postgresql'), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'central-{uuid.uuid4().hex[:6]}.db'}"
        return
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"clerk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class CentralServer:
    """`clerk-app central serve` as a real child process."""

    db_url: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()
    # Set when extra_args start it with --tls-cert/--tls-key: the URL is https, and the
    # readiness probe trusts this CA bundle (the PEM file of the CA that signed the cert).
    ca_bundle: str | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_bundle else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> CentralServer:
        env = {**os.environ, "CLERK_APP_DATA_DIR": str(self.data_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "clerk_app", "central", "serve", "--database", self.db_url,
             "--port", str(self.port), *self.extra_args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"central service died: {self.proc.stderr.read()!r}"  # type: ignore[union-attr]
                                   )
            try:
                requests.get(f"{self.url}/v1/hello", timeout=1, verify=self.ca_bundle or True)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("central service did not start")

    def kill(self) -> None:
        """kill -9: no shutdown handlers, no flushing."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()


@contextmanager
def running_central(db_url: str, data_dir: Path, *, residents: int = 0) -> Iterator[
        tuple[CentralServer, Central]]:
    """A seeded central database, the service process on it, and an in-process `Central`
    on the same database for enrolment codes and checks."""
    db = open_database(db_url)
    central = Central(db)
    if residents:
        seed_demo(central, residents)
    server = CentralServer(db_url, data_dir).start()
    try:
        yield server, central
    finally:
        server.stop()
        db.close()


class Workstation:
    """A workstation: its own encrypted register, enrolled with the central service."""

    def __init__(self, folder: Path, name: str, central: Central, url: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.path = folder / f"{name}.db"
        self.key = new_key()
        self.store = open_store(self.path, self.key, Actor(f"clerk-{name}", name), create=True)
        with self.store.transaction() as db:
            load_street_directory(db)
        code = central.issue_enrolment_code(name)
        enrol = CentralClient(url)
        self.token = enrol.enrol(code, name).token
        enrol.close()
        self.url = url
        self.client = CentralClient(url, self.token)

    def engine(self, **options: Any) -> SyncEngine:
        return SyncEngine(self.store, self.client, **options)

    def sync(self, **options: Any) -> SyncReport:
        return self.engine(**options).sync_once()

    def run(self, service: str, form: dict[str, Any], *, at: datetime | None = None,
            command_id: str | None = None) -> ServiceResult:
        moment = at or datetime.now(UTC)
        return run_service(self.store, service, form, command_id or uuid7(),
                           now=lambda: moment)

    def street(self, name: str = "Palmstraße") -> int:
        found = [s for s in find_streets(self.store, name) if s.name == name]
        assert found and found[0].id is not None
        return found[0].id

    def persons(self, limit: int = 20) -> list[str]:
        return [r[0] for r in self.store.conn.execute(
            "SELECT p.id FROM persons p WHERE EXISTS (SELECT 1 FROM residences r WHERE "
            "r.person_id = p.id AND r.move_out IS NULL AND r.kind IN ('alleinig', 'haupt')) "
            "AND NOT EXISTS (SELECT 1 FROM information_blocks b WHERE b.person_id = p.id) "
            "ORDER BY p.id LIMIT ?", (limit,))]

    def pending(self) -> int:
        return int(self.store.conn.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def status_of(self, command_id: str) -> str:
        return str(self.store.conn.execute("SELECT status FROM outbox WHERE command_id = ?",
                                           (command_id,)).fetchone()[0])

    def aggregates(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return (aggregates.read_all_persons(self.store.conn),
                aggregates.read_households(self.store.conn))

    def close(self) -> None:
        self.client.close()
        self.store.close()


def central_aggregates(db: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    """The central register's live aggregates (persons, households)."""
    import json

    persons: dict[str, Any] = {}
    households: dict[str, Any] = {}
    with db.transaction(write=False) as tx:
        for kind, rid, data in tx.execute("SELECT kind, id, data FROM aggregates "
                                          "WHERE deleted = 0"):
            (persons if kind == "person" else households)[rid] = json.loads(data)
    return persons, households


def command_counts(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as tx:
        return {s: int(n) for s, n in tx.execute(
            "SELECT status, count(*) FROM commands GROUP BY status")}


# --- forms -----------------------------------------------------------------------------------

def today_iso(days_ago: int = 0) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def landlord() -> dict[str, Any]:
    return {"presented": True, "landlord_name": "Wohnbau Lörrach GmbH",
            "landlord_address": "Am Alten Markt 1, 79539 Lörrach"}


def ummeldung(person_id: str, street_id: int, number: str = "7") -> dict[str, Any]:
    return {"persons": [{"person_id": person_id}],
            "address": {"street_id": street_id, "house_number": number},
            "kind": "alleinig", "move_in": today_iso(1), "landlord": landlord()}


def anmeldung(street_id: int, family: str = "Wróbel", first: str = "Łukasz",
              born: str = "1991-03-04") -> dict[str, Any]:
    return {"persons": [{"family_name": family, "first_names": first, "birth_date": born,
                         "sex": "m", "birth_place": "Kraków", "birth_country": "POL",
                         "nationalities": ["POL"], "religion": "rk", "marital_status": "LD"}],
            "address": {"street_id": street_id, "house_number": "3"}, "kind": "alleinig",
            "move_in": today_iso(2), "landlord": landlord(),
            "previous_address": {"address": "ul. Długa 5, 30-001 Kraków"}}


def meldebescheinigung(person_id: str) -> dict[str, Any]:
    return {"person_id": person_id, "variant": "einfach", "payment": CASH}
