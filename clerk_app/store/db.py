"""Opening the encrypted register and writing to it in transactions.

One `Store` is one SQLCipher connection; SQLite connections are not shared across threads, so
every worker thread opens its own `Store` on the same file (WAL lets readers and one writer
work side by side). Every write that matters goes through `Store.transaction()`: all of it or
none of it reaches the file.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3

from clerk_app.clerks import Actor as Actor  # re-exported: who works with a Store
from clerk_app.errors import StoreError
from clerk_app.store.migrations import MIGRATIONS, SCHEMA_VERSION
from clerk_app.store.rows import fetch_dicts

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# Pages kept decrypted per connection (KiB, as a negative cache_size): SQLCipher decrypts and
# checks every page it reads anew; the default 2 MiB held too few of a million-resident
# register's index pages, and a service read the same upper B-tree levels again and again.
# The cache fills only with pages read, so the start of the window does not grow.
PAGE_CACHE_KIB = -32768

# sqlcipher3 looks up an adapter for every parameter that is not exactly str, int, float or
# bytes; on a miss it probes for `__adapt__` and `__conform__`, raising and clearing an
# AttributeError each time: 2 µs a None or bool, several times a row's own cost when most
# of its columns are NULL (a replay binds some hundred of them). A registered adapter is one
# dict lookup; what is bound stays the same (NULL; 0 or 1).
sqlcipher3.register_adapter(type(None), lambda value: value)
sqlcipher3.register_adapter(bool, int)


class _Writers:
    """How many of this process's connections write, or wait for the write lock, now.

    SQLite's busy handler is no queue: a waiting writer sleeps and tries again, so a background
    job that commits and begins again at once (a bootstrap writing page after page) could keep
    a counter service waiting until its timeout; and while the job computes in Python between
    its transactions, a counter's transaction waits for the interpreter lock after each of its
    statements. The background job calls `let_writers_in()` between its transactions: it waits
    while any other connection writes or waits to write.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


WRITERS = _Writers()


def writers_waiting() -> bool:
    """Inside a background job's transaction: another connection of this process waits to
    write (the job's own transaction counts one)."""
    return WRITERS.count > 1


def let_writers_in(most_s: float = 2.0) -> None:
    """Between a background job's transactions: wait (up to `most_s`) while another
    connection of this process writes or waits to write, so that it goes first, undisturbed."""
    deadline = time.monotonic() + most_s
    while WRITERS.count and time.monotonic() < deadline:
        time.sleep(0.002)


# While a background job computes between its statements, another thread gets the interpreter
# lock back only when the job's thread is made to give it up: every switch interval (5 ms by
# default). A counter service runs a hundred-odd SQLite calls, each giving the lock up and
# waiting for it again: with the default, up to half a second spent waiting.
BACKGROUND_SWITCH_S = 0.0005


@contextmanager
def background_job() -> Iterator[None]:
    """Around a long background job (the bootstrap): the interpreter hands over between
    threads ten times as often, so a counter service on another thread never queues behind
    the job's Python work for long."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, BACKGROUND_SWITCH_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class Store:
    """An open, unlocked, migrated register. Use one per thread."""

    def __init__(self, conn: sqlcipher3.Connection, path: Path, actor: Actor) -> None:
        self.conn = conn
        self.path = path
        self.actor = actor

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection, made on first use: importing it costs a
        noticeable part of the window's start, and reads don't need it."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        BEGIN IMMEDIATE takes the write lock at the start, so two workers never both read,
        decide, and then collide on the write.
        """
        if self.conn.in_transaction:
            raise RuntimeError("nested transaction")
        with WRITERS.writing():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return fetch_dicts(self.conn, sql, params)

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: Path, key: str, actor: Actor, *, create: bool = False,
               migrate_to: int = SCHEMA_VERSION) -> Store:
    """Open (or with `create`, make) the register at `path`, unlock it and bring it up to date.

    Raises `StoreError` with a German message for everything a clerk or IT can meet: missing
    file, foreign or damaged file, wrong key, read-only folder, a file from a newer version.
    """
    path = Path(path)
    if not path.exists() and not create:
        raise StoreError(f"Das Melderegister {path} wurde nicht gefunden.",
                         f"register file {path} not found")
    created = not path.exists()
    if created:
        _check_writable_folder(path.parent)
        _create_private_file(path)
    try:
        conn = _connect(path, key)
        try:
            store = Store(conn, path, actor)
            _migrate(store, migrate_to)
        except BaseException:
            conn.close()
            raise
    except BaseException:
        if created:  # no empty or half-made register left behind to be mistaken for one
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    return store


def open_scratch(actor: Actor) -> Store:
    """An empty register in memory with the current schema: a working copy for computing a
    command's effect on a few records (the central service replays commands this way), never
    holding anything beyond the call that uses it."""
    # A replay runs some hundred distinct statements (services, capture, read-back): with the
    # default cache of 128 they were compiled anew on every replay, a third of its time.
    conn = sqlcipher3.connect(":memory:", isolation_level=None, check_same_thread=True,
                              cached_statements=1024)
    store = Store(conn, Path(":memory:"), actor)
    _migrate(store, SCHEMA_VERSION)
    return store


def connect_encrypted(path: Path, key: str, *,
                      timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlcipher3.Connection:
    """An unlocked SQLCipher connection to `path` (the central service's embedded database is
    opened this way too); a wrong key or a foreign file is a `StoreError`."""
    try:
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=True)
    except sqlcipher3.Error as exc:
        raise _open_error(path, exc) from exc
    try:
        conn.execute(f"PRAGMA key = \"x'{_hex(key)}'\"")
        conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    return conn


def _connect(path: Path, key: str) -> sqlcipher3.Connection:
    conn = connect_encrypted(path, key)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA cache_size = {PAGE_CACHE_KIB}")
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    if mode != "wal":
        log.warning("register is not in WAL mode (journal_mode=%s)", mode)
    return conn


def _hex(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
        raise StoreError("Der Schlüssel des Melderegisters hat ein ungültiges Format.",
                         "register key is not 64 hex digits")
    return key


def _create_private_file(path: Path) -> None:
    """An empty file of mode 0600 for SQLite to make the register in: it holds personal data,
    and SQLite gives its WAL and shared-memory files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise StoreError(
            f"Das Melderegister {path} kann nicht angelegt werden ({exc.strerror}). Bitte die "
            "IT verständigen.", f"cannot create register file {path}: {exc}") from exc


def _check_writable_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Der Datenordner {folder} kann nicht angelegt werden ({exc.strerror}).",
            f"cannot create data folder {folder}: {exc}") from exc
    if not os.access(folder, os.W_OK):
        raise StoreError(
            f"Der Datenordner {folder} ist schreibgeschützt. Bitte die IT verständigen.",
            f"data folder {folder} is not writable")


def _open_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "not a database" in text:
        if _has_plain_sqlite_header(path):
            return StoreError(
                f"Die Datei {path} ist eine unverschlüsselte Fremddatenbank, kein Melderegister "
                "dieses Arbeitsplatzes. Es wurde nichts verändert.",
                f"{path} is an unencrypted SQLite file, not a register")
        return StoreError(
            f"Das Melderegister {path} lässt sich nicht öffnen: falscher Schlüssel oder "
            "beschädigte Datei. Es wurde nichts verändert. Bitte die IT verständigen.",
            f"cannot open {path}: wrong key or damaged file ({text})")
    if "readonly" in text or "unable to open" in text or "read-only" in text:
        return StoreError(
            f"Das Melderegister {path} kann nicht geöffnet werden: Datei oder Ordner "
            "schreibgeschützt oder nicht erreichbar. Bitte die IT verständigen.",
            f"cannot open {path}: {text}")
    return StoreError(
        f"Das Melderegister {path} kann nicht geöffnet werden ({text}).",
        f"cannot open {path}: {text}")


def _has_plain_sqlite_header(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _migrate(store: Store, target: int) -> None:
    current = store.schema_version
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"Das Melderegister hat Version {current}, dieses Programm kennt nur bis "
            f"{SCHEMA_VERSION}. Bitte das Programm aktualisieren.",
            f"register schema {current} is newer than this program ({SCHEMA_VERSION})")
    for version in range(current + 1, target + 1):
        try:
            with store.transaction() as db:
                MIGRATIONS[version - 1](db)
                store.conn.execute(f"PRAGMA user_version = {version}")
        except sqlcipher3.OperationalError as exc:
            raise _open_error(store.path, exc) from exc
        log.info("register migrated to schema version %d", version)


