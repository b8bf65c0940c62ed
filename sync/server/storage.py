"""The central service's database: PostgreSQL in production, SQLite as the embedded default.

One small layer so the rest of the service is written once: SQL with `?` placeholders (turned
into `%s` for psycopg), `INSERT ... ON CONFLICT` (both speak it), JSON as text, and the few real
differences (BLOB/BYTEA, row locks, connection handling) kept here.

The change sequence is gap-free by construction: every writer first locks the single
`counter` row (`FOR UPDATE` on PostgreSQL; SQLite has one writer anyway) and keeps the lock
until it commits, so transactions that take sequence numbers commit in sequence order and a
reader that sees seq N has seen every seq below N. The high-water mark is the committed
counter value.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import sqlcipher3

from clerk_app.keys import file_key
from clerk_app.store.db import connect_encrypted

log = logging.getLogger(__name__)

# Forward-only, one transaction each; {blob} is the dialect's binary type.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO counter (name, value) VALUES ('seq', 0);
    CREATE TABLE aggregates (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        hash32 BIGINT NOT NULL DEFAULT 0,
        data TEXT,
        PRIMARY KEY (kind, id)
    );
    CREATE INDEX aggregates_seq ON aggregates (seq);
    CREATE TABLE ledger (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        command_id TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX ledger_command ON ledger (command_id);
    CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        clerk TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        base_versions TEXT NOT NULL,
        persons TEXT NOT NULL,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        result TEXT NOT NULL DEFAULT '{}',
        applied_seq BIGINT
    );
    CREATE TABLE settled_commands (command_id TEXT PRIMARY KEY, by_command TEXT NOT NULL);
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        enrolled_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE enrolment_codes (
        code_sha256 TEXT PRIMARY KEY,
        device_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE TABLE files (
        sha256 TEXT PRIMARY KEY,
        document_number TEXT NOT NULL,
        kind TEXT NOT NULL,
        command_id TEXT NOT NULL UNIQUE,
        size BIGINT NOT NULL,
        device TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        pdf {blob} NOT NULL
    );
    CREATE INDEX files_document ON files (document_number);
    """,
    # Clerk accounts (§ 7 BMG: no login before the secrecy binding), their failed logins (the
    # throttle's state is here, not in a process: several service processes share it), the
    # clerk sessions bound to a device; each command's clerk as the session proved it or as
    # the workstation claimed it; each device's access-log chain head and what its checks found.
    """
    CREATE TABLE clerks (
        login TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        secrecy_date TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        verifier TEXT NOT NULL,
        must_change INTEGER NOT NULL DEFAULT 1,
        failed INTEGER NOT NULL DEFAULT 0,
        blocked_until TEXT,
        locked INTEGER NOT NULL DEFAULT 0,
        changed_at TEXT NOT NULL
    );
    CREATE TABLE clerk_sessions (
        token_sha256 TEXT PRIMARY KEY,
        login TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE access_log_heads (
        device_id TEXT PRIMARY KEY,
        last_id BIGINT NOT NULL,
        last_hash TEXT NOT NULL
    );
    CREATE TABLE access_log_alerts (
        alert_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        detected_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        entry_id BIGINT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    # Trust nothing a device says: the clerk is kept as claimed (until clerk sessions exist),
    # a Klärfall decision settles only its own device's commands, IT sees the last contact.
    """
    ALTER TABLE commands ADD COLUMN clerk_claimed INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE commands ADD COLUMN device_id TEXT NOT NULL DEFAULT '';
    UPDATE commands SET device_id = COALESCE((SELECT max(d.device_id) FROM devices d
                                              WHERE d.name = commands.device), '');
    CREATE INDEX commands_open ON commands (device_id) WHERE status IN ('conflict', 'rejected');
    ALTER TABLE devices ADD COLUMN last_contact TEXT;
    ALTER TABLE settled_commands ADD COLUMN device TEXT NOT NULL DEFAULT '';
    ALTER TABLE settled_commands ADD COLUMN decision TEXT NOT NULL DEFAULT 'central';
    ALTER TABLE settled_commands ADD COLUMN persons TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE aggregate_history (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        data TEXT,
        PRIMARY KEY (kind, id, seq)
    );
    """,
    # The office seal keys' table was made by the first `OfficeKeys` of each process; two
    # processes starting at once over one PostgreSQL could both try (a duplicate catalog row).
    # Databases that already have it keep it.
    """
    CREATE TABLE IF NOT EXISTS office_seal_keys (
        key_id TEXT PRIMARY KEY,
        office_id TEXT NOT NULL,
        office_name TEXT NOT NULL,
        public_key TEXT NOT NULL,
        private_key TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_until TEXT,
        revoked_at TEXT,
        created_at TEXT NOT NULL
    );
    """,
    # The waiting room (issue 12): visits with their state columns and the whole visit as
    # JSON; bookings carry their slot (counter, start, minutes) and the hash of their
    # cancellation code; the columns "call next" orders by (so it need not read every waiting
    # visit whole). One row per location serialises every change of its queue
    # (`event_seq`: the number of its latest event, what the live feed follows); the events
    # themselves (no names); the "call next" requests already answered.
    """
    CREATE TABLE queue_visits (
        id TEXT PRIMARY KEY,
        location TEXT NOT NULL,
        day TEXT NOT NULL,
        state TEXT NOT NULL,
        label TEXT NOT NULL,
        booking_number TEXT UNIQUE,
        cancel_sha256 TEXT,
        slot_counter TEXT,
        slot_start TEXT,
        slot_minutes INTEGER,
        counter TEXT,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        queued_at TEXT,
        appointment_at TEXT,
        target_counter TEXT,
        open_services TEXT NOT NULL,
        data TEXT NOT NULL,
        version BIGINT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX queue_visits_line ON queue_visits (location, day, state);
    CREATE INDEX queue_visits_counter ON queue_visits (counter, state);
    CREATE TABLE queue_locations (
        location TEXT PRIMARY KEY,
        event_seq BIGINT NOT NULL
    );
    CREATE TABLE queue_events (
        location TEXT NOT NULL,
        seq BIGINT NOT NULL,
        id TEXT NOT NULL UNIQUE,
        visit_id TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (location, seq)
    );
    CREATE TABLE queue_requests (
        request_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        visit_id TEXT,
        at TEXT NOT NULL
    );
    CREATE TABLE queue_ticket_numbers (
        location TEXT NOT NULL,
        day TEXT NOT NULL,
        ticket_group TEXT NOT NULL,
        last_number INTEGER NOT NULL,
        issued INTEGER NOT NULL,
        PRIMARY KEY (location, day, ticket_group)
    );
    """,
    # Online applications (FIT-Connect-like intake): the destination's public keys (private
    # halves live with the office), the portals allowed to submit, each submission once by its
    # id (refused ones kept encrypted for inspection), its attachments, the signed events sent
    # back, the documents for the citizen's mailbox; `inbox` numbers the inbox's changes for
    # the workstations' pull.
    """
    CREATE TABLE intake_keys (
        kid TEXT PRIMARY KEY,
        use TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
    );
    CREATE TABLE portal_clients (
        token_sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE submissions (
        submission_id TEXT PRIMARY KEY,
        portal TEXT NOT NULL,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        received_at TEXT NOT NULL,
        state TEXT NOT NULL,
        claimed_by TEXT,
        reason TEXT,
        refusal_code TEXT,
        data TEXT,
        raw TEXT,
        confirmation_sha256 TEXT,
        confirm_failures INTEGER NOT NULL DEFAULT 0,
        seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX submissions_seq ON submissions (seq);
    CREATE TABLE submission_attachments (
        submission_id TEXT NOT NULL,
        attachment_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        media_type TEXT NOT NULL,
        content {blob} NOT NULL,
        PRIMARY KEY (submission_id, attachment_id)
    );
    CREATE TABLE submission_events (
        submission_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        event TEXT NOT NULL,
        jws TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (submission_id, n)
    );
    CREATE TABLE portal_mailbox (
        submission_id TEXT NOT NULL,
        name TEXT NOT NULL,
        media_type TEXT NOT NULL,
        content {blob} NOT NULL,
        PRIMARY KEY (submission_id, name)
    );
    INSERT INTO counter (name, value) VALUES ('inbox', 0);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
SCHEMA_LOCK = 0x636C65726B  # PostgreSQL advisory lock key of the migrations ("clerk")


class Tx(Protocol):
    """A running transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A statement whose answer is not needed now: inside `pipeline()` it is sent without
        waiting, and a refusal (IntegrityError) is raised by a later statement or at the
        pipeline's end."""

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """Let `write`s go without waiting for their answers (PostgreSQL's pipeline mode: the
        database works on them while the service computes the next ones; SQLite, in the same
        process, has nothing to gain and writes at once)."""
        yield

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]
                    ) -> list[list[tuple[Any, ...]]]:
        """Several statements, in order, and each one's rows: on PostgreSQL sent together
        (one round trip), so a statement that needs the previous ones' effects, but not
        their answers, costs no extra wait."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @contextmanager
    def savepoint(self) -> Iterator[None]: ...

    def lock_sequence(self) -> int: ...


@dataclass
class _SqliteTx:
    conn: sqlcipher3.Connection
    _savepoints: int = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, tuple(params)).fetchall())

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, tuple(params))

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        yield

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]
                    ) -> list[list[tuple[Any, ...]]]:
        return [self.execute(sql, params) for sql, params in statements]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        self.conn.execute(f"RELEASE {name}")

    def lock_sequence(self) -> int:
        # BEGIN IMMEDIATE already made this the only writer.
        return int(self.conn.execute("SELECT value FROM counter WHERE name = 'seq'")
                   .fetchone()[0])


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._pipeline: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace("?", "%s"), tuple(params))
        if self._pipeline is not None:
            self._pipeline.sync()  # the answer is wanted now (and earlier refusals surface)
        return list(cur.fetchall()) if cur.description else []

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql.replace("?", "%s"), tuple(params))

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        with self.conn.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield
            finally:
                self._pipeline = None

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]
                    ) -> list[list[tuple[Any, ...]]]:
        with self.conn.pipeline():  # leaving it syncs: the answers come back together
            cursors = [self.conn.execute(sql.replace("?", "%s"), tuple(params))
                       for sql, params in statements]
        return [list(cur.fetchall()) if cur.description else [] for cur in cursors]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def lock_sequence(self) -> int:
        return int(self.execute("SELECT value FROM counter WHERE name = 'seq' FOR UPDATE")[0][0])


class Database:
    """A connection source for one of the two dialects; use `transaction()` for all work."""

    dialect: str
    url: str
    # Appended to a SELECT whose rows the transaction must hold until it ends (PostgreSQL;
    # SQLite's writer holds the whole database anyway).
    row_lock = ""

    @contextmanager
    def transaction(self, *, write: bool = True, snapshot: bool = False) -> Iterator[Tx]:
        """A transaction; `snapshot` reads several statements from one consistent state."""
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        """Release connections (PostgreSQL pool)."""

    def migrate(self) -> int:
        """Bring the schema up to date; returns the version. Each migration is one
        transaction, so a service killed half way starts cleanly next time. Several service
        processes may start at once over one database: each step takes the schema lock and
        reads the version under it, so every migration runs exactly once."""
        while True:
            with self.transaction() as tx:
                self._lock_schema(tx)
                tx.execute("CREATE TABLE IF NOT EXISTS schema_version "
                           "(version INTEGER NOT NULL)")
                rows = tx.execute("SELECT version FROM schema_version")
                if not rows:
                    tx.execute("INSERT INTO schema_version (version) VALUES (0)")
                current = int(rows[0][0]) if rows else 0
                if current > SCHEMA_VERSION:
                    raise RuntimeError(f"central database schema {current} is newer than this "
                                       f"service ({SCHEMA_VERSION})")
                if current == SCHEMA_VERSION:
                    return SCHEMA_VERSION
                script = MIGRATIONS[current].replace("{blob}", self._blob)
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        tx.execute(statement)
                tx.execute("UPDATE schema_version SET version = ?", (current + 1,))
            log.info("central database migrated to schema version %d", current + 1)

    def _lock_schema(self, tx: Tx) -> None:
        """Make this transaction the only one migrating until it ends (SQLite: BEGIN IMMEDIATE
        already has)."""

    _blob = "BLOB"


class SqliteDatabase(Database):
    """The embedded default: one SQLCipher-encrypted file (like a workstation's register; the
    key comes from `central_key`), WAL, one connection per thread, one writer at a time."""

    dialect = "sqlite"

    def __init__(self, path: Path, key: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{self.path}"
        self._key = key
        self._local = threading.local()

    def _conn(self) -> sqlcipher3.Connection:
        conn: sqlcipher3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect_encrypted(self.path, self._key, timeout_ms=30_000)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # the service's commits are promises
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self, *, write: bool = True, snapshot: bool = False) -> Iterator[Tx]:
        conn = self._conn()  # a SQLite read transaction is always one snapshot
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield _SqliteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class PostgresDatabase(Database):
    """Production: psycopg 3 with a connection pool."""

    dialect = "postgresql"
    row_lock = " FOR UPDATE"
    _blob = "BYTEA"

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True,
                                   kwargs={"autocommit": True})

    @contextmanager
    def transaction(self, *, write: bool = True, snapshot: bool = False) -> Iterator[Tx]:
        if not write and not snapshot:
            # Under READ COMMITTED every statement takes its own snapshot inside a
            # transaction too, so a plain read gains nothing from BEGIN and COMMIT but their
            # two round trips (a third of a feed read or a token check): each statement runs
            # on its own. Reads that must agree with each other ask for `snapshot`.
            with self.pool.connection() as conn:
                yield _PgTx(conn)
            return
        with self.pool.connection() as conn, conn.transaction():
            if snapshot:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield _PgTx(conn)

    def _lock_schema(self, tx: Tx) -> None:
        # Catalog changes are not serialised by PostgreSQL: two concurrent `CREATE TABLE IF
        # NOT EXISTS` can both go ahead and one then fails on a duplicate catalog row.
        tx.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))

    def close(self) -> None:
        self.pool.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///…` URL; None for another database."""
    if not url.startswith("sqlite:"):
        return None
    return Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///")
                else urlparse(url).path)


def open_database(url: str, key: str | None = None) -> Database:
    """`sqlite:///path/to/file` or `postgresql://user@host:port/db`; migrated. SQLite is
    encrypted with `key` (64 hex digits); without one, with the key in a file beside it
    (`<file>.key`, 0600, made on first use: demo and tests; production passes the key from
    the keyring, a key file or the environment, see `central_key`)."""
    parsed = urlparse(url)
    db: Database
    path = sqlite_path(url)
    if path is not None:
        db = SqliteDatabase(path, key or file_key(path.with_name(path.name + ".key"),
                                                  create=True))
    elif parsed.scheme in ("postgresql", "postgres"):
        db = PostgresDatabase(url)
    else:
        raise ValueError(f"unsupported database URL {url!r} (sqlite:/// or postgresql://)")
    db.migrate()
    return db
