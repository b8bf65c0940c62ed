"""Shared set-up of the benchmarks: a cached encrypted demo register of a given size, and a
seeded central service for the sync benchmarks.

Building 100,000 residents takes a while, so the register is kept in `benchmarks/out/` (git
ignores it) and reused while the generator's seed and size are the same.
"""

from __future__ import annotations

import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clerk_app.config import Config
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register, remove_demo_register

if TYPE_CHECKING:
    from clerk_app.seal import SealKey
    from sync.server.central import Central
    from tests.sync_support import CentralServer

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"


def demo_config(residents: int) -> Config:
    return replace(Config(), mode="demo", data_dir=str(OUT / f"demo-{residents}"),
                   demo_residents=residents, workstation="bench")


def demo_register(residents: int) -> Store:
    """Open (building at first use) the demo register with `residents` persons."""
    from clerk_app.demo.build import build_demo_register

    cfg = demo_config(residents)
    if cfg.register_path.exists():
        store = open_register(cfg)
        if store.query("SELECT count(*) AS n FROM persons")[0]["n"] >= residents:
            return store
        store.close()
        remove_demo_register(cfg)
    store = open_register(cfg, create=True)
    started = time.perf_counter()
    build_demo_register(store, residents)
    print(f"built demo register of {residents} residents in "
          f"{time.perf_counter() - started:.1f} s")
    return store


def timings(fn: Callable[[], object], repeat: int = 1) -> list[float]:
    """Wall times of `repeat` calls, in milliseconds."""
    result = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        result.append((time.perf_counter() - started) * 1000)
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


@contextmanager
def seeded_central(kind: str, residents: int, folder: Path) -> Iterator[
        tuple[CentralServer, Central]]:
    """`clerk-app central serve` on 127.0.0.1 as a child process, on a fresh database of `kind`
    ('sqlite' or 'postgresql', dropped after) seeded with the demo register (beyond 100,000
    residents: copies of it, `seed_in_child`); the same real parts as the sync tests
    (tests/sync_support.py)."""
    sys.path.insert(0, str(REPO))  # the tests' helpers (the `tests` folder is no package)
    from tests.sync_support import central_database, postgres_available, running_central

    if kind == "postgresql" and (reason := postgres_available()):
        raise SystemExit(reason)
    started = time.perf_counter()
    with central_database(kind, folder) as url, \
            running_central(url, folder, residents=residents, seed=seed_in_child) as (
                server, central):
        print(f"central service on {kind}, seeded with {residents} residents in "
              f"{time.perf_counter() - started:.1f} s")
        yield server, central


def seed_in_child(central: Central, residents: int) -> int:
    """`sync.server.seed.seed_copies` into `central`'s database, in a process of its own:
    the generator's memory stays out of the benchmark's process, whose peak resident memory
    is then the workstation's."""
    child = multiprocessing.get_context("spawn").Process(
        target=_seed_copies, args=(central.db.url, residents), name="seed")
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(f"seeding the central service failed (exit code {child.exitcode})")
    return residents


def _seed_copies(url: str, residents: int) -> None:
    from sync.server.central import Central
    from sync.server.seed import seed_copies
    from sync.server.storage import open_database

    db = open_database(url)
    try:
        seed_copies(Central(db), residents)
    finally:
        db.close()


def measure_on_central(prefix: str, args: Any,
                       measure: Callable[[Any, Path, CentralServer, Central], None]) -> None:
    """Run `measure(args, folder, server, central)` against a seeded central service (kind
    `args.database`, `args.residents`), in a scratch folder removed afterwards."""
    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=OUT))
    try:
        with seeded_central(args.database, args.residents, folder) as (server, central):
            measure(args, folder, server, central)
    finally:
        shutil.rmtree(folder)


@contextmanager
def sample_certificate() -> Iterator[tuple[Config, Store, str, SealKey]]:
    """A demo register in a temporary folder with one document of each type issued (the
    window's samples), open: its configuration, the store, the Meldebescheinigung's number
    and the seal key."""
    from ui.document_samples import issue_samples

    from clerk_app.office_seal import office_seal

    with tempfile.TemporaryDirectory() as folder:
        cfg = replace(Config(), data_dir=folder, mode="demo", workstation="Schalter 3",
                      clerk="bench")
        with open_register(cfg, create=True) as store:
            number = issue_samples(store)["meldebescheinigung_einfach"]
            yield cfg, store, number, office_seal(cfg, store)
