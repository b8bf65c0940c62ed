"""The shared queue under load: "call next" and call propagation against a bare authenticated
HTTP round trip to the same service, in the same run; and the booking race.

    python benchmarks/bench_queue.py [--database postgresql|sqlite] [--waiting 200]
                                     [--workstations 3] [--calls 90] [--round-trips 300]

Set-up (not timed): the central service (`clerk-app central serve`, a child process on
127.0.0.1) on a fresh database with the waiting room of tests/data/queue-test.toml;
`--workstations` enrolled workstations; `--waiting` walk-in tickets drawn.

Measured:
- baseline: `--round-trips` authenticated requests that do nothing else (POST
  /v1/clerk-logout without a clerk session: the device token checked, an answer), one
  workstation at a time; p95. Also the same from all workstations at once (the
  concurrency "call next" meets), for comparison.
- call next: the workstations at once, each pressing "call next" at its own counter, then
  serving the citizen (appear, finish) and drawing a new ticket so that `--waiting` people
  keep waiting, until `--calls` calls are made; p95 of the presses.
- propagation: another workstation and a call display follow the live feed (SSE), in a
  process of their own (as they are other machines: the callers' threads must not hold up
  their reading); for each call, from the moment the caller has its answer to the moment
  the later of the two has the event (and, stricter, from the moment the key was pressed);
  p95. `time.perf_counter` is the system's monotonic clock, the same in both processes.
- booking race: 50 bookings at once for the 10 free slots of a day: exactly 10 booked.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import REPO, measure_on_central, p95

from clerk_app.ids import uuid7
from sync.client import CentralClient

QUEUE_TOML = REPO / "tests" / "data" / "queue-test.toml"
COUNTERS = ("c1", "c2", "c3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--workstations", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--calls", type=int, default=90)
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2, 3, 4),
                        help="service processes over the one database (as behind a load "
                             "balancer: workstation i talks to process i mod N)")
    args = parser.parse_args()
    args.residents = 0
    machine = Path(os.environ.setdefault(
        "CLERK_APP_MACHINE_CONFIG", str(REPO / "benchmarks" / "out" / "queue-machine.toml")))
    machine.parent.mkdir(exist_ok=True)
    machine.write_text(f'queue_file = "{QUEUE_TOML}"\ncentral_booking_per_minute = 100000\n',
                       "utf-8")
    measure_on_central("queue-", args, measure)


def measure(args: Any, folder: Path, server: Any, central: Any) -> None:

    from tests.sync_support import CentralServer

    servers = [server] + [CentralServer(server.db_url, folder / f"process{n}").start()
                          for n in range(2, args.processes + 1)]
    try:
        measure_with(args, folder, [s.url for s in servers], central)
    finally:
        for extra in servers[1:]:
            extra.stop()


def measure_with(args: Any, folder: Path, urls: list[str], central: Any) -> None:
    from sync.queue_client import QueueClient
    from tests.sync_support import Workstation

    # Workstation i talks to process i mod N (the watcher, number 0, to the first).
    stations = [Workstation(folder / "ws", f"platz{i}", central, urls[i % len(urls)])
                for i in range(args.workstations + 1)]
    watcher_station, callers = stations[0], stations[1:]
    first = QueueClient(callers[0].client)
    for _ in range(args.waiting):
        first.draw_ticket("W")

    baseline = round_trips(callers[0].client, args.round_trips)
    print(f"bare authenticated round trip: p95 {p95(baseline):.2f} ms "
          f"(median {statistics.median(baseline):.2f} ms, n={len(baseline)})")
    context = multiprocessing.get_context("spawn")
    side_by_side = [t for ts in in_processes(context, round_trips_apart, [
        (s.client.base_url, s.token, args.round_trips // len(callers)) for s in callers])
        for t in ts]
    print(f"  the same from {len(callers)} workstations at once (a process each): p95 "
          f"{p95(side_by_side):.2f} ms")

    results = context.Queue()
    stop = context.Event()
    followers = context.Process(target=follow_apart, daemon=True, args=(
        urls[0], [watcher_station.token, callers[0].token], results, stop))  # + display
    followers.start()
    results.get(timeout=60)  # both feeds connected

    # Each workstation in a process of its own (they are other machines: three callers'
    # threads in one interpreter would time each other's turns at its lock).
    share = -(-args.calls // len(callers))
    presses: list[float] = []
    others: list[float] = []  # appear, finish, new ticket: mean of the three, per call
    answered: dict[str, tuple[float, float]] = {}
    for station_presses, station_others, station_answered in in_processes(
            context, call_apart, [(s.client.base_url, s.token, counter, share)
                                  for s, counter in zip(callers, COUNTERS, strict=False)]):
        presses += station_presses
        others += station_others
        answered.update(station_answered)
    time.sleep(2.0)  # the last calls reach the followers
    stop.set()
    seen: dict[str, list[float]] = results.get(timeout=60)
    followers.join(timeout=30)
    after_answer = [(max(seen[v][:2]) - done) * 1000 for v, (_, done) in answered.items()
                    if len(seen.get(v, ())) >= 2]
    after_press = [(max(seen[v][:2]) - pressed) * 1000
                   for v, (pressed, _) in answered.items() if len(seen.get(v, ())) >= 2]
    base = p95(baseline)
    print(f"call next ({len(callers)} workstations, {args.waiting} waiting, "
          f"{len(presses)} calls): p95 {p95(presses):.2f} ms = "
          f"{p95(presses) / base:.2f}x the round trip (median {statistics.median(presses):.2f} ms "
          f"= {statistics.median(presses) / statistics.median(baseline):.2f}x the median) "
          f"({p95(presses) / p95(side_by_side):.2f}x the round trip at the same concurrency)")
    print(f"  beside it, appear/finish/draw: p95 {p95(others):.2f} ms per request = "
          f"{p95(others) / base:.2f}x")
    print(f"call reaches the other workstation and the display ({len(after_answer)} calls): "
          f"p95 {max(0.0, p95(after_answer)):.2f} ms (median "
          f"{statistics.median(after_answer):.2f}) after the caller's answer = "
          f"{max(0.0, p95(after_answer)) / base:.2f}x; from the key press "
          f"{p95(after_press):.2f} ms = {p95(after_press) / base:.2f}x")
    if len(after_answer) < len(answered):
        print(f"  MISSING: {len(answered) - len(after_answer)} calls not seen by both")
    booking_race(urls[0])
    for station in stations:
        station.close()


def in_processes(context: Any, target: Any, jobs: list[tuple[Any, ...]]) -> list[Any]:
    """`target(*job, results)` for every job at once, each in a process of its own; their
    answers, in the jobs' order."""
    queues = [context.Queue() for _ in jobs]
    processes = [context.Process(target=target, args=(*job, q), daemon=True)
                 for job, q in zip(jobs, queues, strict=True)]
    for process in processes:
        process.start()
    answers = [q.get(timeout=600) for q in queues]
    for process in processes:
        process.join(timeout=30)
    return answers


def round_trips_apart(url: str, token: str, count: int, results: Any) -> None:
    results.put(round_trips(CentralClient(url, token), count))


def call_apart(url: str, token: str, counter: str, calls: int, results: Any) -> None:
    """One workstation's clerk: `calls` times "call next", then the citizen appears, is
    served, and a new ticket keeps the line as long. Answers the presses' times, the mean
    time of the other three requests per call, and each call's press and answer moments."""
    sys.path.insert(0, str(REPO))
    from sync.queue_client import QueueClient

    client = QueueClient(CentralClient(url, token))
    presses: list[float] = []
    others: list[float] = []
    answered: dict[str, tuple[float, float]] = {}
    for _ in range(calls):
        pressed = time.perf_counter()
        visit = client.call_next(counter, uuid7())
        done = time.perf_counter()
        assert visit is not None
        presses.append((done - pressed) * 1000)
        answered[visit.id] = (pressed, done)
        started = time.perf_counter()
        client.appear(visit.id, counter)
        client.finish(visit.id, counter, ["lang"])
        client.draw_ticket("W")
        others.append((time.perf_counter() - started) * 1000 / 3)
    client.client.close()
    results.put((presses, others, answered))


def round_trips(client: CentralClient, count: int) -> list[float]:
    url = f"{client.base_url}/v1/clerk-logout"
    result = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.session.post(url, timeout=10)
        result.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return result


def follow_apart(url: str, tokens: list[str], results: Any, stop: Any) -> None:
    """The followers' process: one feed reader per token; when `stop` is set, the moments
    each call arrived (visit id -> one per reader) go back through `results`."""
    sys.path.insert(0, str(REPO))
    from sync.queue_client import QueueClient

    seen: dict[str, list[float]] = {}
    lock = threading.Lock()
    done = threading.Event()

    def follow(token: str) -> None:
        client = QueueClient(CentralClient(url, token))
        for event in client.events("amt", done):
            if event.call is not None:
                with lock:
                    seen.setdefault(event.call.visit_id, []).append(time.perf_counter())

    readers = [threading.Thread(target=follow, args=(t,), daemon=True) for t in tokens]
    for reader in readers:
        reader.start()
    time.sleep(1.0)  # connected (the feed says nothing before its first event)
    results.put("connected")
    stop.wait()
    done.set()
    with lock:
        results.put(dict(seen))


def booking_race(url: str) -> None:
    import requests

    day = (datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)).isoformat()
    slots = requests.get(f"{url}/booking/v1/slots", timeout=10, params={
        "location": "amt", "day": day, "service": "kurz"}).json()["slots"]
    gate = threading.Barrier(50)

    def attempt(i: int) -> int:
        gate.wait()
        return requests.post(f"{url}/booking/v1/bookings", timeout=60, json={
            "location": "amt", "services": ["kurz"], "start": slots[i % len(slots)]["start"],
            "name": f"Person {i}", "contact": "person@example.org"}).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(50) as pool:
        outcome = Counter(pool.map(attempt, range(50)))
    other = sum(outcome.values()) - outcome[200] - outcome[409]
    print(f"50 concurrent bookings for {len(slots)} free slots: {outcome[200]} booked, "
          f"{outcome[409]} told the slot is gone, other {other} "
          f"({(time.perf_counter() - started) * 1000:.0f} ms)")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
