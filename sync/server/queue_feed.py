"""The queue's live feed: server-sent events, woken (not polled in a busy loop) within a
second of a change in any service process.

A change wakes the feeds of its own process at once (`FeedWaker.wake`, called after the
commit). Other processes learn of it from the database: PostgreSQL delivers the NOTIFY the
change sent at commit to a LISTEN connection per process; SQLite has no such thing, so one
thread per process looks at the locations' latest event numbers five times a second (one
small indexed read, whoever is listening). The feed itself then reads the new events by
number, so a wake-up that comes twice or late loses nothing and repeats nothing; a reconnect
resumes after `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from sync.server.queue_central import NOTIFY_CHANNEL, CentralQueue
from sync.server.storage import Database

log = logging.getLogger(__name__)

KEEP_ALIVE_S = 15.0
POLL_S = 0.2


class FeedWaker:
    """Wakes the feeds waiting for a location, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, location: str) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(location, set()).add(waiter)
        return waiter

    def unsubscribe(self, location: str,
                    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._waiters.get(location, set()).discard(waiter)

    def wake(self, location: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(location, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop has closed: the feed is gone
                self.unsubscribe(location, (loop, event))

    def watch(self, db: Database) -> None:
        """Start following the other processes' changes (a daemon thread)."""
        target = self._listen if db.dialect == "postgresql" else self._poll
        self._thread = threading.Thread(target=target, args=(db,), name="queue-feed",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _listen(self, db: Database) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(db.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=1.0, stop_after=64):
                            self.wake(notice.payload)
            except psycopg.Error as exc:
                log.warning("queue feed lost its database connection (%s); again in 1 s",
                            type(exc).__name__)
                self._stop.wait(1.0)

    def _poll(self, db: Database) -> None:
        seen: dict[str, int] = {}
        while not self._stop.wait(POLL_S):
            try:
                with db.transaction(write=False) as tx:
                    rows = tx.execute("SELECT location, event_seq FROM queue_locations")
            except Exception as exc:  # a locked or busy file: try again next round
                log.debug("queue feed poll failed: %s", type(exc).__name__)
                continue
            for location, seq in rows:
                if seen.get(location, seq) != seq:
                    self.wake(location)
                seen[location] = seq


async def event_stream(queue: CentralQueue, waker: FeedWaker, location: str,
                       after: int | None) -> AsyncIterator[str]:
    """The SSE text of `location`'s feed from event number `after` (None: from now on)."""
    waiter = waker.subscribe(location)
    try:
        last = after if after is not None else await run_in_threadpool(queue.last_event,
                                                                       location)
        yield f"retry: 1000\nevent: hello\ndata: {json.dumps({'seq': last})}\n\n"
        while True:
            events: list[dict[str, Any]] = await run_in_threadpool(queue.events_after,
                                                                   location, last)
            for data in events:
                last = int(data["seq"])
                yield f"id: {last}\nevent: queue\ndata: {json.dumps(data)}\n\n"
            if events:
                continue
            try:
                await asyncio.wait_for(waiter[1].wait(), KEEP_ALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
            waiter[1].clear()
    finally:
        waker.unsubscribe(location, waiter)
