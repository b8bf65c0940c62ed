"""Logging in and unlocking with argon2id, and what the access-log chain adds to opening a
person (issue 11).

    python benchmarks/bench_login.py [--residents 20000] [--runs 20]

Login: the workstation's side of an online login (the argon2id verifier it caches for the
offline login) and an offline login (verifying against that verifier), with the parameters
the app uses (OWASP: argon2id, 19 MiB, 2 iterations, 1 lane); unlocking verifies the same
way. Budget: 0.5 s each. Opening a person: `open_person` (the record read plus its chained,
hashed access-log entry in its own transaction) against `load_person` (the same read without
the entry), alternating, in the same run; budget: the entry adds at most 10 %.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from common import demo_register, timings

from clerk_app.config import Config
from clerk_app.keys import new_key
from clerk_app.login import ClerkSession, OnlineAccount, log_in, unlock
from clerk_app.person_record import load_person, open_person
from clerk_app.store.db import Actor, Store, open_store

PASSWORD = "Drei Tassen Kaffee am Morgen"
BUDGET_MS = 500.0


def bench_login(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = replace(Config(), mode="production", data_dir=tmp, workstation="bench",
                      central_url="https://zentral.example")
        store = open_store(Path(tmp) / "r.db", new_key(), Actor("system:login", "bench"),
                           create=True)

        def online(_cfg: Config, login: str, _pw: str, _new: str | None = None) -> OnlineAccount:
            return OnlineAccount(login, "Eva Meier", ("sachbearbeitung",), "token")

        def offline(_cfg: Config, login: str, _pw: str, _new: str | None = None) -> OnlineAccount:
            from clerk_app.login import CentralUnreachable

            raise CentralUnreachable("offline", "offline")

        now = datetime.now(UTC)
        cached = timings(lambda: log_in(cfg, store, "emeier", PASSWORD, online=online,
                                        now=lambda: now), runs)
        session: list[ClerkSession] = []
        offline_ms = timings(lambda: session.append(
            log_in(cfg, store, "emeier", PASSWORD, online=offline, now=lambda: now)), runs)
        unlock_ms = timings(lambda: unlock(store, session[0].actor, PASSWORD), runs)
        store.close()
    for label, values in (("online login (verifier cached)", cached),
                          ("offline login (argon2id verify)", offline_ms),
                          ("unlock (argon2id verify)", unlock_ms)):
        median = statistics.median(values)
        print(f"{label}: median {median:.0f} ms, max {max(values):.0f} ms "
              f"({median / BUDGET_MS:.2f} of the 0.5 s budget)")


def bench_open(store: Store, runs: int) -> None:
    rng = random.Random(11)
    ids = [r["id"] for r in store.query("SELECT id FROM persons")]
    sample = rng.sample(ids, runs)
    with_log: list[float] = []
    without: list[float] = []
    for pid in sample:
        load_person(store, pid)  # the person's pages in the cache for both sides alike
        without += timings(lambda pid=pid: load_person(store, pid))
        with_log += timings(lambda pid=pid: open_person(store, pid, "Benchmark"))
    base, logged = statistics.median(without), statistics.median(with_log)
    print(f"open a person without access-log entry: median {base:.2f} ms")
    print(f"open a person with chained access-log entry: median {logged:.2f} ms "
          f"(+{(logged / base - 1) * 100:.1f} %, budget +10 %)")


def bench_window_open(residents: int, runs: int) -> None:
    """Opening a person as the clerk does it: the window asks its worker, the record comes
    back and the person view shows it; the baseline is the same with the access-log entry
    left out (benchmark only), alternating."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from common import demo_config
    from PySide6.QtCore import QEventLoop, QTimer

    from clerk_app import person_record
    from clerk_app.clerks import demo_actor
    from ui.main_window import MainWindow
    from ui.start_window import application

    cfg = demo_config(residents)
    application(cfg)
    window = MainWindow(cfg, demo_actor(cfg.workstation))
    loop = QEventLoop()
    window.db.opened.connect(loop.quit)
    window.show()
    window.start()
    loop.exec()
    store = demo_register(residents)
    ids = random.Random(5).sample([r["id"] for r in store.query("SELECT id FROM persons")],
                                  runs)
    store.close()
    real_record = person_record.audit.record

    def open_once(pid: str) -> float:
        done = QEventLoop()
        window.db.person_done.connect(done.quit)
        QTimer.singleShot(5000, done.quit)
        started = time.perf_counter()
        window.open_person(pid)
        done.exec()
        elapsed = (time.perf_counter() - started) * 1000
        window.db.person_done.disconnect(done.quit)
        return elapsed

    with_log: list[float] = []
    without: list[float] = []
    for pid in ids:
        open_once(pid)  # the person's pages in the cache for both sides alike
        person_record.audit.record = lambda *_a, **_k: None  # type: ignore[assignment]
        without.append(open_once(pid))
        person_record.audit.record = real_record  # type: ignore[assignment]
        with_log.append(open_once(pid))
    window.close()
    base, logged = statistics.median(without), statistics.median(with_log)
    print(f"open a person in the window without access-log entry: median {base:.2f} ms")
    print(f"open a person in the window with chained entry: median {logged:.2f} ms "
          f"(+{(logged / base - 1) * 100:.1f} %, budget +10 %)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--opens", type=int, default=400)
    parser.add_argument("--window-opens", type=int, default=100)
    args = parser.parse_args()
    bench_login(args.runs)
    store = demo_register(args.residents)
    try:
        bench_open(store, args.opens)
    finally:
        store.close()
    bench_window_open(args.residents, args.window_opens)


if __name__ == "__main__":
    main()
