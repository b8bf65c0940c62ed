"""A crash at any moment leaves each service whole or absent: the process is really killed.

A child process issues Meldebescheinigungen with cash payment as fast as it can; the test
kills it with SIGKILL at random moments, reopens the register and checks that every outbox
command has exactly its document, its receipt and its journal entry, and nothing exists
without its command.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clerk_app.keys import new_key
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, add_person

REPO = Path(__file__).resolve().parents[1]
WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from pathlib import Path
    from clerk_app.ids import uuid7
    from clerk_app.services.runner import run_service
    from clerk_app.store.db import Actor, open_store

    store = open_store(Path({path!r}), {key!r},
                       Actor("mmuster", "Schalter 3", ("sachbearbeitung", "kasse", "teamleitung")))

    def issue():
        run_service(store, "meldebescheinigung", {{
            "person_id": {person!r}, "variant": "einfach",
            "payment": {{"method": "bar", "given_cents": 1000}}}}, uuid7())

    issue()   # warmed up and one service done: the kills land among the next ones
    print("ready", flush=True)
    while True:
        issue()
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_mid_service_leaves_all_or_nothing(tmp_path: Path) -> None:
    key, path = new_key(), tmp_path / "register.db"
    with open_store(path, key, Actor("mmuster", "Schalter 3", COUNTER_ROLES), create=True) as store:
        person = add_person(store, "Wróbel", "Łukasz")
    rng = random.Random(1)
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", WORKER.format(repo=str(REPO), path=str(path), key=key,
                                                 person=person)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        with open_store(path, key, Actor("check", "check", COUNTER_ROLES)) as store:
            assert_consistent(store)
    with open_store(path, key, Actor("check", "check", COUNTER_ROLES)) as store:
        commands = store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    # Each round completed one service before its kill, however loaded the machine.
    assert commands >= 6, "the child should have completed services between the kills"


def assert_consistent(store: Store) -> None:
    q = store.conn.execute
    assert q("PRAGMA integrity_check").fetchone()[0] == "ok"
    commands = {r[0] for r in q("SELECT command_id FROM outbox")}
    journal = [r[0] for r in q("SELECT command_id FROM cash_journal")]
    documents = [r[0] for r in q("SELECT command_id FROM documents WHERE type != 'quittung'")]
    receipts = [r[0] for r in q("SELECT command_id FROM documents WHERE type = 'quittung'")]
    for rows in (journal, documents, receipts):
        assert sorted(rows) == sorted(commands)
    issued = q("SELECT count(*) FROM audit_log WHERE action = 'issue'").fetchone()[0]
    assert issued == len(commands)
    counters = dict(q("SELECT series, value FROM counters").fetchall())
    assert sum(v for s, v in counters.items() if s.startswith("MB/")) == len(commands)
    assert sum(v for s, v in counters.items() if s.startswith("Q/")) == len(commands)
