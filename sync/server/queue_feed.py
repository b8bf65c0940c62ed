"""The queue's live feed: server-sent events, woken (not polled in a busy loop) within a
second of a change in any service process.

A change wakes the feeds of its own process at once (`FeedWaker.wake`, called after the
commit). Other processes learn of it from the database: PostgreSQL delivers the NOTIFY the
change sent at commit (the location and the event's number) to a LISTEN connection per
process; SQLite has no such thing, so one thread per process looks at the locations' latest
event numbers five times a second (one small indexed read, whoever is listening). The feed
itself then reads the new events by number, so a wake-up that comes twice or late loses
nothing and repeats nothing; a reconnect resumes after `Last-Event-ID`. A wake-up with a
number the feed has already sent is dropped: the NOTIFY that follows the own process's
wake-up costs no second read per feed and event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from sync.server.queue_central import NOTIFY_CHANNEL, CentralQueue
from sync.server.storage import Database

log = logging.getLogger(__name__)

KEEP_ALIVE_S = 15.0
POLL_S = 0.2
PAGE = 200  # events read at once


@dataclass(eq=False)
class Waiter:
    """One feed waiting for news: `sent` is the number of the last event it has sent."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0


class FeedWaker:
    """Wakes the feeds waiting for a location, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, location: str) -> Waiter:
        waiter = Waiter(asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(location, set()).add(waiter)
        return waiter

    def unsubscribe(self, location: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.get(location, set()).discard(waiter)

    def wake(self, location: str, seq: int | None = None) -> None:
        """News at `location` (up to event number `seq`, if known)."""
        with self._lock:
            waiters = [w for w in self._waiters.get(location, ()) if seq is None or seq > w.sent]
        for waiter in waiters:
            try:
                waiter.loop.call_soon_threadsafe(waiter.event.set)
            except RuntimeError:  # its loop has closed: the feed is gone
                self.unsubscribe(location, waiter)

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
                            location, _, seq = notice.payload.partition(" ")
                            self.wake(location, int(seq) if seq.isdigit() else None)
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
                    self.wake(location, int(seq))
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
            waiter.sent = last
            waiter.event.clear()  # a wake-up from here on means a new read
            events: list[dict[str, Any]] = await run_in_threadpool(queue.events_after,
                                                                   location, last, PAGE)
            if events:
                # All of them in one write: one flush, one wake-up of the reader.
                last = int(events[-1]["seq"])
                waiter.sent = last
                yield "".join(f"id: {d['seq']}\nevent: queue\ndata: {json.dumps(d)}\n\n"
                              for d in events)
                if len(events) == PAGE:
                    continue  # more may wait beyond the page
                # Anything committed after this read wakes the waiter again (it was cleared
                # before the read): no second read to learn that nothing is new.
            try:
                await asyncio.wait_for(waiter.event.wait(), KEEP_ALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        waker.unsubscribe(location, waiter)
