"""The encrypted register: opening, refusing what it must refuse, transactions, migrations."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from clerk_app.errors import StoreError
from clerk_app.keys import new_key
from clerk_app.person_record import RELATIONS_SQL
from clerk_app.search_index import reindex_person
from clerk_app.store.db import SQLITE_HEADER, Actor, Store, open_store
from clerk_app.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.factories import COUNTER_ROLES

ACTOR = Actor("mmuster", "Schalter 3", COUNTER_ROLES)
REPO = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_register_is_encrypted_and_reopens_with_its_key(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "r.db"
    with open_store(path, key, ACTOR, create=True) as store:
        with store.transaction() as db:
            db.execute("INSERT INTO households (id, created_at) VALUES ('h1', 'now')")
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version == SCHEMA_VERSION
    raw = path.read_bytes()
    assert not raw.startswith(SQLITE_HEADER)
    assert b"households" not in raw
    with open_store(path, key, ACTOR) as store:
        assert store.query("SELECT id FROM households") == [{"id": "h1"}]


def test_wrong_key_is_refused_and_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    open_store(path, new_key(), ACTOR, create=True).close()
    before = digest(path)
    with pytest.raises(StoreError) as err:
        open_store(path, new_key(), ACTOR)
    assert "falscher Schlüssel" in err.value.message_de
    assert digest(path) == before


def test_foreign_plain_sqlite_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "fremd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kunden (name TEXT)")
    before = digest(path)
    with pytest.raises(StoreError) as err:
        open_store(path, new_key(), ACTOR)
    assert "unverschlüsselte Fremddatenbank" in err.value.message_de
    assert digest(path) == before


def test_corrupt_file_is_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.db"
    path.write_bytes(os.urandom(8192))
    before = digest(path)
    with pytest.raises(StoreError) as err:
        open_store(path, new_key(), ACTOR)
    assert "beschädigte Datei" in err.value.message_de
    assert digest(path) == before


def test_missing_register_is_not_created_silently(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "nichts.db", new_key(), ACTOR)
    assert "nicht gefunden" in err.value.message_de
    assert not (tmp_path / "nichts.db").exists()


def test_transaction_rolls_back_as_a_whole(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO households (id, created_at) VALUES ('h1', 'now')")
        raise RuntimeError("crash half way")
    assert store.query("SELECT count(*) AS n FROM households") == [{"n": 0}]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    key, path = new_key(), tmp_path / "r.db"
    with open_store(path, key, ACTOR, create=True) as store:
        store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as err:
        open_store(path, key, ACTOR)
    assert "Programm aktualisieren" in err.value.message_de


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_earlier_schema_version_opens_and_migrates(tmp_path: Path, version: int) -> None:
    """A laptop offline for weeks comes back with an old file: it must open, data intact."""
    key, path = new_key(), tmp_path / "old.db"
    with open_store(path, key, ACTOR, create=True, migrate_to=version) as old:
        assert old.schema_version == version
        with old.transaction() as db:
            db.execute("INSERT INTO persons (id, family_name, first_names, birth_date, "
                       "family_sf, given_sf, created_at, updated_at) VALUES "
                       "('p1', 'Müller', 'Anna', '1964-08-12', 'MUELLER', 'ANNA', 'x', 'x')")
            if version >= 9:  # the term index of version 9 (before: FTS5, rebuilt by _v9)
                reindex_person(db, "p1")
    with open_store(path, key, ACTOR) as store:
        assert store.schema_version == SCHEMA_VERSION
        from clerk_app.search import search

        assert [h.id for h in search(store, "mueller")] == ["p1"]


def test_migrations_are_numbered_and_complete() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_data_folder_gives_a_clear_message(tmp_path: Path) -> None:
    """Folder permissions really apply: as root, drop the capability that ignores them."""
    folder = Path(tempfile.mkdtemp(prefix="clerk-ro-", dir="/tmp"))
    try:
        folder.chmod(0o555)
        code = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(REPO)!r})
            from pathlib import Path
            from clerk_app.errors import StoreError
            from clerk_app.keys import new_key
            from clerk_app.store.db import Actor, open_store
            try:
                open_store(Path({str(folder)!r}) / "neu" / "r.db", new_key(), Actor("a", "b"),
                           create=True)
            except StoreError as exc:
                print(exc.message_de)
        """)
        command = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv: permissions cannot apply")
            command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert "kann nicht angelegt werden" in result.stdout, result.stderr
        assert not (folder / "neu").exists()
    finally:
        folder.chmod(0o755)
        folder.rmdir()


def test_a_persons_relations_are_found_through_the_unique_index_alone(tmp_path: Path) -> None:
    """Migration 13 dropped `relations_person`: the UNIQUE (person_id, kind, related_id) index
    must still answer a person's relations without a scan, and no second index repeat it."""
    with open_store(tmp_path / "r.db", new_key(), ACTOR, create=True) as store:
        plan = " ".join(row[-1] for row in store.conn.execute(
            "EXPLAIN QUERY PLAN " + RELATIONS_SQL, ("p1",)))
        indexes = [row[1] for row in store.conn.execute("PRAGMA index_list(relations)")]
    assert "SCAN r" not in plan and "USING INDEX" in plan, plan
    assert "relations_person" not in indexes


def test_migration_13_keeps_an_archived_pdf_once(tmp_path: Path) -> None:
    """A register of version 12 kept every sent PDF twice (its file and a base64 copy in the
    outbox row): the copy of a sent one goes, a file still waiting to be sent keeps it."""
    key, path = new_key(), tmp_path / "old.db"
    with open_store(path, key, ACTOR, create=True, migrate_to=12) as old, \
            old.transaction() as db:
        for command_id, status in (("sent", "applied"), ("waiting", "pending")):
            db.execute("INSERT INTO outbox (command_id, type, payload, device, clerk, "
                       "created_at, status) VALUES (?, 'archive_document', ?, 'd', 'c', 'x', ?)",
                       (command_id, '{"sha256": "ab", "pdf_base64": "JVBERi0="}', status))
    with open_store(path, key, ACTOR) as store:
        payloads = dict(store.conn.execute("SELECT command_id, payload FROM outbox"))
    assert "pdf_base64" not in payloads["sent"] and '"sha256":"ab"' in payloads["sent"]
    assert "pdf_base64" in payloads["waiting"]
