"""Load on the central service: many workstations pushing and pulling at once, against one
service process and then against two over the same PostgreSQL database, in the same run.

    python benchmarks/bench_centre_load.py [--stations 200] [--seconds 120]
                                           [--residents 2000] [--drivers 4]

Set-up (not timed): a fresh PostgreSQL database seeded with the demo register; `--stations`
workstations enrolled with real one-time codes; a real workstation register makes one
Meldebescheinigung (cash: a document and a receipt) and one Lebensbescheinigung (a document)
for each of 100 persons, the templates of the load's commands. Certificates change no person,
so every copy of a template applies centrally for as long as the run goes.

Measured, first with one `clerk-app central serve` process, then with two (each request of a
workstation to the next process in turn, as a load balancer without sticky sessions would send
it): every simulated workstation, without pause, pushes a batch of 10 new commands (fresh
command ids, document and receipt numbers: each one is applied, stored and in the ledger) and
then pulls the change feed from where the push left it (an empty pull: certificates make no
register changes). The workstations are threads in `--drivers` driver processes (one Python
process cannot make 200 workstations' requests fast enough). Reported per phase: errors (a
refused or failed request, or a command not applied), p50/p95 of a push of 10 and of an empty
pull, commands applied per second; and the ratio of the two phases' throughput. Checked after:
the central `commands` table holds exactly the commands the phases got `applied` for.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from common import OUT, REPO, p95

BATCH = 10
TEMPLATE_PERSONS = 100
ID, DOCUMENT, RECEIPT = "@ID@", "@DOC@", "@REC@"


@dataclass
class Tally:
    """What one driver's workstations did in one phase."""

    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    applied: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.push_ms += other.push_ms
        self.pull_ms += other.pull_ms
        self.applied += other.applied
        self.errors += other.errors


def templates(station: Any) -> list[str]:
    """One Meldebescheinigung and one Lebensbescheinigung per person, as JSON with
    placeholders for what must be new in every copy (command id, numbers)."""
    from tests.sync_support import lebensbescheinigung, meldebescheinigung, outbox_commands

    for person in station.persons(TEMPLATE_PERSONS):
        station.run("meldebescheinigung", meldebescheinigung(person))
        station.run("lebensbescheinigung", lebensbescheinigung(person))
    made = []
    for command in outbox_commands(station):
        text = command.model_dump_json().replace(command.command_id, ID)
        document = command.payload["document"]
        text = text.replace(document["number"], DOCUMENT)
        if document.get("receipt_number"):
            text = text.replace(document["receipt_number"], RECEIPT)
        made.append(text)
    return made


def run_driver(job: dict[str, Any]) -> Tally:
    """One driver process: its workstations as threads, each in a closed loop of push and
    pull until the deadline."""
    tally = Tally()
    lock = threading.Lock()
    deadline = job["deadline"]

    def workstation(token: str, number: int) -> None:
        mine = Tally()
        session = requests.Session()
        session.headers.update({**job["headers"], "Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
        urls, turn, serial = job["urls"], number, job["first_serial"]
        shapes = job["templates"]
        since = 0
        while time.time() < deadline:
            commands = []
            for _ in range(BATCH):
                serial += 1
                shape = shapes[(number + serial) % len(shapes)]
                commands.append(shape.replace(ID, str(uuid.uuid4())).replace(
                    DOCUMENT, f"LT-{number:04d}-{serial:07d}").replace(
                    RECEIPT, f"QL-{number:04d}-{serial:07d}"))
            body = '{"commands": [' + ",".join(commands) + "]}"
            try:
                started = time.perf_counter()
                answer = session.post(f"{urls[turn % len(urls)]}/v1/push", data=body, timeout=120)
                mine.push_ms.append((time.perf_counter() - started) * 1000)
                turn += 1
                if answer.status_code != 200:
                    mine.errors.append(f"push HTTP {answer.status_code}: {answer.text[:200]}")
                    continue
                pushed = answer.json()
                statuses = [r["status"] for r in pushed["results"]]
                mine.applied += statuses.count("applied")
                mine.errors += [f"command {s}: {r.get('reason')}" for s, r in
                                zip(statuses, pushed["results"], strict=True) if s != "applied"]
                since = max(since, int(pushed["high_water_mark"]))
                started = time.perf_counter()
                answer = session.get(f"{urls[turn % len(urls)]}/v1/changes",
                                     params={"since": since, "limit": 1000}, timeout=120)
                mine.pull_ms.append((time.perf_counter() - started) * 1000)
                turn += 1
                if answer.status_code != 200:
                    mine.errors.append(f"pull HTTP {answer.status_code}: {answer.text[:200]}")
                    continue
                since = int(answer.json()["until"])
            except requests.RequestException as exc:
                mine.errors.append(f"{type(exc).__name__}: {exc}")
        session.close()
        with lock:
            tally.add(mine)

    threads = [threading.Thread(target=workstation, args=(token, number))
               for number, token in job["stations"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def phase(name: str, urls: list[str], tokens: list[str], shapes: list[str], args: Any,
          first_serial: int) -> tuple[Tally, float]:
    from clerk_app.store.migrations import SCHEMA_VERSION
    from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER

    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)}
    deadline = time.time() + args.seconds
    numbered = list(enumerate(tokens))
    jobs = [{"urls": urls, "headers": headers, "templates": shapes, "deadline": deadline,
             "first_serial": first_serial, "stations": numbered[d::args.drivers]}
            for d in range(args.drivers)]
    total = Tally()
    started = time.perf_counter()
    with ProcessPoolExecutor(args.drivers) as pool:
        for part in pool.map(run_driver, jobs):
            total.add(part)
    elapsed = time.perf_counter() - started
    print(f"{name}: {len(total.push_ms)} pushes, {len(total.pull_ms)} pulls in {elapsed:.0f} s; "
          f"errors {len(total.errors)}; {total.applied / elapsed:.0f} commands applied/s; "
          f"push of {BATCH} p50 {statistics.median(total.push_ms):.0f} ms p95 "
          f"{p95(total.push_ms):.0f} ms; empty pull p50 {statistics.median(total.pull_ms):.0f} "
          f"ms p95 {p95(total.pull_ms):.0f} ms", flush=True)
    for error in sorted(set(total.errors))[:5]:
        print(f"  error: {error}")
    return total, total.applied / elapsed


def sizes(db: Any, residents: int) -> str:
    """PostgreSQL's space for the register and for the counter services (sizing)."""
    with db.transaction(write=False) as tx:
        register, services, commands = tx.execute(
            "SELECT pg_total_relation_size('aggregates'), pg_total_relation_size('commands') "
            "+ pg_total_relation_size('ledger'), (SELECT count(*) FROM commands)")[0]
    return (f"space: register {int(register) / residents / 1024:.1f} KB a resident, commands "
            f"and ledger {int(services) / max(1, int(commands)) / 1024:.1f} KB a counter service")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--drivers", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))  # the tests' helpers (the `tests` folder is no package)
    from sync.client import CentralClient
    from sync.server.central import Central
    from sync.server.seed import seed_demo
    from sync.server.storage import open_database
    from tests.sync_support import (
        CentralServer,
        Workstation,
        central_database,
        command_counts,
        postgres_available,
    )

    if reason := postgres_available():
        raise SystemExit(reason)
    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="centre-load-", dir=OUT))
    try:
        with central_database("postgresql", folder) as url:
            db = open_database(url)
            central = Central(db)
            seed_demo(central, args.residents)
            servers = [CentralServer(url, folder / f"process{i}").start() for i in (1, 2)]
            try:
                template = Workstation(folder, "vorlage", central, servers[0].url)
                template.sync()
                shapes = templates(template)
                template.close()
                tokens = []
                for i in range(args.stations):
                    with closing(CentralClient(servers[i % 2].url)) as client:
                        code = central.issue_enrolment_code(f"Last {i:03d}")
                        tokens.append(client.enrol(code, f"Last {i:03d}").token)
                print(f"central on PostgreSQL, {args.residents} residents; {args.stations} "
                      f"workstations, {args.drivers} driver processes, {len(shapes)} command "
                      f"templates; {args.seconds:.0f} s a phase", flush=True)
                before = command_counts(db).get("applied", 0)
                one, rate_one = phase("1 process", [servers[0].url], tokens, shapes, args, 0)
                two, rate_two = phase("2 processes", [s.url for s in servers], tokens, shapes,
                                      args, 5_000_000)
                stored = command_counts(db).get("applied", 0) - before
                if stored != one.applied + two.applied:
                    raise SystemExit(f"the centre holds {stored} applied commands, the "
                                     f"workstations were told {one.applied + two.applied}")
                print(f"commands stored centrally: {stored}, each once "
                      f"({len(one.errors) + len(two.errors)} errors)")
                print(f"throughput 2 processes / 1 process: {rate_two / rate_one:.2f}x")
                print(sizes(db, args.residents))
            finally:
                for server in servers:
                    server.stop()
                db.close()
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
